"""dump_file.py: a heapdump file as Python data, plain or gzip (told by its first bytes, as
heaptool tells them), for the test scripts that read dumps without heaptool."""
import gzip
import json


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return json.loads(data)
