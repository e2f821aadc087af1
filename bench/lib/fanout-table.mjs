// The table of bench/fanout.sh: medians per implementation and size, and ratios to this package on
// Node paired within each repetition (the median of the per-repetition ratios); the Redis rows against
// the same app in one process (daloy-text).
//
//   node bench/lib/fanout-table.mjs bench/results/fanout-DATE.jsonl STEAL_PERCENT
import { readFileSync } from 'node:fs';

const [file, steal] = process.argv.slice(2);
const runs = readFileSync(file, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rate = (r) => (r.result && r.result.errors === 0 && r.result.mismatches === 0 ? r.result.msgs_per_sec : NaN);
const impls = [...new Set(runs.map((r) => r.impl))];
const sizes = [...new Set(runs.map((r) => r.size))];
const servers = new Map(runs.map((r) => [r.impl, r.server]));

console.log(`fan-out: 1,000 connections in 10 rooms, 100 receivers per message; hypervisor steal during the run ${steal}%`);
console.log('');
console.log(`| server | ${sizes.map((s) => `${s} B delivered msg/s | ratio daloy / it`).join(' | ')} |`);
console.log(`| --- | ${sizes.map(() => '---: | ---:').join(' | ')} |`);
for (const impl of impls) {
  // The scale-out rows (text) compare with the same app in one process, also text.
  const baseImpl = impl === 'daloy-redis' || impl === 'daloy-text' ? 'daloy-text' : 'daloy-node';
  const cells = sizes.map((size) => {
    const mine = runs.filter((r) => r.impl === impl && r.size === size);
    const ratios = mine
      .map((r) => {
        const base = runs.find((b) => b.impl === baseImpl && b.size === size && b.rep === r.rep);
        return base === undefined ? NaN : rate(base) / rate(r);
      })
      .filter((x) => !Number.isNaN(x));
    const m = median(mine.map(rate).filter((x) => !Number.isNaN(x)));
    const invalid = mine.some((r) => Number.isNaN(rate(r))) ? ' (some runs INVALID)' : '';
    return `${Number.isNaN(m) ? 'INVALID' : Math.round(m).toLocaleString('en-US')}${invalid} | ${impl === baseImpl ? '1.00' : median(ratios).toFixed(2)}`;
  });
  console.log(`| ${impl}: ${servers.get(impl)} | ${cells.join(' | ')} |`);
}
