'use strict';

// Graceful shutdown on SIGTERM/SIGINT, the same for the Node, Bun and Deno wiring.

const SIGNALS = ['SIGTERM', 'SIGINT'];

/**
 * Runs `shutdown` on SIGTERM/SIGINT, then lets the process exit: with code 0 when no other
 * listener of that signal remains (the application's own listeners decide otherwise). A second
 * signal during the shutdown gets the default action, since the listeners are gone by then.
 * @param {() => Promise<unknown>} shutdown
 * @returns {() => void} removes the listeners
 */
function onSignals(shutdown) {
  const handlers = new Map();
  const remove = () => {
    for (const [signal, fn] of handlers) process.removeListener(signal, fn);
    handlers.clear();
  };
  for (const signal of SIGNALS) {
    const fn = () => {
      remove();
      shutdown().then(
        () => {
          if (process.listenerCount(signal) === 0) process.exit(0);
        },
        () => {
          if (process.listenerCount(signal) === 0) process.exit(1);
        },
      );
    };
    handlers.set(signal, fn);
    process.on(signal, fn);
  }
  return remove;
}

/**
 * A server's `close()`: the first call removes the signal listeners and runs `stop`, every call
 * returns its promise. With `handleSignals`, SIGTERM/SIGINT call it (see onSignals).
 * @param {() => Promise<unknown>} stop
 * @param {boolean} handleSignals
 */
function closeOnce(stop, handleSignals) {
  let closing = null;
  let removeSignals = () => {};
  const close = () => {
    if (closing === null) {
      removeSignals();
      closing = stop();
    }
    return closing;
  };
  if (handleSignals) removeSignals = onSignals(close);
  return close;
}

module.exports = { onSignals, closeOnce };
