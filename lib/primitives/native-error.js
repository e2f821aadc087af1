'use strict';

// The error thrown when no native binary loads: which platform was looked for, which package
// provides its binary (if any does), why it did not load, and the two ways out. Pure: every fact
// about the running process comes in through `env`, so the tests can play any platform.

const path = require('node:path');

const PACKAGE_ROOT = path.join(__dirname, '..', '..');

// Rust target triple -> the platform name napi-rs gives packages and binaries
// (`<name>-linux-x64-gnu`, `<binaryName>.linux-x64-gnu.node`).
const ARCH = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', armv7: 'arm', riscv64gc: 'riscv64' };
const SYSTEM = {
  'unknown-linux-gnu': ['linux', 'gnu'],
  'unknown-linux-musl': ['linux', 'musl'],
  'apple-darwin': ['darwin', ''],
  'pc-windows-msvc': ['win32', 'msvc'],
  'unknown-freebsd': ['freebsd', ''],
};

function platformOfTriple(triple) {
  const dash = triple.indexOf('-');
  const arch = ARCH[triple.slice(0, dash)];
  const system = SYSTEM[triple.slice(dash + 1)];
  if (!arch || !system) return undefined;
  return [system[0], arch, system[1]].filter(Boolean).join('-');
}

/** The napi-rs platform name of the running process: `linux-x64-gnu`, `darwin-arm64`, ... */
function currentPlatform({ platform, arch, libc }) {
  const abi = platform === 'linux' ? libc : platform === 'win32' ? 'msvc' : '';
  return [platform, arch, abi].filter(Boolean).join('-');
}

/** `gnu` or `musl`: glibc reports its version in the process report; musl does not. */
function detectLibc(processLike = process) {
  try {
    // The report's header is untyped in @types/node: read it as a plain record.
    const report = /** @type {any} */ (processLike.report && processLike.report.getReport());
    if (report && report.header && report.header.glibcVersionRuntime) return 'gnu';
  } catch {
    // No report (some runtimes): fall through to the file check.
  }
  try {
    return require('node:fs').readFileSync('/usr/bin/ldd', 'utf8').includes('musl') ? 'musl' : 'gnu';
  } catch {
    return 'gnu';
  }
}

/** The one command that builds the binary in place, from the package's own `build` script. */
function buildFromSourceCommand(pkg) {
  const cli = String((pkg.devDependencies || {})['@napi-rs/cli'] || '3').replace(/^[\^~]/, '');
  const build = String((pkg.scripts || {}).build || 'napi build --platform --release');
  return `npx --yes --package @napi-rs/cli@${cli} ${build}`;
}

// The load failures binding.js collected, flattened from its cause chain.
function causes(error) {
  const out = [];
  for (let e = error && error.cause; e && out.length < 16; e = e.cause) out.push(e);
  return out;
}

// binding.js rebuilds each error from its message alone, so a missing file is known by its words.
const notFound = (e) => e && (e.code === 'MODULE_NOT_FOUND' || /^Cannot find module /.test(String(e.message)));

/**
 * @param {Error} cause what requiring the generated loader threw
 * @param {object} [env] the facts about this process (defaults: the real ones)
 */
function nativeLoadError(cause, env = {}) {
  const pkg = env.pkg || require(path.join(PACKAGE_ROOT, 'package.json'));
  const packageRoot = env.packageRoot || PACKAGE_ROOT;
  const platform = env.platform || process.platform;
  const arch = env.arch || process.arch;
  const libc = env.libc || (platform === 'linux' ? detectLibc() : '');
  const resolve = env.resolve || ((request) => require.resolve(request, { paths: [packageRoot] }));

  const name = currentPlatform({ platform, arch, libc });
  const targets = (pkg.napi && pkg.napi.targets) || [];
  const triple = targets.find((t) => platformOfTriple(t) === name);
  const build = `cd ${JSON.stringify(packageRoot)} && ${buildFromSourceCommand(pkg)}`;
  const fromSource = `build it from source with a Rust toolchain (1.88 or later): ${build}`;

  const lines = [];
  if (!triple) {
    lines.push(
      `daloy-ws-native: no prebuilt binary exists for this platform (${name}).`,
      `Prebuilt binaries cover: ${targets.join(', ')}.`,
      `The way out: ${fromSource}`,
    );
  } else {
    const provider = `${pkg.name}-${name}`;
    let installed = false;
    try {
      resolve(`${provider}/package.json`);
      installed = true;
    } catch {
      installed = false;
    }
    const listed = Boolean(pkg.optionalDependencies && pkg.optionalDependencies[provider]);
    const failure = causes(cause).find((e) => !notFound(e));
    lines.push(`daloy-ws-native: the native binary for ${triple} (${name}) did not load.`);
    if (installed || failure) {
      lines.push(
        `It is provided by the package ${provider}${installed ? ', which is installed' : ''}, and loading it failed: ` +
          (failure ? failure.message : cause.message),
      );
    } else if (listed) {
      lines.push(
        `It is provided by the package ${provider}, an optional dependency that is not installed: ` +
          'installs with optional dependencies turned off (--omit=optional, --no-optional) skip it, and so ' +
          'does npm with a lock file made on another platform (https://github.com/npm/cli/issues/4828).',
      );
    } else {
      lines.push(
        `It is provided by the package ${provider}, which is not installed; this copy of ${pkg.name} does ` +
          'not list it as a dependency (it was not installed from the registry), so install it yourself.',
      );
    }
    lines.push(
      'Two ways out:',
      `  1. install it with optional dependencies enabled: npm install --include=optional ${provider}@${pkg.version}`,
      `  2. ${fromSource}`,
    );
  }
  const error = Object.assign(new Error(lines.join('\n')), { code: 'ERR_DALOY_WS_NATIVE_BINDING' });
  // The load failures themselves, without the generated loader's own summary (its advice is
  // the one this error replaces).
  error.cause = /^Cannot find native binding/.test(String(cause && cause.message)) && cause.cause ? cause.cause : cause;
  return error;
}

module.exports = { nativeLoadError, platformOfTriple, currentPlatform, detectLibc, buildFromSourceCommand };
