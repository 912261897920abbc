"""Reports and outputs: tables in the official shape, terminal views, figures, CSV/JSON and workbooks."""
