#!/bin/sh
# engram against Serf: N nodes of each on loopback, one after the other.
#
#     bench/cluster.sh [N]       (32)
#
# Prints convergence and detection times, memory (PSS) and idle CPU per
# node, side by side, with the ratios.  See bench/cluster.py.

set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

auto/deps --bench

B=${B:-objs}

if [ ! -x "$B/engram" ]; then
    [ -f "$B/Makefile" ] || ./configure > /dev/null
    make -s -f "$B/Makefile" build
fi

ENGRAM_BIN="$top/$B/engram" exec python3 bench/cluster.py "${1:-32}"
