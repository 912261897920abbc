"""optalloc: plan a jobcenter's integration budget (SGB II) as a linear program."""
