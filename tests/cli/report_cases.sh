#!/bin/sh
# report_cases.sh: heaptool report on three planted snapshots with hostile labels
# (tests/cli/report_dumps.py): the page is self-contained, under 2 MB, carries a
# Content-Security-Policy and its data cannot end its <script> element; on dumps with call
# stacks it stays as small however many stacks there are; then, where Chromium
# and node are installed (always in CI), the page in a real browser (tests/browser/report_test.mjs,
# with playwright-core installed from npm into tests/browser/node_modules when missing), which
# also writes a screenshot of each section to $BUILD/report-shots/ and checks the flame graph of
# the dump with stacks against `heaptool flame`.
set -u
. "$(dirname "$0")/lib.sh"
uses_graphviz

python3 tests/cli/report_dumps.py "$tmp" || exit 1
page=$tmp/report.html
"$HEAPTOOL" report -o "$page" "$tmp/s1.json" "$tmp/s2.json" "$tmp/s3.json" && pass || fail "report exits 0"
size=$(wc -c <"$page")
[ "$size" -le 2097152 ] && pass || fail "page is $size bytes, over 2 MB"
grep -q '<meta http-equiv="Content-Security-Policy" content="default-src '"'none'"'; script-src '"'sha256-" "$page" \
    && pass || fail "page has a Content-Security-Policy allowing its own script only"
# Exactly the two <script> elements of the template: no text from the dump opened another.
[ "$(grep -o '<script' "$page" | wc -l)" = 2 ] && [ "$(grep -o '</script' "$page" | wc -l)" = 2 ] &&
    pass || fail "the page has other <script> elements, or text that ends one"
grep -q 'src="http\|href="http\|url(http' "$page" && fail "page refers to the network" || pass
"$HEAPTOOL" suspects --json --baseline "$tmp/s2.json" "$tmp/s3.json" >"$tmp/suspects.json" && pass || fail "suspects"
"$HEAPTOOL" report -o "$tmp/one.html" samples/dumps/cycle.json && pass || fail "report on one dump"
"$HEAPTOOL" report -o "$tmp/no/such/dir/x.html" samples/dumps/cycle.json 2>"$tmp/err"
[ $? = 4 ] && pass || fail "an unwritable -o exits 4"
"$HEAPTOOL" report tests/data/cycle.json 2>/dev/null
[ $? = 2 ] && pass || fail "no -o is a usage error"
# A dump with call stacks: its flame graph is checked in the browser against `heaptool flame`.
"$HEAPTOOL" report -o "$tmp/stacks.html" "$tmp/stacks.json" && pass || fail "report on a dump with stacks"
"$HEAPTOOL" flame "$tmp/stacks.json" >"$tmp/stacks.folded" && pass || fail "flame on a dump with stacks"
# Many more stacks than the flame graph names: the page does not grow with them.
"$HEAPTOOL" report -o "$tmp/many.html" "$tmp/many_stacks.json" && pass || fail "report on many stacks"
few=$(wc -c <"$tmp/stacks.html") many=$(wc -c <"$tmp/many.html")
[ "$many" -le $((few + 20000)) ] && pass || fail "20000 stacks make a page of $many bytes, 3000 one of $few"

if [ -x /usr/bin/chromium ] && command -v node >/dev/null 2>&1; then
    if [ ! -d tests/browser/node_modules/playwright-core ]; then
        (cd tests/browser && npm install --no-save --no-audit --no-fund --prefix . playwright-core >/dev/null 2>&1) ||
            fail "npm install playwright-core"
    fi
    if node tests/browser/report_test.mjs "$page" "$tmp/suspects.json" "${BUILD:-build}/report-shots" \
        "$tmp/stacks.html" "$tmp/stacks.folded"; then pass; else fail "browser"; fi
elif [ "${CI:-}" = true ]; then
    fail "CI has no /usr/bin/chromium or node for the browser test"
else
    echo "report: browser test skipped (no /usr/bin/chromium or node; tests/ensure-deps.sh installs them in CI)"
fi
finish
