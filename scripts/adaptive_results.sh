#!/bin/sh
# The committed results of README "An adaptive GC policy": counts and memory on Python 3.9-3.13
# (one fresh process per policy: counts are deterministic), then paired timing on 3.11
# (10 interleaved rounds), the rules on synthetic workloads, the callback's overhead.
# Usage: scripts/adaptive_results.sh [counts|paired|rules|overhead] (default: all)
set -eu
cd "$(dirname "$0")/.."
out=results/adaptive
mkdir -p "$out"
policies="--policy default --policy adaptive --policy threshold:50000 --policy disabled"
what=${1:-all}
run() {  # run NAME ARGS...: the table to NAME.txt, the records to NAME.json
    name=$1
    shift
    .venv/bin/ormgc run "$@" $policies --json "$out/$name.json" >"$out/$name.txt"
}
if [ "$what" = all ] || [ "$what" = counts ]; then
    for version in 3.9 3.10 3.11 3.12 3.13; do
        for orm in sqlalchemy mongoengine; do
            run "$version-$orm-seed" --python "$version" --orm "$orm"
            run "$version-$orm-requests" --python "$version" --orm "$orm" --shape request_loop
        done
    done
fi
if [ "$what" = all ] || [ "$what" = paired ]; then
    for orm in sqlalchemy mongoengine; do
        run "3.11-$orm-seed-paired" --python 3.11 --orm "$orm" --repeat 10
        run "3.11-$orm-requests-paired" --python 3.11 --orm "$orm" --shape request_loop --repeat 10
    done
fi
if [ "$what" = all ] || [ "$what" = rules ]; then
    for version in 3.13 3.11; do
        python=$(.venv/bin/python -c "from ormgc.runs.pythons import find_python; print(find_python('$version'))")
        .venv/bin/python scripts/bench_adaptive_rules.py --python "$python" \
            --json "$out/rules-$version.json" >"$out/rules-$version.txt"
    done
    # the upper bound: how many collections a higher one saves, how much garbage it holds
    .venv/bin/python scripts/bench_adaptive_rules.py --python "$python" --policy threshold:50000 \
        --policy adaptive:700..50000 --policy adaptive:700..100000 --policy adaptive:700..1000000 \
        --json "$out/upper-$version.json" >"$out/upper-$version.txt"
fi
if [ "$what" = all ] || [ "$what" = overhead ]; then
    for version in 3.9 3.11 3.13; do
        python=$(.venv/bin/python -c "from ormgc.runs.pythons import find_python; print(find_python('$version'))")
        "$python" scripts/bench_adaptive_overhead.py >"$out/overhead-$version.txt"
    done
fi
