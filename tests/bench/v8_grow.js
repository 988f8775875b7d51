// v8_grow.js: a Node.js heap that grows by N objects between two heap snapshots.
//
//   node v8_grow.js N BEFORE.heapsnapshot AFTER.heapsnapshot
//
// The growth is a cache of N Item objects, each with its own string and a link to the one before
// (so dominators run down a long chain), held by a Map in a global; every thousandth pair of
// items also forms a two-object cycle. make bench times heaptool and memlab on AFTER; the tests
// diff BEFORE against AFTER (object ids are stable within the process) and look for the cycles.
'use strict';
const v8 = require('v8');

class Item {
  constructor(i, prev) {
    this.id = i;
    this.name = 'item-' + i;
    this.prev = prev;
    this.peer = null;
  }
}

class Cache {
  constructor() {
    this.byName = new Map();
    this.last = null;
  }
}

const [n, before, after] = [Number(process.argv[2]), process.argv[3], process.argv[4]];
if (!Number.isInteger(n) || n < 0 || !before || !after) {
  console.error('usage: node v8_grow.js N BEFORE.heapsnapshot AFTER.heapsnapshot');
  process.exit(2);
}
globalThis.cache = new Cache();
v8.writeHeapSnapshot(before);
for (let i = 0; i < n; i++) {
  const item = new Item(i, globalThis.cache.last);
  if (i % 1000 === 1) { // a cycle with the one before
    item.peer = item.prev;
    item.prev.peer = item;
  }
  globalThis.cache.byName.set(item.name, item);
  globalThis.cache.last = item;
}
v8.writeHeapSnapshot(after);
