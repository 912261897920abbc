"""The model format in words, generated from the input schema so that it cannot drift from it.

:func:`model_format` returns ``docs/model-format.md``: every section and field of a model file and of a
rates file (from the pydantic classes of :mod:`optalloc.model.schema`: type, allowed values, default, whether
required) with what it means (:data:`MEANINGS`, one sentence per field), and the sheets and columns of a
planning workbook (:mod:`optalloc.model.importer`). :func:`json_schema` returns ``docs/model-schema.json``, the
JSON Schema of a model file with the same sentences as descriptions, for editors (the YAML language server
reads it from a first line ``# yaml-language-server: $schema=<path>/model-schema.json``).

``python -m optalloc.model.schema_doc`` writes both files; ``tests/test_template.py`` regenerates them and
compares, and fails on a field without a sentence here.
"""

from __future__ import annotations

import functools
import json
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from . import schema

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "model-format.md"
JSON_SCHEMA = ROOT / "docs" / "model-schema.json"

_DOCUMENTED = {
    "status": "'sourced' (then `source` says where from) or 'assumption'",
    "range": "the plausible values of each figure: a mapping of the figure's name to [low, high]",
    "source": "where the figure comes from (required when status is 'sourced')",
    "note": "how the figure is used, in words",
}

MEANINGS: dict[str, dict[str, str]] = {
    "Model": {
        "meta": "who, which year, which document, which rates file, report headings",
        "budget": "the budget items: allocation, shift to administration, returns, commitments, reserve",
        "pools": "sources of money: exactly one new-business pool (derived) and any earmarked pools",
        "caps": "legal spending caps on categories of rows (§ 16e, § 16f, § 16h SGB II)",
        "groups": "target groups the rows reach",
        "customers": "the average number of customers (eLb), for the groups' customer shares",
        "assumptions": "planning figures that are not in the programme, each with its status and range",
        "coverage": "requirements on the entries (or money) reaching a group",
        "policy": "decisions the programme states, as rules on the entries or money of some rows",
        "priorities": "bonus weight per group: a row's integrations count 1 + Σ share × bonus",
        "areas": "the areas (priority areas, budget chapters) that group the rows in the reports",
        "kennzahlen": "a table of entries by legal purpose, as the programme prints it (optional: left out of the "
                      "reports when absent)",
        "instruments": "one row per instrument or budget line, as printed",
        "discrepancies": "disagreements inside the programme's own figures, each recomputed and explained",
        "text_notes": "notes on the programme's running text that no figure depends on",
    },
    "Meta": {
        "jobcenter": "the jobcenter's name",
        "year": "the plan year",
        "title": "the programme's title",
        "gloss": "the title in English, or a short description",
        "document": "where the programme is published (a path or an address)",
        "document_date": "the programme's date, as text (\"2016-02-25\")",
        "currency": "always EUR",
        "rates_file": "the integration rates: a name (sgb2-defaults: looked up in a `rates` folder beside the model "
                      "file, then in optalloc's packaged defaults) or a path relative to the model file",
        "labels": "report headings in the programme's own words (each optional; neutral headings otherwise)",
    },
    "Labels": {
        "budget": "the heading of the budget derivation (\"Budget (chapter 2)\")",
        "areas": "the heading of the areas' sums (\"Priority areas (chapter 5.5, Anhang I)\")",
        "kennzahlen": "the heading of the Kennzahlen table",
        "entries_total": "the summary's line of all entries (\"entries, all rows (incl. ... places)\")",
    },
    "Budget": {
        "egt_allocation": "the integration budget allocated to the jobcenter (Zuteilung EGL), €",
        "shift_to_administration": "moved to the administration budget (Umschichtung), €",
        "vbl_credit": "a one-time credit that reduces the shift (VBL), €",
        "expected_returns": "money expected back during the year (Rückeinnahmen), €",
        "commitments": "what entries of earlier years cost this year (Vorbindungen), €",
        "reserve_share": "kept back for the year, as a share of the new-business budget",
        "reserve_amount": "kept back for the year, in euros, or 'official': what the official plan leaves unplanned",
        "vbl_pool": "'merged' (the VBL credit is part of the new-business budget) or 'separate' (a pool of its own)",
        "printed": "the budget figures the programme prints, to check the derivation against",
    },
    "PrintedBudget": {
        "spendable_funds": "the spendable funds (Ausgabemittel) as printed, €",
        "new_business": "the new-business budget (Neufallbudget) as printed, €",
    },
    "Pool": {
        "id": "the pool's id, used by rows' `pools`",
        "name": "the pool's name",
        "gloss": "the name in English, or a short description",
        "derived": "'new_business' for the one pool the new-business budget fills",
        "amount": "an earmarked pool's money, €",
        "planning_share": "the share of the amount the plan counts on",
        "status": "how firm the amount is, in words",
        "reserved": "parts kept for other purposes: name → €",
        "max_places": "places the programme grants: its rows' places (level × printed places ÷ printed entries) stay "
                      "within",
        "egt_cofunding": "the new-business money each programme place needs in all (per max_places), €",
        "printed": "the pool's figures as printed, to check against",
    },
    "PrintedPool": {
        "available": "what the pool makes available, as printed, €",
        "available_percent": "the same as a percentage of the amount",
        "reserved_percent": "the reserved parts as a percentage of the amount",
    },
    "Cap": {
        "id": "the cap's id",
        "name": "the cap in words",
        "categories": "the categories of rows it caps (16e, 16f, 16h: a row's `cap_category`)",
        "max_share": "at most this share of the base",
        "base": "what the share applies to: egt_allocation, spendable_funds or new_business",
        "committed": "what earlier commitments already spend in these categories, €",
        "committed_status": "'sourced' or 'assumption'",
        "committed_note": "where `committed` comes from",
        "source": "the legal source of the cap",
    },
    "Group": {
        "id": "the group's id, used by rows' `groups`, coverage and priorities",
        "name": "the group's name",
        "gloss": "the name in English",
        "customer_share": "its share of all customers (with `customers`: its stock)",
        "stock": "its average stock, a head count",
        "note": "where the figures come from",
    },
    "Assumptions": {
        "bounds": "the fallback box: the shares of a row's planned level it may move within where nothing else "
                  "limits it (every report names the rows only the box sets)",
        "response": "diminishing returns of each row",
        "capacity": "contracted capacity: the legal extension of contracts",
        "employers": "employers' demand: the growth of the printed posts",
        "participation": "customer stock: the share of a group's stock the entries may reach in a year",
    },
    "BoundsAssumption": {
        **_DOCUMENTED,
        "min_share_of_official": "a row stays at least at this share of its planned level",
        "max_share_of_official": "a row stays at most at this multiple of its planned level",
        "scenario_sides": "set by scenarios: which sides a scenario changed (reports call them the scenario's)",
    },
    "ResponseAssumption": {
        **_DOCUMENTED,
        "shape": "'concave' (diminishing returns) or 'linear' (constant rates)",
        "low_end_at": "where the marginal rate reaches the low end of the rate's range, × the planned level (1.2 "
                      "unless given)",
    },
    "CapacityAssumption": {**_DOCUMENTED, "extension_share": "contracts may grow by this share (§ 130 Abs. 2 GWB: 0.2)"},
    "EmployersAssumption": {**_DOCUMENTED, "growth_share": "employers' printed posts may grow by this share"},
    "ParticipationAssumption": {**_DOCUMENTED, "max_share": "entries reaching a group stay within this share of its stock"},
    "Coverage": {
        "id": "the requirement's id",
        "group": "the group it is about",
        "basis": "'entries' or 'money' reaching the group (rows planned in euros count in neither)",
        "min_share": "at least this share of all entries (or money)",
        "min_count": "at least this many entries (or euros), or 'official': what the official plan reaches",
        "source": "why the requirement holds",
    },
    "PolicyRule": {
        "id": "the rule's id",
        "name": "the rule in words",
        "rows": "the rows it is about",
        "measure": "'entries' or 'money' of those rows",
        "part": "count only this 'davon' part of each row (its printed share)",
        "min": "at least this much, or 'official'",
        "max": "at most this much, or 'official'",
        "source": "the programme's words that state the decision (at least 10 characters)",
    },
    "Area": {
        "id": "the area's id, used by rows' `area`",
        "chapter": "where the programme prints the area's table (optional)",
        "name": "the area's name",
        "gloss": "the name in English (shown in the reports when given)",
        "printed": "the area's sums as printed, to check the rows against",
    },
    "PrintedSums": {"entries": "the printed sum of entries", "money": "the printed sum of money, €"},
    "Kennzahlen": {"printed_total": "the printed grand total of entries", "purposes": "the purposes with their lines"},
    "Purpose": {
        "id": "the purpose in Roman numerals (I to VII)",
        "name": "the purpose's name",
        "gloss": "the name in English",
        "printed": "its printed sum of entries",
        "lines": "its lines",
    },
    "KennzahlLine": {
        "id": "the line's id: the purpose, a dot, a name (III.egz)",
        "name": "the line's name",
        "printed": "its printed entries",
        "parenthesised": "printed in parentheses: not added into the sums",
        "cell": "the printed cell, where it is not a plain number",
    },
    "Instrument": {
        "id": "the row's id",
        "name": "the row's name as printed",
        "gloss": "the name in English",
        "area": "the area it belongs to",
        "financing": "what its cells mean: new (entries bought with new money), shared (paid from another row's "
                     "money), prepaid (bought earlier), partly_prepaid, money_only (a budget line without entries), "
                     "external (paid by others), programme (paid from a programme pool), info (information only: planned "
                     "nowhere; entries it counts in its `entries_in` row stay in that row's plan)",
        "entries": "planned entries (Eintritte), a whole number",
        "places": "planned places (Plätze), or employers' posts (Stellen)",
        "new_funds": "new money (Mittelansatz), €",
        "vbl": "the part of its money from the one-time VBL credit, €",
        "cells": "printed cells that are not plain numbers, as text: cell → text",
        "parenthesised": "cells printed in parentheses (not added into the area's sums): entries, places, money",
        "breakdown": "'davon' lines: splits of the row",
        "kennzahl": "the Kennzahlen line its entries count in (a mapping splits it by its breakdown)",
        "groups": "the share of its entries reaching each group: group → share",
        "group_basis": "where the group shares come from",
        "rate_class": "a class of the rates file: per entry for rows with entries; for a money-only line, a class "
                      "per 1,000 € (the line is planned in euros) or a class per entry with `unit_cost`",
        "rate": "the row's own rate, over its class's: gross and/or net",
        "legal_basis": "its legal basis",
        "cap_category": "the category a legal cap counts it in (16e, 16f, 16h)",
        "pools": "the pools that may pay it (default: the new-business pool)",
        "bounds": "the least and most the plan may give it (entries; euros for a line planned in euros)",
        "bounds_note": "why those bounds",
        "scenario_bounds": "set by scenarios: which sides a scenario changed",
        "unit_cost": "€ per entry: overrides the cost of a new or shared row; for a money-only line, turns its money "
                     "into (fractional) entries = money ÷ unit cost, valued by its class per entry",
        "max_places": "the places this row alone may use at most: level × printed places ÷ printed entries (one per "
                      "unit where none are printed), without turnover, extension or capacity_factor",
        "capacity": "what limits it: places (contracted places × turnover), contract (the printed entries), posts "
                    "(employers' posts), demand",
        "capacity_factor": "more (or fewer) places bought: the contracted capacity × this (a contract's floor falls "
                           "with it only below the floor; a scenario's multiplies it)",
        "places_in": "the row whose places it shares",
        "lot_size": "bought in lots of this many entries (whole-entry plans)",
        "money_in": "a shared row: the row whose money pays it",
        "entries_in": "the row whose printed entries include this row's (a decision row's entries come off that row's "
                      "level; an info row's stay in it)",
        "info_of": "an information row: the row it informs about",
        "paid_by": "an external row: who pays it",
        "printed_share_of_pool": "its printed share of its programme's places",
        "note": "anything else",
    },
    "Part": {"id": "the part's id", "name": "its name as printed", "entries": "its entries", "places": "its places"},
    "RateOverride": {"gross": "the gross rate (a share of entries)", "net": "the net effect (integrations caused per entry)"},
    "Bounds": {"min": "the least (replaces the box's minimum)", "max": "the most (replaces the box's maximum)"},
    "Discrepancy": {
        "check": "the id of the check (optalloc validate --checks lists them)",
        "printed": "the printed figure",
        "computed": "what the rows give",
        "tolerance": "rounding the difference may have",
        "reproduce": "how to reproduce the printed figure (count places for some rows)",
        "explanation": "why the two differ",
    },
    "TextNote": {"where": "where in the text", "text": "what it says", "note": "what it means for the plan"},
    "Rates": {"meta": "the rates file's title and default basis", "classes": "the rate classes by id"},
    "RatesMeta": {
        "title": "the file's title",
        "compiled_from": "where the figures were compiled from",
        "default_basis": "'gross' (integration rates) or 'net' (net effects): what the plan counts unless told",
    },
    "RateClass": {
        "name": "the class's name",
        "gloss": "the name in English",
        "per": "'entry' (integrations per entry) or 'thousand_euros' (per 1,000 € of a money line's budget)",
        "gross": "the gross rate (Eingliederungsquote)",
        "net": "the net effect",
    },
    "RateFigure": {
        "value": "the figure",
        "low": "the low end of its plausible range",
        "high": "the high end of its plausible range",
        "status": "'sourced' or 'assumption'",
        "source": "where it comes from (required when sourced)",
        "anchor": "what an assumption is based on (required when an assumption)",
        "period": "the period the source covers",
        "caveat": "what to keep in mind",
    },
}
MEANINGS["GrossRateFigure"] = MEANINGS["RateFigure"]


def classes(root: type[BaseModel]) -> list[type[BaseModel]]:
    """Every schema class reachable from ``root``, in the order a reader meets them."""
    out: list[type[BaseModel]] = []

    def walk(cls: type[BaseModel]) -> None:
        if cls in out:
            return
        out.append(cls)
        for info in cls.model_fields.values():
            for inner in _models(info.annotation):
                walk(inner)

    walk(root)
    return out


def _models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models(arg)]


def undescribed() -> list[str]:
    """Fields of the schema without a sentence in :data:`MEANINGS` (a test keeps this empty)."""
    return [f"{cls.__name__}.{name}" for root in (schema.Model, schema.Rates) for cls in classes(root)
            for name in cls.model_fields if name not in MEANINGS.get(cls.__name__, {})]


@functools.cache
def _class_schema(cls: type[BaseModel]) -> dict[str, Any]:
    return _standard(cls.model_json_schema(mode="validation"))


def _field_schema(cls: type[BaseModel], name: str) -> dict[str, Any]:
    return _class_schema(cls).get("properties", {}).get(name, {})


_LIMIT_KEYS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def _standard(node: Any) -> Any:
    """The JSON schema with pydantic's raw limits (``ge``, ``le``: a number type under a validator) written as
    the standard keywords (``minimum``, ``maximum``) that editors read."""
    if isinstance(node, list):
        return [_standard(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in _LIMIT_KEYS and isinstance(value, (int, float)) and "type" in node:
            out[_LIMIT_KEYS[key]] = value
        else:
            out[key] = _standard(value)
    return out


def _kind(node: dict[str, Any]) -> str:
    """A field's type and allowed values in words, from its JSON schema."""
    if "$ref" in node:
        name = node["$ref"].split("/")[-1]
        return f"[{name}](#{name.lower()})"
    options = node.get("anyOf")
    if options:
        words = [_kind(o) for o in options if o.get("type") != "null"]
        return " or ".join(dict.fromkeys(words)) or "null"
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    if "const" in node:
        return f"`{node['const']}`"
    kind = node.get("type", "any")
    if kind == "array":
        items = node.get("items") or {}
        inner = _kind(items) if items else ", ".join(_kind(i) for i in node.get("prefixItems", []))
        return f"list of {inner}" if items else f"[{inner}]"
    if kind == "object":
        values = node.get("additionalProperties")
        return f"mapping of name → {_kind(values)}" if isinstance(values, dict) else "mapping"
    words = {"number": "number", "integer": "whole number", "string": "text", "boolean": "true/false"}.get(kind, kind)
    low = node.get("minimum", node.get("exclusiveMinimum"))
    high = node.get("maximum", node.get("exclusiveMaximum"))
    limits = []
    if low is not None:
        limits.append(f"{'>' if 'exclusiveMinimum' in node else '≥'} {_num(low)}")
    if high is not None:
        limits.append(f"{'<' if 'exclusiveMaximum' in node else '≤'} {_num(high)}")
    if "pattern" in node:
        limits.append(schema.PATTERN_WORDS.get(node["pattern"], f"matching {node['pattern']}"))
    return words + (f" ({', '.join(limits)})" if limits else "")


def _num(x: float) -> str:
    if not float(x).is_integer():
        return f"{x:g}"
    return f"{int(x):,}" if abs(x) >= 100_000 else str(int(x))


def _default(cls: type[BaseModel], name: str) -> str:
    info = cls.model_fields[name]
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "—"
    if isinstance(value, BaseModel):
        return "(defaults)"
    if value in ({}, [], ""):
        return "empty"
    return f"`{value}`"


def _section(cls: type[BaseModel]) -> list[str]:
    doc = " ".join((cls.__doc__ or "").split()) if cls.__doc__ and "Usage docs" not in cls.__doc__ else ""
    lines = [f"### {cls.__name__}", ""]
    if doc:
        lines += [doc, ""]
    lines += ["| field | type and allowed values | default | meaning |", "|---|---|---|---|"]
    meanings = MEANINGS.get(cls.__name__, {})
    for name in cls.model_fields:
        kind = _kind(_field_schema(cls, name)).replace("|", "\\|")
        lines.append(f"| `{name}` | {kind} | {_default(cls, name)} | {meanings.get(name, '').replace('|', '/')} |")
    return lines + [""]


def model_format() -> str:
    """The text of ``docs/model-format.md``."""
    from .importer import SHEETS

    out = [
        "# Model format",
        "",
        "<!-- Generated by `python -m optalloc.model.schema_doc` from optalloc/model/schema.py and optalloc/model/importer.py: do not "
        "edit by hand (tests/test_template.py regenerates this file and compares). -->",
        "",
        "A model file is YAML: one jobcenter-year. `optalloc new FILE.yaml` writes a commented template that "
        "validates and solves as it stands; `optalloc validate FILE` checks a model and names the file, the field, "
        "the value and what is allowed for the first thing wrong. Money is in euros to the cent, shares are 0–1 "
        "(0.25 = 25 %). Sections besides `meta`, `budget`, `pools`, `assumptions`, `areas` and `instruments` are "
        "optional, and a report leaves out what a model does not have (no Kennzahlen: no Kennzahlen table).",
        "",
        "Editors: `docs/model-schema.json` is the JSON Schema of a model file. With the YAML language server "
        "(VS Code's YAML extension, for one), a first line `# yaml-language-server: $schema=<path to>/docs/"
        "model-schema.json` gives completion and checks while typing (cross-references between sections, such as "
        "a row's area, are checked by `optalloc validate` only).",
        "",
        "## Money-only lines",
        "",
        "A programme that gives money only (budget lines without entry counts) is modelled with "
        "`financing: money_only` rows. Such a row is kept as printed unless it is valued: with a `rate_class` "
        "whose class has `per: thousand_euros` (the rates file's figure is expected integrations per 1,000 € of "
        "the line) the plan moves euros between the lines, its `bounds` in euros; with `unit_cost` and a class per "
        "entry its money becomes money ÷ unit cost entries (a fraction where the division leaves one), planned like "
        "any row with entries. Nothing needs invented entry counts. `models/example-money-only.yaml` is an "
        "illustrative model of nine such lines.",
        "",
        "## Model file",
        "",
    ]
    for cls in classes(schema.Model):
        out += _section(cls)
    out += ["## Rates file", "",
            "The file `meta.rates_file` names (or `--rates FILE`): integration rates by class of instrument.", ""]
    for cls in classes(schema.Rates):
        out += _section(cls)
    out += ["## Planning workbooks", "",
            "`optalloc import WORKBOOK.xlsx` reads a planning workbook into a model file (validated first; a wrong "
            "cell gets one line naming the sheet, the row and the column). `optalloc new FILE.xlsx` writes the "
            "template as such a workbook. The sheets `budget` and `instruments` are required; `areas`, `groups` "
            "and `pools` are optional (without `areas`, the areas are the distinct names in the column `area`). "
            "Number cells hold numbers (not text, formulas or dates); merged cells are refused. Coverage "
            "requirements, stated decisions, caps, Kennzahlen and report labels are not in a workbook: add them to "
            "the model file after importing.", ""]
    for sheet, fields in SHEETS.items():
        layout = ("a field name in column A, its value in column B (a header row `field`, `value` is optional)"
                  if sheet == "budget" else "a header row naming the columns (any order), then one row per item")
        out += [f"### Sheet `{sheet}`", "", layout + ".", "",
                "| field | kind | required | default | meaning |", "|---|---|---|---|---|"]
        for f in fields:
            default = "—" if f.default is None else f"`{f.default}`"
            kind = f.kind + (f": {', '.join(f.choices)}" if f.choices else "")
            out.append(f"| `{f.name}` | {kind} | {'yes' if f.required else ''} | {default} | {f.words} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def json_schema() -> str:
    """The text of ``docs/model-schema.json``: the JSON Schema of a model file, with the field sentences."""
    node = _standard(schema.Model.model_json_schema(mode="validation"))
    by_name = {cls.__name__: cls for cls in classes(schema.Model)}
    for name, definition in [("Model", node), *node.get("$defs", {}).items()]:
        meanings = MEANINGS.get(name, {})
        for field, prop in definition.get("properties", {}).items():
            if field in meanings:
                prop["description"] = meanings[field]
        if name in by_name and by_name[name].__doc__ and "Usage docs" not in by_name[name].__doc__:
            definition["description"] = " ".join(by_name[name].__doc__.split())
    node["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    node["title"] = "optalloc model file"
    return json.dumps(node, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def write(folder: Path | None = None) -> list[Path]:
    """Write ``model-format.md`` and ``model-schema.json`` into ``folder`` (default: the repository's docs)."""
    doc = (folder / DOC.name) if folder else DOC
    js = (folder / JSON_SCHEMA.name) if folder else JSON_SCHEMA
    doc.write_text(model_format(), encoding="utf-8")
    js.write_text(json_schema(), encoding="utf-8")
    return [doc, js]


if __name__ == "__main__":
    for path in write():
        print(f"wrote {path}")
