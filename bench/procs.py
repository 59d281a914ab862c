"""
What the benchmarks read of processes and nodes: a process's children,
title, memory and CPU from /proc, a node's JSON over HTTP, and a wait for
a condition.  Linux only, as the benchmarks are.
"""

import json, os, time, urllib.request


def stat_fields(pid):
    """/proc/PID/stat after the command name: state, ppid, pgrp,
    session, ...; None when the process is gone"""
    try:
        with open('/proc/%s/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return None


def children(pid):
    out = []
    for d in os.listdir('/proc'):
        if d.isdigit():
            st = stat_fields(d)
            if st and int(st[1]) == pid:
                out.append(int(d))
    return out


def title(pid):
    """argv[0]: engram's processes say what they are there"""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().split(b'\0')[0].decode(errors='replace')
    except OSError:
        return ''


def pss_kb(pid):
    try:
        with open('/proc/%d/smaps_rollup' % pid) as f:
            for line in f:
                if line.startswith('Pss:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ns(pid):
    """Time on a CPU, in ns, of all the process's threads (schedstat: the
    clock ticks of /proc/PID/stat miss much of an idle daemon's work)."""
    total = 0
    try:
        tasks = os.listdir('/proc/%d/task' % pid)
    except OSError:
        return 0
    for tid in tasks:
        try:
            with open('/proc/%d/task/%s/schedstat' % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def get_json(port, path, timeout=2):
    """GET http://127.0.0.1:PORT/PATH, decoded; None on any failure"""
    try:
        with urllib.request.urlopen('http://127.0.0.1:%d%s' % (port, path),
                                    timeout=timeout) as r:
            return json.load(r)
    except Exception:
        return None


def wait_until(cond, limit, step=0.2):
    """True as soon as cond() is, False after limit seconds"""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return False
