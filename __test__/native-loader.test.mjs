// The error raised when no native binary loads: the platform looked for, the package that
// provides it, the two ways out, and no blame on npm unless npm's behaviour is a possible cause.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = new URL('..', import.meta.url).pathname;
const { nativeLoadError, platformOfTriple, currentPlatform, detectLibc } = require('../lib/primitives/native-error.js');
const pkg = require('../package.json');

const missing = () => {
  throw Object.assign(new Error('Cannot find module'), { code: 'MODULE_NOT_FOUND' });
};
const loaderError = (...messages) => {
  const error = new Error('Cannot find native binding.');
  error.cause = messages.reduce((previous, message) => Object.assign(new Error(message), { cause: previous }), null);
  return error;
};
const BUILD = /npx --yes --package @napi-rs\/cli@\S+ napi build --platform --release/;

test('every napi target maps to a platform package name, and the names are distinct', () => {
  const names = pkg.napi.targets.map(platformOfTriple);
  assert.ok(names.every(Boolean), names.join());
  assert.equal(new Set(names).size, names.length);
  assert.ok(names.includes('linux-x64-gnu') && names.includes('win32-x64-msvc') && names.includes('darwin-arm64'));
  assert.equal(currentPlatform({ platform: 'linux', arch: 'arm64', libc: 'musl' }), 'linux-arm64-musl');
});

test('an optional dependency left out: the triple, the package, both ways out', () => {
  const withDeps = { ...pkg, optionalDependencies: { [`${pkg.name}-linux-arm64-gnu`]: pkg.version } };
  const error = nativeLoadError(loaderError("Cannot find module './x.node'"), {
    pkg: withDeps, platform: 'linux', arch: 'arm64', libc: 'gnu', resolve: missing,
  });
  assert.equal(error.code, 'ERR_DALOY_WS_NATIVE_BINDING');
  assert.match(error.message, /aarch64-unknown-linux-gnu \(linux-arm64-gnu\)/);
  assert.match(error.message, new RegExp(`package ${pkg.name}-linux-arm64-gnu, an optional dependency that is not installed`));
  assert.match(error.message, new RegExp(`npm install --include=optional ${pkg.name}-linux-arm64-gnu@${pkg.version.replace(/\./g, '\\.')}`));
  assert.match(error.message, BUILD);
});

test('a copy that lists no platform packages does not blame npm', () => {
  const { optionalDependencies, ...bare } = pkg;
  const error = nativeLoadError(loaderError("Cannot find module './x.node'"), {
    pkg: bare, platform: 'darwin', arch: 'x64', resolve: missing,
  });
  assert.match(error.message, /x86_64-apple-darwin \(darwin-x64\)/);
  assert.match(error.message, /does not list it as a dependency/);
  assert.doesNotMatch(error.message, /npm has a bug|issues\/4828/);
});

test('an installed binary that fails to load: its own error, no blame on npm', () => {
  const error = nativeLoadError(loaderError('GLIBC_2.99 not found', "Cannot find module 'x-wasm32-wasi'"), {
    platform: 'linux', arch: 'x64', libc: 'gnu', resolve: () => '/somewhere/package.json',
  });
  assert.match(error.message, /x86_64-unknown-linux-gnu/);
  assert.match(error.message, /which is installed, and loading it failed: GLIBC_2\.99 not found/);
  assert.doesNotMatch(error.message, /npm has a bug|issues\/4828/);
});

test('a platform with no prebuilt binary: says so, names no package, offers the build', () => {
  const error = nativeLoadError(loaderError("Cannot find module './x.node'"), {
    platform: 'freebsd', arch: 'riscv64', resolve: missing,
  });
  assert.match(error.message, /no prebuilt binary exists for this platform \(freebsd-riscv64\)/);
  assert.doesNotMatch(error.message, new RegExp(`${pkg.name}-freebsd`));
  assert.match(error.message, BUILD);
});

test('the real loader in a copy without the binary throws that error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daloy-native-'));
  try {
    for (const file of ['index.js', 'binding.js', 'package.json', 'lib']) cpSync(join(root, file), join(dir, file), { recursive: true });
    // A stand-in for a broken platform package: present, resolvable, not a binary.
    const fake = join(dir, 'node_modules', `${pkg.name}-${currentPlatform({ platform: process.platform, arch: process.arch, libc: detectLibc() })}`);
    mkdirSync(fake, { recursive: true });
    writeFileSync(join(fake, 'package.json'), JSON.stringify({ name: 'fake', version: pkg.version, main: 'fake.node' }));
    writeFileSync(join(fake, 'fake.node'), 'not an ELF file');
    const run = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(join(dir, 'index.js'))})`], { encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /daloy-ws-native: the native binary for \S+ \(\S+\) did not load/);
    assert.match(run.stderr, /loading it failed: .*fake\.node/);
    assert.match(run.stderr, BUILD);
    assert.doesNotMatch(run.stderr, /npm has a bug/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
