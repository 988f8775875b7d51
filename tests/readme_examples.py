#!/usr/bin/env python3
"""readme_examples.py: every C program in README.md compiles (with -Wall -Wextra -Werror) against
the libraries just built, and prints exactly the output shown after it. An output block may start
with the command line ("$ cc NAME.c ... && ./a.out && heaptool ARGS"): the program is built as
NAME.c and the heaptool commands after it run too, in the same scratch directory. A program with
no output block is built, and run on a sample dump when it takes a file argument.

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


def main():
    cc = os.environ.get("CC", "cc")
    build = os.path.join(ROOT, os.environ.get("BUILD", "build"))
    heaptool = os.path.abspath(os.environ.get("HEAPTOOL", os.path.join(build, "heaptool")))
    ldlibs = shlex.split(os.environ.get("LDLIBS", "-lcjson -lgvc -lcgraph -lcdt -lz -lm -lpthread"))
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
            if r.returncode != 0:
                print(f"FAIL {where}: exit status {r.returncode}\n{r.stderr[:2000]}")
                failed += 1
            elif expected is not None and out != expected:
                print(f"FAIL {where}: prints\n{out}which README.md does not show; it shows\n{expected}")
                failed += 1
            else:
                passed += 1
    print(f"README examples: {passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
