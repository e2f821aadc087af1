// Type test: the seed page's code samples and the generics checks in __test__/types/ compile
// against index.d.ts and node.d.ts with `tsc --noEmit` (strict).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function tsc(project, ...flags) {
  const bin = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [bin, '-p', project, '--pretty', 'false', ...flags], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(result.error, undefined, String(result.error));
  assert.equal(result.status, 0, `tsc failed:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

test('the seed samples and the generics checks compile with tsc (strict, noEmit)', () => {
  tsc(path.join('__test__', 'types'));
});

test('index.d.ts, bun.d.ts and deno.d.ts compile without @types/node or the DOM lib', () => {
  // @types/node is installed here (a dev dependency), so a `/// <reference types="node" />` would
  // still resolve: the program's file list shows that none of it was loaded.
  const files = tsc(path.join('__test__', 'types', 'standalone'), '--listFiles').split('\n');
  assert.ok(files.some((f) => f.endsWith('/index.d.ts') && !f.includes('node_modules')), 'index.d.ts was compiled');
  const foreign = files.filter((f) => f.includes('@types/node') || /lib\.dom/.test(f));
  assert.deepEqual(foreign, []);
});
