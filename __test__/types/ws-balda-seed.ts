// The Balda page's Node.js sample, `ws` replaced by this package's `ws` module and Balda's
// server.getNodeServer() by a plain http server; and the page's origin and token checks.
import http from 'node:http';
import { WebSocketServer } from 'daloy-ws-native/ws';

const nodeServer = http.createServer();

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

declare function isAllowedOrigin(origin: string | undefined): boolean;
declare function isValidToken(token: string | null): boolean;

wss.on('connection', (ws, req) => {
  const origin = req.headers.origin;
  if (!isAllowedOrigin(origin)) {
    ws.close(1008, 'Origin not allowed');
    return;
  }
  const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
  const token = url.searchParams.get('token');
  if (!isValidToken(token)) {
    ws.close(1008, 'Unauthorized');
    return;
  }
});

nodeServer.listen(8080);
