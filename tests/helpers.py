"""Small helpers for tests: change a loaded model without writing files."""

from __future__ import annotations

import dataclasses

from optalloc.model.loading import Spec


def with_budget(spec: Spec, **changes) -> Spec:
    budget = spec.model.budget.model_copy(update=changes)
    return dataclasses.replace(spec, model=spec.model.model_copy(update={"budget": budget}))


def plan_dict(solution) -> tuple[dict, dict]:
    return solution.plan.levels.to_dict(), dict(solution.plan.split)


def assert_one_clear_line(result, named, fragments) -> None:
    """A refused input: exit 1, one line on stderr naming ``named`` and what is allowed, no traceback."""
    output = result.output
    assert "Traceback" not in output and "internal error" not in output, output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1, output
    assert result.stdout == "", "the message goes to stderr, nothing to stdout"
    lines = output.splitlines()
    assert len(lines) == 1, output
    line = lines[0]
    assert line.startswith(f"optalloc: {named}"), line
    assert " — " in line and line.split(" — ", 1)[1].strip(), f"no 'what is allowed' part: {line}"
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in: {line}"
