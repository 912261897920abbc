"""Scenario overlays: what-if changes applied to a model, validated against the model they change.

A scenario file (YAML) names what changes and by how much::

    name: Budget cut 10 %
    description: The new-business budget falls by a tenth.
    budget:      {cut_share: 0.10}            # or cut_amount (€), allocation_cut_share, reserve_share,
                                              # reserve_amount (€ or 'official'), vbl_pool
    pools:       {refugee_t2: {amount: 0}}    # amount (€), cut_share, planning_share
    caps:        {fav_free_16e_16f: {max_share: 0.10}}
    instruments: {fbw: {min: 1000}, fav: {drop: true}, egz: {rate_factor: 0.8, cost_factor: 1.1},
                  perf: {capacity_factor: 2}}    # more places bought: the contracted capacity × 2
    coverage:    {u25_share: {min_share: 0.25}, refugees_reach: {min_count_factor: 2.0}}
    policy:      {fbw_no_cut: {drop: true}, employer_subsidies: {max: 700}}
    priorities:  {single_parents: 0.5}
    assumptions: {bounds: {min_share_of_official: 1.0}, response: {shape: linear}, capacity: {extension_share: 0.1},
                  employers: {growth_share: 0.3}, participation: {max_share: 0.4}}

Overlays compose: ``apply_scenarios(spec, [a, b])`` applies ``a`` then ``b``, each checked against the
model as changed so far. A name the model lacks, or a change that leaves the model invalid, raises an
:class:`~optalloc.errors.InputFileError` naming the scenario file and the field. Cuts are booked as
reserved parts of the pool they cut, so the budget derivation shows them; amounts are computed to the cent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from .budget import derive_budget, euros
from ..errors import NOT_SHOWN, InputFileError
from .loading import Spec, check_plannable, check_references, money_line_unit, one_of, parse, read_yaml
from .schema import GrossRate, Level, Model, Money, Rate, Share, Strict, _number

Factor = Annotated[float, BeforeValidator(_number), Field(ge=0, le=100)]


class BudgetChange(Strict):
    cut_share: Share | None = None
    cut_amount: Money | None = None
    allocation_cut_share: Share | None = None
    reserve_share: Share | None = None
    reserve_amount: Money | Literal["official"] | None = None
    vbl_pool: Literal["merged", "separate"] | None = None

    @model_validator(mode="after")
    def _one_reserve(self) -> BudgetChange:
        if self.reserve_share is not None and self.reserve_amount is not None:
            raise ValueError("give the reserve as 'reserve_share' or as 'reserve_amount', not both")
        return self


class PoolChange(Strict):
    amount: Money | None = None
    cut_share: Share | None = None
    planning_share: Share | None = None

    @model_validator(mode="after")
    def _one_amount(self) -> PoolChange:
        if self.amount is not None and self.cut_share is not None:
            raise ValueError("give 'amount' or 'cut_share', not both")
        return self


class CapChange(Strict):
    max_share: Share | None = None
    committed: Money | None = None
    base: Literal["egt_allocation", "spendable_funds", "new_business"] | None = None
    categories: list[Literal["16e", "16f", "16h"]] | None = None


def _rate_mapping(value: object) -> object:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(f"the gross rate and/or the net effect, such as {{gross: {value}}} or {{net: {value}}}")
    return value


class RateChange(Strict):
    """A row's rates: the gross rate (a share from 0 to 1) and/or the net effect (from -1 to 1)."""

    gross: GrossRate | None = None
    net: Rate | None = None


class InstrumentChange(Strict):
    fix: Level | None = None  # entries (euros for a money-only line)
    min: Level | None = None
    max: Level | None = None
    drop: bool = False
    rate: Annotated[RateChange, BeforeValidator(_rate_mapping)] | None = None
    rate_factor: Factor | None = None
    unit_cost: Annotated[float, BeforeValidator(_number), Field(gt=0, le=1e10)] | None = None
    cost_factor: Annotated[float, BeforeValidator(_number), Field(gt=0, le=100)] | None = None
    capacity_factor: Annotated[float, BeforeValidator(_number), Field(gt=0, le=100)] | None = None
    pools: list[str] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> InstrumentChange:
        if self.fix is not None and self.drop:
            raise ValueError("give 'fix' or 'drop', not both")
        if (self.fix is not None or self.drop) and (self.min is not None or self.max is not None):
            raise ValueError("'fix'/'drop' set both bounds: leave out 'min' and 'max'")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is above max ({self.max:g})")
        if self.rate is not None and self.rate_factor is not None:
            raise ValueError("give 'rate' or 'rate_factor', not both")
        if self.unit_cost is not None and self.cost_factor is not None:
            raise ValueError("give 'unit_cost' or 'cost_factor', not both")
        return self


class CoverageChange(Strict):
    group: str | None = None
    basis: Literal["entries", "money"] | None = None
    min_share: Share | None = None
    min_count: Level | Literal["official"] | None = None
    min_count_factor: Factor | None = None
    drop: bool = False
    source: str | None = None


class BoundsChange(Strict):
    min_share_of_official: Annotated[float, BeforeValidator(_number), Field(ge=0, le=1)] | None = None
    max_share_of_official: Annotated[float, BeforeValidator(_number), Field(ge=1, le=100)] | None = None


class ResponseChange(Strict):
    shape: Literal["concave", "linear"] | None = None
    low_end_at: Annotated[float, BeforeValidator(_number), Field(gt=1, le=10)] | None = None


class CapacityChange(Strict):
    extension_share: Annotated[float, BeforeValidator(_number), Field(ge=0, le=10)] | None = None


class EmployersChange(Strict):
    growth_share: Annotated[float, BeforeValidator(_number), Field(ge=0, le=10)] | None = None


class ParticipationChange(Strict):
    max_share: Share | None = None


class AssumptionsChange(Strict):
    bounds: BoundsChange | None = None
    response: ResponseChange | None = None
    capacity: CapacityChange | None = None
    employers: EmployersChange | None = None
    participation: ParticipationChange | None = None


class PolicyChange(Strict):
    """Drop a stated decision, or change its figures (a number or 'official')."""

    drop: bool = False
    min: Level | Literal["official"] | None = None
    max: Level | Literal["official"] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> PolicyChange:
        if self.drop and (self.min is not None or self.max is not None):
            raise ValueError("give 'drop' or new figures ('min', 'max'), not both")
        return self


class Scenario(Strict):
    name: Annotated[str, Field(min_length=1, max_length=80)]
    description: str = ""
    source: str = ""
    budget: BudgetChange | None = None
    pools: dict[str, PoolChange] = {}
    caps: dict[str, CapChange] = {}
    instruments: dict[str, InstrumentChange] = {}
    coverage: dict[str, CoverageChange] = {}
    policy: dict[str, PolicyChange] = {}
    priorities: dict[str, Factor] = {}
    assumptions: AssumptionsChange | None = None


def load_scenario(path: Path | str) -> Scenario:
    path = Path(path)
    return parse(Scenario, read_yaml(path, "scenario file"), str(path))


def apply_scenarios(spec: Spec, overlays: Sequence[Path | str | Mapping[str, Any]]) -> Spec:
    """Apply scenario files (paths) or scenario mappings (as a file would hold them), in order."""
    for k, item in enumerate(overlays):
        if isinstance(item, Mapping):
            where = f"<scenario {k + 1}: {item.get('name', 'unnamed')}>"
            spec = apply_scenario(spec, parse(Scenario, dict(item), where), where)
        else:
            spec = apply_scenario(spec, load_scenario(item), str(item))
    return spec


def apply_scenario(spec: Spec, scenario: Scenario, file: str = "<scenario>") -> Spec:
    """The model with ``scenario`` applied, validated again as a whole."""
    raw = spec.model.model_dump(mode="python", exclude_defaults=True)  # a fresh dict: changed in place below
    where = f"(applied to {spec.path})"

    def fail(field: str, value: object, allowed: str) -> None:
        raise InputFileError(file, field, value, allowed)

    def find(section: str, key: str, field: str) -> dict[str, Any]:
        items = raw.get(section, [])
        for item in items:
            if item["id"] == key:
                return item
        noun = {"policy": "policy rule", "coverage": "coverage requirement"}.get(section, section[:-1])
        fail(field, key, f"no {noun} of that id in {spec.path}; " + one_of([i["id"] for i in items], key))
        raise AssertionError  # unreachable

    tag = scenario.name
    b = scenario.budget
    if b is not None:
        if b.allocation_cut_share is not None:
            allocation = Decimal(str(raw["budget"]["egt_allocation"]))
            raw["budget"]["egt_allocation"] = float(euros(allocation * (1 - Decimal(str(b.allocation_cut_share)))))
        # a cut is booked as a reserved part of the new-business pool; a share is of the new-business budget
        # before any cut (after an allocation cut of the same scenario), so that cuts add up
        new_business = derive_budget(parse(Model, raw, file)).new_business
        egt = next(p for p in raw["pools"] if p.get("derived"))
        reserved = egt.setdefault("reserved", {})

        def book(label: str, amount: Decimal) -> None:
            key = label
            while key in reserved:  # the same cut applied again cuts again
                key += " (again)"
            reserved[key] = float(amount)

        if b.cut_share is not None:
            book(f"cut {b.cut_share:.1%} of the new-business budget ({tag})",
                 euros(new_business * Decimal(str(b.cut_share))))
        if b.cut_amount is not None:
            book(f"cut of the new-business budget ({tag})", euros(b.cut_amount))
        if b.reserve_share is not None:
            raw["budget"]["reserve_share"] = b.reserve_share
            raw["budget"].pop("reserve_amount", None)
        if b.reserve_amount is not None:
            raw["budget"]["reserve_amount"] = b.reserve_amount
            raw["budget"].pop("reserve_share", None)
        if b.vbl_pool is not None:
            raw["budget"]["vbl_pool"] = b.vbl_pool
    for pid, change in scenario.pools.items():
        pool = find("pools", pid, f"pools.{pid}")
        if change.amount is not None or change.cut_share is not None:
            if pool.get("derived"):
                fail(f"pools.{pid}", pid, "the new-business pool is changed under 'budget' (cut_share, cut_amount)")
            if change.amount is not None:
                pool["amount"] = change.amount
            else:
                pool["amount"] = float(euros(Decimal(str(pool["amount"])) * (1 - Decimal(str(change.cut_share)))))
            pool.pop("printed", None)
            if pool.get("reserved") and sum(pool["reserved"].values()) > pool["amount"] * pool.get("planning_share", 1.0):
                fail(f"pools.{pid}.amount", pool["amount"], "at least the pool's reserved parts "
                     f"({sum(pool['reserved'].values()):,.2f} €)")
        if change.planning_share is not None:
            pool["planning_share"] = change.planning_share
    for cid, change in scenario.caps.items():
        cap = find("caps", cid, f"caps.{cid}")
        cap.update(change.model_dump(exclude_none=True))
    problem = None
    model_rows = {r.id: r for r in spec.model.instruments}
    for iid, change in scenario.instruments.items():
        row = find("instruments", iid, f"instruments.{iid}")
        at = f"instruments.{iid}"
        if row["financing"] == "info":
            fail(at, iid, "an information row has no entries or money to change")
        grow = change.fix if change.fix is not None else change.max
        if row["financing"] in ("prepaid", "partly_prepaid", "external") and grow is not None and grow > row["entries"]:
            fail(f"{at}.{'fix' if change.fix is not None else 'max'}", grow,
                 f"at most the {row['entries']} entries printed: a {row['financing']} row has no price for more")
        sides = (["min", "max"] if change.fix is not None or change.drop else
                 [s for s in ("min", "max") if getattr(change, s) is not None])
        if sides:
            row["scenario_bounds"] = {**row.get("scenario_bounds", {}), **dict.fromkeys(sides, tag)}
        if change.fix is not None:
            row["bounds"] = {"min": change.fix, "max": change.fix}
        elif change.drop:
            row["bounds"] = {"min": 0.0, "max": 0.0}
        elif change.min is not None or change.max is not None:
            bounds = dict(row.get("bounds") or {})
            if change.min is not None:
                bounds["min"] = change.min
            if change.max is not None:
                bounds["max"] = change.max
            row["bounds"] = bounds
        if ((change.rate is not None or change.rate_factor is not None) and row["financing"] == "money_only"
                and money_line_unit(model_rows[iid], spec.rates) is None):
            field = "rate" if change.rate is not None else "rate_factor"
            fail(f"{at}.{field}", change.rate_factor if field == "rate_factor" else NOT_SHOWN,
                 "a rate belongs to a row with entries, or to a money-only line that is valued (a rate class per "
                 "1,000 €, or a unit cost): this line is kept as printed, so its rate would be ignored")
        if change.rate is not None:
            row["rate"] = {**(row.get("rate") or {}), **change.rate.model_dump(exclude_none=True)}
        if change.rate_factor is not None:
            if not row.get("rate_class"):
                fail(f"{at}.rate_factor", change.rate_factor, f"the row ({row['financing']}) has no rate to scale")
            cls = spec.rates.classes[row["rate_class"]]
            current = row.get("rate") or {}
            scaled = {}
            for b in ("gross", "net"):
                rate = current.get(b) if current.get(b) is not None else getattr(cls, b).value
                scaled[b] = rate * change.rate_factor
                if abs(scaled[b]) > 1:  # refused, not clamped: a factor that makes a rate above 1 is a mistake
                    fail(f"{at}.rate_factor", change.rate_factor,
                         f"a factor that keeps the {b} rate ({rate:g}) within {'0' if b == 'gross' else '-1'} to 1: "
                         f"at most {1 / abs(rate):.4g} (this one makes it {scaled[b]:g})")
            row["rate"] = scaled
        if change.unit_cost is not None or change.cost_factor is not None:
            if row["financing"] not in ("new", "shared"):
                fail(at, row["financing"], "a cost can change only for rows bought with new money ('new' or 'shared')")
            if change.unit_cost is not None:
                row["unit_cost"] = change.unit_cost
            else:
                if problem is None:
                    from .problem import build_problem

                    problem = build_problem(spec)
                row["unit_cost"] = float(problem.instruments.at[iid, "unit_cost"]) * change.cost_factor
        if change.capacity_factor is not None:
            if row.get("capacity") not in ("places", "contract", "posts") or row.get("places_in"):
                fail(f"{at}.capacity_factor", change.capacity_factor,
                     f"a row with a capacity of its own (places, contract or posts); this one has "
                     f"{row.get('capacity') or 'none'}" + (f" (its places are {row['places_in']}'s)" if row.get("places_in") else ""))
            row["capacity_factor"] = float(row.get("capacity_factor", 1.0)) * change.capacity_factor  # compounds
        if change.pools is not None:
            if row["financing"] == "shared":
                fail(f"{at}.pools", change.pools, f"a shared row is paid from {row['money_in']}'s budget: "
                     f"change the pools of {row['money_in']}")
            if row["financing"] in ("prepaid", "external", "info"):
                fail(f"{at}.pools", change.pools, f"a {row['financing']} row takes no new money")
            row["pools"] = change.pools
    for cid, change in scenario.coverage.items():
        existing = [c for c in raw.get("coverage", []) if c["id"] == cid]
        at = f"coverage.{cid}"
        if change.drop:
            if not existing:
                find("coverage", cid, at)
            raw["coverage"] = [c for c in raw["coverage"] if c["id"] != cid]
            continue
        item = existing[0] if existing else {"id": cid}
        if not existing:
            if change.group is None:
                fail(at, cid, "a new coverage requirement needs 'group' (and min_share or min_count)")
            raw.setdefault("coverage", []).append(item)
        update = change.model_dump(exclude_none=True, exclude={"drop", "min_count_factor"})
        if "min_share" in update:
            item.pop("min_count", None)
        if "min_count" in update:
            item.pop("min_share", None)
        item.update(update)
        if change.min_count_factor is not None:
            item.pop("min_share", None)
            item["min_count"] = _official_reach(spec, item, file) * change.min_count_factor
    for rid, change in scenario.policy.items():
        rule = find("policy", rid, f"policy.{rid}")
        if change.drop:
            raw["policy"] = [r for r in raw["policy"] if r["id"] != rid]
            continue
        for side in ("min", "max"):
            value = getattr(change, side)
            if value is not None:
                rule[side] = value
    if scenario.priorities:
        raw["priorities"] = {**raw.get("priorities", {}), **scenario.priorities}
    if scenario.assumptions:
        for name in ("bounds", "response", "capacity", "employers", "participation"):
            change = getattr(scenario.assumptions, name)
            if change is None:
                continue
            if name not in raw["assumptions"] and name != "response":
                fail(f"assumptions.{name}", name, f"the model has no '{name}' assumption to change; "
                     f"add it to {spec.path} first")
            raw["assumptions"].setdefault(name, {}).update(change.model_dump(exclude_none=True))
            if name == "bounds":  # the sides the scenario set are the scenario's: reports say so
                box = raw["assumptions"]["bounds"]
                sides = {"min": "min_share_of_official", "max": "max_share_of_official"}
                box["scenario_sides"] = {**box.get("scenario_sides", {}),
                                         **{s: tag for s, f in sides.items() if getattr(change, f) is not None}}

    try:
        model = parse(Model, raw, file)
        new = dataclasses.replace(spec, model=model, scenarios=spec.scenarios + (scenario.name,))
        check_references(new, file=file)
        check_plannable(new, file=file)
    except InputFileError as exc:
        raise InputFileError(file, exc.field, exc.value, f"{exc.allowed} {where}") from None
    return new


def _official_reach(spec: Spec, coverage: dict[str, Any], file: str) -> float:
    """What the official plan gives the coverage requirement's group (entries or money)."""
    from .problem import build_problem

    problem = build_problem(spec)
    group = coverage.get("group")
    if group not in problem.groups.columns:
        raise InputFileError(file, f"coverage.{coverage['id']}.group", group, one_of(problem.groups.columns, group))
    return problem.group_reach(problem.instruments["official"], group, coverage.get("basis", "entries"))[0]
