// The README's migration list and API tables, checked against the code: every test the list
// names exists in the file it names, every export the API tables name exists, and the defaults
// the README states are the code's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import * as ws from '../index.js';
import * as node from '../node.js';
import { App } from '../index.js';
import { createUpgradeHandler } from '../node.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

function section(title) {
  const start = readme.indexOf(`\n## ${title}`);
  assert.notEqual(start, -1, `README has no section "${title}"`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

test('every test the migration list names exists in the file it names', () => {
  const migration = section('Migrating from `@daloyjs/core/websocket`');
  // References look like: `file.test.mjs`: "title", "title"
  const refs = [...migration.matchAll(/`([\w-]+\.test\.mjs)`: ((?:"(?:[^"\\]|\\.)+"(?:, )?)+)/g)];
  assert.ok(refs.length >= 20, `only ${refs.length} references found`);
  let titles = 0;
  for (const [, file, list] of refs) {
    const source = readFileSync(path.join(root, '__test__', file), 'utf8');
    for (const [, quoted] of list.matchAll(/"((?:[^"\\]|\\.)+)"/g)) {
      // A title may wrap across README lines.
      const title = quoted.replace(/\\(.)/g, '$1').replace(/\s+/g, ' ');
      assert.ok(source.includes(title), `${file} has no test "${title}"`);
      titles++;
    }
  }
  assert.ok(titles >= 30, `only ${titles} test titles found`);
});

test('every export the API tables name exists', () => {
  const names = new Set();
  for (const title of ['API', 'Serving routes']) {
    for (const row of section(title).split('\n').filter((line) => line.startsWith('| `'))) {
      const cell = row.split(' | ')[0];
      for (const [, name] of cell.matchAll(/`([A-Za-z_]\w*)/g)) names.add(name);
    }
  }
  assert.ok(names.size >= 25, `only ${names.size} names found`);
  for (const name of names) assert.ok(name in ws || name in node, `README names ${name}, which is not exported`);
  for (const name of ['normalizeWebSocketOptions', 'WebSocketRegistry', 'App', 'FrameSink']) assert.ok(names.has(name), name);
});

test('the defaults the README states are the code\'s', () => {
  const upgrades = createUpgradeHandler(new App());
  assert.equal(upgrades.shutdownTimeout, 10_000);
  assert.equal(upgrades.shutdownCloseTimeout, 1000);
  assert.match(readme, /`shutdownCloseTimeout`, 1 s/);
  assert.match(readme, /`shutdownTimeout`, 10 s/);
  assert.match(readme, /`shutdownTimeoutMs` \(default 10,000\)/);
  assert.match(readme, /`maxHeaderCount` \(100\)/);
  assert.match(readme, /`maxHeaderBytes` \(16 KiB\)/);
  assert.equal(ws.DEFAULT_WS_MAX_PAYLOAD_LENGTH, 1048576);
  assert.equal(ws.DEFAULT_WS_MAX_FRAGMENTS, 131072);
  assert.match(readme, /`maxFragments` \(131,072 frames per message/);
  assert.match(readme, /`idleTimeout` is at most 2147483 s/);
  assert.doesNotThrow(() => new App().ws('/a', { idleTimeout: 2147483 }));
  assert.throws(() => new App().ws('/a', { idleTimeout: 2147484 }));
});
