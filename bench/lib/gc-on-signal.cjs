'use strict';

// Preloaded (`node --expose-gc --require`) into the Node servers of the matrix by bench/run.sh: on
// SIGUSR2 the server collects its garbage in full, which the load generator asks for before each RSS
// reading of the idle cell (--gc-signal), so that the figure counts what the connections hold and not
// the handshakes' garbage the collector had not reached yet (which varied from run to run). Without
// --expose-gc the signal is ignored rather than fatal.

process.on('SIGUSR2', () => {
  if (typeof globalThis.gc === 'function') globalThis.gc();
});
