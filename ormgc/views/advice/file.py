"""An ``ormgc advise --json`` file, read back for ``advise --from``: checked, so an empty, partial
or other-version file is one line saying what is wrong with it, not a traceback."""

from __future__ import annotations

import json
import numbers
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional

from ormgc.errors import UsageError

# The advise document's layout; ``format`` is written from 1 on (files without one are 1).
FORMAT = 1
# What the verdict reads from each record (ormgc.views.advice.rule), and what the text names.
_NEEDED = (
    "policy", "freeze", "gc_threshold", "collections_total", "collected", "cpu_ms",
    "cpu_vs_baseline", "peak_rss_mb", "pause_ms", "runs", "python", "python_build",
)  # fmt: skip


class Earlier(NamedTuple):
    """What ``--from`` takes from the file."""

    records: List[Dict[str, Any]]
    repeat: int
    run: str
    max_rounds: Optional[int]


def _number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _record_problem(record: Any) -> str:
    """What is wrong with one record ('' if nothing the verdict reads)."""
    if not isinstance(record, dict):
        return f"is {type(record).__name__}, not a record"
    missing = [key for key in _NEEDED if key not in record]
    if not record.get("workload") and not ("orm" in record and "shape" in record):
        missing.append("workload (or orm and shape)")
    if missing:
        return f"has no {', '.join(missing)}"
    pause = record.get("request_pause_ms") or record["pause_ms"]
    ratio = record["cpu_vs_baseline"]
    checks = [
        (isinstance(record["policy"], str), "policy"),
        (isinstance(record["freeze"], bool), "freeze"),
        (isinstance(record["gc_threshold"], list) and record["gc_threshold"], "gc_threshold"),
        (_number(record["peak_rss_mb"]) and record["peak_rss_mb"] > 0, "peak_rss_mb"),
        (isinstance(pause, dict) and all(_number(pause.get(k)) for k in ("max", "p99")), "pause"),
        (isinstance(ratio, dict) and _number(ratio.get("ratio")), "cpu_vs_baseline"),
        (isinstance(record["runs"], list) and record["runs"], "runs"),
        (all(isinstance(r, dict) and _number(r.get("cpu_ms")) for r in record["runs"]), "runs"),
    ]
    wrong = [name for ok, name in checks if not ok]
    return f"has a {wrong[0]} this version does not read" if wrong else ""


def read_advice_file(path: Path) -> Earlier:
    """The records of an earlier ``advise --json``; UsageError (one line) saying what is wrong."""
    where = f"--from {path}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{where}: not an ormgc advise --json file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise UsageError(f"{where}: not an ormgc advise --json file (not UTF-8 text)") from None
    except ValueError as exc:
        raise UsageError(f"{where}: not an ormgc advise --json file (not JSON: {exc})") from None
    if not isinstance(data, dict) or "records" not in data:
        raise UsageError(f"{where}: not an ormgc advise --json file (no records)")
    version = data.get("format", FORMAT)
    if version != FORMAT:
        raise UsageError(
            f"{where}: written by another version of ormgc (format {version!r}; "
            f"this one reads {FORMAT}): run ormgc advise again"
        )
    records, repeat = data["records"], data.get("repeat")
    recommended = data.get("recommended")
    run = recommended.get("run") if isinstance(recommended, dict) else None
    if not isinstance(records, list) or not records:
        raise UsageError(f"{where}: the file holds no records (an empty or cut advise file)")
    if type(repeat) is not int or repeat < 1 or not isinstance(run, str):
        raise UsageError(f"{where}: its repeat or recommended run is missing (a partial file)")
    for index, record in enumerate(records, 1):
        problem = _record_problem(record)
        if problem:
            raise UsageError(
                f"{where}: record {index} of {len(records)} {problem} (a partial file, "
                "or one from another version of ormgc)"
            )
    for freeze in {record["freeze"] for record in records}:
        if not any(r["policy"] == "default" and r["freeze"] is freeze for r in records):
            on = "on" if freeze else "off"
            raise UsageError(f"{where}: no default record with freeze {on} to compare with")
    max_rounds = data.get("max_rounds")
    if max_rounds is not None and (type(max_rounds) is not int or max_rounds < 1):
        raise UsageError(f"{where}: its max_rounds is not a whole number of rounds")
    return Earlier(records, repeat, run, max_rounds)
