#!/bin/sh
# Exact figures at the seed's size (100,000 rows, 20,000 loaded) for SQLAlchemy, one file per
# Python and policy: results/exact/sqlalchemy-<X.Y>-<policy>.json and .txt (the names the
# report and README's answer read), skipping those already written. On Debian's stripped
# 3.14/3.15 the collector is counted between gc.callbacks (--exact-gc auto). About 5 min of
# valgrind per run on this 2-core machine: run it in the background.
# Usage: scripts/exact_seed_size.sh [VERSION ...] (default: 3.14 3.15), POLICIES="default ..."
set -eu
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- 3.14 3.15
for version in "$@"; do
    for policy in ${POLICIES:-default threshold:50000}; do
        name="results/exact/sqlalchemy-$version-$(echo "$policy" | tr : _)"
        [ -e "$name.json" ] && continue
        .venv/bin/ormgc run --exact --python "$version" --orm sqlalchemy --policy "$policy" \
            --json "$name.json" >"$name.txt.tmp"
        mv "$name.txt.tmp" "$name.txt"
    done
done
