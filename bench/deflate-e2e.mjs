// permessage-deflate end to end: this package's echo server in each mode against `ws` with
// perMessageDeflate agreeing the same parameters (shared: no context takeover either way;
// dedicated: ws's defaults, context takeover), and uWebSockets.js (npm uwebsockets@3.0.6, installed
// under bench/.tools when missing) with its shared and dedicated compressors, driven by bench/loadgen with --deflate (it offers the extension, sends
// compressed messages and checks every inflated echo). Cells: 1 KiB JSON-like text and 64 KiB prose,
// 64 connections. Each server runs pinned to core 0 and the load generator to core 1; every cell is
// repeated REPS times with the servers interleaved; hypervisor steal is read from /proc/stat around
// each run. Reports medians, the ratio to ws, and the compressed bytes per echo on the wire.
//
//   node bench/deflate-e2e.mjs [--reps=3] [--duration=3] [--in-flight=4] [--uws=false]
//
// Needs the addon (npm run build) and the load generator (built here with cargo).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { parseArgs, root } from './lib/env.mjs';
import { median, table, today } from './lib/stats.mjs';

const opts = parseArgs({ reps: 3, duration: 3, inFlight: 4, uws: true, out: path.join(root, 'bench', 'results') });

const SERVERS = {
  'this-shared': ['examples/echo-server.mjs', '--deflate=shared'],
  'ws-no-context': ['bench/servers/ws-node.mjs', '--deflate-no-context'],
  'uws-shared': ['bench/servers/uws-node.mjs', '--deflate=shared'],
  'this-dedicated': ['examples/echo-server.mjs', '--deflate=dedicated'],
  'ws-deflate': ['bench/servers/ws-node.mjs', '--deflate'],
  'uws-dedicated': ['bench/servers/uws-node.mjs', '--deflate=dedicated'],
};
if (!opts.uws) {
  delete SERVERS['uws-shared'];
  delete SERVERS['uws-dedicated'];
} else if (!existsSync(path.join(root, 'bench', '.tools', 'node_modules', 'uwebsockets'))) {
  const install = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock', '--prefix', 'bench/.tools', 'uwebsockets@3.0.6'], { cwd: root, stdio: 'inherit' });
  if (install.status !== 0) process.exit(1);
}
// Each server is compared with ws agreeing the same parameters, and this package's modes with uWS's.
const PEER = { 'this-shared': 'ws-no-context', 'uws-shared': 'ws-no-context', 'this-dedicated': 'ws-deflate', 'uws-dedicated': 'ws-deflate' };
const UWS_PEER = { 'this-shared': 'uws-shared', 'this-dedicated': 'uws-dedicated' };
const CELLS = {
  'json1k': ['--size', '1K', '-c', '64', '-p', String(opts.inFlight)],
  'text64k': ['--size', '64K', '-c', '64', '-p', '1'],
};

function cpuTimes() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { total: fields.reduce((a, b) => a + b, 0), steal: fields[7] ?? 0 };
}

async function startServer(args) {
  const child = spawn('taskset', ['-c', '0', process.execPath, ...args, '--port', '0'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  for await (const chunk of child.stdout) {
    out += chunk;
    const m = /listening on (ws:\S+)/.exec(out);
    if (m) return { child, url: m[1] };
  }
  throw new Error(`server ${args.join(' ')} did not start`);
}

const loadgen = path.join(root, 'bench', 'loadgen', 'target', 'release', 'daloy-loadgen');
const build = spawnSync('cargo', ['build', '--release', '--quiet', '--manifest-path', 'bench/loadgen/Cargo.toml', '--target-dir', 'bench/loadgen/target'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(1);

const results = [];
for (let rep = 0; rep < opts.reps; rep++) {
  for (const [cell, cellArgs] of Object.entries(CELLS)) {
    for (const [name, serverArgs] of Object.entries(SERVERS)) {
      const { child, url } = await startServer(serverArgs);
      const before = cpuTimes();
      const run = spawnSync('taskset', ['-c', '1', loadgen, '--url', url, '--deflate', '--realistic', ...cellArgs, '--duration', String(opts.duration), '--server-pid', String(child.pid), '--json'], { encoding: 'utf8' });
      const after = cpuTimes();
      child.kill('SIGTERM');
      await once(child, 'exit');
      const line = JSON.parse(run.stdout.trim().split('\n').pop());
      const steal = (100 * (after.steal - before.steal)) / Math.max(1, after.total - before.total);
      results.push({ rep, cell, server: name, steal, ...line });
      console.log(`${cell} ${name.padEnd(15)} rep ${rep + 1}: ${line.msgs_per_sec.toFixed(0)} msg/s, ${line.wire_bytes_per_msg.toFixed(0)} B/echo on the wire, errors ${line.errors}, mismatches ${line.mismatches}, steal ${steal.toFixed(1)} %`);
    }
  }
}

const rows = [];
for (const cell of Object.keys(CELLS)) {
  const of = (server, key) => median(results.filter((r) => r.cell === cell && r.server === server).map((r) => r[key]));
  for (const server of Object.keys(SERVERS)) {
    const peer = PEER[server];
    const rate = of(server, 'msgs_per_sec');
    const wire = of(server, 'wire_bytes_per_msg');
    const vs = (key, value) => (peer === undefined ? '—' : (value / of(peer, key)).toFixed(key === 'msgs_per_sec' ? 2 : 3));
    const uws = UWS_PEER[server];
    const vsUws = uws === undefined || !(uws in SERVERS) ? '—' : (rate / of(uws, 'msgs_per_sec')).toFixed(2);
    rows.push([cell, server, rate.toFixed(0), vs('msgs_per_sec', rate), vsUws, wire.toFixed(0), vs('wire_bytes_per_msg', wire), of(server, 'server_cpu_pct')?.toFixed(0) ?? '—']);
  }
}
const steal = results.map((r) => r.steal);
const md = table(['cell', 'server', 'msg/s (median)', 'x ws (same parameters)', 'x uWS (same mode)', 'wire bytes per echo', 'x ws', 'server CPU %'], rows);
console.log(`\n${opts.reps} repetitions of ${opts.duration} s; steal per run: max ${Math.max(...steal).toFixed(1)} %, median ${median(steal).toFixed(1)} %\n\n${md}`);
mkdirSync(opts.out, { recursive: true });
const base = path.join(opts.out, `deflate-e2e-${today()}`);
writeFileSync(`${base}.json`, `${JSON.stringify({ settings: opts, results }, null, 2)}\n`);
writeFileSync(`${base}.md`, `${md}\n`);
console.log(`\nwrote ${path.relative(process.cwd(), base)}.json and .md`);
