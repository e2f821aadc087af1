'use strict';

// Preloaded (`node --require`) into this package's echo servers by bench/run.sh, so that the matrix
// knows which transport its connections ran on: prints `transport: native` or `transport: stream` on
// stderr the first time an accepted connection gets each one. It reads the choice where the Node
// wiring makes it, lib/node/native-socket.js's transportFor(); a build without that module has only the
// stream transport, and says so once at start. Where neither applies nothing is printed, and the
// matrix marks the rows as not reported.

const fs = require('node:fs');
const path = require('node:path');

const file = path.join(__dirname, '..', '..', 'lib', 'node', 'native-socket.js');

if (!fs.existsSync(file)) {
  process.stderr.write('transport: stream (the only transport of this build)\n');
} else {
  // Loaded before the package's own modules, which then take this wrapper from the module's exports.
  const mod = require(file);
  const choose = mod.transportFor;
  if (typeof choose === 'function') {
    const seen = new Set();
    mod.transportFor = function transportFor(...args) {
      const transport = choose.apply(this, args);
      if (!seen.has(transport)) {
        seen.add(transport);
        process.stderr.write(`transport: ${transport}\n`);
      }
      return transport;
    };
  }
}
