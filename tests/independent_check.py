"""A second, independent checker for the tests: reads the model file as plain YAML and verifies a plan.

It shares no code with optalloc's problem builder or checker: unit costs, bounds, pools, caps, coverage
and places are recomputed here from the raw file with plain arithmetic, so a bug in optalloc's
derivation shows up as a disagreement between the two.
"""

from __future__ import annotations

import math
from pathlib import Path

import yaml

FIXED = {"prepaid", "partly_prepaid", "money_only", "external"}


def load_raw(path: Path | str) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def places_of_entry(row: dict) -> float:
    """Places one entry of a row takes: its printed places over its entries, one if it prints none."""
    return row["places"] / row["entries"] if row.get("places") and row.get("entries") else 1.0


def derive(raw: dict) -> dict:
    """Per decision row: level at the document's figures, unit cost per pool set, bounds; pools available."""
    b = raw["budget"]
    new_business = b["egt_allocation"] - b["shift_to_administration"] + b.get("expected_returns", 0) - b.get("commitments", 0)
    rows = {r["id"]: r for r in raw["instruments"]}
    decision = [r for r in raw["instruments"] if r["financing"] != "info"]
    pools = {}
    egt = None
    for p in raw["pools"]:
        if p.get("derived"):
            egt = p["id"]
            avail = (new_business * p.get("planning_share", 1.0) - new_business * b.get("reserve_share", 0.0)
                     - sum(p.get("reserved", {}).values()))
            if b.get("vbl_pool") == "separate":
                avail -= b["vbl_credit"]
                pools["vbl"] = b["vbl_credit"]
        else:
            avail = p["amount"] * p.get("planning_share", 1.0) - sum(p.get("reserved", {}).values())
        pools[p["id"]] = avail

    level = {}
    for r in decision:
        if r["financing"] == "money_only":
            level[r["id"]] = r["new_funds"]
        else:
            inside = sum(c.get("entries", 0) or 0 for c in raw["instruments"] if c.get("entries_in") == r["id"])
            level[r["id"]] = r["entries"] - inside

    def payer(r):
        return rows[r["money_in"]] if r["financing"] == "shared" else r

    paid_entries: dict[str, float] = {}
    for r in decision:
        paid_entries[payer(r)["id"]] = paid_entries.get(payer(r)["id"], 0) + level[r["id"]]

    a = raw["assumptions"]["bounds"]
    out = {}
    for r in decision:
        p = payer(r)
        costs = []  # (per unit, pools)
        if r["financing"] in ("new", "shared", "partly_prepaid", "money_only"):
            money = (p.get("new_funds") or 0) + p.get("vbl", 0)
            if p.get("unit_cost"):
                per = p["unit_cost"]
            elif r["financing"] == "money_only":
                per = 1.0
            else:
                per = money / paid_entries[p["id"]]
            pl = list(p.get("pools") or [egt])
            if b.get("vbl_pool") == "separate" and p.get("vbl", 0) > 0:
                pl.append("vbl")
            costs.append((per, tuple(pl)))
        elif r["financing"] == "programme":
            costs.append((r["new_funds"] / r["entries"], tuple(r["pools"])))
            for pid in r["pools"]:
                pool = next(x for x in raw["pools"] if x["id"] == pid)
                if pool.get("egt_cofunding"):
                    costs.append((pool["egt_cofunding"] / pool["max_places"] * places_of_entry(r), (egt,)))
        official = level[r["id"]]
        lo, hi = row_bounds(r, official, a)
        out[r["id"]] = {"row": r, "official": official, "lo": lo, "hi": hi, "costs": costs,
                        "unit": "euros" if r["financing"] == "money_only" else "entries"}
    return {"rows": out, "pools": pools, "egt": egt, "new_business": new_business}


def row_bounds(row: dict, official: float, assumptions: dict) -> tuple[float, float]:
    """A row's lowest and highest level: fixed rows at their printed level, the others between the
    assumption's shares of it; a row's own bounds override (a min alone lifts a lower default max)."""
    if row["financing"] in FIXED:
        lo = hi = official
    else:
        lo, hi = assumptions["min_share_of_official"] * official, assumptions["max_share_of_official"] * official
    bounds = row.get("bounds") or {}
    if bounds.get("min") is not None:
        lo = bounds["min"]
    elif bounds.get("max") is not None:
        lo = min(lo, bounds["max"])
    hi = bounds["max"] if bounds.get("max") is not None else max(hi, lo)
    return lo, hi


def violations(raw: dict, levels: dict[str, float], split: dict[tuple[str, int, str], float],
               integer: bool = False) -> list[str]:
    """Every rule of the model file the plan breaks (empty list: the plan is feasible)."""
    d = derive(raw)
    rows, pools = d["rows"], d["pools"]
    bad = []
    eps = 1e-6
    for iid, info in rows.items():
        x = levels[iid]
        if x < info["lo"] - eps * max(1, info["lo"]) or x > info["hi"] + eps * max(1, info["hi"]):
            bad.append(f"bounds {iid}: {x} not in [{info['lo']}, {info['hi']}]")
        if integer and info["unit"] == "entries":
            lot = info["row"].get("lot_size") or 1
            if abs(x / lot - round(x / lot)) > 1e-6:
                bad.append(f"lot {iid}: {x} is not a whole number of lots of {lot}")
    used = {p: 0.0 for p in pools}
    terms = {p: 0 for p in pools}
    for iid, info in rows.items():
        for k, (per, pl) in enumerate(info["costs"]):
            cost = per * levels[iid]
            if len(pl) == 1:
                used[pl[0]] += cost
                terms[pl[0]] += 1
            else:
                parts = [split.get((iid, k, p), 0.0) for p in pl]
                if abs(sum(parts) - cost) > 0.01 + 1e-9 * cost:
                    bad.append(f"split {iid}: pools pay {sum(parts):.2f}, the entries cost {cost:.2f}")
                for p, v in zip(pl, parts):
                    if v < -0.01:
                        bad.append(f"split {iid}: negative money {v} from {p}")
                    used[p] += v
                    terms[p] += 1
    for p, avail in pools.items():
        # the plan is reported in cents rounded row by row: allow one cent per term
        if used[p] > avail + 0.01 * (terms[p] + 1):
            bad.append(f"pool {p}: uses {used[p]:.2f} of {avail:.2f}")
    for cap in raw.get("caps", []):
        base = {"egt_allocation": raw["budget"]["egt_allocation"], "new_business": d["new_business"],
                "spendable_funds": d["new_business"] + raw["budget"].get("commitments", 0)}[cap["base"]]
        spent = sum(per * levels[iid] for iid, info in rows.items() if info["row"].get("cap_category") in cap["categories"]
                    for per, _ in info["costs"])
        if spent > cap["max_share"] * base - cap.get("committed", 0) + 0.01:
            bad.append(f"cap {cap['id']}: {spent:.2f} above {cap['max_share'] * base:.2f}")
    entry_rows = [iid for iid, info in rows.items() if info["unit"] == "entries"]
    for cov in raw.get("coverage", []):
        g = cov["group"]

        def weight(iid, lv):
            if cov.get("basis", "entries") == "money":
                return lv * sum(per for per, _ in rows[iid]["costs"])
            return lv

        reach = sum(rows[i]["row"].get("groups", {}).get(g, 0) * weight(i, levels[i]) for i in entry_rows)
        total = sum(weight(i, levels[i]) for i in entry_rows)
        if cov.get("min_share") is not None:
            need = cov["min_share"] * total
        elif cov["min_count"] == "official":
            need = sum(rows[i]["row"].get("groups", {}).get(g, 0) * weight(i, rows[i]["official"]) for i in entry_rows)
        else:
            need = cov["min_count"]
        if reach < need - 1e-6 * max(1, need):
            bad.append(f"coverage {cov['id']}: {reach:.3f} below {need:.3f}")
    for p in raw["pools"]:
        if p.get("max_places"):
            members = [i for i, info in rows.items() if p["id"] in (info["row"].get("pools") or [])]
            if sum(levels[i] * places_of_entry(rows[i]["row"]) for i in members) > p["max_places"] + 1e-6:
                bad.append(f"places {p['id']}: above {p['max_places']}")
    for iid, info in rows.items():
        if info["row"].get("max_places") is not None:
            if levels[iid] * places_of_entry(info["row"]) > info["row"]["max_places"] + 1e-6:
                bad.append(f"places {iid}: above {info['row']['max_places']}")
    return bad


def integrations(raw: dict, rates: dict, levels: dict[str, float], basis: str = "gross") -> float:
    """Σ rate × weight × entries, from the raw files."""
    d = derive(raw)
    total = 0.0
    prio = raw.get("priorities", {}) or {}
    for iid, info in d["rows"].items():
        if info["unit"] != "entries":
            continue
        r = info["row"]
        rate = (r.get("rate") or {}).get(basis)
        if rate is None:
            rate = rates["classes"][r["rate_class"]][basis]["value"]
        weight = 1 + sum(s * prio.get(g, 0) for g, s in r.get("groups", {}).items())
        total += rate * weight * levels[iid]
    return total


def close(a: float, b: float, rel: float = 1e-6) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-6)
