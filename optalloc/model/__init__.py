"""Model data: the model file, its schema and messages, the budget arithmetic, the document checks, scenario overlays and the validated problem; new models and planning workbooks in."""
