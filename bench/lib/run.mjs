// The measuring loop shared by the parse and encode benchmarks: repetitions that alternate the
// competitors (so a noisy neighbour hits all of them), a short warm-up per competitor, and
// per-repetition ratios paired within one repetition.

import { summary } from './stats.mjs';

/**
 * `competitors` maps a name to `(minSeconds) => { seconds, ops, bytes, ok, error? }`. Each call
 * must run for at least `minSeconds` of timed work and check its own results.
 */
export function measureCell(competitors, { reps, minTime, warmup }) {
  const names = Object.keys(competitors);
  const runs = Object.fromEntries(names.map((n) => [n, []]));
  const failures = [];
  for (const n of names) {
    const r = competitors[n](warmup);
    if (!r.ok) failures.push(`${n} (warm-up): ${r.error}`);
  }
  for (let rep = 0; rep < reps; rep++) {
    const order = rep % 2 === 0 ? names : [...names].reverse();
    for (const n of order) {
      const r = competitors[n](minTime);
      if (!r.ok) failures.push(`${n} (rep ${rep + 1}): ${r.error}`);
      runs[n][rep] = { opsPerSec: r.ops / r.seconds, bytesPerSec: r.bytes / r.seconds, seconds: r.seconds, ops: r.ops };
    }
  }
  const out = { failures, competitors: {} };
  for (const n of names) {
    out.competitors[n] = {
      opsPerSec: summary(runs[n].map((r) => r.opsPerSec)),
      bytesPerSec: summary(runs[n].map((r) => r.bytesPerSec)),
      seconds: runs[n].map((r) => r.seconds),
    };
  }
  out.pairedRatio = (a, b) => summary(runs[a].map((r, i) => r.opsPerSec / runs[b][i].opsPerSec));
  return out;
}
