'use strict';

// The open connections of one server and their graceful shutdown, the same for the Node wiring
// (lib/node/upgrade.js) and the Bun/Deno one (lib/web/server.js).

const { log } = require('./logger.js');

/** A set of open connections (anything with `close(code, reason)` and `terminate()`). */
class ConnectionSet {
  /** The open connections (live view). */
  connections = new Set();
  /** Set once closeAll() started: new upgrades get 503. */
  shuttingDown = false;
  #closing = null;
  #onEmpty = null;
  #forgetTerminated;

  /**
   * @param {{ forgetTerminated?: boolean }} [options] `forgetTerminated`: when the grace period
   *   ends, forget the connections just terminated instead of waiting for each to report its close
   *   (for a runtime that cannot drop a socket at once; its connections report no event after
   *   terminate()).
   */
  constructor(options) {
    this.#forgetTerminated = options !== undefined && options.forgetTerminated === true;
  }

  /** The promise of closeAll() once it was called, else null. */
  get closing() {
    return this.#closing;
  }

  add(conn) {
    this.connections.add(conn);
  }

  delete(conn) {
    this.connections.delete(conn);
    if (this.connections.size === 0 && this.#onEmpty !== null) this.#onEmpty();
  }

  /**
   * Refuses new upgrades, sends CLOSE `code`/`reason` to every connection, waits up to `timeout` ms
   * for their closing handshakes, then terminates what is left. Resolves when every connection has
   * closed. Idempotent: later calls return the first call's promise.
   * @param {number} code
   * @param {string} reason
   * @param {number} timeout
   * @param {object} logger where a failing close() is reported
   * @returns {Promise<void>}
   */
  closeAll(code, reason, timeout, logger) {
    if (this.#closing !== null) return this.#closing;
    this.shuttingDown = true;
    this.#closing = new Promise((resolve) => {
      let timer = null;
      this.#onEmpty = () => {
        this.#onEmpty = null;
        if (timer !== null) clearTimeout(timer);
        resolve();
      };
      for (const conn of this.connections) {
        try {
          conn.close(code, reason);
        } catch (err) {
          log(logger, 'error', { err }, 'WebSocket close during shutdown failed');
          conn.terminate();
        }
      }
      if (this.connections.size === 0) {
        this.#onEmpty();
        return;
      }
      timer = setTimeout(() => {
        timer = null;
        for (const conn of this.connections) conn.terminate();
        if (!this.#forgetTerminated) return;
        this.connections.clear();
        if (this.#onEmpty !== null) this.#onEmpty();
      }, timeout);
    });
    return this.#closing;
  }
}

module.exports = { ConnectionSet };
