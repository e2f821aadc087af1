// The seed page's quick start, imports pointed at this package.
import { App } from 'daloy-ws-native';
import { serve } from 'daloy-ws-native/node';

const app = new App();

app.ws('/chat/:room', {
  open(conn, ctx) {
    conn.data = { user: ctx.query.user ?? 'anon', room: ctx.params.room };
    conn.send(`welcome ${(conn.data as { user: string }).user}`);
  },
  message(conn, data, isBinary) {
    // Echo back, upper-cased for text frames
    conn.send(typeof data === 'string' ? data.toUpperCase() : data, { binary: isBinary });
  },
  close(conn, code, reason) {
    // release any per-connection resources here
  },
});

serve(app, { port: 3000 });
