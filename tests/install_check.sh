#!/bin/sh
# install_check.sh: what the README promises about building and installing.
#  - a program builds against the tree without installing, with the README's lines
#    (-Iinclude build/libhm.a -lz -lpthread -lm, and libheapdump's);
#  - `make install PREFIX=DIR` puts heaptool, heapdump-export, the libraries, the headers,
#    heaptool.pc and the format documents under DIR (where heaptool --help says they are),
#    and a program builds with pkg-config when PKG_CONFIG_PATH names DIR/lib/pkgconfig;
#  - `make install DESTDIR=STAGE` stages the same files under STAGE/PREFIX, `make uninstall`
#    takes every one of them away again; that install, with the default PREFIX, also leaves
#    the tree's heaptool naming the default places again.
#
#   BUILD=build [SANITIZE=address,undefined] tests/install_check.sh
set -u
cd "$(dirname "$0")/.." || exit 2
: "${BUILD:=build}" "${MAKE:=make}" "${CC:=cc}"
san=${SANITIZE:+-fsanitize=$SANITIZE}
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
passed=0
failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

cat >"$tmp/demo.c" <<'EOF'
#include <hm.h>
#include <stdio.h>

int main(void)
{
    hm_heap *h = hm_heap_new();
    hm_object *l = hm_list_new(h);
    hm_list_append(l, l); /* a cycle */
    hm_decref(l);
    printf("collected %lld\n", (long long)hm_gc_collect(h, HM_GC_FULL, NULL));
    return hm_heap_destroy(h, NULL) != 0;
}
EOF

cat >"$tmp/reader.c" <<'EOF'
#include <heapdump.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    hd_dump *d = NULL;
    if (argc < 2 || hd_load(argv[1], NULL, &d, NULL) != HD_OK)
        return 1;
    printf("%u objects\n", (unsigned)hd_object_count(d));
    hd_dump_free(d);
    return 0;
}
EOF

# In the tree, with the README's lines.
$CC -std=c11 $san -Iinclude "$tmp/demo.c" "$BUILD/libhm.a" -ldw -lunwind -lz -lpthread -lm -o "$tmp/in_tree" &&
    [ "$("$tmp/in_tree")" = "collected 1" ] && pass || fail "building against the tree: libhm"
$CC -std=c11 $san -Iinclude "$tmp/reader.c" "$BUILD/libheapdump.a" -lcjson -lgvc -lcgraph -lcdt -lz -lpthread -lm \
    -o "$tmp/reader" && [ "$("$tmp/reader" samples/dumps/cycle.json)" = "15 objects" ] &&
    pass || fail "building against the tree: libheapdump"

# A prefix of our own: pkg-config needs PKG_CONFIG_PATH to find heaptool.pc there.
prefix="$tmp/prefix"
$MAKE -s --no-print-directory install PREFIX="$prefix" SANITIZE="${SANITIZE:-}" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; fail "make install PREFIX=$prefix"; }
for f in bin/heaptool bin/heapdump-export lib/libhm.a lib/libheapdump.a lib/pkgconfig/heaptool.pc \
    include/hm.h include/hm_snapshot.h include/heapdump.h share/doc/heaptool/formats/heapdump.md \
    share/doc/heaptool/formats/heapdump-v1.schema.json share/doc/heaptool/formats/v8-heapsnapshot.md; do
    [ -f "$prefix/$f" ] && pass || fail "make install left out $f"
done
[ -x "$prefix/bin/heapdump-export" ] && "$prefix/bin/heapdump-export" --help >"$tmp/help" 2>&1 &&
    grep -q '^usage: heapdump-export ' "$tmp/help" && pass || fail "heapdump-export --help: $(head -1 "$tmp/help")"
# The documents heaptool --help names are the ones installed, where they were installed.
"$prefix/bin/heaptool" --help | grep -o '/[^ ]*/formats/[a-z0-9.-]*\.md' | sort -u >"$tmp/named"
[ "$(wc -l <"$tmp/named")" = 2 ] && while read -r doc; do
    [ -f "$doc" ] && [ "${doc#"$prefix"/share/doc/heaptool/formats/}" != "$doc" ] ||
        { fail "heaptool --help names $doc, not installed there"; break; }
done <"$tmp/named" && pass || fail "heaptool --help names no installed format documents: $(cat "$tmp/named")"
flags=$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs heaptool) &&
    $CC -std=c11 $san "$tmp/demo.c" $flags -o "$tmp/installed" && [ "$("$tmp/installed")" = "collected 1" ] &&
    pass || fail "building with PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config heaptool"

# Staged under DESTDIR, and uninstalled from there.
stage="$tmp/stage"
$MAKE -s --no-print-directory install DESTDIR="$stage" SANITIZE="${SANITIZE:-}" >"$tmp/install.log" 2>&1 &&
    [ -x "$stage/usr/local/bin/heapdump-export" ] && [ -f "$stage/usr/local/share/doc/heaptool/formats/heapdump.md" ] &&
    grep -qx 'prefix=/usr/local' "$stage/usr/local/lib/pkgconfig/heaptool.pc" &&
    pass || fail "make install DESTDIR=$stage"
$MAKE -s --no-print-directory uninstall DESTDIR="$stage" >/dev/null 2>&1
left=$(find "$stage" -type f | head -3)
[ -z "$left" ] && pass || fail "make uninstall left $left"

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
