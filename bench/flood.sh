#!/bin/sh
# A junk flood on one of 8 engram nodes: when do false suspicions start,
# with the gossip guard off and on?
#
#     bench/flood.sh [SECONDS] [RATE ...]     (20; 10000 20000 50000
#                                              100000 200000 400000
#                                              800000 1600000)
#
# Each rate of junk datagrams a second is held for SECONDS against one
# node's gossip port, on loopback, until the generators cannot keep up;
# prints, per step, the rate reached, the flooded node's cluster process
# CPU, where the junk was dropped and the false positives, then the rate
# at which they start, guard off and on.  The guard needs root and an
# engram built with --with-bpf (made in $B, objs by default, if it has
# none).  FLOOD_SENDERS, FLOOD_SIZE and FLOOD_PIN shape the flood: see
# bench/flood.py.

set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

auto/deps --bench

B=${B:-objs}

if ! "$B/engram" -V 2>&1 | grep -q '^gossip guard: bpf'; then
    ./configure --with-bpf --builddir="$B" > /dev/null
    make -s -f "$B/Makefile" build
fi

mkdir -p "$B/bench"
cc -O2 -Wall -Wextra -Werror -o "$B/bench/flood" bench/flood.c

ENGRAM_BIN="$top/$B/engram" FLOOD_BIN="$top/$B/bench/flood" \
    exec python3 bench/flood.py "$@"
