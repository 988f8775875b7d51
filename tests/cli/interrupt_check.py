#!/usr/bin/env python3
"""interrupt_check.py: Ctrl-C (SIGINT) or SIGTERM while heaptool writes a binary index leaves
no temporary file beside the dump, and heaptool dies of the signal.

    python3 tests/cli/interrupt_check.py HEAPTOOL

Writes a random dump big enough that writing its index takes a while, runs `heaptool index` and
an auto-indexing `heaptool stats` (HEAPTOOL_INDEX=always) on it, and steps each run: stopped
(SIGSTOP), looked at, let go for a moment, until its temporary file `.DUMP.hdx.XXXXXX` is
there while it is stopped, so the signal lands mid-write for sure. Then the signal, and:
the run died of it (a shell's 130 or 143), and neither the temporary file nor DUMP.hdx is left.
With the signal ignored by the caller, the write goes on to a complete index. Prints one line per
problem and exits 1 if there is any.
"""
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time


def write_dump(path, n, rng):
    objects = [{"id": i, "type": i % 7, "size": 8 * rng.randint(1, 8),
                "refs": [[rng.randint(1, n), "r"] for _ in range(rng.randint(0, 3))]}
               for i in range(1, n + 1)]
    for o in objects:
        if not o["refs"]:
            del o["refs"]
    with open(path, "w") as f:
        json.dump({"format": "heapdump", "version": 1, "meta": {"producer": "interrupt_check"},
                   "types": [{"id": t, "name": "T%d" % t} for t in range(7)], "objects": objects,
                   "roots": [{"id": i, "kind": "global", "name": "g%d" % i} for i in range(1, n, 97)]}, f)


def temporaries(folder, dump):
    prefix = "." + os.path.basename(dump) + ".hdx."
    return [name for name in os.listdir(folder) if name.startswith(prefix)]


def wait(pid, flags=0):
    while True:
        try:
            return os.waitpid(pid, flags)[1]
        except InterruptedError:
            continue


def interrupt_mid_write(argv, env, folder, dump, sig, ignore=False):
    """Runs argv, delivers sig once its temporary file is there; the wait status, or None when the
    run ended before it was caught writing."""
    pre = (lambda: signal.signal(sig, signal.SIG_IGN)) if ignore else None
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=pre)
    while True:
        os.kill(proc.pid, signal.SIGSTOP)
        status = wait(proc.pid, os.WUNTRACED)
        if not os.WIFSTOPPED(status):
            proc.returncode = 0  # reaped here; Popen must not wait for it again
            return None
        if temporaries(folder, dump):
            os.kill(proc.pid, sig)
            os.kill(proc.pid, signal.SIGCONT)
            status = wait(proc.pid)
            proc.returncode = 0
            return status
        os.kill(proc.pid, signal.SIGCONT)
        time.sleep(0.001)


def main():
    heaptool = sys.argv[1]
    problems, caught = [], 0
    with tempfile.TemporaryDirectory() as folder:
        dump = os.path.join(folder, "big.json")
        write_dump(dump, 100000, random.Random(7))
        index = dump + ".hdx"
        runs = [("index", [heaptool, "index", dump], {}),
                ("auto index", [heaptool, "stats", dump], {"HEAPTOOL_INDEX": "always"})]
        for name, argv, extra in runs:
            env = dict(os.environ, **extra)
            for sig in (signal.SIGINT, signal.SIGTERM):
                what = "%s, %s" % (name, signal.Signals(sig).name)
                for _ in range(20):  # a run that ends before it is seen writing is tried again
                    status = interrupt_mid_write(argv, env, folder, dump, sig)
                    if status is not None:
                        break
                    os.unlink(index)
                if status is None:
                    problems.append("%s: never caught writing its index" % what)
                    continue
                caught += 1
                if not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == sig):
                    problems.append("%s: wait status %#x, not a death by the signal" % (what, status))
                left = temporaries(folder, dump)
                if left:
                    problems.append("%s: left %s" % (what, ", ".join(left)))
                    for t in left:
                        os.unlink(os.path.join(folder, t))
                if os.path.exists(index):
                    problems.append("%s: an index appeared though the write was interrupted" % what)
                    os.unlink(index)
            what = "%s, SIGINT ignored" % name
            status = interrupt_mid_write(argv, env, folder, dump, signal.SIGINT, ignore=True)
            if status is not None and not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
                problems.append("%s: wait status %#x, not exit 0" % (what, status))
            elif not os.path.exists(index) or temporaries(folder, dump):
                problems.append("%s: no complete index, or a temporary file left" % what)
            if os.path.exists(index):
                os.unlink(index)
    for p in problems:
        print(p)
    print("interrupt: %d runs stopped mid-write, %d problems" % (caught, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
