// The ecosystem built on `ws`, wired to daloy-ws-native/ws as a user would wire it, with the real
// packages from npm: socket.io (wsEngine) with socket.io-client over the websocket transport,
// graphql-ws's useServer with a graphql-ws client, and an Express 5 app using the client.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { Server as SocketIOServer } from 'socket.io';
import { io as ioClient } from 'socket.io-client';
import { createClient } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { GraphQLObjectType, GraphQLSchema, GraphQLString, GraphQLInt } from 'graphql';
import express from 'express';
import ReferenceWebSocket from 'ws';
import WebSocket, { WebSocketServer } from '../ws.mjs';
import { cleanup as teardown } from './fixtures/node-helpers.mjs';
import { createRequire } from 'node:module';

const { NativeSocket, TRANSPORT_MODE } = createRequire(import.meta.url)('../lib/node/native-socket.js');
const NATIVE_HERE = TRANSPORT_MODE === 'native' && (process.platform === 'linux' || process.platform === 'darwin');

const T = { timeout: 20_000 };

/**
 * An http server on 127.0.0.1, port 0, closed after the test with every socket it accepted. Teardowns
 * run in reverse order of registration: the WebSocket servers and clients of a test close before its
 * http server. They must: on the native transport an upgraded socket is let go at the takeover (it
 * emits 'close' then), so destroying the sockets collected here does not reach the WebSockets, and
 * server.close() waits for them, as Node's server does for upgraded sockets on either transport.
 */
async function httpServer(t, handler) {
  const server = http.createServer(handler);
  const sockets = new Set();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  teardown(t, 
    () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { server, port: server.address().port };
}

function within(ms, promise, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

describe('socket.io 4.8 with wsEngine: WebSocketServer from daloy-ws-native/ws', () => {
  test('connect, emit with ack, rooms (pre-encoded broadcast frames), binary attachments, disconnect', T, async (t) => {
    const { server, port } = await httpServer(t);
    const io = new SocketIOServer(server, { wsEngine: WebSocketServer, transports: ['websocket'] });
    teardown(t, () => io.close());
    // Broadcasts reach the sockets as frames pre-encoded by ws's Sender.frame (socket.io-adapter),
    // written through this module's _sender.sendFrame: count them.
    const { sendFrame } = WebSocket.Sender.prototype;
    let preEncoded = 0;
    WebSocket.Sender.prototype.sendFrame = function countedSendFrame(list, cb) {
      preEncoded++;
      return sendFrame.call(this, list, cb);
    };
    teardown(t, () => {
      WebSocket.Sender.prototype.sendFrame = sendFrame;
    });
    const disconnected = [];
    io.on('connection', (socket) => {
      socket.on('echo', (value, ack) => ack({ got: value, transport: socket.conn.transport.name }));
      socket.on('join', (room, ack) => {
        socket.join(room);
        ack(true);
      });
      socket.on('shout', (room, text) => io.to(room).emit('heard', text));
      socket.on('bytes', (payload, ack) => ack(Buffer.concat([payload.data, Buffer.from([0xff])])));
      socket.on('disconnect', (reason) => disconnected.push(reason));
    });

    const connect = async () => {
      const client = ioClient(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, forceNew: true });
      teardown(t, () => client.close());
      await within(5000, once(client, 'connect'), 'socket.io connect');
      return client;
    };
    const a = await connect();
    const b = await connect();
    const c = await connect();

    // The engine's WebSocket is this module's.
    const engineSocket = [...io.of('/').sockets.values()][0].conn.transport.socket;
    assert.ok(engineSocket instanceof WebSocket, 'the transport runs on daloy-ws-native/ws');
    // On the native transport `_socket` is the stand-in, with what engine.io and users read of it.
    const raw = engineSocket._socket;
    assert.equal(raw instanceof NativeSocket, NATIVE_HERE, 'the connection runs on the transport the environment selects');
    assert.equal(raw.remoteAddress, '127.0.0.1');
    assert.equal(typeof raw.remotePort, 'number');
    assert.equal(raw.setNoDelay(true), raw);
    assert.equal(raw.setKeepAlive(true, 1000), raw);
    assert.equal(raw.setTimeout(0), raw);

    assert.deepEqual(await within(3000, a.emitWithAck('echo', { n: 1, s: 'é' }), 'ack'), { got: { n: 1, s: 'é' }, transport: 'websocket' });

    assert.equal(await a.emitWithAck('join', 'room1'), true);
    assert.equal(await b.emitWithAck('join', 'room1'), true);
    const heardA = once(a, 'heard');
    const heardB = once(b, 'heard');
    let cHeard = false;
    c.on('heard', () => {
      cHeard = true;
    });
    c.emit('shout', 'room1', 'hello room');
    assert.deepEqual(await within(3000, heardA, 'a hears the room'), ['hello room']);
    assert.deepEqual(await within(3000, heardB, 'b hears the room'), ['hello room']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(cHeard, false, 'c is not in the room');
    assert.equal(preEncoded, 2, 'the room broadcast went out as pre-encoded frames');

    const reply = await within(3000, a.emitWithAck('bytes', { data: Buffer.from([1, 2, 3]) }), 'binary ack');
    assert.deepEqual(Buffer.from(reply), Buffer.from([1, 2, 3, 0xff]));

    a.disconnect();
    await within(3000, (async () => {
      while (disconnected.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    })(), 'disconnect on the server');
    assert.deepEqual(disconnected, ['client namespace disconnect']);
  });
});

describe("graphql-ws's useServer on daloy-ws-native/ws", () => {
  test('a subscription streams to a graphql-ws client (itself on this module\'s client)', T, async (t) => {
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({ name: 'Query', fields: { hello: { type: GraphQLString, resolve: () => 'world' } } }),
      subscription: new GraphQLObjectType({
        name: 'Subscription',
        fields: {
          count: {
            type: GraphQLInt,
            args: { to: { type: GraphQLInt } },
            subscribe: async function* (_root, { to }) {
              for (let i = 1; i <= to; i++) yield { count: i };
            },
          },
        },
      }),
    });
    const { server, port } = await httpServer(t);
    const wss = new WebSocketServer({ server, path: '/graphql' });
    const cleanup = useServer({ schema }, wss);
    teardown(t, () => cleanup.dispose());
    const client = createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
    teardown(t, () => client.dispose());

    const query = await within(5000, new Promise((resolve, reject) => {
      let result;
      client.subscribe({ query: '{ hello }' }, { next: (value) => (result = value), error: reject, complete: () => resolve(result) });
    }), 'query');
    assert.deepEqual(query, { data: { hello: 'world' } });

    const received = [];
    await within(5000, new Promise((resolve, reject) => {
      client.subscribe({ query: 'subscription { count(to: 5) }' }, { next: (value) => received.push(value.data.count), error: reject, complete: resolve });
    }), 'subscription');
    assert.deepEqual(received, [1, 2, 3, 4, 5]);
    const [ws] = wss.clients;
    assert.equal(ws.protocol, 'graphql-transport-ws');
  });
});

describe('an Express 5 app using the daloy-ws-native/ws client', () => {
  test('a route relays through a WebSocket to another server and answers with the reply', T, async (t) => {
    // The other server: the reference `ws` package, upper-casing what it gets.
    const upstream = new ReferenceWebSocket.WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(upstream, 'listening');
    teardown(t, () => {
      for (const ws of upstream.clients) ws.terminate();
      return new Promise((resolve) => upstream.close(() => resolve()));
    });
    upstream.on('connection', (ws, req) => {
      ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `${req.headers['x-app']}:${String(data).toUpperCase()}`));
    });
    const upstreamUrl = `ws://127.0.0.1:${upstream.address().port}/`;

    const app = express();
    app.get('/relay', (req, res, next) => {
      const ws = new WebSocket(upstreamUrl, { headers: { 'X-App': 'express' }, handshakeTimeout: 2000 });
      ws.on('error', next);
      ws.on('open', () => ws.send(String(req.query.msg)));
      ws.once('message', (data) => {
        res.json({ reply: data.toString() });
        ws.close(1000);
      });
    });
    const { port } = await httpServer(t, app);

    const response = await fetch(`http://127.0.0.1:${port}/relay?msg=hello`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { reply: 'express:HELLO' });
    const again = await fetch(`http://127.0.0.1:${port}/relay?msg=again`);
    assert.deepEqual(await again.json(), { reply: 'express:AGAIN' });
  });
});
