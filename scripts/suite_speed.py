"""The suite's own speed: how long one command takes, with the machine's load beside it.

    .venv/bin/python scripts/suite_speed.py measure tests -o results/speed/tests.json \\
        --fresh-cache /tmp/ormgc-fresh -- ./dev test -q --durations=60
    .venv/bin/python scripts/suite_speed.py table results/speed/*.json

``measure`` runs the command (its output also goes to ``<output>.log``; ``--stamp`` puts the
seconds since the start before each line, to see the setup apart from the tests), samples the
1-minute load average every 5 s while it runs, and writes the wall time, exit status, load, pytest's
summary line and ``--durations`` lines as JSON. ``--fresh-cache`` points $ORMGC_CACHE_DIR at a
new empty folder, as .ci/run's fresh clone does, so first builds (datasets, venvs, the Debian
Pythons, the embedded server) are counted. ``table`` prints the Markdown table of such files.
A busy machine makes every time longer: read the load beside it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

SAMPLE_S = 5.0
# --stamp puts the seconds since the start before each line of the log: "  627.1 <line>"
STAMP = r"(?:\s*\d+\.\d )?"
DURATION = re.compile(rf"^{STAMP}([\d.]+)s (setup|call|teardown)\s+(\S+)")
# pytest's last line, failures first when there are any: "1 failed, 615 passed in 1465.33s"
SUMMARY = re.compile(rf"^{STAMP}=*\s*((?:\d+ \w+, )*\d+ passed.*)\sin [\d.]+s")


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip()


def parse_log(lines: List[str]) -> Tuple[str, List[Dict[str, Any]]]:
    """pytest's last summary line and its --durations lines, from a plain or --stamp log."""
    summaries = [match.group(1) for match in map(SUMMARY.match, lines) if match]
    durations = [
        {"seconds": float(m.group(1)), "when": m.group(2), "test": m.group(3)}
        for m in map(DURATION.match, lines)
        if m
    ]
    return (summaries[-1] if summaries else ""), durations


def measure(
    name: str, command: List[str], output: Path, fresh_cache: str, stamp: bool = False
) -> Dict[str, Any]:
    env = dict(os.environ)
    if fresh_cache:
        Path(fresh_cache).mkdir(parents=True)  # must be new: an existing one is not fresh
        env["ORMGC_CACHE_DIR"] = fresh_cache
    loads: List[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_S):
            loads.append(os.getloadavg()[0])

    # Started in the background of a shell, this process ignores SIGINT and its children
    # would inherit that (and the tests that interrupt a run with SIGINT fail): restore it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    load_before = os.getloadavg()
    sampler = threading.Thread(target=sample, daemon=True)
    began, started = time.monotonic(), datetime.datetime.now(datetime.timezone.utc)
    sampler.start()
    log = output.with_suffix(".log")
    with log.open("w") as sink:
        if stamp:  # when each step started: setup (venv, Pythons, tools) vs the tests
            process = subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            assert process.stdout is not None
            for line in process.stdout:
                sink.write(f"{time.monotonic() - began:7.1f} {line}")
                sink.flush()
            status = process.wait()
        else:
            status = subprocess.run(
                command, env=env, stdout=sink, stderr=subprocess.STDOUT
            ).returncode
    seconds = time.monotonic() - began
    done.set()
    summary, durations = parse_log(log.read_text(errors="replace").splitlines())
    return {
        "name": name,
        "command": command,
        "fresh_cache": bool(fresh_cache),
        "commit": _commit(),
        "started_utc": started.strftime("%Y-%m-%d %H:%M"),
        "seconds": round(seconds, 1),
        "exit_status": status,
        "summary": summary,
        "cpus": os.cpu_count(),
        "load_before": [round(value, 2) for value in load_before],
        "load_during_mean": round(sum(loads) / len(loads), 2) if loads else None,
        "load_during_max": round(max(loads), 2) if loads else None,
        "durations": durations,
    }


def from_log(name: str, log: Path, command: List[str], commit: str) -> Dict[str, Any]:
    """The same record from the log of a run made elsewhere (its last line ``rc=N secs=S``, as
    the fresh-clone CI writes it); its load was not recorded."""
    lines = log.read_text(errors="replace").splitlines()
    status = re.search(r"rc=(\d+) secs=(\d+)", lines[-1] if lines else "")
    if status is None:
        raise SystemExit(f"suite_speed: {log} does not end with 'rc=N secs=S'")
    summary, durations = parse_log(lines)
    started = datetime.datetime.fromtimestamp(log.stat().st_mtime - int(status.group(2)))
    return {
        "name": name,
        "command": command,
        "fresh_cache": True,
        "commit": commit,
        "started_utc": started.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "seconds": float(status.group(2)),
        "exit_status": int(status.group(1)),
        "summary": summary,
        "cpus": os.cpu_count(),
        "load_before": None,
        "load_during_mean": None,
        "load_during_max": None,
        "durations": durations,
    }


def table(paths: List[Path]) -> str:
    rows = [
        "| what | commit | started (UTC) | wall | exit | tests | load (1 min) during: mean / max"
        " | cpus | command |",
        "| --- | --- | --- | ---: | ---: | --- | --- | ---: | --- |",
    ]
    for path in paths:
        r = json.loads(path.read_text())
        wall = f"{r['seconds'] / 60:.1f} min"
        load = f"{r['load_during_mean']} / {r['load_during_max']}"
        if r["load_during_mean"] is None:
            load = "not recorded"
        command = " ".join(r["command"]) + (" (fresh cache)" if r["fresh_cache"] else "")
        rows.append(
            f"| {r['name']} | {r['commit']} | {r['started_utc']} | {wall} | {r['exit_status']} "
            f"| {r['summary']} | {load} | {r['cpus']} | `{command}` |"
        )
    return "\n".join(rows)


def slowest(before: Path, after: Optional[Path], count: int = 25) -> str:
    """The ``count`` slowest steps of ``before``, beside the same steps in ``after`` if given
    (-- where ``after`` did not list it among its own slowest: under its --durations cut-off)."""
    old = json.loads(before.read_text())["durations"]
    new = json.loads(after.read_text())["durations"] if after else []
    seconds = {(d["test"], d["when"]): d["seconds"] for d in new}
    rows = ["| test (step) | before s |" + (" after s |" if after else "")]
    rows.append("| --- | ---: |" + (" ---: |" if after else ""))
    for d in old[:count]:
        now = seconds.get((d["test"], d["when"]))
        shown = (f" {now:.1f} |" if now is not None else " -- |") if after else ""
        rows.append(f"| `{d['test']}` ({d['when']}) | {d['seconds']:.1f} |{shown}")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    run = sub.add_parser("measure", help="time one command, load beside it")
    run.add_argument("name")
    run.add_argument("-o", "--output", type=Path, required=True)
    run.add_argument("--fresh-cache", default="", help="a new folder for $ORMGC_CACHE_DIR")
    run.add_argument("--stamp", action="store_true", help="seconds since the start on each line")
    old = sub.add_parser("from-log", help="the same record from another run's log")
    old.add_argument("name")
    old.add_argument("log", type=Path)
    old.add_argument("-o", "--output", type=Path, required=True)
    old.add_argument("--commit", required=True, help="the commit that run tested")
    show = sub.add_parser("table", help="Markdown table of measure's files")
    show.add_argument("files", nargs="+", type=Path)
    both = sub.add_parser("slowest", help="the slowest tests of one record beside another's")
    both.add_argument("before", type=Path)
    both.add_argument("after", type=Path, nargs="?")
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    args, command = parser.parse_args(argv[:cut]), argv[cut + 1 :]
    if args.action == "table":
        print(table(args.files))
        return 0
    if args.action == "slowest":
        print(slowest(args.before, args.after))
        return 0
    if not command:
        parser.error("give the command after --")
    if args.action == "from-log":
        record = from_log(args.name, args.log, command, args.commit)
        args.output.write_text(json.dumps(record, indent=1) + "\n")
        return 0
    if args.fresh_cache and os.path.exists(args.fresh_cache):
        parser.error(f"--fresh-cache {args.fresh_cache} exists: give a new folder")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    record = measure(args.name, command, args.output, args.fresh_cache, args.stamp)
    temp = args.output.with_name(args.output.name + ".tmp")
    temp.write_text(json.dumps(record, indent=1) + "\n")
    os.replace(temp, args.output)
    summary = record["summary"] or "no pytest summary"
    print(f"{args.name}: {record['seconds']:.0f} s, exit {record['exit_status']}, {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
