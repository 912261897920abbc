"""Budget arithmetic of chapter 2: from the allocation to the money each pool can spend, to the cent.

Every derived figure is computed here with :class:`decimal.Decimal` and rounded to the cent:

    spendable funds  = EGT allocation − shift to administration + expected returns
    new business     = spendable funds − commitments from earlier years
    pool available   = (amount or new business) × planning share − reserved parts
                       (the new-business pool also keeps back the reserve for the year and, with
                       ``vbl_pool: separate``, hands the VBL credit to a pool of its own)
    reserve          = reserve_share × new business, or reserve_amount; ``reserve_amount: official`` keeps
                       what the official plan leaves unplanned (see :func:`official_reserve`): a cut takes
                       the reserve first, more money does not raise it
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .schema import Model, Pool

CENT = Decimal("0.01")
VBL_POOL = "vbl"


def euros(value: float | Decimal | int) -> Decimal:
    """A money figure as Decimal rounded to the cent (floats go through their shortest repr)."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class PoolFigures:
    id: str
    name: str
    amount: Decimal
    planning_share: Decimal
    reserved: Decimal
    available: Decimal
    earmarked: bool


@dataclass(frozen=True)
class BudgetFigures:
    egt_allocation: Decimal
    shift_to_administration: Decimal
    vbl_credit: Decimal
    expected_returns: Decimal
    commitments: Decimal
    spendable_funds: Decimal
    new_business: Decimal
    reserve: Decimal
    pools: dict[str, PoolFigures]

    def derivation(self) -> list[tuple[str, str, Decimal]]:
        """Chapter 2 as (label, sign, amount) lines, ending in the new-business budget."""
        return [
            ("EGT allocation (Zuteilung EGL)", "", self.egt_allocation),
            ("shift to the administration budget (Umschichtung)", "−", self.shift_to_administration),
            ("expected returns (Rückeinnahmen)", "+", self.expected_returns),
            ("spendable funds (Ausgabemittel)", "=", self.spendable_funds),
            ("commitments from earlier years (Vorbindungen)", "−", self.commitments),
            ("new-business budget (Neufallbudget)", "=", self.new_business),
        ]


def new_business_pool(model: Model) -> Pool:
    return next(p for p in model.pools if p.derived)


def derive_budget(model: Model) -> BudgetFigures:
    b = model.budget
    spendable = euros(b.egt_allocation) - euros(b.shift_to_administration) + euros(b.expected_returns)
    new_business = spendable - euros(b.commitments)
    reserve = euros(new_business * Decimal(str(b.reserve_share)))
    if b.reserve_amount == "official":
        reserve = official_reserve(model, new_business)
    elif b.reserve_amount is not None:
        reserve = euros(b.reserve_amount)
    vbl = euros(b.vbl_credit)
    pools: dict[str, PoolFigures] = {}
    for p in model.pools:
        share = Decimal(str(p.planning_share))
        reserved = sum((euros(v) for v in p.reserved.values()), Decimal("0.00"))
        if p.derived:
            amount = new_business
            available = euros(amount * share) - reserve - reserved
            if b.vbl_pool == "separate":
                available -= vbl
        else:
            amount = euros(p.amount or 0)
            available = euros(amount * share) - reserved
        pools[p.id] = PoolFigures(p.id, p.name, amount, share, reserved, available, earmarked=not p.derived)
    if b.vbl_pool == "separate":
        pools[VBL_POOL] = PoolFigures(
            VBL_POOL, "VBL-Gutschrift (one-time VBL credit)", vbl, Decimal(1), Decimal(0), vbl, earmarked=True
        )
    return BudgetFigures(
        egt_allocation=euros(b.egt_allocation),
        shift_to_administration=euros(b.shift_to_administration),
        vbl_credit=vbl,
        expected_returns=euros(b.expected_returns),
        commitments=euros(b.commitments),
        spendable_funds=spendable,
        new_business=new_business,
        reserve=reserve,
        pools=pools,
    )


def official_reserve(model: Model, new_business: Decimal) -> Decimal:
    """The reserve the official plan keeps, as far as the money allows: what it leaves of the new-business
    pool now (after cuts booked as reserved parts), but never more than it leaves of the budget the
    document prints — a cut takes the reserve first, more money does not raise it. Never below 0."""
    printed = model.budget.printed.new_business
    document = _official_leftover(model, euros(printed) if printed is not None else new_business, reserved=False)
    return max(min(_official_leftover(model, new_business, reserved=True), document), Decimal("0.00"))


def _official_leftover(model: Model, new_business: Decimal, reserved: bool) -> Decimal:
    """The new-business pool (less its reserved parts, if ``reserved``) less the official plan's money
    from it: the printed money of the rows it pays and the EGT co-funding of the programme places."""
    egt = new_business_pool(model)
    available = euros(new_business * Decimal(str(egt.planning_share))) - sum(
        (euros(v) for v in egt.reserved.values()), Decimal("0.00")) * int(reserved)
    spent = Decimal("0.00")
    shared: dict[tuple[str, ...], Decimal] = {}  # money of rows that earmarked pools may pay before this one
    for r in model.instruments:
        if r.financing in ("new", "partly_prepaid", "money_only") and (not r.pools or egt.id in r.pools):
            money = euros(r.new_funds or 0) + euros(r.vbl)
            others = tuple(sorted(p for p in (r.pools or []) if p != egt.id))
            if others:
                shared[others] = shared.get(others, Decimal("0.00")) + money
            else:
                spent += money
    pools = {p.id: p for p in model.pools}
    for others, money in shared.items():  # earmarked pools pay first, as the official plan is paid
        means = sum((euros(Decimal(str(pools[o].amount or 0)) * Decimal(str(pools[o].planning_share)))
                     - sum((euros(v) for v in pools[o].reserved.values()), Decimal("0.00")) for o in others),
                    Decimal("0.00"))
        spent += max(money - means, Decimal("0.00"))
    for p in model.pools:
        if p.egt_cofunding and p.max_places:
            places = sum(Decimal(str(r.places if r.places is not None else r.entries or 0))
                         for r in model.instruments if r.financing == "programme" and r.pools and p.id in r.pools)
            spent += euros(Decimal(str(p.egt_cofunding)) * min(places, Decimal(p.max_places)) / Decimal(p.max_places))
    return available - spent


def cap_base(figures: BudgetFigures, base: str) -> Decimal:
    """The amount a legal cap's share applies to."""
    return {
        "egt_allocation": figures.egt_allocation,
        "spendable_funds": figures.spendable_funds,
        "new_business": figures.new_business,
    }[base]
