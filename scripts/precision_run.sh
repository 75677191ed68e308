#!/bin/sh
# The committed --precision run (docs/how-to/precision-and-advice.md): the seed's SQLAlchemy
# query, threshold:50000 against default, interleaved rounds added until the CPU ratio's 95%
# interval is within +-2.5% of the ratio or 200 rounds are reached (the committed run needed
# 188 on an idle 2-core machine, 13 minutes); then the table with the half-width reached and
# the machine's load (scripts/paired_table.py).
# Usage: scripts/precision_run.sh [extra ormgc run options, e.g. --max-rounds 300]
set -eu
cd "$(dirname "$0")/.."
out=results/paired/precision-2.5
.venv/bin/ormgc run --orm sqlalchemy --policy default --policy threshold:50000 \
    --precision 2.5 --max-rounds 200 "$@" --json "$out.json"
.venv/bin/python scripts/paired_table.py "$out.json" --output "$out.txt"
