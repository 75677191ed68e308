#!/bin/sh
# Exact figures where the seed-size ones (results/exact/gc-share.md) are missing: Python 3.14/3.15
# (Debian's stripped builds: the collector counted between gc.callbacks) for SQLAlchemy,
# MongoEngine and Django, and Django on every Python 3.9-3.15. Under callgrind a seed-size run
# takes ~10 min on this shared machine, so these run at ROWS rows with a fifth loaded
# (default 10000: ~1-2 min per run). Writes results/exact/<orm>-<X.Y>-r<ROWS>.json and .txt,
# then the table results/exact/gc-share-r<ROWS>.md. Usage: scripts/exact_figures.sh [ROWS]
# [new|django] (default: both; run it in the background: it is CPU heavy).
set -eu
cd "$(dirname "$0")/.."
rows=${1:-10000}
what=${2:-all}
out=results/exact
policies="--policy default --policy threshold:50000 --policy disabled"
run() {  # run ORM VERSION: the table to .txt, the records to .json
    name="$out/$1-$2-r$rows"
    .venv/bin/ormgc run --exact --python "$2" --orm "$1" --rows "$rows" $policies \
        --json "$name.json" >"$name.txt"
}
if [ "$what" = all ] || [ "$what" = new ]; then
    for version in 3.14 3.15; do
        for orm in sqlalchemy django mongoengine; do
            run "$orm" "$version"
        done
    done
fi
if [ "$what" = all ] || [ "$what" = django ]; then
    for version in 3.9 3.10 3.11 3.12 3.13; do
        run django "$version"
    done
fi
.venv/bin/python scripts/exact_share_table.py --rows "$rows"
