// The Autobahn|Testsuite client driver for daloy-ws-native/ws (AUTOBAHN_MODE=client scripts/conformance.sh):
// asks the fuzzing server how many cases there are, runs each one with this module's client
// (echoing every message, text as text and binary as binary), then asks for the reports.
//
//   node scripts/autobahn/ws-client.mjs ws://127.0.0.1:PORT AGENT
import WebSocket from 'daloy-ws-native/ws';

const [base, agent] = process.argv.slice(2);
if (!base || !agent) {
  console.error('usage: ws-client.mjs ws://HOST:PORT AGENT');
  process.exit(2);
}

/** Opens `path` on the fuzzing server; resolves with the messages received once it closes. */
function session(path, onMessage) {
  return new Promise((resolve) => {
    // Cases 9.x send up to 16 MiB, and 4 MiB in 64-byte fragments (ws's default allows 16,384 a message).
    const ws = new WebSocket(`${base}${path}`, { maxPayload: 64 * 1024 * 1024, maxFragments: 128 * 1024 });
    const messages = [];
    ws.on('message', (data, isBinary) => {
      messages.push(data);
      if (onMessage !== undefined) onMessage(ws, data, isBinary);
    });
    // Failing the connection is what many cases expect; the close that follows ends the case.
    ws.on('error', () => {});
    ws.on('close', () => resolve(messages));
  });
}

const [count] = await session('/getCaseCount');
const cases = Number(String(count));
if (!Number.isInteger(cases) || cases <= 0) {
  console.error(`ws-client: the fuzzing server reported ${count} cases`);
  process.exit(1);
}
for (let i = 1; i <= cases; i++) {
  await session(`/runCase?case=${i}&agent=${encodeURIComponent(agent)}`, (ws, data, isBinary) => ws.send(data, { binary: isBinary }));
}
await session(`/updateReports?agent=${encodeURIComponent(agent)}`);
console.log(`ws-client: ran ${cases} cases`);
