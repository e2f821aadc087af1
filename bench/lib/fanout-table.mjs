// The table of bench/fanout.sh: medians per implementation and size, and ratios to this package on
// Node paired within each repetition (the median of the per-repetition ratios); the Redis rows against
// the same app in one process (daloy-text). Latency: from a publisher's send to each member's receipt.
//
//   node bench/lib/fanout-table.mjs bench/results/fanout-DATE.jsonl STEAL_PERCENT [bench/RESULTS.md]
//
// With a third argument, the tables also replace the fan-out section of that file (between its
// fanout:start and fanout:end markers, appended when there are none): bench/run.sh rewrites
// RESULTS.md, so run bench/fanout.sh after it.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';

const [file, steal, resultsFile] = process.argv.slice(2);
const lines = [];
const print = (line) => {
  lines.push(line);
  console.log(line);
};
const runs = readFileSync(file, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rate = (r) => (r.result && r.result.errors === 0 && r.result.mismatches === 0 ? r.result.msgs_per_sec : NaN);
const servers = new Map(runs.map((r) => [r.impl, r.server]));
print(`fan-out: 1,000 connections in 10 rooms, 100 receivers per message; hypervisor steal during the run ${steal}%`);

for (const inFlight of [...new Set(runs.map((r) => r.inFlight))]) table(runs.filter((r) => r.inFlight === inFlight), inFlight);

function table(runs, inFlight) {
  const impls = [...new Set(runs.map((r) => r.impl))];
  const sizes = [...new Set(runs.map((r) => r.size))];
  print('');
  print(`${inFlight} messages in flight per publisher; server CPU in µs per delivered message`);
  print('');
  print(`| server | ${sizes.map((s) => `${s} B delivered msg/s | ratio daloy / it | server µs/msg | latency p50 / p99 ms`).join(' | ')} |`);
  print(`| --- | ${sizes.map(() => '---: | ---: | ---: | ---:').join(' | ')} |`);
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
      const valid = mine.filter((r) => !Number.isNaN(rate(r)));
      const m = median(valid.map(rate));
      const invalid = valid.length < mine.length ? ' (some runs INVALID)' : '';
      const ms = (key) => (median(valid.map((r) => r.result[key])) / 1000).toFixed(1);
      // The Redis rows run in node:cluster workers, whose CPU the load generator does not sample.
      const cpu = impl === 'daloy-redis' ? NaN : median(valid.map((r) => r.result.server_cpu_us_per_msg).filter((x) => typeof x === 'number'));
      return [
        `${Number.isNaN(m) ? 'INVALID' : Math.round(m).toLocaleString('en-US')}${invalid}`,
        impl === baseImpl ? '1.00' : median(ratios).toFixed(2),
        Number.isNaN(cpu) ? '?' : cpu.toFixed(2),
        `${ms('p50_us')} / ${ms('p99_us')}`,
      ].join(' | ');
    });
    print(`| ${impl}: ${servers.get(impl)} | ${cells.join(' | ')} |`);
  }
}

if (resultsFile !== undefined) {
  const START = '<!-- fanout:start -->';
  const END = '<!-- fanout:end -->';
  const section = [START, '## Fan-out (topics): `bench/fanout.sh`', '', `Raw lines in \`${file}\`.`, '', ...lines, END].join('\n');
  const old = existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8') : '';
  const at = old.indexOf(START);
  const end = old.indexOf(END);
  const next = at !== -1 && end > at ? old.slice(0, at) + section + old.slice(end + END.length) : `${old.trimEnd()}\n\n${section}\n`;
  writeFileSync(resultsFile, next);
}
