"""The ``ormgc`` command: ``run`` measures (ormgc.cli_run), ``advise`` recommends a setting
(ormgc.cli_advise), ``shapes`` lists workloads, ``pythons`` finds them, ``pyperf`` times them
with pyperf, ``compare`` puts the Python versions side by side, ``report`` draws the charts,
``site`` builds the folder to publish, ``pins`` refreshes the pins (ormgc.cli_publish)."""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

import orm_fixtures
from orm_fixtures import FixtureError
from orm_fixtures.served_app import SERVED_ORMS
from ormgc.cli_advise import add_advise, run_advise
from ormgc.cli_publish import add_publish, run_pins, run_site
from ormgc.cli_run import add_run, run
from ormgc.console import INTERRUPTED
from ormgc.errors import OneLineParser, OrmGcError, UsageError, interrupt
from ormgc.results import DEFAULT_RESULTS, check_writable, copy_merged, plan_merge, write_atomic
from ormgc.runs.debian_python import INSTALLABLE
from ormgc.runs.debian_python import install as install_debian_python
from ormgc.runs.envs import interpreter
from ormgc.runs.pythons import SUPPORTED, available, distribution_of, link_pythons
from ormgc.views.compare.asv_compare import format_comparison, load_comparison, parse_filters
from ormgc.views.terminal import is_terminal, terminal_width, use_colour
from ormgc.worker.prefork import PREFORK_DOC

SERVED_DOC = "a real gunicorn (sync workers, preload) under fixed-rate load from wrk (alone)"


def _shapes(args: argparse.Namespace) -> int:
    for orm in orm_fixtures.ORMS:
        registry = dict(orm_fixtures.shapes(orm), **orm_fixtures.request_shapes(orm))
        for name in orm_fixtures.SHAPE_NAMES[orm] + orm_fixtures.REQUEST_SHAPE_NAMES[orm]:
            print(f"{orm:12} {name:18} {registry[name].doc}")
        print(f"{orm:12} {orm_fixtures.PREFORK_SHAPE:18} {PREFORK_DOC}")
        if orm in SERVED_ORMS:
            print(f"{orm:12} {'served':18} {SERVED_DOC}")
    return 0


def _pythons(args: argparse.Namespace) -> int:
    if args.install:
        install_debian_python(args.install)  # once: later calls find them in the cache
    found = link_pythons(args.link) if args.link else available()
    for version in SUPPORTED:
        if version in found:
            print(f"python{version:5} {found[version]}  ({distribution_of(found[version])})")
        else:
            print(f"python{version:5} MISSING")
    missing = [version for version in SUPPORTED if version not in found]
    if missing and args.strict:
        raise UsageError(f"missing interpreters: {', '.join(missing)}")
    return 0


def _pyperf(args: argparse.Namespace) -> int:
    if args.python is None:
        _need("pyperf", "pyperf", "ormgc pyperf")  # a managed venv (--python) has it pinned
    interp = interpreter(args.python)  # this Python, or a managed venv with the current pins
    child = subprocess.Popen(
        [interp.executable, "-m", "ormgc.runs.pyperf_main", *args.forwarded], env=interp.env
    )

    def forward(signum: int, frame: object) -> None:
        child.send_signal(signum)  # the bench stops itself, cleanly, writing nothing

    signal.signal(signal.SIGTERM, forward)
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            forward(signal.SIGINT, None)


def _need(module: str, extra: str, command: str) -> None:
    """One line naming the extra to install when ``command`` lacks ``module``."""
    try:
        importlib.import_module(module)
    except ImportError:
        raise UsageError(f"{command} needs {module}: pip install 'orm-gc-bench[{extra}]'") from None


def _compare(args: argparse.Namespace) -> int:
    _need("pyperf", "pyperf", "ormgc compare")
    from ormgc.views.compare.compare import load_results, markdown, pick_machine  # pyperf: late
    from ormgc.views.compare.merge_check import check_merge

    machine = args.machine
    if args.merge:  # shards from separate runners: checked whole, then copied, then compared
        plan = plan_merge(args.merge, args.results, args.machine)
        check_merge(plan)  # every file of every shard (and those already there), before copying
        machine = plan[0].target.parent.name
        output = args.output or args.results / machine / "comparison.md"
        if output.parent.is_dir():  # else the merge makes it
            check_writable(output, "comparison")
        copy_merged(plan)
        pythons = sorted({item.python for item in plan})
        print(f"merged {len(args.merge)} shards ({', '.join(pythons)}) into {args.results}",
              file=sys.stderr)  # fmt: skip
    machine = pick_machine(args.results, machine)
    loaded = load_results(args.results, machine, args.python or [])
    output = args.output or args.results / machine / "comparison.md"
    check_writable(output, "comparison")
    document = markdown(loaded, machine)
    write_atomic(output, lambda out: out.write(document))
    if args.wide or not is_terminal():
        print(document, end="")
    else:  # a terminal: the time table that fits it, the document in the file
        from ormgc.views.compare.terminal import summary

        print(summary(loaded, output, terminal_width(), use_colour()))
    print(f"wrote {output}", file=sys.stderr)
    return 0


def _add_matrix(commands: argparse._SubParsersAction) -> None:
    pyperf = commands.add_parser(
        "pyperf",
        add_help=False,  # --help goes on to the pyperf program, which lists every option
        help="time ORM x shape x GC policy with pyperf, GC on (see ormgc pyperf --help)",
    )
    pyperf.add_argument("--python", help="run under this Python, in a managed venv with the pins")
    compare = commands.add_parser(
        "compare",
        help="compare the Python versions' pyperf results (Markdown)",
        description="Put the Python versions' results side by side: time, GC collections and "
        "peak RSS per ORM x shape x policy, plus pyperf compare_to between neighbours.",
    )
    compare.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="results folder")
    compare.add_argument("--machine", default="", help="machine folder (default: the only one)")
    compare.add_argument(
        "--python", action="append", help="version to include (repeatable; default: all found)"
    )
    compare.add_argument("--output", type=Path, help="Markdown file (default: comparison.md)")
    compare.add_argument(
        "--wide",
        action="store_true",
        help="print the whole Markdown document on a terminal too (by default a terminal gets "
        "the time table fitted to its width; a pipe or file always gets the document)",
    )
    compare.add_argument(
        "--merge",
        action="append",
        type=Path,
        metavar="SHARD",
        help="first copy this results folder of a separate run (one CI job) into --results "
        "(repeatable); every file is checked first: a bad one is refused and nothing copied",
    )


def _asv_compare(args: argparse.Namespace) -> int:
    name, description, results = load_comparison(
        args.results, args.benchmark, args.machine, args.commit
    )
    print(format_comparison(name, description, results, parse_filters(args.param or [])))
    return 0


def _report(args: argparse.Namespace) -> int:
    _need("matplotlib", "charts", "ormgc report")
    from ormgc.views.charts.report import (  # matplotlib: late
        Missing,
        build,
        check_asv_site,
        link_from_asv_site,
    )

    output, asv_link = args.output, None
    if args.asv_site is not None:
        check_asv_site(args.asv_site)  # before anything is made
        output = output or args.asv_site / "report"
        asv_link = os.path.relpath(args.asv_site / "index.html", output)
    output = output or args.results / "report"
    drawn = build(args.results, output, asv_link)
    if args.asv_site is not None:
        link_from_asv_site(args.asv_site, os.path.relpath(output / "index.html", args.asv_site))
    left_out = [d for d in drawn if isinstance(d, Missing)]
    print(f"wrote {output / 'index.html'}: {len(drawn) - len(left_out)} charts")
    for missing in left_out:
        print(f"left out {missing.slug}: {missing.note}")
    return 0


def _add_report(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "report",
        help="a static HTML report with PNG charts from a results folder",
        description="Draw the charts (collections, time and GC share, threshold curve, pauses, "
        "scaling, the published figures, memory over requests, prefork workers' memory) from a "
        "results folder into index.html + PNGs; a kind of result the folder lacks leaves its "
        "chart out with a note.",
    )
    report.add_argument(
        "--results", type=Path, default=Path("results"), help="results folder (default %(default)s)"
    )
    report.add_argument("--output", type=Path, help="report folder (default: RESULTS/report)")
    report.add_argument(
        "--asv-site",
        type=Path,
        help="asv's published html folder: put the report in it (report/) and link both ways",
    )


def _add_asv_compare(commands: argparse._SubParsersAction) -> None:
    compare = commands.add_parser(
        "asv-compare",
        help="one asv benchmark, every Python version side by side",
        description="Read asv's result files and print one benchmark as a table: a row per "
        "parameter combination, a column per Python version (the newest result of each).",
    )
    compare.add_argument("benchmark", help="e.g. bench_sqlalchemy.LoadTime.time_load or time_load")
    compare.add_argument(
        "--results",
        type=Path,
        default=Path("results/asv"),
        help="asv results_dir (default %(default)s)",
    )
    compare.add_argument("--machine", help="asv machine name (needed if there are several)")
    compare.add_argument("--commit", help="only results of this commit (hash prefix)")
    compare.add_argument(
        "--param", action="append", metavar="NAME=VALUE", help="keep matching rows (repeatable)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="ormgc",
        description="How much does CPython's cyclic GC cost code that loads many ORM objects?",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    commands.required = True
    add_run(commands)
    add_advise(commands)
    commands.add_parser(
        "shapes",
        help="list the workload shapes with their descriptions",
        description="List every ORM's workload shapes, heaviest first.",
    )
    pythons = commands.add_parser(
        "pythons",
        help=f"find Python {SUPPORTED[0]}-{SUPPORTED[-1]} (PATH, pyenv, uv, Debian builds)",
        description="Find the supported interpreters (on PATH, in pyenv, in uv's managed "
        "Pythons, in the cache's Debian builds); --install fetches Debian's build of a "
        "missing one; --link makes python3.X links for nox and asv.",
    )
    pythons.add_argument(
        "--install",
        nargs="+",
        metavar="VERSION",
        choices=INSTALLABLE,
        help=f"fetch Debian's build of {' or '.join(INSTALLABLE)} into the cache (once)",
    )
    pythons.add_argument("--link", type=Path, help="folder to put python3.X links in")
    pythons.add_argument("--strict", action="store_true", help="exit non-zero if one is missing")
    _add_matrix(commands)
    _add_asv_compare(commands)
    _add_report(commands)
    add_publish(commands)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    signal.signal(signal.SIGTERM, interrupt)
    parser = build_parser()
    args, args.forwarded = parser.parse_known_args(argv)  # only pyperf passes options on
    if args.forwarded and args.command != "pyperf":
        parser.error(f"unrecognized arguments: {' '.join(args.forwarded)}")
    check_arguments = getattr(args, "check_arguments", None)  # a command's checks across options
    if check_arguments is not None:
        try:
            check_arguments(args)
        except UsageError as exc:
            parser.error(str(exc))
    commands = {"run": run, "advise": run_advise, "shapes": _shapes, "pythons": _pythons}
    commands.update({"pyperf": _pyperf, "compare": _compare, "asv-compare": _asv_compare})
    commands.update({"report": _report, "site": run_site, "pins": run_pins})
    try:
        return commands[args.command](args)
    except (OrmGcError, FixtureError) as exc:
        code = getattr(exc, "exit_code", 1)
        print(f"ormgc: error: {exc}", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
