"""Mutation testing of optalloc's core modules: do the tests notice a small bug?

    nice -n 19 .venv/bin/python benchmarks/mutation.py [--sample 300] [--seed 2016] [--timeout 60]
        [--scratch /tmp/mut] [--report docs/mutation-report.md] [--modules budget,lp,...] [--list]

The script copies the repository (optalloc/, tests/, models/, scenarios/, cli.py; not .git, .venv or the
notebooks) to a scratch folder and mutates only that copy, one mutant at a time: the working tree is never
touched. A mutant is one small change made on the syntax tree of a core module (budget, problem, lp, solve,
plan, scenarios, explanation, sweeps):

- an arithmetic operator swapped (+ ↔ −, × ↔ ÷), a term dropped (a + b → a, a − b → a),
- a comparison flipped (< ↔ ≤, > ↔ ≥, == ↔ !=), ``and`` ↔ ``or``, a ``not`` dropped, a unary minus dropped,
- a number tweaked (0 → 1, 1 → 0 or 2, n → n + 1, x → 1.1 x), True ↔ False.

Docstrings, f-string parts and lines marked ``# pragma: no mutate`` are left alone. From all sites a seeded
sample is drawn; each mutant runs the fast tests of its module (:data:`TESTS`, a few seconds each, ``pytest
-x``) with a time limit, in a fresh process. Killed: a test failed, or the run hit the time limit or crashed.
Survived: every test passed. The report lists the score, every survivor with its place and change, and
the time; :data:`EQUIVALENT` names the survivors that cannot change any result, each with the reason, and
they count apart from the score. One worker, meant to run niced in the background on a shared machine:
300 mutants take about half an hour on two cores.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ("budget", "problem", "lp", "solve", "plan", "scenarios", "explanation", "sweeps")
COPIED = ("optalloc", "tests", "models", "scenarios", "cli.py", "pyproject.toml")

# The fast tests that guard each module (pytest node ids or files), a few seconds per run.
CERTIFICATE = ["tests/test_certificate.py::test_optalloc_plan_is_certified_optimal_by_the_raw_dual",
               "tests/test_certificate.py::test_optalloc_shadow_prices_are_a_dual_certificate",
               "tests/test_certificate.py::test_golden_gross_optimum",
               "tests/test_certificate.py::test_other_objectives_are_certified",
               "tests/test_certificate.py::test_scenario_optima_are_certified"]
READINGS = ["tests/test_certificate.py::test_the_two_readings_agree_on_generated_models",
            "tests/test_scenarios.py::test_every_scenario_reads_alike_in_both_readings"]
OFFICIAL = ["tests/test_optimise.py::test_official_plan_is_feasible_and_keeps_its_unplanned_money_as_the_reserve",
            "tests/test_optimise.py::test_official_plan_money_reproduces_every_printed_row",
            "tests/test_optimise.py::test_printed_totals_equal_the_raw_pool_money"]
SENTENCES = ["tests/test_explain.py::test_every_constraint_sentence_says_what_the_raw_lp_gives",
             "tests/test_explain.py::test_every_instrument_sentence_says_what_the_raw_lp_gives"]
TESTS: dict[str, list[str]] = {
    "budget": ["tests/test_model_reconciles.py::test_budget_derivation_golden_figures",
               "tests/test_scenarios.py::test_cut_share_is_booked_to_the_cent_and_takes_the_reserve_first",
               "tests/test_scenarios.py::test_a_scenario_applied_twice_counts_twice",
               *OFFICIAL, *CERTIFICATE, *READINGS,
               "tests/test_certificate.py::test_the_reserve_of_programmes_with_and_without_co_funding_is_read_alike",
               "tests/test_certificate.py::test_a_new_business_pool_planned_at_a_share_is_read_alike"],
    "problem": [*OFFICIAL, *CERTIFICATE, *READINGS, "tests/test_scenarios.py::test_instrument_changes",
                "tests/test_scenarios.py::test_every_bound_says_where_it_comes_from",
                "tests/test_scenarios.py::test_priorities_weigh_group_integrations",
                "tests/test_certificate.py::test_marginal_rates_are_the_raw_responses_last_entries",
                "tests/test_certificate.py::test_integrations_by_row_are_the_raw_weighted_responses",
                "tests/test_certificate.py::test_a_row_fixed_at_a_whole_number_of_lots_is_read_alike",
                "tests/test_certificate.py::test_a_row_without_planned_entries_priced_by_its_unit_cost_is_read_alike",
                *SENTENCES, "tests/test_money_only.py",
                "tests/test_certificate.py::test_a_programme_row_with_a_vbl_part_is_refused",
                "tests/test_hostile.py::test_rates_that_count_nothing_name_the_rates_file_and_the_scenarios"],
    "lp": [*CERTIFICATE, "tests/test_optimise.py::test_least_money_keeps_the_optimum_and_spends_no_more",
           "tests/test_optimise.py::test_least_money_leaves_a_reserve_when_the_budget_does_not_bind",
           "tests/test_certificate.py::test_a_row_fixed_at_a_whole_number_of_lots_is_read_alike",
           "tests/test_optimise.py::test_equally_good_rows_go_to_the_earlier_row",
           "tests/test_optimise.py::test_a_shared_cost_below_a_euro_is_paid_in_the_cents_the_pools_give",
           "tests/test_scenarios.py::test_the_official_plan_breaks_what_the_raw_reading_says",
           "tests/test_explain.py::test_minimums_that_cost_more_than_the_budget_name_the_shortfall",
           "tests/test_optimise.py::test_reduced_cost_matches_a_finite_difference", *SENTENCES,
           "tests/test_properties.py::test_zero_rate_prepaid_row_solves_on_cbc",
           "tests/test_properties.py::test_integer_optimum_with_lots_near_a_tie",
           "tests/test_properties.py::test_budgets_near_a_billion_solve",
           "tests/test_properties.py::test_a_level_in_no_row_reaches_explain_and_the_sweep",
           "tests/test_explain.py::test_a_maximum_below_a_stated_decision_is_fixed_by_raising_the_maximum"],
    "solve": [*CERTIFICATE, *OFFICIAL, "tests/test_optimise.py::test_cbc_own_optimum_equals_highs_optimum",
              "tests/test_optimise.py::test_a_cbc_whole_entry_answer_more_than_its_gap_below_highs_is_refused",
              "tests/test_optimise.py::test_least_money_leaves_a_reserve_when_the_budget_does_not_bind",
              "tests/test_optimise.py::test_same_input_gives_the_same_plan",
              "tests/test_certificate.py::test_the_two_readings_agree_on_generated_models",
              "tests/test_certificate.py::test_a_row_fixed_at_a_whole_number_of_lots_is_read_alike",
              "tests/test_optimise.py::test_cbc_through_optimise_gives_the_highs_plan",
              "tests/test_optimise.py::test_least_money_keeps_the_optimum_and_spends_no_more",
              "tests/test_optimise.py::test_equally_good_rows_go_to_the_earlier_row",
              "tests/test_api.py::test_api_round_trip_returns_tables",
              "tests/test_properties.py::test_integer_optimum_with_lots_near_a_tie",
              "tests/test_properties.py::test_zero_rate_prepaid_row_solves_on_cbc",
              "tests/test_properties.py::test_budgets_near_a_billion_solve",
              "tests/test_properties.py::test_cbc_stops_short_on_a_badly_scaled_objective",
              "tests/test_optimise.py::test_cbc_own_whole_entry_plan_is_within_its_gap_of_highs",
              "tests/test_optimise.py::test_the_library_prints_nothing",
              "tests/test_optimise.py::test_least_money_leaves_a_reserve_when_the_budget_does_not_bind",
              "tests/test_optimise.py::test_money_for_fewer_entries_than_either_row_allows_goes_to_the_earlier_row",
              "tests/test_optimise.py::test_least_money_is_kept_through_the_tie_break",
              "tests/test_optimise.py::test_cbc_reports_the_prices_of_highs_row_by_row",
              "tests/test_alternatives.py::test_a_frontier_step_does_not_claim_the_least_money"],
    "plan": ["tests/test_optimise.py::test_money_rounds_half_up_to_the_cent",
             "tests/test_optimise.py::test_a_pool_of_fractional_cents_prints_its_total_rounded_half_up",
             "tests/test_optimise.py::test_a_shared_cost_below_a_euro_is_paid_in_the_cents_the_pools_give",
             *OFFICIAL, "tests/test_api.py::test_api_round_trip_returns_tables",
             "tests/test_certificate.py::test_the_two_readings_agree_on_generated_models"],
    "scenarios": ["tests/test_scenarios.py::test_cut_share_is_booked_to_the_cent_and_takes_the_reserve_first",
                  "tests/test_scenarios.py::test_scenarios_compose_in_order",
                  "tests/test_scenarios.py::test_a_scenario_applied_twice_counts_twice",
                  "tests/test_scenarios.py::test_the_official_plan_breaks_what_the_raw_reading_says",
                  "tests/test_scenarios.py::test_instrument_changes",
                  "tests/test_scenarios.py::test_priorities_weigh_group_integrations",
                  "tests/test_scenarios.py::test_every_scenario_reads_alike_in_both_readings",
                  "tests/test_scenarios.py::test_a_scenario_beyond_what_is_allowed_is_refused",
                  "tests/test_scenarios.py::test_a_scenario_at_the_edges_of_what_is_allowed_is_read",
                  "tests/test_scenarios.py::test_an_unknown_id_is_named_with_what_it_should_be",
                  "tests/test_scenarios.py::test_every_bound_says_where_it_comes_from",
                  "tests/test_certificate.py::test_scenario_optima_are_certified",
                  "tests/test_scenarios.py::"
                  "test_a_scenario_that_raises_a_row_without_a_price_above_its_printed_entries_is_refused"],
    "explanation": [*SENTENCES, "tests/test_explain.py::test_every_range_clause_matches_what_a_rate_can_reach",
                    "tests/test_explain.py::test_every_rate_range_keeps_the_plan_optimal_inside_and_not_outside",
                    "tests/test_explain.py::test_every_cost_range_keeps_the_mix_inside_and_not_outside",
                    "tests/test_explain.py::test_explain_prints_nothing", "tests/test_money_only.py",
                    "tests/test_explain.py::test_the_rows_the_budget_sentence_names_sit_between_their_bounds",
                    "tests/test_explain.py::test_rate_range_of_an_instrument_at_its_minimum_agrees_with_re_solving",
                    "tests/test_explain.py::test_rate_range_of_an_instrument_at_its_maximum_agrees_with_re_solving",
                    "tests/test_explain.py::test_a_one_sided_shadow_price_is_said_so",
                    "tests/test_explain.py::test_coverage_share_price_agrees_with_re_solving"],
    "sweeps": ["tests/test_optimise.py::test_the_sweep_starts_at_the_raw_least_money_and_ends_at_110_percent",
               "tests/test_optimise.py::test_every_sweep_point_is_the_raw_optimum_at_its_budget",
               "tests/test_optimise.py::test_the_cut_order_follows_from_the_swept_levels",
               "tests/test_optimise.py::test_budget_ranges_in_percent_and_euros_are_the_raw_pools_share",
               "tests/test_optimise.py::test_a_sweep_of_exactly_the_most_levels_allowed_is_accepted",
               "tests/test_sweep.py::test_fast_path_equals_the_rebuild_loop",
               "tests/test_sweep.py::test_the_least_budget_is_the_edge_of_feasibility",
               "tests/test_sweep.py::test_cut_order_ranks_first_cut_first",
               "tests/test_sweep.py::test_fbw_is_held_by_the_documents_decisions",
               "tests/test_sweep.py::test_curve_rises_and_flattens",
               "tests/test_sweep.py::test_fast_path_equals_full_solves_point_by_point",
               "tests/test_sweep.py::test_sweep_with_infeasible_levels_diagnoses_and_exits_3",
               "tests/test_sweep.py::test_a_tie_at_a_swept_budget_goes_to_the_earlier_rows",
               "tests/test_sweep.py::test_a_row_that_falls_and_rises_as_money_grows_goes_up_and_down"],
}

# Survivors that cannot change any result, by (module, line text stripped, change): the reason for each.
# Keyed by the line's text, not its number, so that edits elsewhere in a module keep the entry.
TOLERANCE = "a tolerance 10 % wider or narrower: no figure of the data or the tests falls in between"
WARM = "only the basis handed to the next solve as its start: the optimum and its tie-break are the same"
EQUIVALENT: dict[tuple[str, str, str], str] = {
    ("problem", 'components.append(((r.new_funds or 0) / (r.entries or 1), tuple(r.pools or ()), "programme"))',
     "0 → 1"):
        "a programme row always has new_funds above 0 (the schema asks for money and refuses a VBL part there), so "
        "'or 0' is never reached (killed in the third rerun by a test of a VBL-only programme row, which the schema "
        "refuses since)",
    ("budget", "@dataclass(frozen=True)", "True → False"):
        "frozen only forbids assignment, and nothing assigns to the budget's figures",
    ("plan", "@dataclass(frozen=True)", "True → False"):
        "frozen only forbids assignment, and nothing assigns to a Plan",
    ("budget", "places = sum(Decimal(str(r.places if r.places is not None else r.entries or 0))", "0 → 1"):
        "differs only for a programme row of 0 entries without places; a programme row needs money and entries",
    ("problem", "elif lower > upper:", "'>' → '>='"):
        "with lower = upper the upper bound is set to the value it has; only the name of its source could change",
    ("problem", "kink = bool(np.any(np.abs(ends - level) <= tolerance) and level > tolerance)", "'>' → '>='"):
        "differs only for a level exactly equal to the tolerance",
    ("problem", "following = rates[above[0]] if len(above) else rates[-1]", "1 → 0"):
        "unreachable: the last segment of a response is open-ended, so one always ends above the level",
    ("problem", '"rate_low": _rate_low(spec, r, basis) / (1000.0 if unit == "euros" else 1.0) if valued else 0.0,',
     "0.0 → 1"):
        "the low end of a money line without a rate: such a line is fixed in euros and has no response or range",
    ("problem", "points = sorted({p for p in points if p < at_floor - 1e-12} | {at_floor})",
     "'a - b' → 'a' (term dropped)"):
        "a breakpoint within 10⁻¹² of the floor then adds a segment narrower than 10⁻¹² of the plan: no figure moves",
    ("problem", 'seats, unit, what = float(r.places or 0), "posts", "posts at employers"', "0 → 1"):
        "unreachable: the schema refuses a 'capacity: posts' row without printed places",
    ("problem", 'seats, unit, what = float(r.places or 0), "places", "contracted places"', "0 → 1"):
        "unreachable: the schema refuses a 'capacity: places' row without printed places",
    ("lp", "1.0, segments)", "1.0 → 0"):
        "the scale of the money-rows-only LP (pay) is never read: pay sets its own objective and reads no duals",
    ("lp", "1.0, segments)", "1.0 → 2"):
        "the scale of the money-rows-only LP (pay) is never read: pay sets its own objective and reads no duals",
    ("lp", 'RowInfo("places", "places", f"places of {\', \'.join(lim.instruments)}", lim.id.split(":", 1)[1], "<=", '
           'lim.max_places))', "1 → 2"):
        "at most 2 splits instead of 1 of an id with one colon ('places:<pool>'): the same parts",
    ("solve", "least_money: bool = False", "False → True"):
        "the default is never used where it is read: optimise passes least_money, and nothing reads it elsewhere",
    ("solve", "_banner_done = True", "True → False"):
        "HiGHS's banner is then silenced before every solve instead of once: the same output, more work",
    ("solve", "if abs(float(c.pi or 0.0)) > DUAL_TOLERANCE:", "'>' → '>='"):
        "differs only for a dual exactly equal to the tolerance",
    ("solve", "overspend = 1000.0 * (float(rank.max()) + 2.0)  # dearer than any choice between pools",
     "1000.0 → 1100.0"):
        "any price of overspending above the dearest choice between pools gives the same split",
    ("solve", "overspend = 1000.0 * (float(rank.max()) + 2.0)  # dearer than any choice between pools", "2.0 → 2.2"):
        "any price of overspending above the dearest choice between pools gives the same split",
    ("solve", "elif abs(x - hi) <= 1e-9 * max(1.0, abs(hi)):", "'*' → '/'"):
        "snapping a level onto its maximum: without it the level stays within the solver's 10⁻⁹ of it, and every "
        "printed figure and every check rounds the same",
    ("solve", "elif abs(x - hi) <= 1e-9 * max(1.0, abs(hi)):", "'-' → '+'"):
        "snapping a level onto its maximum: without it the level stays within the solver's 10⁻⁹ of it, and every "
        "printed figure and every check rounds the same",
    ("solve", "elif abs(x - hi) <= 1e-9 * max(1.0, abs(hi)):", "1.0 → 2"): TOLERANCE,
    ("solve", "at_bound = (v.lowBound is not None and abs(x - v.lowBound) <= 1e-9) or \\",
     "1e-09 → 1.1000000000000001e-09"): TOLERANCE,
    ("solve", "if spent - least >= max(1.0, 1e-8 * spent):", "1e-08 → 1.1000000000000001e-08"): TOLERANCE,
    ("solve", "if at_bound and abs(float(v.dj or 0.0)) <= DUAL_TOLERANCE:", "0.0 → 1"):
        "a reduced cost is missing only for a variable in no row, and those are fixed: skipped just before",
    ("plan", "for c in problem.costs.itertuples(index=False):", "False → True"):
        "the rows are read by field name, which the index column does not change",
    ("plan", "shares = [x / whole for x in parts] if whole > 0 else [1.0] + [0.0] * (len(parts) - 1)", "1.0 → 2"):
        "the pools' parts add up to 0 only where the cost is 0 (pay splits every cost in full): 2 × 0 = 0",
    ("sweeps", "tol = 1e-12", "1e-12 → 1.1000000000000002e-12"): TOLERANCE,
    ("sweeps", "movable = col_hi - col_lo > 1e-12", "1e-12 → 1.1000000000000002e-12"): TOLERANCE,
    ("sweeps", "movable = col_hi - col_lo > 1e-12", "'>' → '>='"):
        "differs only for a column whose bounds are exactly 10⁻¹² apart",
    ("sweeps", "at_bound = (np.abs(x - col_lo) <= 1e-9) | (np.abs(x - col_hi) <= 1e-9)",
     "1e-09 → 1.1000000000000001e-09"): TOLERANCE,
    ("sweeps", "self.progress(k + 1, n)", "'a + b' → 'a' (term dropped)"):
        "only what a progress display is told (the CLI's counter); no result",
    ("sweeps", "self.progress(k + 1, n)", "1 → 0"): "only what a progress display is told (the CLI's counter); no result",
    ("scenarios", "max_share_of_official: Annotated[float, BeforeValidator(_number), Field(ge=1, le=100)] | None = "
                  "None", "100 → 101"): "the model's schema (schema.py) refuses the same values once the scenario is applied",
    ("scenarios", "low_end_at: Annotated[float, BeforeValidator(_number), Field(gt=1, le=10)] | None = None", "1 → 0"):
        "the model's schema (schema.py) refuses the same values once the scenario is applied",
    ("scenarios", "growth_share: Annotated[float, BeforeValidator(_number), Field(ge=0, le=10)] | None = None",
     "10 → 11"): "the model's schema (schema.py) refuses the same values once the scenario is applied",
    ("lp", "if len(rates) == 1 and starts[0] == 0.0:  # constant rate: the level itself carries it (the first form)",
     "0.0 → 1"): "a constant rate is then carried by one response segment from 0 instead of by the level: the same "
                 "LP up to a renamed column (and the dual certificate of optalloc's prices still holds)",
    ("solve", "spent = float(pulp.value(lp.money) or 0.0)", "0.0 → 1"):
        "the money is missing only for a plan that spends nothing; the least money is then 0 either way",
    ("sweeps", "falls_and_rises = bool((steps < -tol).any() and (steps > tol).any())", "'<' → '<='"):
        "differs only for a step of exactly the tolerance",
    ("problem", "@dataclass(frozen=True)", "True → False"):
        "frozen only forbids assignment, and nothing assigns to these records",
    ("problem", "if z >= at_floor - 1e-12:", "'a - b' → 'a' (term dropped)"):
        "a breakpoint within 10⁻¹² of the floor: a segment narrower than 10⁻¹² of the plan, no figure moves",
    ("problem", "points = sorted({p for p in points if p < at_floor - 1e-12} | {at_floor})",
     "1e-12 → 1.1000000000000002e-12"): TOLERANCE,
    ("problem", 'if r.capacity == "posts" or share >= 1:', "'>=' → '>'"):
        "with an extension share of exactly 1 the contract's floor is 0 entries, which every level keeps",
    ("problem", 'sign = 1.0 if side == "upper" else -1.0', "1.0 → 2 (2nd on the line)"):
        "twice the sign on the lower side only moves the 10⁻⁹ tolerance of two comparisons: " + TOLERANCE,
    ("problem", "def _bounds(spec: Spec, r: Instrument, official: float, at: str, money_line: bool = False) -> "
                "tuple[float, float, str, str]:", "False → True"):
        "the default is never used: the only call passes money_line",
    ("lp", "return self.integrations * (1.0 / self.scale)", "1.0 → 2"):
        "the same factor on both sides wherever the scaled objective is used (the optimum kept as a row, the "
        "cross-check of CBC); only the figures of an error message would double",
    ("lp", "money = pulp.LpAffineExpression([(level[i], float(unit_cost[i])) for i in inst.index if unit_cost[i] "
           "!= 0.0])", "0.0 → 1"):
        "leaves out the rows at 1 € per unit: money lines, fixed, a constant in what the least-money pass minimises",
    ("lp", "if len(rates) == 1 and starts[0] == 0.0:  # constant rate: the level itself carries it (the first form)",
     "1 → 0"): "a constant rate is then carried by one response segment from 0 instead of by the level: the same LP "
               "up to a renamed column",
    ("lp", "if len(rates) == 1 and starts[0] == 0.0:  # constant rate: the level itself carries it (the first form)",
     "1 → 2"): "a constant rate is then carried by one response segment from 0 instead of by the level: the same LP "
               "up to a renamed column",
    ("lp", "if upper - lower > 1e-12:", "'>' → '>='"): "differs only for bounds exactly 10⁻¹² apart",
    ("lp", "if upper - lower > 1e-12:", "1e-12 → 1.1000000000000002e-12"): TOLERANCE,
    ("solve", "CBC_MIP_SECONDS = 120", "120 → 121"): "a time limit a second longer: no run comes near it",
    ("solve", 'if solver == "cbc" and lp.integer and time.perf_counter() - start >= CBC_MIP_SECONDS - 1:', "1 → 2"):
        "the time-out is then recognised from 118 s instead of 119 s of a 120 s limit: no run comes near it",
    ("solve", "split = {key: max(float(v.varValue or 0.0), 0.0) for key, v in lp.split.items()}", "0.0 → 1"):
        "a pool's part always reaches the solver (it is in its split row): its value is never missing",
    ("solve", "s.upBound = float(s.varValue or 0.0) + 1e-7 + 1e-9 * abs(lp.rows[name].rhs)", "0.0 → 1"):
        "a slack always reaches the solver (it is in its row): its value is never missing",
    ("solve", "ranked = sorted((float(coef[r.instrument]) / float(r.per_unit), int(inst.at[r.instrument, \"order\"]),",
     "'/' → '*'"): "which row gives up the cents a solver's tolerance overspends (below a euro): every figure stays "
                   "within the checks' cent and the optimum's 10⁻⁹",
    ("solve", "left = excess + 1e-4", "'+' → '-'"):
        "trims 10⁻⁴ € less than the overspending plus its margin of 10⁻⁴ €: the pool still fits to the cent",
    ("plan", "if len(c.pools) == 1:", "1 → 0"):
        "a cost paid by one pool then goes the way of a shared one, whose only pool takes it all: the same cents",
    ("plan", "shares = [x / whole for x in parts] if whole > 0 else [1.0] + [0.0] * (len(parts) - 1)",
     "'a - b' → 'a' (term dropped)"): "one zero share more, which zip with the pools never reads",
    ("explanation", "if abs(float(solution.duals.get(name, 0.0))) < 1e-12:", "1e-12 → 1.1000000000000002e-12"):
        TOLERANCE,
    ("explanation", 'step = 1.0 if info.unit == "€" else 0.01', "1.0 → 2"):
        "a money row's worth measured over 2 € instead of 1 €: at every binding money row of the data the optimum "
        "is linear over both",
    ("explanation", 'and levels[i] > inst.at[i, "lower"] + 1e-6 and levels[i] < inst.at[i, "upper"] - 1e-6]',
     "'>' → '>='"): "differs only for a level exactly 10⁻⁶ from its bound",
    ("explanation", 'and levels[i] > inst.at[i, "lower"] + 1e-6 and levels[i] < inst.at[i, "upper"] - 1e-6]',
     "'<' → '<='"): "differs only for a level exactly 10⁻⁶ from its bound",
    ("explanation", "return np.abs(value - low) <= tol, np.abs(value - high) <= tol", "'<=' → '<'"):
        "differs only for a value exactly at the tolerance from its bound",
    ("explanation", "last_rate, next_rate, kink = problem.rates_around(iid, x, max(1e-3, 1e-7 * abs(x)))",
     "'*' → '/'"): "the tolerance is 10⁻³ entries either way for every level below 10,000 entries (all rows of the "
                   "data; the largest is 2,724)",
    ("sweeps", "row_status[i] = lower if abs(activity[i] - row_lo[i]) <= abs(activity[i] - row_hi[i]) else upper",
     "'a - b' → 'a' (term dropped)"): WARM,
    ("sweeps", "free = (col_hi - col_lo > 1e-12) & (np.abs(col_dual) <= DUAL_TOLERANCE)", "'<=' → '<'"):
        "differs only for a reduced cost exactly equal to the tolerance",
    ("sweeps", "at_lo, at_hi = np.abs(x - col_lo) <= 1e-9, np.abs(x - col_hi) <= 1e-9", "'<=' → '<' (2nd on the line)"):
        "differs only for a value exactly 10⁻⁹ from its bound",
    ("sweeps", "at_lo, at_hi = np.abs(activity - row_lo) <= 1e-9, np.abs(activity - row_hi) <= 1e-9",
     "'<=' → '<' (2nd on the line)"): "differs only for a value exactly 10⁻⁹ from its bound",
    ("sweeps", "if np.any(free & ((at_lo & (tie_d < -tol)) | (at_hi & (tie_d > tol)))):", "'<' → '<='"):
        "differs only for a reduced cost exactly equal to the tolerance",
    ("sweeps", "return not np.any(free & ((at_lo & (tie_y < -tol)) | (at_hi & (tie_y > tol))))", "'<' → '<='"):
        "differs only for a reduced cost exactly equal to the tolerance",
    ("lp", "base = float(max((s for s in starts if s < lower - 1e-9 * max(1.0, lower)), default=0.0))",
     "'a - b' → 'a' (term dropped)"): "a segment starting within 10⁻⁹ of the lower bound: " + TOLERANCE,
    ("lp", "top = float(min((e for e in ends if e > upper + 1e-9 * max(1.0, upper)), default=math.inf))", "'>' → '>='"):
        "differs only for a segment ending exactly 10⁻⁹ above the upper bound",
    ("explanation", "if x > TOL:", "'>' → '>='"): "differs only for a level of exactly 10⁻⁹ entries",
    ("solve", "return False", "False → True"):
        "the tie-break pass then also runs where no tie exists: on an optimal face of one plan it returns that plan",
    ("sweeps", "rows = max(1, len(problem.instruments))", "1 → 0"): "a model has at least one row: max(0, n) = n",
    ("sweeps", "rows = max(1, len(problem.instruments))", "1 → 2"):
        "for a model of one row the cap is 10,000 levels either way (25,000,000 ÷ 1 or ÷ 2 is far above it)",
    ("sweeps", "cap = min(STEPS_MAX if many else STEPS_CAP, max(2, MAX_CELLS // rows))", "2 → 3"):
        "differs only for a model of more than 8.3 million rows, which the bounded reading refuses",
    ("explanation", "if rhs - activity > 1e-6 * max(1.0, abs(rhs)):", "1.0 → 2"):
        "every money row's limit is above 2 €, so max(1, |rhs|) = max(2, |rhs|) = |rhs|",
    ("explanation", 'at = "min" if abs(x - lo) <= 1e-6 else "max" if abs(x - hi) <= 1e-6 else "kink" if kink else '
                    '"between"', "1e-06 → 1.1e-06"): TOLERANCE,
    ("explanation", 'and levels[i] > inst.at[i, "lower"] + 1e-6 and levels[i] < inst.at[i, "upper"] - 1e-6]',
     "1e-06 → 1.1e-06"): TOLERANCE,
    ("explanation", "if iid not in by_row and len(curve[3]) == 1 and movable:  # a constant rate sits on the level "
                    "itself", "'and' → 'or'"):
        "a row with response segments then has its rate shifted on its level column instead of on its segments: "
        "the level is its lower end plus its segments (the response row, an equality whose dual is free), so the "
        "two shifted objectives differ by a constant on every plan and give the same range (Duisburg, concave and "
        "--linear: the same explanation to 10⁻¹⁵); a fixed row gets a range too, which explain skips",
    ("explanation", "lp_dual.a_matrix_.num_col_ = m + 1", "'a + b' → 'a' (term dropped)"):
        "Highs::passModel takes the matrix's dimensions from the LP's own num_col_ (lp.setMatrixDimensions(), in "
        "every HiGHS from 1.7, the oldest pyproject allows): what is set on the matrix is overwritten",
}


# Survivors that are not equivalent: why the tests let them through, and what would catch them.
SURVIVING: dict[tuple[str, str, str], str] = {}


@dataclass(frozen=True)
class Mutant:
    module: str
    index: int  # the site's number in the module's walk
    line: int
    text: str  # the source line, stripped
    change: str  # what the mutant does, in words: "'<' → '<='"; "(2nd)" where the line has the same change twice

    @property
    def key(self) -> tuple[str, str, str]:
        return self.module, self.text, self.change


# ----- mutation operators on the syntax tree -----

BINOP_SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
              ast.Mod: ast.Mult, ast.Pow: ast.Mult}
CMP_SWAP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
            ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**",
          ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.Is: "is",
          ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in", ast.And: "and", ast.Or: "or"}


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (left alone)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def _in_fstring(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            out.update(id(n) for n in ast.walk(node))
    return out


def _changes(node: ast.AST) -> list[tuple[str, ast.AST]]:
    """Every mutant of one node: (what changes, the replacement node)."""
    out: list[tuple[str, ast.AST]] = []
    if isinstance(node, ast.BinOp) and type(node.op) in BINOP_SWAP:
        new = copy.deepcopy(node)
        new.op = BINOP_SWAP[type(node.op)]()
        out.append((f"'{SYMBOL[type(node.op)]}' → '{SYMBOL[type(new.op)]}'", new))
        if isinstance(node.op, (ast.Add, ast.Sub)):
            out.append((f"'a {SYMBOL[type(node.op)]} b' → 'a' (term dropped)", copy.deepcopy(node.left)))
    elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in CMP_SWAP:
        new = copy.deepcopy(node)
        new.ops = [CMP_SWAP[type(node.ops[0])]()]
        out.append((f"'{SYMBOL[type(node.ops[0])]}' → '{SYMBOL[type(new.ops[0])]}'", new))
    elif isinstance(node, ast.BoolOp):
        new = copy.deepcopy(node)
        new.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        out.append((f"'{SYMBOL[type(node.op)]}' → '{SYMBOL[type(new.op)]}'", new))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
        out.append((f"'{'not' if isinstance(node.op, ast.Not) else '-'}' dropped", copy.deepcopy(node.operand)))
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
        v = node.value
        if isinstance(v, bool):
            options = [not v]
        elif v == 0:
            options = [1]
        elif v == 1:
            options = [0, 2]
        elif isinstance(v, int):
            options = [v + 1]
        else:
            options = [v * 1.1]
        for w in options:
            out.append((f"{v!r} → {w!r}", ast.copy_location(ast.Constant(w), node)))
    return out


def sites(module: str, source: str) -> list[tuple[Mutant, ast.AST, ast.AST]]:
    """Every mutation site of a module: (mutant, original node, replacement node), in walk order."""
    tree = ast.parse(source)
    skip = _docstrings(tree) | _in_fstring(tree)
    lines = source.splitlines()
    out = []
    seen: dict[tuple[int, str], int] = {}
    nodes = sorted((n for n in ast.walk(tree) if hasattr(n, "lineno") and id(n) not in skip),
                   key=lambda n: (n.lineno, n.col_offset, -n.end_col_offset))
    for node in nodes:
        text = lines[node.lineno - 1]
        if "pragma: no mutate" in text or text.lstrip().startswith(("import ", "from ")):
            continue
        for change, replacement in _changes(node):
            n = seen[(node.lineno, change)] = seen.get((node.lineno, change), 0) + 1
            if n > 1:  # the same change twice on one line: tell them apart, left to right
                change = f"{change} ({n}{'nd' if n == 2 else 'rd' if n == 3 else 'th'} on the line)"
            out.append((Mutant(module, len(out), node.lineno, text.strip(), change), node, replacement))
    return out


def mutate(source: str, node: ast.AST, replacement: ast.AST) -> str:
    """The source with ``node``'s text replaced by the replacement's (parenthesised), all else unchanged."""
    lines = source.splitlines(keepends=True)
    start = sum(len(line) for line in lines[: node.lineno - 1]) + _byte_to_char(lines[node.lineno - 1], node.col_offset)
    end = sum(len(line) for line in lines[: node.end_lineno - 1]) + _byte_to_char(lines[node.end_lineno - 1],
                                                                                   node.end_col_offset)
    return source[:start] + "(" + ast.unparse(replacement) + ")" + source[end:]


def _byte_to_char(line: str, offset: int) -> int:
    """ast's column offsets count UTF-8 bytes; the text counts characters."""
    return len(line.encode("utf-8")[:offset].decode("utf-8", errors="ignore"))


# ----- running -----


def source_path(root: Path, module: str) -> Path:
    """Where a core module lives under ``root``: optalloc/<stage>/<module>.py."""
    found = sorted((root / "optalloc").glob(f"*/{module}.py"))
    if len(found) != 1:
        raise SystemExit(f"no single optalloc/<stage>/{module}.py under {root}: {found}")
    return found[0]


def copy_repository(source: Path, scratch: Path) -> Path:
    """A fresh copy of what the tests need, in ``scratch`` (removed first if it exists)."""
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for name in COPIED:
        path = source / name
        if path.is_dir():
            shutil.copytree(path, scratch / name, ignore=ignore)
        elif path.exists():
            shutil.copy2(path, scratch / name)
    return scratch


PYTEST_ARGS = ["-x", "-q", "-n", "0", "-rfE", "-p", "no:cacheprovider", "--no-header", "-W", "ignore"]
HEAVY = ("numpy", "pandas", "pulp", "highspy", "pydantic", "yaml", "click", "hypothesis", "pytest")


def run_tests(scratch: Path, tests: list[str], timeout: float, fork: bool = True) -> tuple[str, float, str]:
    """Run ``tests`` in ``scratch``: (killed | survived | timeout, seconds, the test that failed or the last
    lines of the output).

    With ``fork`` the run is a child of this process, which has imported the third-party libraries once
    (not optalloc or the tests: the child imports the mutated copy afresh); else a fresh interpreter."""
    start = time.perf_counter()
    if not fork:
        env = dict(os.environ, PYTHONPATH=str(scratch), PYTHONDONTWRITEBYTECODE="1", OPTALLOC_EXAMPLES="1")
        try:
            done = subprocess.run([sys.executable, "-m", "pytest", *PYTEST_ARGS, *tests], cwd=scratch, env=env,
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return "timeout", time.perf_counter() - start, ""
        return ("survived" if done.returncode == 0 else "killed"), time.perf_counter() - start, _killer(done.stdout)
    log = scratch.parent / f"{scratch.name}.log"
    pid = os.fork()
    if pid == 0:  # the child: run pytest on the scratch copy, report by exit status only
        try:
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.chdir(scratch)
            sys.path.insert(0, str(scratch))
            sys.dont_write_bytecode = True
            os.environ["OPTALLOC_EXAMPLES"] = "1"
            import pytest

            code = pytest.main([*PYTEST_ARGS, *tests])
        except BaseException:  # noqa: BLE001 - anything in the child is a failed run
            code = 70
        os._exit(int(code))
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.perf_counter() - start > timeout:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            return "timeout", time.perf_counter() - start, ""
        time.sleep(0.05)
    code = os.waitstatus_to_exitcode(status)
    output = log.read_text(encoding="utf-8", errors="replace")
    return ("survived" if code == 0 else "killed"), time.perf_counter() - start, _killer(output)


def _killer(output: str) -> str:
    """The test that failed (pytest's short summary), or the last lines of the output."""
    for line in output.splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            return line.split(" - ")[0].split(" ", 1)[1]
    return " / ".join(output.strip().splitlines()[-3:])


def existing(scratch: Path, tests: list[str]) -> list[str]:
    return [t for t in tests if (scratch / t.split("::")[0]).exists()]


@dataclass
class Result:
    mutant: Mutant
    outcome: str  # killed | survived | timeout | equivalent
    seconds: float
    killer: str = ""  # the test that failed
    rerun: bool = False  # survived an earlier run, run again after the tests were strengthened


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=300, help="mutants to run, drawn from all sites")
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per mutant's test run")
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/mut"))
    parser.add_argument("--source", type=Path, default=ROOT, help="the repository to copy")
    parser.add_argument("--report", type=Path, default=ROOT / "docs" / "mutation-report.md")
    parser.add_argument("--modules", default=",".join(CORE))
    parser.add_argument("--list", action="store_true", help="count the sites per module and stop")
    parser.add_argument("--no-fork", action="store_true", help="a fresh interpreter per run (slower)")
    parser.add_argument("--report-only", type=Path, default=None,
                        help="results JSON of a run: write its report again (reasons updated), run nothing")
    parser.add_argument("--rerun", type=Path, default=None,
                        help="results JSON of an earlier run: run its sample again, survivors first (after the "
                             "tests were strengthened); the report then counts the earlier killed as they were")
    args = parser.parse_args(argv)
    if hasattr(os, "nice"):
        os.nice(19 - os.nice(0))  # the machine is shared: run at the lowest priority whatever the caller did
    fork = hasattr(os, "fork") and not args.no_fork
    if fork:
        for name in HEAVY:  # imported once here, shared by every forked run
            __import__(name)

    modules = [m.strip() for m in args.modules.split(",") if m.strip()]
    if args.report_only:
        done = json.loads(args.report_only.read_text(encoding="utf-8"))
        counts = {m: len(sites(m, source_path(ROOT, m).read_text(encoding="utf-8"))) for m in modules}
        results = [Result(Mutant(r["module"], -1, r["line"], r["text"], r["change"]),
                          "equivalent" if (r["module"], r["text"], r["change"]) in EQUIVALENT and r["outcome"] != "killed"
                          else r["outcome"], r["seconds"], r.get("killer", ""), r.get("rerun", False))
                   for r in done["results"]]
        args.seed, args.sample = done["seed"], done["sample"]
        write_report(args, results, counts, {}, done["elapsed"], done.get("elapsed_total", done["elapsed"]) / 60
                     - done["elapsed"] / 60)
        return 0
    wanted = args.scratch.resolve()
    for repo in {ROOT, args.source.resolve()}:
        if wanted == repo or repo in wanted.parents or wanted in repo.parents:
            raise SystemExit(f"the scratch folder {wanted} must lie outside the repository {repo}")
    scratch = copy_repository(args.source.resolve(), wanted)
    originals = {m: source_path(scratch, m).read_text(encoding="utf-8") for m in modules}
    every = [(m, s) for m in modules for s in sites(m, originals[m])]
    counts = {m: sum(1 for k, _ in every if k == m) for m in modules}
    print(f"{len(every)} mutation sites: " + ", ".join(f"{m} {n}" for m, n in counts.items()), flush=True)
    if args.list:
        return 0

    started = time.perf_counter()
    baseline = {}
    for m in modules:
        outcome, seconds, tail = run_tests(scratch, existing(scratch, TESTS[m]), args.timeout * 3, fork)
        baseline[m] = seconds
        if outcome != "survived":
            raise SystemExit(f"the unmutated tests of {m} do not pass in {scratch}: {tail}")
        print(f"baseline {m}: {seconds:.1f} s", flush=True)

    rng = random.Random(args.seed)
    chosen = sorted(rng.sample(range(len(every)), min(args.sample, len(every))))
    earlier: dict[tuple[str, str, str], str] = {}
    earlier_minutes = 0.0
    if args.rerun:  # the earlier sample, by what each mutant is (line numbers move when the code is edited)
        previous = json.loads(args.rerun.read_text(encoding="utf-8"))
        earlier_minutes = previous.get("elapsed_total", previous["elapsed"]) / 60  # the sample and its reruns
        earlier = {(r["module"], r["text"], r["change"]): r["outcome"] for r in previous["results"]}
        by_key = {(s[0].module, s[0].text, s[0].change): k for k, (m, s) in enumerate(every)}
        # survivors, and runs that hit the time limit (on a loaded machine that need not be the mutant)
        chosen = [by_key[key] for key, outcome in earlier.items() if outcome in ("survived", "timeout")
                  and key in by_key]
    results: list[Result] = []
    for n, k in enumerate(chosen, 1):
        module, (mutant, node, replacement) = every[k]
        target = source_path(scratch, module)
        key = (module, mutant.text, mutant.change)
        if key in EQUIVALENT:
            results.append(Result(mutant, "equivalent", 0.0, rerun=bool(earlier)))
            continue
        try:
            target.write_text(mutate(originals[module], node, replacement), encoding="utf-8")
            compile(target.read_text(encoding="utf-8"), str(target), "exec")
            outcome, seconds, killer = run_tests(scratch, existing(scratch, TESTS[module]), args.timeout, fork)
        except SyntaxError:
            outcome, seconds, killer = "killed", 0.0, "(not valid Python)"
        finally:
            target.write_text(originals[module], encoding="utf-8")
        results.append(Result(mutant, outcome, seconds, killer if outcome == "killed" else "", bool(earlier)))
        print(f"[{n}/{len(chosen)}] {outcome:9s} {seconds:5.1f} s  {module}:{mutant.line} {mutant.change}  "
              f"| {mutant.text[:80]}", flush=True)
    elapsed = time.perf_counter() - started
    if earlier:  # the earlier run's killed and equivalent mutants stand; its survivors were run again
        again = {(r.mutant.module, r.mutant.text, r.mutant.change) for r in results}
        for (module, text, change), outcome in earlier.items():
            if (module, text, change) not in again:
                results.append(Result(Mutant(module, -1, 0, text, change), outcome, 0.0))
    dump = {"seed": args.seed, "sample": args.sample, "elapsed": elapsed, "elapsed_total": earlier_minutes * 60 + elapsed,
            "results": [{"module": r.mutant.module, "line": r.mutant.line, "text": r.mutant.text,
                         "change": r.mutant.change, "outcome": r.outcome, "seconds": round(r.seconds, 2),
                         "killer": r.killer, "rerun": r.rerun}
                        for r in results]}
    (args.scratch.resolve().parent / f"{args.scratch.name}-results.json").write_text(
        json.dumps(dump, indent=1, ensure_ascii=False), encoding="utf-8")
    write_report(args, results, counts, baseline, elapsed, earlier_minutes)
    print(f"report written to {args.report}", flush=True)
    return 0


def write_report(args, results: list[Result], counts: dict[str, int], baseline: dict[str, float],
                 elapsed: float, earlier_minutes: float = 0.0) -> None:
    killed = [r for r in results if r.outcome in ("killed", "timeout")]
    survived = [r for r in results if r.outcome == "survived"]
    equivalent = [r for r in results if r.outcome == "equivalent"]
    scored = len(killed) + len(survived)
    score = 100.0 * len(killed) / scored if scored else 0.0
    lines = [
        "# Mutation report",
        "",
        f"`{' '.join(['benchmarks/mutation.py', *sys.argv[1:]])}` — {time.strftime('%Y-%m-%d %H:%M')}, "
        + (f"{earlier_minutes:.1f} minutes for the sample (and earlier reruns) and {elapsed / 60:.1f} for running "
           "its survivors again"
           if earlier_minutes else f"{elapsed / 60:.1f} minutes")
        + " on this machine (2 cores shared with other work; one worker, nice 19).",
        "",
        f"**Score: {len(killed)} of {scored} mutants killed ({score:.1f} %)**; {len(equivalent)} equivalent mutants "
        f"(listed below with the reason) are not counted. Sample of {len(results)} from "
        f"{sum(counts.values())} sites (seed {args.seed}), time limit {args.timeout:.0f} s per mutant "
        f"({sum(1 for r in results if r.outcome == 'timeout')} ran into it and count as killed).",
        "",
        "| module | sites | sampled | killed | survived | equivalent | tests per mutant (s, unmutated) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for m, n in counts.items():
        mine = [r for r in results if r.mutant.module == m]
        lines.append(f"| {m} | {n} | {len(mine)} | {sum(r.outcome in ('killed', 'timeout') for r in mine)} | "
                     f"{sum(r.outcome == 'survived' for r in mine)} | {sum(r.outcome == 'equivalent' for r in mine)} | "
                     f"{baseline.get(m, 0.0):.1f} |")
    again = [r for r in results if r.rerun and r.outcome in ("killed", "timeout")]
    if again:
        lines += ["", "## Killed after the tests were strengthened", "",
                  "Survivors of the first run, run again against the strengthened tests; the test that failed:", ""]
        for r in again:
            lines.append(f"- `{r.mutant.module}.py` {r.mutant.change} in `{r.mutant.text}` — `{r.killer}`")
    lines += ["", "## Survivors", ""]
    if not survived:
        lines.append("None.")
    for r in survived:
        why = SURVIVING.get((r.mutant.module, r.mutant.text, r.mutant.change))
        lines.append(f"- `{r.mutant.module}.py:{r.mutant.line}` {r.mutant.change} in `{r.mutant.text}`"
                     + (f" — not killed: {why}" if why else ""))
    lines += ["", "## Equivalent mutants", ""]
    if not equivalent:
        lines.append("None.")
    for r in equivalent:
        reason = EQUIVALENT[(r.mutant.module, r.mutant.text, r.mutant.change)]
        lines.append(f"- `{r.mutant.module}.py:{r.mutant.line}` {r.mutant.change} in `{r.mutant.text}` — {reason}")
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
