"""Properties of the optimiser on random valid models (hypothesis; the models come from tests/strategies.py).

Every property runs a fixed number of examples with ``derandomize=True`` and no example database, so a
run tests the same models on every machine (CI included) until hypothesis, Python or this file changes.

Each optimum is compared with a second reading of the same model dicts (tests/raw_check.py, written from the
data notes, sharing no code with optalloc): the plan keeps every rule of that reading, its value is that
reading's objective, and it equals the optimum bare highspy finds on that reading's LP. A model without a
feasible plan must be infeasible in that reading too, and ``optimise`` must raise ``InfeasibleError`` with a
diagnosis that names a conflict or a fix (or, in integer mode, says that only whole lots collide). Each
property counts its outcomes and bounds how many examples may end without a plan, so that a generator or
a bug that makes most models infeasible cannot pass by skipping its assertions.

What the properties found is kept below as hand-made models, each the smallest reproduction: fixed bugs
as plain tests (each was a bug of optalloc once), and open ones as strict xfail tests.

Off CI: ``OPTALLOC_EXAMPLES=10`` runs ten times the examples, ``OPTALLOC_SEED=n`` other examples, and
``OPTALLOC_SHRINK=1`` shrinks a failure to a smaller model (slow: up to five minutes per test).
"""

from __future__ import annotations

import copy
import math
import os
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, event, example, given, seed, settings
from hypothesis import strategies as st

from optalloc.outputs import reports
from optalloc.errors import InfeasibleError, SolverError
from optalloc.solving.plan import money_cents
from optalloc.model.problem import build_problem
from optalloc.solving.solve import evaluate, first_pass, official, optimise
from optalloc.analyses.sweeps import with_budget

from . import raw_check as rc
from .strategies import load_written, models, scale_rates, spec_of, tiny_rate_models

EXAMPLES = float(os.environ.get("OPTALLOC_EXAMPLES", "1"))
SEED = os.environ.get("OPTALLOC_SEED")
PHASES = tuple(Phase) if os.environ.get("OPTALLOC_SHRINK") else tuple(p for p in Phase if p != Phase.shrink)

# Models are drawn with or without a legal cap (CAP_IN_FRACTIONS_OF_A_CENT, once a bug, is kept as an example).
CAPS: bool | None = None


def props(max_examples: int):
    """Hypothesis settings of a property: fixed examples (derandomized), no database, no deadline."""
    chosen = settings(max_examples=max(1, round(max_examples * EXAMPLES)), deadline=None,
                      derandomize=SEED is None, database=None, phases=PHASES,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    if SEED is None:
        return chosen
    return lambda test: seed(int(SEED))(chosen(test))


class Outcomes(Counter):
    """What the solves of one property came to: per mode ("continuous", "whole lots") solved or infeasible."""

    def at_most_infeasible(self, share: float, least_solved: int, mode: str = "continuous") -> None:
        """At most ``share`` of the solves in ``mode`` ended without a plan, and at least ``least_solved`` found
        one. About half of the generated models have no plan (300 draws: 50 %; 31 % with a cap); the fixed
        examples of one property are a small sample of that (derandomized from the property's source, so any
        edit of it draws others: 5–72 % seen). The bounds let that vary but fail a generator or a bug that
        leaves (nearly) every model without a plan, which would pass on skipped assertions."""
        solved, infeasible = self[f"{mode} solved"], self[f"{mode} infeasible"]
        if os.environ.get("OPTALLOC_TALLY"):
            print(f"\n{mode}: {dict(self)}")
        assert solved >= least_solved * min(1.0, EXAMPLES), f"{mode}: too few plans found: {dict(self)}"
        assert infeasible <= share * (solved + infeasible), f"{mode}: too many without a plan: {dict(self)}"


def problem_of(pair, basis=None):
    model, rates = pair
    return build_problem(spec_of(model, rates), basis)


def raw_reading(pair, basis=None) -> rc.Reading:
    """The second reading of a model pair (tests/raw_check.py)."""
    model, rates = pair
    return rc.read(model, rates=rates, basis=basis)


def solve(problem, outcomes: Outcomes, reading: rc.Reading | None = None, **kwargs):
    """The optimal solution, or None where no plan exists — then the diagnosis must say something useful,
    and the raw reading must have no plan either."""
    integer = bool(kwargs.get("integer"))
    mode = ("integer " if integer else "") + kwargs.get("solver", "highs")
    try:
        solution = optimise(problem, **kwargs)
    except InfeasibleError as err:
        d = err.diagnosis
        assert d is not None, "InfeasibleError without a diagnosis"
        event(f"{mode}: infeasible" + (" (whole lots only)" if d.integer_only else ""))
        outcomes[("whole lots" if integer else "continuous") + " infeasible"] += 1
        if d.integer_only:
            # only whole entries (lots) collide: the continuous problem must have a plan
            assert integer, "an integer-only diagnosis of a continuous solve"
            optimise(problem, solver=kwargs.get("solver", "highs"))
        else:
            assert not d.conflict.empty or not d.fixes.empty, "a diagnosis that names no conflict and no fix"
        if reading is not None:
            found = rc.optimum(rc.linear_program(reading, integer), reading, time_limit=10)
            assert found.status in ("Infeasible", "Time limit reached"), \
                f"optimise found no plan, the raw reading has one worth {found.value} ({found.status})"
        return None
    event(f"{mode}: optimal")
    outcomes[("whole lots" if integer else "continuous") + " solved"] += 1
    return solution


def assert_agrees_with_the_raw_reading(reading: rc.Reading, solution, integer: bool) -> None:
    """The plan keeps every rule of the raw reading, its value is that reading's objective, and it is the
    optimum of that reading's LP (bare highspy; in integer mode between the MIP's plan and its bound)."""
    levels, split = solution.plan.levels.to_dict(), dict(solution.plan.split)
    assert rc.violations(reading, levels, split, integer=integer) == []
    value = solution.integrations
    assert close(rc.integrations(reading, levels), value, 1e-9)
    program = rc.linear_program(reading, integer)
    found = rc.optimum(program, reading, mip_gap=1e-7, time_limit=10)
    if integer and found.status == "Infeasible":
        # the plan above keeps every raw rule, so whole-lot plans exist. HiGHS's MIP applies its one
        # mip_feasibility_tolerance to the rows as well as to integrality (its author, ERGO-Code/HiGHS#560): at
        # 1e-9, a pool row of millions of euros must hold closer than a double resolves its activity (about
        # 2e-9 at 1e7), so the MIP can call such a model infeasible; at 1e-6 it finds the plans
        found = rc.optimum(program, reading, mip_gap=1e-7, time_limit=10, integrality_tolerance=1e-6)
    if found.status == "Time limit reached":
        return
    assert found.status == "Optimal", found.status
    tol = 1e-6 * max(1.0, abs(found.value))
    if integer:
        assert found.value - tol <= value <= found.bound + tol, (found.value, value, found.bound)
    else:
        assert abs(found.value - value) <= tol, (found.value, value)


def close(a: float, b: float, rel: float) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=rel * 1e-3)


# ----- hand-made models: the smallest reproductions of what the properties found -----


def _rates(**gross: float) -> dict:
    """A rates file with one class per keyword (its gross rate; the net effect a tenth of it)."""
    def figure(v):
        return {"value": v, "low": min(v, 0.0), "high": max(v, 0.5), "status": "assumption", "anchor": "a test"}
    return {"meta": {"title": "hand-made rates", "default_basis": "gross"},
            "classes": {k: {"name": k, "gross": figure(v), "net": figure(v / 10)} for k, v in gross.items()}}


def _model(instruments: list[dict], allocation: float, pools: tuple[dict, ...] = (),
           bounds: tuple[float, float] = (0.5, 1.5), **sections) -> dict:
    """A model of the given rows; ``allocation`` is the new-business budget (nothing shifted or committed),
    ``bounds`` the min and max share of the official entries."""
    return {"meta": {"jobcenter": "Example", "year": 2016, "title": "hand-made", "rates_file": "rates.yaml"},
            "budget": {"egt_allocation": allocation, "shift_to_administration": 0.0},
            "pools": [{"id": "egt", "name": "egt", "derived": "new_business"}, *pools],
            "assumptions": {"bounds": {"min_share_of_official": bounds[0], "max_share_of_official": bounds[1]}},
            "areas": [{"id": "a0", "chapter": "5.0", "name": "area 0"}],
            "instruments": instruments, **sections}


def _row(iid: str, entries: int | None, money: float | None = None, financing: str = "new", **fields) -> dict:
    row = {"id": iid, "name": iid, "area": "a0", "financing": financing, "rate_class": "c0"}
    if entries is not None:
        row["entries"] = entries
    if money is not None:
        row["new_funds"] = money
    return {**row, **fields}


# Fixed (found at d360e1a, fixed by 9c8f1ea): two rows with the same rate, the later a hair cheaper (100,000 €
# against 100,001 € for 100 entries), money for 200 entries. The optimum puts it all on the later row (100
# integrations); the tie-break of the time (1e-4 of the largest rate added to earlier rows) put it on the
# earlier one (99.999).
NEAR_TIE = (_model([_row("a", 100, 100001.0), _row("b", 100, 100000.0)], 200000.0, bounds=(0.0, 2.0)),
            _rates(c0=0.5))

# Fixed (found at d360e1a, fixed by 9c8f1ea): a prepaid row with rate 0 that no rule names. CBC's pass for
# the true-objective duals wrote an MPS file that bounds the row's variable but has no column for it, and
# the CBC run stopped with an uncaught PulpSolverError.
ZERO_RATE_PREPAID = (_model([_row("asa", 48, financing="prepaid")], 1000.0), _rates(c0=0.0))

# Fixed (found at d360e1a, fixed by 9c8f1ea): one cheap row on the new-business budget and one at 1,000,000 €
# per entry that pool p0 may pay too; about 1.07 billion € of new business. HiGHS called this bounded LP
# 'Unbounded' (rates of 0.5 against coefficients of 1e6 and right-hand sides of 1e9).
TWO_POOLS_BILLION = (_model([_row("a", 1, 1449.0), _row("b", 1591, 79550.0, unit_cost=1000000.0, pools=["egt", "p0"])],
                            1073927056.17, ({"id": "p0", "name": "p0", "amount": 238650000.0},), bounds=(0.0, 1.5)),
                     _rates(c0=0.5))

# Was a bug (fixed): one FAV row under a cap of 20 % of an allocation of 1,234,567.89 €. The cap's limit, 246,913.578 €,
# is not a whole number of cents.
CAP_IN_FRACTIONS_OF_A_CENT = (
    _model([_row("fav", 100, 300000.0, cap_category="16e")], 1234567.89,
           caps=[{"id": "fav", "name": "FAV", "categories": ["16e"], "max_share": 0.2, "base": "egt_allocation"}]),
    _rates(c0=0.5))

# Was a bug (fixed): programme rows paid by pool p0 alone and a 1,000,000 €-per-entry row that egt or p0 may pay (egt
# pays it all). CBC's levels (8 digits: 247.56366 entries at 14,145.75 €) overspend p0 by 0.03 €.
CBC_TRIMS_THE_WRONG_ROW = (
    _model([_row("r8", 706, 9986899.5, financing="programme", pools=["p0"]),
            _row("r9", 10, 9999999.9, pools=["egt", "p0"]),
            _row("r11", 16, 178712.96, financing="programme", pools=["p0"])],
           9756861.14, ({"id": "p0", "name": "p0", "amount": 3698557.87},), bounds=(0.019, 1.1)),
    _rates(c0=1.0))

# Was a bug (fixed): three pools (p1 a programme with places and EGT co-funding), a coverage requirement that holds the
# programme row at its maximum, and a row that two earmarked pools may pay.
CBC_OPTIMAL_FACE = (
    _model([_row("r1", 1437, 8283629.61, pools=["p1", "p0"], bounds={"min": 0, "max": 942}),
            _row("r2", 10, 10000000.0, pools=["egt", "p0"], rate_class="c1"),
            _row("r4", 630, 6.29, financing="partly_prepaid", pools=["egt", "p0"], rate_class="c1"),
            _row("r5", 10, 9999999.9, financing="programme", pools=["p1"], rate_class="c1",
                 groups={"g0": 0.5, "g1": 0.444})],
           6543288.92, ({"id": "p0", "name": "p0", "amount": 5303587.42},
                        {"id": "p1", "name": "p1", "amount": 12715093.54, "planning_share": 0.9, "max_places": 952,
                         "egt_cofunding": 1535863.46}),
           bounds=(0.0, 1.0),
           groups=[{"id": "g0", "name": "g0"}, {"id": "g1", "name": "g1"}],
           coverage=[{"id": "cov_g1", "group": "g1", "min_count": "official"}]),
    _rates(c0=0.5, c1=1 / 3))

# Was a bug, fixed (found by property 1 with OPTALLOC_EXAMPLES=5): integer mode, a row bought in lots of 25 at
# 50.000005 € per entry (a near-tie with r1 and r3 at 50 €) among fixed rows and a coverage share. HiGHS's
# MIP returns 25.0000093 entries (1.0000004 lots, within its integrality tolerance).
INTEGER_LOT_TOLERANCE = (
    _model([_row("r1", 361, 18049.98, rate_class="c1"),
            _row("r2", 16, 49068.64, vbl=26429.12, bounds={"min": 16.0, "max": 16.0}),
            _row("r3", 1, 50.0, rate_class="c1", groups={"g0": 0.491, "g1": 1.0, "g2": 1.0}),
            _row("r4", 1, financing="shared", money_in="r8", groups={"g0": 1.0, "g1": 0.5, "g2": 0.5}),
            _row("r5", 473, financing="prepaid"),
            _row("r6", 48, 78259.68, groups={"g0": 1.0, "g1": 0.485, "g2": 1.0}),
            _row("r7", None, 333737.52, financing="money_only", rate_class="c1"),
            _row("r8", 48, 2400.0, rate_class="c1", unit_cost=50.000005, lot_size=25),
            _row("r9", 906, financing="external", paid_by="Land", groups={"g1": 1.0, "g2": 0.5})],
           475098.33, bounds=(0.054, 2.251),
           groups=[{"id": g, "name": g} for g in ("g0", "g1", "g2")],
           coverage=[{"id": "cov_g2", "group": "g2", "min_share": 0.2365}]),
    _rates(c0=1.0, c1=0.5857903168705147))

# Was a bug (fixed): like TWO_POOLS_BILLION with p0 empty and 2 % of the budget held back: the plan fills the budget
# (736,863,208.98 €) to the cent.
SPLIT_BILLION = (_model([_row("a", 1, 5377.66), _row("b", 1965, 98250.0, unit_cost=999999.99, pools=["egt", "p0"]),
                         _row("c", 1, 10433.88)],
                        751925434.99, ({"id": "p0", "name": "p0", "amount": 0.0},), bounds=(0.0, 1.5)),
                 _rates(c0=0.5))
SPLIT_BILLION[0]["budget"]["reserve_share"] = 0.02


# Open bug (found by comparing with tests/raw_check.py; problem.py, reported): an `info` row — shown for
# information, not planned — whose entries are counted in another row (`entries_in`) lowers that row's level by
# its entries, so they vanish from the plan: here the external row keeps 48 of its printed 219 entries.
INFO_COUNTED_ELSEWHERE = (
    _model([_row("host", 219, financing="external", paid_by="Land"),
            _row("part", 171, financing="info", entries_in="host"),
            _row("a", 10, 1000.0)], 1000.0),
    _rates(c0=0.5))


# Open (CBC's limits, reported): a rate override of 0.4775 on a class whose value is 1e-6 (low −0.099999) gives a
# spread of 0.4775 × 0.1 ÷ 1e-6 (the data notes' formula), a response stretched over some 45,000 × the plan and
# an objective scaled by some 10⁴. CBC's own optimum stops 5 × 10⁻⁵ short of HiGHS's and the raw LP's.
CBC_STOPS_SHORT = (
    {"meta": {"jobcenter": "Generated", "year": 2016, "title": "shrunk by hand", "rates_file": "rates.yaml"},
     "budget": {"egt_allocation": 15419531.82, "shift_to_administration": 1025004.93, "expected_returns": 53727.08,
                "commitments": 3702837.87, "vbl_pool": "separate", "vbl_credit": 1759.56},
     "pools": [{"id": "egt", "name": "egt", "derived": "new_business"}],
     "assumptions": {"bounds": {"min_share_of_official": 0.5, "max_share_of_official": 1.5},
                     "response": {"low_end_at": 1.07}, "capacity": {"extension_share": 0.05}},
     "policy": [{"id": "rule0", "name": "rule 0", "rows": ["r8", "r5", "r2"], "measure": "money",
                 "source": "generated for a test", "min": 61272.9}],
     "areas": [{"id": "a0", "chapter": "5.0", "name": "area 0"}],
     "instruments": [_row("r1", 16, 22544.8, entries_in="r8"),
                     _row("r2", 312, financing="shared", money_in="r1", entries_in="r8"),
                     _row("r4", 631, 6382110.68, rate={"gross": 0.4775}),
                     _row("r5", 1, 1173.03, bounds={"min": 0, "max": 1}),
                     _row("r8", 376, 48000.0, unit_cost=1100.0, capacity="contract")]},
    {"meta": {"title": "hand-made rates", "default_basis": "gross"},
     "classes": {"c0": {"name": "c0", "gross": {"value": 1e-06, "low": -0.099999, "high": 0.100001, "status": "assumption",
                                                "anchor": "a test"},
                        "net": {"value": 0.0, "low": -0.1, "high": 0.1, "status": "assumption", "anchor": "a test"}}}})

# ----- 1. optimal plans keep every rule of the raw reading and are its optimum -----


@pytest.mark.parametrize("cap", [None, True], ids=["any", "with a cap"])
def test_optimal_plans_agree_with_the_raw_reading_on_both_solvers(cap):
    """The continuous and the integer optimum, on gross rates and on net effects (which bring zero and negative
    rates): assert_agrees_with_the_raw_reading. Continuous mode on CBC too: assert_cbc_reaches_the_optimum.
    An example without a plan must have none in the raw reading either (``solve``)."""
    outcomes = Outcomes()

    @props(30 if cap is None else 20)
    @example(CAP_IN_FRACTIONS_OF_A_CENT, "gross")
    @example(CBC_TRIMS_THE_WRONG_ROW, "gross")
    @example(CBC_OPTIMAL_FACE, "gross")
    @given(models(cap=cap), st.sampled_from(["gross", "net"]))
    def run(pair, basis):
        problem, reading = problem_of(pair, basis), raw_reading(pair, basis)
        for integer in (False, True):
            solution = solve(problem, outcomes, reading, integer=integer)
            if solution is not None:
                assert_agrees_with_the_raw_reading(reading, solution, integer)
            if not integer:
                assert_cbc_reaches_the_optimum(problem, reading, solution, outcomes)

    run()
    outcomes.at_most_infeasible(0.75, 6)
    outcomes.at_most_infeasible(0.75, 6, "whole lots")
    assert outcomes["CBC stops short"] <= 0.1 * outcomes["continuous solved"], dict(outcomes)


def assert_cbc_reaches_the_optimum(problem, reading: rc.Reading, highs, outcomes: Outcomes) -> None:
    """CBC's first pass — its own plan and value, before ``optimise`` cross-checks it and takes the plan on
    HiGHS's optimal face — finds a plan exactly where HiGHS does, reaches HiGHS's optimum within 1e-6
    relative, and its plan keeps every rule of the raw reading within CBC's eight significant digits (money
    within 10⁻⁷ of the largest pool, entries within 10⁻⁷ of the plan's entries). Through ``optimise`` both solvers give the same plan. Where CBC stops
    short (CBC_STOPS_SHORT), its plan must not reach the user (assert_cbc_short_never_reaches_the_user)."""
    try:
        lp = first_pass(problem, "cbc")
    except InfeasibleError:
        assert highs is None, "CBC finds no plan where HiGHS finds one"
        return
    assert highs is not None, "CBC finds a plan where HiGHS finds none"
    levels = {i: float(v.varValue) if v.varValue is not None else float(v.lowBound) for i, v in lp.level.items()}
    split = {k: float(v.varValue or 0.0) for k, v in lp.split.items()}
    value = float(lp.integrations.value())
    largest = max(float(a) for a in reading.available.values())
    # eight significant digits of the largest level sum: a share rule Σ (g − s) x ≥ 0 can miss 0 by 10⁻⁶
    assert rc.violations(reading, levels, split, money_tolerance=0.01 + 1e-7 * largest,
                         entry_tolerance=1e-7 * max(1.0, sum(abs(x) for x in levels.values()))) == []
    assert close(rc.integrations(reading, levels), value, 1e-7)
    if not close(highs.integrations, value, 1e-6):
        assert value < highs.integrations, (highs.integrations, value)  # never above the optimum
        outcomes["CBC stops short"] += 1
        assert_cbc_short_never_reaches_the_user(problem, highs)
        return
    cbc = optimise(problem, solver="cbc")
    assert cbc.plan.levels.to_dict() == highs.plan.levels.to_dict()


# ----- 2. the optimum is at least any feasible plan -----


def random_plans(problem, seed_: int, n: int = 3) -> list[pd.Series]:
    """Random levels within the bounds, toward the minimums (so that some plans fit the money)."""
    inst = problem.instruments
    lower, upper = inst["lower"], inst["upper"]
    rng = np.random.default_rng(seed_)
    return [lower + t * rng.uniform(0, 1, len(inst)) * (upper - lower)
            for t in rng.choice([0.0, 0.02, 0.1, 0.3, 1.0], size=n)]


def exchanges(problem, optimum: pd.Series, most: int = 6) -> list[pd.Series]:
    """Plans next to the optimum: money moved from one instrument to another paid by the same pools with
    more integrations per euro — all the room there is, and a hundredth of it (budget-neutral). At an
    optimum some other rule must forbid each such move. The ``most`` largest gains, two plans each."""
    inst = problem.instruments
    coef = problem.marginal_rates(optimum)  # the rate of each row's last entries: where an exchange pays
    pools = {i: tuple(sorted(p for ps in g["pools"] for p in ps)) for i, g in problem.costs.groupby("instrument")}
    cost = inst["unit_cost"]
    movable = [i for i in inst.index if not inst.at[i, "fixed"] and cost[i] > 0 and i in pools]
    moves = []
    for give in movable:
        for take in movable:
            if give == take or pools[give] != pools[take]:
                continue
            gain = coef[take] / cost[take] - coef[give] / cost[give]  # integrations per euro moved
            rate = cost[give] / cost[take]  # entries of `take` per entry of `give`
            room = min(optimum[give] - inst.at[give, "lower"], (inst.at[take, "upper"] - optimum[take]) / rate)
            if gain > 0 and room > 0:
                moves.append((gain * room * cost[give], give, take, rate, room))
    plans = []
    for _, give, take, rate, room in sorted(moves, reverse=True)[:most]:
        for moved in (room, room / 100):
            levels = optimum.copy()
            levels[give] -= moved
            levels[take] += moved * rate
            plans.append(levels.clip(inst["lower"], inst["upper"]))
    return plans


def holds_exactly(problem, solution) -> bool:
    """Does a plan keep every rule without the checker's tolerances? All checks ok, slack ≥ 0 on entries,
    places and coverage rules (the checker allows 1e-6), and every pool and cap holds its exact euros
    (the checker compares rounded cents; 1e-7 € for float noise)."""
    checks = solution.checks
    if not checks["ok"].all():
        return False
    rules = checks[~checks["unit"].str.startswith("€")]
    if (rules["slack"] < 0).any():
        return False
    levels = solution.plan.levels
    used = {pid: 0.0 for pid in problem.pools.index}
    for c in problem.costs.itertuples(index=False):
        if len(c.pools) == 1:
            used[c.pools[0]] += float(levels[c.instrument]) * float(c.per_unit)
        else:
            for pid in c.pools:
                used[pid] += solution.plan.split.get((c.instrument, c.component, pid), 0.0)
    if any(used[pid] > float(pool["available"]) + 1e-7 for pid, pool in problem.pools.iterrows()):
        return False
    cost = problem.instruments["unit_cost"]
    return all(sum(float(levels[i]) * float(cost[i]) for i in cap.instruments) <= cap.limit + 1e-7
               for cap in problem.caps)


def test_optimum_is_at_least_every_feasible_plan():
    """Random plans and exchanges next to the optimum are evaluated with optalloc.solving.solve.evaluate; any that
    holds every rule exactly (holds_exactly) has at most the optimum's integrations, within 1e-9 relative.
    A model without a plan admits no such plan."""
    outcomes = Outcomes()

    @props(15)
    @example(NEAR_TIE, 0)
    @given(models(cap=CAPS), st.integers(0, 2**32 - 1))
    def run(pair, seed_):
        problem = problem_of(pair)
        solution = solve(problem, outcomes)
        plans = random_plans(problem, seed_)
        if solution is not None:
            plans += exchanges(problem, solution.plan.levels)
        for levels in plans:
            other = evaluate(problem, levels)
            if not holds_exactly(problem, other):
                continue
            outcomes["feasible plans compared"] += 1
            assert solution is not None, "optimise found no plan, but this one holds every rule:\n" + levels.to_string()
            assert solution.integrations >= other.integrations - 1e-9 * max(1.0, abs(solution.integrations)), (
                f"optimum {solution.integrations!r} < feasible plan {other.integrations!r}:\n{levels.to_string()}")

    run()
    outcomes.at_most_infeasible(0.75, 4)
    assert outcomes["feasible plans compared"] >= outcomes["continuous solved"], dict(outcomes)


# ----- 3. more money never lowers the optimum -----


def test_more_budget_never_lowers_the_optimum():
    """The new-business budget at several multiples of the model's (optalloc.analyses.sweeps.with_budget): the
    optimum does not fall as money grows (tolerance 1e-9 relative), and a feasible level stays feasible."""
    outcomes = Outcomes()

    @props(15)
    @given(models(cap=CAPS), st.lists(st.sampled_from([0.0, 0.5, 0.9, 0.99, 1.01, 1.1, 2.0]) | st.floats(0, 3),
                                      min_size=2, max_size=4, unique=True))
    def run(pair, factors):
        problem = problem_of(pair)
        base = float(problem.pools.loc[~problem.pools["earmarked"].astype(bool), "available"].iloc[0])
        values = []
        for f in sorted(factors):
            solution = solve(with_budget(problem, round(base * f, 2)), outcomes)
            values.append(None if solution is None else solution.integrations)
        for a, b in zip(values, values[1:]):
            if a is not None:
                assert b is not None, f"feasible at a lower budget, infeasible at a higher one: {values}"
                assert b >= a - 1e-9 * max(1.0, abs(a)), values
                outcomes["pairs compared"] += 1

    run()
    outcomes.at_most_infeasible(0.85, 5)  # a budget of 0–0.9 × the model's often has no plan
    assert outcomes["pairs compared"] >= 4, dict(outcomes)


# ----- 4. CBC where it falls short of the optimum (property 1 compares the two solvers) -----


def assert_cbc_short_never_reaches_the_user(problem, highs) -> None:
    """Where CBC's own optimum falls short, ``optimise(solver="cbc")`` refuses it (the cross-check's SolverError)
    or returns the plan on HiGHS's optimal face — never CBC's lesser plan."""
    try:
        cbc = optimise(problem, solver="cbc")
    except SolverError as err:
        assert "CBC and HiGHS disagree on the optimum" in str(err)
        return
    assert cbc.plan.levels.to_dict() == highs.plan.levels.to_dict()


def test_cbc_stops_short_on_a_badly_scaled_objective():
    """Found by the property above: CBC's own optimum falls 5 × 10⁻⁵ short of HiGHS's and the raw LP's. The
    cross-check in solve.py lets it pass (its 10⁻⁶ is taken on the scaled objective, worth 0.012 integrations
    here; reported) and the plan comes from HiGHS's optimal face."""
    problem = problem_of(CBC_STOPS_SHORT)
    lp = first_pass(problem, "cbc")
    reading = raw_reading(CBC_STOPS_SHORT)
    best = rc.optimum(rc.linear_program(reading), reading).value
    highs = optimise(problem)
    assert highs.integrations == pytest.approx(best, rel=1e-9)
    assert float(lp.integrations.value()) < best * (1 - 1e-5)
    assert_cbc_short_never_reaches_the_user(problem, highs)


# ----- 5. the same input gives the same plan -----


def test_same_input_gives_the_same_plan():
    """Levels and pool split identical (==) from two solves of one problem and a solve of the problem built
    again from a copy of the dicts; continuous and integer mode."""
    outcomes = Outcomes()

    @props(10)
    @given(models(cap=CAPS))
    def run(pair):
        first, again = problem_of(pair), problem_of(copy.deepcopy(pair))
        for integer in (False, True):
            plans = [solve(p, outcomes, integer=integer) for p in (first, first, again)]
            if plans[0] is None:
                assert all(p is None for p in plans)
                continue
            for other in plans[1:]:
                assert other.plan.levels.to_dict() == plans[0].plan.levels.to_dict()
                assert dict(other.plan.split) == dict(plans[0].plan.split)

    run()
    outcomes.at_most_infeasible(0.75, 8)  # three solves per example
    outcomes.at_most_infeasible(0.75, 8, "whole lots")


# ----- 6. money: whole cents that add up, and no pool overspent -----


def _cents_of(values: pd.Series) -> list[int]:
    """Euro figures of a report column (NaN: no money) as cents; each must be a whole number of cents."""
    out = []
    for v in values.dropna():
        c = round(v * 100)
        # cents / 100 read back × 100: exact but for the float's last bits (2e-6 at 136 million €)
        assert abs(v * 100 - c) < max(1e-6, 8 * np.finfo(float).eps * abs(v * 100)), f"{v!r} € is not a whole number of cents"
        out.append(c)
    return out


def test_money_is_whole_cents_that_add_up():
    """Every money column of budget_table, instrument_table and area_table (optimal plan beside the official
    one) holds whole cents; each table's rows add up to the plan's total cents, as does the summary's new
    money. Each pool's printed use and what is left are the raw reading's: its money rounded half up to the
    cent, and the whole cents it makes available less that. No pool of the optimum is overspent. The official
    plan may overspend; its columns must still add up."""
    outcomes = Outcomes()

    @props(20)
    @given(models(cap=CAPS))
    def run(pair):
        problem, reading = problem_of(pair), raw_reading(pair)
        solution = solve(problem, outcomes, reading)
        if solution is None:
            return
        base = official(problem)
        budget = reports.budget_table(solution, base)
        instruments = reports.instrument_table(solution, base)
        areas = reports.area_table(solution, base)
        summary = reports.summary(solution, base)
        new_money = next(label for label in summary.index if label.startswith("new money"))
        for sol, suffix in ((solution, "plan"), (base, "official")):
            cents = money_cents(problem, sol.plan)
            total = int(cents["cents"].sum())
            used = _cents_of(budget[f"used_{suffix}"])
            assert sum(used) == total
            assert sum(_cents_of(instruments[f"money_{suffix}"])) == total
            assert sum(_cents_of(areas[f"money_{suffix}"])) == total
            assert round(summary.at[new_money, suffix] * 100) == total
            raw_used = rc.pool_cents(reading, sol.plan.levels.to_dict(), dict(sol.plan.split))
            raw_available = rc.available_cents(reading)
            for pid, printed_used, printed_left in zip(budget.index, used, _cents_of(budget[f"left_{suffix}"])):
                assert printed_used == raw_used[pid], (pid, suffix)
                assert printed_left == raw_available[pid] - raw_used[pid], (pid, suffix)
                if sol is solution:
                    assert raw_used[pid] <= raw_available[pid], pid
            outcomes["compared"] += 1

    run()
    outcomes.at_most_infeasible(0.75, 5)
    assert outcomes["compared"] >= outcomes["continuous solved"], dict(outcomes)


# ----- 7. rates near zero: scaling every rate does not change the plan -----


def test_rates_near_zero_give_the_plan_of_scaled_rates():
    """Rates in [1e-6, 1e-4] and costs in euros, against the same model with every rate × 1e3: scaling the
    objective does not move the argmax. Tolerances: each level within 1e-6 × max(1, |level|); integrations
    × 1e3 within 1e-6 relative; both infeasible or neither. (× 1e3 keeps every scaled rate, and the first
    entries' rate of a diminishing response, below 1, where the response is capped: the cap is a rule of
    the model, not of scaling.)"""
    outcomes = Outcomes()

    @props(20)
    @given(tiny_rate_models(cap=CAPS))
    def run(pair):
        model, rates = pair
        low = problem_of(pair)
        high = problem_of(scale_rates(model, rates, 1e3))
        a, b = solve(low, outcomes), solve(high, Outcomes())
        assert (a is None) == (b is None)
        if a is None:
            return
        for iid in low.instruments.index:
            x, y = float(a.plan.levels[iid]), float(b.plan.levels[iid])
            assert abs(x - y) <= 1e-6 * max(1.0, abs(x), abs(y)), (iid, x, y)
        assert close(a.integrations * 1e3, b.integrations, 1e-6)

    run()
    outcomes.at_most_infeasible(0.75, 5)


# ----- the hand-made models on their own -----


def test_zero_rate_prepaid_row_solves_on_cbc():
    highs, cbc = optimise(problem_of(ZERO_RATE_PREPAID)), optimise(problem_of(ZERO_RATE_PREPAID), solver="cbc")
    assert highs.plan.levels.to_dict() == cbc.plan.levels.to_dict() == {"asa": 48.0}


def test_integer_optimum_with_lots_near_a_tie():
    solution = optimise(problem_of(INTEGER_LOT_TOLERANCE), integer=True)
    assert_agrees_with_the_raw_reading(raw_reading(INTEGER_LOT_TOLERANCE), solution, integer=True)


@pytest.mark.parametrize("pair, solver", [
    pytest.param(TWO_POOLS_BILLION, "highs", id="two-pools-highs"),
    pytest.param(TWO_POOLS_BILLION, "cbc", id="two-pools-cbc"),
    pytest.param(SPLIT_BILLION, "highs", id="split-highs"),
    pytest.param(SPLIT_BILLION, "cbc", id="split-cbc"),
])
def test_budgets_near_a_billion_solve(pair, solver):
    """Beyond the generator's range but within the schema's (money up to 1e10 €): the optimum exists, keeps
    every rule of the raw reading and is its optimum."""
    solution = optimise(problem_of(pair), solver=solver)
    assert_agrees_with_the_raw_reading(raw_reading(pair), solution, integer=False)


def test_an_info_row_counted_in_another_row_keeps_its_entries_in_the_plan():
    """Model header: `info` rows are "shown for information only; counted elsewhere or not counted at all",
    `entries_in` says a row's entries "are part of another row's printed entries". The host plans them all."""
    problem = problem_of(INFO_COUNTED_ELSEWHERE)
    reading = rc.read(INFO_COUNTED_ELSEWHERE[0], rates=INFO_COUNTED_ELSEWHERE[1])
    assert reading.rows["host"].official == 219
    assert problem.instruments.at["host", "official"] == 219


def test_a_subnormal_rate_builds_and_solves():
    """A largest rate of 2.2e-309 (subnormal: its inverse overflows) once crashed build_lp ("Cannot multiply variables
    with NaN/inf values"). ``load`` refuses such rates (every rate below MIN_RATE); built directly, the model
    solves and its plan keeps every raw rule."""
    pair = (_model([_row("a", 10, 1000.0, rate_class="c1"), _row("b", 10, 1000.0)], 15000.0),
            _rates(c0=0.0, c1=2.2e-309))
    solution = optimise(problem_of(pair))
    reading = raw_reading(pair)
    assert rc.violations(reading, solution.plan.levels.to_dict(), dict(solution.plan.split)) == []


# ----- the generator: in-memory specs equal what load_model reads from the written files -----


@props(10)
@given(models())
def test_generated_models_load_from_yaml_files_as_in_memory(tmp_path_factory, pair):
    model, rates = pair
    written = load_written(tmp_path_factory.mktemp("model"), model, rates)
    assert written.model == spec_of(model, rates).model
    assert written.rates == spec_of(model, rates).rates


def test_a_level_in_no_row_reaches_explain_and_the_sweep():
    """A prepaid row with no rate that no rule names (ZERO_RATE_PREPAID beside a row bought with new money): its
    level is in no constraint and earns nothing, yet the explanation and the sweep read it like any other."""
    from optalloc.analyses.explanation import explain
    from optalloc.analyses.sweeps import levels_of, sweep_budget

    pair = (_model([_row("asa", 48, financing="prepaid"), _row("a", 10, 1000.0, rate_class="c1")], 1500.0),
            _rates(c0=0.0, c1=0.5))
    problem = problem_of(pair)
    why = explain(problem)
    assert "a" in why.instruments.index and "asa" not in why.instruments.index
    swept = sweep_budget(problem, levels_of(problem, "50%:100%", 3))
    assert list(swept.entries["asa"]) == [48.0, 48.0, 48.0]
    assert swept.curve["integrations"].iloc[-1] == pytest.approx(optimise(problem).integrations, rel=1e-12)
