"""``ormgc compare``'s exact section: instructions per query from ``ormgc pyperf --exact``."""

from __future__ import annotations

from typing import Any, Callable, List, Optional


def _exact_cell(previous: Optional[Any], bench: Any) -> str:
    meta = bench.get_metadata()
    if "instructions" not in meta:
        return "--"
    return f"{meta['instructions']:,} (GC {meta['gc_share']:.1%})"


def exact_section(loaded: List[Any], rows: List[Any], table: Callable) -> List[str]:
    """The Markdown lines of the exact table; none when no result carries exact figures."""
    if not any("instructions" in b.get_metadata() for r in loaded for b in r.benches.values()):
        return []
    return [
        "## Instructions per query (exact: counted under valgrind's callgrind, no interval)",
        "",
        "The query's instructions, the same in every run of the same Python, libraries and"
        " dataset; in brackets the collector's share of them (instructions, not time).",
        "",
        *table(loaded, rows, _exact_cell),
        "",
    ]
