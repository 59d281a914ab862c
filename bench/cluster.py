#!/usr/bin/env python3
"""
N engram nodes, then N Serf agents, on loopback, one after the other:
convergence (start until every node lists all N alive), detection (kill -9
of one node until every other marks it failed or dead; the median of
five kills), memory per node
(PSS, engram summed over its processes) and idle CPU per node.

    bench/cluster.sh N          (the shell wrapper installs what is needed)
"""

import concurrent.futures, json, os, shutil, signal, socket, subprocess, sys
import tempfile
import time, urllib.request

from procs import children, cpu_ns, pss_kb

N = int(sys.argv[1]) if len(sys.argv) > 1 else 32
TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
ENGRAM = os.environ.get('ENGRAM_BIN', os.path.join(TOP, 'objs', 'engram'))
IDLE_SECONDS = 10
TRIALS = 5
DEADLINE = 120


def listening(port):
    try:
        socket.create_connection(('127.0.0.1', port), timeout=1).close()
        return True
    except OSError:
        return False


def wait_until(cond, limit=DEADLINE, step=0.05):
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if cond():
            return time.monotonic() - start
        time.sleep(step)
    return None


class Engram:
    name = 'engram'

    def __init__(self, tmp):
        self.tmp = tmp
        self.masters = []

    def start(self):
        for i in range(N):
            prefix = os.path.join(self.tmp, 'e%d' % i)
            os.makedirs(os.path.join(prefix, 'logs'))
            os.chmod(os.path.join(prefix, 'logs'), 0o777)
            with open(os.path.join(prefix, 'engram.conf'), 'w') as f:
                f.write("""
worker_processes 1;
error_log logs/error.log warn;
events { worker_connections 64; }
cluster {
    node_id e%d;
    listen 127.0.0.1:%d;
    seeds 127.0.0.1:%d;
    probe_interval 1s; probe_timeout 500ms; gossip_interval 200ms;
    suspicion_mult 4;
}
http {
    access_log off;
    server {
        listen 127.0.0.1:%d;
        location = /cluster/members { cluster_members; }
    }
}
""" % (i, 17000 + i, 17000, 18000 + i))
        # as the Serf agents are: the seed first, until it listens, then
        # all the others at once
        self.t0 = time.monotonic()
        starts = []
        for i in range(N):
            prefix = os.path.join(self.tmp, 'e%d' % i)
            starts.append(subprocess.Popen([ENGRAM, '-p', prefix + '/', '-c',
                                            os.path.join(prefix,
                                                         'engram.conf')]))
            if i == 0:
                wait_until(lambda: listening(17000), limit=10, step=0.01)
        for p in starts:
            if p.wait() != 0:
                raise SystemExit('engram failed to start')
        for i in range(N):
            pidfile = os.path.join(self.tmp, 'e%d' % i, 'logs', 'engram.pid')
            wait_until(lambda: os.path.exists(pidfile), 10)
            self.masters.append(int(open(pidfile).read()))

    def states(self, i):
        try:
            with urllib.request.urlopen('http://127.0.0.1:%d/cluster/members'
                                        % (18000 + i), timeout=2) as r:
                d = json.load(r)
            return {m['id']: m['state'] for m in d['members']}
        except Exception:
            return {}

    def node_name(self, i):
        return 'e%d' % i

    def pids(self, i):
        return [self.masters[i]] + children(self.masters[i])

    def kill(self, i):
        for p in self.pids(i):
            os.kill(p, signal.SIGKILL)

    def stop(self):
        for i, m in enumerate(self.masters):
            try:
                os.kill(m, signal.SIGTERM)
            except OSError:
                pass


class Serf:
    name = 'serf'

    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []

    def start(self):
        self.t0 = time.monotonic()
        for i in range(N):
            args = ['serf', 'agent', '-node=s%d' % i,
                    '-bind=127.0.0.1:%d' % (19000 + i),
                    '-rpc-addr=127.0.0.1:%d' % (20000 + i),
                    '-log-level=err']
            if i:
                # an agent whose -join fails exits, so the first one must
                # be listening before the others start
                args.append('-join=127.0.0.1:19000')
            self.procs.append(subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL))
            if i == 0:
                wait_until(lambda: listening(19000), limit=10, step=0.01)

    def states(self, i):
        try:
            out = subprocess.run(['serf', 'members', '-format=json',
                                  '-rpc-addr=127.0.0.1:%d' % (20000 + i)],
                                 capture_output=True, timeout=30).stdout
            d = json.loads(out)
            return {m['name']: m['status'] for m in d['members']}
        except Exception:
            return {}

    def node_name(self, i):
        return 's%d' % i

    def pids(self, i):
        return [self.procs[i].pid]

    def kill(self, i):
        self.procs[i].kill()

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(5)
            except Exception:
                p.kill()


# every node's view at once: polling one after another would make the
# implementation with the slower query (Serf's RPC client) look slower
POOL = concurrent.futures.ThreadPoolExecutor(max_workers=16)


def views(impl, nodes):
    return list(POOL.map(impl.states, nodes))


def measure(impl):
    impl.start()

    # a node, once seen converged, is not asked again: fewer queries
    # in flight keep the measurement from slowing what it measures
    pending = set(range(N))

    def converged():
        ask = sorted(pending)
        for i, v in zip(ask, views(impl, ask)):
            if sum(1 for st in v.values() if st == 'alive') == N:
                pending.discard(i)
        return not pending

    t = wait_until(converged, step=0.1)
    convergence = None if t is None else time.monotonic() - impl.t0

    time.sleep(2)

    # idle CPU and memory per node, over IDLE_SECONDS
    before = {i: sum(cpu_ns(p) for p in impl.pids(i)) for i in range(N)}
    time.sleep(IDLE_SECONDS)
    after = {i: sum(cpu_ns(p) for p in impl.pids(i)) for i in range(N)}
    cpu = sum(after[i] - before[i] for i in range(N)) / N / 1e9 / IDLE_SECONDS
    mem = sum(sum(pss_kb(p) for p in impl.pids(i)) for i in range(N)) / N

    # detection: a kill -9 at a time, TRIALS of them, the median; the
    # survivors of earlier kills are the observers of later ones
    trials = []
    for k in range(TRIALS):
        victim = N - 1 - k
        name = impl.node_name(victim)
        t0 = time.monotonic()
        impl.kill(victim)

        pending = set(range(victim))

        def detected():
            ask = sorted(pending)
            for i, v in zip(ask, views(impl, ask)):
                if v.get(name) in ('failed', 'dead'):
                    pending.discard(i)
            return not pending

        t = wait_until(detected, step=0.1)
        trials.append(None if t is None else time.monotonic() - t0)
        time.sleep(1)

    done = sorted(t for t in trials if t is not None)
    detection = done[len(done) // 2] if len(done) == len(trials) else None

    impl.stop()
    time.sleep(1)

    return {'convergence_s': convergence, 'detection_s': detection,
            'detection_trials_s': trials, 'pss_kb': mem, 'idle_cpu': cpu}


def fmt(v, f):
    return 'n/a' if v is None else f % v


def main():
    tmp = tempfile.mkdtemp(prefix='engram-bench-')
    os.chmod(tmp, 0o755)
    try:
        e = measure(Engram(tmp))
        s = measure(Serf(tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print('cluster of %d on loopback (probe 1s/500ms, gossip 200ms, '
          'suspicion mult 4), %d CPUs' % (N, os.cpu_count()))
    print('%-28s %12s %12s %10s' % ('', 'engram', 'serf', 'ratio'))

    def row(label, key, f, target):
        ev, sv = e[key], s[key]
        ratio = (ev / sv) if ev is not None and sv not in (None, 0) else None
        print('%-28s %12s %12s %10s  %s' % (label, fmt(ev, f), fmt(sv, f),
                                            fmt(ratio, '%.2fx'), target))

    row('convergence (s)', 'convergence_s', '%.2f', '(target <= 1.0x)')
    row('detection (s)', 'detection_s', '%.2f', '(target <= 1.0x)')
    row('memory per node (PSS KiB)', 'pss_kb', '%.0f', '(target <= 0.2x)')
    row('idle CPU per node (cores)', 'idle_cpu', '%.5f', '(target <= 1.0x)')
    print(json.dumps({'engram': e, 'serf': s}))


main()
