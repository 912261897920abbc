"""Read model and rates files into validated objects, or fail with one clear line.

``load_model(path)`` reads a model file and the rates file it names, checks the schema
(:mod:`optalloc.schema`) and every cross-reference between sections, and returns a :class:`Spec`.
Any problem raises :class:`~optalloc.errors.InputFileError` naming the file, the field path, the value
and what is allowed.
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .errors import MISSING, InputFileError
from .schema import Model, Rates


@dataclass(frozen=True)
class Spec:
    """A validated model with its rates, and where both came from."""

    model: Model
    rates: Rates
    path: Path
    rates_path: Path
    scenarios: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def name(self) -> str:
        base = f"{self.model.meta.jobcenter} {self.model.meta.year}"
        return base + "".join(f" + {s}" for s in self.scenarios)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice in one mapping (PyYAML keeps the last silently)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path | str, what: str) -> dict[str, Any]:
    """Parse a YAML file that must hold a mapping; ``what`` names the kind of file in messages."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(str(path), "", MISSING, f"no such file: give the path of a {what}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(str(path), "", MISSING, f"cannot be read as UTF-8 text ({exc})") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputFileError(str(path), where, MISSING, f"not valid YAML: {problem}") from None
    if data is None:
        raise InputFileError(str(path), "", "", f"the file is empty: a {what} is a YAML mapping")
    if not isinstance(data, dict):
        raise InputFileError(
            str(path), "", type(data).__name__, f"a {what} is a YAML mapping of sections at the top level"
        )
    return data


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
    model = parse(Model, raw, str(path))
    rates_path = Path(rates) if rates is not None else (path.parent / model.meta.rates_file)
    rates_obj = load_rates(rates_path)
    spec = Spec(model=model, rates=rates_obj, path=path, rates_path=rates_path, raw=raw)
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
        counts = Counter(item.id for item in items)
        for i, item in enumerate(items):
            if counts[item.id] > 1:
                fail(f"{section}[{i}].id", item.id, f"ids must be unique within '{section}'")

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
        for p in m.kennzahlen.purposes:
            for ln in p.lines:
                if ln.id in lines:
                    fail("kennzahlen", ln.id, "Kennzahlen line ids must be unique")
                if not ln.id.startswith(p.id + "."):
                    fail(f"kennzahlen.{p.id}", ln.id, f"a line of purpose {p.id} starts with '{p.id}.'")
                lines[ln.id] = p.id

    for i, r in enumerate(m.instruments):
        at = f"instruments[{i}] ({r.id})"
        if r.area not in area_ids:
            fail(f"{at}.area", r.area, _one_of(area_ids))
        for g in r.groups:
            if g not in group_ids:
                fail(f"{at}.groups", g, _one_of(group_ids))
        for k, p in enumerate(r.pools or []):
            if p not in pool_ids:
                fail(f"{at}.pools[{k}]", p, _one_of(pool_ids))
        if r.financing == "programme":
            for p in r.pools or []:
                if next(x for x in m.pools if x.id == p).derived:
                    fail(f"{at}.pools", p, "a 'programme' row is paid from a programme pool with its own amount")
        if r.rate_class is not None and r.rate_class not in rate_ids:
            fail(f"{at}.rate_class", r.rate_class, f"a class of {spec.rates_path}: " + _one_of(rate_ids))
        if r.rate_class is None and r.financing not in ("info", "money_only"):
            fail(f"{at}.rate_class", MISSING, "required for a row with entries: " + _one_of(rate_ids))
        for key, target, need in (
            ("money_in", r.money_in, ("new",)),
            ("entries_in", r.entries_in, None),
            ("info_of", r.info_of, None),
        ):
            if target is None:
                continue
            if target not in rows or target == r.id:
                fail(f"{at}.{key}", target, "the id of another instrument row")
            if need and rows[target].financing not in need:
                fail(f"{at}.{key}", target, f"must name a row with financing {' or '.join(need)}")
        parts = {p.id for p in r.breakdown}
        if isinstance(r.kennzahl, str):
            if r.kennzahl not in lines:
                fail(f"{at}.kennzahl", r.kennzahl, _one_of(lines))
        elif isinstance(r.kennzahl, dict):
            for part, line in r.kennzahl.items():
                if part != "rest" and part not in parts:
                    fail(f"{at}.kennzahl", part, "a breakdown id of this row or 'rest': " + _one_of(parts))
                if line not in lines:
                    fail(f"{at}.kennzahl.{part}", line, _one_of(lines))
        if r.kennzahl is not None and r.entries is None:
            fail(f"{at}.kennzahl", r.kennzahl, "only a row with entries counts in the Kennzahlen")
        part_sum = sum(p.entries or 0 for p in r.breakdown)
        if r.entries is not None and part_sum > r.entries:
            fail(f"{at}.breakdown", part_sum, f"the 'davon' parts cannot exceed the row's {r.entries} entries")

    for parent_id in {r.entries_in for r in m.instruments if r.entries_in}:
        parent = rows[parent_id]
        inside = sum(r.entries or 0 for r in m.instruments if r.entries_in == parent_id)
        if parent.entries is None or inside > parent.entries:
            k = m.instruments.index(parent)
            fail(f"instruments[{k}] ({parent_id}).entries", parent.entries,
                 f"at least the {inside} entries of the rows counted in it")
    for i, c in enumerate(m.coverage):
        if c.group not in group_ids:
            fail(f"coverage[{i}] ({c.id}).group", c.group, _one_of(group_ids))
    for g in m.priorities:
        if g not in group_ids:
            fail("priorities", g, _one_of(group_ids))


def _one_of(options: object) -> str:
    names = sorted(options)  # type: ignore[call-overload]
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    return f"one of: {shown}"


def _to_input_error(exc: ValidationError, model_cls: type[BaseModel], data: Any, file: str) -> InputFileError:
    err = exc.errors(include_url=False)[0]
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
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    elif msg.startswith("Input should be"):
        msg = "must be" + msg[len("Input should be"):]
    if isinstance(value, dict):
        value = MISSING if kind == "value_error" else "{...}"
    return InputFileError(file, path, value, msg)


def _format_loc(loc: tuple, data: Any) -> str:
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                out += f" ({node['id']})"
        elif isinstance(part, str) and part.startswith(("function-", "union[", "literal[", "str", "dict[")):
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
        cls = _inner_model(info.annotation) if info else None
    return sorted(cls.model_fields) if cls is not None and hasattr(cls, "model_fields") else []


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
