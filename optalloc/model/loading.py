"""Read model and rates files into validated objects, or fail with one clear line.

``load_model(path)`` reads a model file and the rates file it names, checks the schema
(:mod:`optalloc.model.schema`) and every cross-reference between sections, and returns a :class:`Spec`.
Any problem raises :class:`~optalloc.errors.InputFileError` naming the file, the field path, the value
and what is allowed.

Reading is bounded (:func:`read_yaml`): regular files only, at most :data:`MAX_FILE_BYTES`, nested at most
:data:`MAX_DEPTH` deep, at most :data:`MAX_VALUES` values with aliases counted as what they repeat; YAML 1.1's
octal and base-60 numbers are refused rather than read as something else than written; merge keys work.
Checking is linear in the number of rows.
"""

from __future__ import annotations

import datetime
import difflib
import functools
import math
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, PydanticUserError, ValidationError

from ..errors import MISSING, NOT_SHOWN, InputFileError
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


MAX_FILE_BYTES = 16 * 1024 * 1024
"""The largest model, rates or scenario file read (16 MiB; the Duisburg model is about 90 KiB, a model of
20,000 rows about 3 MiB)."""
MAX_DEPTH = 64
"""The deepest nesting of mappings and lists in a file (the Duisburg model nests 6 deep)."""
MAX_VALUES = 1_000_000
"""The most values (mappings, lists and scalars) a file may hold, each alias (``*name``) counting the
values it repeats: a bound on memory and time that a file of 20,000 rows stays well within."""


_TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep: a file nests lists and mappings at most {MAX_DEPTH} deep"
_TOO_MANY = (f"the file holds more than {MAX_VALUES:,} values, counting each alias (*name) as the values it repeats: "
             "a planning file needs far fewer")
_ITSELF = "an alias inside the value it names would make that value contain itself: repeat a value only after it ends"


class _Refused(yaml.YAMLError):
    """A YAML file that parses but that optalloc will not read: ``value`` (as written) and ``allowed``
    (what to write instead), at ``mark``."""

    def __init__(self, mark: yaml.Mark | None, value: object, allowed: str):
        super().__init__(allowed)
        self.problem_mark, self.value, self.allowed = mark, value, allowed


class _BoundedComposer:
    """Composes the YAML node graph within :data:`MAX_DEPTH` and :data:`MAX_VALUES`.

    An alias adds the size of the values it repeats to the count without copying anything, so that an
    "alias bomb" (ten levels of nine aliases: 3.5 billion values from a few hundred bytes) is refused after
    reading its few hundred bytes; an alias inside the value it names (a structure containing itself) is
    refused too."""

    def compose_document(self):  # type: ignore[no-untyped-def]
        self._depth, self._values, self._sizes, self._open = 0, 0, {}, set()
        return super().compose_document()  # type: ignore[misc]

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        event = self.peek_event()  # type: ignore[attr-defined]
        anchor = event.anchor
        if isinstance(event, yaml.AliasEvent):
            if anchor in self._open:
                raise _Refused(event.start_mark, f"*{anchor}", _ITSELF)
            node = super().compose_node(parent, index)  # type: ignore[misc]
            self._count(self._sizes.get(anchor, 1), event.start_mark)
            return node
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(event.start_mark, NOT_SHOWN, _TOO_DEEP)
        before = self._values
        self._count(1, event.start_mark)
        if anchor is not None:
            self._open.add(anchor)
        node = super().compose_node(parent, index)  # type: ignore[misc]
        self._depth -= 1
        if anchor is not None:
            self._open.discard(anchor)
            self._sizes[anchor] = self._values - before
        return node

    def _count(self, values: int, mark: yaml.Mark) -> None:
        self._values += values
        if self._values > MAX_VALUES:
            raise _Refused(mark, NOT_SHOWN, _TOO_MANY)


class _Constructor(yaml.constructor.SafeConstructor):
    """PyYAML's safe constructor, stricter where YAML 1.1 silently reads something else than what is written:
    a key given twice in one mapping (PyYAML keeps the last), a number with a leading zero (octal: ``061`` is
    49) and a number with colons (base 60: ``1:30`` is 90). Merge keys (``<<: *defaults``) work as in YAML."""

    def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
        if isinstance(node, yaml.MappingNode):
            seen: dict[object, yaml.Mark] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # merged keys may be overridden by the mapping's own: that is what a merge is for
                key = self.construct_object(key_node, deep=deep)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key (a list or mapping): the base class refuses it
                    continue
                if first is not None:
                    raise yaml.constructor.ConstructorError(
                        None, None,
                        f"key {_short_key(key)} appears twice in one mapping (first on line {first.line + 1})",
                        key_node.start_mark)
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node):  # type: ignore[no-untyped-def]
        written = str(node.value)
        digits = written.replace("_", "").lstrip("+-")
        value = super().construct_yaml_int(node)
        if ":" in digits:
            raise _Refused(node.start_mark, written, f"a plain number: YAML reads {written} as a number in base 60 "
                           f"({value}); write the number you mean, or put it in quotes for text")
        if len(digits) > 1 and digits[0] == "0" and digits[1] not in "bx":
            plain = digits.lstrip("0") or "0"
            raise _Refused(node.start_mark, written, f"a number without a leading zero: YAML reads {written} as the "
                           f"octal number {value}; write {plain}, or put it in quotes for text")
        return value

    def construct_yaml_float(self, node):  # type: ignore[no-untyped-def]
        written = str(node.value)
        value = super().construct_yaml_float(node)
        if ":" in written:
            raise _Refused(node.start_mark, written, f"a plain number: YAML reads {written} as a number in base 60 "
                           f"({value:g}); write the number you mean, or put it in quotes for text")
        return value


_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor.construct_yaml_int)
_Constructor.add_constructor("tag:yaml.org,2002:float", _Constructor.construct_yaml_float)


def _short_key(key: object) -> str:
    text = repr(key)
    return text if len(text) <= 40 else text[:37] + "..."


class _ExactLoader(_BoundedComposer, yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,
                   yaml.composer.Composer, _Constructor, yaml.resolver.Resolver):
    """The pure-Python loader: PyYAML's own words for a syntax error."""

    def __init__(self, stream: str):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Constructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)


_FastLoader: type = _ExactLoader
if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _CLoader(_BoundedComposer, yaml.composer.Composer, CParser, _Constructor, yaml.resolver.Resolver):
        """libyaml's parser (C: linear, and with the composer below as quick as PyYAML's C loader, six to eight
        times quicker than its pure-Python one) under the same bounded composer and constructor."""

        def __init__(self, stream: str):
            CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            _Constructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

    _FastLoader = _CLoader

_EXACT_MESSAGES_UP_TO = 256 * 1024  # a syntax error in a file up to this size is read again for PyYAML's words


def read_yaml(path: Path | str, what: str) -> dict[str, Any]:
    """Parse a YAML file that must hold a mapping; ``what`` names the kind of file in messages.

    Reads only a regular file (not a folder, a device such as /dev/zero, or a pipe, which could block for
    ever) of at most :data:`MAX_FILE_BYTES`, nested at most :data:`MAX_DEPTH` deep and holding at most
    :data:`MAX_VALUES` values."""
    path = Path(path)
    content = _read_bounded(path, what)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = content.count(b"\n", 0, exc.start) + 1, exc.start - content.rfind(b"\n", 0, exc.start)
        where = f"line {line}, column {column}"
        raise InputFileError(str(path), where, NOT_SHOWN, f"byte 0x{content[exc.start]:02x} is not UTF-8: save the "
                             f"{what} as UTF-8 text (it may be in Latin-1 or Windows-1252)") from None
    try:
        data = _load(text)
    except yaml.YAMLError as exc:
        problem = exc
        if "maximum nesting depth" in str(getattr(exc, "problem", "")):  # libyaml's own limit, met while scanning ahead
            problem = _Refused(getattr(exc, "problem_mark", None), NOT_SHOWN, _TOO_DEEP)
        exact_words = _FastLoader is not _ExactLoader and len(content) <= _EXACT_MESSAGES_UP_TO
        if not isinstance(problem, _Refused) and exact_words:
            try:  # libyaml words a syntax error more tersely than PyYAML: read again for PyYAML's words
                _load(text, _ExactLoader)
            except yaml.YAMLError as exact:
                problem = exact
        if isinstance(problem, _Refused):
            raise InputFileError(str(path), _where(problem.problem_mark), problem.value, problem.allowed) from None
        raise InputFileError(str(path), *_yaml_problem(problem)) from None
    if data is None:
        raise InputFileError(str(path), "", NOT_SHOWN,
                             f"the file is empty (or holds only comments): a {what} is a YAML mapping of sections")
    if not isinstance(data, dict):
        kind = {"list": "a list", "str": "plain text"}.get(type(data).__name__, f"a single {type(data).__name__}")
        raise InputFileError(str(path), "top level", NOT_SHOWN,
                             f"is {kind}, but a {what} is a YAML mapping of sections (name: ...) at the top level")
    return data


def _load(text: str, loader_cls: type | None = None) -> Any:
    loader = (loader_cls or _FastLoader)(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _read_bounded(path: Path, what: str) -> bytes:
    """The bytes of a regular file of at most :data:`MAX_FILE_BYTES`, opened without blocking (a pipe
    with no writer would block an ordinary open) and checked before anything is read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputFileError(str(path), "", NOT_SHOWN, f"no such file: give the path of a {what}") from None
    except IsADirectoryError:
        raise InputFileError(str(path), "", NOT_SHOWN, f"is a folder: give the path of a {what}") from None
    except OSError as exc:
        raise InputFileError(str(path), "", NOT_SHOWN, f"cannot be read: {exc.strerror or exc}") from None
    limit = f"at most {MAX_FILE_BYTES // (1024 * 1024)} MiB (a model of 20,000 rows takes about 3 MiB)"
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputFileError(str(path), "", NOT_SHOWN, f"is a folder: give the path of a {what}")
        if not stat.S_ISREG(info.st_mode):
            kind = ("a pipe" if stat.S_ISFIFO(info.st_mode) else "a device" if stat.S_ISCHR(info.st_mode)
                    or stat.S_ISBLK(info.st_mode) else "a socket" if stat.S_ISSOCK(info.st_mode) else "not a file")
            raise InputFileError(str(path), "", NOT_SHOWN, f"is {kind}, not a regular file: give the path of a {what} "
                                 "(optalloc reads files only, never a stream)")
        if info.st_size > MAX_FILE_BYTES:
            raise InputFileError(str(path), "", NOT_SHOWN,
                                 f"is {info.st_size / (1024 * 1024):,.1f} MiB, but a {what} may be {limit}")
        with os.fdopen(os.dup(fd), "rb") as f:
            content = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InputFileError(str(path), "", NOT_SHOWN, f"cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(content) > MAX_FILE_BYTES:  # it grew while being read
        raise InputFileError(str(path), "", NOT_SHOWN, f"is larger than a {what} may be: {limit}")
    return content


def _where(mark: yaml.Mark | None) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""


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
    if rates is not None:
        rates_path = Path(rates)
        if not rates_path.exists() and is_rates_name(str(rates)):
            rates_path = find_rates(str(rates), path) or rates_path
    else:
        rates_path = resolve_rates(path, model.meta.rates_file)
    rates_obj = load_rates(rates_path)
    spec = Spec(model=model, rates=rates_obj, path=path, rates_path=rates_path)
    check_references(spec)
    return spec


PACKAGED_RATES = Path(__file__).resolve().parent.parent / "rates"
"""The rates files that come with optalloc (``sgb2-defaults``), found by name from any folder."""


def is_rates_name(value: str) -> bool:
    """Is ``value`` a rates file's name (``sgb2-defaults``) rather than a path (``rates/x.yaml``)?"""
    return re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", value) is not None and not value.endswith((".yaml", ".yml"))


def find_rates(name: str, model_path: Path) -> Path | None:
    """The rates file called ``name``: ``rates/<name>.yaml`` beside the model (the project's rates folder),
    else the packaged defaults; None if neither has it."""
    for folder in (model_path.parent / "rates", PACKAGED_RATES):
        candidate = folder / f"{name}.yaml"
        if candidate.is_file():
            return Path(os.path.normpath(candidate))
    return None


def resolve_rates(model_path: Path, value: str) -> Path:
    """Where a model's ``meta.rates_file`` points: a name is looked up by :func:`find_rates`; a path is read
    relative to the model file, and where no file is there, its name (the file name without ``.yaml``) is
    looked up instead, so that a model copied out of the repository still finds the packaged defaults."""
    if is_rates_name(value):
        found = find_rates(value, model_path)
        if found is None:
            raise InputFileError(str(model_path), "meta.rates_file", value,
                                 f"no rates file of that name in {model_path.parent / 'rates'} or the packaged "
                                 f"defaults ({', '.join(sorted(f.stem for f in PACKAGED_RATES.glob('*.yaml')))}): "
                                 "a name of one of them, or a path relative to the model file")
        return found
    relative = Path(os.path.normpath(model_path.parent / value))
    if relative.exists():
        return relative
    found = find_rates(Path(value).stem, model_path) if Path(value).suffix in (".yaml", ".yml") else None
    if found is None:
        raise InputFileError(str(model_path), "meta.rates_file", value,
                             f"no such file ({relative}): the path of a rates file, relative to the model file, or "
                             "the name of a packaged one ("
                             + ", ".join(sorted(f.stem for f in PACKAGED_RATES.glob("*.yaml"))) + ")")
    return found


def money_line_unit(row: Any, rates: Rates) -> str | None:
    """How the plan may change a money-only line: ``"euros"`` (valued per 1,000 € by a class with
    ``per: thousand_euros``), ``"entries"`` (a unit cost turns its money into fractional entries valued by
    a class per entry), or None (kept as printed). None for every other row."""
    if row.financing != "money_only" or row.rate_class is None or row.rate_class not in rates.classes:
        return None
    if rates.classes[row.rate_class].per == "thousand_euros":
        return "euros"
    return "entries" if row.unit_cost is not None else None


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
            if p in (r.pools or [])[:k]:
                fail(f"{at}.pools[{k}]", p, "each pool once: 'pools' lists the pools that may pay the row")
        if r.financing == "programme":
            for p in r.pools or []:
                if next(x for x in m.pools if x.id == p).derived:
                    fail(f"{at}.pools", p, "a 'programme' row is paid from a programme pool with its own amount")
        if r.rate_class is not None and r.rate_class not in rate_ids:
            fail(f"{at}.rate_class", r.rate_class, f"a class of {spec.rates_path}: " + one_of(rate_ids, r.rate_class))
        if r.rate_class is None and r.financing not in ("info", "money_only"):
            fail(f"{at}.rate_class", MISSING, "required for a row with entries: " + one_of(rate_ids))
        per_1000 = r.rate_class is not None and spec.rates.classes[r.rate_class].per == "thousand_euros"
        if per_1000 and r.financing != "money_only":
            fail(f"{at}.rate_class", r.rate_class, f"a class per entry for a '{r.financing}' row (this one is valued "
                 "per 1,000 € and belongs to money-only lines): " + one_of(
                     {c for c, k in spec.rates.classes.items() if k.per == "entry"}, r.rate_class))
        if per_1000 and r.unit_cost is not None:
            fail(f"{at}.unit_cost", r.unit_cost, f"no unit cost for a line valued per 1,000 € ({r.rate_class}): "
                 "leave out 'unit_cost', or name a class per entry to plan the line in entries")
        if r.financing == "money_only" and money_line_unit(r, spec.rates) is None and (r.bounds or r.rate):
            fail(f"{at}.{'bounds' if r.bounds else 'rate'}", NOT_SHOWN,
                 "a money-only line is kept as printed unless it is valued: name a rate class per 1,000 € "
                 "(per: thousand_euros), or give 'unit_cost' (€ per entry) with a class per entry")
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
            if key == "entries_in" and rows[target].entries_in is not None:
                fail(f"{at}.{key}", target, f"a row that is not itself counted in another ({target} is counted in "
                     f"{rows[target].entries_in}): name {rows[target].entries_in}, the row that prints the total")
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

    counted_in: dict[str, int] = {}  # per row, the entries of the rows counted in it (one pass: linear)
    for r in m.instruments:
        if r.entries_in:
            counted_in[r.entries_in] = counted_in.get(r.entries_in, 0) + (r.entries or 0)
    position = {r.id: i for i, r in enumerate(m.instruments)}
    for parent_id, inside in counted_in.items():
        parent = rows[parent_id]
        if parent.entries is None or inside > parent.entries:
            fail(f"instruments[{position[parent_id]}] ({parent_id}).entries", parent.entries,
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
            if (rows[rid].financing == "info" or (rows[rid].financing == "money_only" and money_line_unit(
                    rows[rid], spec.rates) != "entries")) and rule.measure == "entries":
                fail(f"{at}.rows[{k}]", rid, f"a row with entries (this one is '{rows[rid].financing}'), or measure: money")
            if rows[rid].financing == "info":
                fail(f"{at}.rows[{k}]", rid, "a row the plan gives entries or money (this one is for information only)")
            if rule.part is not None and rule.part not in {b.id for b in rows[rid].breakdown if b.entries}:
                fail(f"{at}.part", rule.part, f"a 'davon' part with entries of every row of the rule; {rid} has: "
                     + one_of({b.id for b in rows[rid].breakdown if b.entries}, rule.part))
    for g in m.priorities:
        if g not in group_ids:
            fail(f"priorities.{g}", g, "a group defined under 'groups': " + one_of(group_ids, g))
    _check_budget(m, fail, nothing_allowed=True)


def check_plannable(spec: Spec, file: str | None = None) -> None:
    """Raise :class:`~optalloc.errors.InputFileError` unless the new-business pool makes more than 0 €
    available: with nothing (or less) to spend there is no plan to make. Every command calls it — through
    :func:`optalloc.api.load`, and ``validate`` itself — and so does each scenario applied, naming its file;
    :func:`load_model` alone refuses only a budget below 0 (a model may hold a budget of 0 and still
    reproduce its document)."""
    file = file or str(spec.path)

    def fail(field_path: str, value: object, allowed: str) -> None:
        raise InputFileError(file, field_path, value, allowed)

    _check_budget(spec.model, fail, nothing_allowed=False)


def _check_budget(m: Model, fail: Any, nothing_allowed: bool) -> None:
    """The money must make sense: the new-business pool makes more than 0 € available (0 € too, with
    ``nothing_allowed``), and no earmarked pool keeps back more than it has."""
    from .budget import derive_budget

    figures = derive_budget(m)
    for k, p in enumerate(m.pools):
        pool = figures.pools[p.id]
        if p.derived and (pool.available < 0 or (pool.available == 0 and not nothing_allowed)):
            fail("budget", NOT_SHOWN,
                 f"the new-business pool ({p.id}) makes {pool.available:,.2f} € available: the new-business budget "
                 f"{figures.new_business:,.2f} € (spendable funds {figures.spendable_funds:,.2f} € less commitments "
                 f"{figures.commitments:,.2f} €), less the reserve {figures.reserve + 0:,.2f} € and what is cut or "
                 f"reserved ({pool.reserved:,.2f} €)"
                 f"{' and the separate VBL pool' if m.budget.vbl_pool == 'separate' else ''}"
                 "; a plan needs more than 0 €: check the budget items, the reserve and the cuts")
        elif pool.available < 0:
            fail(f"pools[{k}] ({p.id}).reserved", NOT_SHOWN,
                 f"the reserved parts ({pool.reserved:,.2f} €) exceed what the pool plans with "
                 f"({pool.amount:,.2f} € × {pool.planning_share}): at most that")


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
