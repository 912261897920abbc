"""Small helpers for tests: change a loaded model without writing files."""

from __future__ import annotations

import dataclasses

from optalloc.loading import Spec


def with_budget(spec: Spec, **changes) -> Spec:
    budget = spec.model.budget.model_copy(update=changes)
    return dataclasses.replace(spec, model=spec.model.model_copy(update={"budget": budget}))


def plan_dict(solution) -> tuple[dict, dict]:
    return solution.plan.levels.to_dict(), dict(solution.plan.split)
