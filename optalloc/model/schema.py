"""Input schema: what a model file and a rates file may contain (pydantic, the boundary of the library).

A *model file* describes one jobcenter-year as its programme document prints it: budget, earmarked pools,
legal caps, target groups, priority areas, the Kennzahlen table and every instrument row. A *rates file*
holds the expected integrations per entry by class of instrument. These classes check types, ranges and
the rules of a single row; cross-references between sections are checked in :mod:`optalloc.model.loading`.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

MAX_MONEY = 1e10  # 10 billion €: far above any jobcenter (the whole federal EGT is about 5 billion)
MAX_COUNT = 10_000_000

_GERMAN_NUMBER = re.compile(r"^-?\d{1,3}(\.\d{3})+(,\d+)?$|^-?\d+,\d+$")


def _text_hint(text: str) -> str | None:
    """What to write instead of a number given as text: German format, or an exponent YAML does not read."""
    stripped = text.strip().replace("€", "").strip()
    if _GERMAN_NUMBER.match(stripped):
        plain = stripped.replace(".", "").replace(",", ".")
        return f"a plain number such as {plain} (German number format is not read)"
    try:
        number = float(stripped)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    if "e" in stripped.lower():
        mantissa, exponent = stripped.lower().split("e")
        mantissa += "" if "." in mantissa else ".0"
        sign = exponent[0] if exponent[:1] in ("+", "-") else "+"
        return (f"a number; YAML reads {stripped} as text: write {mantissa}e{sign}{exponent.lstrip('+-')} "
                f"(a dot and a signed exponent) or {number:.15g}")
    return f"a number, not text: write {number:.15g} without quotes"


def _number(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("a number, not true/false")
    if isinstance(value, str):
        raise ValueError(_text_hint(value) or "a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("a finite number (not NaN or infinity)")
    return value


def _count(value: object) -> object:
    value = _number(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("a whole number")
        return int(value)
    return value


def _cents(value: float) -> float:
    """A sum of money has whole cents: more decimals would be rounded somewhere without a word."""
    exponent = Decimal(repr(float(value))).as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError(f"euros to the cent, at most two decimals ({value!r} has {-exponent}): round it in the file "
                         f"(to {Decimal(repr(float(value))).quantize(Decimal('0.01'))}, say) so that no rounding is "
                         "hidden")
    return value


ID_PATTERN = r"^[a-z][a-z0-9_]*$"
LINE_PATTERN = r"^[IVX]+\.[a-z0-9_]+$"
PURPOSE_PATTERN = r"^[IVX]+$"
PATTERN_WORDS = {
    ID_PATTERN: "an id of lower-case letters, digits and '_', starting with a letter (such as 'agh_mae')",
    LINE_PATTERN: "a Kennzahlen line id: the purpose in Roman numerals, a dot, a lower-case name (such as 'III.egz')",
    PURPOSE_PATTERN: "a purpose in Roman numerals (I to VII)",
}
"""What each id pattern means, for messages."""

Number = Annotated[float, BeforeValidator(_number)]
Money = Annotated[float, BeforeValidator(_number), Field(ge=0, le=MAX_MONEY), AfterValidator(_cents)]
Share = Annotated[float, BeforeValidator(_number), Field(ge=0, le=1)]
Count = Annotated[int, BeforeValidator(_count), Field(ge=0, le=MAX_COUNT)]
Places = Annotated[int, BeforeValidator(_count), Field(ge=1, le=MAX_COUNT)]
Level = Annotated[float, BeforeValidator(_number), Field(ge=0, le=MAX_MONEY)]
Rate = Annotated[float, BeforeValidator(_number), Field(ge=-1, le=1)]
"""A net effect: integrations per entry caused by the measure, from -1 to 1 (it may be below 0)."""
GrossRate = Annotated[float, BeforeValidator(_number), Field(ge=0, le=1)]
"""A gross rate: the share of entries followed by work, from 0 to 1."""
Ident = Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]

Financing = Literal[
    "new", "shared", "prepaid", "partly_prepaid", "money_only", "external", "programme", "info"
]
Cell = Literal["entries", "places", "money"]
Basis = Literal["gross", "net"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Labels(Strict):
    """Headings of the reports in the programme's own words (each optional: a neutral heading otherwise)."""

    budget: str = ""  # e.g. "Budget (chapter 2)"
    areas: str = ""  # e.g. "Priority areas (chapter 5.5, Anhang I)"
    kennzahlen: str = ""  # e.g. "Kennzahlen (chapter 3): entries by purpose, Zweckbestimmung I–VII"
    entries_total: str = ""  # e.g. "entries, all rows (incl. ESF-LZA and ST places)"


class Meta(Strict):
    jobcenter: str
    year: Annotated[int, Field(ge=2005, le=2100)]
    title: str
    gloss: str = ""
    document: str = ""
    document_date: str = ""
    currency: Literal["EUR"] = "EUR"
    rates_file: str  # a name (sgb2-defaults: the project's rates folder, then the packaged defaults) or a path
    labels: Labels = Labels()


class PrintedBudget(Strict):
    spendable_funds: Money | None = None
    new_business: Money | None = None


class Budget(Strict):
    """The budget items as the programme prints them. Spendable funds and the
    new-business budget are derived from them."""

    egt_allocation: Money
    shift_to_administration: Money
    vbl_credit: Money = 0.0
    expected_returns: Money = 0.0
    commitments: Money = 0.0
    reserve_share: Share = 0.0
    reserve_amount: Money | Literal["official"] | None = None
    vbl_pool: Literal["merged", "separate"] = "merged"
    printed: PrintedBudget = PrintedBudget()

    @model_validator(mode="after")
    def _one_reserve(self) -> Budget:
        if self.reserve_share > 0 and self.reserve_amount is not None:
            raise ValueError("give the reserve as 'reserve_share' or as 'reserve_amount', not both")
        return self


class PrintedPool(Strict):
    available: Money | None = None
    available_percent: Annotated[float, BeforeValidator(_number), Field(ge=0, le=100)] | None = None
    reserved_percent: Annotated[float, BeforeValidator(_number), Field(ge=0, le=100)] | None = None


class Pool(Strict):
    """A source of money. ``egt`` is derived from the budget; the others have an amount of their own. With
    ``max_places``, the places of all rows whose ``pools`` name the pool (each row's level × its printed places ÷
    its printed entries; one place per unit of level where it prints no places or no entries) stay within
    ``max_places``."""

    id: Ident
    name: str
    gloss: str = ""
    derived: Literal["new_business"] | None = None
    amount: Money | None = None
    planning_share: Share = 1.0
    status: str = ""
    reserved: dict[str, Money] = {}
    max_places: Places | None = None  # 0 places would leave the co-funding per place undefined
    egt_cofunding: Money | None = None
    printed: PrintedPool = PrintedPool()

    @model_validator(mode="after")
    def _amount_or_derived(self) -> Pool:
        if (self.amount is None) == (self.derived is None):
            raise ValueError("a pool needs exactly one of 'amount' (a number) or 'derived: new_business'")
        if self.egt_cofunding is not None and self.max_places is None:
            raise ValueError("'egt_cofunding' is given per place: the pool needs 'max_places' too")
        return self


class Cap(Strict):
    """A legal spending cap: the money of rows in ``categories`` at most ``max_share`` × ``base``."""

    id: Ident
    name: str
    categories: list[Literal["16e", "16f", "16h"]] = Field(min_length=1)
    max_share: Share
    base: Literal["egt_allocation", "spendable_funds", "new_business"]
    committed: Money = 0.0
    committed_status: Literal["sourced", "assumption"] = "assumption"
    committed_note: str = ""
    source: str = ""


class Group(Strict):
    id: Ident
    name: str
    gloss: str = ""
    customer_share: Share | None = None
    stock: Count | None = None
    note: str = ""


class Documented(Strict):
    """A planning figure that is not in the document: whether it is sourced (then ``source`` says where
    from) or an assumption, the ``range`` of its plausible values, and a note on how it is used."""

    status: Literal["sourced", "assumption"] = "assumption"
    range: dict[str, tuple[Number, Number]] = {}
    source: str = ""
    note: str = ""

    @model_validator(mode="after")
    def _sourced_has_source(self) -> Documented:
        if self.status == "sourced" and not self.source:
            raise ValueError("a 'sourced' figure needs 'source'")
        for name, (low, high) in self.range.items():
            if low > high:
                raise ValueError(f"range.{name}: [{low:g}, {high:g}] — a range [low, high] with low at most high")
        return self


class BoundsAssumption(Documented):
    """The fallback box: a row stays between these shares of its planned entries where nothing else
    limits it first (``scenario_sides`` names the sides a scenario set: reports call them the scenario's).
    A row's own ``bounds`` replace the box on each side they give (see Bounds); a capacity (places, contract
    or posts) below the box's minimum (the model's or a scenario's) lowers the minimum to the capacity; a
    minimum a scenario sets on the row itself overrides the capacity (the scenario changes the contract)."""

    min_share_of_official: Annotated[float, BeforeValidator(_number), Field(ge=0, le=1)]
    max_share_of_official: Annotated[float, BeforeValidator(_number), Field(ge=1, le=100)]
    scenario_sides: dict[Literal["min", "max"], str] = {}  # the sides a scenario set, with the scenario's name


class ResponseAssumption(Documented):
    """Diminishing returns: the marginal rate falls linearly with the level, averages the row's rate over its
    planned entries, reaches the low end of the rate's range at ``low_end_at`` × the planned entries (1.2
    unless given; raised for a row whose first entries would otherwise get a rate above 1) and falls on at the
    same slope to min(low end, 0). No row chooses its own shape: every row with entries (and every money-only
    line the plan values) gets its rate and the class's spread, value − low (× |row's rate ÷ class value|
    where the row or a scenario sets its own rate); a row with no spread, no planned entries or a rate of 1
    keeps one constant rate. ``shape: linear``, or a model without ``assumptions.response``, keeps constant
    rates for every row."""

    shape: Literal["concave", "linear"] = "concave"
    low_end_at: Annotated[float, BeforeValidator(_number), Field(gt=1, le=10)] = 1.2


class CapacityAssumption(Documented):
    """Contracted capacity: ``capacity: places`` carries at most places × turnover (planned entries per place,
    shared with the rows naming it in ``places_in``) × the row's ``capacity_factor`` × (1 + ``extension_share``)
    entries, ``capacity: contract`` its planned entries × ``capacity_factor`` × (1 + ``extension_share``).
    While ``extension_share`` is below 1, each row of such a contract also keeps at least (1 −
    ``extension_share``) × its planned entries; where fewer places are bought (a ``capacity_factor`` below
    (1 − e) ÷ (1 + e)) the floor is the capacity bought: the row uses all of it. A bound a scenario sets on
    the row itself (``min``, ``max``, ``fix``, ``drop``) overrides the floor and the capacity."""

    extension_share: Annotated[float, BeforeValidator(_number), Field(ge=0, le=10)]


class EmployersAssumption(Documented):
    """Employers' demand: a row with ``capacity: posts`` carries at most its printed posts (Stellen) × its
    ``capacity_factor`` × (1 + ``growth_share``) entries; posts keep no floor."""

    growth_share: Annotated[float, BeforeValidator(_number), Field(ge=0, le=10)]


class ParticipationAssumption(Documented):
    """Customer stock: entries reaching a group within ``max_share`` of its average stock."""

    max_share: Share


class Assumptions(Strict):
    bounds: BoundsAssumption
    response: ResponseAssumption | None = None
    capacity: CapacityAssumption | None = None
    employers: EmployersAssumption | None = None
    participation: ParticipationAssumption | None = None


class Coverage(Strict):
    """Entries (or money) reaching a group: at least a share of the plan's total, or a count."""

    id: Ident
    group: Ident
    basis: Literal["entries", "money"] = "entries"
    min_share: Share | None = None
    min_count: Level | Literal["official"] | None = None
    source: str = ""

    @model_validator(mode="after")
    def _one_requirement(self) -> Coverage:
        if (self.min_share is None) == (self.min_count is None):
            raise ValueError("a coverage requirement needs exactly one of 'min_share' or 'min_count'")
        return self


class PolicyRule(Strict):
    """A decision the document states, as a rule on the entries (or money) of some rows: at least ``min``
    and/or at most ``max``, each a number or ``official`` (what the official plan gives those rows).
    ``part`` counts a "davon" part of each row instead of the whole: its printed share of the row's
    printed entries (the rows counted in it included), as the Kennzahlen count it."""

    id: Ident
    name: str
    rows: list[Ident] = Field(min_length=1)
    measure: Literal["entries", "money"] = "entries"
    part: Ident | None = None
    min: Level | Literal["official"] | None = None
    max: Level | Literal["official"] | None = None
    source: Annotated[str, Field(min_length=10)]

    @model_validator(mode="after")
    def _a_limit(self) -> PolicyRule:
        if self.min is None and self.max is None:
            raise ValueError("a policy rule needs 'min' or 'max' (a number or 'official')")
        if isinstance(self.min, float) and isinstance(self.max, float) and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is above max ({self.max:g})")
        return self


class PrintedSums(Strict):
    entries: Count | None = None
    money: Money | None = None


class Area(Strict):
    id: Ident
    chapter: str = ""  # where the document prints the area's table (leave empty if it has none)
    name: str
    gloss: str = ""
    printed: PrintedSums = PrintedSums()


class KennzahlLine(Strict):
    id: Annotated[str, Field(pattern=LINE_PATTERN)]
    name: str
    printed: Count
    parenthesised: bool = False
    cell: str = ""


class Purpose(Strict):
    id: Annotated[str, Field(pattern=PURPOSE_PATTERN)]
    name: str
    gloss: str = ""
    printed: Count
    lines: list[KennzahlLine] = Field(min_length=1)


class Kennzahlen(Strict):
    printed_total: Count
    purposes: list[Purpose] = Field(min_length=1)


class Part(Strict):
    """A "davon" line: a split of its row."""

    id: Ident
    name: str
    entries: Count | None = None
    places: Count | None = None


class Bounds(Strict):
    """Entries (euros for a money-only line) the plan may give a row. Each end given replaces the fallback
    box's end (for a fixed row, its printed level) on that side; an end left out keeps the box's, unless the
    given end crosses it: a ``max`` below the box's minimum (without ``min``) fixes the row at ``max``, a
    ``min`` above the box's maximum (without ``max``) at ``min``. Capacities and contract floors apply on top
    of the document's bounds (a conflict is diagnosed); a bound a scenario sets on the row (``min``, ``max``,
    ``fix``, ``drop``) overrides them — the scenario changes the contract."""

    min: Level | None = None
    max: Level | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Bounds:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is above max ({self.max:g})")
        return self


class RateOverride(Strict):
    gross: GrossRate | None = None
    net: Rate | None = None


class Instrument(Strict):
    """One row of an instrument table, as printed, with what its cells mean.

    ``max_places`` limits this row alone: its level × printed places ÷ printed entries (one place per unit of
    level where it prints no places or no entries) at most ``max_places``, with no turnover, extension or
    ``capacity_factor`` on top (refused on info and money-only rows). ``capacity_factor`` multiplies only the
    capacity the row's own ``capacity`` of places, contract or posts sets, and a contract's floor only where it
    falls below it (refused on other rows and on a row with ``places_in``); a scenario's ``capacity_factor``
    multiplies the row's, as rate and cost factors do.
    A decision row with ``entries_in`` is planned with its own entries, taken off the named row's level; an
    ``info`` row is planned nowhere, and the entries it counts in the row its ``entries_in`` names (it may
    give ``entries`` only with ``entries_in``) stay in that row's level and plan."""

    id: Ident
    name: str
    gloss: str = ""
    area: Ident
    financing: Financing
    entries: Count | None = None
    places: Count | None = None
    new_funds: Money | None = None
    vbl: Money = 0.0
    cells: dict[str, str] = {}
    parenthesised: list[Cell] = []
    breakdown: list[Part] = []
    kennzahl: str | dict[str, str] | None = None
    groups: dict[Ident, Share] = {}
    group_basis: str = ""
    rate_class: Ident | None = None
    rate: RateOverride | None = None
    legal_basis: str = ""
    cap_category: Literal["16e", "16f", "16h"] | None = None
    pools: list[Ident] | None = None
    bounds: Bounds | None = None
    bounds_note: str = ""
    scenario_bounds: dict[Literal["min", "max"], str] = {}  # the sides a scenario set, with the scenario's name
    unit_cost: Annotated[float, BeforeValidator(_number), Field(gt=0, le=MAX_MONEY)] | None = None
    max_places: Count | None = None
    capacity: Literal["places", "contract", "posts", "demand"] | None = None
    capacity_factor: Annotated[float, BeforeValidator(_number), Field(gt=0, le=100)] = 1.0
    places_in: Ident | None = None
    lot_size: Annotated[int, BeforeValidator(_count), Field(ge=1, le=10_000)] | None = None
    money_in: Ident | None = None
    entries_in: Ident | None = None
    info_of: Ident | None = None
    paid_by: str = ""
    printed_share_of_pool: Share | None = None
    note: str = ""

    @model_validator(mode="after")
    def _cells_fit_financing(self) -> Instrument:
        f = self.financing
        has_money = (self.new_funds or 0) + self.vbl > 0
        if f != "info" and f != "money_only" and self.entries is None:
            raise ValueError(f"a '{f}' row needs 'entries' (a whole number)")
        if f in ("new", "partly_prepaid", "programme") and not has_money:
            raise ValueError(f"a '{f}' row needs money: 'new_funds' or 'vbl' above 0")
        if f == "money_only":
            if self.new_funds is None:
                raise ValueError("a 'money_only' row needs 'new_funds'")
            if self.entries is not None:
                raise ValueError("a 'money_only' row has no 'entries' (use financing: new)")
        if f in ("shared", "prepaid", "external") and has_money:
            raise ValueError(f"a '{f}' row carries no money of its own (remove 'new_funds'/'vbl')")
        if f == "shared" and self.money_in is None:
            raise ValueError("a 'shared' row needs 'money_in': the row whose budget pays it")
        if f != "shared" and self.money_in is not None:
            raise ValueError("'money_in' belongs to 'shared' rows only")
        if f == "external" and not self.paid_by:
            raise ValueError("an 'external' row needs 'paid_by': who pays it")
        if f == "programme" and not self.pools:
            raise ValueError("a 'programme' row needs 'pools': the programme that pays it")
        if f == "programme" and self.vbl > 0:
            raise ValueError("a 'programme' row is paid from its programme's pool by its 'new_funds': a VBL part "
                             "('vbl') is read for new, shared and partly prepaid rows only (give the money as "
                             "'new_funds')")
        if f == "info" and self.entries is not None and self.entries_in is None:
            raise ValueError("an 'info' row has no entries of its own (or names 'entries_in')")
        if self.rate is not None and (f == "info" or (f == "money_only" and self.rate_class is None)):
            raise ValueError(f"{'an' if f == 'info' else 'a'} '{f}' row has no entries, so no rate: leave out 'rate' "
                             "(it would be ignored)"
                             + (" or value the line with 'rate_class'" if f == "money_only" else ""))
        if self.unit_cost is not None and f not in ("new", "shared", "money_only"):
            raise ValueError("'unit_cost' can override the cost of 'new' or 'shared' rows only")
        if f == "money_only" and self.unit_cost is not None and self.rate_class is None:
            raise ValueError("a 'money_only' row with 'unit_cost' needs 'rate_class': the class whose rate per entry "
                             "values its entries (money ÷ unit cost)")
        if self.capacity is not None and f in ("info", "money_only"):
            raise ValueError(f"an '{f}' row has no entries to limit: leave out 'capacity'")
        if self.capacity == "places" and self.places is None and self.places_in is None:
            raise ValueError("a 'capacity: places' row needs printed 'places' (or 'places_in': the row whose places "
                             "it shares)")
        if self.capacity == "posts" and self.places is None:
            raise ValueError("a 'capacity: posts' row needs printed 'places' (the posts at employers, Stellen)")
        if self.places_in is not None and self.capacity != "places":
            raise ValueError("'places_in' belongs to a row with 'capacity: places'")
        if self.max_places is not None and f in ("info", "money_only"):
            raise ValueError(f"{'an' if f == 'info' else 'a'} '{f}' row has no entries, so no places to limit: "
                             "leave out 'max_places'"
                             + (" (it would cap the line's euros as if they were places)" if f == "money_only" else ""))
        if self.capacity_factor != 1 and (self.capacity not in ("places", "contract", "posts") or self.places_in):
            raise ValueError("'capacity_factor' multiplies a capacity of the row's own (places, contract or posts); "
                             f"this row has {self.capacity or 'none'}"
                             + (f" (its places are {self.places_in}'s)" if self.places_in else "")
                             + ": leave it out (it would be ignored)")
        return self


class Discrepancy(Strict):
    """A disagreement inside the document: a check whose printed and computed values differ, explained."""

    check: Annotated[str, Field(min_length=3)]
    printed: Number
    computed: Number
    tolerance: Annotated[float, BeforeValidator(_number), Field(ge=0)] = 0.0
    reproduce: dict[Literal["count_places_for"], list[Ident]] = {}
    explanation: Annotated[str, Field(min_length=10)]

    @model_validator(mode="after")
    def _a_disagreement(self) -> Discrepancy:
        difference = abs(Decimal(repr(self.printed)) - Decimal(repr(self.computed)))
        if difference == 0:
            raise ValueError(f"printed and computed are both {self.printed:.12g}: a discrepancy records two figures "
                             "that differ (leave out the record when the document agrees with itself)")
        if Decimal(repr(self.tolerance)) > difference:
            raise ValueError(f"tolerance {self.tolerance:.12g} exceeds the recorded difference "
                             f"{float(difference):.12g} between printed and computed: a tolerance covers rounding of "
                             "that difference, at most all of it")
        return self


class TextNote(Strict):
    where: str
    text: str
    note: str


class Model(Strict):
    """A planning model: one jobcenter-year."""

    meta: Meta
    budget: Budget
    pools: list[Pool] = Field(min_length=1)
    caps: list[Cap] = []
    groups: list[Group] = []
    customers: Count | None = None
    assumptions: Assumptions
    coverage: list[Coverage] = []
    policy: list[PolicyRule] = []
    priorities: dict[Ident, Annotated[float, BeforeValidator(_number), Field(ge=0, le=100)]] = {}
    areas: list[Area] = Field(min_length=1)
    kennzahlen: Kennzahlen | None = None
    instruments: list[Instrument] = Field(min_length=1)
    discrepancies: list[Discrepancy] = []
    text_notes: list[TextNote] = []


# ----- rates file -----


class RateFigure(Strict):
    """A net effect with its plausible range (from -1 to 1: a measure may lower the chances)."""

    value: Rate
    low: Rate
    high: Rate
    status: Literal["sourced", "assumption"]
    source: str = ""
    anchor: str = ""
    period: str = ""
    caveat: str = ""

    @model_validator(mode="after")
    def _in_range(self) -> RateFigure:
        if not self.low <= self.value <= self.high:
            raise ValueError(f"value {self.value:g} lies outside its range [{self.low:g}, {self.high:g}]: "
                             "'value' must lie between 'low' and 'high'")
        if self.status == "sourced" and not self.source:
            raise ValueError("a 'sourced' figure needs 'source'")
        if self.status == "assumption" and not self.anchor:
            raise ValueError("an 'assumption' needs 'anchor': what it is based on")
        return self


class GrossRateFigure(RateFigure):
    """A gross rate with its plausible range: the value is a share of entries, from 0 to 1."""

    value: GrossRate


class RateClass(Strict):
    """Expected integrations of a class of instrument: per entry (``per: entry``, the default), or per
    1,000 € of a money line's budget (``per: thousand_euros``: a line planned in euros, without entries)."""

    name: str
    gloss: str = ""
    per: Literal["entry", "thousand_euros"] = "entry"
    gross: GrossRateFigure
    net: RateFigure


class RatesMeta(Strict):
    title: str
    compiled_from: str = ""
    default_basis: Basis = "gross"


class Rates(Strict):
    meta: RatesMeta
    classes: dict[Ident, RateClass] = Field(min_length=1)
