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


def _guarded(fn: Callable) -> Callable:
    """Turn optalloc's errors into a one-line message and an exit status, never a traceback."""

    @wraps(fn)
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except OptallocError as exc:
            diagnosis = getattr(exc, "diagnosis", None)
            if diagnosis is not None:  # an infeasible scenario is a result: say why, on stdout
                from optalloc.views import diagnosis_view

                click.echo(f"optalloc: {exc}")
                click.echo(diagnosis_view(diagnosis))
            else:
                click.echo(f"optalloc: {exc}", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:  # the output went to a pager or `head` that closed early
            sys.stderr.close()
            sys.exit(0)
        except Exception as exc:  # noqa: BLE001 - last resort: a bug, not bad input
            if os.environ.get("OPTALLOC_DEBUG"):
                traceback.print_exc()
            click.echo(f"optalloc: internal error: {type(exc).__name__}: {exc} "
                       "(set OPTALLOC_DEBUG=1 for the traceback, and please report it)", err=True)
            sys.exit(70)

    return run


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="optalloc")
def main() -> None:
    """Plan a jobcenter's integration budget (SGB II) as a linear program."""


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
    from optalloc.loading import load_model
    from optalloc.reconcile import reconcile
    from optalloc.views import checks_listing, validation_report

    spec = load_model(model, rates=rates)
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
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write the tables as CSV and JSON here.")
@click.option("--show", "show", default=",".join(SECTIONS), show_default=True,
              help=f"Sections to print, comma-separated, from: {', '.join(SECTIONS)} (or 'none').")
@_guarded
def solve(model: Path, scenarios: tuple[Path, ...], integer: bool, solver: str, basis: str | None,
          rates: Path | None, linear: bool, least_money: bool, out: Path | None, show: str) -> None:
    """Optimise MODEL and print the optimal plan beside the official plan."""
    from optalloc.export import write_solution
    from optalloc.reports import compare
    from optalloc.solve import official, optimise
    from optalloc.views import solve_report

    sections = _sections(show)
    _writable(out)
    problem = _problem(model, rates, scenarios, basis, linear)
    off = official(problem, solver=solver)
    opt = optimise(problem, solver=solver, integer=integer, least_money=least_money)
    tables = compare(opt, off)
    click.echo(solve_report(tables, opt, off, sections))
    if out is not None:
        files = write_solution(out, opt, off, tables)
        click.echo(f"wrote {len(files)} files to {out}: {', '.join(f.name for f in files)}")


@main.command()
@model_argument
@click.option("-s", "--scenario", "scenarios", multiple=True, type=click.Path(path_type=Path),
              help="Scenario overlay (YAML); repeat to apply several, in order.")
@click.option("--budget", "budget_range", default="min:110%", show_default=True,
              help="Range of the new-business budget: percent of the model's (70%:110%), euros (15e6:30e6), or "
                   "from the least money a feasible plan needs (min:110%).")
@click.option("--steps", default=101, show_default=True, type=click.IntRange(2, 1_000_000), help="Number of levels.")
@click.option("--basis", type=click.Choice(["gross", "net"]), default=None,
              help="Count gross integration rates or net effects (default: the rates file's).")
@rates_option
@linear_option
@click.option("--method", type=click.Choice(["fast", "rebuild"]), default="fast", show_default=True,
              help="fast: build once and re-solve warm; rebuild: a fresh PuLP model per level (slow, for checking).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Write curve.csv, entries.csv, cut_order.csv and sweep.png here.")
@_guarded
def sweep(model: Path, scenarios: tuple[Path, ...], budget_range: str, steps: int, basis: str | None,
          rates: Path | None, linear: bool, method: str, out: Path | None) -> None:
    """Optimise MODEL at many levels of the new-business budget: the integrations curve, the marginal value
    of money and the order in which instruments are cut."""
    import time

    from optalloc.solve import official
    from optalloc.sweeps import cut_order, levels_of, sweep_budget
    from optalloc.views import sweep_report

    _writable(out)
    problem = _problem(model, rates, scenarios, basis, linear)
    levels = levels_of(problem, budget_range, steps)
    start = time.perf_counter()
    result = sweep_budget(problem, levels, method=method)
    seconds = time.perf_counter() - start
    off = official(problem)
    click.echo(sweep_report(result, off.integrations, seconds))
    if out is not None:
        from optalloc.plotting import sweep_curve

        out.mkdir(parents=True, exist_ok=True)
        result.curve.to_csv(out / "curve.csv")
        result.entries.to_csv(out / "entries.csv")
        cut_order(result).to_csv(out / "cut_order.csv")
        spent = float(off.spent()[problem.new_business_pool])
        sweep_curve(result, (spent, off.integrations)).savefig(out / "sweep.png", dpi=120)
        click.echo(f"wrote curve.csv, entries.csv, cut_order.csv and sweep.png to {out}")
    infeasible = result.curve.index[result.curve["status"] != "optimal"]
    if len(infeasible):
        from optalloc.diagnosis import diagnose
        from optalloc.sweeps import with_budget
        from optalloc.views import diagnosis_view

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
@_guarded
def explain(model: Path, scenarios: tuple[Path, ...], basis: str | None, rates: Path | None, linear: bool) -> None:
    """Why the optimal plan of MODEL is what it is: binding constraints with their shadow prices, every
    instrument's reduced cost and the range of its rate over which the mix stays optimal, in words.
    An infeasible scenario gets a diagnosis: what collides and the smallest changes that fix it."""
    from optalloc.explanation import explain as explain_plan
    from optalloc.views import explanation_view

    problem = _problem(model, rates, scenarios, basis, linear)
    click.echo(explanation_view(explain_plan(problem)))


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
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Write every table as CSV, risk.json and three plots (PNG) here.")
@_guarded
def risk(model: Path, scenarios: tuple[Path, ...], draws: int, seed: int, distribution: str, correlation: float,
         tail: float, floor: str, no_reoptimise: bool, basis: str | None, rates: Path | None, linear: bool,
         out: Path | None) -> None:
    """How sure the gain is: the official, optimal and a robust plan over random draws of the rates within
    their ranges, the regret against the best plan per draw, which rate is worth an evaluation (value of
    information), and each row's corridor."""
    from optalloc.risk import assess
    from optalloc.views import risk_report

    _writable(out)
    problem = _problem(model, rates, scenarios, basis, linear)
    result = assess(problem, draws=draws, seed=seed, distribution=distribution, correlation=correlation, tail=tail,
                    floor=floor, reoptimise=not no_reoptimise, progress=_progress_bar())
    click.echo(risk_report(result))
    if out is not None:
        names = _write_risk(out, result)
        click.echo(f"wrote {', '.join(names)} to {out}")


def _write_risk(out: Path, result) -> list[str]:
    import json

    from optalloc import plotting

    names = []
    for name, table in result.tables().items():
        table.to_csv(out / f"{name}.csv")
        names.append(f"{name}.csv")
    settings = {"model": str(result.problem.spec.path), "scenarios": list(result.problem.spec.scenarios),
                "basis": result.problem.basis, "response": result.problem.response_shape,
                "draws": len(result.draws), "seed": result.draws.seed, "distribution": result.draws.distribution,
                "correlation": result.draws.correlation, "robust": {k: v for k, v in result.robust.items()}}
    doc = {"settings": settings,
           **{name: json.loads(t.to_json(orient="index")) for name, t in result.tables().items()
              if name not in ("risk_values", "rate_draws")}}
    (out / "risk.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    names.append("risk.json")
    figures = {"risk_histogram.png": plotting.risk_histogram(result)}
    if result.value_of_information is not None:
        figures["value_of_information.png"] = plotting.value_of_information_bars(result)
        figures["corridors.png"] = plotting.corridors_chart(result)
    for name, fig in figures.items():
        fig.savefig(out / name, dpi=120)
        names.append(name)
    return names


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


def _writable(out: Path | None) -> None:
    """Make the output folder now, so that a folder that cannot be written fails before any work."""
    if out is None:
        return
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".optalloc-write-test"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        raise click.BadParameter(f"cannot write to {out}: {exc.strerror or exc}", param_hint="--out") from None


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
