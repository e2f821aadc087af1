// ESM entry of `daloy-ws-native/ws`: the same objects as the CommonJS entry, named as `ws`'s
// wrapper.mjs names them.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const WebSocket = require('./ws.js');

export const { createWebSocketStream, Receiver, Sender, WebSocketServer } = WebSocket;
export { WebSocket };
export default WebSocket;
