#!/bin/sh
# Two `ormgc advise` runs on the same workload and machine, one after the other: the seed's
# SQLAlchemy query and a user-style workload that makes no garbage (100,000 customer rows
# loaded into one list, examples/sqlalchemy_customers.py); each advice and its table are kept
# in results/advice/ (docs/how-to/precision-and-advice.md). Do both recommend the same setting?
# Usage: scripts/advise_twice.sh [extra ormgc advise options] (default: --quick --freeze on)
set -eu
cd "$(dirname "$0")/.."
out=results/advice
mkdir -p "$out"
options=${*:---quick --freeze on}
for run in 1 2; do
    # shellcheck disable=SC2086  # the options are words
    .venv/bin/ormgc advise --orm sqlalchemy $options --json "$out/seed-$run.json" \
        >"$out/seed-$run.txt"
    .venv/bin/ormgc advise --workload examples/sqlalchemy_customers.py:all_customers \
        $options --json "$out/customers-$run.json" >"$out/customers-$run.txt"
done
for name in seed customers; do
    for run in 1 2; do
        printf '%s run %s: ' "$name" "$run"
        grep '^Recommended: ' "$out/$name-$run.txt"
    done
done
