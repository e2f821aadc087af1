// Chat rooms: the quick start of DaloyJS's WebSocket page, with each message broadcast to the
// connections of the same room.
//
//   node examples/chat-server.mjs [--port 3000] [--host 127.0.0.1]
//   then connect to ws://127.0.0.1:3000/chat/lobby?user=ana
import { parseArgs } from 'node:util';
import { App, defineWebSocket } from 'daloy-ws-native';
import { serve } from 'daloy-ws-native/node';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '3000' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});

/** @type {Map<string, Set<import('daloy-ws-native').WebSocketConnection<{ user: string, room: string }>>>} */
const rooms = new Map();

function broadcast(room, text) {
  for (const member of rooms.get(room) ?? []) member.send(text);
}

const chat = defineWebSocket({
  // Under NODE_ENV=production an App refuses a route that neither decides before the upgrade nor
  // says it is public, and one without an Origin policy (Cross-Site WebSocket Hijacking).
  acknowledgeUnauthenticated: true,
  allowedOrigins: 'same-origin',
  open(conn, ctx) {
    conn.data = { user: ctx.query.user ?? 'anon', room: ctx.params.room };
    let members = rooms.get(conn.data.room);
    if (members === undefined) rooms.set(conn.data.room, (members = new Set()));
    members.add(conn);
    conn.send(`welcome ${conn.data.user}`);
    broadcast(conn.data.room, `${conn.data.user} joined ${conn.data.room}`);
  },
  message(conn, data, isBinary) {
    if (isBinary) return; // a chat of text
    broadcast(conn.data.room, `${conn.data.user}: ${data}`);
  },
  close(conn) {
    const members = rooms.get(conn.data.room);
    members.delete(conn);
    if (members.size === 0) rooms.delete(conn.data.room);
    else broadcast(conn.data.room, `${conn.data.user} left`);
  },
});

const app = new App();
app.ws('/chat/:room', chat);

const server = serve(app, { port: Number(values.port), hostname: values.host });
await server.ready;
console.log(`chat on ws://${values.host}:${server.port}/chat/:room`);
