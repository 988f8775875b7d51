"use strict";
// The report's script: draws the data (JSON in #data) as tables and SVG. Text from a dump only
// ever enters the page through textContent and attribute values, never as markup.
(function () {
  const D = JSON.parse(document.getElementById("data").textContent);
  const SVGNS = "http://www.w3.org/2000/svg";

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    for (const kid of kids) e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    return e;
  }
  function sv(tag, attrs) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    return e;
  }
  function bytes(n) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : String(n)) + " " + units[i];
  }
  const pct = (x) => (100 * x).toFixed(1) + "%";
  function hue(name) {
    let h = 2166136261;
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
    return "hsl(" + ((h >>> 0) % 360) + ",55%,72%)";
  }

  // A table whose header buttons sort it. cols: [{name, num, fmt, bar}], rows: arrays of values.
  function table(cols, rows, more) {
    const t = el("table");
    const head = el("tr");
    const body = el("tbody");
    const max = cols.map((c, i) => (c.bar ? Math.max(1, ...rows.map((r) => r[i])) : 0));
    function fill() {
      body.replaceChildren(...rows.map((r) => el("tr", {}, ...cols.map((c, i) => {
        const td = el("td", c.num ? { class: "num" } : {}, c.fmt ? c.fmt(r[i]) : r[i]);
        if (c.bar) td.append(el("span", { class: "bar", style: "width:" + Math.round(80 * r[i] / max[i]) + "px" }));
        return td;
      }))));
    }
    cols.forEach((c, i) => {
      const b = el("button", { type: "button" }, c.name);
      const th = el("th", c.num ? { class: "num" } : {}, b);
      b.addEventListener("click", () => {
        const down = th.getAttribute("aria-sort") !== "descending";
        for (const o of head.children) o.removeAttribute("aria-sort");
        th.setAttribute("aria-sort", down ? "descending" : "ascending");
        rows.sort((x, y) => (x[i] < y[i] ? -1 : x[i] > y[i] ? 1 : 0) * (down ? -1 : 1));
        fill();
      });
      head.append(th);
    });
    t.append(el("thead", {}, head), body);
    fill();
    const box = el("div", {}, t);
    if (more) box.append(el("p", { class: "more" }, more));
    return box;
  }
  const dist = (d) => (d < 0 ? "–" : d);

  function overview() {
    const box = document.getElementById("overview-body");
    const last = D.dumps[D.dumps.length - 1];
    box.append(el("p", {}, last.name + ": " + last.objects + " objects, " + bytes(last.size) + ", " +
      D.roots + " roots, " + D.edges + " references; " + D.reach[0] + " reachable, " + D.reach[1] +
      " uncollectable, " + D.reach[2] + " garbage."));
    if (D.dumps.length > 1)
      box.append(table([{ name: "dump" }, { name: "objects", num: true }, { name: "size", num: true, fmt: bytes },
        { name: "created" }], D.dumps.map((d) => [d.name, d.objects, d.size, d.created])));
    box.append(el("h3", {}, "Types"), table([{ name: "type" }, { name: "count", num: true, bar: true },
      { name: "shallow", num: true, fmt: bytes, bar: true }, { name: "retained", num: true, fmt: bytes, bar: true }],
      D.types.map((t) => t.slice()), D.types_more ? D.types_more + " more types" : ""));
    box.append(el("h3", {}, "Objects retaining the most"), table([{ name: "object" }, { name: "type" },
      { name: "retained", num: true, fmt: bytes, bar: true }, { name: "shallow", num: true, fmt: bytes },
      { name: "distance", num: true, fmt: dist }], D.top.map((t) => t.slice())));
    if (D.pools)
      box.append(el("h3", {}, "Allocator pools (" + D.pools.arenas + " arenas, " + D.pools.large +
        " large blocks, " + bytes(D.pools.large_bytes) + ")"), table([{ name: "block size", num: true },
        { name: "pools", num: true }, { name: "blocks in use", num: true, bar: true }, { name: "free", num: true }],
        D.pools.classes.map((c) => c.slice())));
    if (D.gc)
      box.append(el("h3", {}, "Collector generations (" + (D.gc.enabled ? "enabled" : "disabled") + ", " +
        D.gc.garbage + " in gc.garbage)"), table([{ name: "generation", num: true }, { name: "threshold", num: true },
        { name: "count", num: true }, { name: "collections", num: true }, { name: "collected", num: true },
        { name: "uncollectable", num: true }], D.gc.generations.map((g, i) => [i, ...g])));
  }

  function headline(s) {
    const n = s.count;
    switch (s.kind) {
      case "big-retainer": return s.object + " retains " + bytes(s.bytes) + " (" + pct(s.share) + ") in " + n + " objects";
      case "many-of-kind": return n + " " + s.type + " objects retain " + bytes(s.bytes) + " (" + pct(s.share) + ")";
      case "new-and-alive": return n + " objects created after the baseline are still alive: " + bytes(s.bytes);
      case "growing-type": return s.type + " grew at every step: " + s.series.join(" → ") + " objects, +" + bytes(s.bytes);
      case "duplicate-strings": return n + " copies of " + s.type + " " + s.text + " (" + bytes(s.each) + " each) waste " + bytes(s.bytes);
      case "empty-containers": return n + " " + s.type + " objects empty (" + s.empty + ") or nearly: " + bytes(s.bytes) + ", " + bytes(s.spare) + " spare";
      case "uncollectable": return "a cycle of " + n + " objects kept only by the garbage list: " + bytes(s.bytes);
      case "weak-only": return n + " " + s.type + " objects of garbage named by live weak references: " + bytes(s.bytes);
    }
    return s.kind;
  }

  function suspects() {
    const box = document.getElementById("suspects-body");
    box.append(el("p", { class: "hint" }, D.suspects.length + " suspects at a threshold of " + pct(D.threshold) + " of the heap."));
    for (const s of D.suspects) {
      const body = el("div");
      if (s.accumulation) body.append(el("p", {}, "Accumulation point: ", el("span", { class: "obj" }, s.accumulation)));
      if (s.path) {
        const ol = el("ol", { class: "path", start: "0" });
        s.path.forEach(([via, obj], i) => ol.append(el("li", { class: "obj" }, (i ? "." + via + " → " : "[" + via.trim() + "] ") + obj)));
        body.append(el("p", {}, "Shortest path from a root:"), ol);
      }
      if (s.retains)
        body.append(el("p", {}, "What it retains:"), table([{ name: "type" }, { name: "count", num: true },
          { name: "shallow", num: true, fmt: bytes, bar: true }], s.retains.map((r) => r.slice())));
      if (s.merged) {
        const depth = [];
        const ul = el("ul", { class: "path" });
        s.merged.forEach(([parent, via, obj, count], i) => {
          depth[i] = parent < 0 ? 0 : depth[parent] + 1;
          ul.append(el("li", { class: "obj", style: "margin-left:" + 16 * depth[i] + "px" },
            (parent < 0 ? "[" + via + "] " : "." + via + " → ") + obj + " (" + count + ")"));
        });
        body.append(el("p", {}, "Paths from the roots, merged (instances below each):"), ul);
      }
      const sum = el("summary", {}, el("span", { class: "sev sev-" + s.severity }, s.severity), " ",
        el("code", {}, s.id), " — ", headline(s));
      box.append(el("details", { "data-id": s.id, "data-kind": s.kind, "data-severity": s.severity,
        "data-bytes": String(s.bytes), "data-count": String(s.count) }, sum, body));
    }
  }

  // Squarified treemap (Bruls, Huizing, van Wijk) of items [{value}] in the rectangle x,y,w,h.
  function squarify(items, x, y, w, h) {
    const out = [];
    let total = items.reduce((a, b) => a + b.value, 0);
    let i = 0;
    while (i < items.length && total > 0 && w > 0 && h > 0) {
      const side = Math.min(w, h), area = w * h / total;
      let row = [], sum = 0, worst = Infinity;
      while (i < items.length) {
        const v = items[i].value * area, s2 = sum + v;
        const mx = Math.max(v, ...row.map((r) => r.value * area)), mn = Math.min(v, ...row.map((r) => r.value * area));
        const wr = Math.max(side * side * mx / (s2 * s2), s2 * s2 / (side * side * mn));
        if (row.length && wr > worst) break;
        row.push(items[i]); sum = s2; worst = wr; i++;
      }
      const thick = sum / side;
      let off = 0;
      for (const r of row) {
        const len = r.value * area / thick;
        out.push(w >= h ? { item: r, x: x, y: y + off, w: thick, h: len } : { item: r, x: x + off, y: y, w: len, h: thick });
        off += len;
      }
      const used = row.reduce((a, b) => a + b.value, 0);
      total -= used;
      if (w >= h) { x += thick; w -= thick; } else { y += thick; h -= thick; }
    }
    return out;
  }

  function treemap() {
    const nodes = D.tree.map(([parent, label, type, retained, distance, more], i) =>
      ({ i, parent, label, type, value: retained, distance, more, kids: [] }));
    for (const n of nodes) if (n.parent >= 0) nodes[n.parent].kids.push(n);
    const box = document.getElementById("treemap-box"), crumbs = document.getElementById("crumbs");
    const W = 1100, H = 520;
    function show(n) {
      const path = [];
      for (let p = n; p; p = p.parent >= 0 ? nodes[p.parent] : null) path.unshift(p);
      crumbs.replaceChildren(...path.map((p, k) => {
        const b = el("button", { type: "button", "data-node": String(p.i) }, p.label);
        if (k === path.length - 1) b.setAttribute("aria-current", "page");
        b.addEventListener("click", () => show(p));
        return b;
      }));
      const s = sv("svg", { viewBox: "0 0 " + W + " " + H, width: "100%", role: "group", "aria-label": "treemap of " + n.label });
      const kids = n.kids.filter((k) => k.value > 0).sort((a, b) => b.value - a.value);
      for (const r of squarify(kids, 0, 0, W, H)) {
        const k = r.item, g = sv("g", { tabindex: "0", role: "button", "data-node": String(k.i) });
        g.setAttribute("aria-label", k.label + ", " + bytes(k.value) + (k.kids.length ? "" : " (no deeper boxes)"));
        const rect = sv("rect", { x: r.x, y: r.y, width: Math.max(0, r.w), height: Math.max(0, r.h), fill: k.more ? "#bbb" : hue(k.type) });
        const title = sv("title");
        title.textContent = k.label + "\n" + bytes(k.value) + " retained" + (k.distance >= 0 ? ", distance " + k.distance : "");
        g.append(title, rect);
        // One level deeper inside, under the box's own label, to show what it is made of.
        if (r.w > 48 && r.h > 48 && k.kids.length)
          for (const q of squarify(k.kids.filter((x) => x.value > 0), r.x + 2, r.y + 30, r.w - 4, r.h - 32))
            g.append(sv("rect", { x: q.x, y: q.y, width: Math.max(0, q.w), height: Math.max(0, q.h),
              fill: q.item.more ? "#ccc" : hue(q.item.type), "fill-opacity": 0.8 }));
        if (r.w > 60 && r.h > 16) {
          const t = sv("text", { x: r.x + 4, y: r.y + 13 });
          t.textContent = k.label.slice(0, Math.floor(r.w / 6.5));
          const t2 = sv("text", { x: r.x + 4, y: r.y + 26 });
          t2.textContent = r.h > 30 ? bytes(k.value) : "";
          g.append(t, t2);
        }
        const go = () => { if (k.kids.length) { show(k); const f = box.querySelector("g[tabindex]"); if (f) f.focus(); } };
        g.addEventListener("click", go);
        g.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); go(); } });
        s.append(g);
      }
      box.replaceChildren(s);
    }
    show(nodes[0]);
  }

  function flame() {
    const nodes = D.flame.nodes.map(([parent, name, value], i) => ({ i, parent, name, value, kids: [] }));
    if (D.flame.by === "stack") document.getElementById("flame-title").textContent = "Live bytes by allocation stack";
    for (const n of nodes) if (n.parent >= 0) nodes[n.parent].kids.push(n);
    const box = document.getElementById("flame-box");
    const W = 1100, ROW = 22;
    function depthOf(n) { let d = 0; for (const k of n.kids) d = Math.max(d, depthOf(k)); return d + 1; }
    function show(top) {
      const s = sv("svg", { viewBox: "0 0 " + W + " " + ROW * depthOf(top), width: "100%", role: "group", "aria-label": "flame graph" });
      function draw(n, x, w, depth) {
        const g = sv("g", { tabindex: "0", role: "button", "data-node": String(n.i) });
        g.setAttribute("aria-label", n.name + ", " + bytes(n.value));
        const title = sv("title");
        title.textContent = n.name + "\n" + bytes(n.value);
        g.append(title, sv("rect", { x, y: depth * ROW, width: Math.max(0, w - 1), height: ROW - 2, fill: hue(n.name) }));
        if (w > 50) {
          const t = sv("text", { x: x + 4, y: depth * ROW + 15 });
          t.textContent = (n.name + " " + bytes(n.value)).slice(0, Math.floor(w / 6.5));
          g.append(t);
        }
        const target = n === top && n.parent >= 0 ? nodes[n.parent] : n;
        const go = () => show(target);
        g.addEventListener("click", go);
        g.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); go(); } });
        s.append(g);
        let off = x;
        for (const k of n.kids.slice().sort((a, b) => b.value - a.value)) {
          const kw = n.value > 0 ? w * k.value / n.value : 0;
          if (kw >= 1) draw(k, off, kw, depth + 1);
          off += kw;
        }
      }
      draw(top, 0, W, 0);
      box.replaceChildren(s);
    }
    show(nodes[0]);
  }

  function cycles() {
    const box = document.getElementById("cycles-body"), c = D.cycles;
    box.append(el("p", {}, c.count + " cycles; " + c.in_cycles + " objects are in one."));
    for (const cy of c.shown) {
      const fig = el("figure", { class: "cycle" });
      fig.append(el("figcaption", {}, cy.members + " objects, " + bytes(cy.size) + ", " + cy.state +
        (cy.legacy ? ", with a legacy finalizer" : "") + ", through ", el("span", { class: "obj" }, cy.example)));
      if (cy.svg) fig.append(el("img", { src: cy.svg, alt: "the cycle through " + cy.example }));
      else fig.append(el("p", { class: "more" }, "too many members to draw"));
      box.append(fig);
    }
  }

  function spark(counts) {
    const w = 120, h = 24, max = Math.max(1, ...counts), s = sv("svg", { width: w, height: h, role: "img" });
    s.setAttribute("aria-label", counts.join(", "));
    const pts = counts.map((c, i) => (counts.length > 1 ? i * (w - 4) / (counts.length - 1) + 2 : 2) + "," + (h - 2 - (h - 4) * c / max));
    s.append(sv("polyline", { points: pts.join(" "), fill: "none", stroke: "currentColor", "stroke-width": 2 }));
    return s;
  }

  function compare() {
    const box = document.getElementById("compare-body"), c = D.compare;
    if (!c) { box.append(el("p", { class: "hint" }, "Give heaptool report two dumps or more to compare them.")); return; }
    const names = D.dumps.map((d) => d.name);
    box.append(el("p", {}, c.added + " objects new and " + c.deleted + " deleted from " + names[0] + " to " + names[names.length - 1] + "."));
    const cols = [{ name: "type" }, ...names.map((n, i) => ({ name: "count " + (i + 1), num: true })),
      { name: "new", num: true }, { name: "deleted", num: true }, { name: "Δ count", num: true }, { name: "Δ size", num: true, fmt: bytes }];
    box.append(table(cols, c.rows.map(([t, counts, a, d, dc, ds]) => [t, ...counts, a, d, dc, ds]), c.rows_more ? c.rows_more + " more types" : ""));
    if (c.growing.length) {
      box.append(el("h3", {}, "Types that grew at every step"));
      const t = el("table");
      for (const [type, counts] of c.growing) t.append(el("tr", {}, el("td", {}, type), el("td", {}, spark(counts)), el("td", { class: "num" }, counts.join(" → "))));
      box.append(t);
    }
  }

  for (const part of [overview, suspects, treemap, flame, cycles, compare]) part();
  window.addEventListener("beforeprint", () => { for (const d of document.querySelectorAll("details")) d.open = true; });
})();
