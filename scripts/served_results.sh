#!/bin/sh
# The committed results of docs/findings/served.md (results/served/): a real gunicorn (2 sync
# workers, preload) serving each ORM's app, wrk at a fixed 50 requests/s (latency from each
# request's due time), 10 measured seconds after 2 of warm-up; default, threshold:50000,
# freeze+threshold:50000 and adaptive interleaved in 3 rounds, a fresh server per run.
# Usage: [ORMS="sqlalchemy django"] [ROUNDS=3] scripts/served_results.sh [VERSION...]
#        (default versions: 3.12 3.14 3.9 3.15 3.11 3.13 3.10, in that order: stop when time is up)
set -eu
cd "$(dirname "$0")/.."
out=results/served
mkdir -p "$out"
policies="--policy default --policy threshold:50000 --policy freeze+threshold:50000 --policy adaptive"
versions=${*:-3.12 3.14 3.9 3.15 3.11 3.13 3.10}
for version in $versions; do
    for orm in ${ORMS:-sqlalchemy django}; do
        name="$out/$orm-$version"
        .venv/bin/ormgc run --shape served --python "$version" --orm "$orm" $policies \
            --workers 2 --rate 50 --duration 10 --warmup 2 --repeat "${ROUNDS:-3}" \
            --json "$name.json" >"$name.txt"
    done
done
