"""asv end to end: a quick run on two Pythons, the result files, asv-compare, the published
site in headless Chromium. Small datasets ($ORMGC_ASV_ROWS), private dirs for everything."""

from __future__ import annotations

import itertools
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

import orm_fixtures
from orm_fixtures import ORMS
from orm_fixtures.mongo_server import URL_ENV
from ormgc.cli import main
from ormgc.runs.pythons import SUPPORTED, link_pythons

from .test_asv_suite import ROOT, read_asv_conf

sys.path.insert(0, str(ROOT / "tools"))
import asv_site  # noqa: E402

pytestmark = pytest.mark.slow
MACHINE = "ormgc-test"
ROWS = 1000
IN_CI = bool(os.environ.get("CI"))


def _missing(what: str) -> None:
    """Locally a missing tool skips; in CI, where .ci/install-tools ran, it fails."""
    (pytest.fail if IN_CI else pytest.skip)(f"{what} (install: .ci/install-tools)")


def _asv(site: Dict[str, Any], *args: str) -> None:
    command = [sys.executable, "-m", "asv", *args, "--config", str(site["config"])]
    done = subprocess.run(command, env=site["env"], capture_output=True, text=True, timeout=1500)
    (site["logs"] / f"{args[0]}.log").open("a").write(done.stdout + done.stderr)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
        pytest.fail(f"asv {' '.join(args)} exited {done.returncode}:\n{tail}")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    """Every benchmark once on the oldest Python, two of sqlalchemy on the newest; publish."""
    tmp = tmp_path_factory.mktemp("asv")
    # One embedded MongoDB server for the whole run, given to asv as $ORMGC_MONGODB_URL (a
    # user's own server is given the same way): without it every one of MongoEngine's 40
    # LoadTime combinations starts its own (60 s of this fixture's 415; 8 s with one). The
    # embedded server's start and stop are tested in test_mongo_server.py and test_matrix.py.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ORMGC_CACHE_DIR", str(tmp / "cache"))
        patch.delenv(URL_ENV, raising=False)
        with orm_fixtures.serve("mongoengine", "embedded") as mongodb_url:
            yield _published_site(tmp, mongodb_url)


# Django's ExactCost (a minute of valgrind here) is measured by the release history
# (scripts/asv_releases.sh, results/asv-releases), not on the CI's critical path.
NOT_RUN_HERE = re.compile(r"^bench_django\.ExactCost\.")


def _published_site(tmp: Path, mongodb_url: str) -> Dict[str, Any]:
    found = link_pythons(tmp / "pythons")
    pythons = [version for version in SUPPORTED if version in found]
    if len(pythons) < 2:
        (pytest.fail if IN_CI else pytest.skip)(f"need two of {SUPPORTED}, found {pythons}")
    oldest, newest = pythons[0], pythons[-1]
    branch = subprocess.run(
        ["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    conf = read_asv_conf()
    conf.update(
        repo=str(ROOT),
        branches=[branch],
        benchmark_dir=str(ROOT / "benchmarks"),
        env_dir=str(tmp / "env"),
        results_dir=str(tmp / "results"),
        html_dir=str(tmp / "html"),
        pythons=[oldest, newest],
        # the current library series only: one environment per Python (installed through
        # asv_install.py, which keeps the matrix's versions)
        exclude=conf["exclude"] + [{"req": {"SQLAlchemy": "1\\.4\\..*"}}],
    )
    config = tmp / "asv.conf.json"
    config.write_text(json.dumps(conf, indent=2))
    env = dict(os.environ)
    user_pip_conf = Path.home() / ".config" / "pip" / "pip.conf"
    if user_pip_conf.exists() and "PIP_CONFIG_FILE" not in env:
        env["PIP_CONFIG_FILE"] = str(user_pip_conf)  # the machine's package indexes
    env.update(
        HOME=str(tmp / "home"),  # asv keeps machine names in ~/.asv-machine.json
        PIP_CACHE_DIR=env.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip"),
        PATH=f"{tmp / 'pythons'}{os.pathsep}{env['PATH']}",
        ORMGC_CACHE_DIR=str(tmp / "cache"),
        ORMGC_ASV_ROWS=str(ROWS),
        ORMGC_ASV_REPEAT="1",
        **{URL_ENV: mongodb_url},
    )
    (tmp / "home").mkdir()
    site = {"config": config, "env": env, "logs": tmp, "tmp": tmp, "pythons": [oldest, newest]}
    _asv(site, "machine", "--yes", "--machine", MACHINE)
    # forkserver: asv imports the suite once per environment and forks each of its ~1,200
    # parameter combinations, instead of starting a fresh interpreter for each (what the
    # committed history uses, asv's default): the same benchmark code and values. Measured,
    # it did not shorten the fixture much (726 s before, 692 s and 852 s after, other load
    # beside it): the setup_cache sweeps dominate (docs/explanation/suite-speed.md).
    quick = ["run", "--quick", "--machine", MACHINE, "--show-stderr"]
    quick += ["--launch-method", "forkserver"]
    every_but = rf"^(?!{NOT_RUN_HERE.pattern[1:]})"
    _asv(site, *quick, "-E", f"virtualenv:{oldest}", "-b", every_but, "HEAD^!")
    newest_only = r"bench_sqlalchemy\.(LoadTime\.time_load|GcCollections)"
    _asv(site, *quick, "-E", f"virtualenv:{newest}", "-b", newest_only, "HEAD^!")
    _asv(site, "publish")
    return site


def _results(site: Dict[str, Any], python: str) -> Dict[str, Any]:
    (path,) = (site["tmp"] / "results" / MACHINE).glob(f"*-virtualenv-py{python}-*.json")
    return json.loads(path.read_text())


def _values(data: Dict[str, Any], name: str) -> Dict[tuple, Any]:
    """Parameter combination -> value (None: n/a) of one benchmark in one result file."""
    columns = data["result_columns"]
    row = data["results"].get(name)
    if row is None:
        return {}
    params = [[json.loads(v.replace("'", '"')) for v in values] for values in row[1]]
    values = row[columns.index("result")]
    values = [None if value != value else value for value in values]  # NaN: skipped
    return dict(zip(itertools.product(*params), values))


def _postgres_running() -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", 5432)) == 0


def test_every_benchmark_has_a_value_for_every_combination_this_machine_can_run(site):
    index = json.loads((site["tmp"] / "results" / "benchmarks.json").read_text())
    left_out = [name for name in index if NOT_RUN_HERE.match(name)]
    assert left_out and not any(_values(_results(site, site["pythons"][0]), n) for n in left_out)
    names = [name for name in index if name != "version" and name not in left_out]
    assert {name.split(".")[0] for name in names} == {f"bench_{orm}" for orm in ORMS}
    assert {name.split(".")[-1] for name in names} == {
        "time_load",
        "peakmem_load",
        "track_collections",
        "track_pause_total",
        "track_pause_max",
        "track_gc_tax",
        "track_instructions",  # ExactCost: under valgrind (./dev test installs it)
        "track_gc_share",
        "track_gc_instructions",
    }
    skipped = set() if _postgres_running() else {"postgresql"}  # ./dev test and CI start it
    data = _results(site, site["pythons"][0])
    for name in names:
        values = _values(data, name)
        assert {combo[3] for combo in values} == {ROWS}
        missing = [combo for combo, value in values.items() if value is None]
        assert all(combo[0] in skipped for combo in missing), (name, missing[:3])


def test_gc_counts_add_up_and_follow_the_policy(site):
    for python, orm in itertools.product(site["pythons"], ORMS):
        name = f"bench_{orm}.GcCollections.track_collections"
        counts = _values(_results(site, python), name)
        if not counts:  # the newest Python ran sqlalchemy only
            continue
        for (backend, shape, policy, rows, generation), total in counts.items():
            if generation != "total" or total is None:
                continue
            per_generation = [counts[(backend, shape, policy, rows, f"gen{g}")] for g in range(3)]
            assert total == sum(per_generation)
            if policy == "disabled":
                assert total == 0
            if shape == "seed_loop" and policy == "threshold_700":
                fewer = counts[(backend, shape, "threshold_50000", rows, generation)]
                assert total > fewer, (python, name, backend)


def test_asv_compare_puts_the_two_pythons_side_by_side(site, capsys):
    benchmark = "bench_sqlalchemy.LoadTime.time_load"
    args = ["asv-compare", benchmark, "--results", str(site["tmp"] / "results")]
    assert main([*args, "--param", "backend=sqlite", "--param", "shape=seed_loop"]) == 0
    out = capsys.readouterr().out
    oldest, newest = site["pythons"]
    header = out.splitlines()[2].split()
    # each column names its Python and its SQLAlchemy series (asv.conf.json's matrix)
    assert [column.split("-SQLAlchemy")[0] for column in header[4:7]] == [
        f"py{oldest}",
        f"py{newest}",
        f"py{newest}",
    ]
    assert all("-SQLAlchemy" in column for column in header[4:7])
    suite = json.loads((site["tmp"] / "results" / "benchmarks.json").read_text())[benchmark]
    policies = suite["params"][suite["param_names"].index("policy")]
    assert len(out.splitlines()) == 3 + 1 + len(policies)  # title, sources, header, rule, rows


def test_published_site_shows_the_benchmarks_and_a_graph_per_python(site):
    if None in asv_site.find_browser():
        _missing("chromium and chromedriver are not installed")
    if not (asv_site.NODE_MODULES / "jquery").is_dir():
        _missing("tools/node_modules lacks the libraries asv's page loads")
    html = site["tmp"] / "html"
    index = json.loads((html / "index.json").read_text())
    screenshot = site["tmp"] / "asv-site.png"
    report = asv_site.check_site(
        html,
        sorted(name for name in index["benchmarks"] if not NOT_RUN_HERE.match(name)),
        "bench_sqlalchemy.LoadTime.time_load",
        {"backend": "sqlite", "shape": "seed_loop", "policy": "threshold_700"},
        "commit",
        screenshot,
        legend=False,  # as docs/images/asv-site.png is taken: the toggle must not break the page
    )
    assert report["pythons"] == sorted(site["pythons"])
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 20_000  # a drawn page, not a blank one


def test_the_site_check_fails_when_a_python_is_missing(site):
    """The check can fail: one Python's lines only, and it says so."""
    if None in asv_site.find_browser():
        _missing("chromium and chromedriver are not installed")
    with pytest.raises(asv_site.SiteError, match="need 2"):
        asv_site.check_site(
            site["tmp"] / "html",
            [],
            "bench_sqlalchemy.GcCost.track_gc_tax",  # run on the oldest Python only
            {"backend": "sqlite", "shape": "seed_loop", "policy": "threshold_700"},
            "commit",
            None,
        )
