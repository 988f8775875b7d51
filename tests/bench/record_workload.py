"""record_workload.py: a malloc-heavy CPython workload for run_record.sh (run with
PYTHONMALLOC=malloc, so that every object is a malloc block): dicts of lists and strings built,
serialized, parsed and dropped."""
import json

d = {}
for i in range(150000):
    d[str(i)] = [i, str(i) * 2, {"k": i}]
e = json.loads(json.dumps(d))
print(len(e))
