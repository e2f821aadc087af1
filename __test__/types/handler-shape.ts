// The seed page's defineWebSocket handler, registered on a route.
import { App, defineWebSocket } from 'daloy-ws-native';

const app = new App();

const chatHandler = defineWebSocket({
  open(conn, ctx) {
    // ctx.params is typed from the path pattern "/chat/:room"
    conn.data = { room: ctx.params.room, joinedAt: Date.now() };
  },
  message(conn, data) {
    conn.send(typeof data === 'string' ? data : new Uint8Array(data as ArrayBuffer));
  },
  close(conn, code, reason) {
    // cleanup
  },
  error(conn, err) {
    // user error handler — does not affect close code
  },
  drain(conn) {
    // backpressure released
  },
});

app.ws('/chat/:room', chatHandler);
