"""Hypothesis strategies: small random *valid* model files (and their rates files) as plain dicts.

``models()`` draws a (model, rates) pair of the same shape as ``models/duisburg-2016.yaml`` and
``models/rates/sgb2-defaults.yaml``, only small:

- 2–12 instrument rows of every financing kind (mostly ``new``; ``shared`` rows paid from a ``new`` row's
  money, ``prepaid``/``external``/``partly_prepaid``/``money_only`` rows fixed at their figure, ``programme``
  rows paid from a programme pool with optional EGT co-funding and places, ``info`` rows), some counted in
  another row's entries (``entries_in``), some with lot sizes (4, 10, 16, 25) that fit their bounds,
  explicit bounds (both ends, one end, or fixed), place capacities, rate overrides, VBL parts, unit-cost
  overrides, groups and a cap category; some rows tie with an earlier row (same class and cost per entry)
  or nearly tie (costs 1e-7 to 1e-4 apart);
- the derived ``egt`` pool plus 0–2 earmarked pools that rows may draw on alone or together with another
  pool (several pools: split variables), with planning shares and reserved parts; sometimes a separate
  VBL pool and a reserve share;
- 0–1 legal cap, 0–3 groups with 0–3 coverage requirements (``min_share`` or ``min_count``, numbers or
  ``official``, on entries or money), sometimes group priorities;
- the second form's parts: mostly a concave response (``low_end_at`` 1.1–1.5), some rows with a capacity
  (places, contract or posts, with extension and growth shares of 0–50 %) where their bounds leave room for
  the contract's span, sometimes a customer stock per group (a participation share that leaves room for the
  official reach, or not quite), 0–2 stated decisions (policy rules on entries or money, ``official`` or a
  number, at least and/or at most), and a reserve (``official`` or euros);
- money: each pool (and the cap) gets an amount between what its rows cost at their minimums and at their
  maxima, so that money binds in some models and not in others; about one amount in twelve is exactly
  the minimums or short of them, so some models are infeasible on purpose.

Measured (five batches of 200 draws of ``models()``, hypothesis's generate phase only, derandomized and
seeds 1, 2, 3, 7; each through ``build_problem`` and ``optimise`` with HiGHS, counting ``InfeasibleError``):
a continuous solve finds no plan for about 44 % of the drawn models (438 of 1,000; 38–50 % per batch),
integer mode for about 52 % (413 of 800, first four batches), where whole lots do not fit as well. Money
is only part of it: in the diagnoses of seed 7's 100 infeasible models, 54 conflicts name no pool, budget
or cap (a policy rule, a coverage requirement or a row's ``max_places`` against fixed rows, the bounds or
a contract's floor).

Amounts are euros to the cent: mostly 50–20,000 € per entry, edge draws of 0.01 € and 1,000,000 € per
entry (a row's money stays under 10 million €), rates of 1e-6, 0 and 1, zero and negative net effects,
pools of 0 €. Every draw passes ``optalloc.model.loading.parse`` and ``check_references`` (:func:`spec_of`)
and ``build_problem`` (the generator applies the bounds rule of ``problem._bounds`` so that lots fit).

``tiny_rate_models()`` draws models whose rates all lie in [1e-6, 1e-4) (for the scaling property);
:func:`scale_rates` multiplies every rate of a model and its rates file by a factor. :func:`spec_of`
builds the Spec in memory as ``load_model`` does; :func:`load_written` writes both files and loads them.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from optalloc.model.loading import Spec, check_references, load_model, parse
from optalloc.model.schema import Model, Rates

from .independent_check import row_bounds

GENERATED = Path("/generated/model.yaml")  # a path for messages only: in-memory specs are never read
RATES_NAME = "rates.yaml"

VARIABLE = ("new", "shared", "programme")  # rows whose entries the optimiser may change
FIXED = ("prepaid", "partly_prepaid", "money_only", "external")
LOTS = (16, 4, 10, 25)
# a row's official money at most 10 million € (Duisburg's largest row: 9.7 million €), so that a model's
# pools stay below some 400 million €. Pools near a billion hit known float-resolution problems
# (tests/test_properties.py: test_budgets_near_a_billion_solve).
MAX_ROW_MONEY = 1e7


def cents(x: float) -> float:
    return round(float(x), 2)


def _round3(x: float) -> float:
    return round(x, 3)


def up_cents(x: float) -> float:
    """Rounded up to the cent (an amount that covers ``x``)."""
    return math.ceil(round(float(x) * 100, 6)) / 100


# ----- rates -----


def _figure(value: float, spread: float) -> dict[str, Any]:
    low = max(-1.0, value - spread)
    high = min(1.0, value + spread)
    return {"value": value, "low": low, "high": high, "status": "assumption", "anchor": "generated for a test"}


@st.composite
def rate_values(draw: st.DrawFn, tiny: bool = False) -> float:
    """A gross rate: 0.02–0.85, or an edge value (1e-6, 0, 1); with ``tiny`` in [1e-6, 1e-4)."""
    if tiny:
        return draw(st.floats(1e-6, 0.99e-4))
    return draw(st.one_of(
        st.floats(0.02, 0.85).map(lambda v: round(v, 4)),
        st.floats(0.02, 0.85),
        st.sampled_from([1e-6, 0.0, 1.0, 0.5]),
    ))


@st.composite
def rates_files(draw: st.DrawFn, tiny: bool = False) -> dict[str, Any]:
    """A rates file of 1–4 classes c0, c1, ... (all figures 'assumption' with an anchor)."""
    n = draw(st.integers(1, 4))
    classes = {}
    for k in range(n):
        gross = draw(rate_values(tiny))
        net = draw(st.floats(1e-6, 0.99e-4)) if tiny else draw(st.one_of(
            st.floats(-0.1, 0.45), st.sampled_from([0.0, -0.05, 1e-6])))
        if tiny:  # the range stays below 1e-4, so that rates times 1e4 are still rates (at most 1)
            figures = {b: {"value": v, "low": v / 2, "high": min(2 * v, 0.99e-4), "status": "assumption",
                           "anchor": "generated for a test"} for b, v in (("gross", gross), ("net", net))}
        else:
            figures = {"gross": _figure(gross, 0.1), "net": _figure(net, 0.1)}
        classes[f"c{k}"] = {"name": f"class {k}", **figures}
    return {"meta": {"title": "generated rates", "default_basis": "gross"}, "classes": classes}


# ----- models -----


def _default_bounds(row: dict[str, Any], official: float, a: dict[str, Any]) -> tuple[float, float]:
    """A row's lower and upper level by the rule of problem.py (for lots to fit): the raw checker's."""
    return row_bounds(row, official, a)


@st.composite
def unit_costs(draw: st.DrawFn) -> float:
    """Euros per entry: mostly 50–20,000 € to the cent, now and then an edge value."""
    return draw(st.one_of(
        st.floats(50, 20_000).map(cents),
        st.floats(50, 20_000).map(cents),
        st.floats(50, 20_000).map(cents),
        st.sampled_from([50.0, 0.01, 1e6, 999_999.99, 16_000.0]),
    ))


@st.composite
def models(draw: st.DrawFn, tiny_rates: bool = False, cap: bool | None = None,
           max_instruments: int = 12) -> tuple[dict, dict]:
    """A (model, rates) pair of dicts; the model's ``meta.rates_file`` is ``rates.yaml`` beside it.
    ``cap``: with one legal cap (True), none (False) or either (None)."""
    rates = draw(rates_files(tiny=tiny_rates))
    classes = sorted(rates["classes"])

    n_groups = draw(st.integers(0, 3))
    groups = [{"id": f"g{k}", "name": f"group {k}", "customer_share": draw(st.floats(0, 1).map(_round3))}
              for k in range(n_groups)]
    group_ids = [g["id"] for g in groups]

    n_earmarked = draw(st.integers(0, 2))
    earmarked = [f"p{k}" for k in range(n_earmarked)]
    programme_pool = earmarked[-1] if earmarked and draw(st.booleans()) else None
    has_cap = draw(st.booleans()) if cap is None else cap
    cap_categories = sorted(draw(st.sets(st.sampled_from(["16e", "16f", "16h"]), min_size=1))) if has_cap else []
    vbl_separate = draw(st.integers(0, 5)) == 0
    n_areas = draw(st.integers(1, 3))

    a = {
        "min_share_of_official": draw(st.sampled_from([0.5, 0.0, 0.8, 1.0]) | st.floats(0, 1).map(_round3)),
        "max_share_of_official": draw(st.sampled_from([1.5, 1.0, 2.0, 3.0]) | st.floats(1, 3).map(_round3)),
    }

    n = draw(st.integers(2, max_instruments))
    kinds = draw(st.lists(
        st.sampled_from(["new"] * 8 + ["shared", "prepaid", "external", "partly_prepaid", "money_only", "info"]
                        + (["programme"] * 2 if programme_pool else [])),
        min_size=n, max_size=n))
    if "new" not in kinds:
        kinds[0] = "new"
    new_ids = [f"r{k}" for k, kind in enumerate(kinds) if kind == "new"]

    def pools_choice(kind: str) -> list[str] | None:
        if kind == "programme":
            return [programme_pool]
        if not earmarked or kind not in ("new", "money_only", "partly_prepaid"):
            return None
        return draw(st.sampled_from([None, None, None, [earmarked[0]], ["egt", earmarked[0]], earmarked[::-1]]))

    rows: list[dict[str, Any]] = []
    priced: list[dict[str, Any]] = []  # earlier 'new' rows: rate class and cost per entry, for ties
    for k, kind in enumerate(kinds):
        area = f"a{draw(st.integers(0, n_areas - 1))}"
        row: dict[str, Any] = {"id": f"r{k}", "name": f"instrument {k}", "area": area, "financing": kind}
        if kind != "info" or draw(st.booleans()):
            row["rate_class"] = draw(st.sampled_from(classes))
        if kind == "info":
            rows.append(row)
            continue
        if kind != "money_only":
            row["entries"] = draw(st.integers(1, 2000) | st.sampled_from([1, 16, 48, 100]))
        if kind in ("new", "partly_prepaid", "programme"):
            cost = draw(unit_costs())
            row["entries"] = min(row["entries"], max(1, int(MAX_ROW_MONEY // cost)))
            money = cents(cost * row["entries"])
            if kind == "new" and draw(st.integers(0, 4)) == 0:
                vbl = cents(money * draw(st.floats(0.05, 0.5)))
                row["new_funds"], row["vbl"] = cents(money - vbl), vbl
            else:
                row["new_funds"] = money
            if kind == "new" and draw(st.integers(0, 6)) == 0:  # a cost that overrides the row's money
                row["unit_cost"] = cents(min(cost * draw(st.sampled_from([0.5, 1.1, 2.0])), MAX_ROW_MONEY / 4000))
            elif kind == "new" and priced and draw(st.integers(0, 2)) == 0:
                # a tie or near-tie with an earlier row: the same class and the same cost per entry, or a
                # cost a hair apart (which row the optimum prefers must not depend on the solver)
                twin = draw(st.sampled_from(priced))
                row["rate_class"] = twin["rate_class"]
                near = draw(st.sampled_from([1.0, 1 - 1e-6, 1 + 1e-7, 1 - 1e-5, 1 + 1e-4]))
                row["unit_cost"] = twin["unit_cost"] * near
                row["new_funds"] = cents(row["unit_cost"] * row["entries"])
                row.pop("vbl", None)
            if kind == "new" and "unit_cost" in row:
                priced.append(row)
            elif kind == "new" and "vbl" not in row:
                priced.append({"rate_class": row["rate_class"], "unit_cost": row["new_funds"] / row["entries"]})
        elif kind == "money_only":
            row["new_funds"] = draw(st.floats(1_000, 500_000).map(cents) | st.just(0.0))
        elif kind == "external":
            row["paid_by"] = "Land (generated)"
        elif kind == "shared":
            row["money_in"] = draw(st.sampled_from(new_ids))
        if kind != "money_only" and draw(st.integers(0, 3)) == 0:
            row["places"] = draw(st.integers(1, row["entries"]))
        p = pools_choice(kind)
        if p is not None:
            row["pools"] = p
        if group_ids and kind != "money_only" and draw(st.booleans()):
            chosen = draw(st.sets(st.sampled_from(group_ids), min_size=1))
            row["groups"] = {g: draw(st.sampled_from([1.0, 0.5]) | st.floats(0, 1).map(_round3))
                             for g in sorted(chosen)}
        if cap_categories and kind != "money_only" and draw(st.integers(0, 2)) == 0:
            row["cap_category"] = draw(st.sampled_from(cap_categories))
        elif cap_categories and kind == "money_only" and draw(st.booleans()):
            row["cap_category"] = draw(st.sampled_from(cap_categories))
        if kind != "money_only" and draw(st.integers(0, 5)) == 0:
            row["rate"] = {"gross": draw(rate_values(tiny_rates))}
        rows.append(row)

    # entries counted in another row's printed figure (FbW-U25 inside FbW): the parent prints them too
    with_entries = [r for r in rows if "entries" in r and r["financing"] != "programme"]
    if len(with_entries) >= 2 and draw(st.integers(0, 3)) == 0:
        parent = draw(st.sampled_from(with_entries))
        children = [r for r in rows if r is not parent and ("entries" in r or r["financing"] == "info")]
        for child in draw(st.lists(st.sampled_from(children), min_size=1, max_size=2, unique_by=lambda r: r["id"])):
            if child["financing"] == "info":
                child["entries"] = draw(st.integers(1, 200))
            child["entries_in"] = parent["id"]
            parent["entries"] += child["entries"]
            if "places" in parent:
                parent["places"] = min(parent["places"], parent["entries"])

    def own_level(r: dict[str, Any]) -> float:
        if r["financing"] == "money_only":
            return float(r["new_funds"])
        inside = sum(c.get("entries", 0) for c in rows if c.get("entries_in") == r["id"])
        return float(r["entries"] - inside)

    decision = [r for r in rows if r["financing"] != "info"]

    # explicit bounds, lots and place capacities, with the bounds rule so that every lot fits
    for r in decision:
        if r["financing"] not in VARIABLE:
            continue
        off = own_level(r)
        choice = draw(st.integers(0, 7))
        if choice == 0:
            lo = draw(st.integers(0, int(off)))
            r["bounds"] = {"min": lo, "max": lo + draw(st.integers(0, 3 * int(off) + 5))}
        elif choice == 1:  # not above the default maximum: tests/independent_check.py does not raise the maximum
            r["bounds"] = {"min": draw(st.integers(0, int(a["max_share_of_official"] * off)))}
        elif choice == 2:
            r["bounds"] = {"max": draw(st.integers(0, int(2 * off) + 1))}
        elif choice == 3:
            r["bounds"] = {"min": float(off), "max": float(off)}  # fixed by its own bounds
        if draw(st.integers(0, 3)) == 0:
            lot = draw(st.sampled_from(LOTS))
            lower, upper = _default_bounds(r, off, a)
            first = math.ceil(lower / lot - 1e-9) * lot
            if first > upper + 1e-9:  # widen to the lots around the lower bound
                start = math.floor(lower / lot) * lot
                r["bounds"] = {"min": start, "max": start + lot * draw(st.integers(1, 4))}
            r["lot_size"] = lot
        if draw(st.integers(0, 5)) == 0:
            lower, upper = _default_bounds(r, off, a)
            ppe = r["places"] / r["entries"] if r.get("places") else 1.0
            r["max_places"] = max(0, math.ceil(draw(st.sampled_from([lower, upper, (lower + upper) / 2])) * ppe))

    # ----- money: what each pool pays at the rows' lower and upper levels, then amounts in between -----
    rows_by_id = {r["id"]: r for r in rows}
    entries_paid: dict[str, float] = {}
    for r in decision:
        payer = r["money_in"] if r["financing"] == "shared" else r["id"]
        entries_paid[payer] = entries_paid.get(payer, 0.0) + own_level(r)
    spans = {r["id"]: _default_bounds(r, own_level(r), a) for r in decision}
    # ----- the second form: a response, and capacity (which narrows the span the money is drawn for) -----
    assumptions: dict[str, Any] = {"bounds": a}
    if draw(st.integers(0, 3)) > 0:
        assumptions["response"] = {"low_end_at": draw(st.sampled_from([1.2, 1.1, 1.5]) | st.floats(1.05, 2.0).map(_round3))}
    e = draw(st.sampled_from([0.2, 0.1, 0.5]) | st.floats(0, 0.5).map(_round3))
    g = draw(st.sampled_from([0.2, 0.0, 0.5]) | st.floats(0, 0.5).map(_round3))
    for r in decision:
        if r["financing"] not in ("new", "shared") or draw(st.integers(0, 2)) == 0:
            continue
        off = own_level(r)
        lower, upper = spans[r["id"]]
        kind = draw(st.sampled_from(["places", "contract", "posts", "demand"]))
        if kind in ("places", "posts") and not r.get("places"):
            kind = "contract"
        share = g if kind == "posts" else e
        floor = 0.0 if kind == "posts" else (1 - share) * off
        if off <= 0 or lower > (1 + share) * off or upper < floor or r.get("lot_size"):
            continue  # the contract's span must meet the row's own bounds (and whole lots)
        r["capacity"] = kind
        # the money below is drawn for the span the capacity leaves
        spans[r["id"]] = (max(lower, floor), min(upper, (1 + share) * off))
        assumptions["capacity"] = {"extension_share": e}
        if kind == "posts":
            assumptions["employers"] = {"growth_share": g}
    per_unit: dict[str, float] = {}  # per level, all components
    use_lo: dict[str, float] = {"egt": 0.0, **{p: 0.0 for p in earmarked}}
    use_hi = dict(use_lo)
    for r in decision:
        payer = rows_by_id[r["money_in"]] if r["financing"] == "shared" else r
        if r["financing"] in ("new", "shared", "partly_prepaid"):
            if "unit_cost" in payer:
                per = payer["unit_cost"]
            else:
                per = (payer.get("new_funds", 0) + payer.get("vbl", 0)) / entries_paid[payer["id"]]
        elif r["financing"] == "money_only":
            per = 1.0
        elif r["financing"] == "programme":
            per = r["new_funds"] / r["entries"]
        else:
            continue
        per_unit[r["id"]] = per
        payers = payer.get("pools") or ["egt"]
        lo, hi = spans[r["id"]]
        for p in payers:
            use_lo[p] += per * lo / len(payers)
            use_hi[p] += per * hi / len(payers)

    def amount_between(lo: float, hi: float) -> float:
        """Mostly between what the minimums and the maxima cost (money binds or not); now and then below."""
        f = draw(st.sampled_from([0.2, 0.5, 0.9, 1.0, 1.5]) | st.floats(0, 1.2) | st.floats(0, 1.2))
        if draw(st.integers(0, 11)) == 0:
            # exactly the minimums, or short of them: infeasible unless another pool pays
            f = draw(st.sampled_from([0.0, -0.5, -0.01]))
        return up_cents(max(0.0, lo + f * (hi - lo)) if hi > lo else max(0.0, lo * (1 + f)))

    pools: list[dict[str, Any]] = [{"id": "egt", "name": "Neufallbudget (generated)", "derived": "new_business"}]
    for p in earmarked:
        pool: dict[str, Any] = {"id": p, "name": f"pool {p}"}
        if p == programme_pool and draw(st.booleans()):
            members = [r for r in decision if p in (r.get("pools") or [])]
            places = {r["id"]: r["places"] / r["entries"] if r.get("places") else 1.0 for r in members}
            reach = sum(spans[i][1] * places[i] for i in places) or 10.0
            pool["max_places"] = max(1, math.ceil(reach * draw(st.sampled_from([0.6, 1.0, 2.0]))))
            if draw(st.booleans()):
                pool["egt_cofunding"] = cents(pool["max_places"] * draw(st.floats(10, 2_000)))
                per = pool["egt_cofunding"] / pool["max_places"]  # per place
                use_lo["egt"] += per * sum(spans[i][0] * places[i] for i in places)
                use_hi["egt"] += per * sum(spans[i][1] * places[i] for i in places)
        amount = amount_between(use_lo[p], use_hi[p]) if use_hi[p] > 0 \
            else draw(st.sampled_from([0.0, 100_000.0]))
        pool["amount"] = amount
        if draw(st.integers(0, 3)) == 0:
            pool["planning_share"] = 0.9
            pool["amount"] = up_cents(amount / 0.9)
        if amount > 0 and draw(st.integers(0, 4)) == 0:
            part = cents(amount * draw(st.floats(0, 0.4)))
            pool["reserved"] = {"staff": part}
            pool["amount"] = cents(pool["amount"] + part)
        # order: max_places and egt_cofunding after amount, as in the Duisburg file
        pools.append({k: pool[k] for k in ("id", "name", "amount", "planning_share", "reserved", "max_places",
                                           "egt_cofunding") if k in pool})

    vbl_use = sum(r.get("vbl", 0) for r in decision)
    egt_available = amount_between(use_lo["egt"], use_hi["egt"])
    reserve_share = draw(st.sampled_from([0.02, 0.05])) if draw(st.integers(0, 4)) == 0 else 0.0
    vbl_credit = cents(vbl_use * draw(st.floats(0.5, 1.5))) if vbl_separate and vbl_use > 0 else 0.0
    new_business = up_cents(max((egt_available + vbl_credit) / (1 - reserve_share), 1_000.0))
    shift = cents(new_business * draw(st.floats(0, 0.3)))
    commitments = cents(new_business * draw(st.sampled_from([0.0, 0.4]) | st.floats(0, 0.6)))
    returns = cents(new_business * draw(st.sampled_from([0.0, 0.005])))
    budget: dict[str, Any] = {
        "egt_allocation": cents(new_business + shift + commitments - returns),
        "shift_to_administration": shift,
        "expected_returns": returns,
        "commitments": commitments,
    }
    if reserve_share:
        budget["reserve_share"] = reserve_share
    if vbl_credit:
        budget["vbl_pool"] = "separate"
        budget["vbl_credit"] = vbl_credit

    caps = []
    if has_cap:
        base_kind = draw(st.sampled_from(["egt_allocation", "spendable_funds", "new_business"]))
        base = {"egt_allocation": budget["egt_allocation"], "spendable_funds": new_business + commitments,
                "new_business": new_business}[base_kind]
        capped = [r["id"] for r in decision if r.get("cap_category") in cap_categories and r["id"] in per_unit]
        lo = sum(per_unit[i] * spans[i][0] for i in capped)
        hi = sum(per_unit[i] * spans[i][1] for i in capped)
        committed = cents(base * draw(st.sampled_from([0.0, 0.05])))
        max_share = min(1.0, math.ceil((amount_between(lo, hi) + committed) / base * 1e6) / 1e6)
        caps.append({"id": "cap0", "name": "FAV und Freie Förderung (generated)", "categories": cap_categories,
                     "max_share": max_share, "base": base_kind, "committed": committed})

    # ----- the second form: customer stock, stated decisions, reserve -----
    customers = None
    if group_ids and draw(st.integers(0, 2)) == 0:
        customers = draw(st.integers(1_000, 100_000))
        # the reach of the official plan, or of the rows' minimums where those are higher
        reach = max(sum(r.get("groups", {}).get(gid["id"], 0) * max(own_level(r), spans[r["id"]][0]) for r in decision
                        if r["financing"] != "money_only") / max(gid["customer_share"] * customers, 1e-9)
                    for gid in groups)
        share = min(1.0, math.ceil(reach * draw(st.sampled_from([1.0, 1.2, 2.0]) | st.floats(1.0, 3)) * 1e4) / 1e4)
        if share > 0:
            assumptions["participation"] = {"max_share": share}
    policy = []
    for k in range(draw(st.integers(0, 2))):
        candidates = [r for r in decision if r["financing"] not in ("money_only",)]
        if not candidates:
            break
        chosen = draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=3, unique_by=lambda r: r["id"]))
        rule: dict[str, Any] = {"id": f"rule{k}", "name": f"stated decision {k}", "rows": [r["id"] for r in chosen],
                                "measure": draw(st.sampled_from(["entries", "money"])),
                                "source": "generated for a test"}
        side = draw(st.sampled_from(["min", "max", "both"]))
        factor = draw(st.sampled_from([1.0, 0.5, 0.8]))  # the plan's own figure, or a floor below it
        if side in ("min", "both"):
            rule["min"] = "official" if factor == 1.0 else cents(factor * sum(
                own_level(r) * (per_unit.get(r["id"], 0.0) if rule["measure"] == "money" else 1.0) for r in chosen))
        if side in ("max", "both"):
            rule["max"] = "official"
        policy.append(rule)
    if draw(st.integers(0, 3)) == 0:
        budget["reserve_amount"] = draw(st.sampled_from(["official", 0.0, 1000.0]))
        budget.pop("reserve_share", None)

    entry_rows = [r for r in decision if r["financing"] != "money_only"]
    coverage = []
    for g in draw(st.lists(st.sampled_from(group_ids), max_size=3, unique=True)) if group_ids else []:
        basis = draw(st.sampled_from(["entries", "entries", "money"]))
        req: dict[str, Any] = {"id": f"cov_{g}", "group": g, "basis": basis}
        kind = draw(st.sampled_from(["share", "official", "count"]))
        reach = sum(r.get("groups", {}).get(g, 0) * own_level(r) for r in entry_rows)
        total = sum(own_level(r) for r in entry_rows)
        if kind == "share":
            official_share = reach / total if total else 0.0
            factor = draw(st.sampled_from([0.5, 0.9, 1.0, 1.3]) | st.floats(0, 1.1))
            req["min_share"] = round(min(1.0, official_share * factor), 4)
        elif kind == "official":
            req["min_count"] = "official"
        else:
            req["min_count"] = round(reach * draw(st.sampled_from([0.0, 0.5, 1.0, 1.2])), 2) if basis == "entries" \
                else cents(reach * draw(st.floats(0, 2000)))
        coverage.append(req)

    model: dict[str, Any] = {
        "meta": {"jobcenter": "Generated", "year": 2016, "title": "generated by hypothesis", "rates_file": RATES_NAME},
        "budget": budget,
        "pools": pools,
        "caps": caps,
        "groups": groups,
        "assumptions": assumptions,
        "coverage": coverage,
        "policy": policy,
        "areas": [{"id": f"a{k}", "chapter": f"5.{k}", "name": f"area {k}"} for k in range(n_areas)],
        "instruments": rows,
    }
    if group_ids and draw(st.integers(0, 3)) == 0:
        model["priorities"] = {g: draw(st.sampled_from([0.0, 0.5, 2.0])) for g in group_ids}
    if customers is not None:
        model["customers"] = customers
    return model, rates


def tiny_rate_models(cap: bool | None = None) -> st.SearchStrategy[tuple[dict, dict]]:
    return models(tiny_rates=True, cap=cap)


def scale_rates(model: dict, rates: dict, factor: float) -> tuple[dict, dict]:
    """The same model with every rate (classes and row overrides; value, low and high) times ``factor``."""
    model, rates = copy.deepcopy(model), copy.deepcopy(rates)
    for c in rates["classes"].values():
        for basis in ("gross", "net"):
            for key in ("value", "low", "high"):
                c[basis][key] = c[basis][key] * factor
    for r in model["instruments"]:
        for key, v in (r.get("rate") or {}).items():
            r["rate"][key] = v * factor
    return model, rates


# ----- specs -----


def spec_of(model: dict, rates: dict) -> Spec:
    """A validated Spec from the two dicts, as load_model builds it (parse, then check_references)."""
    m = parse(Model, model, str(GENERATED))
    r = parse(Rates, rates, str(GENERATED.parent / RATES_NAME))
    spec = Spec(model=m, rates=r, path=GENERATED, rates_path=GENERATED.parent / RATES_NAME)
    check_references(spec)
    return spec


def write_model(folder: Path, model: dict, rates: dict) -> Path:
    """Write the pair as YAML files (model.yaml, rates.yaml) and return the model's path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RATES_NAME).write_text(yaml.safe_dump(rates, sort_keys=False, allow_unicode=True), encoding="utf-8")
    path = folder / "model.yaml"
    path.write_text(yaml.safe_dump(model, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def load_written(folder: Path, model: dict, rates: dict) -> Spec:
    return load_model(write_model(folder, model, rates))
