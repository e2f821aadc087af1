'use strict';

// createWebSocketStream(ws, options): a Duplex over a WebSocket, as `ws` documents it. Messages
// become readable chunks (reading pauses the WebSocket when the stream's buffer is full), written
// chunks become messages, ending the writable side closes the WebSocket.

const { Duplex } = require('node:stream');

const CONNECTING = 0;
const CLOSED = 3;

function emitClose(stream) {
  stream.emit('close');
}

function duplexOnEnd() {
  if (!this.destroyed && this._writableState.finished) this.destroy();
}

function duplexOnError(err) {
  this.removeListener('error', duplexOnError);
  this.destroy();
  // Re-emitted only when nobody else listens, so that it is not lost.
  if (this.listenerCount('error') === 0) this.emit('error', err);
}

/**
 * @param {import('./websocket.js').WebSocket} ws
 * @param {import('node:stream').DuplexOptions} [options]
 */
function createWebSocketStream(ws, options) {
  let terminateOnDestroy = true;
  // The stream's internal state is read as `ws` reads it (objectMode, finished, endEmitted).
  const duplex = /** @type {any} */ (new Duplex({
    ...options,
    autoDestroy: false,
    emitClose: false,
    objectMode: false,
    writableObjectMode: false,
  }));

  ws.on('message', (message, isBinary) => {
    const data = !isBinary && duplex._readableState.objectMode ? message.toString() : message;
    if (!duplex.push(data)) ws.pause();
  });
  ws.once('error', (err) => {
    if (duplex.destroyed) return;
    // The WebSocket is failing already: destroying the stream must not terminate it first.
    terminateOnDestroy = false;
    duplex.destroy(err);
  });
  ws.once('close', () => {
    if (duplex.destroyed) return;
    duplex.push(null);
  });

  duplex._destroy = (err, callback) => {
    if (ws.readyState === CLOSED) {
      callback(err);
      process.nextTick(emitClose, duplex);
      return;
    }
    let called = false;
    ws.once('error', (error) => {
      called = true;
      callback(error);
    });
    ws.once('close', () => {
      if (!called) callback(err);
      process.nextTick(emitClose, duplex);
    });
    if (terminateOnDestroy) ws.terminate();
  };

  duplex._final = (callback) => {
    if (ws.readyState === CONNECTING) {
      ws.once('open', () => duplex._final(callback));
      return;
    }
    if (ws._socket === null) return;
    if (ws._socket.writableFinished) {
      callback();
      if (duplex._readableState.endEmitted) duplex.destroy();
    } else {
      ws._socket.once('finish', () => callback());
      ws.close();
    }
  };

  duplex._read = () => {
    if (ws.isPaused) ws.resume();
  };

  duplex._write = (chunk, encoding, callback) => {
    if (ws.readyState === CONNECTING) {
      ws.once('open', () => duplex._write(chunk, encoding, callback));
      return;
    }
    ws.send(chunk, callback);
  };

  duplex.on('end', duplexOnEnd);
  duplex.on('error', duplexOnError);
  return duplex;
}

module.exports = { createWebSocketStream };
