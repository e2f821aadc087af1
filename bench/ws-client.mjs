// The client benchmark of daloy-ws-native/ws (issue 12): 64 client connections of this module
// against one fast echo server (this package's serve(), examples/echo-server.mjs), side by side with
// `ws`'s client (with bufferutil/utf-8-validate) in one run. The server is pinned to core 0, the
// clients to core 1; the two clients alternate over REPS repetitions and the medians are compared.
// The hypervisor's steal over the run is read from /proc/stat and reported with the figures.
// Prints a Markdown section and writes it, with the raw lines, to bench/results/ws-client-<stamp>.md;
// with --results FILE (bench/RESULTS.md after bench/run.sh), also puts the section in that file,
// replacing the one of an earlier run.
//
//   node bench/ws-client.mjs [--reps 5] [--duration 3] [--sizes 16,1024] [--results bench/RESULTS.md]
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { root } from './lib/env.mjs';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    duration: { type: 'string', default: '3' },
    sizes: { type: 'string', default: '16,1024' },
    results: { type: 'string' },
  },
});
const REPS = Number(values.reps);
const SIZES = values.sizes.split(',').map(Number);
const SERVER_CORE = '0';
const CLIENT_CORE = '1';

/** Total and steal jiffies of all CPUs (/proc/stat). */
function cpuTimes() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { total: fields.reduce((a, b) => a + b, 0), steal: fields[7] ?? 0 };
}

function median(xs) {
  const v = [...xs].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

async function startServer() {
  const proc = spawn('taskset', ['-c', SERVER_CORE, process.execPath, 'examples/echo-server.mjs', '--port', '0', '--host', '127.0.0.1'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise((resolve, reject) => {
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /listening on (ws:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    proc.once('exit', () => reject(new Error(`the echo server exited: ${out}`)));
  });
  return { proc, url };
}

function load(impl, url, size) {
  const args = ['-c', CLIENT_CORE, process.execPath, 'bench/ws-client-load.mjs', '--impl', impl, '--url', url, '-c', '64', '-p', '16', '-s', String(size), '--duration', values.duration];
  return JSON.parse(execFileSync('taskset', args, { cwd: root, encoding: 'utf8' }).trim().split('\n').pop());
}

const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
const { proc, url } = await startServer();
const raw = [];
const before = cpuTimes();
const started = Date.now();
try {
  for (const size of SIZES) {
    for (let rep = 0; rep < REPS; rep++) {
      for (const impl of rep % 2 === 0 ? ['daloy', 'ws'] : ['ws', 'daloy']) {
        const line = { size, rep, ...load(impl, url, size) };
        raw.push(line);
        console.error(JSON.stringify(line));
      }
    }
  }
} finally {
  proc.kill('SIGTERM');
}
const after = cpuTimes();
const stealPct = (100 * (after.steal - before.steal)) / Math.max(1, after.total - before.total);
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();

const out = [];
out.push('## daloy-ws-native/ws client (issue 12)');
out.push('');
out.push(`Written by \`bench/ws-client.mjs\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, commit ${commit}; Node ${process.version}.`);
out.push(`64 client connections × 16 in flight against this package's echo server (\`examples/echo-server.mjs\`),`);
out.push(`server on core 0, clients on core 1; each client run ${REPS} times (alternating), ${values.duration} s measured each,`);
out.push(`medians. Hypervisor steal over the run: ${stealPct.toFixed(1)}% of all CPU time; ${((Date.now() - started) / 1000).toFixed(0)} s in all.`);
out.push('');
out.push('| message | daloy-ws-native/ws msg/s | ws + addons msg/s | ratio | client CPU µs/msg (this / ws) | echo mismatches |');
out.push('| --- | ---: | ---: | ---: | --- | ---: |');
for (const size of SIZES) {
  const pick = (impl, key) => raw.filter((r) => r.size === size && r.impl === impl).map((r) => r[key]);
  const ours = median(pick('daloy', 'msgs_per_sec'));
  const theirs = median(pick('ws', 'msgs_per_sec'));
  const cpu = `${median(pick('daloy', 'cpu_us_per_msg')).toFixed(2)} / ${median(pick('ws', 'cpu_us_per_msg')).toFixed(2)}`;
  const bad = raw.filter((r) => r.size === size).reduce((a, r) => a + r.mismatches, 0);
  out.push(`| ${size} B binary | ${Math.round(ours).toLocaleString('en-US')} | ${Math.round(theirs).toLocaleString('en-US')} | ${(ours / theirs).toFixed(2)}x | ${cpu} | ${bad} |`);
}
out.push('');
const text = out.join('\n');
console.log(text);
const file = path.join(root, 'bench', 'results', `ws-client-${stamp}.md`);
writeFileSync(file, `${text}\nRaw lines:\n\n\`\`\`\n${raw.map((r) => JSON.stringify(r)).join('\n')}\n\`\`\`\n`);
console.error(`wrote ${path.relative(root, file)}`);
if (values.results !== undefined) {
  const title = out[0];
  const previous = readFileSync(values.results, 'utf8');
  const start = previous.indexOf(title);
  let next = -1;
  if (start !== -1) next = previous.indexOf('\n## ', start + title.length);
  const kept = start === -1 ? previous.trimEnd() : `${previous.slice(0, start).trimEnd()}${next === -1 ? '' : `\n\n${previous.slice(next + 1).trimEnd()}`}`;
  writeFileSync(values.results, `${kept}\n\n${text}`);
  console.error(`updated ${values.results}`);
}
