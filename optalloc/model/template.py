"""A commented template model: the way into optalloc for a new jobcenter (``optalloc new``).

:func:`template_text` returns the template as YAML text (every section with comments saying what its fields
mean; ``docs/model-format.md`` lists every field), :func:`write_template` writes it — or, for a path
ending in ``.xlsx``, the same model as a planning workbook (:mod:`optalloc.model.importer`). The template
validates and solves as it stands; its figures are invented for illustration and say so.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError

TEMPLATE = """\
# optalloc model — TEMPLATE: every figure below is invented; replace it with your programme's.
# One file per jobcenter-year. docs/model-format.md lists every field; `optalloc validate FILE` checks it,
# `optalloc solve FILE` plans. Money is in euros to the cent; shares are 0–1 (0.25 = 25 %).

meta:
  jobcenter: __JOBCENTER__
  year: __YEAR__
  title: Arbeitsmarkt- und Integrationsprogramm __YEAR__ (template)
  gloss: labour-market and integration programme (template with invented figures)
  document: ""                 # where the programme is published
  # Integration rates: a name (found in a `rates` folder beside this file, then in optalloc's packaged
  # defaults) or a path relative to this file.
  rates_file: sgb2-defaults
  labels:                      # report headings in your programme's words (each optional)
    budget: Budget
    areas: Priority areas

# The budget: spendable funds = allocation − shift to administration + expected returns; the new-business
# budget = spendable funds − commitments from earlier years. What new entries may cost this year.
budget:
  egt_allocation: 12000000.00
  shift_to_administration: 2000000.00
  expected_returns: 100000.00
  commitments: 4187654.33
  reserve_amount: 100000.00    # kept back for the year (or reserve_share: 0.02, or 'official': what the plan leaves)

# Pools of money. Exactly one is the new-business budget (derived: new_business); others are earmarked
# (a programme's grant, state money) and pay only the rows that name them in `pools`.
pools:
  - id: egt
    name: Neufallbudget (EGT)
    derived: new_business
  - id: state_programme
    name: Landesprogramm Coaching
    amount: 150000.00
    planning_share: 1.0        # plan with this share of the amount

# Legal caps on spending categories, as a share of a base (none here). For example:
#  - {id: free_promotion, name: "§ 16f at most 20 %", categories: ["16f"], max_share: 0.2, base: egt_allocation}
caps: []

# Target groups: who the rows reach. customer_share (of all customers) or stock (a head count) are optional.
groups:
  - {id: u25, name: Jugendliche unter 25, customer_share: 0.2}
  - {id: long_term, name: Langzeitleistungsbeziehende, customer_share: 0.6}
customers: 15000

# Planning assumptions (each an assumption with a range, or sourced with its source).
assumptions:
  bounds:                      # the fallback box: each row the plan may change stays within these shares of
    min_share_of_official: 0.5 # its planned level, where nothing else limits it first (every report names the
    max_share_of_official: 1.5 # rows only the box sets: those levels are not findings)
    status: assumption
    range: {min_share_of_official: [0.0, 1.0], max_share_of_official: [1.2, 2.0]}
  response:                    # diminishing returns: the marginal rate falls with the level and reaches the low
    shape: concave             # end of the rate's range at low_end_at × the planned level (linear: constant rates)
    low_end_at: 1.2
    status: assumption
    range: {low_end_at: [1.1, 1.5]}

# Requirements on the groups' reach: at least a share of all entries (min_share) or a count (min_count).
coverage:
  - {id: u25_reach, group: u25, min_share: 0.12, source: "template — at least 12 % of all entries reach young people"}

# Decisions the programme states, as rules on the entries (or money) of some rows, each citing its source.
policy:
  - id: training_kept
    name: further training not cut
    rows: [qualification]
    measure: money
    min: official
    source: template — "Weiterbildung wird nicht gekürzt" (replace with the programme's own words)

# Bonus weights per group: a row's integrations count (1 + Σ share × bonus). Empty: every integration counts 1.
priorities: {long_term: 0.25}

# Areas group the rows in the reports (the programme's priority areas or budget chapters).
areas:
  - {id: placement, name: Vermittlung und Aktivierung}
  - {id: qualification, name: Qualifizierung}
  - {id: employment, name: Beschäftigung}

# Rows: one per instrument or budget line. `financing` says what its cells mean:
#   new         entries bought with new money (entries, new_funds); the plan may change them
#   money_only  a budget line with money and no entries; kept as printed, unless it is valued:
#               a rate class per 1,000 € (per: thousand_euros) plans it in euros, or a unit_cost with a
#               class per entry plans it in (fractional) entries = money ÷ unit cost
#   prepaid     entries bought in earlier years (no new money; fixed)
#   (also: shared, partly_prepaid, external, programme, info — see docs/model-format.md)
# rate_class names a class of the rates file; groups give the share of the row's entries reaching a group.
instruments:
  - id: activation
    name: Aktivierung und berufliche Eingliederung (§ 45 SGB III)
    area: placement
    financing: new
    entries: 1200
    places: 400                # places bought (optional; with capacity: places they limit the row)
    new_funds: 1512345.67
    rate_class: activation
    groups: {u25: 0.2, long_term: 0.6}
  - id: wage_subsidies
    name: Eingliederungszuschüsse (EGZ)
    area: placement
    financing: new
    entries: 250
    new_funds: 600000.00
    rate_class: egz
    groups: {long_term: 0.4}
    bounds: {max: 300}         # a row's own bounds (entries) override the fallback box
    bounds_note: employers' demand expected by the employer service (template)
  - id: coaching
    name: Coaching (Landesprogramm)
    area: placement
    financing: new
    entries: 100
    new_funds: 150000.00
    pools: [state_programme]   # paid from the earmarked pool only
    rate_class: activation
    groups: {long_term: 1.0}
  - id: qualification
    name: Berufliche Weiterbildung (FbW)
    area: qualification
    financing: money_only      # a budget line valued by a unit cost: 1,800,000 ÷ 6,800 = 264.7 entries
    new_funds: 1800000.00
    unit_cost: 6800.00
    rate_class: fbw
    groups: {u25: 0.15, long_term: 0.5}
  - id: youth_line
    name: Förderung junger Menschen (Teilbudget)
    area: qualification
    financing: money_only      # a budget line valued per 1,000 €, planned in euros: no entries
    new_funds: 700000.00
    rate_class: youth_activation_per_1000
    bounds: {min: 400000.00}   # euros for a line planned in euros
    bounds_note: contracts already placed for the year (template)
  - id: work_opportunities
    name: Arbeitsgelegenheiten (AGH)
    area: employment
    financing: money_only
    new_funds: 900000.00
    rate_class: agh_mae_per_1000
  - id: placement_budget
    name: Vermittlungsbudget
    area: placement
    financing: money_only      # no valuation: kept as printed
    new_funds: 300000.00
  - id: training_prepaid
    name: Weiterbildung, in Vorjahren eingekauft
    area: qualification
    financing: prepaid         # entries this year at no new cost (bought earlier)
    entries: 40
    rate_class: fbw
"""


def template_text(jobcenter: str = "Musterstadt", year: int = 2026) -> str:
    """The template model as YAML text, for ``jobcenter`` and ``year``."""
    name = jobcenter.strip() or "Musterstadt"
    quoted = name if name.replace(" ", "").replace("-", "").isalnum() else '"' + name.replace('"', "'") + '"'
    return TEMPLATE.replace("__JOBCENTER__", quoted).replace("__YEAR__", str(int(year)))


def write_template(path: Path | str, jobcenter: str = "Musterstadt", year: int = 2026, force: bool = False) -> Path:
    """Write the template to ``path`` (YAML, or a planning workbook for ``.xlsx``); refuses to overwrite an
    existing file unless ``force``. Returns the path written."""
    from ..outputs.export import write_file

    path = Path(path)
    if not 2005 <= int(year) <= 2100:
        raise UsageError("--year", year, "a year from 2005 to 2100")
    if path.exists() and not force:
        raise UsageError("FILE", str(path), "a file that does not exist yet (or --force to overwrite it)")
    text = template_text(jobcenter, year)
    if path.suffix.lower() == ".xlsx":
        from .importer import model_workbook

        content: str | bytes = model_workbook(text)
    elif path.suffix.lower() in (".yaml", ".yml"):
        content = text
    else:
        raise UsageError("FILE", str(path), "a path ending in .yaml (the model file) or .xlsx (a planning workbook)")
    return write_file(path.parent if str(path.parent) else Path("."), path.name, content)
