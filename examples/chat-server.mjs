// Chat rooms: the quick start of DaloyJS's WebSocket page, each room a topic. Every connection
// subscribes to its room; a message is published to the room once and reaches every member (on
// Node the frame is built once for all of them).
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

const app = new App();

const chat = defineWebSocket({
  // Under NODE_ENV=production an App refuses a route that neither decides before the upgrade nor
  // says it is public, and one without an Origin policy (Cross-Site WebSocket Hijacking).
  acknowledgeUnauthenticated: true,
  allowedOrigins: 'same-origin',
  open(conn, ctx) {
    conn.data = { user: ctx.query.user ?? 'anon', room: ctx.params.room };
    conn.send(`welcome ${conn.data.user}`);
    conn.subscribe(conn.data.room);
    app.publish(conn.data.room, `${conn.data.user} joined ${conn.data.room}`);
  },
  message(conn, data, isBinary) {
    if (isBinary) return; // a chat of text
    app.publish(conn.data.room, `${conn.data.user}: ${data}`);
  },
  close(conn) {
    // The connection leaves its topics after this handler; conn.publish reaches everyone else.
    conn.publish(conn.data.room, `${conn.data.user} left`);
  },
});

app.ws('/chat/:room', chat);

const server = serve(app, { port: Number(values.port), hostname: values.host });
await server.ready;
console.log(`chat on ws://${values.host}:${server.port}/chat/:room`);
