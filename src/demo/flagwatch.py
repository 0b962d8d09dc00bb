#!/usr/bin/env python3
"""demo-flagwatch: the demo's Python worker. It follows one flag through the
warden module (libwarden underneath) and prints a line whenever the flag
changes, reading it every 100 ms as a program would on its hot path.

    demo-flagwatch [--flag NAME] [--interval-ms N]

The build writes this file into bin/ with the module and library of the
same build filled in below, so that it runs from a checkout as it is.
"""
import argparse
import os
import signal
import sys
import time

PYTHONDIR = "@PYTHONDIR@"
LIBWARDEN = "@LIBWARDEN@"
# "1" when that library was built with AddressSanitizer: a python3 that is
# not must tell the runtime, as it comes in with the library, not first.
ASAN = "@ASAN@"


def main():
    opts = os.environ.get("ASAN_OPTIONS", "")
    if ASAN == "1" and "verify_asan_link_order=0" not in opts:
        # The runtime reads its options from the environment at exec.
        os.environ["ASAN_OPTIONS"] = opts + ":verify_asan_link_order=0"
        os.execv(sys.executable, [sys.executable] + sys.argv)
    # The build's module and library, unless the environment says otherwise.
    if os.path.isdir(PYTHONDIR):
        sys.path.insert(0, PYTHONDIR)
    if os.path.exists(LIBWARDEN):
        os.environ.setdefault("WARDEN_LIBRARY", LIBWARDEN)
    import warden

    p = argparse.ArgumentParser(prog="demo-flagwatch")
    p.add_argument("--flag", default="enable_migration_monitoring")
    p.add_argument("--interval-ms", type=int, default=100)
    a = p.parse_args()
    # SIGTERM ends the loop through SystemExit: a clean exit 0.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if warden.load_error is not None:
        print("no libwarden (%s): answering defaults"
              % warden.load_error, flush=True)
    with warden.open() as t:
        seen = None
        while True:
            on = t.enabled(a.flag)
            if on != seen:
                print("%s %s (stage %d): %s" % (
                    a.flag, "on" if on else "off", t.stage(),
                    "migration progress reported" if on
                    else "no migration reports"), flush=True)
                seen = on
            time.sleep(a.interval_ms / 1000.0)


if __name__ == "__main__":
    main()
