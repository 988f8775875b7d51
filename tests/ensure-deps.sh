#!/bin/sh
# Makes sure the Debian packages the build needs, and any named as arguments (valgrind for make
# check), are installed: installs them when run as root, otherwise prints the exact apt-get line
# and fails.
set -eu
PKGS="libcjson-dev libcriterion-dev graphviz libgraphviz-dev zlib1g-dev pkg-config python3-jsonschema libdw-dev libunwind-dev libsqlite3-dev libedit-dev sqlite3 valgrind strace $*"
# The report's browser test (tests/cli/report_cases.sh) runs Chromium; CI always has it, a
# developer's machine only when asked (HEAPTOOL_BROWSER=1), as it is a large package. Node.js
# and npm (for playwright-core) come from Debian only when the machine has no node of its own.
if [ "${CI:-}" = true ] || [ "${HEAPTOOL_BROWSER:-}" = 1 ]; then
    PKGS="$PKGS chromium"
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"
fi
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "heaptool: installing missing packages:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq $missing >&2
else
    echo "heaptool: missing packages; run: sudo apt-get install -y$missing" >&2
    exit 1
fi
