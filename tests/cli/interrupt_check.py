#!/usr/bin/env python3
"""interrupt_check.py: Ctrl-C (SIGINT) or SIGTERM while heaptool writes a binary index or an
export leaves no temporary file or directory behind, and heaptool dies of the signal.

    python3 tests/cli/interrupt_check.py HEAPTOOL

Writes a random dump big enough that writing its index takes a while, runs `heaptool index`, an
auto-indexing `heaptool stats` (HEAPTOOL_INDEX=always) and `heaptool export` (a SQLite file; a
CSV directory) on it, and steps each run: stopped (SIGSTOP), looked at, let go for a moment,
until its temporary (`.DUMP.hdx.XXXXXX`; `OUT.tmp-XXXXXX`, for the directory once a table's file
is in it) is there while it is stopped, so the signal lands mid-write for sure. Then the signal,
and: the run died of it (a shell's 130 or 143), and neither the temporary nor the result is
left. With the signal ignored by the caller, the write goes on to a complete result. Prints one line per
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


def temporaries(folder, prefix):
    return [name for name in os.listdir(folder) if name.startswith(prefix)]


def mid_write(folder, prefix, files_inside):
    """Whether a temporary is there (a directory: with a file in it already, if files_inside)."""
    found = temporaries(folder, prefix)
    if not files_inside:
        return bool(found)
    return any(os.path.isdir(os.path.join(folder, t)) and os.listdir(os.path.join(folder, t)) for t in found)


def remove(path):
    if os.path.isdir(path):
        for name in os.listdir(path):
            os.unlink(os.path.join(path, name))
        os.rmdir(path)
    elif os.path.exists(path):
        os.unlink(path)


def wait(pid, flags=0):
    while True:
        try:
            return os.waitpid(pid, flags)[1]
        except InterruptedError:
            continue


def interrupt_mid_write(argv, env, folder, caught, sig, ignore=False):
    """Runs argv, delivers sig once its temporary file is there; the wait status, or None when the
    run ended before it was caught writing."""
    # Set either way: a job a shell without job control starts in the background inherits
    # SIGINT ignored, and heaptool rightly keeps an ignored SIGINT ignored.
    pre = lambda: signal.signal(sig, signal.SIG_IGN if ignore else signal.SIG_DFL)
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=pre)
    while True:
        os.kill(proc.pid, signal.SIGSTOP)
        status = wait(proc.pid, os.WUNTRACED)
        if not os.WIFSTOPPED(status):
            proc.returncode = 0  # reaped here; Popen must not wait for it again
            return None
        if caught():
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
        index, out = dump + ".hdx", os.path.join(folder, "out")
        never = {"HEAPTOOL_INDEX": "never"}
        # name, command, environment, what it makes, its temporaries' prefix, a directory's files
        runs = [("index", [heaptool, "index", dump], {}, index, ".big.json.hdx.", False),
                ("auto index", [heaptool, "stats", dump], {"HEAPTOOL_INDEX": "always"}, index, ".big.json.hdx.", False),
                ("export sqlite", [heaptool, "export", dump, "-o", out], never, out, "out.tmp-", False),
                ("export csv", [heaptool, "export", dump, "--format", "csv", "-o", out], never, out, "out.tmp-", True)]
        for name, argv, extra, result, prefix, files_inside in runs:
            env = dict(os.environ, **extra)
            caught_writing = lambda: mid_write(folder, prefix, files_inside)
            for sig in (signal.SIGINT, signal.SIGTERM):
                what = "%s, %s" % (name, signal.Signals(sig).name)
                for _ in range(20):  # a run that ends before it is seen writing is tried again
                    status = interrupt_mid_write(argv, env, folder, caught_writing, sig)
                    if status is not None:
                        break
                    remove(result)
                if status is None:
                    problems.append("%s: never caught writing" % what)
                    continue
                caught += 1
                if not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == sig):
                    problems.append("%s: wait status %#x, not a death by the signal" % (what, status))
                left = temporaries(folder, prefix)
                if left:
                    problems.append("%s: left %s" % (what, ", ".join(left)))
                    for t in left:
                        remove(os.path.join(folder, t))
                if os.path.exists(result):
                    problems.append("%s: %s appeared though the write was interrupted" % (what, result))
                    remove(result)
            what = "%s, SIGINT ignored" % name
            status = interrupt_mid_write(argv, env, folder, caught_writing, signal.SIGINT, ignore=True)
            if status is not None and not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
                problems.append("%s: wait status %#x, not exit 0" % (what, status))
            elif not os.path.exists(result) or temporaries(folder, prefix):
                problems.append("%s: no complete result, or a temporary left" % what)
            remove(result)
    for p in problems:
        print(p)
    print("interrupt: %d runs stopped mid-write, %d problems" % (caught, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
