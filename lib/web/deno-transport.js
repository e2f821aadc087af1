'use strict';

// The connection's transport on Deno: sends and closes through the WebSocket that
// Deno.upgradeWebSocket returns. Deno exposes neither control frames nor a way to drop the TCP
// connection of an upgraded socket, nor a drain event: those are approximated here and the gaps
// are listed in the README.

const { log } = require('../app/logger.js');

// A send that leaves more than this queued counts as backpressure, as a Node socket's write()
// returns false past its 16 KiB high-water mark; drain is reported once the queue is empty.
const DRAIN_THRESHOLD = 16 * 1024;
// How often a backpressured socket's queue is looked at: Deno fires no event when it empties.
const DRAIN_POLL_MS = 10;

let warnedControl = false;

class DenoTransport {
  #socket;
  #onDrain;
  #logger;
  #poll = null;

  /**
   * @param {WebSocket} socket
   * @param {() => void} onDrain called when the send queue has emptied after backpressure
   * @param {object} logger
   */
  constructor(socket, onDrain, logger) {
    this.#socket = socket;
    this.#onDrain = onDrain;
    this.#logger = logger;
  }

  send(data, isText) {
    const socket = this.#socket;
    if (socket.readyState !== 1) return true;
    socket.send(data);
    if (socket.bufferedAmount <= DRAIN_THRESHOLD) return true;
    if (this.#poll === null) this.#poll = setInterval(() => this.#checkDrain(), DRAIN_POLL_MS);
    return false;
  }

  #checkDrain() {
    const socket = this.#socket;
    if (socket.readyState !== 1) return this.stop();
    if (socket.bufferedAmount > 0) return;
    this.stop();
    this.#onDrain();
  }

  /** Stops watching the send queue (the connection closed). */
  stop() {
    if (this.#poll !== null) clearInterval(this.#poll);
    this.#poll = null;
  }

  // Deno answers PINGs itself but offers no way to send one: logged once, then ignored.
  ping() {
    this.#noControl();
  }

  pong() {
    this.#noControl();
  }

  #noControl() {
    if (warnedControl) return;
    warnedControl = true;
    log(this.#logger, 'warn', {}, 'WebSocket ping()/pong() send nothing on Deno: Deno.upgradeWebSocket exposes no control frames');
  }

  close(code, reason) {
    this.stop();
    if (this.#socket.readyState <= 1) this.#socket.close(code, reason);
  }

  // No abort for an upgraded socket on Deno: the nearest is a CLOSE without a status, after which
  // Deno ends the TCP connection. The handler has already been told 1006.
  terminate() {
    this.stop();
    if (this.#socket.readyState <= 1) this.#socket.close();
  }

  bufferedAmount() {
    return this.#socket.bufferedAmount;
  }
}

module.exports = { DenoTransport };
