#!/bin/sh
# run.sh: DuckDB (the npm package @duckdb/node-api, a test-only dependency installed into
# tests/duckdb/node_modules, which git ignores) reads heaptool's exports: see exports.mjs.
# Installs the package when it is missing; skips, saying why, only when npm cannot reach the
# registry.   HEAPTOOL=build/heaptool tests/duckdb/run.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
heaptool=$(cd "$(dirname "${HEAPTOOL:-build/heaptool}")" && pwd)/$(basename "${HEAPTOOL:-build/heaptool}")
if [ ! -d "$here/node_modules/@duckdb/node-api" ]; then
    if ! command -v npm >/dev/null || ! npm ping >/dev/null 2>&1; then
        echo "SKIP DuckDB export test: npm cannot reach the registry to install @duckdb/node-api"
        exit 0
    fi
    echo "installing @duckdb/node-api into $here/node_modules (test-only)"
    (cd "$here" && npm ci --no-audit --no-fund --silent)
fi
cd "$here/../.."
exec node "$here/exports.mjs" "$heaptool" samples/dumps/growing_list_1.json \
    samples/dumps/growing_list_2.json samples/dumps/growing_list_3.json
