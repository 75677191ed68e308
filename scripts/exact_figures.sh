#!/bin/sh
# Exact figures where the seed-size ones (results/exact/gc-share.md) are missing: Python 3.14/3.15
# (Debian's stripped builds: the collector counted between gc.callbacks) for SQLAlchemy,
# Django and MongoEngine, and Django on every Python 3.9-3.13; then MongoEngine and SQLAlchemy
# on 3.9-3.13 too, so all three ORMs have every Python at this one size. Under callgrind a seed-size run
# takes ~10 min on this shared machine, so these run at ROWS rows with a fifth loaded
# (default 10000). Writes results/exact/<orm>-<X.Y>-r<ROWS>.json and .txt, skipping those
# already written, then the table results/exact/gc-share-r<ROWS>.md.
# Usage: scripts/exact_figures.sh [ROWS] (CPU heavy: run it in the background).
set -eu
cd "$(dirname "$0")/.."
rows=${1:-10000}
out=results/exact
policies="--policy default --policy threshold:50000 --policy disabled"
for pair in sqlalchemy:3.14 sqlalchemy:3.15 django:3.14 django:3.15 mongoengine:3.14 \
    mongoengine:3.15 django:3.9 django:3.10 django:3.11 django:3.12 django:3.13 \
    mongoengine:3.9 mongoengine:3.10 mongoengine:3.11 mongoengine:3.12 mongoengine:3.13 \
    sqlalchemy:3.9 sqlalchemy:3.10 sqlalchemy:3.11 sqlalchemy:3.12 sqlalchemy:3.13; do
    orm=${pair%:*}
    version=${pair#*:}
    name="$out/$orm-$version-r$rows"
    [ -e "$name.json" ] && continue
    .venv/bin/ormgc run --exact --python "$version" --orm "$orm" --rows "$rows" $policies \
        --json "$name.json" >"$name.txt.tmp"
    mv "$name.txt.tmp" "$name.txt"
done
.venv/bin/python scripts/exact_share_table.py --rows "$rows"
