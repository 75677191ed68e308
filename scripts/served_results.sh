#!/bin/sh
# The committed results of docs/findings/served.md (results/served/): `nox -s served`, whose
# settings are declared once in noxfile.py: a real gunicorn (2 sync workers, preload) serving
# each ORM's app, wrk at a fixed 50 requests/s (latency from each request's due time), 10
# measured seconds after 2 of warm-up; default, threshold:50000, freeze+threshold:50000 and
# adaptive interleaved in 3 rounds, a fresh server per run (about 3 minutes per ORM and Python).
# Usage: [ORMS="sqlalchemy django"] [ROUNDS=3] scripts/served_results.sh [VERSION...]
#        (default versions: 3.12 3.14 3.9 3.15 3.11 3.13 3.10, in that order: stop when time is up)
set -eu
cd "$(dirname "$0")/.."
mkdir -p results/served
exec ./dev nox -s served -- ${*:-3.12 3.14 3.9 3.15 3.11 3.13 3.10}
