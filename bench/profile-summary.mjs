// Summarises the largest .cpuprofile in bench/results/profiles (written by bench/profile.ts):
// self time by function and by file, then inclusive time as a share of the busy (non-idle) time.
// summarise a .cpuprofile: self time by function and by url
import { readFileSync, readdirSync, statSync } from "node:fs";
const dir = new URL("./results/profiles", import.meta.url).pathname;
const f = readdirSync(dir).filter((x) => x.endsWith(".cpuprofile")).map((x) => [x, statSync(dir + "/" + x).size]).sort((a, b) => b[1] - a[1])[0][0];
const prof = JSON.parse(readFileSync(dir + "/" + f, "utf8"));
const dt = new Map();
const ids = prof.samples; const deltas = prof.timeDeltas;
const self = new Map();
for (let i = 0; i < ids.length; i++) self.set(ids[i], (self.get(ids[i]) ?? 0) + (deltas[i] ?? 0));
const total = deltas.reduce((a, b) => a + b, 0);
const byFn = new Map(), byUrl = new Map();
for (const n of prof.nodes) {
  const t = self.get(n.id) ?? 0; if (!t) continue;
  const cf = n.callFrame; const url = cf.url.replace(/.*node_modules\//, "nm:").replace(/.*\/(?=src\/|bench\/)/, "");
  const k = `${cf.functionName || "(anon)"} ${url}:${cf.lineNumber}`;
  byFn.set(k, (byFn.get(k) ?? 0) + t);
  const u = url.split("/").slice(0, 3).join("/") || cf.functionName;
  byUrl.set(u, (byUrl.get(u) ?? 0) + t);
}
const show = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).forEach(([k, v]) => console.log((100 * v / total).toFixed(1).padStart(5) + "%", k));
console.log("by function"); show(byFn, Number(process.argv[2] ?? 30));
console.log("by file"); show(byUrl, 25);
// inclusive
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const incl = new Map();
function walk(n) { let t = self.get(n.id) ?? 0; for (const c of n.children ?? []) t += walk(byId.get(c)); n.incl = t; return t; }
walk(prof.nodes[0]);
const agg = new Map();
for (const n of prof.nodes) { const cf = n.callFrame; const k = `${cf.functionName || "(anon)"} ${cf.url.replace(/.*node_modules\//, "nm:").replace(/.*\/(?=src\/|bench\/)/, "")}:${cf.lineNumber}`; agg.set(k, Math.max(agg.get(k) ?? 0, 0) + n.incl); }
const busy = total - (byFn.get("(idle) :-1") ?? 0);
console.log("inclusive (% of busy)");
[...agg].filter(([k]) => !/esm|loader|realm|tsx|\(root\)/.test(k)).sort((a, b) => b[1] - a[1]).slice(0, Number(process.argv[3] ?? 60)).forEach(([k, v]) => console.log((100 * v / busy).toFixed(1).padStart(5) + "%", k));
