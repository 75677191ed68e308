#!/usr/bin/env bash
# The asv history across library releases (ormgc/profiles/releases.json): each release of each
# series measured at its generated commit (ormgc.history.branches, in the scratch clone
# .asv/releases-repo) on the series' Pythons, into results/asv-releases. What is measured, per
# release: the seed's query (seed_loop) on SQLite (MongoDB: the embedded server) at the file's
# `rows` (a fifth loaded), every policy: collections per generation, pauses, the GC tax and
# time of one query (asv --quick: one sample, read as rough), and under valgrind the query's
# instructions and the collector's share (default and threshold_50000 only: ~15 s each).
# PostgreSQL is left out (its URL points at a closed port: n/a instead of sweep time).
# Resumable: a release already measured on a Python is skipped. Appends each run's start/end
# time and load average to results/asv-releases/history.log.
#   scripts/asv_releases.sh [SERIES ...]      (default: every series of releases.json)
#   ASV_RELEASES_PYTHONS="3.12 3.14" scripts/asv_releases.sh   (only these of each series)
#   ASV_RELEASES_STREAM=b ...   a second run beside the first: its own environments (.asv/),
#                               the same results folder (one file per commit and Python)
set -euo pipefail
cd "$(dirname "$0")/.."
results=results/asv-releases
repo=.asv/releases-repo
mkdir -p .asv "$results"
if [ ! -d "$repo" ]; then
    git clone --quiet --shared --no-checkout "$PWD" "$repo"
fi
git -C "$repo" fetch --quiet origin
stream=${ASV_RELEASES_STREAM:-a}
[[ "$stream" =~ ^[a-z]$ ]] || { echo "asv_releases: ASV_RELEASES_STREAM is one letter" >&2; exit 2; }
config=.asv/releases-$stream.conf.json
.venv/bin/python -m ormgc.history.branches "$repo" --asv-config "$config" \
    --results "$results" --env-dir ".asv/env-releases-$stream" --html-dir .asv/html-releases \
    --commits "$results/commits.json"
read_spec() {  # one line per series: name orm branch rows pythons...
    .venv/bin/python - "$@" <<'PY'
import sys
from ormgc.history import ranges
spec = ranges.load()
names = sys.argv[1:] or [s.name for s in spec.series]
for name in names:
    s = spec.named(name)
    print(s.name, s.orm, s.branch, spec.rows, *s.pythons)
PY
}
spec_lines=$(read_spec "$@")
export ORMGC_ASV_REPEAT=1 ORMGC_ASV_EXACT_POLICIES=default,threshold_50000
export ORMGC_POSTGRES_URL=postgresql://postgres@127.0.0.1:9/none
machine=${ASV_MACHINE:-vm}  # the workflow names its runner github-actions
./dev asv machine --yes --machine "$machine" --config "$config" >/dev/null
log=$results/history.log
while read -r name orm branch rows pythons; do
    backend=sqlite
    [ "$orm" = mongoengine ] && backend=mongodb
    for python in $pythons; do
        if [ -n "${ASV_RELEASES_PYTHONS:-}" ] && [[ " $ASV_RELEASES_PYTHONS " != *" $python "* ]]; then
            continue
        fi
        echo "$(date -u +%FT%TZ) start $name python $python rows $rows" \
            "loadavg $(cut -d' ' -f1-3 /proc/loadavg)" >> "$log"
        status=0
        ORMGC_ASV_ROWS=$rows ./dev asv run --config "$config" --quick \
            --machine "$machine" --show-stderr --skip-existing-successful -E "virtualenv:$python" \
            -b "bench_$orm\.(GcCollections|GcCost|ExactCost|LoadTime)\.\w+\('$backend', 'seed_loop'" \
            "$branch" || status=$?
        echo "$(date -u +%FT%TZ) end   $name python $python exit $status" \
            "loadavg $(cut -d' ' -f1-3 /proc/loadavg)" >> "$log"
    done
done <<< "$spec_lines"
