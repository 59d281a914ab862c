#!/usr/bin/env python3
"""
8 engram nodes on loopback in one cluster (the default SWIM timings:
probe 1s/500ms, suspicion mult 4), one of them (f0) flooded with junk
UDP datagrams on its gossip port at rising rates, each held for a step
of SECONDS: first with the gossip guard off, then, after a reload, with
it on (the socket filter, "gossip_guard on;").

For each step it reports the rate the generator reached, the flooded
node's cluster process CPU (utime + stime of /proc/PID/stat over the
step), where the junk was dropped (user space or the guard), and the
false positives: suspicions counted by any node
(engram_swim_suspicions_total) and any member that any node listed as
suspect or dead (/cluster/members, read every second). Every node stays
alive throughout, so any of those is false. Then the rate at which false
positives start, guard off and on. A rate the generators cannot reach
ends the steps of its run.

    bench/flood.sh [SECONDS] [RATE ...]   (the shell wrapper builds)

Environment: FLOOD_SENDERS generator processes (2), FLOOD_SIZE bytes a
datagram (64), FLOOD_PIN=0 to leave every process on every CPU (by
default f0 and the generators share CPU 0, the other nodes the rest).
"""

import concurrent.futures, json, os, re, shutil, signal, socket, subprocess
import sys, tempfile, time, urllib.request

from procs import children, stat_fields, title, wait_until

ENGRAM = os.environ['ENGRAM_BIN']
FLOOD = os.environ['FLOOD_BIN']
STEP = float(sys.argv[1]) if len(sys.argv) > 1 else 20
RATES = [int(r) for r in sys.argv[2:]] or [10000, 20000, 50000, 100000,
                                           200000, 400000, 800000, 1600000]
N = 8
IPS = ['127.0.0.%d' % (171 + i) for i in range(N)]
# the generators: as many processes, each from an address of its own
SENDERS = int(os.environ.get('FLOOD_SENDERS', '2'))
SIZE = int(os.environ.get('FLOOD_SIZE', '64'))
JUNK_FROM = ['127.0.0.%d' % (181 + k) for k in range(SENDERS)]

# The flooded node and the generators on one CPU, the other nodes on the
# others: on loopback the kernel's work for each datagram is done on the
# sender's CPU, so this is how the flooded node comes to pay for the
# traffic it receives, as a host does for what its network card brings.
PIN = os.environ.get('FLOOD_PIN', '1') != '0' and os.cpu_count() > 1
RECOVER = 90                # seconds for a cluster to be whole again
TICK = os.sysconf('SC_CLK_TCK')
POOL = concurrent.futures.ThreadPoolExecutor(max_workers=N)


def free_port():
    """A port free for TCP and UDP on every address, picked by the kernel."""
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(('0.0.0.0', 0))
        port = s.getsockname()[1]
        s.close()
        try:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind(('0.0.0.0', port))
            u.close()
            return port
        except OSError:
            pass


def get(port, path):
    try:
        with urllib.request.urlopen('http://127.0.0.1:%d%s' % (port, path),
                                    timeout=2) as r:
            return r.read().decode()
    except Exception:
        return None


def metrics(port):
    text = get(port, '/metrics') or ''
    out = {}
    for line in text.splitlines():
        m = re.match(r'^(\w+(?:\{[^}]*\})?) (\S+)$', line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def states(port):
    text = get(port, '/cluster/members')
    if text is None:
        return None
    return {m['id']: m['state'] for m in json.loads(text)['members']}


def cpu_ticks(pid):
    """utime + stime of a process, in clock ticks."""
    fields = stat_fields(pid)
    return int(fields[11]) + int(fields[12]) if fields else None


class Cluster:

    def __init__(self, tmp):
        self.tmp = tmp
        self.gossip = [free_port() for _ in range(N)]
        self.http = [free_port() for _ in range(N)]
        self.masters = []

    def prefix(self, i):
        return os.path.join(self.tmp, 'f%d' % i)

    def write(self, i, guard):
        seeds = ' '.join('%s:%d' % (IPS[j], self.gossip[j]) for j in range(3))
        with open(os.path.join(self.prefix(i), 'engram.conf'), 'w') as f:
            f.write("""
worker_processes 1;
error_log logs/error.log notice;
events { worker_connections 64; }
cluster {
    node_id f%d;
    listen %s:%d;
    seeds %s;
    gossip_guard %s;
}
http {
    access_log off;
    server {
        listen 127.0.0.1:%d;
        location = /cluster/members { cluster_members; }
        location = /metrics { metrics; }
    }
}
""" % (i, IPS[i], self.gossip[i], seeds, 'on' if guard else 'off',
       self.http[i]))

    def start(self):
        for i in range(N):
            os.makedirs(os.path.join(self.prefix(i), 'logs'))
            os.chmod(os.path.join(self.prefix(i), 'logs'), 0o777)
            self.write(i, False)
            subprocess.run([ENGRAM, '-p', self.prefix(i) + '/', '-c',
                            os.path.join(self.prefix(i), 'engram.conf')],
                           check=True)
        for i in range(N):
            pidfile = os.path.join(self.prefix(i), 'logs', 'engram.pid')
            wait_until(lambda: os.path.exists(pidfile), 10)
            self.masters.append(int(open(pidfile).read()))
        if PIN:
            cpus = set(range(1, os.cpu_count()))
            for i in range(N):
                # children started later inherit the master's
                for p in [self.masters[i]] + children(self.masters[i]):
                    os.sched_setaffinity(p, {0} if i == 0 else cpus)

    def cluster_pid(self, i):
        for p in children(self.masters[i]):
            if title(p).startswith('engram: cluster process'):
                return p
        return None

    def views(self):
        return list(POOL.map(states, self.http))

    def whole(self):
        return all(v is not None and len(v) == N
                   and all(s == 'alive' for s in v.values())
                   for v in self.views())

    def suspicions(self):
        ms = POOL.map(metrics, self.http)
        return sum(m.get('engram_swim_suspicions_total', 0) for m in ms)

    def guard(self, on):
        """Reloads f0 with the guard on or off; True once it is so."""
        old = self.cluster_pid(0)
        self.write(0, on)
        os.kill(self.masters[0], signal.SIGHUP)
        if not wait_until(lambda: self.cluster_pid(0) not in (None, old),
                          20):
            return False
        want = 1 if on else 0
        return wait_until(lambda: metrics(self.http[0]).get(
            'engram_gossip_guard_attached{hook="socket"}') == want, 10)

    def stop(self):
        for m in self.masters:
            try:
                os.kill(m, signal.SIGTERM)
            except OSError:
                pass


def step(c, rate, guard):
    """One flood of STEP seconds at this rate: the figures of the step."""
    recovered = wait_until(c.whole, RECOVER, 1)

    cp = c.cluster_pid(0)
    m0 = metrics(c.http[0])
    s0 = c.suspicions()
    t0 = cpu_ticks(cp)
    w0 = time.monotonic()

    gens = [subprocess.Popen([FLOOD, src, IPS[0], str(c.gossip[0]),
                              str(rate / SENDERS), str(STEP), str(SIZE)],
                             stdout=subprocess.PIPE, text=True,
                             preexec_fn=(lambda: os.sched_setaffinity(0, {0}))
                             if PIN else None)
            for src in JUNK_FROM]

    # every node's view, every second, while the flood lasts
    bad = set()
    while any(g.poll() is None for g in gens):
        for i, v in enumerate(c.views()):
            for member, state in (v or {}).items():
                if state in ('suspect', 'dead'):
                    bad.add('f%d:%s=%s' % (i, member, state))
        time.sleep(1)

    outs = [g.stdout.read() for g in gens]
    t1 = cpu_ticks(cp)
    w1 = time.monotonic()

    # the counters are published every second: let the last one in
    time.sleep(2)
    for i, v in enumerate(c.views()):
        for member, state in (v or {}).items():
            if state in ('suspect', 'dead'):
                bad.add('f%d:%s=%s' % (i, member, state))

    m1 = metrics(c.http[0])
    s1 = c.suspicions()

    sent_per_s = 0
    for out in outs:
        mo = re.match(r'sent (\d+) in ([\d.]+) s', out)
        if mo:
            sent_per_s += int(mo.group(1)) / float(mo.group(2))

    def delta(key):
        return int(m1.get(key, 0) - m0.get(key, 0))

    return {
        'guard': guard, 'rate': rate, 'sent_per_s': sent_per_s,
        'cpu': None if t0 is None or t1 is None
               else (t1 - t0) / TICK / (w1 - w0),
        'user_dropped': delta('engram_gossip_dropped_total{reason="magic"}'),
        'guard_dropped': delta(
            'engram_gossip_guard_dropped_total{reason="magic"}'),
        'suspicions': int(s1 - s0), 'non_alive': sorted(bad),
        'recovered_before': recovered,
        'false_positive': s1 - s0 > 0 or bool(bad),
    }


def run(c, guard, rows):
    for rate in RATES:
        r = step(c, rate, guard)
        rows.append(r)
        print('  guard %-3s %7d/s: sent %8.0f/s, cluster process CPU %5s, '
              'suspicions %d%s' % ('on' if guard else 'off', rate,
                                   r['sent_per_s'],
                                   '%.0f%%' % (100 * r['cpu'])
                                   if r['cpu'] is not None else 'n/a',
                                   r['suspicions'],
                                   ', seen: ' + ' '.join(r['non_alive'][:4])
                                   if r['non_alive'] else ''),
              flush=True)
        if r['sent_per_s'] < 0.9 * rate:
            print('  the generator saturates at %.0f/s: no higher rate'
                  % r['sent_per_s'], flush=True)
            break


def onset(rows, guard):
    mine = [r for r in rows if r['guard'] == guard]
    for r in mine:
        if r['false_positive']:
            return 'from %d/s (sent %.0f/s)' % (r['rate'], r['sent_per_s'])
    if not mine:
        return 'not measured'
    top = mine[-1]
    return 'none up to %d/s (sent %.0f/s)' % (top['rate'], top['sent_per_s'])


def main():
    tmp = tempfile.mkdtemp(prefix='engram-flood-')
    os.chmod(tmp, 0o755)
    c = Cluster(tmp)
    rows = []
    note = ''

    try:
        c.start()
        if not wait_until(c.whole, 60, 0.5):
            raise SystemExit('the 8 nodes did not form one cluster')

        print('8 nodes on %s-%s, f0 flooded with %d-byte junk by %d '
              'senders (%s), %g s a step, %d CPUs%s'
              % (IPS[0], IPS[-1], SIZE, SENDERS, ' '.join(JUNK_FROM), STEP,
                 os.cpu_count(),
                 ', f0 and the senders on CPU 0, the others on the rest'
                 if PIN else ''), flush=True)

        run(c, False, rows)

        if c.guard(True):
            run(c, True, rows)
        else:
            note = ('the guard could not be attached on f0 (not root, or '
                    'engram built without --with-bpf): see %s'
                    % os.path.join(c.prefix(0), 'logs', 'error.log'))
            print(note)
    finally:
        c.stop()
        time.sleep(1)
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print('%-5s %9s %9s %8s %11s %11s %10s %6s' % (
        'guard', 'rate/s', 'sent/s', 'cp CPU', 'user drops', 'guard drops',
        'suspicions', 'false+'))
    for r in rows:
        print('%-5s %9d %9.0f %8s %11d %11d %10d %6s' % (
            'on' if r['guard'] else 'off', r['rate'], r['sent_per_s'],
            'n/a' if r['cpu'] is None else '%.0f%%' % (100 * r['cpu']),
            r['user_dropped'], r['guard_dropped'], r['suspicions'],
            'yes' if r['false_positive'] else 'no'))
    print()
    print('false positives start, guard off: %s' % onset(rows, False))
    print('false positives start, guard on:  %s' % onset(rows, True))
    if note:
        print(note)
    print(json.dumps(rows))


main()
