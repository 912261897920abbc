"""optalloc command line: a thin layer over the library that prints what it returns.

Exit status: 0 success · 1 invalid input or a model that does not reconcile · 2 wrong usage ·
3 infeasible scenario (the diagnosis is printed) · 4 solver failure · 70 internal error.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path

import click

from optalloc.errors import OptallocError

SECTIONS = ("levels", "instruments", "areas", "kennzahlen", "budget", "constraints", "bounds")


class _TerminalSafe:
    """Standard output that escapes what a terminal would act on (control characters, bidirectional
    overrides: optalloc.outputs.text.terminal_safe) in everything a command prints: names come from model files."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        from optalloc.outputs.text import terminal_safe

        return self._stream.write(terminal_safe(text) if isinstance(text, str) else text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _guarded(fn: Callable) -> Callable:
    """Turn optalloc's errors into a one-line message and an exit status, never a traceback; what the
    command prints reaches the terminal escaped (:class:`_TerminalSafe`)."""

    @wraps(fn)
    def run(*args, **kwargs):
        from optalloc.outputs.text import terminal_safe

        stdout = sys.stdout
        sys.stdout = _TerminalSafe(stdout)
        try:
            return fn(*args, **kwargs)
        except OptallocError as exc:
            diagnosis = getattr(exc, "diagnosis", None)
            if diagnosis is not None:  # an infeasible scenario is a result: say why, on stdout
                from optalloc.outputs.views import diagnosis_view

                click.echo(f"optalloc: {exc}")
                click.echo(diagnosis_view(diagnosis))
            else:
                click.echo(terminal_safe(f"optalloc: {exc}"), err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:  # the output went to a pager or `head` that closed early
            sys.stderr.close()
            sys.exit(0)
        except Exception as exc:  # noqa: BLE001 - last resort: a bug, not bad input
            if os.environ.get("OPTALLOC_DEBUG"):
                traceback.print_exc()
            click.echo(terminal_safe(f"optalloc: internal error: {type(exc).__name__}: {exc} "
                                     "(set OPTALLOC_DEBUG=1 for the traceback, and please report it)"), err=True)
            sys.exit(70)
        finally:
            sys.stdout = stdout

    return run


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="optalloc")
def main() -> None:
    """Plan a jobcenter's integration budget (SGB II) as a linear program."""


class _OutFolder(click.Path):
    """An output folder (``--out``): a path, never an empty one (which would mean the current folder)."""

    def __init__(self) -> None:
        super().__init__(path_type=Path)

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if isinstance(value, str) and not value.strip():
            self.fail("an empty path: give the folder to write to (. for the current folder)", param, ctx)
        return super().convert(value, param, ctx)


model_argument = click.argument("model", type=click.Path(path_type=Path))
rates_option = click.option("--rates", type=click.Path(path_type=Path), default=None,
                            help="Rates file to use instead of the one the model names.")
linear_option = click.option("--linear", is_flag=True,
                             help="Constant rates per entry instead of the model's diminishing returns (for comparison).")


@main.command()
@model_argument
@rates_option
@click.option("--checks", is_flag=True, help="List every check with its id instead of the report.")
@_guarded
def validate(model: Path, rates: Path | None, checks: bool) -> None:
    """Check MODEL and show that it reproduces its programme document, to the cent.

    Prints the budget derivation, the pools, each priority area's printed sums beside what the rows add up
    to, the Kennzahlen table I–VII, the VBL parts, and every disagreement inside the document with its
    explanation. Exits 1 if the model is invalid or does not reconcile.
    """
    from optalloc.model.loading import check_plannable, load_model
    from optalloc.model.reconcile import reconcile
    from optalloc.outputs.views import checks_listing, validation_report

    spec = load_model(model, rates=rates)
    check_plannable(spec)  # the same rule on the budget as every other command
    rec = reconcile(spec)
    click.echo(checks_listing(rec) if checks else validation_report(spec, rec))
    if not rec.ok:
        sys.exit(1)


@main.command()
@model_argument
@click.option("-s", "--scenario", "scenarios", multiple=True, type=click.Path(path_type=Path),
              help="Scenario overlay (YAML); repeat to apply several, in order.")
@click.option("--integer", is_flag=True, help="Whole entries, bought in lots where the model gives lot sizes.")
@click.option("--solver", type=click.Choice(["highs", "cbc"]), default="highs", show_default=True)
@click.option("--basis", type=click.Choice(["gross", "net"]), default=None,
              help="Count gross integration rates or net effects (default: the rates file's).")
@rates_option
@linear_option
@click.option("--least-money", is_flag=True, help="Second pass: the least money for the optimal integrations.")
@click.option("--out", type=_OutFolder(), default=None,
              help="Write the tables as CSV and JSON into this folder, or as one workbook to a path ending in .xlsx.")
@click.option("--show", "show", default=",".join(SECTIONS), show_default=True,
              help=f"Sections to print, comma-separated, from: {', '.join(SECTIONS)} (or 'none').")
@click.option("--plan", "plan_file", type=click.Path(path_type=Path), default=None,
              help="Check and value this plan (CSV with columns id and level, or plan.json of --out) instead of "
                   "optimising: every rule it breaks, and by how much.")
@_guarded
def solve(model: Path, scenarios: tuple[Path, ...], integer: bool, solver: str, basis: str | None,
          rates: Path | None, linear: bool, least_money: bool, out: Path | None, show: str,
          plan_file: Path | None) -> None:
    """Optimise MODEL and print the optimal plan beside the official plan (with --plan FILE: that plan,
    checked against every rule and valued like the official plan)."""
    from optalloc.outputs.export import write_solution
    from optalloc.outputs.reports import compare
    from optalloc.solving.solve import official, optimise
    from optalloc.outputs.views import solve_report

    sections = _sections(show)
    _writable(out)
    problem = _problem(model, rates, scenarios, basis, linear)
    if plan_file is not None:
        return _check_plan_file(problem, plan_file, integer, least_money, out)
    off = official(problem, solver=solver)
    opt = optimise(problem, solver=solver, integer=integer, least_money=least_money)
    tables = compare(opt, off)
    if opt.duals is not None and ("constraints" in sections or out is not None):
        tables = _with_one_sided(problem, opt, tables)
    click.echo(solve_report(tables, opt, off, sections))
    if out is not None and _is_workbook(out):
        _write_workbook(out, problem, tables.tables())
    elif out is not None:
        files = write_solution(out, opt, off, tables)
        click.echo(f"wrote {len(files)} files to {out}: {', '.join(f.name for f in files)}")


@main.command()
@model_argument
@click.option("-s", "--scenario", "scenarios", multiple=True, type=click.Path(path_type=Path),
              help="Scenario overlay (YAML); repeat to apply several, in order.")
@click.option("--budget", "budget_range", default="min:110%", show_default=True,
              help="Range of the new-business budget: percent of the model's (70%:110%), euros (15e6:30e6), or "
                   "from the least money a feasible plan needs (min:110%).")
@click.option("--steps", default=101, show_default=True, type=click.IntRange(min=2),
              help="Number of levels (at most 10,000; more with --many-steps).")
@click.option("--many-steps", is_flag=True, help="Allow up to 100,000 levels (progress on stderr).")
@click.option("--basis", type=click.Choice(["gross", "net"]), default=None,
              help="Count gross integration rates or net effects (default: the rates file's).")
@rates_option
@linear_option
@click.option("--method", type=click.Choice(["fast", "rebuild"]), default="fast", show_default=True,
              help="fast: build once and re-solve warm; rebuild: a fresh PuLP model per level (slow, for checking).")
@click.option("--out", type=_OutFolder(), default=None,
              help="Write curve.csv, entries.csv, cut_order.csv and sweep.png here (or one workbook: a path ending "
                   "in .xlsx).")
@_guarded
def sweep(model: Path, scenarios: tuple[Path, ...], budget_range: str, steps: int, many_steps: bool,
          basis: str | None, rates: Path | None, linear: bool, method: str, out: Path | None) -> None:
    """Optimise MODEL at many levels of the new-business budget: the integrations curve, the marginal value
    of money and the order in which instruments are cut."""
    import time

    from optalloc.solving.solve import official
    from optalloc.analyses.sweeps import check_steps, cut_order, levels_of, sweep_budget
    from optalloc.outputs.views import sweep_report

    _writable(out)
    problem = _problem(model, rates, scenarios, basis, linear)
    check_steps(problem, steps, many=many_steps)
    levels = levels_of(problem, budget_range, steps)
    bar = _progress_bar()
    start = time.perf_counter()
    result = sweep_budget(problem, levels, method=method, progress=lambda done, total: bar("sweep", done, total))
    seconds = time.perf_counter() - start
    off = official(problem)
    click.echo(sweep_report(result, off.integrations, seconds))
    if out is not None and _is_workbook(out):
        _write_workbook(out, problem, {"curve": result.curve, "entries": result.entries,
                                       "cut_order": cut_order(result)})
    elif out is not None:
        import io

        from optalloc.outputs.export import write_files
        from optalloc.outputs.plotting import sweep_curve

        png = io.BytesIO()
        spent = float(off.spent()[problem.new_business_pool])
        at_budget = None if not (result.curve["status"] == "optimal").any() else _optimum_or_none(problem)
        sweep_curve(result, (spent, off.integrations), at_budget=at_budget).savefig(png, format="png", dpi=120)
        write_files(out, {"curve.csv": result.curve.to_csv(), "entries.csv": result.entries.to_csv(),
                          "cut_order.csv": cut_order(result).to_csv(), "sweep.png": png.getvalue()})
        click.echo(f"wrote curve.csv, entries.csv, cut_order.csv and sweep.png to {out}")
    infeasible = result.curve.index[result.curve["status"] != "optimal"]
    if len(infeasible):
        from optalloc.solving.diagnosis import diagnose
        from optalloc.analyses.sweeps import with_budget
        from optalloc.outputs.views import diagnosis_view

        level = float(infeasible.max())
        click.echo(f"\n{len(infeasible)} of {len(result.curve)} budget levels are infeasible, up to {level:,.2f} €. "
                   f"At that level:")
        click.echo(diagnosis_view(diagnose(with_budget(problem, level))))
        sys.exit(3)


@main.command()
@model_argument
@click.option("-s", "--scenario", "scenarios", multiple=True, type=click.Path(path_type=Path),
              help="Scenario overlay (YAML); repeat to apply several, in order.")
@click.option("--basis", type=click.Choice(["gross", "net"]), default=None,
              help="Count gross integration rates or net effects (default: the rates file's).")
@rates_option
@linear_option
@click.option("--year", "with_year", is_flag=True,
              help="Also price the commitment limits and the reserve, with the year planned by quarter (the "
                   "model's timing file, as optalloc year reads it).")
@click.option("--timing", type=click.Path(path_type=Path), default=None,
              help="With --year: the timing file (default: <model>-timing.yaml beside the model).")
@click.option("--out", type=_OutFolder(), default=None,
              help="Write the tables as CSV into this folder, or as one workbook to a path ending in .xlsx.")
@_guarded
def explain(model: Path, scenarios: tuple[Path, ...], basis: str | None, rates: Path | None, linear: bool,
            with_year: bool, timing: Path | None, out: Path | None) -> None:
    """Why the optimal plan of MODEL is what it is: binding constraints with their shadow prices, every
    instrument's reduced cost and the range of its rate over which the mix stays optimal, in words.
    An infeasible scenario gets a diagnosis: what collides and the smallest changes that fix it."""
    from optalloc.analyses.explanation import explain as explain_plan
    from optalloc.errors import UsageError
    from optalloc.outputs.views import explanation_view

    if timing is not None and not with_year:
        raise UsageError("--timing", str(timing), "only with --year (the timing file prices the year's limits)")
    _writable(out)
    problem = _problem(model, rates, scenarios, basis, linear)
    if with_year:  # the timing file read first: a bad one is refused before anything is printed
        from optalloc.analyses.timing import default_timing_path, load_timing

        year_timing = load_timing(timing or default_timing_path(model), problem)
    why = explain_plan(problem)
    click.echo(explanation_view(why))
    tables = {"constraints": why.constraints, "instruments": why.instruments, "levels": why.levels}
    if with_year:
        from optalloc.analyses.stages import plan_year
        from optalloc.outputs.views import year_prices_view

        the_year = plan_year(problem, year_timing, staged=False)
        click.echo("")
        click.echo(year_prices_view(the_year))
        tables["year_commitments"] = the_year.commitments
    if out is not None:
        if _is_workbook(out):
            _write_workbook(out, problem, tables)
        else:
            from optalloc.outputs.export import write_files

            files = write_files(out, {f"{name}.csv": t.to_csv() for name, t in tables.items()})
            click.echo(f"wrote {len(files)} files to {out}: {', '.join(f.name for f in files)}")


@main.command()
@model_argument
@click.option("-s", "--scenario", "scenarios", multiple=True, type=click.Path(path_type=Path),
              help="A scenario overlay (repeatable, applied in order).")
@click.option("--draws", default=1000, show_default=True, type=click.IntRange(1, 1_000_000),
              help="Number of draws of the rates.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the draws (the same seed, the same numbers).")
@click.option("--distribution", type=click.Choice(["pert", "triangular"]), default="pert", show_default=True,
              help="Each rate class over its range [low, high], with its value as the mode.")
@click.option("--correlation", default=0.0, show_default=True, type=click.FloatRange(0.0, 1.0, max_open=True),
              help="Correlation of the classes' errors through one shared factor (0: independent).")
@click.option("--tail", default=0.05, show_default=True, type=click.FloatRange(0.0, 0.5, min_open=True, max_open=True),
              help="The share of worst draws the robust plan protects.")
@click.option("--floor", default="max", show_default=True,
              help="What the robust plan's worst draws must average: max (the most any plan can), optimal or "
                   "official (that plan's), or a number of integrations.")
@click.option("--no-reoptimise", "no_reoptimise", is_flag=True,
              help="Skip the best plan per draw (no regret, value of information or corridors).")
@click.option("--basis", type=click.Choice(["gross", "net"]), default=None,
              help="Integration rates (gross) or net effects (net); default: the rates file's.")
@rates_option
@linear_option
@click.option("--out", type=_OutFolder(), default=None,
              help="Write every table as CSV, risk.json and three plots (PNG) here (or one workbook: a path ending in "
                   ".xlsx).")
@_guarded
def risk(model: Path, scenarios: tuple[Path, ...], draws: int, seed: int, distribution: str, correlation: float,
         tail: float, floor: str, no_reoptimise: bool, basis: str | None, rates: Path | None, linear: bool,
         out: Path | None) -> None:
    """How sure the gain is: the official, optimal and a robust plan over random draws of the rates within
    their ranges, the regret against the best plan per draw, which rate is worth an evaluation (value of
    information), and each row's corridor."""
    from optalloc.analyses.risk import assess
    from optalloc.outputs.views import risk_report

    _writable(out)
    problem = _problem(model, rates, scenarios, basis, linear)
    result = assess(problem, draws=draws, seed=seed, distribution=distribution, correlation=correlation, tail=tail,
                    floor=floor, reoptimise=not no_reoptimise, progress=_progress_bar())
    click.echo(risk_report(result))
    if out is not None and _is_workbook(out):
        _write_workbook(out, problem, result.tables())
    elif out is not None:
        names = _write_risk(out, result)
        click.echo(f"wrote {', '.join(names)} to {out}")


@main.command()
@model_argument
@click.option("-s", "--scenario", "scenarios", multiple=True, type=click.Path(path_type=Path),
              help="A scenario overlay (repeatable, applied in order).")
@click.option("--timing", type=click.Path(path_type=Path), default=None,
              help="The timing file (durations, cash profiles, commitments, events); default: MODEL-timing.yaml.")
@click.option("--no-stages", "no_stages", is_flag=True, help="Skip the decisions in stages.")
@click.option("--basis", type=click.Choice(["gross", "net"]), default=None,
              help="Integration rates (gross) or net effects (net); default: the rates file's.")
@rates_option
@linear_option
@click.option("--out", type=_OutFolder(), default=None,
              help="Write every table as CSV and the cash profile as year.png here.")
@_guarded
def year(model: Path, scenarios: tuple[Path, ...], timing: Path | None, no_stages: bool, basis: str | None,
         rates: Path | None, linear: bool, out: Path | None) -> None:
    """The year and the years after: cash per month, commitments into the next two years, entries by quarter,
    and decisions in stages over the events the year waits for."""
    from optalloc.analyses.stages import plan_year
    from optalloc.analyses.timing import default_timing_path, load_timing
    from optalloc.outputs.views import year_report

    _writable(out)
    problem = _problem(model, rates, scenarios, basis, linear)
    result = plan_year(problem, load_timing(timing or default_timing_path(model), problem), staged=not no_stages)
    click.echo(year_report(result))
    if out is not None and _is_workbook(out):
        _write_workbook(out, problem, result.tables())
    elif out is not None:
        from optalloc.outputs import plotting

        names = _write_outputs(out, result.tables(), {"year.png": plotting.cash_profile(result)})
        click.echo(f"wrote {', '.join(names)} to {out}")


def _write_risk(out: Path, result) -> list[str]:
    import json

    from optalloc.outputs import plotting

    settings = {"model": str(result.problem.spec.path), "scenarios": list(result.problem.spec.scenarios),
                "basis": result.problem.basis, "response": result.problem.response_shape,
                "draws": len(result.draws), "seed": result.draws.seed, "distribution": result.draws.distribution,
                "correlation": result.draws.correlation, "robust": {k: v for k, v in result.robust.items()}}
    doc = {"settings": settings,
           **{name: json.loads(t.to_json(orient="index")) for name, t in result.tables().items()
              if name not in ("risk_values", "rate_draws")}}
    figures = {"risk_histogram.png": plotting.risk_histogram(result)}
    if result.value_of_information is not None:
        figures["value_of_information.png"] = plotting.value_of_information_bars(result)
        figures["corridors.png"] = plotting.corridors_chart(result)
    return _write_outputs(out, result.tables(), figures, {"risk.json": json.dumps(doc, indent=2, ensure_ascii=False)})


def _write_outputs(out: Path, tables: dict, figures: dict, texts: dict | None = None) -> list[str]:
    """Write tables as CSV, figures as PNG and texts into ``out``, all or none (optalloc.outputs.export.write_files)."""
    import io

    from optalloc.outputs.export import write_files

    files: dict[str, str | bytes] = {f"{name}.csv": table.to_csv() for name, table in tables.items()}
    files.update(texts or {})
    for name, fig in figures.items():
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=120)
        files[name] = buffer.getvalue()
    write_files(out, files)
    return list(files)


def _progress_bar(after_seconds: float = 1.0):
    """A progress callback that draws a bar on stderr once the work has run longer than ``after_seconds``."""
    import time

    start = time.perf_counter()
    shown = {"stage": None, "at": 0.0}

    def report(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - start < after_seconds or (done < total and now - shown["at"] < 0.1 and stage == shown["stage"]):
            return
        shown.update(stage=stage, at=now)
        filled = int(30 * done / max(total, 1))
        click.echo(f"\r{stage}: [{'#' * filled}{'.' * (30 - filled)}] {done:,}/{total:,}", nl=done >= total, err=True)

    return report


OPTION_SECTIONS = ("frontier", "changes", "corridors", "alternatives")


@main.command()
@model_argument
@click.option("-s", "--scenario", "scenarios", multiple=True, type=click.Path(path_type=Path),
              help="Scenario overlay (YAML); repeat to apply several, in order.")
@click.option("--epsilon", default="2%", show_default=True,
              help="How far below the optimum a near-optimal plan may be: a percent (2%) or a share (0.02).")
@click.option("--count", default=3, show_default=True, type=click.IntRange(1, 20), help="Number of alternatives.")
@click.option("--steps", default=10, show_default=True, type=click.IntRange(1, 100),
              help="Points of the frontier: 0, 1/STEPS, ..., 100 % of the attainable gain.")
@click.option("--basis", type=click.Choice(["gross", "net"]), default=None,
              help="Count gross integration rates or net effects (default: the rates file's).")
@rates_option
@linear_option
@click.option("--out", type=_OutFolder(), default=None,
              help="Write every table as CSV and alternatives.json, each alternative as a plan file (plan-*.csv, "
                   "for solve --plan) and frontier.png here.")
@click.option("--show", "show", default=",".join(OPTION_SECTIONS), show_default=True,
              help=f"Sections to print (and compute), comma-separated, from: {', '.join(OPTION_SECTIONS)}.")
@_guarded
def alternatives(model: Path, scenarios: tuple[Path, ...], epsilon: str, count: int, steps: int, basis: str | None,
                 rates: Path | None, linear: bool, out: Path | None, show: str) -> None:
    """Options instead of one answer: the smallest change from the official plan for each share of the
    gain (in euros moved and in rows touched), each instrument's corridor within EPSILON of the optimum,
    and COUNT plans within EPSILON that differ as much as possible, side by side in the official shape."""
    from optalloc.analyses.alternatives import alternatives as find_alternatives
    from optalloc.analyses.alternatives import corridors as find_corridors
    from optalloc.analyses.alternatives import parse_epsilon
    from optalloc.analyses.frontier import frontier as find_frontier
    from optalloc.outputs.option_views import alternatives_view, corridors_view, frontier_view, header
    from optalloc.solving.solve import official, optimise

    share = parse_epsilon(epsilon)
    wanted = tuple(s.strip() for s in show.split(",") if s.strip())
    unknown = [s for s in wanted if s not in OPTION_SECTIONS]
    if unknown or not wanted:
        raise click.BadParameter(f"unknown section(s) {', '.join(unknown) or '(none)'}; choose from "
                                 f"{', '.join(OPTION_SECTIONS)}", param_hint="--show")
    _writable(out)
    problem = _problem(model, rates, scenarios, basis, linear)
    opt, off = optimise(problem), official(problem)
    click.echo(header(problem))
    found = {}
    if "frontier" in wanted or "changes" in wanted:
        found["frontier"] = find_frontier(problem, tuple(k / steps for k in range(steps + 1)), optimal=opt, official=off)
        click.echo("\n" + frontier_view(found["frontier"], table="frontier" in wanted, changes="changes" in wanted))
    if "corridors" in wanted:
        found["corridors"] = find_corridors(problem, share, optimal=opt, official=off)
        click.echo("\n" + corridors_view(found["corridors"]))
    if "alternatives" in wanted:
        found["alternatives"] = find_alternatives(problem, share, count, optimal=opt, official=off)
        click.echo("\n" + alternatives_view(found["alternatives"]))
    if out is not None:
        from optalloc.outputs.option_views import write_options

        names = write_options(out, problem, share, found)
        click.echo(f"\nwrote {len(names)} files to {out}: {', '.join(names)}")


DEFAULT_MODEL = Path("models") / "duisburg-2016.yaml"


@main.command()
@click.argument("model", required=False, type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but 127.0.0.1/localhost lets other computers reach the page.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--scenarios", "scenarios_dir", type=click.Path(path_type=Path), default=None,
              help="Folder of scenario files the page offers (default: scenarios/ beside MODEL's folder).")
@_guarded
def serve(model: Path | None, host: str, port: int, scenarios_dir: Path | None) -> None:
    """A local web page over MODEL (default: the bundled Duisburg 2016 model): choose models in its folder
    and scenarios, move budget, reserve, rates, basis, priorities and policy rules, and see the plan beside
    the official one, why, sweeps, risk and alternatives; download tables (CSV) and plots (PNG)."""
    from optalloc.web import serve as serve_page

    if model is None:
        model = DEFAULT_MODEL if DEFAULT_MODEL.is_file() else Path(__file__).resolve().parent / DEFAULT_MODEL
    serve_page(model, host=host, port=port, scenarios_dir=scenarios_dir, echo=click.echo)


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--jobcenter", default="Musterstadt", show_default=True, help="The jobcenter's name.")
@click.option("--year", default=2026, show_default=True, type=int, help="The plan year.")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@_guarded
def new(file: Path, jobcenter: str, year: int, force: bool) -> None:
    """Write a commented template model to FILE (.yaml), or the same as a planning workbook (.xlsx): budget,
    pools, target groups and a few rows of each kind, with invented figures to replace. It validates and
    solves as it stands; docs/model-format.md lists every field."""
    from optalloc.model.template import write_template

    path = write_template(file, jobcenter=jobcenter, year=year, force=force)
    what = "planning workbook" if path.suffix.lower() == ".xlsx" else "template model"
    then = (f"optalloc import {path}" if path.suffix.lower() == ".xlsx"
            else f"optalloc validate {path}, then optalloc solve {path}")
    click.echo(f"wrote the {what} {path}: replace its invented figures with your programme's, then {then}")


@main.command("import")
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="The model file to write (default: the workbook's name with .yaml).")
@click.option("--force", is_flag=True, help="Overwrite the model file if it exists.")
@_guarded
def import_(workbook: Path, output: Path | None, force: bool) -> None:
    """Read a planning workbook (.xlsx: sheets budget and instruments, optionally areas, groups, pools) and
    write the model file it describes; the model is validated first. A wrong cell gets one line naming the
    sheet, the row and the column."""
    from optalloc.model.importer import import_to_file

    path = import_to_file(workbook, output, force=force)
    click.echo(f"wrote {path}: optalloc validate {path}, then optalloc solve {path}")


@main.command()
@model_argument
@click.option("-s", "--scenario", "scenarios", multiple=True, type=click.Path(path_type=Path),
              help="Scenario overlay (YAML); repeat to apply several, in order.")
@click.option("--lp", "lp_file", type=click.Path(path_type=Path), default=None, help="Write the LP (CPLEX LP format).")
@click.option("--mps", "mps_file", type=click.Path(path_type=Path), default=None,
              help="Write the LP in MPS format (with OBJSENSE MAX).")
@click.option("--integer", is_flag=True, help="Whole entries, bought in lots where the model gives lot sizes.")
@click.option("--basis", type=click.Choice(["gross", "net"]), default=None,
              help="Count gross integration rates or net effects (default: the rates file's).")
@rates_option
@linear_option
@_guarded
def export(model: Path, scenarios: tuple[Path, ...], lp_file: Path | None, mps_file: Path | None, integer: bool,
           basis: str | None, rates: Path | None, linear: bool) -> None:
    """Write the planning LP of MODEL for other solvers: --lp FILE and/or --mps FILE. The objective is the
    expected integrations (maximised; the sense is kept in both files), so another solver's optimum is the
    optimum optalloc solve prints."""
    from optalloc.solving.lp_export import export_lp

    if lp_file is None and mps_file is None:
        raise click.UsageError("give --lp FILE, --mps FILE or both")
    for path in (lp_file, mps_file):
        if path is not None:
            _writable(path.parent if str(path.parent) else Path("."))
    problem = _problem(model, rates, scenarios, basis, linear)
    written = export_lp(problem, lp_file, mps_file, integer=integer)
    click.echo(f"wrote {', '.join(str(p) for p in written)}: maximise expected integrations "
               f"({len(problem.instruments)} instruments)")


def _check_plan_file(problem, plan_file: Path, integer: bool, least_money: bool, out: Path | None) -> None:
    """``solve --plan``: value a plan file like the official plan and name every rule it breaks (exit 0)."""
    from optalloc.errors import UsageError
    from optalloc.outputs.option_views import plan_check_view, write_plan_check
    from optalloc.analyses.planfile import evaluate_plan

    if least_money:
        raise UsageError("--least-money", "with --plan", "leave it out: --plan values the plan given, it does not optimise")
    checked = evaluate_plan(problem, plan_file, integer=integer)
    click.echo(plan_check_view(checked))
    if out is not None:
        names = write_plan_check(out, checked)
        click.echo(f"wrote {len(names)} files to {out}: {', '.join(names)}")


def _writable(out: Path | None) -> None:
    """Check the output folder now, so that one that cannot be written fails before any work; nothing is
    made until the results exist (optalloc.outputs.export.write_files writes them all or none)."""
    if out is None:
        return
    from optalloc.errors import OutputError
    from optalloc.outputs.export import check_output_folder

    if _is_workbook(out):
        if out.is_dir():
            raise click.BadParameter(f"cannot write there: {out} is a folder; give a file path ending in .xlsx",
                                     param_hint="--out")
        out = out.parent
    try:
        check_output_folder(out)
    except OutputError as exc:
        raise click.BadParameter(f"cannot write there: {exc}", param_hint="--out") from None



def _is_workbook(out: Path) -> bool:
    """Does ``--out`` name an Excel workbook (a path ending in .xlsx) rather than a folder?"""
    return out.suffix.lower() == ".xlsx"


def _write_workbook(out: Path, problem, tables) -> None:
    """Write ``tables`` and the assumptions they rest on as one formatted workbook at ``out``."""
    from optalloc.outputs.excel import assumptions_table, write_workbook

    sheets = {name: t for name, t in {**tables, "assumptions": assumptions_table(problem)}.items()
              if t is not None and not (t.empty and len(t.columns) == 0)}  # a section the model lacks: no sheet
    write_workbook(out, sheets, title=problem.name)
    click.echo(f"wrote {out} ({len(sheets)} sheets: {', '.join(sheets)})")


def _with_one_sided(problem, opt, tables):
    """The comparison with each binding row's one-sided worth (``up``, ``down``, ``one_sided``) added to its
    constraints, so that solve says what explain says where another limit binds at the same point."""
    import dataclasses

    from optalloc.analyses.explanation import one_sided_prices

    return dataclasses.replace(tables, constraints=tables.constraints.join(one_sided_prices(problem, opt)))


def _optimum_or_none(problem):
    """The expected integrations of the optimal plan at the model's own budget (None if it has none)."""
    from optalloc.errors import InfeasibleError
    from optalloc.solving.solve import optimise

    try:
        return optimise(problem).integrations
    except InfeasibleError:
        return None


def _sections(show: str) -> tuple[str, ...]:
    if show.strip() == "none":
        return ()
    names = tuple(s.strip() for s in show.split(",") if s.strip())
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        raise click.BadParameter(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}",
                                 param_hint="--show")
    return names


def _problem(model: Path, rates: Path | None, scenarios: tuple[Path, ...], basis: str | None, linear: bool = False):
    from optalloc.api import load

    return load(model, scenarios, rates=rates, basis=basis, response="linear" if linear else None)


if __name__ == "__main__":
    main()
