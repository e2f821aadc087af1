'use strict';

// `daloy-ws-native/bun`: an App's WebSocket routes on Bun.serve, as `@daloyjs/core/bun` serves them.

const { serve } = require('./lib/web/bun.js');

module.exports = { serve };
