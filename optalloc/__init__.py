"""optalloc: plan a jobcenter's integration budget (SGB II) as a linear program.

The public API (see :mod:`optalloc.api`): ``load`` a model with scenarios, ``solve`` it, evaluate the
``official`` plan, ``compare`` the two in the official shape, ``sweep`` the budget, ``explain`` the plan,
``diagnose`` an infeasible scenario, weigh the ``risk`` of uncertain rates, and trace the ``tradeoff``
between integrations and a group's reach. Options instead of one answer: the minimal-change ``frontier``,
near-optimal ``corridors`` and ``alternatives``, and ``evaluate`` for any plan a user writes. The ``year``
in quarters: cash per month, commitments, decisions in stages.
Each returns pandas tables.
"""

from .api import (Comparison, alternatives, compare, corridors, diagnose, evaluate, explain, frontier, load, official,
                  risk, solve, sweep, tradeoff, year)
from .errors import InfeasibleError, InputFileError, OptallocError, SolverError, UsageError

__all__ = [
    "Comparison", "InfeasibleError", "InputFileError", "OptallocError", "SolverError", "UsageError", "alternatives",
    "compare", "corridors", "diagnose", "evaluate", "explain", "frontier", "load", "official", "risk", "solve", "sweep",
    "tradeoff", "year",
]
