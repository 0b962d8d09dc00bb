#!/usr/bin/env python3
"""pyread: nanoseconds per flag read from Python through the warden module.

    bench/pyread.py [-T TABLE] [-f FLAG] [-R ROLLOUT_FLAG] [-n READS] [-r RUNS]

Prints one line of key=value: the median over RUNS runs of READS reads of
t.enabled(FLAG), t.enabled_for(ROLLOUT_FLAG, id), the ctypes floor (a
ctypes call of libc's abs(3), the least any ctypes call costs) and a
Python method call that does nothing, each in ns; the ratio of enabled()
to the ctypes floor; and the handle's state (1: attached to the table).
The module and libwarden come from the environment (PYTHONPATH,
WARDEN_LIBRARY); bench/compare sets both to the build's.
"""
import argparse
import ctypes
import statistics
import timeit

import warden


class _Nothing:
    def read(self, flag, default=False):
        return default


def median_ns(stmt, env, n, runs):
    t = timeit.Timer(stmt, globals=env)
    return statistics.median(t.timeit(n) / n * 1e9 for _ in range(runs))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-T", "--table", default=None)
    ap.add_argument("-f", "--flag", default="fa")
    ap.add_argument("-R", "--rollout", default="half")
    ap.add_argument("-n", "--reads", type=int, default=200000)
    ap.add_argument("-r", "--runs", type=int, default=11)
    a = ap.parse_args()
    if warden.load_error is not None:
        raise SystemExit("pyread: %s" % warden.load_error)
    t = warden.open(a.table)
    libc = ctypes.CDLL(None)
    cabs = libc.abs
    cabs.argtypes, cabs.restype = [ctypes.c_int], ctypes.c_int
    env = {"t": t, "f": a.flag, "r": a.rollout, "abs": cabs,
           "z": _Nothing()}
    enabled = median_ns("t.enabled(f)", env, a.reads, a.runs)
    enabled_for = median_ns("t.enabled_for(r, 'user-42')", env, a.reads,
                            a.runs)
    floor = median_ns("abs(-1)", env, a.reads, a.runs)
    nothing = median_ns("z.read(f)", env, a.reads, a.runs)
    print("enabled=%.1f enabled_for=%.1f ctypes=%.1f pycall=%.1f "
          "ratio=%.2f state=%d" % (enabled, enabled_for, floor, nothing,
                                   enabled / floor, t.state()))
    t.close()


if __name__ == "__main__":
    main()
