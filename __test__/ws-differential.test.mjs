// Differential suite of `daloy-ws-native/ws` against `ws` from npm: every scenario of
// __test__/ws/scenarios.mjs runs once against `ws` (the reference) and once against this module,
// and what a user observes (events and their arguments in order, callbacks, thrown errors, status
// codes, bytes on the wire) must be the same, except for the differences listed in DIFFERENCES,
// each documented in the README ("Replacing `ws`").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IMPLEMENTATIONS, within } from './ws/harness.mjs';
import { scenarios } from './ws/scenarios.mjs';

// Deliberate differences: scenario name -> a function that rewrites the reference's record into
// what this module records, with the reason.
const DIFFERENCES = {
  // With `server` and `path`, `ws` answers every other path with 400, even when the http server has
  // another `upgrade` listener for it (its own README routes several paths with noServer for that
  // reason). This module leaves such a request to the other listeners (here: a 404 from one), and
  // answers 400 only when no other listener is there to take it.
  'server: with server and path, other paths are left to other upgrade listeners': (records) => {
    records[0][1] = 'HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
    return records;
  },
  // RFC 6455 §8.1: invalid UTF-8 fails the connection as soon as it arrives. `ws` checks a text
  // message once it is complete, so its error (and the close that follows) come after the last
  // fragment; here they come before it.
  'connection: invalid UTF-8 in the first fragment of a text message': (records) => {
    const marker = records.findIndex((r) => r[0] === 'the message is not finished yet');
    const [waiting] = records.splice(marker, 1);
    records.splice(records.length - 1, 0, waiting);
    return records;
  },
};

const T = { timeout: 20000 };

async function run(impl, scenario) {
  const records = [];
  const track = [];
  let recording = true;
  // What happens while the scenario's connections are torn down is not part of it.
  const rec = (...values) => {
    if (recording) records.push(values);
  };
  try {
    await within(15000, scenario({ impl, rec, track }), 'the scenario');
  } finally {
    recording = false;
    while (track.length > 0) await track.pop()();
  }
  return records;
}

const reference = new Map();

for (const [name, scenario] of Object.entries(scenarios)) {
  test(`ws: ${name}`, T, async () => {
    const records = await run(IMPLEMENTATIONS.ws, scenario);
    assert.ok(records.length > 0, 'the scenario observed something');
    reference.set(name, records);
  });
  test(`daloy-ws-native/ws: ${name}`, T, async () => {
    const records = await run(IMPLEMENTATIONS['daloy-ws-native/ws'], scenario);
    let expected = reference.get(name);
    assert.ok(expected !== undefined, 'the reference run recorded this scenario');
    if (DIFFERENCES[name] !== undefined) expected = DIFFERENCES[name](structuredClone(expected));
    assert.deepStrictEqual(records, expected);
  });
}
