#!/bin/sh
# progress_cases.sh: loading a dump of more than a few MB with stderr on a terminal (a pty) draws
# a progress bar there (the file's name, bytes done of the total, percent, rate), redrawn in
# place and erased at the end; nothing when stderr is a file or a pipe, nor with --quiet; and
# standard output is the same either way. Exits 1 when a case fails.
set -u
: "${HEAPTOOL:?set HEAPTOOL to the heaptool binary}"
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

python3 - "$HEAPTOOL" "$tmp" <<'EOF'
import os, pty, re, subprocess, sys

heaptool, tmp = sys.argv[1], sys.argv[2]
failed = 0

def fail(what):
    global failed
    failed += 1
    print("FAIL progress:", what)

# About 12 MB: 120000 objects, each with a label and two references.
dump = os.path.join(tmp, "big.json")
n = 120000
with open(dump, "w") as f:
    f.write('{"format": "heapdump", "version": 1, "meta": {"producer": "progress test"},\n'
            ' "types": [{"id": 0, "name": "Item", "size": 48, "gc": true}],\n "objects": [\n')
    for i in range(1, n + 1):
        f.write('  {"id": %d, "type": 0, "size": 48, "label": "item number %d of the progress test", '
                '"refs": [[%d, "next"], [%d, "prev"]]}%s\n' % (i, i, i % n + 1, (i - 2) % n + 1, "," if i < n else ""))
    f.write(' ],\n "roots": [{"id": 1, "kind": "named", "name": "head"}]\n}\n')

def run(args, stderr_tty):
    """(exit status, stdout, stderr) of heaptool args, stderr on a pty or a pipe."""
    if not stderr_tty:
        p = subprocess.run([heaptool] + args, capture_output=True)
        return p.returncode, p.stdout, p.stderr
    master, slave = pty.openpty()
    p = subprocess.Popen([heaptool] + args, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    err = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        err += chunk
    out = p.stdout.read()
    p.wait()
    os.close(master)
    return p.returncode, out, err

status, out_tty, err = run(["stats", "--top", "1", dump], True)
bar = re.compile(rb"\r\x1b\[Kloading [^\r]*big\.json \[[#.]{24}\] [0-9.]+ [KMG]?i?B / [0-9.]+ MiB +[0-9]+% [0-9.]+ [KMG]?i?B/s")
if status != 0:
    fail("stats on a terminal: exit status %d" % status)
elif not bar.search(err):
    fail("no progress bar on a terminal: %r" % err[:300])
elif not err.endswith(b"\r\x1b[K"):
    fail("the bar is not erased at the end: %r" % err[-80:])
else:
    print("progress: on a terminal,", bar.search(err).group(0)[4:].decode().replace(tmp, "$TMP"))

status, out_pipe, err = run(["stats", "--top", "1", dump], False)
if status != 0 or err:
    fail("stderr not a terminal: exit %d, stderr %r" % (status, err[:200]))
if out_pipe != out_tty:
    fail("standard output differs with the bar")

status, out_quiet, err = run(["--quiet", "stats", "--top", "1", dump], True)
if status != 0 or err or out_quiet != out_pipe:
    fail("--quiet on a terminal: exit %d, stderr %r" % (status, err[:200]))

status, _, err = run(["stats", "samples/dumps/cycle.json"], True)
if status != 0 or err:
    fail("a small dump on a terminal: exit %d, stderr %r" % (status, err[:200]))

print("progress: %d failed" % failed)
sys.exit(1 if failed else 0)
EOF
