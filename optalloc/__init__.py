"""optalloc: plan a jobcenter's integration budget (SGB II) as a linear program.

The public API (see :mod:`optalloc.api`): ``load`` a model with scenarios, ``solve`` it, evaluate the
``official`` plan, ``compare`` the two in the official shape, ``sweep`` the budget, ``explain`` the plan,
``diagnose`` an infeasible scenario, weigh the ``risk`` of uncertain rates, and trace the ``tradeoff``
between integrations and a group's reach.
Each returns pandas tables.
"""

from .api import Comparison, compare, diagnose, explain, load, official, risk, solve, sweep, tradeoff
from .errors import InfeasibleError, InputFileError, OptallocError, SolverError, UsageError

__all__ = [
    "Comparison", "InfeasibleError", "InputFileError", "OptallocError", "SolverError", "UsageError", "compare", "diagnose",
    "explain", "load", "official", "risk", "solve", "sweep", "tradeoff",
]
