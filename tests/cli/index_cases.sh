#!/bin/sh
# index_cases.sh: binary indexes (formats/heapdump-binary.md). tests/cli/index_oracle.py: every
# analysis answers byte for byte the same from a dump and from its index (and from the index
# converted back to JSON); tests/cli/index_damage.py: cut, bit-flipped and hand-edited indexes
# are refused with one line, exit 3; tests/cli/index_lazy.py: the same for sections verified on
# first use. Then here: the auto-indexing rules (when an index is made and used, stale ones
# rebuilt or refused), concurrent builds (diff's too), and that no test leaves an index in the
# tree. INDEX_DUMPS: random dumps the oracle draws (default 40; fewer under ASan);
# INDEX_ORACLE=0 skips the oracle (under valgrind: some 2,000 runs of heaptool would take 40
# minutes).
. "$(dirname "$0")/lib.sh"

if [ "${INDEX_ORACLE:-1}" = 0 ]; then
    :
elif python3 tests/cli/index_oracle.py "$HEAPTOOL" "${INDEX_DUMPS:-40}"; then
    pass
else
    fail "index_oracle.py"
fi
# INDEX_DAMAGE=0 skips the damaged copies (make check, under valgrind: test_binary refuses every
# cut and flipped byte under ASan there).
if [ "${INDEX_DAMAGE:-1}" = 0 ]; then
    :
elif python3 tests/cli/index_damage.py "$HEAPTOOL" samples/dumps/*.json tests/data/v8/tiny.heapsnapshot; then
    pass
else
    fail "index_damage.py"
fi
# tests/cli/index_lazy.py: an index whose big sections are verified on first use answers as
# the JSON does, and damage in one of them is refused by the commands that read it (or by
# validate), never answered from (skipped with the damaged copies).
if [ "${INDEX_DAMAGE:-1}" = 0 ]; then
    :
elif python3 tests/cli/index_lazy.py "$HEAPTOOL"; then
    pass
else
    fail "index_lazy.py"
fi

# CYCLE_DENSE (the first component as a bitmap; heaptool writes it only when it saves a MiB):
# the fuzz seed made by tests/fuzz/dense_seed.py from cycle.json's index answers `cycles` as the
# JSON (Tarjan's) does.
tail -c +2 tests/fuzz/seeds/binary/cycle.json.dense.index >"$tmp/dense.hdx"
"$HEAPTOOL" cycles "$tmp/dense.hdx" >"$tmp/dense.out" && HEAPTOOL_INDEX=never "$HEAPTOOL" cycles samples/dumps/cycle.json >"$tmp/dense.want" &&
    cmp -s "$tmp/dense.out" "$tmp/dense.want" && pass || fail "a dense component answered otherwise than the JSON"

d=$tmp/auto
mkdir -p "$d"
cp samples/dumps/cycle.json "$d/small.json"
ht() { "$HEAPTOOL" "$@" >"$tmp/out" 2>"$tmp/err"; }

# auto: a small dump gets no index; always: it does, and the command's answer is the same.
HEAPTOOL_INDEX=auto ht top "$d/small.json" && cp "$tmp/out" "$tmp/want"
[ -e "$d/small.json.hdx" ] && fail "auto mode indexed a small dump" || pass
HEAPTOOL_INDEX=always ht top "$d/small.json" && cmp -s "$tmp/out" "$tmp/want" && [ -s "$d/small.json.hdx" ] &&
    pass || fail "HEAPTOOL_INDEX=always: no index, or another answer"
# A fresh index is used (made unreadable as JSON would be caught: the answer comes from the index).
HEAPTOOL_INDEX=auto ht top "$d/small.json" && cmp -s "$tmp/out" "$tmp/want" && pass || fail "fresh index not used"
# --no-index and HEAPTOOL_INDEX=never leave it alone.
rm "$d/small.json.hdx"
HEAPTOOL_INDEX=always ht --no-index top "$d/small.json" && [ ! -e "$d/small.json.hdx" ] && pass || fail "--no-index made an index"
HEAPTOOL_INDEX=sometimes ht top "$d/small.json"
[ $? = 2 ] && grep -q "HEAPTOOL_INDEX must be never, auto or always" "$tmp/err" && pass || fail "bad HEAPTOOL_INDEX accepted"

# Stale: the dump changes (size, mtime or contents): auto mode rebuilds, an explicit FILE.hdx is refused.
HEAPTOOL_INDEX=always ht stats "$d/small.json"
sed 's/"Node"/"Knot"/' samples/dumps/cycle.json >"$d/small.json"
HEAPTOOL_INDEX=never ht stats "$d/small.json" && cp "$tmp/out" "$tmp/want"
ht stats "$d/small.json.hdx"
[ $? = 3 ] && [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "index: stale" "$tmp/err" &&
    pass || fail "a stale FILE.hdx was not refused: $(cat "$tmp/err")"
HEAPTOOL_INDEX=auto ht stats "$d/small.json" && cmp -s "$tmp/out" "$tmp/want" && pass || fail "a stale index answered"
HEAPTOOL_INDEX=always ht stats "$d/small.json" && cmp -s "$tmp/out" "$tmp/want" && ht stats "$d/small.json.hdx" &&
    pass || fail "the stale index was not rebuilt: $(cat "$tmp/err")"
# Same size, same mtime, another byte: the head/tail hash tells.
cp samples/dumps/cycle.json "$d/same.json"
HEAPTOOL_INDEX=always ht stats "$d/same.json"
stamp=$(stat -c %y "$d/same.json")
sed 's/"Node"/"Nade"/' samples/dumps/cycle.json >"$d/same.json"
touch -d "$stamp" "$d/same.json"
ht stats "$d/same.json.hdx"
[ $? = 3 ] && grep -q "index: stale" "$tmp/err" && pass || fail "an edit with the same size and mtime went unseen"
# A corrupt index beside a dump is rebuilt in auto mode, not trusted.
cp samples/dumps/cycle.json "$d/broken.json"
HEAPTOOL_INDEX=always ht stats "$d/broken.json" && cp "$tmp/out" "$tmp/want"
python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[-20]^=1; open(p,'wb').write(b)" "$d/broken.json.hdx"
HEAPTOOL_INDEX=always ht stats "$d/broken.json" && cmp -s "$tmp/out" "$tmp/want" && "$HEAPTOOL" stats "$d/broken.json.hdx" >/dev/null 2>&1 &&
    pass || fail "a corrupt index was not rebuilt"

# A directory that is not writable: the index goes to $XDG_CACHE_HOME/heaptool.
if [ "$(id -u)" != 0 ]; then
    mkdir -p "$d/ro" && cp samples/dumps/cycle.json "$d/ro/x.json" && chmod a-w "$d/ro"
    XDG_CACHE_HOME=$d/cache HEAPTOOL_INDEX=always ht stats "$d/ro/x.json"
    ls "$d/cache/heaptool/"x.json-*.hdx >/dev/null 2>&1 && pass || fail "no index in the cache directory"
    chmod u+w "$d/ro"
fi

# A file of the user's at DUMP.hdx is never replaced: the automatic index goes to the cache,
# and `heaptool index` asks for -o.
cp samples/dumps/cycle.json "$d/mine.json"
echo "my notes" >"$d/mine.json.hdx"
XDG_CACHE_HOME=$d/cache2 HEAPTOOL_INDEX=always ht stats "$d/mine.json"
grep -qx "my notes" "$d/mine.json.hdx" && ls "$d/cache2/heaptool/"mine.json-*.hdx >/dev/null 2>&1 &&
    pass || fail "auto-indexing replaced a file that is not an index"
ht index "$d/mine.json"
[ $? = 2 ] && grep -qx "my notes" "$d/mine.json.hdx" && grep -q "is not an index; name the output with -o" "$tmp/err" &&
    pass || fail "heaptool index replaced a file that is not an index"

# Concurrent builds of one index: all answer the same, the index is whole, no temporary file is left.
cp samples/dumps/leak_cases.json "$d/race.json"
HEAPTOOL_INDEX=never "$HEAPTOOL" leaks "$d/race.json" >"$tmp/want" 2>&1
for i in 1 2 3 4; do
    (HEAPTOOL_INDEX=always "$HEAPTOOL" leaks "$d/race.json" >"$tmp/race$i" 2>&1) &
done
wait
for i in 1 2 3 4; do cmp -s "$tmp/race$i" "$tmp/want" || fail "concurrent build $i answered differently"; done
"$HEAPTOOL" leaks "$d/race.json.hdx" >/dev/null 2>&1 && pass || fail "the raced index is not whole"
[ -z "$(find "$d" -name '.*.hdx.*')" ] && pass || fail "temporary files left: $(find "$d" -name '.*.hdx.*')"

# diff builds the indexes it lacks together (on threads): the same answers as without indexes,
# whole indexes after, with both missing, one missing, one corrupt and with a third dump.
for f in growing_list_1 growing_list_2 growing_list_3; do cp samples/dumps/$f.json "$d/$f.json"; done
g1=$d/growing_list_1.json g2=$d/growing_list_2.json g3=$d/growing_list_3.json
for args in "diff $g1 $g3" "diff --json --by site $g1 $g3" "diff $g1 $g2 --final $g3"; do
    HEAPTOOL_INDEX=never ht $args && cp "$tmp/out" "$tmp/want"
    rm -f "$d"/growing_list_*.json.hdx
    HEAPTOOL_INDEX=always ht $args && cmp -s "$tmp/out" "$tmp/want" && [ ! -s "$tmp/err" ] &&
        pass || fail "$args, building its indexes, answered differently: $(cat "$tmp/err")"
    for f in $args; do
        case $f in *.json) "$HEAPTOOL" stats "$f.hdx" >/dev/null 2>&1 || fail "$args: no whole index of $f" ;; esac
    done
    HEAPTOOL_INDEX=always ht $args && cmp -s "$tmp/out" "$tmp/want" && pass || fail "$args, from its indexes, answered differently"
    rm "$g1.hdx"
    printf 'not an index' | dd of="$g3.hdx" bs=1 seek=100 conv=notrunc 2>/dev/null
    HEAPTOOL_INDEX=always ht $args && cmp -s "$tmp/out" "$tmp/want" && "$HEAPTOOL" stats "$g1.hdx" >/dev/null 2>&1 &&
        "$HEAPTOOL" stats "$g3.hdx" >/dev/null 2>&1 && pass || fail "$args: one index missing, one corrupt: not rebuilt alike"
done
# A dump that cannot be read: the same one line and exit status as without indexes.
printf '{"format": "heapdump", "version": 1, "objects": [' >"$d/cut.json"
HEAPTOOL_INDEX=never ht diff "$g1" "$d/cut.json"; st=$?; cp "$tmp/err" "$tmp/want"
rm -f "$g1.hdx"
HEAPTOOL_INDEX=always ht diff "$g1" "$d/cut.json"
[ $? = "$st" ] && [ "$st" = 3 ] && cmp -s "$tmp/err" "$tmp/want" && pass || fail "diff with a cut dump, building indexes: $(cat "$tmp/err")"

# heaptool index and convert: defaults, refusals.
cp samples/dumps/weak_cache.json "$d/w.json"
ht index "$d/w.json" && [ -s "$d/w.json.hdx" ] && pass || fail "heaptool index DUMP wrote no DUMP.hdx"
ht index "$d/w.json" -o "$d/w.json"
[ $? = 2 ] && pass || fail "heaptool index -o DUMP was not refused"
ht convert "$d/w.json.hdx" -o "$d/w.txt"
[ $? = 2 ] && grep -q "name it .hdx, .json or .json.gz" "$tmp/err" && pass || fail "convert to an unknown form"
ht convert "$d/w.json.hdx" -o "$d/w2.json.gz" && gzip -t "$d/w2.json.gz" && ht convert "$d/w2.json.gz" -o "$d/w2.hdx" &&
    HEAPTOOL_INDEX=never "$HEAPTOOL" stats --json "$d/w.json" | sed "s|$d/w.json|X|" >"$tmp/want" &&
    "$HEAPTOOL" stats --json "$d/w2.hdx" | sed "s|$d/w2.hdx|X|" | cmp -s - "$tmp/want" && pass ||
    fail "JSON -> hdx -> json.gz -> hdx changed the answer"

# No test leaves an index in the tree.
left=$(find samples tests -name '*.hdx' 2>/dev/null)
[ -z "$left" ] && pass || fail "indexes left in the tree: $left"
finish
