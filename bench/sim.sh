#!/bin/sh
# The simulator as a benchmark: how fast one join reaches every node, set
# against the convergence model Serf publishes for the same settings, and
# how fast the simulator itself runs.
#
#     bench/sim.sh [N ...]        (100 1000 10000)
#
# Each run: a formed cluster of N-1 nodes at 1% loss on every link, gossip
# to 3 nodes every 200 ms (Serf's LAN profile), and one node joining at
# t = 5 s; "full" is when the last node learned of it.  Serf's figures are
# its model's time to 99.99% (serf.io convergence simulator): 2.0, 2.2 and
# 2.6 s for 100, 1,000 and 10,000 nodes.  The speed row runs 1,000 nodes
# over 300 simulated seconds.  Targets: 10,000 nodes within 3 s; the speed
# run under 30 s of wall time.

set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

auto/deps --bench

B=${B:-objs}

if [ ! -x "$B/engram-sim" ]; then
    [ -f "$B/Makefile" ] || ./configure > /dev/null
    make -s -f "$B/Makefile" sim
fi

SIM="$top/$B/engram-sim"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

sizes=${*:-100 1000 10000}

for n in $sizes; do
    /usr/bin/time -f '%M' -o "$out/rss.$n" \
        "$SIM" "nodes $n" "seed 1" "loss 0.01" \
               "set gossip_interval 200" "set gossip_nodes 3" \
               "at 5s join $((n - 1))" "run 20s" > "$out/join.$n"
done

/usr/bin/time -f '%M' -o "$out/rss.speed" \
    "$SIM" "nodes 1000" "seed 1" "loss 0.01" "run 300s" > "$out/speed"

python3 - "$out" $sizes <<'EOF'
import json, sys

out, sizes = sys.argv[1], [int(n) for n in sys.argv[2:]]
serf = {100: 2.0, 1000: 2.2, 10000: 2.6}

print("one join to every node, gossip 3 nodes / 200 ms, 1% loss")
print("%8s %10s %8s %10s %8s %10s %10s" % ("nodes", "engram s", "rounds",
      "serf s", "ratio", "wall s", "rss MiB"))

for n in sizes:
    r = json.load(open("%s/join.%d" % (out, n)))
    d = r["dissemination"][0]
    rss = int(open("%s/rss.%d" % (out, n)).read().split()[-1]) / 1024
    full = d["full_s"]
    s = serf.get(n)
    print("%8d %10s %8s %10s %8s %10.2f %10.0f" % (
        n,
        "%.2f" % full if full is not None else "never",
        d["rounds"] if d["rounds"] is not None else "-",
        "%.1f" % s if s else "-",
        "%.2fx" % (full / s) if full is not None and s else "-",
        r["wall_seconds"], rss))

r = json.load(open("%s/speed" % out))
rss = int(open("%s/rss.speed" % out).read().split()[-1]) / 1024
print()
print("simulator speed: %d nodes, %.0f simulated s, %.2f s wall "
      "(target < 30), %.0f MiB, %d events, %.1f msgs/node/s" % (
      r["nodes"], r["simulated_seconds"], r["wall_seconds"], rss,
      r["events"], r["messages_per_node_per_s"]))
EOF
