// The Balda.js documentation's Node.js WebSocket sample, with `ws` replaced by this package's `ws`
// module and Balda's `server.getNodeServer()` by a plain `http.createServer()`.
//
//   node examples/ws-balda-node.mjs [--port 8080] [--host 0.0.0.0]
import http from 'node:http';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'daloy-ws-native/ws';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '0.0.0.0' },
  },
});

// Get the underlying Node.js server
const nodeServer = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('Hello from HTTP\n');
});

// Create WebSocket server
const wss = new WebSocketServer({
  server: nodeServer,
  path: '/ws',
});

wss.on('connection', (ws) => {
  console.log('New WebSocket connection');

  ws.send('Hello from server');

  ws.on('message', (data) => {
    console.log('Received:', data.toString());
    ws.send(`Echo: ${data}`);
  });

  ws.on('close', () => {
    console.log('Connection closed');
  });
});

nodeServer.listen(Number(values.port), values.host, () => {
  const { port } = nodeServer.address();
  console.log(`Server listening on http://${values.host}:${port}`);
});

process.once('SIGTERM', () => {
  for (const ws of wss.clients) ws.close(1001);
  wss.close();
  nodeServer.close(() => process.exit(0));
});
