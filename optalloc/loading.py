"""Read model and rates files into validated objects, or fail with one clear line.

``load_model(path)`` reads a model file and the rates file it names, checks the schema
(:mod:`optalloc.schema`) and every cross-reference between sections, and returns a :class:`Spec`.
Any problem raises :class:`~optalloc.errors.InputFileError` naming the file, the field path, the value
and what is allowed.
"""

from __future__ import annotations

import datetime
import difflib
import functools
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, PydanticUserError, ValidationError

from .errors import MISSING, NOT_SHOWN, InputFileError
from .schema import PATTERN_WORDS, Model, Rates

SCENARIO_SECTIONS = {"name", "description", "source", "budget", "pools", "caps", "instruments", "coverage",
                     "policy", "priorities", "assumptions"}


@dataclass(frozen=True)
class Spec:
    """A validated model with its rates, and where both came from."""

    model: Model
    rates: Rates
    path: Path
    rates_path: Path
    scenarios: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        base = f"{self.model.meta.jobcenter} {self.model.meta.year}"
        return base + "".join(f" + {s}" for s in self.scenarios)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice in one mapping (PyYAML keeps the last silently)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[object, yaml.Mark] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            first = seen.get(key)
        except TypeError:  # an unhashable key (a list or mapping): construct_mapping below refuses it
            continue
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice in one mapping (first on line {first.line + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path | str, what: str) -> dict[str, Any]:
    """Parse a YAML file that must hold a mapping; ``what`` names the kind of file in messages."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(str(path), "", NOT_SHOWN, f"no such file: give the path of a {what}") from None
    except IsADirectoryError:
        raise InputFileError(str(path), "", NOT_SHOWN, f"is a folder: give the path of a {what}") from None
    except OSError as exc:
        raise InputFileError(str(path), "", NOT_SHOWN, f"cannot be read: {exc.strerror or exc}") from None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = content.count(b"\n", 0, exc.start) + 1, exc.start - content.rfind(b"\n", 0, exc.start)
        where = f"line {line}, column {column}"
        raise InputFileError(str(path), where, NOT_SHOWN, f"byte 0x{content[exc.start]:02x} is not UTF-8: save the "
                             f"{what} as UTF-8 text (it may be in Latin-1 or Windows-1252)") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        raise InputFileError(str(path), *_yaml_problem(exc)) from None
    if data is None:
        raise InputFileError(str(path), "", NOT_SHOWN,
                             f"the file is empty (or holds only comments): a {what} is a YAML mapping of sections")
    if not isinstance(data, dict):
        kind = {"list": "a list", "str": "plain text"}.get(type(data).__name__, f"a single {type(data).__name__}")
        raise InputFileError(str(path), "top level", NOT_SHOWN,
                             f"is {kind}, but a {what} is a YAML mapping of sections (name: ...) at the top level")
    return data


def _yaml_problem(exc: yaml.YAMLError) -> tuple[str, object, str]:
    """Where a YAML syntax error is (line, column), NOT_SHOWN, and what the parser says, with its context."""
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    mark = problem_mark or context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if context and problem_mark and context_mark and context_mark.line != problem_mark.line:
        problem += f" ({context} that starts on line {context_mark.line + 1})"
    if "\\t" in problem:
        problem += "; indent with spaces, not tabs"
    return where, NOT_SHOWN, f"not valid YAML: {problem}"


def parse(model_cls: type[BaseModel], data: dict[str, Any], file: str) -> Any:
    """Validate ``data`` against ``model_cls``; turn the first pydantic error into an InputFileError."""
    try:
        return model_cls.model_validate(data)
    except ValidationError as exc:
        raise _to_input_error(exc, model_cls, data, file) from None


def load_rates(path: Path | str) -> Rates:
    path = Path(path)
    return parse(Rates, read_yaml(path, "rates file"), str(path))


def load_model(path: Path | str, rates: Path | str | None = None) -> Spec:
    """Load and validate a model file (and its rates file, or ``rates`` instead of the one it names)."""
    path = Path(path)
    raw = read_yaml(path, "model file")
    if "meta" not in raw and "name" in raw and set(raw) <= SCENARIO_SECTIONS:
        raise InputFileError(str(path), "", NOT_SHOWN, "this is a scenario file, not a model: apply it to a model "
                             "with -s (optalloc solve MODEL -s SCENARIO)")
    model = parse(Model, raw, str(path))
    rates_path = Path(rates) if rates is not None else Path(os.path.normpath(path.parent / model.meta.rates_file))
    if rates is None and not rates_path.exists():
        raise InputFileError(str(path), "meta.rates_file", model.meta.rates_file,
                             f"no such file ({rates_path}): the path of a rates file, relative to the model file")
    rates_obj = load_rates(rates_path)
    spec = Spec(model=model, rates=rates_obj, path=path, rates_path=rates_path)
    check_references(spec)
    return spec


def check_references(spec: Spec, file: str | None = None) -> None:
    """Check what one section says about another (ids, pools, groups, rate classes, Kennzahlen lines)."""
    m = spec.model
    file = file or str(spec.path)

    def fail(field_path: str, value: object, allowed: str) -> None:
        raise InputFileError(file, field_path, value, allowed)

    for section, items in (
        ("instruments", m.instruments),
        ("pools", m.pools),
        ("groups", m.groups),
        ("areas", m.areas),
        ("caps", m.caps),
        ("coverage", m.coverage),
    ):
        first: dict[str, int] = {}
        for i, item in enumerate(items):
            if item.id in first:
                fail(f"{section}[{i}].id", item.id,
                     f"ids must be unique within '{section}' (already used by {section}[{first[item.id]}])")
            first[item.id] = i

    pool_ids = {p.id for p in m.pools}
    derived = [p for p in m.pools if p.derived]
    if len(derived) != 1:
        fail("pools", [p.id for p in derived], "exactly one pool must be 'derived: new_business'")
    if m.budget.vbl_pool == "separate" and "vbl" in pool_ids:
        fail("pools", "vbl", "the id 'vbl' is taken by the VBL pool when budget.vbl_pool is 'separate'")
    group_ids = {g.id for g in m.groups}
    area_ids = {a.id for a in m.areas}
    rate_ids = set(spec.rates.classes)
    rows = {r.id: r for r in m.instruments}
    lines: dict[str, str] = {}
    if m.kennzahlen:
        for i, p in enumerate(m.kennzahlen.purposes):
            for j, ln in enumerate(p.lines):
                at = f"kennzahlen.purposes[{i}] ({p.id}).lines[{j}].id"
                if ln.id in lines:
                    fail(at, ln.id, "Kennzahlen line ids must be unique")
                if not ln.id.startswith(p.id + "."):
                    fail(at, ln.id, f"a line of purpose {p.id} starts with '{p.id}.'")
                lines[ln.id] = p.id

    for i, r in enumerate(m.instruments):
        at = f"instruments[{i}] ({r.id})"
        if r.area not in area_ids:
            fail(f"{at}.area", r.area, "an area defined under 'areas': " + one_of(area_ids, r.area))
        for g in r.groups:
            if g not in group_ids:
                fail(f"{at}.groups", g, "a group defined under 'groups': " + one_of(group_ids, g))
        for k, p in enumerate(r.pools or []):
            if p not in pool_ids:
                fail(f"{at}.pools[{k}]", p, "a pool defined under 'pools': " + one_of(pool_ids, p))
        if r.financing == "programme":
            for p in r.pools or []:
                if next(x for x in m.pools if x.id == p).derived:
                    fail(f"{at}.pools", p, "a 'programme' row is paid from a programme pool with its own amount")
        if r.rate_class is not None and r.rate_class not in rate_ids:
            fail(f"{at}.rate_class", r.rate_class, f"a class of {spec.rates_path}: " + one_of(rate_ids, r.rate_class))
        if r.rate_class is None and r.financing not in ("info", "money_only"):
            fail(f"{at}.rate_class", MISSING, "required for a row with entries: " + one_of(rate_ids))
        for key, target, need in (
            ("money_in", r.money_in, ("new",)),
            ("entries_in", r.entries_in, None),
            ("info_of", r.info_of, None),
        ):
            if target is None:
                continue
            if target not in rows or target == r.id:
                fail(f"{at}.{key}", target, "the id of another instrument row: " + one_of(set(rows) - {r.id}, target))
            if need and rows[target].financing not in need:
                fail(f"{at}.{key}", target, f"must name a row with financing {' or '.join(need)}")
        parts = {p.id for p in r.breakdown}
        if isinstance(r.kennzahl, str):
            if r.kennzahl not in lines:
                fail(f"{at}.kennzahl", r.kennzahl, "a line of the Kennzahlen table: " + one_of(lines, r.kennzahl))
        elif isinstance(r.kennzahl, dict):
            for part, line in r.kennzahl.items():
                if part != "rest" and part not in parts:
                    fail(f"{at}.kennzahl", part, "a breakdown id of this row or 'rest': " + one_of(parts))
                if line not in lines:
                    fail(f"{at}.kennzahl.{part}", line, "a line of the Kennzahlen table: " + one_of(lines, line))
        if r.kennzahl is not None and r.entries is None:
            fail(f"{at}.kennzahl", r.kennzahl, "only a row with entries counts in the Kennzahlen")
        part_sum = sum(p.entries or 0 for p in r.breakdown)
        if r.entries is not None and part_sum > r.entries:
            fail(f"{at}.breakdown", part_sum, f"the 'davon' parts cannot exceed the row's {r.entries} entries")
        b = r.bounds
        if r.lot_size and b is not None and b.min is not None and b.max is not None:
            if math.ceil(b.min / r.lot_size - 1e-9) * r.lot_size > b.max + 1e-9:
                fail(f"{at}.lot_size", r.lot_size, f"a lot size of which some whole number of lots lies within "
                     f"bounds.min {b.min:g} and bounds.max {b.max:g} (widen the bounds or change the lot size)")

        if r.places_in is not None:
            target = rows.get(r.places_in)
            if target is None or target.id == r.id:
                fail(f"{at}.places_in", r.places_in, "the id of another instrument row: " + one_of(set(rows) - {r.id}, r.places_in))
            elif target.capacity != "places" or target.places is None or target.places_in is not None:
                fail(f"{at}.places_in", r.places_in, "must name a row with 'capacity: places' and printed places of its own")

    for parent_id in {r.entries_in for r in m.instruments if r.entries_in}:
        parent = rows[parent_id]
        inside = sum(r.entries or 0 for r in m.instruments if r.entries_in == parent_id)
        if parent.entries is None or inside > parent.entries:
            k = m.instruments.index(parent)
            fail(f"instruments[{k}] ({parent_id}).entries", parent.entries,
                 f"at least the {inside} entries of the rows counted in it")
    for i, c in enumerate(m.coverage):
        if c.group not in group_ids:
            fail(f"coverage[{i}] ({c.id}).group", c.group,
                 "a group defined under 'groups': " + one_of(group_ids, c.group))
    policy_ids: dict[str, int] = {}
    for i, rule in enumerate(m.policy):
        at = f"policy[{i}] ({rule.id})"
        if rule.id in policy_ids:
            fail(f"{at}.id", rule.id, f"ids must be unique within 'policy' (already used by policy[{policy_ids[rule.id]}])")
        policy_ids[rule.id] = i
        seen: set[str] = set()
        for k, rid in enumerate(rule.rows):
            if rid not in rows:
                fail(f"{at}.rows[{k}]", rid, "an instrument row: " + one_of(rows, rid))
            if rid in seen:
                fail(f"{at}.rows[{k}]", rid, "each row once")
            seen.add(rid)
            if rows[rid].financing in ("info", "money_only") and rule.measure == "entries":
                fail(f"{at}.rows[{k}]", rid, f"a row with entries (this one is '{rows[rid].financing}'), or measure: money")
            if rows[rid].financing == "info":
                fail(f"{at}.rows[{k}]", rid, "a row the plan gives entries or money (this one is for information only)")
            if rule.part is not None and rule.part not in {b.id for b in rows[rid].breakdown if b.entries}:
                fail(f"{at}.part", rule.part, f"a 'davon' part with entries of every row of the rule; {rid} has: "
                     + one_of({b.id for b in rows[rid].breakdown if b.entries}, rule.part))
    for g in m.priorities:
        if g not in group_ids:
            fail(f"priorities.{g}", g, "a group defined under 'groups': " + one_of(group_ids, g))


def one_of(options: object, given: object = None) -> str:
    """``one of: a, b, c`` (at most 12 shown), after "did you mean" when ``given`` is close to one of them."""
    names = sorted(options)  # type: ignore[call-overload]
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    near = difflib.get_close_matches(str(given), names, n=1) if given is not None else []
    return (f"did you mean '{near[0]}'? " if near else "") + f"one of: {shown}"


def _to_input_error(exc: ValidationError, model_cls: type[BaseModel], data: Any, file: str) -> InputFileError:
    """One line for a pydantic error: an unknown field first (a typo often explains a missing field too)."""
    errors = exc.errors(include_url=False)
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = err["loc"]
    path = _format_loc(loc, data)
    kind = err["type"]
    value = err.get("input", MISSING)
    if kind == "missing":
        return InputFileError(file, path, MISSING, "required field")
    if kind == "extra_forbidden":
        allowed = _fields_at(model_cls, loc[:-1])
        name = str(loc[-1])
        near = difflib.get_close_matches(name, allowed, n=1)
        hint = f"did you mean '{near[0]}'? " if near else ""
        return InputFileError(file, path, name, f"unknown field; {hint}allowed here: {', '.join(allowed)}")
    if kind == "value_error" and isinstance(value, dict):
        value = NOT_SHOWN  # a rule between fields of a section: the message names the values
    elif isinstance(value, datetime.date):
        value = value.isoformat()
    # a value that fits no member of a union fails once per member: say what each member accepts
    same = [e for e in errors if _format_loc(e["loc"], data) == path] if any(map(_is_tag, loc)) else [err]
    words: list[str] = []
    for e in same:
        w = _allowed(e, model_cls, alone=len(same) == 1)
        if w not in words:
            words.append(w)
    return InputFileError(file, path, value, " or ".join(words))


_TYPE_WORDS = {
    "list_type": "a list (one item per line, each starting with '- ')",
    "dict_type": "a mapping (name: value)",
    "model_type": "a mapping of fields (name: value)",
    "model_attributes_type": "a mapping of fields (name: value)",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "tuple_type": "a list [low, high]",
}
_LIMIT_KINDS = ("greater_than_equal", "greater_than", "less_than_equal", "less_than")


def _allowed(err: Any, model_cls: type[BaseModel], alone: bool = True) -> str:
    """What would be accepted where ``err`` occurred, in words (shorter when one of several union members)."""
    kind, msg, ctx, value = err["type"], err["msg"], err.get("ctx") or {}, err.get("input")
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind in _LIMIT_KINDS:
        return "must be" + msg.removeprefix("Input should be") + f" ({_range_words(model_cls, err['loc'], value)})"
    if kind == "literal_error":
        expected = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        if len(expected) == 1:
            return f"must be '{expected[0]}'" if alone else f"'{expected[0]}'"
        return one_of(expected, value if isinstance(value, str) else None)
    if kind == "string_pattern_mismatch":
        return PATTERN_WORDS.get(ctx.get("pattern", ""), f"text matching {ctx.get('pattern')}")
    if kind == "string_type":
        if value is None:
            return "text (the field is empty)"
        return "text (in quotes, or YAML reads it as a number, date or true/false)" if alone else "text"
    if kind in ("too_short", "too_long"):
        n = ctx.get("min_length", ctx.get("max_length"))
        return f"at {'least' if kind == 'too_short' else 'most'} {n} item{'' if n == 1 else 's'}"
    if kind in ("string_too_short", "string_too_long"):
        n = ctx.get("min_length", ctx.get("max_length"))
        return f"text of at {'least' if kind == 'string_too_short' else 'most'} {n} characters"
    if kind in _TYPE_WORDS:
        return _TYPE_WORDS[kind]
    return "must be" + msg.removeprefix("Input should be") if msg.startswith("Input should be") else msg


def _range_words(model_cls: type[BaseModel], loc: tuple, value: object) -> str:
    """The whole range of a number field ("a share from 0 to 1"), from the JSON schema of ``model_cls``."""
    node = _schema_at(model_cls, loc)
    low, above = node.get("minimum", node.get("ge")), node.get("exclusiveMinimum", node.get("gt"))
    high, below = node.get("maximum", node.get("le")), node.get("exclusiveMaximum", node.get("lt"))
    noun = "a whole number" if node.get("type") == "integer" else "a number"
    if (low, high, noun) == (0, 1, "a number"):
        words = "a share from 0 to 1, where 1 is 100 %"
    elif low is not None and high is not None:
        words = f"{noun} from {_num(low)} to {_num(high)}"
    else:
        ends = [f"above {_num(above)}" if above is not None else f"at least {_num(low)}" if low is not None else "",
                f"below {_num(below)}" if below is not None else f"at most {_num(high)}" if high is not None else ""]
        words = ", ".join([noun, *(e for e in ends if e)])
    if high == 1 and isinstance(value, (int, float)) and not isinstance(value, bool) and 1 < value <= 100:
        if value < 2:
            words += f"; {value:g} is {value * 100:g} %"
        else:
            words += f"; {value:g} looks like a percentage: write {value / 100:g}"
    return words


def _num(x: float) -> str:
    if not float(x).is_integer():
        return f"{x:g}"
    return f"{int(x):,}" if abs(x) >= 100_000 else str(int(x))


@functools.cache
def _json_schema(model_cls: type[BaseModel]) -> dict[str, Any]:
    try:
        return model_cls.model_json_schema()
    except PydanticUserError:  # a type without a JSON schema: messages fall back to pydantic's words
        return {}


def _schema_at(model_cls: type[BaseModel], loc: tuple) -> dict[str, Any]:
    """The JSON schema of the number at ``loc`` (empty if there is none)."""
    root = _json_schema(model_cls)
    defs = root.get("$defs", {})

    def options(node: dict[str, Any]) -> list[dict[str, Any]]:
        node = defs.get(node["$ref"].split("/")[-1], {}) if "$ref" in node else node
        return [defs.get(o["$ref"].split("/")[-1], {}) if "$ref" in o else o for o in node.get("anyOf", [node])]

    node = root
    for part in loc:
        for option in options(node):
            if isinstance(part, int) and isinstance(option.get("items"), dict):
                node = option["items"]
                break
            if isinstance(part, int) and part < len(option.get("prefixItems", ())):
                node = option["prefixItems"][part]
                break
            if isinstance(part, str) and part in option.get("properties", {}):
                node = option["properties"][part]
                break
            if isinstance(part, str) and option.get("type") == "object" and "properties" not in option:
                node = option.get("additionalProperties")
                if not isinstance(node, dict):
                    node = next(iter(option.get("patternProperties", {}).values()), {})
                break
    numbers = [o for o in options(node) if o.get("type") in ("number", "integer")]
    return numbers[0] if numbers else {}


def _is_tag(part: object) -> bool:
    """Is this part of a pydantic error location the name of a union member rather than a field or key?"""
    return isinstance(part, str) and (
        part in ("str", "int", "float", "bool", "none", "[key]")
        or part.startswith(("function-", "constrained-"))
        or re.match(r"^[a-z-]+\[", part) is not None
    )


def _format_loc(loc: tuple, data: Any) -> str:
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                out += f" ({node['id']})"
        elif _is_tag(part):
            continue
        else:
            out += ("." if out else "") + str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def _fields_at(model_cls: type[BaseModel], loc: tuple) -> list[str]:
    """The field names allowed at ``loc`` inside ``model_cls`` (for "did you mean")."""
    cls: Any = model_cls
    for part in loc:
        if isinstance(part, int) or cls is None:
            continue
        info = cls.model_fields.get(part) if hasattr(cls, "model_fields") else None
        if info is None:
            continue  # a key of a mapping of models (rates classes), or a union member
        cls = _inner_model(info.annotation)
    return sorted(cls.model_fields) if cls is not None and hasattr(cls, "model_fields") else []


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
