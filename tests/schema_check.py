#!/usr/bin/env python3
"""schema_check.py FILE...: validates heapdumps (plain or gzip) against
formats/heapdump-v1.schema.json with the jsonschema package (Debian's python3-jsonschema).
Prints one line per file and exits 1 if any file fails."""
import json
import os
import sys

import jsonschema

from dump_file import load

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(HERE, "..", "formats", "heapdump-v1.schema.json")


def main(paths):
    with open(SCHEMA) as f:
        schema = json.load(f)
    validator = jsonschema.Draft202012Validator(schema)
    failed = 0
    for path in paths:
        errors = sorted(validator.iter_errors(load(path)), key=lambda e: list(e.path))
        if errors:
            failed += 1
            where = "/".join(str(p) for p in errors[0].path)
            print("%s: %d schema errors; first at /%s: %s" % (path, len(errors), where, errors[0].message))
        else:
            print("%s: valid" % path)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
