// Without @types/node and without the DOM lib (a Bun or Deno project, or a browser-free build),
// the primitives' types and the Bun/Deno entries still compile.
import { App, FrameSink, encodeFrame, WS_OPCODE, type WebSocketRegistry } from 'daloy-ws-native';
import { serve as serveBun } from 'daloy-ws-native/bun';
import { serve as serveDeno } from 'daloy-ws-native/deno';

const app = new App({ env: 'development' });
app.ws('/chat/:room', {
  open(conn, ctx) {
    conn.send(ctx.params.room);
  },
});
const registry: WebSocketRegistry = app.webSocketRoutes;
void registry;
const frame: Uint8Array = encodeFrame({ opcode: WS_OPCODE.TEXT, payload: new Uint8Array(1) });
void frame;
void new FrameSink({ onMessage() {}, onPing() {}, onPong() {}, onClose() {}, onProtocolError() {} });
void serveBun;
void serveDeno;
