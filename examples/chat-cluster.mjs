// Chat rooms across processes and machines: every process runs this file against the same Redis,
// and a message sent to /chat/:room reaches every client of that room on every process, the sender
// included. Rooms are topics; the Redis broker carries each publish to the processes that have
// members in the room.
//
//   node examples/chat-cluster.mjs --port 3001 --host 127.0.0.1 --redis redis://127.0.0.1:6379
//   node examples/chat-cluster.mjs --port 3002 --host 127.0.0.1 --redis redis://127.0.0.1:6379
//   node examples/chat-cluster.mjs --port 3003 --redis-cluster redis://10.0.0.1:7000,redis://10.0.0.2:7000
//   node examples/chat-cluster.mjs --port 3000 --workers 4 --redis redis://127.0.0.1:6379   (4 processes, one port)
//
// Prints `listening on ws://HOST:PORT` once it serves and Redis is connected; SIGTERM closes the
// connections with 1001 and exits 0.
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { App } from 'daloy-ws-native';
import { serve } from 'daloy-ws-native/node';
import { createRedisBroker } from 'daloy-ws-native/redis';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '3000' },
    host: { type: 'string', default: '127.0.0.1' },
    redis: { type: 'string' },
    'redis-cluster': { type: 'string' },
    workers: { type: 'string', default: '1' },
  },
});
const workers = Number(values.workers);
if ((values.redis === undefined) === (values['redis-cluster'] === undefined) || !Number.isInteger(workers) || workers < 1) {
  console.error('usage: chat-cluster.mjs --port N --host H (--redis redis://HOST:PORT | --redis-cluster URL,URL...) [--workers N]');
  process.exit(2);
}

if (workers > 1 && cluster.isPrimary) {
  // Many cores, one port: node:cluster's primary accepts and hands connections to the workers;
  // topics cross between them through Redis like between machines.
  let listening = 0;
  let stopping = false;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('message', (worker, message) => {
    if (message && message.listening !== undefined && ++listening === workers) {
      console.log(`listening on ws://${values.host}:${message.listening}`);
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) {
      console.error(`worker ${worker.process.pid} exited (${code ?? signal}); stopping`);
      process.exitCode = 1;
      stop();
    }
  });
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const broker =
    values.redis !== undefined
      ? createRedisBroker({ url: values.redis })
      : createRedisBroker({ cluster: { rootNodes: values['redis-cluster'].split(',').map((url) => ({ url })) } });

  const app = new App();
  app.ws('/chat/:room', {
    open(conn, ctx) {
      conn.data = { room: ctx.params.room };
      conn.subscribe(ctx.params.room);
    },
    message(conn, data, isBinary) {
      // Text only; app.publish reaches the sender too, on this process and every other.
      if (!isBinary) app.publish(conn.data.room, data);
    },
  });

  // In a node:cluster worker, port 0 means the one port the primary chose for every worker.
  const server = serve(app, { port: Number(values.port), hostname: values.host, pubsub: broker });
  await server.ready;
  await broker.ready;
  if (cluster.isWorker) process.send({ listening: server.port });
  else console.log(`listening on ws://${values.host}:${server.port}`);
}
