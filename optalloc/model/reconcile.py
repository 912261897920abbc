"""Does the model reproduce its document? Every printed sum recomputed from the rows, to the cent.

``reconcile(spec)`` runs every check a programme document allows — the budget derivation, the pools,
each priority area's sums of entries and money, the Kennzahlen table I–VII and its grand total, the VBL
parts against the VBL credit, the "davon" splits and lot sizes — and compares each with the printed
figure. A difference must be recorded in the model's ``discrepancies`` with an explanation (and, where
possible, a way to reproduce the printed figure); an unexplained difference, or a recorded one that no
longer occurs, makes the model fail.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from decimal import Decimal

import pandas as pd

from .budget import BudgetFigures, derive_budget, euros
from .loading import Spec
from .schema import Instrument, Model

OK, EXPLAINED, FAIL = "ok", "explained", "FAIL"


@dataclass(frozen=True)
class Check:
    id: str
    section: str
    label: str
    printed: float
    computed: float
    relation: str = "="  # "=": must agree; "<=": computed may not exceed printed
    unit: str = "entries"  # entries | € | % | share
    status: str = OK
    explanation: str = ""
    field: str = ""  # where the printed figure stands in the model file

    def agrees(self, tolerance: float) -> bool:
        if self.relation == "<=":
            return self.computed <= self.printed + tolerance
        return abs(self.computed - self.printed) <= tolerance


@dataclass(frozen=True)
class Reconciliation:
    """All checks of one model. ``ok`` is False when any check fails."""

    checks: pd.DataFrame
    budget: BudgetFigures

    @property
    def ok(self) -> bool:
        return bool((self.checks["status"] != FAIL).all())

    @property
    def failures(self) -> pd.DataFrame:
        return self.checks[self.checks["status"] == FAIL]

    def section(self, name: str) -> pd.DataFrame:
        return self.checks[self.checks["section"] == name]


_TOLERANCE = {"entries": 0.0, "€": 0.005, "%": 0.005, "share": 0.005}


def reconcile(spec: Spec) -> Reconciliation:
    model = spec.model
    budget = derive_budget(model)
    checks = {c.id: c for c in _checks(model, budget, frozenset())}
    recorded = {d.check: d for d in model.discrepancies}
    final: list[Check] = []
    for c in checks.values():
        tol = _TOLERANCE[c.unit]
        d = recorded.get(c.id)
        if c.agrees(tol):
            if d is not None:
                final.append(replace(c, status=FAIL, explanation="recorded as a discrepancy, but printed and computed now agree"))
            else:
                final.append(c)
            continue
        if d is None:
            final.append(replace(c, status=FAIL, explanation="printed and computed differ, and no discrepancy explains it"))
            continue
        tol_d = max(tol, d.tolerance)
        if abs(d.computed - c.computed) > tol_d:
            final.append(replace(c, status=FAIL, explanation=f"the discrepancy records computed {d.computed:g}, the rows give {c.computed:g}"))
            continue
        if d.tolerance and abs(c.computed - c.printed) > d.tolerance + 1e-9:
            final.append(replace(c, status=FAIL, explanation=f"differs by more than the recorded tolerance {d.tolerance:g}"))
            continue
        places_for = frozenset(d.reproduce.get("count_places_for", []))
        if places_for:
            again = {x.id: x for x in _checks(model, budget, places_for)}[c.id]
            if not again.agrees(tol):
                final.append(replace(c, status=FAIL, explanation=f"counting {', '.join(sorted(places_for))} by places "
                                     f"gives {again.computed:g}, not the printed {c.printed:g}"))
                continue
        final.append(replace(c, status=EXPLAINED, explanation=d.explanation.strip()))
    for d in model.discrepancies:
        if d.check not in checks:
            final.append(Check(d.check, "discrepancies", "recorded discrepancy", d.printed, d.computed,
                               unit="share", status=FAIL, field=f"discrepancies[{model.discrepancies.index(d)}].check",
                               explanation="no check has this id; the ids are listed by `optalloc validate --checks`"))
    frame = pd.DataFrame([asdict(c) for c in final], columns=[f.name for f in fields(Check)])
    return Reconciliation(checks=frame, budget=budget)


def _checks(model: Model, budget: BudgetFigures, places_for: frozenset[str]) -> list[Check]:
    out: list[Check] = []
    out += _budget_checks(model, budget)
    out += _pool_checks(model, budget)
    out += _area_checks(model, places_for)
    out += _kennzahlen_checks(model, places_for)
    out += _row_checks(model)
    return out


def _budget_checks(model: Model, budget: BudgetFigures) -> list[Check]:
    printed = model.budget.printed
    out = []
    if printed.spendable_funds is not None:
        out.append(Check("budget:spendable_funds", "budget", "spendable funds (Ausgabemittel)",
                         printed.spendable_funds, float(budget.spendable_funds), unit="€",
                         field="budget.printed.spendable_funds"))
    if printed.new_business is not None:
        out.append(Check("budget:new_business", "budget", "new-business budget (Neufallbudget)",
                         printed.new_business, float(budget.new_business), unit="€", field="budget.printed.new_business"))
    with_vbl = [r for r in model.instruments if r.vbl > 0]
    if model.budget.vbl_credit or with_vbl:
        total = sum((euros(r.vbl) for r in with_vbl), Decimal(0))
        out.append(Check("vbl:sum", "budget", "sum of the (VBL) parts of the rows vs the VBL credit",
                         model.budget.vbl_credit, float(total), unit="€", field="budget.vbl_credit"))
    return out


def _row_money(r: Instrument) -> Decimal:
    return euros(r.new_funds or 0) + euros(r.vbl)


def _pool_checks(model: Model, budget: BudgetFigures) -> list[Check]:
    out = []
    for k, p in enumerate(model.pools):
        fig = budget.pools[p.id]
        at = f"pools[{k}] ({p.id})"
        if p.printed.available is not None:
            out.append(Check(f"pool:{p.id}:available", "pools", f"{p.id}: available after reserved parts",
                             p.printed.available, float(fig.available), unit="€", field=f"{at}.printed.available"))
        if fig.amount and p.printed.available_percent is not None:
            out.append(Check(f"pool:{p.id}:available_percent", "pools", f"{p.id}: available share of the grant",
                             p.printed.available_percent, float(round(fig.available / fig.amount * 100, 2)), unit="%",
                             field=f"{at}.printed.available_percent"))
        if fig.amount and p.printed.reserved_percent is not None:
            out.append(Check(f"pool:{p.id}:reserved_percent", "pools", f"{p.id}: reserved share of the grant",
                             p.printed.reserved_percent, float(round(fig.reserved / fig.amount * 100, 2)), unit="%",
                             field=f"{at}.printed.reserved_percent"))
        rows = [r for r in model.instruments if r.pools and p.id in r.pools]
        if p.max_places is not None and rows:
            out.append(Check(f"pool:{p.id}:places", "pools", f"{p.id}: places of its rows vs the places granted",
                             p.max_places, sum(r.entries or 0 for r in rows), relation="<=", field=f"{at}.max_places"))
            for r in rows:
                if r.printed_share_of_pool is not None:
                    out.append(Check(f"pool:{p.id}:share:{r.id}", "pools", f"{r.id}: printed share of the {p.id} places",
                                     r.printed_share_of_pool, round((r.entries or 0) / p.max_places, 4), unit="share",
                                     field=f"instruments[{model.instruments.index(r)}] ({r.id}).printed_share_of_pool"))
    # rows paid from earmarked pools, grouped by the set of pools they may draw on
    sets: dict[tuple[str, ...], list[Instrument]] = {}
    for r in model.instruments:
        if r.pools and not any(budget.pools[p].earmarked is False for p in r.pools):
            sets.setdefault(tuple(r.pools), []).append(r)
    for pools, rows in sets.items():
        available = sum((budget.pools[p].available for p in pools), Decimal(0))
        spent = sum((_row_money(r) for r in rows), Decimal(0))
        out.append(Check(f"pools:{'+'.join(pools)}:money", "pools",
                         f"money of the rows paid from {' + '.join(pools)} vs what they may spend",
                         float(available), float(spent), relation="<=", unit="€", field=f"pools ({', '.join(pools)})"))
    return out


def _counted(r: Instrument, places_for: frozenset[str]) -> int | None:
    """A row's entries as the document's sums count them (None where the row adds nothing)."""
    if r.entries is None or "entries" in r.parenthesised:
        return None
    if r.id in places_for and r.places is not None:
        return r.places
    return r.entries


def _area_checks(model: Model, places_for: frozenset[str]) -> list[Check]:
    out = []
    for k, a in enumerate(model.areas):
        rows = [r for r in model.instruments if r.area == a.id]
        at = f"areas[{k}] ({a.id}).printed"
        entries = sum(_counted(r, places_for) or 0 for r in rows)
        money = sum((_row_money(r) for r in rows if "money" not in r.parenthesised), Decimal(0))
        label = f"{a.chapter} {a.gloss or a.name}"
        if a.printed.entries is not None:
            out.append(Check(f"area:{a.id}:entries", "areas", label, a.printed.entries, entries, field=f"{at}.entries"))
        if a.printed.money is not None:
            out.append(Check(f"area:{a.id}:money", "areas", label, a.printed.money, float(money), unit="€",
                             field=f"{at}.money"))
    return out


def kennzahl_counts(model: Model, row_entries: Mapping[str, float] | None = None,
                    places_for: Iterable[str] = ()) -> dict[str, float]:
    """Entries per Kennzahlen line. ``row_entries`` gives each printed row's entries (a plan's); without
    it the document's own (or places, for the rows in ``places_for``). A row split by its "davon" parts
    gives each part its printed share of the row, the rest to the line named ``rest``."""
    places_for = frozenset(places_for)
    counts: dict[str, float] = {}
    for r in model.instruments:
        if r.kennzahl is None or r.entries is None:
            continue
        if row_entries is not None:
            n = float(row_entries.get(r.id, 0.0))
        else:
            n = float(r.places if (r.id in places_for and r.places is not None) else r.entries)
        if isinstance(r.kennzahl, str):
            counts[r.kennzahl] = counts.get(r.kennzahl, 0.0) + n
            continue
        parts = {p.id: (p.entries or 0) / r.entries for p in r.breakdown} if r.entries else {}
        listed = 0.0
        for part, line in r.kennzahl.items():
            if part != "rest":
                counts[line] = counts.get(line, 0.0) + n * parts[part]
                listed += n * parts[part]
        if "rest" in r.kennzahl:
            counts[r.kennzahl["rest"]] = counts.get(r.kennzahl["rest"], 0.0) + n - listed
    return {line: round(v, 9) for line, v in counts.items()}


def _kennzahlen_checks(model: Model, places_for: frozenset[str]) -> list[Check]:
    k = model.kennzahlen
    if k is None:
        return []
    counts = kennzahl_counts(model, places_for=places_for)
    out = []
    total = 0
    for i, p in enumerate(k.purposes):
        purpose_sum = 0
        at = f"kennzahlen.purposes[{i}] ({p.id})"
        for j, ln in enumerate(p.lines):
            n = counts.get(ln.id, 0)
            out.append(Check(f"kennzahlen:line:{ln.id}", "kennzahlen", ln.name, ln.printed, n,
                             field=f"{at}.lines[{j}] ({ln.id}).printed"))
            if not ln.parenthesised:
                purpose_sum += n
        out.append(Check(f"kennzahlen:{p.id}", "kennzahlen", f"{p.id}. {p.name}", p.printed, purpose_sum,
                         field=f"{at}.printed"))
        total += purpose_sum
    out.append(Check("kennzahlen:total", "kennzahlen", "SUMME GESAMT", k.printed_total, total,
                     field="kennzahlen.printed_total"))
    table_sums = [a.printed.entries for a in model.areas]
    if all(v is not None for v in table_sums):
        out.append(Check("tables:total", "kennzahlen", "grand total vs the sum of the printed table sums",
                         k.printed_total, sum(table_sums), field="kennzahlen.printed_total"))  # type: ignore[arg-type]
    return out


def _row_checks(model: Model) -> list[Check]:
    out = []
    for k, r in enumerate(model.instruments):
        at = f"instruments[{k}] ({r.id})"
        complete = not (isinstance(r.kennzahl, dict) and "rest" in r.kennzahl)
        if r.breakdown and complete and all(p.entries is not None for p in r.breakdown) and r.entries is not None:
            out.append(Check(f"breakdown:{r.id}:entries", "rows", f"{r.id}: 'davon' entries",
                             r.entries, sum(p.entries or 0 for p in r.breakdown), field=f"{at}.breakdown"))
        if r.breakdown and r.places is not None and all(p.places is not None for p in r.breakdown):
            out.append(Check(f"breakdown:{r.id}:places", "rows", f"{r.id}: 'davon' places",
                             r.places, sum(p.places or 0 for p in r.breakdown), field=f"{at}.breakdown"))
        if r.lot_size and r.entries is not None:
            out.append(Check(f"lot:{r.id}", "rows", f"{r.id}: entries in whole lots of {r.lot_size}",
                             0, r.entries % r.lot_size, field=f"{at}.entries"))
    return out
