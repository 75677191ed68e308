"""``ormgc site`` (the one folder to publish: ormgc.views.site.build) and ``ormgc pins`` (the pins
refreshed within their release series: ormgc.pins)."""

from __future__ import annotations

import argparse
from importlib.util import find_spec
from pathlib import Path

from ormgc import pins
from ormgc.errors import UsageError
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
        help="refresh the pins to the newest patch of each release series (--dry-run: show)",
        description="Move every pin of ormgc/profiles/current.txt and asv.conf.json's matrix "
        "to the newest patch release of its series, and the ci-python line to the newest "
        "Python patch setup-python installs; print what changed.",
    )
    refresh.add_argument("--refresh", action="store_true", required=True, help="refresh them")
    refresh.add_argument("--dry-run", action="store_true", help="print the changes, write none")
    refresh.add_argument(
        "--commit-message", type=Path, help="also write the refresh commit's message here"
    )


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
    changes = pins.refresh(ROOT, SUPPORTED, dry_run=args.dry_run)
    print(pins.describe(changes, args.dry_run))
    message = pins.commit_message(changes)
    if args.commit_message is not None and message and not args.dry_run:
        args.commit_message.write_text(message + "\n")
    return 0
