// Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function, and the total
// time under each function (inclusive), as shares of all samples.
//
//   node bench/lib/cpuprofile-summary.mjs /tmp/prof/CPU.*.cpuprofile [--top=25]

import { readFileSync } from 'node:fs';

const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const topArg = process.argv.find((a) => a.startsWith('--top='));
const top = topArg ? Number(topArg.slice(6)) : 25;

for (const file of files) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const hits = new Map();
  for (const id of prof.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const total = prof.samples.length;
  const label = (n) => {
    const f = n.callFrame;
    const where = f.url ? `${f.url.replace(/^.*\/(?=[^/]+\/[^/]+$)/, '')}:${f.lineNumber + 1}` : '';
    return `${f.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
  };
  const self = new Map();
  const inclusive = new Map();
  for (const [id, count] of hits) {
    const name = label(byId.get(id));
    self.set(name, (self.get(name) ?? 0) + count);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const nm = label(byId.get(cur));
      if (seen.has(nm)) continue;
      seen.add(nm);
      inclusive.set(nm, (inclusive.get(nm) ?? 0) + count);
    }
  }
  const pct = (x) => `${((x / total) * 100).toFixed(1).padStart(5)}%`;
  console.log(`${file}: ${total} samples`);
  console.log('  self time');
  for (const [name, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(c)}  ${name}`);
  console.log('  inclusive time');
  for (const [name, c] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(c)}  ${name}`);
}
