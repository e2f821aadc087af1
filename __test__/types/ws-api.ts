// The `ws`-compatible module's types: default and named exports, the server's options and events,
// the client, the EventTarget layer, createWebSocketStream.
import WebSocket, { WebSocketServer, createWebSocketStream, Sender } from 'daloy-ws-native/ws';

const wss = new WebSocket.Server({ noServer: true, maxPayload: 1024, handleProtocols: (p) => (p.has('a') ? 'a' : false) });
const same: typeof WebSocketServer = WebSocket.WebSocketServer;
const other: WebSocketServer = new WebSocketServer({ noServer: true });
other.close();
wss.on('headers', (headers, req) => headers.push(`X-Path: ${req.url}`));
wss.on('connection', (ws, req) => {
  const state: 0 | 1 | 2 | 3 = ws.readyState;
  ws.binaryType = 'arraybuffer';
  ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }, (err) => err && console.error(err)));
  ws.on('close', (code: number, reason: Buffer) => console.log(code, reason.toString(), state, req.url));
  ws.on('error', (err) => console.log(err.code));
  ws.ping();
  ws._sender?.sendFrame(Sender.frame('y', { opcode: 1, fin: true }));
  console.log(ws._socket?.remoteAddress);
  const frame: Buffer[] = Sender.frame(Buffer.from('x'), { opcode: 1, fin: true, mask: false, readOnly: false });
  console.log(frame, ws.bufferedAmount === WebSocket.OPEN);
});
console.log(same);

const client = new WebSocket('ws://127.0.0.1:1/x', ['a'], { handshakeTimeout: 1000, followRedirects: true });
client.onmessage = (event) => console.log(event.data);
client.addEventListener('close', (event) => console.log(event.code, event.reason, event.wasClean), { once: true });
client.on('unexpected-response', (req, res) => console.log(req.path, res.statusCode));
const duplex = createWebSocketStream(client, { encoding: 'utf8' });
duplex.pipe(process.stdout);

// permessage-deflate with `ws`'s option names, on both ends.
const deflateOptions: WebSocket.PerMessageDeflateOptions = {
  serverNoContextTakeover: true,
  clientNoContextTakeover: true,
  serverMaxWindowBits: 12,
  clientMaxWindowBits: false,
  zlibDeflateOptions: { level: 6, memLevel: 8 },
  zlibInflateOptions: { chunkSize: 16 * 1024 },
  threshold: 1024,
  concurrencyLimit: 10,
};
const compressing = new WebSocketServer({ noServer: true, perMessageDeflate: deflateOptions });
compressing.on('connection', (ws) => {
  const agreed: string = ws.extensions;
  ws.send('x'.repeat(2000), { compress: false, binary: false });
  console.log(agreed);
});
const offering = new WebSocket('ws://127.0.0.1:1/x', { perMessageDeflate: { clientMaxWindowBits: 10, threshold: 0 } });
offering.terminate();
