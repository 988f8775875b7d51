// exports.mjs: a real engine reads heaptool's exports. DuckDB reads the CSV and the JSON-lines
// exports of three dumps together (one glob over the per-dump directories, told apart by their
// dump column) and must give, per dump and type, the counts, sizes and retained sizes that
// `heaptool stats --sort retained --json` prints; the sqlite3 shell reading the SQLite exports
// must give the same. Run by tests/duckdb/run.sh: node exports.mjs HEAPTOOL DUMP...
import { DuckDBInstance } from '@duckdb/node-api';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

const [heaptool, ...dumps] = process.argv.slice(2);
const tmp = mkdtempSync(join(tmpdir(), 'heaptool-duckdb-'));
let failures = 0;

function check(what, got, want) {
  const keys = [...new Set([...Object.keys(got), ...Object.keys(want)])].sort();
  const wrong = keys.filter((k) => JSON.stringify(got[k]) !== JSON.stringify(want[k]));
  if (wrong.length) {
    failures++;
    console.log(`FAIL ${what}: ${wrong.length} of ${keys.length} rows differ, e.g. ${wrong[0]}: ` +
                `got ${JSON.stringify(got[wrong[0]])}, heaptool stats says ${JSON.stringify(want[wrong[0]])}`);
  } else {
    console.log(`ok   ${what}: ${keys.length} (dump, type) rows as heaptool stats says`);
  }
}

// What heaptool stats says, keyed "dump<TAB>type".
const want = {};
for (const dump of dumps) {
  const stats = JSON.parse(execFileSync(heaptool, ['stats', '--sort', 'retained', '--top', '0', '--json', dump]));
  for (const t of stats.by_type) want[`${basename(dump)}\t${t.type}`] = [t.count, t.size, t.retained];
}

for (const dump of dumps) {
  for (const format of ['csv', 'jsonl', 'sqlite']) {
    execFileSync(heaptool, ['export', dump, '--format', format, '--name', basename(dump),
                            '-o', join(tmp, `${basename(dump)}.${format}`)]);
  }
}

const perType = (objects, types) => `
  SELECT o.dump, o.type, count(*) AS count, sum(o.size) AS size, max(t.retained) AS retained
  FROM ${objects} o JOIN (SELECT dump, name, sum(retained) AS retained FROM ${types} GROUP BY dump, name) t
    ON t.dump = o.dump AND t.name = o.type
  GROUP BY o.dump, o.type`;
const keyed = (rows) => Object.fromEntries(rows.map((r) => [`${r.dump}\t${r.type}`,
  [Number(r.count), Number(r.size), Number(r.retained)]]));

const instance = await DuckDBInstance.create(':memory:');
const db = await instance.connect();
const readers = {
  csv: (t) => `read_csv('${tmp}/*.csv/${t}.csv', header = true)`,
  jsonl: (t) => `read_json('${tmp}/*.jsonl/${t}.jsonl', format = 'newline_delimited')`,
};
for (const [format, read] of Object.entries(readers)) {
  const result = await db.runAndReadAll(perType(read('objects'), read('types')));
  check(`DuckDB over the ${format} exports of ${dumps.length} dumps`, keyed(result.getRowObjectsJS()), want);
}
db.closeSync();

// The sqlite3 shell, one export at a time (its -json output), the same statement.
const fromSqlite = {};
for (const dump of dumps) {
  const out = execFileSync('sqlite3', ['-json', join(tmp, `${basename(dump)}.sqlite`), perType('objects', 'types')]);
  Object.assign(fromSqlite, keyed(JSON.parse(String(out) || '[]')));
}
check(`the sqlite3 shell over the sqlite exports of ${dumps.length} dumps`, fromSqlite, want);

rmSync(tmp, { recursive: true, force: true });
process.exit(failures ? 1 : 0);
