"""Shared fixtures: the shipped Duisburg 2016 model, its problem and the two plans every test compares."""

from __future__ import annotations

from pathlib import Path

import pytest

from optalloc.model.loading import load_model
from optalloc.model.problem import build_problem
from optalloc.solving.solve import official, optimise

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "duisburg-2016.yaml"
RATES = ROOT / "models" / "rates" / "sgb2-defaults.yaml"


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
