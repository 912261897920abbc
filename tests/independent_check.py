"""A second, independent checker for the tests: reads the model file as plain YAML and verifies a plan.

It shares no code with optalloc's problem builder or checker: unit costs, bounds, pools, the reserve, caps,
coverage, places, capacities, customer stocks, policy rules and the diminishing returns are recomputed here
from the raw file with plain arithmetic (docs/data-notes.md), so a bug in optalloc's derivation shows up as
a disagreement between the two.
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
    reserve = 0.0
    for p in raw["pools"]:
        if p.get("derived"):
            egt = p["id"]
            reserve = reserve_amount(raw, new_business)
            avail = (new_business * p.get("planning_share", 1.0) - new_business * b.get("reserve_share", 0.0)
                     - sum(p.get("reserved", {}).values()) - reserve)
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
        document = 0.0  # the document's own cost per unit where a unit cost overrides it
        if r["financing"] in ("new", "shared", "partly_prepaid", "money_only"):
            money = (p.get("new_funds") or 0) + p.get("vbl", 0)
            printed = 1.0 if r["financing"] == "money_only" else money / paid_entries[p["id"]]
            per = p["unit_cost"] if p.get("unit_cost") else printed
            document = printed - per
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
                        "document_cost": sum(per for per, _ in costs) + document,
                        "unit": "euros" if r["financing"] == "money_only" else "entries"}
    return {"rows": out, "pools": pools, "egt": egt, "new_business": new_business, "reserve": reserve}


def reserve_amount(raw: dict, new_business: float) -> float:
    """Euros kept back from the new-business pool: `reserve_amount` as a number, or 'official' = what the
    official plan leaves of the printed new-business budget (the derived one where none is printed), but
    no more than it leaves of the pool as it stands (× planning share, less reserved parts: a cut takes the
    reserve first); never below 0."""
    amount = raw["budget"].get("reserve_amount")
    if amount is None:
        return 0.0
    if amount != "official":
        return float(amount)
    pool = next(p for p in raw["pools"] if p.get("derived"))
    spent = 0.0
    for r in raw["instruments"]:
        if r["financing"] in ("new", "partly_prepaid", "money_only") and pool["id"] in (r.get("pools") or [pool["id"]]):
            spent += (r.get("new_funds") or 0) + (r.get("vbl") or 0)
    for p in raw["pools"]:
        if p.get("egt_cofunding"):
            places = sum(r.get("places") or r.get("entries") or 0 for r in raw["instruments"]
                         if r["financing"] == "programme" and p["id"] in (r.get("pools") or []))
            spent += min(p["egt_cofunding"], p["egt_cofunding"] * places / p["max_places"])
    share = pool.get("planning_share", 1.0)
    now = new_business * share - sum(pool.get("reserved", {}).values()) - spent
    printed = (raw["budget"].get("printed") or {}).get("new_business")
    document = (printed if printed is not None else new_business) * share - spent
    return max(min(now, document), 0.0)


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
    bad += capacity_violations(raw, d, levels) + stock_violations(raw, d, levels) + policy_violations(raw, d, levels)
    return bad


def capacity_violations(raw: dict, d: dict, levels: dict[str, float]) -> list[str]:
    """Places, contracts and posts: the upper limit (× 1 + e or 1 + g) and the contract floor (1 − e)."""
    rows, bad = d["rows"], []
    a = raw.get("assumptions", {})
    e = (a.get("capacity") or {}).get("extension_share", 0.0)
    g = (a.get("employers") or {}).get("growth_share", 0.0)
    for iid, info in rows.items():
        r = info["row"]
        kind = r.get("capacity")
        if kind not in ("places", "contract", "posts") or r.get("places_in"):
            continue
        members = [iid] + [i for i, o in rows.items() if o["row"].get("places_in") == iid]
        planned = sum(rows[i]["official"] for i in members)
        if planned <= 0:
            continue
        entries = sum(levels[i] for i in members)
        if kind == "places":
            places = r.get("places") or planned
            used, limit = entries * places / planned, places * (1 + e)
        elif kind == "contract":
            used, limit = entries, planned * (1 + e)
        else:
            posts = r.get("places") or planned
            used, limit = entries * posts / planned, posts * (1 + g)
        if used > limit + 1e-6 * max(1, abs(limit)):
            bad.append(f"capacity {iid}: {used:.3f} {kind} above {limit:.3f}")
        if kind in ("places", "contract"):
            for i in members:
                floor = (1 - e) * rows[i]["official"]
                if levels[i] < floor - 1e-6 * max(1, abs(floor)):
                    bad.append(f"capacity {i}: {levels[i]:.3f} entries below the contract floor {floor:.3f}")
    return bad


def stock_violations(raw: dict, d: dict, levels: dict[str, float]) -> list[str]:
    """Entries reaching a group (all rows with entries, fixed ones too) within max_share × its stock."""
    part = (raw.get("assumptions") or {}).get("participation")
    if not part:
        return []
    bad = []
    for grp in raw.get("groups", []) or []:
        stock = grp.get("stock")
        if stock is None and grp.get("customer_share") is not None and raw.get("customers"):
            stock = grp["customer_share"] * raw["customers"]
        if stock is None:
            continue
        reach = sum(info["row"].get("groups", {}).get(grp["id"], 0) * levels[iid]
                    for iid, info in d["rows"].items() if info["unit"] == "entries")
        limit = part["max_share"] * stock
        if reach > limit + 1e-6 * max(1, limit):
            bad.append(f"stock {grp['id']}: {reach:.3f} entries above {limit:.3f}")
    return bad


def policy_violations(raw: dict, d: dict, levels: dict[str, float]) -> list[str]:
    """Stated decisions: Σ entries (or entries × cost per entry) over a rule's rows within min / max."""
    rows, bad = d["rows"], []
    for rule in raw.get("policy", []) or []:
        if rule.get("drop"):
            continue
        money = rule.get("measure", "entries") == "money"
        share = dict.fromkeys(rule["rows"], 1.0)
        if rule.get("part"):  # a "davon" part: its printed share of the row, and of the rows counted in it
            for rid in rule["rows"]:
                row = rows[rid]["row"]
                part = next(b for b in row["breakdown"] if b["id"] == rule["part"])
                share[rid] = part["entries"] / row["entries"]
                for child, info in rows.items():
                    if info["row"].get("entries_in") == rid:
                        share.setdefault(child, share[rid])

        value = sum(s * levels[i] * (sum(per for per, _ in rows[i]["costs"]) if money else 1.0)
                    for i, s in share.items())
        # "official": the official entries at the document's own cost per entry
        official = sum(s * rows[i]["official"] * (rows[i]["document_cost"] if money else 1.0) for i, s in share.items())
        for side in ("min", "max"):
            limit = rule.get(side)
            if limit is None:
                continue
            limit = official if limit == "official" else limit
            tol = 0.01 if money else 1e-6 * max(1, abs(limit))
            if (value < limit - tol) if side == "min" else (value > limit + tol):
                bad.append(f"policy {rule['id']}: {value:.3f} {'below' if side == 'min' else 'above'} {limit:.3f}")
    return bad


def integrations(raw: dict, rates: dict, levels: dict[str, float], basis: str = "gross",
                 response: str | None = None) -> float:
    """Σ weight × integrations of each row with entries, from the raw files: rate × entries ("linear") or
    the diminishing-returns curve ("concave"); None takes the model's assumptions.response.shape."""
    d = derive(raw)
    total = 0.0
    prio = raw.get("priorities", {}) or {}
    resp = (raw.get("assumptions") or {}).get("response") or {}
    shape = response or resp.get("shape", "linear")
    for iid, info in d["rows"].items():
        if info["unit"] != "entries":
            continue
        r = info["row"]
        cls = rates["classes"][r["rate_class"]][basis] if r.get("rate_class") else None
        rate = (r.get("rate") or {}).get(basis)
        if rate is None:
            rate = cls["value"]
        weight = 1 + sum(s * prio.get(g, 0) for g, s in r.get("groups", {}).items())
        if shape == "concave" and cls is not None:
            value, low = cls["value"], cls["low"]
            spread = (value - low) * abs(rate / value) if value != 0 else value - low
            segs = response_segments(info["official"], rate, spread, resp.get("low_end_at", 1.2))
            x = levels[iid]
            total += weight * sum(m * max(0.0, min(x, end) - start) for start, end, m in segs)
        else:
            total += rate * weight * levels[iid]
    return total


def response_segments(o: float, r: float, spread: float, low_end_at: float) -> list[tuple[float, float, float]]:
    """The concave response of a row as (start, end, rate) in entries: m(z) = r + s(1 − 2z) ÷ (2L − 1),
    z = entries ÷ o, cut at 0, ½, 1, (1 + L) ÷ 2, L, then every ¼ (at most 16) to where m reaches the floor
    min(r − s, 0); each piece at m of its midpoint (not below the floor), then open at the floor."""
    if spread <= 0 or o <= 0 or r >= 1:
        return [(0.0, math.inf, r)]
    s, L = spread, low_end_at
    if r < 1 and r + s / (2 * L - 1) > 1:
        L = (1 + s / (1 - r)) / 2  # m(0) = 1
    floor = min(r - s, 0.0)

    def m(z: float) -> float:
        return r + s * (1 - 2 * z) / (2 * L - 1)

    z_floor = L if floor == r - s else (1 - (floor - r) * (2 * L - 1) / s) / 2
    points = {0.0, 0.5, 1.0, (1 + L) / 2, L, z_floor}
    points |= {L + 0.25 * k for k in range(1, 17) if L + 0.25 * k < z_floor - 1e-9}
    zs = sorted(z for z in points if z <= z_floor)
    segs = [(a * o, b * o, max(m((a + b) / 2), floor)) for a, b in zip(zs, zs[1:]) if b > a]
    return segs + [(z_floor * o, math.inf, floor)]


def close(a: float, b: float, rel: float = 1e-6) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-6)
