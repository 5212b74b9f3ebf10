#!/usr/bin/env python3
"""CPU time and sleeps per request of every process of a local K2HDKC cluster.

Runs one client (bench/dkc_loop.c, built against libk2hdkc) for N sets or gets through the
slave of a cluster started by scripts/cluster.sh, and divides what each process of the cluster
used meanwhile (/proc/PID/schedstat: time on a CPU; /proc/PID/status: voluntary context
switches, i.e. how often it went to sleep) by N. The client's own figures come from
getrusage of its process (its attach included).

usage: bench/k2hdkc_hops.py RUNDIR LOOP SLAVE_CONF SLAVE_CTLPORT N set|get
  RUNDIR  the RUNDIR of scripts/cluster.sh (its *.pid files name the processes)
  LOOP    the dkc_loop binary
"""
import glob
import os
import resource
import subprocess
import sys


def main():
    if len(sys.argv) != 7 or sys.argv[6] not in ("set", "get"):
        sys.exit(__doc__)
    rundir, loop, conf, port, n, op = sys.argv[1:]
    procs = {}
    for f in sorted(glob.glob(os.path.join(rundir, "*.pid"))):
        procs[os.path.basename(f)[:-4]] = int(open(f).read().split()[0])

    def snap():
        d = {}
        for name, pid in procs.items():
            ns = int(open(f"/proc/{pid}/schedstat").read().split()[0])
            status = open(f"/proc/{pid}/status").read().splitlines()
            vcs = next(int(l.split()[1]) for l in status if l.startswith("voluntary_ctxt"))
            d[name] = (ns, vcs)
        return d

    a, r0 = snap(), resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([loop, conf, port, n, "128", "1", op], capture_output=True, text=True)
    r1, b = resource.getrusage(resource.RUSAGE_CHILDREN), snap()
    print(out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr)
    count = int(n)
    total = 0.0
    for name in procs:
        us = (b[name][0] - a[name][0]) / 1e3 / count
        sleeps = (b[name][1] - a[name][1]) / count
        total += us
        print(f"  {name:14s} {us:6.1f} us CPU/request  {sleeps:4.2f} sleeps/request")
    cu = ((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)) * 1e6 / count
    cs = (r1.ru_nvcsw - r0.ru_nvcsw) / count
    print(f"  {'client':14s} {cu:6.1f} us CPU/request  {cs:4.2f} sleeps/request")
    print(f"  all processes {total + cu:.1f} us CPU/request")


main()
