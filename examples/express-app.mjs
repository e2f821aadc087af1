// An Express 5 application with HTTP routes and a WebSocket route on the same server and port.
//
//   node examples/express-app.mjs [--port 3000] [--host 127.0.0.1]
//   curl http://127.0.0.1:3000/health ; a WebSocket client on ws://127.0.0.1:3000/ws/time
import { parseArgs } from 'node:util';
import express from 'express';
import { App } from 'daloy-ws-native';
import { attach } from 'daloy-ws-native/node';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '3000' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});

const web = express();
web.get('/health', (req, res) => {
  res.json({ ok: true, connections: sockets.connections.size });
});

const app = new App();
app.ws('/ws/time', {
  // Public, for pages of this site only (the production guards ask for both to be said).
  acknowledgeUnauthenticated: true,
  allowedOrigins: 'same-origin',
  open(conn) {
    conn.send(new Date().toISOString());
    conn.data = setInterval(() => conn.send(new Date().toISOString()), 1000);
  },
  message(conn, data) {
    if (data === 'now') conn.send(new Date().toISOString());
  },
  close(conn) {
    clearInterval(conn.data);
  },
});

const server = web.listen(Number(values.port), values.host, () => {
  console.log(`http://${values.host}:${server.address().port}/health and ws://${values.host}:${server.address().port}/ws/time`);
});
// Upgrades for paths the app does not own stay with the server's other `upgrade` listeners.
const sockets = attach(app, server, { handleSignals: true });
