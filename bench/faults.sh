#!/bin/sh
# The fault scenarios at their full length, too long for every CI run:
# 10 % loss on every link of 8 nodes for five minutes, and a reload every
# second for a minute (plus two binary upgrades) under wrk load.  CI runs
# the same tests shortened (60 s of loss, 20 s of reloads).
#
#     bench/faults.sh            (as root: the loss test uses namespaces)
#
# Prints prove's report with each test's time; exits non-zero if one
# fails.

set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

auto/deps --test

B=${B:-objs}

if [ ! -x "$B/engram" ]; then
    [ -f "$B/Makefile" ] || ./configure --with-bpf > /dev/null
    make -s -f "$B/Makefile" build
fi

TEST_ENGRAM_LONG=1 TEST_ENGRAM_BINARY="$B/engram" \
    exec prove --timer t/fault_loss.t t/fault_load.t
