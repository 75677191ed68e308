"""``ormgc site`` (the one folder to publish: ormgc.views.site.build) and ``ormgc pins`` (the pins
refreshed within their release series: ormgc.pins)."""

from __future__ import annotations

import argparse
import json
from importlib.util import find_spec
from pathlib import Path

from ormgc import pins
from ormgc.errors import UsageError, bounded_int
from ormgc.results import write_atomic
from ormgc.runs.pythons import SUPPORTED

ROOT = Path(__file__).resolve().parent.parent  # the checkout: asv.conf.json, mkdocs.yml


def site_root() -> Path:
    """The checkout the site is built from: the one this package sits in (run from the
    checkout, or installed with -e), else the working directory (pip install ".[site]", then
    ormgc site run inside the checkout: the package then sits in site-packages)."""
    return ROOT if (ROOT / "asv.conf.json").is_file() else Path.cwd()


def add_publish(commands: argparse._SubParsersAction) -> None:
    site = commands.add_parser(
        "site",
        help="the site to publish: landing page, report/, asv/, docs/ (offline, from results/)",
        description="Build one folder from the committed results: index.html (the answer per "
        "Python, the main chart), report/ (ormgc report), asv/ (asv publish of results/asv), "
        "docs/ (mkdocs build, where mkdocs.yml exists), each linking to the others. Replaces "
        "only a folder it built itself.",
    )
    site.add_argument("--output", type=Path, required=True, help="the site folder")
    site.add_argument("--results", type=Path, help="results folder (default: the checkout's)")
    refresh = commands.add_parser(
        "pins",
        help="refresh the pins to the newest patch of each release series (--dry-run: show); "
        "add a range of releases to the asv release history (--add-range)",
        description="--refresh: move every pin of ormgc/profiles/current.txt and "
        "asv.conf.json's matrix to the newest patch release of its series, the ci-python line "
        "to the newest Python patch setup-python installs, and append each series' newest "
        "release to the release history (ormgc/profiles/releases.json); print what changed. "
        "--add-range PACKAGE GLOB: a new series of the release history, its releases picked "
        "evenly from PyPI (then scripts/asv_releases.sh SERIES measures it).",
    )
    action = refresh.add_mutually_exclusive_group(required=True)
    action.add_argument("--refresh", action="store_true", help="refresh them")
    action.add_argument(
        "--add-range",
        nargs=2,
        metavar=("PACKAGE", "GLOB"),
        help="a new release series, e.g. SQLAlchemy '2.0.*' (final releases matching GLOB)",
    )
    refresh.add_argument("--dry-run", action="store_true", help="print the changes, write none")
    refresh.add_argument(
        "--commit-message", type=Path, help="also write the refresh commit's message here"
    )
    refresh.add_argument(
        "--count",
        type=bounded_int(2, MAX_RANGE),
        default=8,
        help=f"--add-range: releases to pick, spread evenly, first and newest kept (2-{MAX_RANGE};"
        " default 8)",
    )
    refresh.add_argument(
        "--per-minor",
        action="store_true",
        help="--add-range: the newest patch of each minor release instead of --count",
    )
    refresh.add_argument(
        "--python",
        action="append",
        choices=SUPPORTED,
        metavar="X.Y",
        help="--add-range: a Python to measure the series on (repeat; default 3.9 3.12 3.14)",
    )
    refresh.add_argument(
        "--with",
        dest="with_rules",
        action="append",
        default=[],
        type=with_rule,
        metavar="GLOB:PACKAGE==VERSION",
        help="--add-range: another pin for the releases matching GLOB (repeat; first match wins)",
    )


MAX_RANGE = 40  # releases per series: each costs about a minute per Python to measure
DEFAULT_RANGE_PYTHONS = ("3.9", "3.12", "3.14")


def with_rule(text: str):
    glob, sep, pin = text.partition(":")
    name, eq, version = pin.partition("==")
    if not (sep and eq and glob and name and version[:1].isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r}: expected GLOB:PACKAGE==VERSION")
    return glob, {name: version}


# What ``ormgc site`` imports or runs (the charts, asv publish, mkdocs build with its theme):
# the ``site`` extra of pyproject.toml installs them all.
SITE_MODULES = ("matplotlib", "asv", "mkdocs", "material")


def run_site(args: argparse.Namespace) -> int:
    missing = [name for name in SITE_MODULES if find_spec(name) is None]
    if missing:  # before anything is built: not a failure halfway through
        raise UsageError(f"ormgc site needs {', '.join(missing)}: pip install 'orm-gc-bench[site]'")
    from ormgc.views.site import build as site  # matplotlib and asv load only for the site

    sources = site.Sources.of(site_root(), args.results)
    for part in site.build(args.output, sources):
        state = "built" if part.built else "skipped"
        print(f"{part.name}/: {state}: {part.note}")
    print(f"wrote {args.output / 'index.html'}")
    return 0


def run_pins(args: argparse.Namespace) -> int:
    from ormgc.history import ranges

    if args.add_range:
        return _add_range(args, ranges)
    if args.count != 8 or args.per_minor or args.python or args.with_rules:
        raise UsageError("--count, --per-minor, --python and --with go with --add-range")
    history = ranges.load()  # validated before anything is written
    changes = pins.refresh(ROOT, SUPPORTED, dry_run=args.dry_run)
    print(pins.describe(changes, args.dry_run))
    history, added = ranges.append_newest(history, ranges.pypi_releases)
    verb = "would append" if args.dry_run else "appended"
    for name, version in added:
        print(f"releases.json: {verb} {version} to {name}")
    if not added:
        print("releases.json: every release series ends at its newest release")
    if added and not args.dry_run:
        text = ranges.dump(history, RANGES_COMMENT)
        write_atomic(ranges.SPEC, lambda out: out.write(text))
    history_message = "history: " + ", ".join(f"{n} {v}" for n, v in added) if added else ""
    message = "; ".join(filter(None, [pins.commit_message(changes), history_message]))
    if args.commit_message is not None and message and not args.dry_run:
        args.commit_message.write_text(message + "\n")
    return 0


RANGES_COMMENT = (
    "The library releases the asv history measures (ormgc.history.ranges; docs/how-to/"
    "release-history.md). Written by ormgc pins --add-range and --refresh."
)


def _add_range(args: argparse.Namespace, ranges) -> int:
    if args.commit_message is not None:
        raise UsageError("--commit-message goes with --refresh")
    history = ranges.load()
    package, glob = args.add_range
    pythons = sorted(set(args.python or DEFAULT_RANGE_PYTHONS), key=ranges.version_key)
    history, series = ranges.add_range(
        history,
        package,
        glob,
        args.count,
        pythons,
        ranges.pypi_releases,
        per_minor=args.per_minor,
        with_rules=args.with_rules,
    )
    versions = ", ".join(release.version for release in series.releases)
    verb = "would add" if args.dry_run else "added"
    print(f"releases.json: {verb} {series.name} ({len(series.releases)} releases: {versions})")
    if not args.dry_run:
        text = ranges.dump(history, RANGES_COMMENT)
        ranges.parse(json.loads(text), SUPPORTED)  # what is written reads back, or nothing is
        write_atomic(ranges.SPEC, lambda out: out.write(text))
        print(f"measure it: scripts/asv_releases.sh {series.name}")
    return 0
