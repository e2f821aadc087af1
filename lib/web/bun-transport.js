'use strict';

// The connection's transport on Bun: sends and closes through a ServerWebSocket.

class BunTransport {
  #ws;

  /** @param {import('bun').ServerWebSocket} ws */
  constructor(ws) {
    this.#ws = ws;
  }

  /**
   * Returns false when Bun queued the frame behind backpressure (drain follows) or dropped it.
   * `compress`: compressed with permessage-deflate, when the connection negotiated it.
   */
  send(data, isText, compress) {
    const status = isText ? this.#ws.sendText(data, compress) : this.#ws.sendBinary(data, compress);
    return status > 0;
  }

  ping(payload) {
    this.#ws.ping(payload);
  }

  pong(payload) {
    this.#ws.pong(payload);
  }

  close(code, reason) {
    this.#ws.close(code, reason);
  }

  terminate() {
    this.#ws.terminate();
  }

  bufferedAmount() {
    return this.#ws.getBufferedAmount();
  }
}

module.exports = { BunTransport };
