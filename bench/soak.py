#!/usr/bin/env python3
"""
A cluster under churn for a while, then two questions: did any process
that lived through it grow, and does every node agree on the members?

    bench/soak.sh DURATION [N]      (DURATION in seconds; N nodes, 8)

Nodes 0-2 are anchors: they are only reloaded (HUP, with a tag that
changes now and then), so their master and cluster process live from the
first minute to the last and their memory can be compared.  The others
are churned, one action every few seconds, chosen at random (the seed is
printed, SOAK_SEED=... repeats a run): a graceful leave (QUIT) and a
restart, a crash of the whole node (kill -9) and a restart, a crash of
the cluster process alone (the master starts another), a reload, and a
newcomer that joins and later leaves.

Memory is read after a warm-up and again at the end, once the cluster is
quiet: each anchor's master, which lives through it all, may not grow its
anonymous memory (RssAnon, what a leak grows), nor each anchor node its
proportional share of all it maps (Pss summed over its processes, the
shared zones included: workers and the cluster process are new after
every reload), by more than GROWTH_LIMIT_KB.  At the end every stopped node is
started again, the newcomers leave, and within a bound every node must
list every running node alive, with the same tags, and no other alive.
"""

import json, os, random, shutil, signal, subprocess, sys, tempfile, time

from procs import children, get_json, stat_fields, title, wait_until

DURATION = int(sys.argv[1]) if len(sys.argv) > 1 else 300
N = int(sys.argv[2]) if len(sys.argv) > 2 else 8
TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
ENGRAM = os.environ.get('ENGRAM_BIN', os.path.join(TOP, 'objs', 'engram'))
SEED = int(os.environ.get('SOAK_SEED', int(time.time())))
VERBOSE = os.environ.get('SOAK_VERBOSE')
ANCHORS = 3
EXTRA = 2                       # newcomers that come and go
GOSSIP, HTTP = 23000, 24000
WARMUP = min(60, max(10, DURATION // 10))
AGREE_WITHIN = 90
GROWTH_LIMIT_KB = 512           # a process may grow this much, no more


def smaps(pid):
    out = {}
    try:
        with open('/proc/%d/smaps_rollup' % pid) as f:
            for line in f:
                k, _, v = line.partition(':')
                if k in ('Pss', 'Rss', 'Private_Dirty'):
                    out[k] = int(v.split()[0])
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('RssAnon:'):
                    out['RssAnon'] = int(line.split()[1])
    except OSError:
        return None
    return out


class Node:
    def __init__(self, tmp, i):
        self.i = i
        self.id = 'soak%d' % i
        self.prefix = os.path.join(tmp, self.id) + '/'
        self.tag = 0
        self.running = False
        os.makedirs(self.prefix + 'logs')
        # the cluster process, which writes the snapshot, is not root
        os.chmod(self.prefix, 0o777)

    def write_conf(self):
        with open(self.prefix + 'engram.conf', 'w') as f:
            f.write("""
worker_processes 1;
error_log logs/error.log notice;
events { worker_connections 64; }
cluster {
    node_id %s;
    listen 127.0.0.1:%d;
    seeds 127.0.0.1:%d 127.0.0.1:%d;
    tags role=%s gen=%d;
    snapshot_path %ssnapshot.json;
}
http {
    access_log off;
    server {
        listen 127.0.0.1:%d;
        location = /cluster/members { cluster_members; }
        location = /metrics { metrics; }
    }
}
""" % (self.id, GOSSIP + self.i, GOSSIP, GOSSIP + 1,
       'anchor' if self.i < ANCHORS else 'churn', self.tag, self.prefix,
       HTTP + self.i))

    def start(self):
        self.write_conf()
        r = subprocess.run([ENGRAM, '-p', self.prefix,
                            '-c', self.prefix + 'engram.conf'])
        if r.returncode != 0 or not wait_until(self.master, 10, 0.05):
            raise SystemExit('%s failed to start' % self.id)
        self.running = True
        # the daemon's session: every process of the node, whatever the
        # pid file says at the time it is killed
        self.sid = self.master()

    def master(self):
        try:
            with open(self.prefix + 'logs/engram.pid') as f:
                return int(f.read())
        except (OSError, ValueError):
            return None

    def pids(self):
        m = self.master()
        return [m] + children(m) if m else []

    def cluster_pid(self):
        m = self.master()
        for p in children(m) if m else []:
            if 'cluster process' in title(p):
                return p
        return None

    def send(self, sig):
        m = self.master()
        if m:
            try:
                os.kill(m, sig)
            except OSError:
                pass

    def session(self):
        sid = getattr(self, 'sid', -1)
        return [int(d) for d in os.listdir('/proc')
                if d.isdigit() and (stat_fields(d) or [0] * 4)[3] == str(sid)]

    def stop(self, sig=signal.SIGQUIT):
        self.send(sig)
        if not wait_until(lambda: not self.session(), 30):
            print('soak: %s did not stop in 30 s: killed' % self.id)
            self.kill9()
        self.running = False

    def kill9(self):
        for p in self.session():
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        wait_until(lambda: not self.session(), 10, 0.05)
        try:
            os.unlink(self.prefix + 'logs/engram.pid')
        except OSError:
            pass
        self.running = False

    def members(self):
        d = get_json(HTTP + self.i, '/cluster/members')
        if not d:
            return None
        return {m['id']: (m['state'], json.dumps(m.get('tags'),
                                                 sort_keys=True))
                for m in d['members']}


def anchor_memory(nodes):
    """Of each anchor: its master (one process from start to end) and the
    whole node, summed over its processes.  Workers and the cluster
    process are new after every reload, so a leak in them cannot pile up
    in one process; what could is the master, or the shared zones that
    every process of the node maps: name -> (pid or None, figures)."""
    out = {}
    for n in nodes[:ANCHORS]:
        m = n.master()
        if not m:
            continue
        out['%s master' % n.id] = (m, smaps(m))
        total = {}
        for p in n.pids():
            for k, v in (smaps(p) or {}).items():
                total[k] = total.get(k, 0) + v
        out['%s node' % n.id] = (None, total)
    return out


def agreement(nodes):
    """None when the running nodes agree: each lists every running node
    alive, with the same tags, and no other node alive or suspect (one
    that is gone may be listed left or dead, or forgotten already: a node
    that joined after it left never knew it, and each forgets it
    reap_timeout after it learned); else what differs"""
    running = [n for n in nodes if n.running]
    ids = {n.id for n in running}
    views = {n.id: n.members() for n in running}
    if any(v is None for v in views.values()):
        return 'a node does not answer'
    first = views[running[0].id]
    for nid, v in views.items():
        for k in ids:
            if v.get(k, ('missing',))[0] != 'alive':
                return '%s lists %s %s' % (nid, k, v.get(k, ('missing',))[0])
            if v[k] != first[k]:
                return '%s and %s differ on %s: %s / %s' % (
                    running[0].id, nid, k, first[k], v[k])
        for k, (state, _) in v.items():
            if k not in ids and state in ('alive', 'suspect'):
                return '%s lists %s %s, which does not run' % (nid, k, state)
    return None


def main():
    rng = random.Random(SEED)
    tmp = tempfile.mkdtemp(prefix='engram-soak-')
    os.chmod(tmp, 0o755)

    nodes = [Node(tmp, i) for i in range(N + EXTRA)]
    actions = {}

    try:
        for n in nodes[:N]:
            n.start()

        if not wait_until(lambda: agreement(nodes) is None, 60):
            raise SystemExit('the cluster did not form: %s'
                             % agreement(nodes))

        print('soak: %d nodes (+%d newcomers), %d s of churn, seed %d, '
              'warm-up %d s' % (N, EXTRA, DURATION, SEED, WARMUP))

        t0 = time.monotonic()
        before = None
        down = []               # (node, when to start it again)

        while time.monotonic() - t0 < DURATION:
            now = time.monotonic()

            if before is None and now - t0 >= WARMUP:
                before = anchor_memory(nodes)

            for entry in list(down):
                if now >= entry[1]:
                    if VERBOSE:
                        print('%6.1f restart %s' % (now - t0, entry[0].id))
                    entry[0].start()
                    down.remove(entry)

            churn = [n for n in nodes[ANCHORS:N]
                     if n.running and all(n is not d[0] for d in down)]
            kind = rng.choice(['leave', 'crash', 'cluster_crash', 'reload',
                               'anchor_reload', 'newcomer'])

            if kind == 'anchor_reload':
                n = nodes[rng.randrange(ANCHORS)]
                if rng.random() < 0.3:
                    n.tag += 1
                n.write_conf()
                n.send(signal.SIGHUP)

            elif kind == 'reload' and churn:
                n = rng.choice(churn)
                n.tag += 1
                n.write_conf()
                n.send(signal.SIGHUP)

            elif kind == 'leave' and churn:
                n = rng.choice(churn)
                n.stop()
                down.append((n, now + rng.uniform(3, 15)))

            elif kind == 'crash' and churn:
                n = rng.choice(churn)
                n.kill9()
                down.append((n, now + rng.uniform(3, 15)))

            elif kind == 'cluster_crash' and churn:
                n = rng.choice(churn)
                p = n.cluster_pid()
                if p:
                    os.kill(p, signal.SIGKILL)

            elif kind == 'newcomer':
                n = nodes[N + rng.randrange(EXTRA)]
                if n.running:
                    n.stop()
                else:
                    n.start()

            else:
                continue

            if VERBOSE:
                print('%6.1f %s %s' % (now - t0, kind, n.id), flush=True)
            actions[kind] = actions.get(kind, 0) + 1
            time.sleep(rng.uniform(1, 5))

        # the end of churn: everyone who should run runs; the newcomers
        # leave for good
        for n, _ in down:
            n.start()
        for n in nodes[N:]:
            if n.running:
                n.stop()

        t = time.monotonic()
        agreed = wait_until(lambda: agreement(nodes) is None, AGREE_WITHIN)
        took = time.monotonic() - t

        # memory once things are quiet again
        time.sleep(5)
        after = anchor_memory(nodes)

        print('churn: ' + ', '.join('%s %d' % kv
                                    for kv in sorted(actions.items())))
        print()
        print('%-22s %8s %8s %8s %8s %8s' % ('process', 'Pss', 'Pss', 'RssAnon',
                                           'RssAnon', 'growth'))
        print('%-22s %8s %8s %8s %8s %8s' % ('', 'start', 'end', 'start',
                                           'end', 'KiB'))
        print('(growth: RssAnon of a master, Pss of a whole node)')

        grew = []
        for name in sorted(after):
            pid, m1 = after[name]
            pid0, m0 = (before or {}).get(name, (None, None))
            if not m0 or not m1 or pid0 != pid:
                print('%-22s %s' % (name, 'restarted or unread'))
                grew.append(name + ' (restarted or unread)')
                continue
            # the master's own heap, or everything the node holds
            key = 'RssAnon' if pid else 'Pss'
            growth = m1[key] - m0[key]
            print('%-22s %8d %8d %8d %8d %8d' % (name, m0['Pss'], m1['Pss'],
                                               m0['RssAnon'], m1['RssAnon'],
                                               growth))
            if growth > GROWTH_LIMIT_KB:
                grew.append(name)

        print()
        print('agreement: %s' % ('all %d nodes agree after %.1f s'
                                 % (sum(n.running for n in nodes), took)
                                 if agreed else 'NO: %s' % agreement(nodes)))
        print('memory: %s' % ('no process grew more than %d KiB'
                              % GROWTH_LIMIT_KB if not grew
                              else 'GREW: ' + ', '.join(grew)))

        ok = agreed and not grew
        print('soak: %s (seed %d)' % ('PASS' if ok else 'FAIL', SEED))
        return 0 if ok else 1

    finally:
        for n in nodes:
            if n.running or n.master():
                n.stop(signal.SIGTERM)
        for n in nodes:
            n.kill9()
        if os.environ.get('SOAK_KEEP'):
            print('soak: files kept in %s' % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


sys.exit(main())
