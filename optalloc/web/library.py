"""What the web page may read: the models and scenarios folders, and the files a user uploads.

:class:`ModelLibrary` lists the model files of one folder and the scenario files of another and loads them
by their listed name only — a page never hands it a path, so nothing outside the two folders is read. A
loaded model is kept for the life of the process (until its file changes), so that no request waits for it.

:func:`load_upload` checks an uploaded model (and the rates file it names, if uploaded with it) with the
same loaders as the command line — the same one-line messages, naming the uploaded file — after a size
limit. Uploads are parsed as YAML data (the library's bounded, safe reader) and never executed. A planning
workbook (.xlsx) is turned into a model file by the importer of ``optalloc import`` (in a temporary folder;
a bad workbook gets that command's one-line error) and that model is then loaded as an uploaded one.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from ..errors import InputFileError, OptallocError
from ..model.loading import Spec, check_plannable, find_rates, is_rates_name, load_model, read_yaml

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
"""The largest file the page accepts (2 MiB; the Duisburg model is about 90 KiB)."""
UPLOAD_SUFFIXES = (".yaml", ".yml")
WORKBOOK_SUFFIX = ".xlsx"
"""A planning workbook, converted by ``optalloc import``'s importer before it is loaded."""


@dataclass(frozen=True)
class UploadedFile:
    """One uploaded file: the name the user's browser gave it, its size, and where the server keeps it."""

    name: str
    size: int
    path: Path


class ModelLibrary:
    """The model files in ``models_dir`` and the scenario files in ``scenarios_dir``, by file name."""

    def __init__(self, models_dir: Path, scenarios_dir: Path | None):
        self.models_dir = Path(models_dir).resolve()
        self.scenarios_dir = Path(scenarios_dir).resolve() if scenarios_dir is not None else None
        self._specs: dict[str, tuple[float, Spec]] = {}
        self._scenario_names: dict[str, tuple[float, str]] = {}

    def models(self) -> list[str]:
        """The model files (``*.yaml``, ``*.yml`` directly in the models folder, not a model's timing file
        ``<model>-timing.yaml``), sorted."""
        return sorted(p.name for p in self.models_dir.iterdir()
                      if p.suffix in UPLOAD_SUFFIXES and p.is_file() and not p.stem.endswith("-timing"))

    def scenarios(self) -> dict[str, str]:
        """Scenario file name → its ``name`` (what the file says it is), sorted by file name."""
        if self.scenarios_dir is None or not self.scenarios_dir.is_dir():
            return {}
        out = {}
        for p in sorted(self.scenarios_dir.glob("*.yaml")):
            if p.is_file():
                out[p.name] = self._scenario_name(p)
        return out

    def _scenario_name(self, path: Path) -> str:
        mtime = path.stat().st_mtime
        known = self._scenario_names.get(path.name)
        if known is None or known[0] != mtime:
            try:
                data = read_yaml(path, "scenario file")
                name = str(data.get("name", path.stem)) if isinstance(data, dict) else path.stem
            except OptallocError:
                name = f"{path.stem} (cannot be read)"
            known = (mtime, name)
            self._scenario_names[path.name] = known
        return known[1]

    def model_path(self, name: str) -> Path:
        if name not in self.models():
            raise InputFileError(name, "", None, f"a model of the models folder: one of {', '.join(self.models())}")
        return self.models_dir / name

    def scenario_path(self, name: str) -> Path:
        if name not in self.scenarios():
            raise InputFileError(name, "", None, "a scenario of the scenarios folder: one of "
                                 f"{', '.join(self.scenarios()) or '(none)'}")
        assert self.scenarios_dir is not None
        return self.scenarios_dir / name

    def spec(self, name: str) -> Spec:
        """The loaded model ``name`` (loaded again only when its file changed)."""
        path = self.model_path(name)
        mtime = path.stat().st_mtime
        known = self._specs.get(name)
        if known is None or known[0] != mtime:
            known = (mtime, load_model(self._relative(path)))
            self._specs[name] = known
        return known[1]

    def _relative(self, path: Path) -> Path:
        """``path`` relative to the working folder where it lies below it, as the command line names it."""
        try:
            return path.relative_to(Path.cwd())
        except ValueError:
            return path


def load_upload(files: list[UploadedFile], rates_dir: Path | None = None) -> Spec:
    """The model a user uploaded, checked as ``optalloc solve`` checks a file before it solves.

    ``files`` holds the model file and, where the model names a rates file of its own, that file; or a planning
    workbook (.xlsx) alone, which ``optalloc import``'s importer makes into the model file first. The rates
    file the model names is found as the command line finds it — relative to the model (here: among the
    uploaded files), else by its name among the packaged rates files — except that a path leaving the
    upload (``..``, an absolute path) is looked up by its name only, in ``rates_dir`` (the models folder's
    ``rates``) and then among the packaged ones: no other file on the server is read.
    Raises InputFileError with one line naming the uploaded file, the field, the value and what is
    allowed (the command line's own messages, with the uploaded file's name)."""
    if not files:
        raise InputFileError("(upload)", "", None, "choose a model file (.yaml) or a planning workbook (.xlsx) "
                             "to upload")
    if len(files) > 2:
        raise InputFileError(", ".join(f.name for f in files), "", None,
                             "upload one model file, and the rates file it names if it has one of its own")
    for f in files:
        if not f.name.lower().endswith((*UPLOAD_SUFFIXES, WORKBOOK_SUFFIX)):
            raise InputFileError(f.name, "", None, "a model file in YAML (.yaml or .yml) or a planning workbook "
                                 "(.xlsx)")
        if f.size > MAX_UPLOAD_BYTES or f.path.stat().st_size > MAX_UPLOAD_BYTES:
            raise InputFileError(f.name, "", None, f"a file of at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB "
                                 f"(this one has {f.size / (1024 * 1024):,.1f} MiB)")
    books = [f for f in files if f.name.lower().endswith(WORKBOOK_SUFFIX)]
    if books:
        if len(files) > 1:
            raise InputFileError(", ".join(f.name for f in files), "", None,
                                 "a planning workbook (.xlsx) alone: its rates file is the name of a packaged one "
                                 "(sgb2-defaults); for a rates file of your own, upload the model file instead")
        return _load_workbook(books[0], rates_dir)
    model, rates = _model_and_rates(files)
    folder = Path(tempfile.mkdtemp(prefix="optalloc-upload-"))
    try:
        model_path = folder / _plain_name(model.name)
        shutil.copyfile(model.path, model_path)
        named = _rates_file_named(model_path)
        inside = _inside(folder, named) if named else None
        if rates is not None:
            target = inside if inside is not None and inside.name == _plain_name(rates.name) else \
                folder / _plain_name(rates.name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(rates.path, target)
        rates_path = None  # the loader finds it: inside the upload folder, or a packaged one by name
        if named is not None and inside is None and not is_rates_name(named):
            found = _rates_by_name(PurePosixPath(named), rates_dir, model_path)
            if found is None:
                load_model(model_path, rates=_any_rates(model_path))  # the model's own errors first
                raise InputFileError(str(model_path), "meta.rates_file", named,
                                     "a path inside the upload (upload the rates file with the model) or the name "
                                     "of a packaged rates file")
            rates_path = found
        spec = load_model(model_path, rates=rates_path)
        check_plannable(spec)  # a budget left to plan with, as every command checks
        shown = Path(_outside(str(spec.rates_path), folder))
        return dataclasses.replace(spec, path=Path(model.name), rates_path=shown)
    except InputFileError as exc:
        raise InputFileError(_outside(exc.file, folder), exc.field, exc.value,
                             exc.allowed.replace(str(folder) + os.sep, "")) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _load_workbook(book: UploadedFile, rates_dir: Path | None) -> Spec:
    """An uploaded planning workbook: made into a model file by ``optalloc import``'s importer in a temporary
    folder, then loaded as an uploaded model file is. A bad workbook raises the importer's one-line error,
    naming the workbook as uploaded."""
    from ..model.importer import import_to_file

    folder = Path(tempfile.mkdtemp(prefix="optalloc-workbook-"))
    try:
        path = folder / _plain_name(book.name)
        shutil.copyfile(book.path, path)
        _refuse_rates_outside(path, folder)
        model_path = import_to_file(path)
        return load_upload([UploadedFile(model_path.name, model_path.stat().st_size, model_path)], rates_dir)
    except InputFileError as exc:
        raise InputFileError(_outside(exc.file, folder), exc.field, exc.value,
                             exc.allowed.replace(str(folder) + os.sep, "")) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _refuse_rates_outside(path: Path, folder: Path) -> None:
    """Refuse a workbook whose ``rates_file`` is a path leaving the upload (``..``, an absolute path): the
    importer reads the rates file it names, and no file on the server outside the upload may be read so. A
    workbook whose budget sheet cannot be read is left to the importer to refuse, with its own message."""
    from ..model.importer import workbook_rates_file

    try:
        named = workbook_rates_file(path)
    except OptallocError:
        return
    if named is None:
        return
    value, where = named
    if isinstance(value, str) and value.strip() and not is_rates_name(value) and _inside(folder, value) is None:
        raise InputFileError(str(path), where, value,
                             "the name of a packaged rates file (sgb2-defaults) or a path inside the upload: an "
                             "uploaded workbook names no other file on the server")


def _rates_by_name(named: PurePosixPath, rates_dir: Path | None, model_path: Path) -> Path | None:
    """A rates file by the file name a model gives: in ``rates_dir`` (as the working folder names it), else
    a packaged one."""
    if named.suffix not in (".yaml", ".yml"):
        return None
    if rates_dir is not None and (rates_dir / named.name).is_file():
        path = (rates_dir / named.name).resolve()
        try:
            return path.relative_to(Path.cwd())
        except ValueError:
            return path
    return find_rates(named.stem, model_path)


def _any_rates(model_path: Path) -> Path:
    found = find_rates("sgb2-defaults", model_path)
    return found if found is not None else model_path


def _model_and_rates(files: list[UploadedFile]) -> tuple[UploadedFile, UploadedFile | None]:
    """Which upload is the model and which the rates file: the model names the other in ``meta.rates_file``;
    failing that, a rates file holds ``classes`` and a model not."""
    if len(files) == 1:
        return files[0], None
    a, b = files
    for model, rates in ((a, b), (b, a)):
        named = _rates_file_named(model.path)
        if named and PurePosixPath(named.replace("\\", "/")).name == PurePosixPath(rates.name).name:
            return model, rates
    kinds = [_looks_like_rates(f.path) for f in files]
    if kinds.count(True) != 1:
        raise InputFileError(", ".join(f.name for f in files), "", None,
                             "one model file and the rates file it names (a rates file has 'classes')")
    return files[kinds.index(False)], files[kinds.index(True)]


def _looks_like_rates(path: Path) -> bool:
    try:
        data = read_yaml(path, "file")
    except OptallocError:
        return False
    return isinstance(data, dict) and "classes" in data and "instruments" not in data


def _rates_file_named(model_path: Path) -> str | None:
    """The model's ``meta.rates_file`` if the file can be read that far (else the loader says why)."""
    try:
        data: Any = read_yaml(model_path, "model file")
    except (OptallocError, yaml.YAMLError):
        return None
    meta = data.get("meta") if isinstance(data, dict) else None
    value = meta.get("rates_file") if isinstance(meta, dict) else None
    return value if isinstance(value, str) and value.strip() else None


def _inside(folder: Path, relative: str) -> Path | None:
    """``folder / relative`` where that stays inside ``folder`` (no absolute path, no '..')."""
    parts = PurePosixPath(relative.replace("\\", "/")).parts
    if not parts or PurePosixPath(relative).is_absolute() or any(p in ("..", "") for p in parts):
        return None
    return folder.joinpath(*parts)


def _plain_name(name: str) -> str:
    """A browser's file name without any folder part, safe as a file name here."""
    base = PurePosixPath(name.replace("\\", "/")).name.strip() or "upload.yaml"
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in base)


def _outside(file: str, folder: Path) -> str:
    """A message's file name as the user knows it: the upload folder's path left out."""
    prefix = str(folder) + os.sep
    return file[len(prefix):] if file.startswith(prefix) else file
