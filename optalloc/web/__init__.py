"""``optalloc serve``: a local web page for strategy staff, on Shiny for Python.

Pick a model (or upload one) and scenarios, move the budget, the reserve, the rates within their ranges,
the basis, priorities and policy rules, and see the optimal plan beside the official one in the official
shape, what set each level, the binding constraints, the budget sweep, the trade-off front, risk and
alternatives; an infeasible choice shows the diagnosis. Tables download as CSV (and xlsx), plots as PNG.

- :mod:`~optalloc.web.library` what the page may read: the models and scenarios folders, uploads;
- :mod:`~optalloc.web.planning` one session's choices → plan, with the LP built once and re-solved;
- :mod:`~optalloc.web.html` tables and blocks in the command line's number formats;
- :mod:`~optalloc.web.app` the Shiny page and its per-session server.

Safe by default: it listens on 127.0.0.1, reads only the two folders, and checks uploads with the
command line's loaders (one-line errors) after a size limit; each browser session has its own state.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import UsageError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def serve(model: Path, host: str = "127.0.0.1", port: int = 8000, scenarios_dir: Path | None = None,
          echo: Callable[[str], None] = print) -> None:
    """Serve the page for ``model`` (its folder is the models folder; scenarios from ``scenarios_dir``, by
    default the ``scenarios`` folder beside it) until interrupted."""
    import uvicorn

    from .app import asgi_app
    from .library import ModelLibrary

    model = Path(model)
    if not model.is_file():
        raise UsageError("MODEL", str(model), "a model file (.yaml) in a models folder, e.g. models/duisburg-2016.yaml")
    if scenarios_dir is None:
        beside = model.resolve().parent.parent / "scenarios"
        scenarios_dir = beside if beside.is_dir() else None
    elif not Path(scenarios_dir).is_dir():
        raise UsageError("--scenarios", str(scenarios_dir), "a folder of scenario files")
    _check_free(host, port)
    library = ModelLibrary(model.resolve().parent, scenarios_dir)
    app = asgi_app(library, model.name)  # loads the model now: a bad model fails here, with its one line
    if host not in LOCAL_HOSTS:
        echo(f"optalloc: warning: listening on {host}, not only this computer: anyone who reaches it can use the "
             "page (there is no login)")
    echo(f"optalloc: serving {model} on http://{'[' + host + ']' if ':' in host else host}:{port} "
         f"(models: {library.models_dir}, scenarios: {library.scenarios_dir or 'none'}); Ctrl-C stops")
    uvicorn.run(app, host=host, port=port, log_level="warning", ws_max_size=MAX_MESSAGE_BYTES)


def _check_free(host: str, port: int) -> None:
    """Refuse, in one line, an address the server could not listen on (a port in use, a host not here)."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(infos[0][4])
    except OSError as exc:
        raise UsageError("--port" if exc.errno == errno.EADDRINUSE else "--host", f"{host}:{port}",
                         f"an address to listen on: {exc.strerror or exc} (choose another with --port or --host)") \
            from None


MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""The largest websocket message a browser may send (inputs, not uploads: those go by HTTP)."""

__all__ = ["serve"]
