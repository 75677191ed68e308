#!/usr/bin/env bash
# The committed asv history on this machine: the current suite on each Python given (default
# 3.9-3.15), in both release-series environments of asv.conf.json's matrix, cut down so a
# shared 2-core machine finishes in about an hour (asv starts one process per parameter
# combination: the whole matrix is ~1,200 per environment):
#   quick mode (one sample per benchmark), 2,000 rows (the seed's 1:5 load: 400 objects),
#   one worker process per GC sweep combination, the seed's shape only under valgrind;
#   only the seed's shape on SQLite (MongoDB: the embedded server) is recorded, every policy
#   and generation; LoadTime only for SQLAlchemy; PostgreSQL left out (ORMGC_POSTGRES_URL
#   points at a closed port, so its combinations are n/a instead of costing the sweep time).
# Counts and instructions are exact at any size; timings are single samples on a busy machine:
# read them as rough. Appends each Python's start/end time and load average to
# results/asv/history.log.   scripts/asv_history.sh [3.X ...] [-- extra asv run arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
pythons=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do pythons+=("$1"); shift; done
[ $# -gt 0 ] && shift
[ ${#pythons[@]} -gt 0 ] || pythons=(3.9 3.10 3.11 3.12 3.13 3.14 3.15)
export ORMGC_ASV_ROWS=${ORMGC_ASV_ROWS:-2000} ORMGC_ASV_REPEAT=${ORMGC_ASV_REPEAT:-1}
export ORMGC_POSTGRES_URL=${ORMGC_POSTGRES_URL:-postgresql://postgres@127.0.0.1:9/none}
select=(
    -b "bench_sqlalchemy\.(GcCollections|GcCost|ExactCost|LoadTime)\.\w+\('sqlite', 'seed_loop'"
    -b "bench_mongoengine\.(GcCollections|GcCost|ExactCost)\.\w+\('mongodb', 'seed_loop'"
    -b "bench_django\.(GcCollections|GcCost)\.\w+\('sqlite', 'seed_loop'"
)
# ASV_HISTORY_BENCH: one asv -b regular expression instead (e.g. bench_sqlalchemy only).
[ -z "${ASV_HISTORY_BENCH:-}" ] || select=(-b "$ASV_HISTORY_BENCH")
# The newest commit that changed more than results/ (ASV_HISTORY_COMMIT: one given, so that
# Pythons measured by separate calls share one commit).
commit=${ASV_HISTORY_COMMIT:-$(git log -1 --format=%H -- . ':(exclude)results')}
log=results/asv/history.log
# ASV_HISTORY_SERIES=current (or older): only that release-series environment of each Python,
# through a copy of asv.conf.json with one more exclude rule (absolute paths; in .asv/).
config=()
if [ -n "${ASV_HISTORY_SERIES:-}" ]; then
    mkdir -p .asv
    .venv/bin/python - "$ASV_HISTORY_SERIES" > ".asv/history-$ASV_HISTORY_SERIES.conf.json" <<'PY'
import json, os, sys
text = open("asv.conf.json").read()
conf = json.loads("\n".join(l for l in text.splitlines() if not l.lstrip().startswith("//")))
for key in ("repo", "results_dir", "env_dir", "html_dir", "benchmark_dir"):
    conf[key] = os.path.abspath(conf[key])
other = {"current": r"1\.4\..*", "older": r"2\.0\..*"}[sys.argv[1]]
conf["exclude"].append({"req": {"SQLAlchemy": other}})
print(json.dumps(conf, indent=2))
PY
    config=(--config ".asv/history-$ASV_HISTORY_SERIES.conf.json")
fi
./dev asv machine --yes --machine vm >/dev/null
for python in "${pythons[@]}"; do
    echo "$(date -u +%FT%TZ) start python $python commit ${commit::8} rows $ORMGC_ASV_ROWS" \
        "repeat $ORMGC_ASV_REPEAT series ${ASV_HISTORY_SERIES:-both} loadavg $(cut -d' ' -f1-3 /proc/loadavg)" >> "$log"
    status=0
    ./dev asv run ${config[@]+"${config[@]}"} --quick --machine vm --show-stderr -E "virtualenv:$python" "${select[@]}" "$@" \
        "$commit^!" || status=$?
    echo "$(date -u +%FT%TZ) end   python $python exit $status" \
        "loadavg $(cut -d' ' -f1-3 /proc/loadavg)" >> "$log"
done
