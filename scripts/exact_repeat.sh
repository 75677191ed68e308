#!/bin/sh
# Do MongoEngine's exact counts repeat? Three fresh runs per policy (ormgc run --repeat 3) at
# 10,000 rows (2,000 loaded) on Python 3.14, where scripts/exact_figures.sh's run counted
# fewer instructions at threshold:50000 than with the GC disabled (235.3M and 236.9M: a
# difference that is not the collector's). Each record keeps every run's count
# (instructions_runs, instructions_identical). Writes
# results/exact/mongoengine-repeat-3.14-r10000.json and .txt (skipped if there).
# Usage: scripts/exact_repeat.sh (CPU heavy, about 10 min: run it in the background).
set -eu
cd "$(dirname "$0")/.."
name=results/exact/mongoengine-repeat-3.14-r10000
[ -e "$name.json" ] && exit 0
.venv/bin/ormgc run --exact --python 3.14 --orm mongoengine --rows 10000 --repeat 3 --wide \
    --policy default --policy threshold:50000 --policy disabled --json "$name.json" >"$name.txt.tmp"
mv "$name.txt.tmp" "$name.txt"
