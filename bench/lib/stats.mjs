// Summaries and formatting shared by the benchmarks. Rates are medians over repetitions; the
// spread is the min..max range across them. Byte rates use decimal units (1 MB/s = 10^6 B/s) on
// payload bytes, not wire bytes.

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function summary(xs) {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs };
}

/** Half the min..max range as a percentage of the median ("±3%"). */
export function spread(s) {
  if (!s.median) return '';
  return `±${Math.round(((s.max - s.min) / 2 / s.median) * 100)}%`;
}

export function rate(x) {
  if (x >= 1e9) return `${(x / 1e9).toFixed(2)} G`;
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(1);
}

export function mbps(bytesPerSecond) {
  const mb = bytesPerSecond / 1e6;
  return mb >= 100 ? mb.toFixed(0) : mb >= 10 ? mb.toFixed(1) : mb.toFixed(2);
}

export function ratio(x) {
  return x >= 0.1 || x === 0 ? `${x.toFixed(2)}x` : `${x.toPrecision(2)}x`;
}

export function sizeLabel(n) {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n >> 20} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n >> 10} KiB`;
  return `${n} B`;
}

export function table(header, rows) {
  const out = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const row of rows) out.push(`| ${row.join(' | ')} |`);
  return out.join('\n');
}

export function today() {
  return new Date().toISOString().slice(0, 10);
}

/** Seconds elapsed since `start` (a `process.hrtime.bigint()` reading). */
export function hrSeconds(start) {
  return Number(process.hrtime.bigint() - start) / 1e9;
}
