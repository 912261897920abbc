"""Shared fixtures: the shipped Duisburg 2016 model, its problem and the two plans every test compares."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from optalloc.model.loading import load_model
from optalloc.model.problem import build_problem
from optalloc.solving.solve import official, optimise

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "duisburg-2016.yaml"
RATES = ROOT / "models" / "rates" / "sgb2-defaults.yaml"
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # yaml.safe_load's loader, in C where libyaml is built


def raw_yaml(path: Path) -> object:
    """A YAML file as plain data, read as yaml.safe_load reads it (libyaml's loader: the suite reads the
    Duisburg model a dozen times at import)."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)


@pytest.fixture(scope="session")
def spec():
    return load_model(MODEL)


@pytest.fixture(scope="session")
def problem(spec):
    return build_problem(spec)


@pytest.fixture(scope="session")
def official_plan(problem):
    return official(problem)


@pytest.fixture(scope="session")
def optimal_plan(problem):
    return optimise(problem)


SLOWEST_FIRST = ("test_notebooks.py", "test_web.py", "test_optimise.py", "test_properties.py", "test_hostile.py")
"""The files that take longest (pytest --durations=0, summed per file), run first: the two workers each take a
whole file at a time (--dist loadfile), and a long file started last leaves the other worker idle at the end."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file keeps its own order
