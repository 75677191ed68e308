#!/bin/sh
# The committed results of docs/findings/memory.md (results/memory/): memory over a long request
# loop for every ORM and the trash loop (one fresh process per policy), and prefork workers'
# USS/PSS/shared with gc.freeze() before fork on and off (3 rounds each, policies interleaved).
# Usage: [ORMS="sqlalchemy django"] scripts/memory_results.sh timeline|prefork [VERSION...]
#        (default versions: 3.12 3.14 3.9 3.15 3.11 3.13 3.10, in that order: stop when time is up;
#        MongoEngine apart when the shared embedded server is busy: it serves one sweep at a time)
set -eu
cd "$(dirname "$0")/.."
out=results/memory
mkdir -p "$out"
policies="--policy default --policy threshold:50000 --policy disabled"
what=$1
shift
versions=${*:-3.12 3.14 3.9 3.15 3.11 3.13 3.10}
ORMS=${ORMS:-sqlalchemy django mongoengine}
orms=$(for orm in $ORMS; do printf -- '--orm %s ' "$orm"; done)
tag=$(echo "$ORMS" | tr ' ' '+')
run() {  # run NAME ARGS...: the table to NAME.txt, the records to NAME.json
    name=$1
    shift
    .venv/bin/ormgc run "$@" $policies --json "$out/$name.json" >"$out/$name.txt"
}
for version in $versions; do
    if [ "$what" = timeline ]; then
        # 1000 requests of 100 objects, a sample every 50: 21 points per run
        run "timeline-$version-$tag" --python "$version" $orms --shape request_loop --rows 20000 \
            --requests 1000 --per-request 100 --timeline-every 50
        # 1000 iterations of 100 cycles holding 1 KiB: 100 MB of garbage made in all
        [ "$tag" = mongoengine ] || run "trash-$version" --python "$version" --shape trash_loop --rows 2000 \
            --requests 1000 --per-request 100 --timeline-every 50
    elif [ "$what" = prefork ]; then
        # the parent keeps all 20,000 rows loaded; 2 workers serve 300 requests of 100 each
        for freeze in freeze no-freeze; do
            flag=$([ "$freeze" = freeze ] && echo "" || echo --no-freeze)
            run "prefork-$version-$freeze-$tag" --python "$version" $orms --shape prefork \
                --rows 20000 --load 20000 --requests 300 --per-request 100 --timeline-every 25 \
                --workers 2 --repeat 3 $flag
        done
    else
        echo "usage: scripts/memory_results.sh timeline|prefork [VERSION...]" >&2
        exit 2
    fi
done
