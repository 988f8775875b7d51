#!/usr/bin/env python3
"""readme_examples.py: the README shows what really happens.

Every C program in README.md compiles (with -Wall -Wextra -Werror) against the libraries just
built and prints exactly the output shown after it. An output block may start with the command
line ("$ cc NAME.c ... && ./a.out && heaptool ARGS"): the program is built as NAME.c and the
heaptool commands after it run too, in the same scratch directory. A program with no output block
is built, and run on a sample dump when it takes a file argument.

Every shell session of the tour ("$ heaptool ..." blocks) runs in a scratch directory that sees
samples/, and each command prints what is shown under it (stdout, then stderr; blank lines at the
end of each are the README's spacing; a line "..." stands for lines left out). "$ cat FILE" shows a file the session then uses, and
"$ echo $?" the last exit status. Sessions that run other programs (python3, node) are left out.

    CC=cc BUILD=build LDLIBS="..." HEAPTOOL=build/heaptool tests/readme_examples.py
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def examples(text):
    """Yields (line, code, command, expected): command and expected are None without output."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if lines[i] != "```c":
            i += 1
            continue
        start = i + 1
        end = lines.index("```", start)
        code = "\n".join(lines[start:end]) + "\n"
        j = end + 1
        while j < len(lines) and lines[j] == "":
            j += 1
        command = expected = None
        if j < len(lines) and lines[j] == "```":
            close = lines.index("```", j + 1)
            block = lines[j + 1:close]
            if block and block[0].startswith("$ "):
                command, block = block[0][2:], block[1:]
            expected = "\n".join(block) + "\n"
            j = close + 1
        yield start, code, command, expected
        i = j


def sessions(text):
    """Yields (line, [(command, expected output)]) for each block that starts with "$ "."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if lines[i] != "```" or i + 1 >= len(lines) or not lines[i + 1].startswith("$ "):
            i += 1
            continue
        close = lines.index("```", i + 1)
        steps = []
        for line in lines[i + 1:close]:
            if line.startswith("$ "):
                steps.append([line[2:], []])
            else:
                steps[-1][1].append(line)
        yield i + 2, [(c, "\n".join(out)) for c, out in steps]
        i = close + 1


def shows(expected, got):
    """Whether got is what expected shows: the same lines, where a line "..." stands for any
    number of lines left out."""
    want, have = expected.strip("\n").split("\n"), got.strip("\n").split("\n")
    pieces, piece = [], []
    for line in want:
        if line == "...":
            pieces.append(piece)
            piece = []
        else:
            piece.append(line)
    pieces.append(piece)
    if len(pieces) == 1:
        return want == have
    at = 0
    for k, piece in enumerate(pieces):
        n = len(piece)
        if k == 0:
            if have[:n] != piece:
                return False
            at = n
        elif k == len(pieces) - 1:
            return len(have) - n >= at and (n == 0 or have[len(have) - n:] == piece)
        else:
            while at + n <= len(have) and have[at:at + n] != piece:
                at += 1
            if at + n > len(have):
                return False
            at += n
    return True


def run_session(steps, heaptool, tmp):
    """None when it ran as shown, the first difference otherwise, "skip" when it cannot run. The
    sessions share tmp, in README order: a file one shows with cat, a later one may use."""
    if not all(c.startswith(("heaptool ", "cat ")) or c == "echo $?" for c, _ in steps):
        return "skip"
    status = 0
    for command, expected in steps:
        args = shlex.split(command)
        if args[0] == "cat":
            with open(os.path.join(tmp, args[1]), "w", encoding="utf-8") as f:
                f.write(expected + "\n")
            continue
        if args[0] == "echo":
            got = str(status)
        else:
            files = [a for a in args[1:] if a.endswith((".json", ".gz", ".heapsnapshot"))]
            if any(not os.path.exists(os.path.join(tmp, a)) for a in files):
                return "skip"
            r = subprocess.run([heaptool] + args[1:], cwd=tmp, capture_output=True, text=True, timeout=60)
            status = r.returncode
            got = r.stdout.rstrip("\n") + ("\n" + r.stderr.rstrip("\n") if r.stderr else "")
        if not shows(expected, got):
            return f"$ {command}\nprints\n{got}\nbut README.md shows\n{expected}"
    return None


def main():
    cc = os.environ.get("CC", "cc")
    build = os.path.join(ROOT, os.environ.get("BUILD", "build"))
    heaptool = os.path.abspath(os.environ.get("HEAPTOOL", os.path.join(build, "heaptool")))
    ldlibs = shlex.split(os.environ.get("LDLIBS", "-lcjson -lgvc -lcgraph -lcdt -lz -lm -lpthread"))
    # The README draws graphs: under ASan, the slow unwinder (why: tests/lsan.supp).
    os.environ.setdefault("ASAN_OPTIONS", "fast_unwind_on_malloc=0")
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    passed = failed = 0
    for line, code, command, expected in examples(text):
        name = "example.c"
        heaptool_args = []
        if command:
            parts = [p.strip() for p in command.split("&&")]
            m = re.match(r"cc (\S+\.c) ", parts[0])
            name = m.group(1) if m else name
            heaptool_args = [shlex.split(p)[1:] for p in parts[1:] if p.startswith("heaptool ")]
        where = f"README.md:{line}: {name}"
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, name), "w", encoding="utf-8") as f:
                f.write(code)
            build_cmd = [cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-I" + os.path.join(ROOT, "include"),
                         name, os.path.join(build, "libhm.a"), os.path.join(build, "libheapdump.a")] + ldlibs
            r = subprocess.run(build_cmd, cwd=tmp, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"FAIL {where}: does not build:\n{r.stderr[:2000]}")
                failed += 1
                continue
            args = ["./a.out"]
            if "argv[1]" in code:
                args.append(os.path.join(ROOT, "samples/dumps/cycle.json"))
            r = subprocess.run(args, cwd=tmp, capture_output=True, text=True, timeout=60)
            out = r.stdout
            for a in heaptool_args:
                if r.returncode != 0:
                    break
                r = subprocess.run([heaptool] + a, cwd=tmp, capture_output=True, text=True, timeout=60)
                out += r.stdout
            if r.returncode != 0 or r.stderr:
                print(f"FAIL {where}: exit status {r.returncode}, stderr:\n{r.stderr[:2000]}")
                failed += 1
            elif expected is not None and out != expected:
                print(f"FAIL {where}: prints\n{out}which README.md does not show; it shows\n{expected}")
                failed += 1
            else:
                passed += 1
    skipped = 0
    with tempfile.TemporaryDirectory() as tmp:
        os.symlink(os.path.join(ROOT, "samples"), os.path.join(tmp, "samples"))
        for line, steps in sessions(text):
            problem = run_session(steps, heaptool, tmp)
            if problem == "skip":
                skipped += 1
            elif problem:
                print(f"FAIL README.md:{line}: {problem}")
                failed += 1
            else:
                passed += 1
    print(f"README examples: {passed} passed, {failed} failed, {skipped} sessions not run (python3, node)")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
