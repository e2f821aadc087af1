// Differential suite of `daloy-ws-native/ws` against `ws` from npm: every scenario of
// __test__/ws/scenarios.mjs runs once against `ws` (the reference) and once against this module,
// and what a user observes (events and their arguments in order, callbacks, thrown errors, status
// codes, bytes on the wire) must be the same, except for the differences listed in DIFFERENCES,
// each documented in the README ("Replacing `ws`").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { IMPLEMENTATIONS, within } from './ws/harness.mjs';
import { scenarios as coreScenarios } from './ws/scenarios.mjs';
import { scenarios as deflateScenarios } from './ws/deflate-scenarios.mjs';

const scenarios = { ...coreScenarios, ...deflateScenarios };

const { TRANSPORT_MODE } = createRequire(import.meta.url)('../lib/node/native-socket.js');
const NATIVE_HERE = TRANSPORT_MODE === 'native' && (process.platform === 'linux' || process.platform === 'darwin');

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
  "deflate: the server's answers to a table of offers, perMessageDeflate no context takeover both ways": canonicalExtensions,
  "deflate: the server's answers to a table of offers, perMessageDeflate serverMaxWindowBits 10": canonicalExtensions,
  "deflate: the server's answers to a table of offers, perMessageDeflate clientMaxWindowBits 10": declinedNotRefused({
    'permessage-deflate': null,
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover': null,
    'permessage-deflate; server_max_window_bits=12': null,
    'permessage-deflate; server_no_context_takeover, permessage-deflate': null,
  }),
  "deflate: the server's answers to a table of offers, perMessageDeflate serverNoContextTakeover and serverMaxWindowBits 12": declinedNotRefused({
    'permessage-deflate; server_max_window_bits=10; client_max_window_bits': 'permessage-deflate; server_no_context_takeover; server_max_window_bits=10',
  }),
  // `ws`'s client accepts these answers; RFC 7692 says the client fails the connection, and this
  // module's does, with `ws`'s messages for a bad answer.
  'deflate: answers that leave out what the offer asked for, or name the extension twice': (records) => {
    const out = [];
    for (const [response] of records.filter((record) => record[1] === 'open')) {
      const message = response.includes(',') ? 'Server indicated an extension that was not requested' : 'Invalid Sec-WebSocket-Extensions header';
      out.push([response, 'error', { error: 'Error', message }], [response, 'close', 1006]);
    }
    return out;
  },
  'deflate: offers the server declines (invalid, or asking for less than serverMaxWindowBits 10)': (records) => {
    const answers = {
      'permessage-deflate; server_max_window_bits=9': 'permessage-deflate; server_max_window_bits=9',
    };
    const out = [];
    for (const [offer] of records) {
      const answer = answers[offer] ?? null;
      out.push(['connection', answer === null ? '' : 'permessage-deflate'], [offer, switching(answer)]);
    }
    return out;
  },
};

// On the native transport (lib/node/native-socket.js) the server's socket closes one loop
// iteration sooner than Node's stream closes it: its shutdown is issued from the tick of end(),
// where libuv's waits for the next poll; and the frames sent from a read leave in the check phase
// of the read's loop iteration, not at the end of the read's tick as the stream's do. Each end
// sees its own events in `ws`'s order; in one process, the order between the server's close and the peer's depends on that timing (and on the
// Node version, for `ws` itself). Not a difference across processes, where there is no common
// order. For these scenarios, on the native transport, both runs' records are compared with the
// two ends' records from the first close on kept apart: each end's order and every record are
// still compared, the interleaving of the two ends is not.
const NATIVE_DIFFERENCES = {
  'connection: messages, text and binary, and send callbacks in order': endsApart('peer.close', ['ws.close']),
  'connection: ping and pong, with callbacks; autoPong answers': endsApart('peer.close', ['ws.close']),
  'connection: maxPayload refuses a larger message with 1009': endsApart('peer.close', ['close']),
  'createWebSocketStream: messages read as chunks, writes sent, the end closes the WebSocket': endsApart('peer.close', ['ws close', 'duplex close']),
};

// From the first record of `peerLabel` or of `serverLabels` on, the server's records (those of
// `serverLabels`) first, then the rest, each in the order recorded.
function endsApart(peerLabel, serverLabels) {
  return (records) => {
    const at = records.findIndex((r) => r[0] === peerLabel || serverLabels.includes(r[0]));
    if (at < 0) return records;
    const tail = records.slice(at);
    return [...records.slice(0, at), ...tail.filter((r) => serverLabels.includes(r[0])), ...tail.filter((r) => !serverLabels.includes(r[0]))];
  };
}

// permessage-deflate: the parameters of the server's answer are written in RFC 7692's order
// (server_no_context_takeover, client_no_context_takeover, server_max_window_bits,
// client_max_window_bits); `ws` writes the offer's parameters in the offer's order, then adds its
// own. The same parameters, in another order.
const PARAMETER_ORDER = ['server_no_context_takeover', 'client_no_context_takeover', 'server_max_window_bits', 'client_max_window_bits'];
function canonicalExtensions(value) {
  if (typeof value === 'string') {
    return value.replace(/^Sec-WebSocket-Extensions: permessage-deflate((?:; [^\r]*)?)\r$/m, (_, params) => {
      const list = params === '' ? [] : params.slice(2).split('; ');
      list.sort((a, b) => PARAMETER_ORDER.indexOf(a.split('=')[0]) - PARAMETER_ORDER.indexOf(b.split('=')[0]));
      return `Sec-WebSocket-Extensions: ${['permessage-deflate', ...list].join('; ')}\r`;
    });
  }
  return Array.isArray(value) ? value.map(canonicalExtensions) : value;
}

// The 101 of the table scenarios (the key of RFC 6455 §1.3), with the given answer or none.
function switching(extensions) {
  const header = extensions === null ? '' : `Sec-WebSocket-Extensions: ${extensions}\r\n`;
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n${header}\r\n`;
}

// `ws` refuses a handshake whose permessage-deflate offers it cannot accept (invalid ones, or
// none its configuration can honour) with 400 "Invalid or unacceptable Sec-WebSocket-Extensions
// header". RFC 7692 §5 says a server declines such an offer, and this module does: the handshake
// goes on with the next acceptable offer, or without the extension. And an offer of
// server_max_window_bits=N below the configured serverMaxWindowBits is accepted with N (§7.1.2.1
// lets the server compress with a smaller window), where `ws` declines it. `answers`: offer ->
// this module's answer (null: none).
function declinedNotRefused(answers) {
  return (records) =>
    canonicalExtensions(records).map((record) => {
      if (!(record[0] in answers)) return record;
      const answer = answers[record[0]];
      const out = [record[0], switching(answer)];
      if (record.length > 2) out.push(answer === null ? '' : 'permessage-deflate');
      return out;
    });
}

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
    const apart = NATIVE_HERE ? NATIVE_DIFFERENCES[name] : undefined;
    if (apart !== undefined) {
      assert.deepStrictEqual(apart(records), apart(structuredClone(expected)));
    } else {
      assert.deepStrictEqual(records, expected);
    }
  });
}
