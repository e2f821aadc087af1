'use strict';

// `daloy-ws-native/deno`: an App's WebSocket routes on Deno.serve and Deno.upgradeWebSocket.

const { serve } = require('./lib/web/deno.js');

module.exports = { serve };
