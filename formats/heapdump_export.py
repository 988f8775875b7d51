#!/usr/bin/env python3
"""heapdump_export.py: writes the live heap of this CPython process as a heapdump v1 file.

From the command line, running a script and dumping its heap when it ends (returns, exits or
raises):

    python3 formats/heapdump_export.py -o heap.json [--name NAME] script.py [args...]
    python3 formats/heapdump_export.py -o heap.json.gz -m package.module [args...]
    heapdump-export -o heap.json script.py         (the same, once `make install` has run)

From inside a program (with formats/ on sys.path):

    import heapdump_export
    heapdump_export.dump("heap.json")

The dump (formats/heapdump.md; `heaptool validate` accepts it) holds every object the gc module
can see plus the untracked objects they reference (ints, strings, atomic tuples and dicts), with
their types by qualified name, sys.getsizeof sizes, reference counts and short labels. Each
object's references are exactly gc.get_referents(), named the way objgraph names edges:
attribute names, dict keys, "[i]" indices, "__dict__", "__class__", the closure's variable
names for its cells. Weak references (weakref.ref, proxies) are weak links; the modules of
sys.modules are named roots, gc.garbage garbage roots, and objects whose reference count exceeds
the references found in the heap (held by C code or a running frame) external roots.

Under tracemalloc (python3 -X tracemalloc=25, or tracemalloc.start(25)), each object's
allocation traceback is its site, with all its frames in the format's frames and stacks
(heapdump.md §5.1); the site's file and line are the innermost frame, the one tracemalloc's
statistics('lineno') groups by (tracemalloc records no function names). `heaptool stats --by
site` and `diff --by site` then give what statistics('lineno') and compare_to give, for the
objects the dump holds, except where a block is not an object: a list's item array or a dict's
tables (tracemalloc counts them as blocks of their own, sys.getsizeof within the object),
objects kept in a free list (gc.collect() empties them), objects gc does not list and no listed
object refers to, an int's block that holds a digit more than its value needs, and, on CPython
3.11, instances with inline attributes (get_object_traceback() does not find their block, so
they have no site). The command line leaves its own frames out of the outer end of each stack.
A FILE ending in .gz is gzip-compressed.

The file is written record by record to a temporary file beside the target, then renamed. Only
the standard library is used (CPython 3.8 or later). Other threads keep running meanwhile: a
reference they make to an object made after the heap was listed is left out (dump() says how
many), so the file stays consistent.

Dumping changes the heap in one way: an instance of a Python class that keeps its attributes
without a dict (3.11+ until someone asks for __dict__; earlier versions until the first
attribute is set) gets its __dict__ made, so that the dump can name the attribute edges. The
dump shows the heap after that.
"""

import builtins
import gc
import json
import os
import sys
import tempfile
import time
import types
import weakref
import zlib

try:
    import _tracemalloc  # the C half of tracemalloc: importing it adds no Python code
except ImportError:  # not CPython
    _tracemalloc = None

__all__ = ["dump", "prepare", "type_name"]

PRODUCER = "heapdump_export.py 0.1.0 (CPython %d.%d.%d)" % sys.version_info[:3]
_HEAPTYPE = 1 << 9
_HAVE_GC = 1 << 14
_MANAGED_DICT = 1 << 4 if sys.version_info >= (3, 11) else 0
_IMMORTAL = 1 << 31 if sys.version_info >= (3, 12) else None
_MAX_TEXT = 80
_quote = json.encoder.encode_basestring_ascii


def type_name(t):
    """A type's qualified name as objgraph's long names have it: "dict", "collections.OrderedDict"."""
    module = type.__getattribute__(t, "__module__")
    qualname = type.__getattribute__(t, "__qualname__")
    if not isinstance(module, str) or module == "builtins":
        return str(qualname)
    return "%s.%s" % (module, qualname)


def _cut(text):
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT - 3] + "..."


def prepare():
    """Gives every instance of a Python class its __dict__ (see the module's docstring). dump()
    does it first; a caller comparing the dump with gc.get_objects() calls it before that."""
    for o in gc.get_objects():
        t = type(o)
        if t.__flags__ & _HEAPTYPE and (t.__dictoffset__ or t.__flags__ & _MANAGED_DICT):
            try:
                object.__getattribute__(o, "__dict__")
            except Exception:  # a class that hides or forbids __dict__: its edges stay unnamed
                pass


# --- edge names ----------------------------------------------------------------------------
# Names come from side-effect-free reads only: a read that made an object (a function's
# __dict__ or __annotations__, a frame's f_locals) would put a reference in the heap that was
# not there when its objects were listed. Names are matched to gc.get_referents() by identity.

_FUNCTION_ATTRS = ("__code__", "__globals__", "__builtins__", "__module__", "__defaults__",
                   "__kwdefaults__", "__doc__", "__name__", "__qualname__", "__closure__")
_TYPE_ATTRS = ("__mro__", "__bases__", "__base__", "__module__")
# From 3.11 on, f_back and a generator's frame are made on demand: reading them is not free.
_MADE_ON_DEMAND = ("f_back", "gi_frame", "cr_frame", "ag_frame") if sys.version_info >= (3, 11) else ()
_ATTRS_BY_TYPE = tuple((cls, tuple(a for a in attrs if a not in _MADE_ON_DEMAND)) for cls, attrs in (
    (types.MethodType, ("__func__", "__self__")),
    (types.BuiltinFunctionType, ("__self__", "__module__")),
    (types.FrameType, ("f_back", "f_code", "f_globals", "f_builtins", "f_trace")),
    (types.GeneratorType, ("gi_frame", "gi_code", "__name__", "__qualname__")),
    (types.CoroutineType, ("cr_frame", "cr_code", "__name__", "__qualname__")),
    (types.AsyncGeneratorType, ("ag_frame", "ag_code", "__name__", "__qualname__")),
    (types.TracebackType, ("tb_next", "tb_frame")),
    (property, ("fget", "fset", "fdel", "__doc__")),
    (staticmethod, ("__func__",)),
    (classmethod, ("__func__",)),
    (types.CellType if hasattr(types, "CellType") else type(None), ("cell_contents",)),
    (weakref.ReferenceType, ("__callback__",)),
    (BaseException, ("args", "__traceback__", "__context__", "__cause__")),
))


_ATOMS = (str, bytes, int, float, complex, bool, type(None))


def _key_text(k):
    """A dict key as an edge name: a string as it is, an atom or a tuple of atoms as its repr,
    anything else as its label or type name."""
    if isinstance(k, str):
        return _cut(str.__str__(k))
    if type(k) is tuple and all(type(x) in _ATOMS for x in k):
        inner = ", ".join(_label(x) for x in k)
        return _cut("(%s%s)" % (inner, "," if len(k) == 1 else ""))
    return _label(k) or type_name(type(k))


def _candidates(o, closure_of, objs, index):
    """{id(target): [name, ...]} for what o may refer to, in traverse order."""
    names = {}

    def add(target, name):
        names.setdefault(id(target), []).append(name)

    t = type(o)
    if isinstance(o, dict):
        for k, v in dict.items(o):
            add(v, _key_text(k))
    elif isinstance(o, (list, tuple)):
        get = list.__getitem__ if isinstance(o, list) else tuple.__getitem__
        size = list.__len__(o) if isinstance(o, list) else tuple.__len__(o)
        func = closure_of.get(id(o))
        freevars = objs[index[func]].__code__.co_freevars if func is not None else ()
        for i in range(size):
            add(get(o, i), freevars[i] if i < len(freevars) else "[%d]" % i)
    if isinstance(o, type):
        add(gc.get_referents(type.__getattribute__(o, "__dict__"))[0], "__dict__")
        for attr in _TYPE_ATTRS:
            add(type.__getattribute__(o, attr), attr)
    elif isinstance(o, types.FunctionType):
        for attr in _FUNCTION_ATTRS:
            if hasattr(types.FunctionType, attr):
                add(getattr(o, attr), attr)
    elif isinstance(o, types.ModuleType):
        add(object.__getattribute__(o, "__dict__"), "__dict__")
    for cls, attrs in _ATTRS_BY_TYPE:
        if isinstance(o, cls):
            for attr in attrs:
                try:
                    add(object.__getattribute__(o, attr), attr)
                except Exception:  # an empty cell, a slot never set
                    pass
    if t.__flags__ & _HEAPTYPE:
        add(t, "__class__")
        if t.__dictoffset__ or t.__flags__ & _MANAGED_DICT:
            try:
                add(object.__getattribute__(o, "__dict__"), "__dict__")
            except Exception:
                pass
        for cls in t.__mro__:
            if not cls.__flags__ & _HEAPTYPE:
                continue
            slots = cls.__dict__.get("__slots__", ())
            for slot in (slots,) if isinstance(slots, str) else slots:
                private = slot.startswith("__") and not slot.endswith("__")
                member = cls.__dict__.get("_%s%s" % (cls.__name__.lstrip("_"), slot) if private else slot)
                if isinstance(member, types.MemberDescriptorType):
                    try:
                        add(member.__get__(o, t), slot)
                    except AttributeError:  # not set
                        pass
    return names


def _edge_names(o, refs, closure_of, objs, index):
    names = _candidates(o, closure_of, objs, index)
    out = []
    for r in refs:
        queue = names.get(id(r))
        out.append(queue.pop(0) if queue else "")
    return out


# --- labels --------------------------------------------------------------------------------

def _label(o):
    """A short repr, from the object's own type only (never user __repr__ code); None when the
    type name says enough."""
    try:
        if isinstance(o, str):
            return _cut(str.__repr__(o))
        if isinstance(o, (bytes, bytearray)):
            return _cut((bytes.__repr__ if isinstance(o, bytes) else bytearray.__repr__)(o))
        if isinstance(o, bool) or o is None or o is Ellipsis or o is NotImplemented:
            return repr(o)
        if isinstance(o, int):
            if int.bit_length(o) > 200:
                return "<int of %d bits>" % int.bit_length(o)
            return int.__repr__(o)
        if isinstance(o, (float, complex)):
            return (float.__repr__ if isinstance(o, float) else complex.__repr__)(o)
        for base in (dict, list, tuple, set, frozenset):
            if isinstance(o, base):
                n = base.__len__(o)
                return "%d item%s" % (n, "" if n == 1 else "s")
        if isinstance(o, type):
            return _cut(type_name(o))
        if isinstance(o, types.ModuleType):
            return _cut(str(object.__getattribute__(o, "__name__")))
        if isinstance(o, (types.FunctionType, types.BuiltinFunctionType)):
            return _cut("%s()" % o.__qualname__)
        if isinstance(o, types.MethodType):
            return _cut("%s() (bound)" % o.__func__.__qualname__)
        if isinstance(o, types.CodeType):
            return _cut("%s at %s:%d" % (o.co_name, o.co_filename, o.co_firstlineno))
        if isinstance(o, types.FrameType):
            return _cut("%s:%d" % (o.f_code.co_filename, o.f_lineno))
        if isinstance(o, weakref.ReferenceType):
            target = weakref.ReferenceType.__call__(o)
            return "<weakref to %s>" % (_cut(type_name(type(target))) if target is not None else "nothing")
    except Exception:  # a broken object: no label rather than no dump
        return None
    return None


# --- the walk --------------------------------------------------------------------------------

def _own_codes():
    return {f.__code__ for f in globals().values() if isinstance(f, types.FunctionType)}


def _discover(objs, index, own_frames):
    """Adds every referent not listed yet (untracked objects, and what only they reach) and
    every live referent of a weak reference; returns {id(closure tuple): id(function)}."""
    closure_of = {}
    i = 0
    while i < len(objs):
        o = objs[i]
        i += 1
        if id(o) in own_frames:
            continue
        more = gc.get_referents(o)
        target = None
        if isinstance(o, weakref.ReferenceType):
            target = weakref.ReferenceType.__call__(o)
            if target is not None:
                more.append(target)
        elif isinstance(o, types.FunctionType) and o.__closure__ is not None:
            closure_of[id(o.__closure__)] = id(o)
        for r in more:
            if id(r) not in index:
                index[id(r)] = len(objs)
                objs.append(r)
        more = target = None
    return closure_of


def _weak_referents(objs, index):
    """{index of a weak reference object: index of its referent}, proxies included."""
    out = {}
    for i in range(len(objs)):
        if type(objs[i]).__weakrefoffset__:
            for j in [index.get(id(w)) for w in weakref.getweakrefs(objs[i])]:
                if j is not None:
                    out[j] = i
    return out


def _write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]


class _Out:
    """Buffered writes to a file descriptor. Made only once the heap is listed: a file object
    made before would be listed too, and its buffer would change while it is written."""

    def __init__(self, fd, gzip):
        self.fd = fd
        self.gzip = gzip  # a zlib compressor writing the gzip format, or None
        self.parts = []
        self.size = 0

    def write(self, text):
        self.parts.append(text)
        self.size += len(text)
        if self.size >= 1 << 20:
            self.flush()

    def array(self, name, first):
        self.write('%s"%s": [' % ("" if first else "\n ],\n ", name))

    def flush(self, last=False):
        data = "".join(self.parts).encode("ascii")
        if self.gzip:
            data = self.gzip.compress(data) + (self.gzip.flush() if last else b"")
        _write_all(self.fd, data)
        self.parts = []
        self.size = 0


def _tracebacks(objs, own_frames):
    """Under tracemalloc, each object's allocation traceback as a site with its whole stack
    (formats/heapdump.md §5, §5.1): returns (frames, stacks, sites, site_of), the first three
    lists of records by id, site_of[i] the site id of objs[i] or None (not traced: made before
    tracing started, or a block tracemalloc cannot find). A site's file and line are the
    innermost frame, the one tracemalloc's statistics('lineno') groups by; tracemalloc records
    no function names. The frames of this module that ran the script (_run) are left out at the
    outer end, so that a stack reads as it would under `python3 -X tracemalloc script.py`."""
    frame_ids, stack_ids, site_ids = {}, {}, {}
    frames, stacks, sites = [], [], []
    site_of = [None] * len(objs)
    own_file = _run.__code__.co_filename
    for i in range(len(objs)):
        if i in own_frames:
            continue
        tb = _tracemalloc._get_object_traceback(objs[i])  # innermost frame first
        if not tb:
            continue
        n = len(tb)
        while n > 1 and tb[n - 1][0] == own_file:
            n -= 1
        node = None
        for filename, lineno in reversed(tb[:n]):  # from the outermost frame in
            f = frame_ids.get((filename, lineno))
            if f is None:
                f = frame_ids[(filename, lineno)] = len(frames)
                frames.append('{"id": %d, "file": %s, "line": %d}' % (f, _quote(filename), lineno))
            parent = node
            node = stack_ids.get((f, parent))
            if node is None:
                node = stack_ids[(f, parent)] = len(stacks)
                stacks.append('{"id": %d, "frame": %d%s}' % (
                    node, f, "" if parent is None else ', "parent": %d' % parent))
        site = site_ids.get(node)
        if site is None:
            site = site_ids[node] = len(sites)
            sites.append('{"id": %d, "file": %s, "line": %d, "stack": %d}' % (
                site, _quote(tb[0][0]), tb[0][1], node))
        site_of[i] = site
    return frames, stacks, sites, site_of


def _listed_roots(index, listed):
    """Named roots for the modules of sys.modules, garbage roots for gc.garbage; counts each
    listing in listed. (A function of its own so that no local outlives it to skew the
    reference counts read next.)"""
    roots = []
    for key, module in list(sys.modules.items()):
        j = index.get(id(module))
        if j is not None and isinstance(key, str):
            roots.append('{"id": %d, "kind": "named", "name": %s}' % (id(module), _quote(key)))
            listed[j] += 1
    for g in gc.garbage:
        j = index.get(id(g))
        if j is not None:
            roots.append('{"id": %d, "kind": "garbage"}' % id(g))
            listed[j] += 1
    return roots


def _write(w, objs, index, closure_of, weak_of, gens, frozen, own_frames, gc_enabled, traced):

    type_ids = {}
    w.array("types", True)
    for i in range(len(objs)):
        if i in own_frames:
            continue
        t = type(objs[i])
        if id(t) not in type_ids:
            tid = type_ids[id(t)] = len(type_ids)
            fields = '{"id": %d, "name": %s, "size": %d' % (tid, _quote(type_name(t)), t.__basicsize__)
            if t.__flags__ & _HAVE_GC:
                fields += ', "gc": true'
            if any("__del__" in type.__getattribute__(c, "__dict__") for c in t.__mro__):
                fields += ', "finalizer": true'
            w.write("%s\n  %s}" % ("," if tid else "", fields))
    t = None

    site_of = None
    if traced:
        frames, stacks, sites, site_of = _tracebacks(objs, own_frames)
        for section, records in (("frames", frames), ("stacks", stacks), ("sites", sites)):
            w.array(section, False)
            w.write(",".join("\n  " + r for r in records))
        frames = stacks = sites = None

    incoming = [0] * len(objs)
    unknown = 0
    w.array("objects", False)
    first = True
    for i in range(len(objs)):
        if i in own_frames:
            continue
        o = objs[i]
        rc = sys.getrefcount(o) - 3  # held here by objs, o and the call's argument
        refs = gc.get_referents(o)
        names = _edge_names(o, refs, closure_of, objs, index)
        parts = ['{"id": %d, "type": %d' % (id(o), type_ids[id(type(o))])]
        if site_of is not None and site_of[i] is not None:
            parts.append(', "site": %d' % site_of[i])
        try:
            parts.append(', "size": %d' % sys.getsizeof(o))
        except Exception:  # a broken __sizeof__
            parts.append(', "size": %d' % object.__sizeof__(o))
        flags = []
        if _IMMORTAL is not None and rc + 3 >= _IMMORTAL:
            flags.append('"immortal"')
        else:
            parts.append(', "rc": %d' % rc)
        label = _label(o)
        if label:
            parts.append(', "label": %s' % _quote(label))
        if gc.is_tracked(o):
            flags.append('"tracked"')
            if i in gens:
                parts.append(', "gen": %d' % gens[i])
            elif frozen:
                flags.append('"frozen"')
        if hasattr(gc, "is_finalized") and gc.is_finalized(o):
            flags.append('"finalized"')
        if flags:
            parts.append(', "flags": [%s]' % ", ".join(flags))
        if refs:
            edges = []
            for r, n in zip(refs, names):
                j = index.get(id(r))
                if j is None:  # made while the heap was written: a bug, but not a broken file
                    unknown += 1
                    continue
                incoming[j] += 1
                edges.append("[%d, %s]" % (id(r), _quote(n)) if n else "[%d]" % id(r))
            parts.append(', "refs": [%s]' % ", ".join(edges))
        w.write("%s\n  %s}" % ("" if first else ",", "".join(parts)))
        first = False
        o = refs = names = r = None

    w.array("weakrefs", False)
    first = True
    for i in range(len(objs)):
        o = objs[i]
        if isinstance(o, (weakref.ReferenceType, weakref.ProxyType, weakref.CallableProxyType)):
            j = weak_of.get(i)
            callback = o.__callback__ is not None if isinstance(o, weakref.ReferenceType) else False
            w.write('%s\n  {"id": %d, "referent": %s, "callback": %s}' % (
                "" if first else ",", id(o), "null" if j is None else id(objs[j]),
                "true" if callback else "false"))
            first = False
    o = None

    w.array("roots", False)
    listed = [0] * len(objs)
    roots = _listed_roots(index, listed)
    for i in range(len(objs)):
        if i in own_frames:
            continue
        rc = sys.getrefcount(objs[i]) - 2  # held here by objs and the call's argument
        if (_IMMORTAL is None or rc + 2 < _IMMORTAL) and rc > incoming[i] + listed[i]:
            roots.append('{"id": %d, "kind": "external"}' % id(objs[i]))
    w.write(",".join("\n  " + r for r in roots))

    stats = gc.get_stats()
    generations = ", ".join(
        '{"threshold": %d, "count": %d, "collections": %d, "collected": %d, "uncollectable": %d}' % (
            threshold, count, s["collections"], s["collected"], s["uncollectable"])
        for threshold, count, s in zip(gc.get_threshold(), gc.get_count(), stats))
    garbage = ", ".join(str(id(g)) for g in gc.garbage)
    w.write('\n ],\n "gc": {"enabled": %s, "generations": [%s], "frozen": %d, "garbage": [%s]}}\n' % (
        "true" if gc_enabled else "false", generations, frozen, garbage))
    return len(objs) - len(own_frames), sum(incoming), unknown


def _own_frames(objs):
    """Indices of the frames running this module's code (frames are objects before 3.11)."""
    codes = _own_codes()
    return {i for i in range(len(objs)) if isinstance(objs[i], types.FrameType) and objs[i].f_code in codes}


def _index(objs):
    return {id(o): i for i, o in enumerate(objs)}


def _generations(index):
    """{index: generation} of the tracked objects."""
    gens = {}
    for g in range(3):
        for o in gc.get_objects(generation=g):
            i = index.get(id(o))
            if i is not None:
                gens[i] = g
    return gens


def _snapshot(fd, gc_enabled, gzip):
    # This frame must hold no cell (a comprehension's or a closure's): made when the frame
    # starts, a cell would be listed below and then, filled with objs, dumped with it.
    objs = gc.get_objects()
    index = _index(objs)
    own = _own_frames(objs)
    closure_of = _discover(objs, index, set(map(id, map(objs.__getitem__, own))))
    gens = _generations(index)
    weak_of = _weak_referents(objs, index)
    out = _Out(fd, gzip)
    traced = _tracemalloc is not None and _tracemalloc.is_tracing()
    counts = _write(out, objs, index, closure_of, weak_of, gens, gc.get_freeze_count(), own, gc_enabled, traced)
    out.flush(last=True)
    return counts


def dump(path, name=None):
    """Writes the heap of this process to path (atomically) as heapdump v1, gzip-compressed when
    path ends in ".gz"; name goes into meta.name. While tracemalloc traces, each object's
    allocation traceback is its site. Returns (objects, references, references left out); the
    last is 0 unless something made objects while the heap was written (and referred to them
    from it)."""
    prepare()
    # The file is made (in the target's directory, renamed over it once complete) and the meta
    # written before the heap is listed: making them fills caches (tempfile's names, the
    # encodings), which would otherwise refer to objects made after the listing.
    path = os.path.abspath(path)
    fd, tmp = tempfile.mkstemp(prefix=".heapdump-", suffix=".tmp", dir=os.path.dirname(path))
    mask = os.umask(0)  # mkstemp makes 0600; give the file the usual mode, as heaptool does
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)
    meta = {"producer": PRODUCER, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "pid": os.getpid(), "pointer_size": 8 if sys.maxsize > 2 ** 32 else 4}
    if name is not None:
        meta["name"] = name
    gzip = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS) if path.endswith(".gz") else None
    enabled = gc.isenabled()
    gc.disable()  # nothing may be freed or moved between generations while the heap is listed
    try:
        head = ('{"format": "heapdump", "version": 1,\n "meta": %s,\n ' % json.dumps(meta)).encode("ascii")
        _write_all(fd, gzip.compress(head) if gzip else head)
        meta = head = None
        counts = _snapshot(fd, enabled, gzip)
        os.fsync(fd)
        os.close(fd)
        os.replace(tmp, path)
        return counts
    except BaseException:
        try:
            os.close(fd)
        except OSError:
            pass
        os.unlink(tmp)
        raise
    finally:
        if enabled:
            gc.enable()


# --- the command line ------------------------------------------------------------------------

_USAGE = """usage: %(prog)s -o FILE [--name NAME] [--] SCRIPT [ARGS...]
       %(prog)s -o FILE [--name NAME] -m MODULE [ARGS...]
Runs SCRIPT, or MODULE as python3 -m does, as __main__ with ARGS and, when it ends (returns,
exits or raises), writes the process's heap to FILE as a heapdump v1 file (formats/heapdump.md)
for heaptool; a FILE ending in .gz is gzip-compressed. The options end at SCRIPT, at -m MODULE
or at --. Under python3 -X tracemalloc=N, each object's allocation traceback is its site.
Exit status: the script's (1 when it raises, its traceback on stderr); 2 when the command line
is wrong, FILE cannot be written or SCRIPT or MODULE cannot be loaded, before anything runs."""


class _UsageError(Exception):
    pass


def _parse(argv):
    """{"out", "name", "module", "script", "args"} from the command line, or None for --help."""
    opts = {"out": None, "name": None, "module": None, "script": None}
    args = list(argv)
    keys = {"-o": "out", "--output": "out", "--name": "name", "-m": "module"}
    while args and opts["module"] is None:
        arg = args.pop(0)
        if arg == "--":
            break
        if arg in ("-h", "--help"):
            return None
        if arg.startswith("--"):
            opt, eq, value = arg.partition("=")
        else:  # -oFILE, -mMODULE
            opt, value = arg[:2], arg[2:]
            eq = value
        if opt not in keys:
            if arg.startswith("-") and arg != "-":
                raise _UsageError("unknown option: %s" % arg)
            args.insert(0, arg)  # SCRIPT: the options end here
            break
        if not eq:
            if not args:
                raise _UsageError("%s needs a value" % opt)
            value = args.pop(0)
        opts[keys[opt]] = value
    if opts["module"] is None:
        if not args:
            raise _UsageError("need SCRIPT or -m MODULE")
        opts["script"] = args.pop(0)
    if not opts["out"]:
        raise _UsageError("need -o FILE")
    opts["args"] = args
    return opts


def _unwritable(path):
    """Why FILE cannot be written, or None. Checked before the script runs, so that a long run
    is not lost to a mistyped -o: the dump is made beside FILE and renamed over it."""
    path = os.path.abspath(path)
    if os.path.isdir(path):
        return os.strerror(21)  # EISDIR
    try:
        fd, tmp = tempfile.mkstemp(prefix=".heapdump-", suffix=".tmp", dir=os.path.dirname(path))
    except OSError as e:
        return e.strerror or str(e)
    os.close(fd)
    os.unlink(tmp)
    return None


def _load(opts):
    """(code, the __main__ module's attributes, sys.argv[0]) for the script or the module, with
    sys.path[0] set as python3 does: the script's directory, or the current one for -m."""
    if opts["module"] is not None:
        import runpy
        sys.path[0] = os.getcwd()
        _, spec, code = runpy._get_module_details(opts["module"])  # as python3 -m, packages too
        attrs = {"__file__": spec.origin, "__cached__": spec.cached, "__loader__": spec.loader,
                 "__package__": spec.parent, "__spec__": spec}
        return code, attrs, spec.origin
    script = opts["script"]
    with open(script, "rb") as f:
        code = compile(f.read(), script, "exec")
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    return code, {"__file__": script}, script


def _user_traceback(e):
    """e's traceback from the script's outermost frame in, without this module's frames."""
    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == _run.__code__.co_filename:
        tb = tb.tb_next
    return tb


def _run(argv, prog="heapdump_export.py"):
    """The command line; prog is the name it was run by (heapdump-export once installed)."""
    usage = _USAGE % {"prog": prog}
    try:
        opts = _parse(argv)
    except _UsageError as e:
        sys.stderr.write("%s: %s\n%s\n" % (prog, e, usage))
        return 2
    if opts is None:
        print(usage)
        return 0
    out = opts["out"]
    problem = _unwritable(out)
    if problem:
        sys.stderr.write("%s: cannot write %s: %s\n" % (prog, out, problem))
        return 2
    try:
        code, attrs, argv0 = _load(opts)
    except (OSError, SyntaxError, ImportError) as e:
        what = "module '%s'" % opts["module"] if opts["module"] is not None else "'%s'" % opts["script"]
        sys.stderr.write("%s: cannot run %s: %s\n" % (prog, what, e))
        return 2
    sys.argv = [argv0] + opts["args"]
    main = types.ModuleType("__main__")
    main.__dict__.update(attrs)
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    attrs = None
    status = 0
    try:
        exec(code, main.__dict__)
    except SystemExit as e:
        status = e.code
    except BaseException as e:  # shown as python3 shows it, from the script's own frames
        tb = _user_traceback(e)
        sys.excepthook(type(e), e.with_traceback(tb), tb)  # the hook shows e.__traceback__
        tb = None
        status = 1
    finally:
        objects, references, unknown = dump(out, opts["name"])
        sys.stderr.write("%s: wrote %s: %d objects, %d references%s\n" % (
            prog, out, objects, references,
            " (%d reference%s to objects made during the dump left out)" % (unknown, "s" if unknown > 1 else "")
            if unknown else ""))
    return status


if __name__ == "__main__":
    sys.exit(_run(sys.argv[1:], os.path.basename(sys.argv[0])))
