"""Write a plan's tables to a folder: one CSV per table and one JSON with everything.

CSV money columns are euros with two decimals (computed from whole cents); JSON money is given both in
euros and in cents, so a reader can reconcile exactly.

Every file goes through :func:`write_files` (or :func:`write_file` for one): all of a command's files or
none, each written under a temporary name in the folder and then renamed over its target, so that no reader
sees half a file, two writers into one folder do not mix their files, and a symbolic link in the folder is
replaced, never followed to a file outside it.
"""

from __future__ import annotations

import json
import math
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..errors import OutputError
from ..solving.plan import money_cents
from .reports import Comparison, compare
from ..solving.solve import Solution

Content = str | bytes
"""What a file holds: text (written as UTF-8) or bytes (a PNG, say)."""


def check_output_folder(folder: Path | str) -> None:
    """Raise :class:`~optalloc.errors.OutputError` now if ``folder`` cannot take files, without creating
    anything: a command checks its output folder before the work and writes only once the results exist.

    The folder must not be an existing file; if it exists, a file can be created in it (probed under a name
    of this process's own, removed at once); if not, its nearest existing parent is a writable folder."""
    folder = Path(folder)
    if str(folder) == "":
        raise OutputError("''", "an empty path: give the folder to write to")
    existing = folder
    while not existing.exists() and not existing.is_symlink() and existing != existing.parent:
        existing = existing.parent
    if existing.is_symlink() and not existing.exists():
        raise OutputError(existing, "is a symbolic link to nothing: give a folder")
    if not existing.is_dir():
        raise OutputError(existing, "is a file, not a folder: give a folder to write to")
    if existing == folder:
        probe = _create_temporary(folder, "probe")
        os.close(probe[0])
        os.unlink(probe[1])
    elif not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(folder, f"cannot be made: no permission to write in {existing}")


def write_file(folder: Path | str, name: str, content: Content) -> Path:
    """Write one file ``name`` into ``folder`` safely (see :func:`write_files`); returns its path."""
    return write_files(folder, {name: content})[0]


def write_files(folder: Path | str, files: Mapping[str, Content]) -> list[Path]:
    """Write ``files`` (file name → content) into ``folder``, all of them or none; returns their paths.

    The folder is made if need be. Each file is first written under a temporary name of its own
    (``.name.<pid>.<random>.tmp``, opened exclusively, never through a link) and flushed to disk; only
    when all are written are they renamed over their targets. A target that is a folder stops everything
    before any file is touched; a target that is a symbolic link is replaced by the file (the link's own
    target, perhaps outside the folder, stays untouched). Raises
    :class:`~optalloc.errors.OutputError` with what went wrong; the temporary files are then removed."""
    folder = Path(folder)
    if str(folder) == "":
        raise OutputError("''", "an empty path: give the folder to write to")
    for name in files:
        if not name or name in (".", "..") or "/" in name or os.sep in name or "\0" in name:
            raise ValueError(f"a file name without a folder part, not {name!r}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(folder, "is a file, not a folder: give a folder to write to") from None
    except OSError as exc:
        raise OutputError(folder, f"cannot be made: {exc.strerror or exc}") from None
    for name in files:
        target = folder / name
        if not target.is_symlink() and target.is_dir():
            raise OutputError(target, "is a folder where this file belongs: remove it, or write to another folder")
    written: list[tuple[str, Path]] = []
    try:
        for name, content in files.items():
            fd, temporary = _create_temporary(folder, name)
            written.append((temporary, folder / name))
            with os.fdopen(fd, "wb") as f:
                f.write(content.encode("utf-8") if isinstance(content, str) else content)
                f.flush()
                os.fsync(f.fileno())
        for temporary, target in written:
            os.replace(temporary, target)  # replaces a link itself, never what it points to
    except OSError as exc:
        for temporary, _ in written:
            try:
                os.unlink(temporary)
            except FileNotFoundError:
                pass
        raise OutputError(folder, f"cannot write: {exc.strerror or exc}") from None
    return [target for _, target in written]


def _create_temporary(folder: Path, name: str) -> tuple[int, str]:
    """Create an empty file of a name no other process uses (pid and random part), exclusively: an
    existing file or link of that name makes it try another name. Returns its descriptor and path."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        path = os.path.join(folder, f".{name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(folder, f"cannot write: {exc.strerror or exc}") from None
    raise OutputError(folder, "cannot write: no free temporary name")  # pragma: no cover


def write_solution(folder: Path | str, opt: Solution, off: Solution,
                   comparison: Comparison | None = None) -> list[Path]:
    """Write the tables of an optimal plan beside the official one (``comparison``, if already made, is
    ``compare(opt, off)``); returns the files written (all of them, or none: :func:`write_files`)."""
    return write_files(folder, solution_files(opt, off, comparison))


def solution_files(opt: Solution, off: Solution, comparison: Comparison | None = None) -> dict[str, Content]:
    """What :func:`write_solution` writes, file name → content: one CSV per table of the comparison and
    ``plan.json`` with everything."""
    tables = (comparison or compare(opt, off)).tables()
    # floats as their shortest exact text: money keeps its cents at any size
    files: dict[str, Content] = {f"{name}.csv": df.to_csv() for name, df in tables.items()}
    spec = opt.problem.spec
    cents = money_cents(opt.problem, opt.plan)
    doc = {
        "model": str(spec.path),
        "rates": str(spec.rates_path),
        "scenarios": list(spec.scenarios),
        "basis": opt.problem.basis,
        "response": opt.problem.response_shape,
        "solver": opt.solver,
        "integer": opt.integer,
        "least_money": opt.least_money,
        "expected_integrations": {"official": off.integrations, "optimal": opt.integrations},
        "plan": {
            iid: {
                "level": float(opt.plan.levels[iid]),
                "unit": opt.problem.instruments.at[iid, "unit"],
                "set_by": (str(tables["levels"].at[iid, "set_by"]) if iid in tables["levels"].index else "fixed"),
                "money_cents": {r.pool: int(r.cents) for r in cents[cents.instrument == iid].itertuples() if r.cents},
            }
            for iid in opt.problem.instruments.index
        },
        "tables": {name: _records(df) for name, df in tables.items()},
    }
    files["plan.json"] = json.dumps(doc, indent=2, ensure_ascii=False)
    return files


def _records(df: pd.DataFrame) -> list[dict]:
    out = []
    for idx, row in df.iterrows():
        rec = {"index": idx}
        for k, v in row.items():
            if isinstance(v, float) and math.isnan(v):
                v = None
            elif hasattr(v, "item"):
                v = v.item()
            rec[str(k)] = v
        out.append(rec)
    return out
