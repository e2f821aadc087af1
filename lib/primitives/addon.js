'use strict';

// The native addon, as the generated loader (binding.js, written by `napi build`) finds it for this
// platform. The one place in lib/ that loads it: every primitive takes the binding from here.

module.exports = require('../../binding.js');
