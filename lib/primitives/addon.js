'use strict';

// The native addon, through the loader `napi build` generates (binding.js, never edited by hand).
// The one place in lib/ that loads it: every primitive takes the binding from here. A failure to
// load becomes one error that names the platform looked for, the package that provides its binary
// and the ways out (see native-error.js).

const { nativeLoadError } = require('./native-error.js');

let binding;
try {
  binding = require('../../binding.js');
} catch (cause) {
  throw nativeLoadError(cause);
}

module.exports = binding;
