"""bench/fleetbench.py: the fleet figure of bench/compare (--only fleet).

One etcd (Debian's etcd-server) on free loopback ports, its data in the
bench's folder, and 3, 10 and 30 wardens on it, each a member of one
fleet. For each size: the time from `wardenctl fleet flag set ...
--wait-observed` to its answer, which comes once every live host's
report says it has applied the write (so: etcd's write, every member's
watch, its durable change, its report's put, and the writer's watch of
the reports), over a number of writes; then the wardens' CPU and RSS
while they watch an idle fleet.
"""

import json
import os
import shutil
import socket
import statistics
import subprocess
import time
import urllib.request

ETCD = "/usr/bin/etcd"
SIZES = (3, 10, 30)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def etcd_start(base, log):
    cport, pport = free_port(), free_port()
    url = "http://127.0.0.1:%d" % cport
    peer = "http://127.0.0.1:%d" % pport
    p = subprocess.Popen(
        [ETCD, "--name", "bench", "--data-dir", os.path.join(base, "etcd"),
         "--listen-client-urls", url, "--advertise-client-urls", url,
         "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
         "--initial-cluster", "bench=" + peer],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as r:
                if json.load(r).get("health") == "true":
                    return p, url
        except OSError:
            pass
        if p.poll() is not None:
            break
        time.sleep(0.05)   # a bench waits for a server; tests never do
    p.kill()
    raise RuntimeError("etcd did not start (see %s)" % log.name)


def ctl(bindir, sock, *args, timeout=30):
    r = subprocess.run([os.path.join(bindir, "wardenctl"), "-S", sock, "-j"]
                       + list(args), capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, r.stdout


def warden_start(bindir, base, url, n, i, run):
    d = os.path.join(base, "fleet-%d-%d" % (n, i))
    os.makedirs(d)
    conf = {"socket": "w.sock", "state_dir": "state",
            "table": "/bench-fleet-%d-%d-%d" % (os.getpid(), n, i),
            "fleet": {"etcd": [url], "prefix": "/bench/%d/" % run,
                      "host": "h%d" % i},
            "flags": {"f": {"default": 0}},
            "supervisor": {"children": []}}
    with open(os.path.join(d, "warden.json"), "w") as f:
        json.dump(conf, f)
    log = open(os.path.join(d, "warden.log"), "w")
    p = subprocess.Popen([os.path.join(bindir, "warden"), "-q", "-c",
                          os.path.join(d, "warden.json")], cwd=d,
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         start_new_session=True)
    return p, os.path.join(d, "w.sock")


def joined(bindir, sock, n, deadline):
    while time.monotonic() < deadline:
        rc, out = ctl(bindir, sock, "fleet", "status")
        if rc in (0, 6) and len(json.loads(out).get("hosts", [])) >= n:
            return True
        time.sleep(0.05)
    return False


def cpu_ns(pid):
    try:
        with open("/proc/%d/schedstat" % pid) as f:
            return int(f.read().split()[0])
    except OSError:
        return 0


def vmrss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def one_size(bindir, base, url, n, writes, idle_s):
    procs = []
    out = {"hosts": n}
    try:
        for i in range(n):
            procs.append(warden_start(bindir, base, url, n, i, n))
        sock = procs[0][1]
        deadline = time.monotonic() + 60
        while not os.path.exists(sock) and time.monotonic() < deadline:
            time.sleep(0.02)
        if not joined(bindir, sock, n, deadline):
            out["failed"] = "not every warden joined within 60 s"
            return out
        ms, missed = [], 0
        for w in range(writes):
            t0 = time.monotonic()
            rc, res = ctl(bindir, sock, "fleet", "flag", "set", "f",
                          str(w % 2 * 100), "--wait-observed=10000")
            ms.append((time.monotonic() - t0) * 1000)
            if rc != 0:
                missed += 1
        ms.sort()
        out.update({"writes": writes, "missed": missed,
                    "median_ms": statistics.median(ms),
                    "p90_ms": ms[int(len(ms) * 0.9) - 1], "max_ms": ms[-1]})
        pids = [p.pid for p, _ in procs]
        c0 = sum(cpu_ns(p) for p in pids)
        time.sleep(idle_s)
        c1 = sum(cpu_ns(p) for p in pids)
        out["idle_cpu_pct_each"] = (c1 - c0) / 1e9 / idle_s * 100 / n
        out["rss_kib_each"] = statistics.median(vmrss(p) for p in pids)
        return out
    finally:
        for p, sock in procs:
            if p.poll() is None:
                ctl(bindir, sock, "shutdown", timeout=10)
        for p, _ in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def fig_fleet(opts, res, log):
    if not os.access(ETCD, os.X_OK):
        log("fleet: no %s (apt-get install etcd-server); left out" % ETCD)
        return
    base = os.path.join(opts.base, "fleet")
    os.makedirs(base)
    elog = open(os.path.join(base, "etcd.log"), "w")
    p, url = etcd_start(base, elog)
    out = {"sizes": []}
    try:
        for n in SIZES:
            r = one_size(opts.bindir, base, url, n, 20 if n < 30 else 10, 5)
            log("fleet: %d wardens: %s" % (n, r))
            out["sizes"].append(r)
    finally:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        shutil.rmtree(os.path.join(base, "etcd"), ignore_errors=True)
    res["fleet"] = out


def fleet_lines(res):
    """The figure's lines for the table's notes."""
    lines = []
    for r in res.get("fleet", {}).get("sizes", []):
        if "failed" in r:
            lines.append("fleet, %d wardens: %s" % (r["hosts"], r["failed"]))
            continue
        lines.append("fleet, %d wardens on one etcd: flag set -> applied "
                     "by all: median %.1f ms, p90 %.1f, max %.1f (%d "
                     "writes, %d not observed); watching: %.2f%% CPU and "
                     "%d KiB RSS each" % (
                         r["hosts"], r["median_ms"], r["p90_ms"],
                         r["max_ms"], r["writes"], r["missed"],
                         r["idle_cpu_pct_each"], r["rss_kib_each"]))
    return lines
