"""The page (Shiny for Python): pick a model and scenarios, change budget, reserve, rates, basis, priorities
and policy rules, and see the plan beside the official one, why, what-ifs, risk and alternatives.

:func:`create_app` builds the ASGI app for a :class:`~optalloc.web.library.ModelLibrary`; every browser
session gets its own :class:`~optalloc.web.planning.PlanningSession` inside Shiny's per-session ``server``
function, so two users never share a plan. Heavy work (sweep, trade-off front, explanation, risk,
alternatives) runs only when its tab is shown or its button pressed; what the first tab shows is redrawn on
every change.
"""

from __future__ import annotations

import importlib.util
import io
import itertools
import math
import time
import zipfile
from pathlib import Path

import pandas as pd
from shiny import App, reactive, render, req, ui
from shiny.types import SilentException

from ..outputs import views
from ..errors import OptallocError
from ..outputs.text import count, money
from . import html as H
from .library import MAX_UPLOAD_BYTES, ModelLibrary, UploadedFile, load_upload
from .planning import BUDGET_CHANGE_RANGE, Choices, Outcome, PlanningSession

RISK_DRAWS = 200
"""Draws of the rates for the risk tab by default: a few seconds with re-optimisation (1,000 in the CLI)."""
RISK_DRAWS_MAX = 2000

_CSS = """
.oa-text { font-size: 12px; line-height: 1.25; white-space: pre; overflow-x: auto; background: #f8f9fa;
           padding: .5rem; border-radius: .25rem; }
.oa-text.wrap { white-space: pre-wrap; }
.oa-table { font-size: 12px; }
.oa-table td.num, .oa-table th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.oa-table td.txt { max-width: 22rem; }
.table-wrap { max-height: 70vh; overflow: auto; }
.oa-plot { max-width: 100%; height: auto; }
.oa-error { color: #842029; background: #f8d7da; border: 1px solid #f5c2c7; padding: .5rem .75rem;
            border-radius: .25rem; font-family: monospace; font-size: 13px; white-space: pre-wrap; }
.oa-diagnosis h5 { color: #842029; }
.oa-status { font-size: 13px; color: #555; }
"""

# A slider sends its value 250 ms after the last movement (Shiny's debounce while dragging); when the user
# lets go of the handle, or presses a key on it, this sends it at once.
_SLIDER_RELEASE_JS = """
$(document).on('mouseup touchend keyup', '.irs', function () {
  var input = $(this).closest('.shiny-input-container').find('input.js-range-slider');
  if (!input.length) return;
  input.data('immediate', true); input.trigger('change'); input.data('immediate', false);
});
"""


def _sidebar(library: ModelLibrary, default_model: str) -> ui.Sidebar:
    lo, hi = (round(v * 100) for v in BUDGET_CHANGE_RANGE)
    return ui.sidebar(
        ui.input_select("model", "Model (models folder)", choices=library.models(), selected=default_model),
        ui.input_file("upload", "…or upload a model (YAML; with its rates file if it has its own) or a planning "
                      "workbook (.xlsx, as optalloc new writes it)",
                      accept=[".yaml", ".yml", ".xlsx"], multiple=True, button_label="Upload…"),
        ui.output_ui("upload_message"),
        ui.input_selectize("scenarios", "Scenarios (applied in the order chosen)", choices=library.scenarios(),
                           multiple=True),
        ui.input_slider("budget", "New-business budget: cut (−) or raise (+), % of the model's", min=lo, max=hi,
                        value=0, step=1, post=" %"),
        ui.input_numeric("reserve", "Reserve for the year (€; empty: the model's)", value=None, min=0, step=10000),
        ui.output_ui("reserve_note"),
        ui.input_radio_buttons("basis", "Count", {"gross": "gross integration rates", "net": "net effects"},
                               selected="gross", inline=True),
        ui.output_ui("model_controls"),
        width=380,
        open="always",
    )


def _page(library: ModelLibrary, default_model: str, alternatives: bool) -> ui.Tag:
    tabs = [
        ui.nav_panel("Plan", ui.output_ui("status"), ui.output_ui("summary"), ui.output_ui("instruments"),
                     value="plan"),
        ui.nav_panel("Official shape", ui.output_ui("official_shape"), value="shape"),
        ui.nav_panel("Why", ui.output_ui("why"), ui.input_action_button("run_explain", "Explain every instrument"),
                     ui.output_ui("explanation"), value="why"),
        ui.nav_panel("Budget sweep", ui.output_ui("sweep"),
                     ui.input_select("front_group", "Trade-off front: integrations against the reach of", []),
                     ui.output_ui("front"), value="sweep"),
        ui.nav_panel("Risk", ui.input_numeric("draws", "Draws of the rates", value=RISK_DRAWS, min=10,
                                              max=RISK_DRAWS_MAX, step=50),
                     ui.input_action_button("run_risk", "Run the risk analysis"), ui.output_ui("risk"), value="risk"),
    ]
    if alternatives:
        tabs.append(ui.nav_panel("Alternatives", ui.input_action_button("run_alternatives", "Find alternatives"),
                                 ui.output_ui("alternatives"), value="alternatives"))
    tabs.append(ui.nav_panel("Downloads", ui.output_ui("downloads"), value="downloads"))
    return ui.page_sidebar(
        _sidebar(library, default_model),
        ui.head_content(ui.tags.style(_CSS), ui.tags.script(_SLIDER_RELEASE_JS)),
        ui.navset_card_tab(*tabs, id="tab"),
        title="optalloc — integration budget plan",
        fillable=False,
    )


def _has(module: str) -> bool:
    return importlib.util.find_spec(f"optalloc.{module}") is not None


def create_app(library: ModelLibrary, default_model: str) -> App:
    """The Shiny app over ``library``, opening ``default_model``. Loads that model and the modules the page
    needs now, so that the first request does not wait for them."""
    library.spec(default_model)
    from ..outputs import plotting  # noqa: F401 - matplotlib's import, out of the request path

    has_alternatives = _has("alternatives") and _has("option_views")
    has_excel = _has("excel")
    upload_numbers = itertools.count(1)

    def server(input, output, session):  # noqa: A002 - Shiny's names
        uploads: dict[str, object] = {}
        planning = PlanningSession(spec_of=lambda key: uploads[key] if key in uploads else library.spec(key),
                                   scenario_path=library.scenario_path)
        upload_error = reactive.value("")

        def value_of(name: str, default):
            try:
                value = input[name]()
            except (SilentException, KeyError):
                return default
            return default if value is None else value

        @reactive.calc
        def base_spec():
            """The chosen model, or None where it cannot be loaded (the Plan tab then shows why)."""
            try:
                return planning.spec(input.model(), ())
            except OptallocError:
                return None

        @reactive.effect
        @reactive.event(input.upload)
        def _take_upload():
            files = [UploadedFile(f["name"], int(f["size"]), Path(f["datapath"])) for f in input.upload() or []]
            try:
                spec = load_upload(files, library.models_dir / "rates")
            except OptallocError as exc:
                upload_error.set(str(exc))
                return
            key = f"upload {next(upload_numbers)}: {files[0].name if len(files) == 1 else spec.path.name}"
            uploads[key] = spec
            upload_error.set("")
            ui.update_select("model", choices=library.models() + list(uploads), selected=key)

        @render.ui
        def upload_message():
            text = upload_error()
            if not text:
                return None
            return ui.HTML(f'<div id="upload-error" class="oa-error">{H.html.escape(text)}</div>')

        @render.ui
        def model_controls():
            spec = base_spec()
            if spec is None:
                return None
            basis = input.basis()
            sliders = []
            for cls, rc in spec.rates.classes.items():
                figure = getattr(rc, basis)
                sliders.append(ui.input_slider(f"rate_{basis}_{cls}", f"{rc.name} ({figure.status})",
                                               min=figure.low, max=figure.high, value=figure.value,
                                               step=_rate_step(figure)))
            priorities = [ui.input_numeric(f"prio_{g}", g, value=bonus, min=0, max=100, step=0.25)
                          for g, bonus in _groups_and_priorities(spec)]
            policy = {r.id: r.name for r in spec.model.policy}
            return ui.accordion(
                ui.accordion_panel(f"Rates ({basis}), each class within its range", *sliders),
                ui.accordion_panel("Priorities (bonus weight per group)", *priorities),
                ui.accordion_panel("Policy rules (the document's stated decisions)",
                                   ui.input_checkbox_group("policy", None, policy, selected=list(policy))),
                open=False, id="controls",
            )

        @reactive.calc
        def choices() -> Choices:
            spec = base_spec()
            scenarios = tuple(input.scenarios() or ())
            budget_change = float(input.budget()) / 100
            if spec is None:
                return Choices(model=input.model(), scenarios=scenarios, budget_change=budget_change)
            basis = input.basis()
            default_basis = spec.rates.meta.default_basis
            rates = []
            for cls, rc in spec.rates.classes.items():
                figure = getattr(rc, basis)
                value = value_of(f"rate_{basis}_{cls}", figure.value)
                step = _rate_step(figure)
                if abs(float(value) - figure.value) > step / 2 and figure.low <= float(value) <= figure.high:
                    rates.append((cls, float(value)))
            priorities = []
            for g, bonus in _groups_and_priorities(spec):
                value = value_of(f"prio_{g}", bonus)
                if isinstance(value, (int, float)) and math.isfinite(value) and abs(float(value) - bonus) > 1e-12:
                    priorities.append((g, float(value)))
            selected = value_of("policy", None)
            policy_off = () if selected is None else tuple(r.id for r in spec.model.policy if r.id not in selected)
            reserve = value_of("reserve", None)
            if not isinstance(reserve, (int, float)) or not math.isfinite(reserve) or reserve < 0:
                reserve = None
            return Choices(model=input.model(), scenarios=scenarios, budget_change=budget_change, reserve=reserve,
                           basis=None if basis == default_basis else basis, rates=tuple(rates),
                           priorities=tuple(priorities), policy_off=policy_off)

        chosen = reactive.value(None)

        @reactive.effect(priority=100)
        def _choose():
            """Pass the choices on only when they changed: an input sent again with the same meaning (a
            control redrawn, a rate slider of the other basis) does not redraw the plan."""
            found = choices()
            with reactive.isolate():
                if found != chosen.get():
                    chosen.set(found)

        @reactive.calc
        def outcome() -> Outcome:
            found = chosen.get()
            req(found is not None)
            return planning.outcome(found)

        @render.ui
        def reserve_note():
            out = outcome()
            if out.problem is None:
                return None
            return ui.HTML(f'<div class="oa-status">in use: {money(float(out.problem.budget.reserve))} €</div>')

        @render.ui
        def status():
            out = outcome()
            c = out.choices
            if out.problem is not None:
                head = out.problem.name + f" · {out.problem.basis} basis"
            else:
                head = f"{c.model}" + "".join(f" + {library.scenarios().get(s, s)}" for s in c.scenarios)
            parts = [f'<div class="oa-status" id="plan-header" data-solve-ms="{out.seconds * 1000:.1f}">'
                     f'{H.html.escape(head)}</div>']
            if out.error:
                parts.append(f'<div id="error" class="oa-error">{H.html.escape(out.error)}</div>')
            elif out.diagnosis is not None:
                parts.append('<div id="diagnosis" class="oa-diagnosis"><h5>No plan satisfies every requirement</h5>'
                             + H.text_block(f"optalloc: {out.message}\n" + views.diagnosis_view(out.diagnosis),
                                            "diagnosis-text") + "</div>")
            return ui.HTML("".join(parts))

        @render.ui
        def summary():
            out = outcome()
            if out.comparison is None:
                return None
            cmp = out.comparison
            return ui.HTML(H.text_block(views.summary_view(cmp.summary), "summary-text")
                           + H.text_block(views.levels_line(cmp.levels), "levels-text", wrap=True)
                           + H.text_block(views.checks_line(out.optimal), "check", wrap=True))

        @render.ui
        def instruments():
            out = outcome()
            if out.comparison is None:
                return None
            t = out.comparison.instruments
            t = t[t["financing"] != "info"].copy()
            levels = out.comparison.levels
            t["set_by"] = levels["set_by"].reindex(t.index).fillna("")
            return ui.HTML(H.table(t, H.instrument_columns(1), "plan-table",
                                   "Plan by instrument beside the official plan, as the document prints its rows"))

        @render.ui
        def official_shape():
            out = outcome()
            if out.comparison is None:
                return _nothing(out)
            cmp = out.comparison
            parts = [views.area_view(cmp.areas, 1)]
            if not cmp.kennzahlen.empty:
                parts.append(views.kennzahlen_view(cmp.kennzahlen, 1))
            parts.append(views.budget_view(cmp.budget, float(out.problem.budget.reserve)))
            figure = areas_png()
            return ui.HTML(H.text_block("\n\n".join(parts), "shape-text")
                           + (H.image(figure, "money per priority area", "areas-plot") if figure else ""))

        @reactive.calc
        def areas_png() -> bytes | None:
            out = outcome()
            return _plans_by_area(out.comparison.areas) if out.comparison is not None else None

        @render.ui
        def why():
            out = outcome()
            if out.comparison is None:
                return _nothing(out)
            cmp = out.comparison
            return ui.HTML(H.text_block(views.levels_line(cmp.levels), "levels-line", wrap=True)
                           + "<h6>Binding constraints and what they are worth</h6>"
                           + H.text_block(_binding_in_words(cmp.constraints), "binding")
                           + H.text_block(views.levels_view(cmp.levels), "levels-table"))

        @render.ui
        @reactive.event(input.run_explain)
        def explanation():
            out = outcome()
            if out.problem is None or not out.feasible:
                return None
            from ..analyses.explanation import explain

            return ui.HTML(H.text_block(views.explanation_view(explain(out.problem)), "explanation-text"))

        @reactive.calc
        def sweep_result():
            out = outcome()
            if out.problem is None:
                return None
            from ..analyses.sweeps import levels_of, sweep_budget

            start = time.perf_counter()
            try:
                result = sweep_budget(out.problem, levels_of(out.problem, "min:110%", 101))
            except OptallocError as exc:
                return str(exc)
            return result, time.perf_counter() - start

        @reactive.calc
        def sweep_png() -> bytes | None:
            found = sweep_result()
            if not isinstance(found, tuple):
                return None
            from ..outputs.plotting import sweep_curve

            out = outcome()
            base = out.official
            spent = float(base.spent()[out.problem.new_business_pool])
            at = out.optimal.integrations if out.optimal is not None else None
            return H.png_of(sweep_curve(found[0], (spent, base.integrations), at_budget=at))

        @render.ui
        def sweep():
            found = sweep_result()
            if found is None:
                return _nothing(outcome())
            if isinstance(found, str):
                return ui.HTML(f'<div class="oa-error">{H.html.escape(found)}</div>')
            result, seconds = found
            out = outcome()
            png = sweep_png()
            return ui.HTML((H.image(png, "integrations by budget", "sweep-plot") if png else "")
                           + H.text_block(views.sweep_report(result, out.official.integrations, seconds), "sweep-text"))

        @reactive.effect
        def _front_groups():
            spec = base_spec()
            groups = [g for g, _ in _groups_and_priorities(spec)] if spec is not None else []
            current = value_of("front_group", None)
            ui.update_select("front_group", choices=groups,
                             selected=current if current in groups else ("long_term" if "long_term" in groups
                                                                          else (groups[0] if groups else None)))

        @reactive.calc
        def front_result():
            out = outcome()
            group = value_of("front_group", None)
            if out.problem is None or not group:
                return None
            from ..analyses.tradeoffs import tradeoff

            try:
                return tradeoff(out.problem, group, official_levels=out.problem.instruments["official"])
            except OptallocError as exc:
                return str(exc)

        @reactive.calc
        def front_png() -> bytes | None:
            found = front_result()
            if found is None or isinstance(found, str):
                return None
            from ..outputs.plotting import tradeoff_front

            return H.png_of(tradeoff_front(found, found.group))

        @render.ui
        def front():
            found = front_result()
            if found is None:
                return None
            if isinstance(found, str):
                return ui.HTML(f'<div class="oa-error">{H.html.escape(found)}</div>')
            return ui.HTML(H.image(front_png(), f"trade-off front: {found.group}", "front-plot"))

        @reactive.calc
        @reactive.event(input.run_risk)
        def risk_result():
            out = outcome()
            if out.problem is None:
                return None
            from ..analyses.risk import assess

            draws = value_of("draws", RISK_DRAWS)
            draws = int(min(max(int(draws), 10), RISK_DRAWS_MAX)) if isinstance(draws, (int, float)) else RISK_DRAWS
            try:
                return assess(out.problem, draws=draws, seed=0)
            except OptallocError as exc:
                return str(exc)

        @reactive.calc
        def risk_png() -> bytes | None:
            found = risk_result()
            if found is None or isinstance(found, str):
                return None
            from ..outputs.plotting import risk_histogram

            return H.png_of(risk_histogram(found))

        @render.ui
        def risk():
            found = _ran(risk_result)
            if found is None:
                return ui.HTML('<p class="oa-status">Each rate class is drawn within its range; the official, '
                               'optimal and a robust plan are valued on every draw. Press the button to run it '
                               f'(seed 0; {RISK_DRAWS} draws take a few seconds).</p>')
            if isinstance(found, str):
                return ui.HTML(f'<div class="oa-error">{H.html.escape(found)}</div>')
            return ui.HTML(H.image(risk_png(), "risk histogram", "risk-plot")
                           + H.text_block(views.risk_report(found), "risk-text"))

        if has_alternatives:
            @render.ui
            @reactive.event(input.run_alternatives)
            def alternatives():
                out = outcome()
                if out.problem is None or not out.feasible:
                    return _nothing(out)
                from ..analyses.alternatives import DEFAULT_EPSILON, alternatives as find_alternatives
                from ..outputs.option_views import alternatives_view

                try:
                    found = find_alternatives(out.problem, DEFAULT_EPSILON, 3, optimal=out.optimal,
                                              official=out.official)
                except OptallocError as exc:
                    return ui.HTML(f'<div class="oa-error">{H.html.escape(str(exc))}</div>')
                return ui.HTML(H.text_block(alternatives_view(found), "alternatives-text"))

        @render.ui
        def downloads():
            out = outcome()
            if out.comparison is None:
                return _nothing(out)
            items = [
                ui.download_button("download_instruments", "Plan by instrument (CSV)"),
                ui.download_button("download_tables", "All tables (CSV files in a zip)"),
            ]
            if has_excel:
                items.append(ui.download_button("download_xlsx", "Workbook (xlsx)"))
            items += [
                ui.download_button("download_sweep_png", "Sweep curve (PNG)"),
                ui.download_button("download_front_png", "Trade-off front (PNG)"),
                ui.download_button("download_areas_png", "Money per area (PNG)"),
            ]
            if _ran(risk_result) is not None and not isinstance(_ran(risk_result), str):
                items.append(ui.download_button("download_risk_png", "Risk histogram (PNG)"))
            return ui.div(*[ui.div(i, class_="mb-2") for i in items])

        def tables() -> dict[str, pd.DataFrame]:
            out = outcome()
            if out.comparison is None:
                raise SilentException()
            return out.comparison.complete().tables()

        @render.download_button(filename="instruments.csv", media_type="text/csv")
        def download_instruments():
            yield tables()["instruments"].to_csv()

        @render.download_button(filename="optalloc-tables.zip", media_type="application/zip")
        def download_tables():
            out = outcome()
            from ..outputs.export import write_solution

            import tempfile

            with tempfile.TemporaryDirectory(prefix="optalloc-csv-") as folder:
                written = write_solution(folder, out.optimal, out.official, out.comparison.complete())
                buffer = io.BytesIO()
                with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
                    for path in written:
                        z.write(path, Path(path).name)
            yield buffer.getvalue()

        if has_excel:
            @render.download_button(filename="optalloc-plan.xlsx",
                             media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            def download_xlsx():
                from ..outputs.excel import assumptions_table, workbook

                out = outcome()
                sheets = dict(tables())
                sheets["assumptions"] = assumptions_table(out.problem)
                yield workbook(sheets, title=out.problem.name)

        def _png(make) -> bytes:
            png = make()
            if png is None:
                raise SilentException()
            return png

        @render.download_button(filename="sweep.png", media_type="image/png")
        def download_sweep_png():
            yield _png(sweep_png)

        @render.download_button(filename="front.png", media_type="image/png")
        def download_front_png():
            yield _png(front_png)

        @render.download_button(filename="areas.png", media_type="image/png")
        def download_areas_png():
            yield _png(areas_png)

        @render.download_button(filename="risk.png", media_type="image/png")
        def download_risk_png():
            yield _png(risk_png)

    app = App(_page(library, default_model, has_alternatives), server)
    app.sanitize_errors = True
    return app


def _ran(calc):
    """A calc that waits for a button: its value, or None before the button was pressed."""
    try:
        return calc()
    except SilentException:
        return None


def _rate_step(figure) -> float:
    """A rate slider's step: a thousandth, or a ten-thousandth for a narrow range."""
    return 0.001 if figure.high - figure.low >= 0.01 else 0.0001


def _groups_and_priorities(spec) -> list[tuple[str, float]]:
    groups = spec.model.groups
    ids = list(groups) if isinstance(groups, dict) else [g.id for g in groups]
    return [(g, float(spec.model.priorities.get(g, 0.0))) for g in ids]


def _nothing(out: Outcome):
    if out.error:
        return ui.HTML(f'<div class="oa-error">{H.html.escape(out.error)}</div>')
    if out.diagnosis is not None:
        return ui.HTML('<p class="oa-status">No plan satisfies every requirement: the Plan tab shows why.</p>')
    return None


def _plans_by_area(areas: pd.DataFrame) -> bytes | None:
    from ..outputs.plotting import plans_by_area

    try:
        return H.png_of(plans_by_area(areas))
    except (KeyError, ValueError):
        return None


def _binding_in_words(constraints: pd.DataFrame) -> str:
    """Each binding rule with its shadow price, one sentence a line, the most valuable first."""
    rows = constraints[(constraints["status"] == "binding") & (constraints["kind"] != "split")]
    if "shadow_price" not in rows:
        return "No shadow prices for this plan."
    rows = rows[rows["shadow_price"].abs() > 1e-9].copy()
    if rows.empty:
        return "No rule binds with a value: every limit has room or is worth nothing at the margin."
    rows["worth"] = rows["shadow_price"].abs() * rows["unit"].map(lambda u: 1000.0 if u.startswith("€") else 1.0)
    lines = []
    for name, r in rows.sort_values("worth", ascending=False).iterrows():
        unit = "1,000 €" if r["unit"].startswith("€") else {"entries": "entry", "places": "place"}.get(r["unit"], r["unit"])
        price = r["shadow_price"] * (1000.0 if r["unit"].startswith("€") else 1.0)
        limit = money(r["rhs"]) + " €" if r["unit"].startswith("€") else count(r["rhs"], 1)
        direction = "more" if r["sense"] != ">=" else "more required"
        lines.append(f"{name} — {r['label']}: used up at {limit}; each {unit} {direction} would change the expected "
                     f"integrations by {price:+z.4f}")
    return "\n".join(lines)


class UploadLimit:
    """ASGI middleware: refuses an upload whose body is larger than ``limit`` bytes (413), before it is
    written anywhere, and stops reading one that grows past it."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "POST" or "/upload/" not in scope.get("path", ""):
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await _refuse(send, self.limit)
        seen = 0

        async def bounded():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    return {"type": "http.disconnect"}
            return message

        return await self.app(scope, bounded, send)


async def _refuse(send, limit: int) -> None:
    body = f"the file is larger than {limit // (1024 * 1024)} MiB, the most an upload may be".encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def asgi_app(library: ModelLibrary, default_model: str):
    """The page with the upload limit in front of it."""
    return UploadLimit(create_app(library, default_model), MAX_UPLOAD_BYTES + 64 * 1024)


__all__ = ["asgi_app", "create_app"]
