// The scenarios of the `ws` differential suite. Each one drives an implementation (`impl`, shaped
// as `ws`'s exports) against a fixed peer (the reference `ws` client or server, or raw bytes) and
// records what a user of the implementation observes with `rec(...)`: events and their arguments
// in order, callbacks, return values, thrown errors, status codes and bytes on the wire.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import {
  clientFrame,
  delay,
  httpServer,
  listen,
  next,
  peer,
  rawExchange,
  rawSocket,
  show,
  until,
  upgradeRequest,
  within,
  Peer,
} from './harness.mjs';

// The accept key of a request (RFC 6455 §4.2.2), computed here for the hand-written servers below.
function acceptKeyOf(req) {
  return createHash('sha1')
    .update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
    .digest('base64');
}

/** Records every event of a server-side WebSocket (with `show`n arguments) into `rec`. */
function recordSocket(ws, rec, label = 'ws') {
  for (const event of ['message', 'ping', 'pong', 'close', 'error', 'open']) {
    ws.on(event, (...args) => rec(`${label}.${event}`, ...args.map(show), ws.readyState));
  }
}

/** The reference client's view, recorded the same way. */
function recordPeer(client, rec) {
  for (const event of ['message', 'ping', 'pong', 'close', 'open']) {
    client.on(event, (...args) => rec(`peer.${event}`, ...args.map(show)));
  }
}

/** A server of `impl` and one reference client, both sides open: `{ wss, port, ws, req, client }`. */
async function pair(impl, track, options = {}) {
  const { wss, port } = await listen(impl, options, track);
  const client = peer(port, '/', undefined, undefined, track);
  const [ws, req] = await next(wss, 'connection');
  await next(client, 'open');
  return { wss, port, ws, req, client };
}

const handshakeRejections = {
  'POST is refused with 405': upgradeRequest('/', { method: 'POST' }),
  'a missing Upgrade header is refused with 400': upgradeRequest('/', { omit: ['Upgrade'] }),
  'an Upgrade other than websocket is refused with 400': upgradeRequest('/', { headers: { Upgrade: 'h2c' } }),
  'a missing key is refused with 400': upgradeRequest('/', { omit: ['Sec-WebSocket-Key'] }),
  'a key of 15 bytes is refused with 400': upgradeRequest('/', { headers: { 'Sec-WebSocket-Key': 'AAAAAAAAAAAAAAAAAAAA' } }),
  'version 12 is refused with 400 and the versions offered': upgradeRequest('/', { headers: { 'Sec-WebSocket-Version': '12' } }),
  'a missing version is refused with 400': upgradeRequest('/', { omit: ['Sec-WebSocket-Version'] }),
  'another path is refused with 400': upgradeRequest('/other'),
  'an empty subprotocol is refused with 400': upgradeRequest('/echo', { headers: { 'Sec-WebSocket-Protocol': 'a,,b' } }),
  'a duplicated subprotocol is refused with 400': upgradeRequest('/echo', { headers: { 'Sec-WebSocket-Protocol': 'a, a' } }),
  'a subprotocol that is no token is refused with 400': upgradeRequest('/echo', { headers: { 'Sec-WebSocket-Protocol': 'a b' } }),
};

export const scenarios = {};

for (const [name, request] of Object.entries(handshakeRejections)) {
  scenarios[`handshake: ${name}`] = async ({ impl, rec, track }) => {
    const { wss, port } = await listen(impl, { path: '/echo' }, track);
    wss.on('connection', () => rec('connection'));
    const path = request.startsWith('GET /other') || request.startsWith('POST') ? request : request.replace('GET / ', 'GET /echo ');
    rec('response', await rawExchange(port, path));
  };
}

Object.assign(scenarios, {
  'handshake: wsClientError listeners get malformed requests instead of a response': async ({ impl, rec, track }) => {
    const { wss, port } = await listen(impl, {}, track);
    wss.on('wsClientError', (err, socket, req) => {
      rec('wsClientError', show(err), req.method, typeof socket.write);
      socket.end('HTTP/1.1 418 Teapot\r\nConnection: close\r\n\r\n');
    });
    rec('response', await rawExchange(port, upgradeRequest('/', { headers: { 'Sec-WebSocket-Version': '7' } })));
  },

  'handshake: the 101, with a header added by a headers listener and handleProtocols choosing': async ({ impl, rec, track }) => {
    const { wss, port } = await listen(
      impl,
      {
        handleProtocols: (protocols, req) => {
          rec('handleProtocols', [...protocols], req.url);
          return protocols.has('echo.v1') ? 'echo.v1' : false;
        },
      },
      track,
    );
    wss.on('headers', (headers, req) => {
      rec('headers', [...headers], req.url);
      headers.push('X-Extra: 1');
    });
    wss.on('connection', (ws, req) => {
      rec('connection', ws.protocol, ws.readyState, ws.extensions, ws.url, req.url);
      ws.close();
    });
    const raw = await rawExchange(port, upgradeRequest('/q?x=1', { headers: { 'Sec-WebSocket-Protocol': 'chat, echo.v1' } }));
    rec('response', raw);
  },

  'handshake: without handleProtocols the first offered subprotocol is selected; false selects none': async ({ impl, rec, track }) => {
    const first = await listen(impl, {}, track);
    first.wss.on('connection', (ws) => {
      rec('first', ws.protocol);
      ws.terminate();
    });
    rec('response', (await rawExchange(first.port, upgradeRequest('/', { headers: { 'Sec-WebSocket-Protocol': 'b, a' } }))).split('\r\n\r\n')[0]);
    const none = await listen(impl, { handleProtocols: () => false }, track);
    none.wss.on('connection', (ws) => {
      rec('none', ws.protocol);
      ws.terminate();
    });
    rec('response', (await rawExchange(none.port, upgradeRequest('/', { headers: { 'Sec-WebSocket-Protocol': 'b, a' } }))).split('\r\n\r\n')[0]);
  },

  'handshake: verifyClient, one argument': async ({ impl, rec, track }) => {
    let allow = false;
    const { wss, port } = await listen(
      impl,
      {
        verifyClient: (info) => {
          rec('verifyClient', info.origin, info.secure, info.req.url);
          return allow;
        },
      },
      track,
    );
    wss.on('connection', (ws) => {
      rec('connection');
      ws.terminate();
    });
    rec('refused', await rawExchange(port, upgradeRequest('/a', { headers: { Origin: 'http://example.com' } })));
    allow = true;
    rec('accepted', (await rawExchange(port, upgradeRequest('/b'))).split('\r\n')[0]);
  },

  'handshake: verifyClient, two arguments, refusing with a code, a message and headers': async ({ impl, rec, track }) => {
    const { wss, port } = await listen(
      impl,
      {
        verifyClient: (info, cb) => {
          rec('verifyClient', info.req.headers['sec-websocket-origin'], info.origin);
          setTimeout(() => {
            if (info.req.url === '/deny') cb(false, 403, 'Go away', { 'X-Why': 'test' });
            else if (info.req.url === '/default') cb(false);
            else cb(true);
          }, 10);
        },
      },
      track,
    );
    wss.on('connection', (ws) => {
      rec('connection');
      ws.terminate();
    });
    rec('deny', await rawExchange(port, upgradeRequest('/deny')));
    rec('default', await rawExchange(port, upgradeRequest('/default', { headers: { 'Sec-WebSocket-Version': '8', 'Sec-WebSocket-Origin': 'http://o' } })));
    rec('allow', (await rawExchange(port, upgradeRequest('/allow'))).split('\r\n')[0]);
  },

  'server: options are checked; address(); noServer refuses address()': async ({ impl, rec }) => {
    for (const options of [{}, { port: 0, noServer: true }, { server: {}, noServer: true }, { port: 0, server: {} }]) {
      try {
        new impl.WebSocketServer(options);
        rec('constructed');
      } catch (err) {
        rec('threw', show(err));
      }
    }
    const wss = new impl.WebSocketServer({ noServer: true });
    try {
      wss.address();
    } catch (err) {
      rec('address', show(err));
    }
    rec('clients', wss.clients instanceof Set, new impl.WebSocketServer({ noServer: true, clientTracking: false }).clients);
    const { maxPayload, autoPong, allowSynchronousEvents, clientTracking, maxFragments, maxPendingAutoPongs, closeTimeout, perMessageDeflate } = wss.options;
    rec('options', maxPayload, autoPong, allowSynchronousEvents, clientTracking, maxFragments, maxPendingAutoPongs, closeTimeout, perMessageDeflate);
    await new Promise((resolve) => wss.close(resolve));
    await new Promise((resolve) => wss.close((err) => resolve(rec('second close', show(err)))));
  },

  'server: port mode answers plain HTTP with 426, closes with the server': async ({ impl, rec, track }) => {
    const { wss, port } = await listen(impl, {}, track);
    const text = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    rec('plain', text);
    rec('address', typeof wss.address().port, wss.address().address);
    const events = [];
    wss.on('close', () => events.push('close'));
    await new Promise((resolve) => wss.close(resolve));
    rec('closed', events, wss.address());
  },

  'server: with server and path, other paths are left to other upgrade listeners': async ({ impl, rec, track }) => {
    const { server, port } = await httpServer((req, res) => res.end(), track);
    const wss = new impl.WebSocketServer({ server, path: '/ws' });
    track.push(() => new Promise((r) => wss.close(r)));
    const listening = [];
    wss.on('connection', (ws, req) => {
      rec('connection', req.url);
      ws.close(1000, 'bye');
    });
    server.on('upgrade', (req, socket) => {
      if (req.url.startsWith('/ws')) return;
      listening.push(req.url);
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    rec('other', await rawExchange(port, upgradeRequest('/other')));
    rec('ours', (await rawExchange(port, upgradeRequest('/ws?x=1'))).split('\r\n')[0]);
    rec('listener saw', listening);
  },

  'server: noServer with handleUpgrade and shouldHandle; 503 once closing': async ({ impl, rec, track }) => {
    const wss = new impl.WebSocketServer({ noServer: true, path: '/p' });
    const { server, port } = await httpServer((req, res) => res.end(), track);
    server.on('upgrade', (req, socket, head) => {
      rec('shouldHandle', req.url, wss.shouldHandle(req));
      wss.handleUpgrade(req, socket, head, (ws, request) => {
        rec('upgraded', request.url, wss.clients.size);
        wss.emit('connection', ws, request);
      });
    });
    wss.on('connection', (ws) => ws.close(4000));
    rec('accepted', (await rawExchange(port, upgradeRequest('/p'))).split('\r\n')[0]);
    await new Promise((resolve) => wss.close(resolve));
    rec('after close', await rawExchange(port, upgradeRequest('/p')));
  },

  'server: clientTracking, and close() waiting for the clients': async ({ impl, rec, track }) => {
    const { wss, port } = await listen(impl, {}, track);
    const a = peer(port, '/', undefined, undefined, track);
    const b = peer(port, '/', undefined, undefined, track);
    await Promise.all([next(a, 'open'), next(b, 'open')]);
    await delay(20);
    rec('clients', wss.clients.size);
    let closed = false;
    wss.close(() => {
      closed = true;
    });
    await delay(20);
    rec('closed before clients left', closed);
    for (const ws of wss.clients) ws.close(1001);
    await Promise.all([next(a, 'close'), next(b, 'close')]);
    await delay(50);
    rec('closed after', closed, wss.clients.size);
  },

  'connection: messages, text and binary, and send callbacks in order': async ({ impl, rec, track }) => {
    const { ws, req, client } = await pair(impl, track);
    rec('req', req.url, req.headers.upgrade);
    recordSocket(ws, rec);
    recordPeer(client, rec);
    ws.send('héllo', (err) => rec('cb1', show(err)));
    ws.send(Buffer.from([1, 2, 3]), (err) => rec('cb2', show(err)));
    ws.send(new Uint8Array([4, 5]).buffer, { binary: false }, (err) => rec('cb3', show(err)));
    ws.send('as binary', { binary: true });
    ws.send(42);
    ws.send(new Float32Array([1.5]));
    ws.send(Buffer.alloc(70000, 0x61), (err) => rec('cb big', show(err)));
    rec('bufferedAmount > 0', ws.bufferedAmount > 0);
    client.send('from peer');
    client.send(Buffer.from('ff00', 'hex'));
    client.send(Buffer.alloc(0));
    client.send('');
    await delay(100);
    ws.close(1000, 'done');
    rec('readyState after close()', ws.readyState);
    await Promise.all([next(ws, 'close'), next(client, 'close')]);
    rec('bufferedAmount', ws.bufferedAmount);
  },

  'connection: binaryType arraybuffer and fragments; invalid types are ignored': async ({ impl, rec, track }) => {
    const { ws, client } = await pair(impl, track);
    rec('default', ws.binaryType);
    ws.binaryType = 'blobby';
    rec('after invalid', ws.binaryType);
    ws.binaryType = 'arraybuffer';
    let count = 0;
    ws.on('message', (data, isBinary) => {
      count++;
      rec('message', ws.binaryType, show(data), isBinary);
    });
    client.send(Buffer.from([9, 8, 7]));
    client.send('text');
    await until(() => count === 2, 'two messages');
    ws.binaryType = 'fragments';
    client.send(Buffer.from([1]));
    client.send('t');
    await until(() => count === 4, 'four messages');
  },

  'connection: Blobs: sent in order with what follows; binaryType blob': async ({ impl, rec, track }) => {
    const { ws, client } = await pair(impl, track);
    recordPeer(client, rec);
    ws.send(new Blob(['blob one']), (err) => rec('cb blob', show(err)));
    ws.send('after the blob', (err) => rec('cb text', show(err)));
    rec('bufferedAmount while reading the blob', ws.bufferedAmount >= 8);
    ws.ping(new Blob(['p']));
    ws.send(new Blob([new Uint8Array([1, 2])]));
    await delay(100);
    ws.binaryType = 'blob';
    rec('binaryType', ws.binaryType);
    const got = new Promise((resolve) => {
      ws.on('message', async (data, isBinary) => {
        rec('message', data instanceof Blob, isBinary, data instanceof Blob ? Buffer.from(await data.arrayBuffer()).toString('hex') : show(data));
        resolve();
      });
    });
    client.send(Buffer.from([7, 8, 9]));
    await within(3000, got, 'the message');
  },

  'connection: a fragmented send (fin: false) arrives as one message': async ({ impl, rec, track }) => {
    const { ws, client } = await pair(impl, track);
    recordPeer(client, rec);
    ws.send('ab', { fin: false });
    ws.send('cd', { fin: false });
    ws.send('ef', { fin: true });
    ws.send(Buffer.from([1]), { fin: false });
    ws.send(Buffer.from([2]));
    await delay(100);
  },

  'connection: the peer closes with a code and reason; the server echoes it': async ({ impl, rec, track }) => {
    const { ws, client } = await pair(impl, track);
    recordSocket(ws, rec);
    recordPeer(client, rec);
    client.close(4321, 'see you');
    await next(ws, 'close');
    await next(client, 'close');
  },

  'connection: a CLOSE without a status is 1005; close() without a code sends an empty CLOSE': async ({ impl, rec, track }) => {
    const { wss, port, ws, client } = await pair(impl, track);
    recordSocket(ws, rec);
    recordPeer(client, rec);
    client.close();
    await next(ws, 'close');
    await next(client, 'close');
    const { socket, done, ws: raw } = await rawSocket(port, '/', track, wss);
    raw.on('close', (...args) => rec('raw close', ...args.map(show)));
    raw.close();
    await delay(50);
    socket.write(clientFrame(0x8, Buffer.alloc(0)));
    rec('wire', show(await within(3000, done, 'the server to close')));
  },

  'connection: close() checks its arguments': async ({ impl, rec, track }) => {
    const { ws } = await pair(impl, track);
    for (const args of [[999], [1005], ['1000'], [1000, 'x'.repeat(124)], [4999, Buffer.alloc(123, 0x62)]]) {
      try {
        ws.close(...args);
        rec('closed', args[0], ws.readyState);
      } catch (err) {
        rec('threw', args[0], show(err), ws.readyState);
      }
    }
    await next(ws, 'close');
  },

  'connection: the server closes; the wire carries its CLOSE; the socket ends': async ({ impl, rec, track }) => {
    const { wss, port } = await listen(impl, {}, track);
    const { socket, done, ws } = await rawSocket(port, '/', track, wss);
    recordSocket(ws, rec);
    ws.send('one');
    ws.close(4000, 'server bye');
    ws.send('after', (err) => rec('send after close', show(err)));
    rec('bufferedAmount after send after close', ws.bufferedAmount >= 5);
    await delay(30);
    socket.write(clientFrame(0x8, Buffer.from([0x0f, 0xa0])));
    rec('wire', show(await within(3000, done, 'the server to close')));
  },

  'connection: terminate() gives 1006': async ({ impl, rec, track }) => {
    const { ws, client } = await pair(impl, track);
    recordSocket(ws, rec);
    recordPeer(client, rec);
    ws.terminate();
    rec('readyState', ws.readyState);
    await next(ws, 'close');
    await next(client, 'close');
    ws.terminate();
    ws.close();
  },

  'connection: the peer drops TCP: close 1006 with an empty reason': async ({ impl, rec, track }) => {
    const { ws, client } = await pair(impl, track);
    recordSocket(ws, rec);
    client.terminate();
    await next(ws, 'close');
  },

  'connection: ping and pong, with callbacks; autoPong answers': async ({ impl, rec, track }) => {
    const { ws, client } = await pair(impl, track);
    recordSocket(ws, rec);
    recordPeer(client, rec);
    ws.ping('hi', (err) => rec('ping cb', show(err)));
    ws.ping((err) => rec('ping cb, no data', show(err)));
    ws.ping(7);
    ws.pong(Buffer.from([1, 2]), true);
    try {
      ws.ping(Buffer.alloc(126));
    } catch (err) {
      rec('ping 126', show(err));
    }
    client.ping('from peer');
    client.pong('unsolicited');
    await delay(100);
  },

  'connection: autoPong false leaves pings unanswered': async ({ impl, rec, track }) => {
    const { ws, client } = await pair(impl, track, { autoPong: false });
    recordSocket(ws, rec);
    recordPeer(client, rec);
    client.ping('x');
    await delay(100);
  },

  'connection: pause() holds messages until resume()': async ({ impl, rec, track }) => {
    const { ws, client } = await pair(impl, track);
    recordSocket(ws, rec);
    ws.pause();
    rec('isPaused', ws.isPaused);
    client.send('1');
    client.send('2');
    await delay(100);
    rec('resuming');
    ws.resume();
    rec('isPaused', ws.isPaused);
    await delay(100);
  },

  'connection: maxPayload refuses a larger message with 1009': async ({ impl, rec, track }) => {
    const { ws, client } = await pair(impl, track, { maxPayload: 10 });
    ws.on('error', (err) => rec('error', err.code, err instanceof RangeError));
    ws.on('close', (code, reason) => rec('close', code, show(reason)));
    recordPeer(client, rec);
    const serverClosed = next(ws, 'close');
    client.send('0123456789');
    client.send('0123456789a');
    await next(client, 'close');
    await serverClosed;
  },

  'connection: maxFragments refuses a message of more frames with 1008': async ({ impl, rec, track }) => {
    const { wss, port } = await listen(impl, { maxFragments: 3 }, track);
    const { socket, done, ws } = await rawSocket(port, '/', track, wss);
    ws.on('message', (data) => rec('message', show(data)));
    ws.on('error', (err) => rec('error', err.code, err.constructor.name));
    ws.on('close', (code) => rec('close', code));
    const fragments = (n) => Array.from({ length: n }, (_, i) => clientFrame(i === 0 ? 0x2 : 0x0, [i + 1], { fin: i === n - 1 }));
    socket.write(Buffer.concat(fragments(3)));
    await delay(30);
    socket.write(Buffer.concat(fragments(4)));
    await delay(30);
    socket.end();
    rec('wire', show(await within(3000, done, 'the server to close')));
  },

  'connection: an unmasked frame is a protocol error; the wire carries 1002': async ({ impl, rec, track }) => {
    const { wss, port } = await listen(impl, {}, track);
    const { socket, done, ws } = await rawSocket(port, '/', track, wss);
    ws.on('error', (err) => rec('error', err.code));
    ws.on('close', (code, reason) => rec('close', code, show(reason)));
    socket.write(clientFrame(0x1, 'x', { mask: false }));
    await delay(50);
    socket.end();
    rec('wire', show(await within(3000, done, 'the server to close')));
  },

  'connection: protocol errors carry ws codes and close codes': async ({ impl, rec, track }) => {
    const cases = {
      rsv1: clientFrame(0x1, 'x', { rsv: 4 }),
      opcode: clientFrame(0x3, 'x'),
      'continuation first': clientFrame(0x0, 'x'),
      'fragmented ping': clientFrame(0x9, 'x', { fin: false }),
      'invalid utf8': clientFrame(0x1, Buffer.from([0xc3, 0x28])),
      'close code 1005': clientFrame(0x8, Buffer.from([0x03, 0xed])),
      'close 1 byte': clientFrame(0x8, Buffer.from([0x03])),
      'text in a fragmented message': Buffer.concat([clientFrame(0x1, 'a', { fin: false }), clientFrame(0x1, 'b')]),
    };
    const { wss, port } = await listen(impl, {}, track);
    for (const [name, bytes] of Object.entries(cases)) {
      const { socket, done, ws } = await rawSocket(port, '/', track, wss);
      ws.on('error', (err) => rec(name, 'error', err.code));
      ws.on('close', (code) => rec(name, 'close', code));
      socket.write(bytes);
      await delay(30);
      socket.end();
      const wire = await within(3000, done, 'the server to close');
      rec(name, 'wire', show(wire.subarray(0, 4)));
    }
  },

  'connection: invalid UTF-8 in the first fragment of a text message': async ({ impl, rec, track }) => {
    const { wss, port } = await listen(impl, {}, track);
    const { socket, done, ws } = await rawSocket(port, '/', track, wss);
    ws.on('error', (err) => rec('error', err.code, err.constructor.name));
    ws.on('close', (code) => rec('close', code));
    ws.on('message', (data) => rec('message', show(data)));
    socket.write(clientFrame(0x1, Buffer.from([0x61, 0xff]), { fin: false }));
    await delay(100);
    rec('the message is not finished yet');
    socket.write(clientFrame(0x0, 'b'));
    await delay(50);
    socket.end();
    rec('wire', show(await within(3000, done, 'the server to close')));
  },

  'connection: an error event without a listener does not take the process down': async ({ impl, rec, track }) => {
    const { wss, port } = await listen(impl, {}, track);
    const { socket, done, ws } = await rawSocket(port, '/', track, wss);
    ws.on('close', (code) => rec('close', code));
    ws.on('error', (err) => rec('error', err.code));
    socket.write(clientFrame(0x1, Buffer.from([0xff])));
    socket.end();
    rec('wire', show(await within(3000, done, 'the server to close')));
  },

  'EventTarget: on-attributes, addEventListener with once and handleEvent, event fields': async ({ impl, rec, track }) => {
    const { ws, client } = await pair(impl, track);
    const onmessage = (e) => rec('onmessage', e.type, show(e.data), e.target === ws, e.target === null);
    ws.onmessage = onmessage;
    rec('getter', ws.onmessage === onmessage, ws.onopen, ws.onclose, ws.onerror);
    ws.onmessage = onmessage;
    const listener = (e) => rec('listener', e.type, show(e.data));
    ws.addEventListener('message', listener);
    ws.addEventListener('message', listener);
    ws.addEventListener('message', { handleEvent: (e) => rec('handleEvent', show(e.data)) }, { once: true });
    ws.addEventListener('unknown', listener);
    ws.onclose = (e) => rec('onclose', e.type, e.code, e.reason, e.wasClean);
    ws.addEventListener('close', (e) => rec('close listener', e.code));
    ws.onerror = (e) => rec('onerror', e.type, e.message);
    rec('listeners', ws.listenerCount('message'), ws.listenerCount('close'));
    client.send('one');
    client.send(Buffer.from([1]));
    await delay(50);
    ws.removeEventListener('message', listener);
    ws.onmessage = null;
    rec('listeners after removal', ws.listenerCount('message'), ws.onmessage);
    client.send('ignored');
    await delay(50);
    client.close(1000, 'bye');
    await next(ws, 'close');
  },

  'server: the WebSocket option constructs a subclass for each connection': async ({ impl, rec, track }) => {
    class Tagged extends impl.WebSocket {
      tag() {
        return `tagged:${this.readyState}`;
      }
    }
    const { wss, port } = await listen(impl, { WebSocket: Tagged }, track);
    peer(port, '/', undefined, undefined, track);
    const [ws] = await next(wss, 'connection');
    rec('instance', ws instanceof Tagged, ws instanceof impl.WebSocket, ws.tag(), [...wss.clients][0] === ws);
  },

  'exports: the shape of the module and its constants': async ({ impl, rec }) => {
    const W = impl;
    rec('default is WebSocket', typeof W, W.WebSocket === W, W.Server === W.WebSocketServer);
    rec('functions', typeof W.createWebSocketStream, typeof W.Sender, typeof W.Receiver, typeof W.Sender.frame);
    rec('statics', W.CONNECTING, W.OPEN, W.CLOSING, W.CLOSED);
    rec('prototype', W.prototype.CONNECTING, W.prototype.OPEN, W.prototype.CLOSING, W.prototype.CLOSED);
    rec('enumerable', Object.keys(W).filter((k) => /^[A-Z]+$/.test(k)).sort());
    const ws = new W(null, undefined, {});
    rec('new (null)', ws.readyState, ws.binaryType, ws.protocol, ws.extensions, ws.url, ws.isPaused, ws.bufferedAmount);
    for (const call of [() => ws.send('x'), () => ws.ping(), () => ws.pong()]) {
      try {
        call();
      } catch (err) {
        rec('connecting', show(err));
      }
    }
  },

  'Sender.frame and _sender.sendFrame (socket.io pre-encoded broadcasts); _socket.remoteAddress': async ({ impl, rec, track }) => {
    const { ws, client } = await pair(impl, track);
    recordPeer(client, rec);
    rec('remoteAddress', ws._socket.remoteAddress);
    const frame = impl.Sender.frame(Buffer.from('4hello'), { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true });
    rec('frame', frame.map(show));
    const ref = Peer.Sender.frame(Buffer.from('4ref'), { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true });
    ws._sender.sendFrame(frame, (err) => rec('sendFrame cb', show(err)));
    ws._sender.sendFrame(ref, (err) => rec('sendFrame ref cb', show(err)));
    const big = impl.Sender.frame(Buffer.alloc(300, 0x62), { readOnly: false, mask: false, rsv1: false, opcode: 2, fin: true });
    ws._sender.sendFrame(big);
    await delay(100);
  },

  'createWebSocketStream: messages read as chunks, writes sent, the end closes the WebSocket': async ({ impl, rec, track }) => {
    const { ws, client } = await pair(impl, track);
    recordPeer(client, rec);
    const duplex = impl.createWebSocketStream(ws, { encoding: 'utf8' });
    ws.on('close', (code) => rec('ws close', code));
    duplex.on('close', () => rec('duplex close'));
    let chunks = 0;
    duplex.on('data', (chunk) => {
      chunks++;
      rec('chunk', typeof chunk, chunk);
    });
    client.send('abc');
    client.send(Buffer.from('def'));
    await until(() => chunks === 2, 'two chunks');
    duplex.end('bye');
    await Promise.all([next(client, 'close'), next(duplex, 'close')]);
  },

  'allowSynchronousEvents false spreads messages over ticks': async ({ impl, rec, track }) => {
    const { ws, client } = await pair(impl, track, { allowSynchronousEvents: false });
    let tick = 0;
    ws.on('message', (data) => {
      rec('message', data.toString(), tick);
      queueMicrotask(() => rec('microtask after', data.toString()));
    });
    client.send('a');
    client.send('b');
    await delay(100);
    tick++;
  },

  // ------------------------------------------------------------- the client

  'client: connects with protocols, headers and origin; upgrade and open events; the server sees them': async ({ impl, rec, track }) => {
    const { wss, port } = await listen(Peer, { handleProtocols: (p) => (p.has('b') ? 'b' : false) }, track);
    wss.on('connection', (ws, req) => {
      rec('server saw', req.url, req.headers['x-token'], req.headers.origin, req.headers['sec-websocket-protocol'], req.headers['sec-websocket-version']);
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
    const client = new impl.WebSocket(`ws://127.0.0.1:${port}/path?q=1`, ['a', 'b'], { headers: { 'X-Token': 't' }, origin: 'http://app' });
    track.push(() => client.terminate());
    rec('initial', client.readyState, client.url.replace(String(port), 'PORT'), client.protocol, client.bufferedAmount);
    client.on('upgrade', (res) => rec('upgrade', res.statusCode, res.headers.upgrade));
    recordSocket(client, rec, 'client');
    await next(client, 'open');
    rec('open', client.protocol, client.extensions, client.readyState);
    client.send('text', (err) => rec('cb', show(err)));
    client.send(Buffer.from([1, 2]));
    client.send(Buffer.alloc(70000, 3));
    await delay(150);
    client.close(1000, 'ok');
    await next(client, 'close');
  },

  'client: wss with TLS options, a custom agent and createConnection; protocolVersion 8': async ({ impl, rec, track }) => {
    const key = fs.readFileSync(new URL('../fixtures/node-tls-key.pem', import.meta.url));
    const cert = fs.readFileSync(new URL('../fixtures/node-tls-cert.pem', import.meta.url));
    const { server, port } = await httpServer(undefined, track, https.createServer({ key, cert }));
    const wss = new Peer.WebSocketServer({ server });
    track.push(() => wss.close());
    wss.on('connection', (ws, req) => {
      rec('server saw', req.headers['sec-websocket-version'], req.headers['sec-websocket-origin'], req.headers.origin, req.socket.encrypted);
      ws.send('secret');
    });
    const tls = new impl.WebSocket(`wss://127.0.0.1:${port}/`, { ca: cert, servername: 'localhost', checkServerIdentity: () => undefined });
    track.push(() => tls.terminate());
    const [message] = await next(tls, 'message');
    rec('over tls', show(message), tls.url.replace(String(port), 'PORT'));
    tls.close();
    await next(tls, 'close');

    const plain = await listen(Peer, {}, track);
    plain.wss.on('connection', (ws, req) => {
      rec('plain server saw', req.headers['sec-websocket-version'], req.headers['sec-websocket-origin'], req.headers.origin);
      ws.close(1000);
    });
    const agent = new http.Agent();
    const createdBy = [];
    const viaAgent = new impl.WebSocket(`ws://127.0.0.1:${plain.port}/`, { agent, protocolVersion: 8, origin: 'http://old' });
    rec('agent', viaAgent._req.agent === agent);
    await next(viaAgent, 'close');
    const viaConnection = new impl.WebSocket(`ws://127.0.0.1:${plain.port}/`, {
      createConnection: (options) => {
        createdBy.push(options.host, Number(options.port));
        return net.connect(options.port, options.host);
      },
    });
    await next(viaConnection, 'close');
    rec('createConnection', createdBy[0], createdBy[1] === plain.port);
  },

  'client: protocols given in options, as a string': async ({ impl, rec, track }) => {
    const { wss, port } = await listen(Peer, {}, track);
    wss.on('connection', (ws, req) => {
      rec('offered', req.headers['sec-websocket-protocol']);
      ws.close();
    });
    const a = new impl.WebSocket(`ws://127.0.0.1:${port}`, { protocols: 'solo' });
    track.push(() => a.terminate());
    await next(a, 'close');
    const b = new impl.WebSocket(`ws://127.0.0.1:${port}`, 'one');
    track.push(() => b.terminate());
    await next(b, 'close');
    rec('protocols', a.protocol, b.protocol);
  },

  'client: invalid arguments throw': async ({ impl, rec }) => {
    for (const args of [['nope'], ['ftp://x'], ['ws://x/#frag'], ['ws://x', ['a', 'a']], ['ws://x', ['a b']], ['ws://x', [], { protocolVersion: 9 }]]) {
      try {
        const ws = new impl.WebSocket(...args);
        rec('constructed');
        ws.terminate();
      } catch (err) {
        rec('threw', show(err));
      }
    }
  },

  'client: a refused handshake is unexpected-response, or an error then close 1006': async ({ impl, rec, track }) => {
    const { port } = await listen(Peer, { verifyClient: (info, cb) => cb(false, 403, 'no') }, track);
    const a = new impl.WebSocket(`ws://127.0.0.1:${port}`);
    track.push(() => a.terminate());
    recordSocket(a, rec, 'a');
    await next(a, 'close');
    const b = new impl.WebSocket(`ws://127.0.0.1:${port}`);
    track.push(() => b.terminate());
    b.on('unexpected-response', (req, res) => {
      rec('unexpected-response', typeof req.setHeader, res.statusCode);
      res.resume();
      req.destroy();
      b.terminate();
    });
    b.on('error', (err) => rec('b error', show(err)));
    await next(b, 'close');
  },

  'client: redirects followed (redirect event), limited by maxRedirects, or not followed': async ({ impl, rec, track }) => {
    const target = await listen(Peer, {}, track);
    target.wss.on('connection', (ws, req) => {
      rec('target saw', req.url, req.headers.authorization);
      ws.close(1000);
    });
    const { server, port } = await httpServer((req, res) => res.end(), track);
    server.on('upgrade', (req, socket) => {
      const n = Number(req.url.slice(1));
      const location = n > 0 ? `/${n - 1}` : `ws://127.0.0.1:${target.port}/final`;
      socket.end(`HTTP/1.1 302 Found\r\nLocation: ${location}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
    const a = new impl.WebSocket(`ws://user:pass@127.0.0.1:${port}/1`, { followRedirects: true });
    a.on('redirect', (url, req) => rec('redirect', url.replace(/:\d+\//, ':PORT/'), typeof req.setHeader));
    a.on('error', (err) => rec('a error', show(err)));
    await next(a, 'close');
    const b = new impl.WebSocket(`ws://127.0.0.1:${port}/5`, { followRedirects: true, maxRedirects: 2 });
    b.on('error', (err) => rec('b error', show(err)));
    b.on('close', (code) => rec('b close', code));
    await next(b, 'close');
    const c = new impl.WebSocket(`ws://127.0.0.1:${port}/0`);
    c.on('error', (err) => rec('c error', show(err)));
    await next(c, 'close');
  },

  'client: handshakeTimeout, a bad accept key, a subprotocol not offered': async ({ impl, rec, track }) => {
    const { server, port } = await httpServer((req, res) => res.end(), track);
    server.on('upgrade', (req, socket) => {
      if (req.url === '/silent') return;
      const protocol = req.url === '/protocol' ? 'Sec-WebSocket-Protocol: other\r\n' : '';
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${req.url === '/protocol' ? acceptKeyOf(req) : 'bad'}\r\n${protocol}\r\n`);
    });
    for (const [path, options] of [['/silent', { handshakeTimeout: 100 }], ['/accept', {}], ['/protocol', {}]]) {
      const ws = new impl.WebSocket(`ws://127.0.0.1:${port}${path}`, options);
      track.push(() => ws.terminate());
      ws.on('error', (err) => rec(path, 'error', show(err), ws.readyState));
      ws.on('close', (code) => rec(path, 'close', code, ws.readyState));
      await next(ws, 'close');
    }
  },

  'client: a masked frame from the server fails the connection': async ({ impl, rec, track }) => {
    const { server, port } = await httpServer((req, res) => res.end(), track);
    const wire = [];
    server.on('upgrade', (req, socket) => {
      // The client's answer (its CLOSE) is kept; then the server hangs up.
      socket.on('data', (chunk) => {
        wire.push(chunk);
        socket.end();
      });
      socket.on('error', () => {});
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKeyOf(req)}\r\n\r\n`);
      socket.write(Buffer.from([0x81, 0x02, 0x6f, 0x6b]));
      socket.write(clientFrame(0x1, 'masked'));
    });
    const ws = new impl.WebSocket(`ws://127.0.0.1:${port}`);
    track.push(() => ws.terminate());
    ws.on('message', (data, isBinary) => rec('message', show(data), isBinary));
    ws.on('error', (err) => rec('error', err.code, err.constructor.name, ws.readyState));
    ws.on('close', (code, reason) => rec('close', code, show(reason)));
    await next(ws, 'close');
    // The client's CLOSE (masked: its status is what counts).
    const bytes = Buffer.concat(wire);
    rec('close frame', bytes[0], bytes[1] & 0x7f, (bytes[6] ^ bytes[2]) * 256 + (bytes[7] ^ bytes[3]));
  },

  'client: close() and terminate() while connecting': async ({ impl, rec, track }) => {
    const { port } = await listen(Peer, {}, track);
    for (const method of ['close', 'terminate']) {
      const ws = new impl.WebSocket(`ws://127.0.0.1:${port}`);
      ws.on('error', (err) => rec(method, 'error', show(err)));
      ws.on('close', (code) => rec(method, 'close', code));
      ws[method]();
      rec(method, 'readyState', ws.readyState);
      await next(ws, 'close');
    }
  },

  'client: a server closing first; pings answered': async ({ impl, rec, track }) => {
    const { wss, port } = await listen(Peer, {}, track);
    wss.on('connection', (ws) => {
      ws.on('pong', (data) => rec('server pong', show(data)));
      ws.ping('p1');
      setTimeout(() => ws.close(4002, 'server first'), 50);
    });
    const client = new impl.WebSocket(`ws://127.0.0.1:${port}`);
    track.push(() => client.terminate());
    recordSocket(client, rec, 'client');
    await next(client, 'close');
  },

  'client: createWebSocketStream before open writes once open': async ({ impl, rec, track }) => {
    const { wss, port } = await listen(Peer, {}, track);
    wss.on('connection', (ws) => ws.on('message', (data) => ws.send(`echo:${data}`)));
    const client = new impl.WebSocket(`ws://127.0.0.1:${port}`);
    const duplex = impl.createWebSocketStream(client, { encoding: 'utf8' });
    track.push(() => duplex.destroy());
    duplex.write('early');
    const [chunk] = await next(duplex, 'data');
    rec('chunk', chunk);
    duplex.end();
    await next(client, 'close');
    rec('closed', client.readyState);
  },
});
