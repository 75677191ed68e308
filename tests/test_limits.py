"""``--workers`` is bounded by what the machine holds (CPUs and available memory), refused in one
line at parse time, with an explicit override (issue 25)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ormgc import cli
from ormgc.errors import UsageError
from ormgc.runs.limits import PER_WORKER_MB, available_mb, check_workers, max_workers


def test_the_bound_is_the_smaller_of_cpus_and_memory() -> None:
    assert max_workers(cpus=2, memory_mb=24 * 1024).workers == 8  # the 2-core, 24 GB
    assert max_workers(cpus=64, memory_mb=1024).workers == 1024 // PER_WORKER_MB  # memory
    assert max_workers(cpus=1, memory_mb=None).workers == 8  # a few per core even on one
    assert max_workers(cpus=4, memory_mb=10).workers == 1  # forking one is always allowed


def test_available_memory_is_linux_memavailable(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       25000000 kB\nMemAvailable:   2097152 kB\n")
    assert available_mb(meminfo) == 2048


def test_too_many_is_one_line_stating_the_bound_and_why() -> None:
    bound = max_workers(cpus=2, memory_mb=24 * 1024)
    with pytest.raises(UsageError) as refused:
        check_workers(100000, allow_many=False, bound=bound)
    message = str(refused.value)
    assert "\n" not in message
    assert "--workers 100000 is more than this machine holds: at most 8" in message
    assert "4 per CPU x 2 CPUs" in message and "24,576 MB available" in message
    assert "--allow-many-workers" in message
    check_workers(8, allow_many=False, bound=bound)
    check_workers(100000, allow_many=True, bound=bound)


def test_the_cli_refuses_at_parse_time_unless_overridden(monkeypatch, capsys) -> None:
    started = []
    monkeypatch.setattr(cli, "run", lambda args: started.append(args.workers) or 0)
    with pytest.raises(SystemExit) as exited:
        cli.main(["run", "--shape", "prefork", "--workers", "100000"])
    assert exited.value.code == 2 and started == []
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "at most" in err and "--allow-many-workers" in err
    assert (
        cli.main(["run", "--shape", "prefork", "--workers", "100000", "--allow-many-workers"]) == 0
    )
    assert started == [100000]
