"""Exception types of optalloc.

Every error a user can cause carries a message that names what is wrong and what is allowed; the CLI
prints the message and exits with the error's ``exit_code``, never a traceback.
"""

from __future__ import annotations


class OptallocError(Exception):
    """Base class of every error optalloc raises on purpose."""

    exit_code = 1


class InputFileError(OptallocError):
    """A model, rates or scenario file that cannot be used: unreadable, malformed or inconsistent.

    ``file`` is the path as given, ``field`` the path inside the file (``instruments[3].new_funds``) or a
    line and column, ``value`` the offending value (:data:`NOT_SHOWN` when ``allowed`` names it already, as
    for a rule between several fields) and ``allowed`` what would be accepted.
    """

    def __init__(self, file: str, field: str, value: object, allowed: str):
        self.file = file
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else str(self.file)
        what = "" if self.value is _NOT_SHOWN else f": {_short(self.value)}"
        return " ".join(f"{where}{what} — {self.allowed}".split())


class InfeasibleError(OptallocError):
    """No plan satisfies every requirement. ``diagnosis`` says which requirements collide and what fixes it."""

    exit_code = 3

    def __init__(self, message: str, diagnosis: object | None = None):
        self.diagnosis = diagnosis
        super().__init__(message)


class UsageError(OptallocError):
    """An argument outside what is allowed (a budget range, a group, a basis); names it and what is allowed."""

    exit_code = 2

    def __init__(self, argument: str, value: object, allowed: str):
        self.argument = argument
        super().__init__(f"{argument}: {_short(value)} — {allowed}")


class OutputError(OptallocError):
    """An output folder or file that cannot be written (a folder where a file belongs, no permission, a full
    disk). Raised before any file of the set is put in place: the folder keeps what it held."""

    exit_code = 2

    def __init__(self, path: object, problem: str):
        self.path = path
        super().__init__(f"{path}: {problem}")


class SolverError(OptallocError):
    """The solver failed for a reason other than infeasibility (unbounded, numerical trouble, not installed)."""

    exit_code = 4


def _short(value: object, limit: int = 60) -> str:
    """The value as the YAML file spells it (true, null, {key: ...}), cut to ``limit`` characters.

    Never builds more text than that: a value may be a long string or a deeply nested, alias-expanded
    structure, whose full ``repr`` alone could exhaust the memory."""
    if value is _MISSING:
        return "missing"
    if isinstance(value, dict):
        inner = (("..." if isinstance(v, (dict, list)) else _short(v, 20)) for v in list(value.values())[:limit])
        text = "{" + ", ".join(f"{str(k)[:20]}: {v}" for k, v in zip(list(value)[:limit], inner)) + "}"
        if len(text) > limit or len(value) > limit:
            first = ", ".join(f"{str(k)[:20]}: ..." for k in list(value)[:3])
            text = "{" + first + (", ...}" if len(value) > 3 else "}")
    else:
        text = _bounded(value, limit)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _bounded(value: object, limit: int) -> str:
    """``repr(value)`` (YAML's spelling of true, false and null), stopped a little after ``limit`` characters:
    the text is built piece by piece and the walk ends as soon as it is long enough."""
    pieces: list[str] = []
    size = 0

    def emit(text: str) -> bool:
        nonlocal size
        pieces.append(text)
        size += len(text)
        return size > limit

    def walk(v: object) -> bool:
        if isinstance(v, bool):
            return emit("true" if v else "false")
        if v is None:
            return emit("null (empty)")
        if isinstance(v, str):
            return emit(repr(v[: limit + 1]) if len(v) <= limit else repr(v[: limit + 1])[:-1])
        if isinstance(v, (list, tuple)):
            if emit("["):
                return True
            for k, item in enumerate(v):
                if (k and emit(", ")) or walk(item):
                    return True
            return emit("]")
        if isinstance(v, dict):
            if emit("{"):
                return True
            for k, (key, item) in enumerate(v.items()):
                if (k and emit(", ")) or walk(key) or emit(": ") or walk(item):
                    return True
            return emit("}")
        return emit(repr(v)[: limit + 1])

    walk(value)
    return "".join(pieces)


class _Missing:
    def __repr__(self) -> str:
        return "(missing)"


class _NotShown:
    def __repr__(self) -> str:
        return "(not shown)"


_MISSING = _Missing()
MISSING: object = _MISSING
_NOT_SHOWN = _NotShown()
NOT_SHOWN: object = _NOT_SHOWN
