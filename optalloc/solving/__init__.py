"""The LP and its solve: the PuLP model, the solver passes, plans to the cent, the constraint checker, the infeasibility diagnosis and LP/MPS files."""
