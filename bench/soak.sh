#!/bin/sh
# A cluster of engram nodes under churn (leaves, crashes, cluster-process
# crashes, reloads, newcomers) for DURATION seconds, then checks that no
# long-lived process grew and that every node agrees on the members.
#
#     bench/soak.sh DURATION [N]       (seconds; N nodes, default 8)
#
# SOAK_SEED=S repeats a run's choices; SOAK_KEEP=1 keeps the nodes' files.
# Exits non-zero when a process grew or the nodes disagree.  See
# bench/soak.py.

set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ $# -lt 1 ]; then
    sed -n '2,9p' "$0" | sed -e 's/^# \{0,1\}//' >&2
    exit 2
fi

auto/deps

B=${B:-objs}

if [ ! -x "$B/engram" ]; then
    [ -f "$B/Makefile" ] || ./configure > /dev/null
    make -s -f "$B/Makefile" build
fi

ENGRAM_BIN="$top/$B/engram" exec python3 bench/soak.py "$@"
