// report_test.mjs: a heaptool report in Debian's Chromium, headless, driven by playwright-core.
//   node tests/browser/report_test.mjs REPORT.html SUSPECTS.json SHOTS_DIR [STACKS.html FOLDED]
// Checks: no console error, no page error, no request beyond the file itself; the suspects shown
// equal `heaptool suspects --json`; a click in the treemap sets the breadcrumbs to that box's path
// in the dominator tree; no dialog ever opens (a hostile label never runs); each section's
// screenshot has more than one colour. Given the report of a dump with call stacks and
// `heaptool flame`'s collapsed stacks of it (FOLDED), the flame graph's frames are the stacks'
// frames: each named frame has the bytes of the collapsed stacks under its path, the frames
// left out are one "N more" frame holding the rest, the big frames are drawn, and a click zooms.
// Prints "N passed, M failed"; exits 1 on failure.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");
const [html, suspectsJson, shots, stacksHtml, folded] = process.argv.slice(2);
let passed = 0, failed = 0;
function check(what, ok, detail) {
  if (ok) passed++;
  else { failed++; console.log("FAIL " + what + (detail === undefined ? "" : ": " + JSON.stringify(detail))); }
}

// Distinct pixel colours in a PNG (8-bit RGB or RGBA, as Chromium writes them), up to 3.
function colours(png) {
  let off = 8, width = 0, height = 0, channels = 4;
  const idat = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off), type = png.toString("latin1", off + 4, off + 8);
    const data = png.subarray(off + 8, off + 8 + len);
    if (type === "IHDR") { width = data.readUInt32BE(0); height = data.readUInt32BE(4); channels = data[9] === 6 ? 4 : 3; }
    if (type === "IDAT") idat.push(data);
    off += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat)), stride = width * channels;
  const prev = Buffer.alloc(stride), cur = Buffer.alloc(stride), seen = new Set();
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)], row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? cur[x - channels] : 0, b = prev[x], c = x >= channels ? prev[x - channels] : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f];
      cur[x] = (row[x] + pred) & 255;
    }
    for (let x = 0; x < stride && seen.size < 3; x += channels) seen.add(cur.readUIntBE(x, 3));
    cur.copy(prev);
  }
  return seen.size;
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const errors = [], requests = [], dialogs = [];
page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
page.on("pageerror", (e) => errors.push(String(e)));
page.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss(); });
const url = "file://" + path.resolve(html), stacksUrl = stacksHtml && "file://" + path.resolve(stacksHtml);
page.on("request", (r) => {
  if (r.url() !== url && r.url() !== stacksUrl && !r.url().startsWith("data:")) requests.push(r.url());
});
await page.goto(url, { waitUntil: "load" });
// The page's own clock, from navigation to the end of its load event (the drawing included).
const loadMs = await page.evaluate(() => performance.getEntriesByType("navigation")[0].loadEventEnd);
check("loads in under a second", loadMs < 1000, loadMs);

const want = JSON.parse(fs.readFileSync(suspectsJson, "utf8")).suspects
  .map((s) => [s.id, s.kind, s.severity, String(s.bytes), String(s.count)]);
const shown = await page.$$eval("#suspects details", (ds) => ds.map((d) =>
  [d.dataset.id, d.dataset.kind, d.dataset.severity, d.dataset.bytes, d.dataset.count]));
check("suspects shown equal suspects --json", JSON.stringify(shown) === JSON.stringify(want), { shown, want });
check("there are suspects to show", want.length > 0);

// The treemap: click the largest box that has boxes inside, then the one inside that.
const tree = await page.evaluate(() => JSON.parse(document.getElementById("data").textContent).tree);
const pathTo = (i) => { const p = []; for (; i >= 0; i = tree[i][0]) p.unshift(tree[i][1]); return p; };
const crumbs = () => page.$$eval("#crumbs button", (bs) => bs.map((b) => b.textContent));
check("breadcrumbs start at the heap", JSON.stringify(await crumbs()) === JSON.stringify(["heap"]));
for (let level = 0; level < 2; level++) {
  const target = await page.$$eval("#treemap-box g[tabindex]", (gs) => {
    const t = JSON.parse(document.getElementById("data").textContent).tree;
    const g = gs.find((x) => t.some((n) => n[0] === Number(x.dataset.node)));
    return g ? Number(g.dataset.node) : -1;
  });
  if (target < 0) break;
  await page.click(`#treemap-box g[data-node="${target}"]`);
  check(`treemap click ${level + 1}: breadcrumbs are the box's path`,
        JSON.stringify(await crumbs()) === JSON.stringify(pathTo(target)), { got: await crumbs(), want: pathTo(target) });
}
await page.click("#crumbs button:first-child");
check("the first breadcrumb goes back to the heap", JSON.stringify(await crumbs()) === JSON.stringify(["heap"]));
// The keyboard: focus a box, press Enter.
await page.focus("#treemap-box g[tabindex]");
await page.keyboard.press("Enter");
check("Enter on a box zooms too", (await crumbs()).length > 1);
await page.click("#crumbs button:first-child");

const hostile = await page.evaluate(() => ({ text: document.body.innerText, pwned: window.__pwned === 1 }));
check("a hostile label is shown as text", hostile.text.includes("</script><script>alert(1)</script>"));
check("no hostile script ran", !hostile.pwned && dialogs.length === 0, dialogs);

fs.mkdirSync(shots, { recursive: true });
for (const id of ["overview", "suspects", "treemap", "flame", "cycles", "compare"]) {
  const file = path.join(shots, id + ".png");
  const png = await page.locator("#" + id).screenshot({ path: file });
  check(`screenshot of ${id} is not blank`, colours(png) > 1, file);
}
if (stacksHtml) await flameOfStacks();
check("no console error", errors.length === 0, errors);
check("no network request", requests.length === 0, requests);
await browser.close();

// The flame graph of a dump with stacks against `heaptool flame`: the bytes under each path.
async function flameOfStacks() {
  const under = new Map(); // "main;serve" -> bytes of the stacks at or below it
  const exact = new Map(); // "main;serve" -> bytes of that stack alone
  let total = 0;
  for (const line of fs.readFileSync(folded, "utf8").split("\n").filter(Boolean)) {
    const at = line.lastIndexOf(" "), frames = line.slice(0, at).split(";"), value = Number(line.slice(at + 1));
    total += value;
    exact.set(frames.join(";"), value);
    for (let i = 1; i <= frames.length; i++) {
      const key = frames.slice(0, i).join(";");
      under.set(key, (under.get(key) || 0) + value);
    }
  }
  await page.goto(stacksUrl, { waitUntil: "load" });
  const flame = await page.evaluate(() => JSON.parse(document.getElementById("data").textContent).flame);
  check("a dump with stacks is drawn by stack", flame.by === "stack", flame.by);
  check("the heading says stacks", (await page.textContent("#flame-title")).includes("stack"));
  const nodes = flame.nodes, keys = [], wrong = [], unbalanced = [];
  const more = (n) => / more frames$/.test(n[1]);
  for (let i = 0; i < nodes.length; i++) {
    const [parent, name, value] = nodes[i];
    keys[i] = parent < 0 ? "" : parent === 0 ? name : keys[parent] + ";" + name;
    if (i === 0 ? value !== total : !more(nodes[i]) && under.get(keys[i]) !== value) wrong.push([keys[i], value, under.get(keys[i])]);
  }
  for (let i = 0; i < nodes.length; i++) { // callees, the "more" one included, plus its own bytes
    const kids = nodes.filter((n) => n[0] === i).reduce((a, n) => a + n[2], 0);
    if (kids && kids + (exact.get(keys[i]) || 0) !== nodes[i][2]) unbalanced.push([keys[i], nodes[i][2], kids]);
  }
  check("each frame has the bytes of its stacks in heaptool flame", wrong.length === 0, wrong.slice(0, 5));
  check("callees and the frames left out add up to each frame", unbalanced.length === 0, unbalanced.slice(0, 5));
  check("tiny frames are merged into an \"N more\" frame", nodes.some(more));
  const biggest = [...exact.entries()].sort((a, b) => b[1] - a[1])[0][0];
  const drawn = await page.$$eval("#flame-box g[data-node]", (gs) => gs.map((g) => Number(g.dataset.node)));
  const missing = nodes.map((n, i) => i).filter((i) => nodes[i][2] * 100 >= total && !drawn.includes(i));
  check("every frame of 1% or more is drawn", missing.length === 0, missing.map((i) => keys[i]));
  const drawnKeys = drawn.map((i) => keys[i]);
  check("the biggest stack is drawn frame by frame",
        biggest.split(";").every((_, k, f) => drawnKeys.includes(f.slice(0, k + 1).join(";"))), biggest);
  const png = await page.locator("#flame").screenshot({ path: path.join(shots, "flame-stacks.png") });
  check("screenshot of the stacks' flame graph is not blank", colours(png) > 1);
  const target = nodes.findIndex((n, i) => i && n[0] !== 0 && n[2] * 10 < total && n[2] * 100 >= total);
  await page.click(`#flame-box g[data-node="${target}"]`);
  const top = await page.$eval("#flame-box g[data-node]", (g) => Number(g.dataset.node));
  check("a click on a frame zooms into it", top === target, { top, target });
}
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
