#!/bin/sh
# HTTP throughput of engram's /health and /metrics against nginx's
# stub_status, in one run, with the same worker count, on loopback:
#
#     bench/http.sh [DURATION] [CONNECTIONS] [WORKERS]     (10s 50 1)
#
# Each server is loaded in turn by wrk (2 threads) after a short warm-up,
# ROUNDS (3) times taking turns; the ratios are engram's median requests/s
# over nginx's.  Neither writes an access log.  Targets: /health at
# least 1.0x stub_status, /metrics at least 0.5x.

set -eu

duration=${1:-10s}
conns=${2:-50}
workers=${3:-1}

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

auto/deps --bench

B=${B:-objs}

if [ ! -x "$B/engram" ]; then
    [ -f "$B/Makefile" ] || ./configure > /dev/null
    make -s -f "$B/Makefile" build
fi

tmp=$(mktemp -d)
chmod 755 "$tmp"
mkdir -p "$tmp/engram/logs" "$tmp/nginx/logs"

cleanup() {
    [ -f "$tmp/engram/logs/engram.pid" ] \
        && kill -QUIT "$(cat "$tmp/engram/logs/engram.pid")" 2>/dev/null
    [ -f "$tmp/nginx/logs/nginx.pid" ] \
        && kill -QUIT "$(cat "$tmp/nginx/logs/nginx.pid")" 2>/dev/null
    sleep 0.5
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

eport=$(port)
nport=$(port)

cat > "$tmp/engram/engram.conf" << END
worker_processes $workers;
error_log logs/error.log warn;
pid logs/engram.pid;
events { worker_connections 1024; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$eport;
        location = /health { health; }
        location = /metrics { metrics; }
    }
}
END

cat > "$tmp/nginx/nginx.conf" << END
worker_processes $workers;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$nport;
        location = /stub { stub_status; }
    }
}
END

"$B/engram" -p "$tmp/engram/" -c "$tmp/engram/engram.conf"
nginx -p "$tmp/nginx/" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/logs/error.log"

for i in $(seq 50); do
    if curl -sf "http://127.0.0.1:$eport/health" > /dev/null \
       && curl -sf "http://127.0.0.1:$nport/stub" > /dev/null
    then
        break
    fi
    sleep 0.1
done

rps() {
    wrk -t2 -c"$conns" -d"$duration" "$1" \
        | awk '/^Requests\/sec:/ { print $2 }'
}

median() {
    sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# a warm-up each, then ROUNDS rounds taking turns, so that a slow spell of
# the machine falls on all three alike; the medians are compared

for url in "http://127.0.0.1:$nport/stub" "http://127.0.0.1:$eport/health" \
           "http://127.0.0.1:$eport/metrics"
do
    wrk -t2 -c"$conns" -d2s "$url" > /dev/null 2>&1
done

rounds=${ROUNDS:-3}

for r in $(seq "$rounds"); do
    rps "http://127.0.0.1:$nport/stub" >> "$tmp/nginx.rps"
    rps "http://127.0.0.1:$eport/health" >> "$tmp/health.rps"
    rps "http://127.0.0.1:$eport/metrics" >> "$tmp/metrics.rps"
done

nginx_rps=$(median < "$tmp/nginx.rps")
health_rps=$(median < "$tmp/health.rps")
metrics_rps=$(median < "$tmp/metrics.rps")

echo
echo "HTTP: wrk -t2 -c$conns -d$duration, median of $rounds rounds, $workers worker(s) each, $(nproc) CPUs"
printf '  %-28s %12s req/s\n' "nginx stub_status" "$nginx_rps"
printf '  %-28s %12s req/s  %5.2fx  (target 1.0x)\n' "engram /health" \
       "$health_rps" "$(echo "$health_rps $nginx_rps" | awk '{ print $1 / $2 }')"
printf '  %-28s %12s req/s  %5.2fx  (target 0.5x)\n' "engram /metrics" \
       "$metrics_rps" "$(echo "$metrics_rps $nginx_rps" | awk '{ print $1 / $2 }')"
