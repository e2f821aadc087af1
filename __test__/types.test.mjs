// Type test: the seed page's code samples and the generics checks in __test__/types/ compile
// against index.d.ts and node.d.ts with `tsc --noEmit` (strict).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

test('the seed samples and the generics checks compile with tsc (strict, noEmit)', () => {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join('__test__', 'types'), '--pretty', 'false'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(result.error, undefined, String(result.error));
  assert.equal(result.status, 0, `tsc failed:\n${result.stdout}${result.stderr}`);
});
