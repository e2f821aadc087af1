// Where a benchmark ran and what it compared against: the machine, the runtime, the versions of
// `ws` and its native helpers, and which of those helpers `ws` actually wired in. A figure for `ws`
// means little without the last point: `ws` silently falls back to JavaScript when an addon is
// missing, and on Node >= 18.14 it validates UTF-8 with `buffer.isUtf8`, not with `utf-8-validate`.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..', '..');
export const require = createRequire(path.join(root, 'package.json'));

function cpuModel() {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const line = info.split('\n').find((l) => l.startsWith('model name'));
    if (line) return line.split(':').slice(1).join(':').trim();
  } catch {
    // Not Linux: fall through to what Node reports.
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

function affinity() {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const line = status.split('\n').find((l) => l.startsWith('Cpus_allowed_list'));
    return line ? line.split(':')[1].trim() : 'unknown';
  } catch {
    return 'unknown';
  }
}

function versionOf(name) {
  try {
    return require(`${name}/package.json`).version;
  } catch {
    return 'not installed';
  }
}

function nativeModulesLoaded(fragment) {
  return Object.keys(require.cache).filter((k) => k.endsWith('.node') && k.includes(fragment));
}

function cachedExports(suffix) {
  const key = Object.keys(require.cache).find((k) => k.endsWith(suffix));
  return key ? require.cache[key].exports : undefined;
}

/**
 * Loads `ws` and reports how it masks/unmasks and validates UTF-8. Throws if `ws` runs on its
 * JavaScript fallbacks, since then every ratio against it would flatter this package.
 */
export function loadWs() {
  const ws = require('ws');
  const bufferUtil = cachedExports(path.join('ws', 'lib', 'buffer-util.js'));
  const validation = cachedExports(path.join('ws', 'lib', 'validation.js'));
  const unmaskSrc = bufferUtil ? String(bufferUtil.unmask) : '';
  const utf8Src = validation ? String(validation.isValidUTF8) : '';

  let masking = 'JavaScript fallback';
  if (unmaskSrc.includes('websocketUnmask')) masking = "node:http's built-in websocketUnmask";
  else if (unmaskSrc.includes('bufferUtil.unmask')) {
    const addon = nativeModulesLoaded('bufferutil');
    masking = addon.length
      ? `bufferutil native addon (${path.relative(root, addon[0])}); JS below 32/48 bytes`
      : 'bufferutil JavaScript fallback';
  }

  let utf8 = 'JavaScript fallback';
  if (utf8Src.includes('isUtf8(')) utf8 = 'node:buffer isUtf8 (simdutf, built into Node); JS below 24 bytes';
  else if (utf8Src.includes('isValidUTF8(buf)')) {
    const addon = nativeModulesLoaded('utf-8-validate');
    utf8 = addon.length
      ? `utf-8-validate native addon (${path.relative(root, addon[0])})`
      : 'utf-8-validate JavaScript fallback';
  }

  // utf-8-validate is installed as the issue asks, but ws only loads it when buffer.isUtf8 is
  // missing. Check that it would load natively, so the report can say so.
  let utf8ValidateAddon = 'not installed';
  try {
    const mod = require('utf-8-validate');
    const fallback = require('utf-8-validate/fallback');
    utf8ValidateAddon = mod === fallback ? 'JavaScript fallback' : 'native addon loads';
  } catch {
    // keep "not installed"
  }

  if (masking.includes('fallback') || utf8.includes('fallback')) {
    throw new Error(`ws is running on JavaScript fallbacks (masking: ${masking}; UTF-8: ${utf8})`);
  }
  return { ws, helpers: { masking, utf8, utf8ValidateAddon } };
}

/** Loads this package from the checkout (the hand-written entry over the built addon). */
export function loadThis() {
  try {
    return require(path.join(root, 'index.js'));
  } catch (err) {
    throw new Error(
      `cannot load ${path.join(root, 'index.js')} (run \`npm run build\` first): ${err.message}`,
    );
  }
}

export function machine(wsHelpers) {
  const [l1, l5, l15] = os.loadavg();
  return {
    date: new Date().toISOString(),
    cpu: cpuModel(),
    cores: os.cpus().length,
    pinnedTo: affinity(),
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    loadAvg: [l1, l5, l15].map((x) => +x.toFixed(2)),
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
    ws: versionOf('ws'),
    bufferutil: versionOf('bufferutil'),
    utf8Validate: versionOf('utf-8-validate'),
    wsHelpers,
  };
}

export function printMachine(m) {
  console.log(`date        ${m.date}`);
  console.log(`cpu         ${m.cpu}, ${m.cores} cores, pinned to CPU(s) ${m.pinnedTo}, load ${m.loadAvg.join(' ')}`);
  console.log(`runtime     Node ${m.node} (V8 ${m.v8}), ${m.platform}`);
  console.log(`ws          ${m.ws}, bufferutil ${m.bufferutil}, utf-8-validate ${m.utf8Validate}`);
  if (m.wsHelpers) {
    console.log(`ws masking  ${m.wsHelpers.masking}`);
    console.log(`ws UTF-8    ${m.wsHelpers.utf8} (utf-8-validate: ${m.wsHelpers.utf8ValidateAddon}, unused by ws here)`);
  }
  if (m.loadAvg[0] > 0.5 * m.cores) {
    console.log(`WARNING     load average ${m.loadAvg[0]} on ${m.cores} cores: the machine is busy, absolute figures are unreliable`);
  }
}

/** Parses `--name=value` / `--flag` arguments over the given defaults (numbers stay numbers). */
export function parseArgs(defaults) {
  const opts = { ...defaults };
  for (const arg of process.argv.slice(2)) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unknown argument ${arg}`);
    const key = m[1].replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in defaults)) throw new Error(`unknown option --${m[1]}`);
    const raw = m[2] ?? 'true';
    opts[key] = typeof defaults[key] === 'number' ? Number(raw) : typeof defaults[key] === 'boolean' ? raw !== 'false' : raw;
  }
  return opts;
}
