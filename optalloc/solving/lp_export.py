"""The planning LP as a file another solver can read: CPLEX LP format or MPS (``optalloc export``).

:func:`export_lp` builds the first pass of :func:`optalloc.solving.solve.optimise` — the LP whose optimum is the
plan's expected integrations — and writes it with the objective in its own units (expected integrations,
not divided by the LP's scale), the integrations that do not depend on any decision (fixed rows, the
part of a response below a lower bound) carried by a column ``integrations_constant`` fixed at 1 (both
formats drop an objective's constant term), and the sense kept in the file: ``Maximize`` in the LP file,
an ``OBJSENSE MAX`` section in the MPS file (PuLP's ``writeMPS`` keeps a maximisation only as a comment
unless called with ``with_objsense=True``, and a solver reading it would minimise). Row names are the
model's (``budget:new_business``) with ``:`` written as ``__``, a character both formats accept.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pulp

from .lp import LinearProgram, build_lp
from ..model.problem import Problem

CONSTANT_COLUMN = "integrations_constant"


def exported_lp(problem: Problem, integer: bool = False) -> LinearProgram:
    """The LP of ``problem`` as it is exported: the true objective (expected integrations, constant as a
    fixed column) and names every LP and MPS reader takes."""
    lp = build_lp(problem, integer=integer)
    prob = lp.prob
    objective = pulp.LpAffineExpression(lp.integrations)
    constant = float(objective.constant)
    objective.constant = 0.0
    one = prob.add_variable(CONSTANT_COLUMN, lowBound=1.0, upBound=1.0)
    objective.addterm(one, constant)
    prob.setObjective(objective)
    renamed = {}
    for name, constraint in prob._constraints.items():
        safe = name.replace(":", "__")
        constraint.name = safe
        renamed[safe] = constraint
    prob._constraints = renamed
    return lp


def export_lp(problem: Problem, lp_path: Path | str | None = None, mps_path: Path | str | None = None,
              integer: bool = False) -> list[Path]:
    """Write the LP to ``lp_path`` (CPLEX LP) and/or ``mps_path`` (MPS with OBJSENSE), each atomically
    (a temporary file in the target folder, renamed over the target); returns the paths written."""
    from ..outputs.export import write_file

    lp = exported_lp(problem, integer=integer)
    written = []
    for path, kind in ((lp_path, "lp"), (mps_path, "mps")):
        if path is None:
            continue
        path = Path(path)
        with tempfile.TemporaryDirectory() as folder:
            scratch = os.path.join(folder, f"model.{kind}")
            if kind == "lp":
                lp.prob.writeLP(scratch)
            else:
                lp.prob.writeMPS(scratch, with_objsense=True)
            content = Path(scratch).read_text(encoding="utf-8")
        written.append(write_file(path.parent if str(path.parent) else Path("."), path.name, content))
    return written
