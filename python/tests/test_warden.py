"""The warden module against the real warden of this build.

Each test starts bin/warden (WARDEN_BIN_DIR) in a folder of its own with a
configuration of its own and its own table, waits for READY=1 on a
NOTIFY_SOCKET of its own, drives it with bin/wardenctl, and checks what
the module reads. Waits are on the value itself, with a bound that only
fails the test. warden is killed at the end of every test.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import warden

BIN = os.environ.get("WARDEN_BIN_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "bin")
PYDIR = os.path.dirname(os.path.dirname(os.path.abspath(warden.__file__)))
BOUND_S = 10.0          # failure bound of one wait

# The worker warden starts: reads its flag from the table warden gave it
# (WARDEN_TABLE_FD) and writes what it saw to the file in argv[1].
WORKER = r'''
import os, signal, sys, time
import warden
t = warden.open()
out = sys.argv[1]
while True:
    line = "feat=%d stage=%d state=%d lib=%s\n" % (
        t.enabled("feat"), t.stage(), t.state(), warden.load_error is None)
    with open(out + ".tmp", "w") as f:
        f.write(line)
    os.replace(out + ".tmp", out)
    time.sleep(0.05)
'''


def murmur3_32(data, seed=0):
    """murmur3_x86_32, the hash warden's rollouts use (libwarden(3))."""
    c1, c2, m = 0xcc9e2d51, 0x1b873593, 0xffffffff
    h = seed
    n = len(data) // 4 * 4
    for i in range(0, n, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * c1) & m
        k = ((k << 15) | (k >> 17)) & m
        k = (k * c2) & m
        h ^= k
        h = ((h << 13) | (h >> 19)) & m
        h = (h * 5 + 0xe6546b64) & m
    k = 0
    tail = data[n:]
    for j in reversed(range(len(tail))):
        k = (k << 8) | tail[j]
    if tail:
        k = (k * c1) & m
        k = ((k << 15) | (k >> 17)) & m
        k = (k * c2) & m
        h ^= k
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85ebca6b) & m
    h ^= h >> 13
    h = (h * 0xc2b2ae35) & m
    h ^= h >> 16
    return h


def wait_for(what, get, want):
    """Wait until get() == want; fail with what after BOUND_S."""
    end = time.monotonic() + BOUND_S
    while True:
        got = get()
        if got == want:
            return
        if time.monotonic() > end:
            raise AssertionError("%s: %r, expected %r after %.0f s"
                                 % (what, got, want, BOUND_S))
        time.sleep(0.01)


class Warden:
    """A real warden in a temporary folder."""

    def __init__(self, test):
        self.dir = tempfile.mkdtemp(prefix="warden-py.")
        test.addCleanup(self._remove)
        self.table = "/warden-pytest-%d-%s" % (
            os.getpid(), os.path.basename(self.dir).split(".")[-1])
        self.sock = os.path.join(self.dir, "warden.sock")
        self.seen = os.path.join(self.dir, "seen")
        script = os.path.join(self.dir, "worker.py")
        with open(script, "w") as f:
            f.write(WORKER)
        conf = {
            "socket": self.sock, "state_dir": os.path.join(self.dir, "state"),
            "table": self.table,
            "flags": {"feat": {"default": True}, "later": {"default": False},
                      "roll": {"default": False}},
            "stages": [{"stage": 1, "enable": ["later"]}],
            "supervisor": {"name": "root", "children": [{
                "name": "pyworker",
                "command": [sys.executable, script, self.seen],
                "env": {"PYTHONPATH": PYDIR,
                        "WARDEN_LIBRARY": warden.library_path or ""}}]},
        }
        path = os.path.join(self.dir, "warden.json")
        with open(path, "w") as f:
            json.dump(conf, f)
        notify = os.path.join(self.dir, "notify")
        ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        ns.bind(notify)
        env = dict(os.environ, NOTIFY_SOCKET=notify)
        for k in ("WARDEN_TABLE", "WARDEN_TABLE_FD", "LISTEN_PID"):
            env.pop(k, None)
        with open(os.path.join(self.dir, "log"), "w") as log:
            self.proc = subprocess.Popen(
                [os.path.join(BIN, "warden"), "-c", path], env=env,
                stdout=subprocess.DEVNULL, stderr=log)
        test.addCleanup(self.kill)
        ns.settimeout(BOUND_S)
        try:
            while b"READY=1" not in ns.recv(4096):
                pass
        except socket.timeout:
            raise AssertionError("no READY=1 from warden within %.0f s"
                                 % BOUND_S)
        finally:
            ns.close()

    def ctl(self, *args):
        r = subprocess.run([os.path.join(BIN, "wardenctl"), "-S", self.sock]
                           + list(args), capture_output=True, text=True,
                           timeout=BOUND_S)
        if r.returncode != 0:
            raise AssertionError("wardenctl %s: exit %d: %s" % (
                " ".join(args), r.returncode, r.stderr))
        return r.stdout

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        try:
            os.unlink("/dev/shm" + self.table)
        except FileNotFoundError:
            pass

    def _remove(self):
        subprocess.run(["rm", "-rf", self.dir])


class LiveTest(unittest.TestCase):
    def setUp(self):
        self.w = Warden(self)
        self.t = warden.open(self.w.table)
        self.addCleanup(self.t.close)

    def test_live_values(self):
        t = self.t
        self.assertEqual(t.state(), warden.ATTACHED)
        self.assertTrue(t.enabled("feat"))
        self.assertFalse(t.enabled("later", default=True))
        self.assertEqual(t.stage(), 0)
        self.assertFalse(t.enabled("nosuchflag"))
        self.assertTrue(t.enabled("nosuchflag", True))
        self.w.ctl("stage", "set", "1", "-m", "test")
        wait_for("later after stage 1", lambda: t.enabled("later"), True)
        self.assertEqual(t.stage(), 1)
        self.assertTrue(t.enabled_for("later", "anyone"))
        self.w.ctl("flag", "set", "feat", "off")
        wait_for("feat after off", lambda: t.enabled("feat", True), False)
        self.assertFalse(t.enabled_for("feat", "anyone", True))
        self.assertIn("stage 1", repr(t))
        self.assertIn(self.w.table, repr(t))

    def test_rollout_matches_murmur3_and_c(self):
        t = self.t
        self.w.ctl("flag", "set", "roll", "30")
        wait_for("roll at 30%", lambda: t.enabled("roll", True), False)
        ids = ["user-%d" % i for i in range(400)] + ["", "é", b"raw-id"]
        ins = 0
        for i in ids:
            key = b"roll:" + (i if isinstance(i, bytes) else i.encode())
            want = murmur3_32(key) % 10000 < 3000
            self.assertEqual(t.enabled_for("roll", i), want, i)
            ins += want
        self.assertTrue(60 < ins < 200, ins)
        # The C library's own answer, through wardenctl flag read.
        for i in ids[:20]:
            out = self.w.ctl("flag", "read", "roll", i, "--table",
                             self.w.table)
            want = "on" if t.enabled_for("roll", i) else "off"
            self.assertIn("roll for %s: %s\n" % (i, want), out)

    def test_table_deleted_then_repaired(self):
        t = self.t
        self.w.ctl("stage", "set", "1", "-m", "test")
        wait_for("later", lambda: t.enabled("later"), True)
        self.w.ctl("table", "delete")
        self.assertTrue(t.enabled("later"))     # the last values
        self.assertTrue(t.enabled("feat"))
        self.assertEqual(t.stage(), 1)
        self.w.ctl("flag", "set", "feat", "off")
        wait_for("feat on the repaired table", lambda: t.enabled("feat", True),
                 False)
        self.assertEqual(t.state(), warden.ATTACHED)

    def test_worker_reads_its_table(self):
        def seen():
            try:
                with open(self.w.seen) as f:
                    return f.read()
            except FileNotFoundError:
                return None
        wait_for("the worker's first read", seen,
                 "feat=1 stage=0 state=1 lib=True\n")
        self.w.ctl("flag", "set", "feat", "off")
        self.w.ctl("stage", "set", "1", "-m", "test")
        wait_for("the worker after the change", seen,
                 "feat=0 stage=1 state=1 lib=True\n")

    def test_threads_share_a_handle(self):
        # Two reads are not one snapshot (a thread may lose the GIL
        # between them while both changes land), so each read is checked
        # on its own: a known value, and never going back.
        import threading
        t, errors, runs = self.t, [], []

        def reader():
            feats, stages = [], []
            runs.append((feats, stages))
            try:
                for i in range(20000):
                    feats.append(t.enabled("feat", None))
                    stages.append(t.stage())
                    t.enabled_for("roll", "user-%d" % i)
            except Exception as e:      # any is a failure
                errors.append(e)
        threads = [threading.Thread(target=reader) for _ in range(4)]
        for th in threads:
            th.start()
        self.w.ctl("flag", "set", "feat", "off")
        self.w.ctl("stage", "set", "1", "-m", "test")
        for th in threads:
            th.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(runs), 4)
        for feats, stages in runs:
            self.assertTrue(set(feats) <= {True, False}, set(feats))
            self.assertTrue(set(stages) <= {0, 1}, set(stages))
            # on, then off once; stage 0, then 1 once
            self.assertEqual(feats, sorted(feats, reverse=True))
            self.assertEqual(stages, sorted(stages))

    def test_context_manager_and_close(self):
        with warden.open(self.w.table) as t:
            self.assertTrue(t.enabled("feat"))
        self.assertEqual(t.state(), warden.NO_TABLE)
        self.assertFalse(t.enabled("feat"))
        self.assertTrue(t.enabled("feat", True))
        self.assertEqual(t.stage(), -1)
        t.close()                               # twice: nothing happens

    def test_bad_arguments(self):
        t = self.t
        for bad in (None, 1, 2.5, ["feat"], {"feat": 1}, object()):
            with self.assertRaises(TypeError):
                t.enabled(bad)
            with self.assertRaises(TypeError):
                t.enabled_for(bad, "id")
            with self.assertRaises(TypeError):
                t.enabled_for("feat", bad)
        with self.assertRaises(TypeError):
            warden.open(42)
        # Names no table can hold: the default, not another flag's value.
        for name in ("feat\0", b"feat\0x", "\udcff", "f\udc80eat",
                     "x" * 100000, ""):
            self.assertFalse(t.enabled(name), repr(name)[:40])
            self.assertTrue(t.enabled(name, True), repr(name)[:40])
            self.assertTrue(t.enabled_for(name, "id", True))
        for ident in ("a\0b", "\udcff", b"\0"):
            self.assertTrue(t.enabled_for("feat", ident, True))
            self.assertFalse(t.enabled_for("feat", ident, False))
        self.assertTrue(t.enabled_for("feat", "z" * 100000))
        self.assertTrue(t.enabled(b"feat"))
        self.assertTrue(t.enabled(bytearray(b"feat")))
        self.assertTrue(t.enabled("feat"))      # still answering
        u = warden.open("/bad\0name")
        self.assertEqual(u.state(), warden.NO_TABLE)
        self.assertTrue(u.enabled("feat", True))


class NoTableTest(unittest.TestCase):
    def test_missing_table(self):
        t = warden.open("/warden-pytest-none-%d" % os.getpid())
        self.assertEqual(t.state(), warden.NO_TABLE)
        self.assertFalse(t.enabled("feat"))
        self.assertTrue(t.enabled("feat", True))
        self.assertTrue(t.enabled_for("feat", "id", True))
        self.assertEqual(t.stage(), -1)
        self.assertIn("no table", repr(t))
        t.close()

    def test_missing_library(self):
        code = ("import warden\n"
                "t = warden.open()\n"
                "print(warden.load_error is not None, t.state(),"
                " t.enabled('f', True), t.enabled('f'),"
                " t.enabled_for('f', 'i', True), t.stage(), repr(t))\n"
                "try:\n t.enabled(None)\nexcept TypeError:\n print('TypeError')\n")
        env = dict(os.environ, WARDEN_LIBRARY="/nonexistent/libwarden.so.0",
                   PYTHONPATH=PYDIR)
        r = subprocess.run([sys.executable, "-c", code], env=env,
                           capture_output=True, text=True, timeout=BOUND_S)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        self.assertEqual(r.stdout, "True 0 True False True -1 "
                         "<warden.Table from warden: no library, defaults>\n"
                         "TypeError\n")

    def test_not_a_library(self):
        env = dict(os.environ, WARDEN_LIBRARY="/etc/passwd", PYTHONPATH=PYDIR)
        r = subprocess.run([sys.executable, "-c", "import warden; "
                            "print(warden.open().enabled('f', True), "
                            "'/etc/passwd' in warden.load_error)"],
                           env=env, capture_output=True, text=True,
                           timeout=BOUND_S)
        self.assertEqual((r.returncode, r.stdout), (0, "True True\n"),
                         r.stderr)


if __name__ == "__main__":
    unittest.main()
