// Starts server.mjs under a chosen runtime and follows its handler events.
//
// DALOY_RUNTIME: node (default), bun, deno, or bun-node (the Node wiring on Bun's node:http).
// BUN / DENO: the binaries (default: found under .cache/runtimes, bench/.tools, then on PATH).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const SERVER = path.join(here, 'server.mjs');

/** The runtime under test. */
export const RUNTIME = process.env.DALOY_RUNTIME || 'node';

function binary(name) {
  const fromEnv = process.env[name.toUpperCase()];
  if (fromEnv) return fromEnv;
  for (const dir of ['.cache/runtimes/node_modules/.bin', 'bench/.tools/node_modules/.bin']) {
    const candidate = path.join(root, dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return name;
}

function command(runtime) {
  switch (runtime) {
    case 'node':
      return [process.execPath, [SERVER, '--adapter', 'node']];
    case 'bun':
      return [binary('bun'), [SERVER, '--adapter', 'bun']];
    case 'bun-node':
      return [binary('bun'), [SERVER, '--adapter', 'node']];
    case 'deno':
      return [binary('deno'), ['run', '-A', SERVER, '--adapter', 'deno']];
    default:
      throw new Error(`DALOY_RUNTIME must be node, bun, deno or bun-node (got ${runtime})`);
  }
}

/**
 * `env`: more environment for the server (DALOY_REDIS_URL gives it a Redis topics broker).
 * A running server.mjs: `port`, `events` (every ["event", ...] line so far), `next(predicate)`
 * (the first event, past or future, matching it and not yet taken), `exited` (its exit code).
 */
export async function startRuntimeServer(runtime = RUNTIME, env = {}) {
  const [file, args] = command(runtime);
  const child = spawn(file, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
  const events = [];
  const taken = new Set();
  let waiters = [];
  let stderr = '';
  let buffered = '';
  let resolvePort;
  let rejectPort;
  const portPromise = new Promise((resolve, reject) => {
    resolvePort = resolve;
    rejectPort = reject;
  });
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      rejectPort(new Error(`server exited (${code ?? signal}) before listening: ${stderr}`));
      resolve(code ?? signal);
      const pending = waiters;
      waiters = [];
      for (const w of pending) w();
    });
  });
  child.once('error', (err) => rejectPort(err));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => {
    stderr += text;
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text) => {
    buffered += text;
    let nl;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.startsWith('listening ')) resolvePort(Number(line.slice(10)));
      else if (line.startsWith('[')) {
        events.push(JSON.parse(line).slice(1));
        const pending = waiters;
        waiters = [];
        for (const w of pending) w();
      }
    }
  });
  const port = await portPromise;
  const server = {
    runtime,
    port,
    child,
    events,
    exited,
    get stderr() {
      return stderr;
    },
    /** The first event not yet taken whose name is `name` and that `predicate` accepts. */
    async next(name, predicate = () => true) {
      for (;;) {
        for (let i = 0; i < events.length; i++) {
          if (!taken.has(i) && events[i][0] === name && predicate(events[i].slice(1))) {
            taken.add(i);
            return events[i].slice(1);
          }
        }
        if (child.exitCode !== null) throw new Error(`server exited while waiting for "${name}"`);
        await new Promise((resolve) => waiters.push(resolve));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  return server;
}
