// The seed page's beforeUpgrade example.
import { App } from 'daloy-ws-native';

declare function isValid(token: string): boolean;

const app = new App();

app.ws('/api', {
  beforeUpgrade(req, ctx) {
    const token = ctx.headers['authorization']?.replace(/^Bearer /, '');
    if (!token || !isValid(token)) {
      return new Response('unauthorized', { status: 401 });
    }
    // Pick a subprotocol the client offered
    const offered = (ctx.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
    return offered.includes('daloy.v1') ? 'daloy.v1' : undefined;
  },
  open(conn) {
    conn.send('ready');
  },
  message(conn, data) {
    conn.send(data);
  },
});
