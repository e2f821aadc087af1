'use strict';

// The public entry `daloy-ws-native` (and `daloy-ws-native/websocket`): the primitives of
// DaloyJS's `@daloyjs/core/websocket` (lib/primitives/), its route registry and option
// normalisation, and `App` (lib/app/).

const { App, normalizeWebSocketOptions, WebSocketRegistry } = require('./lib/app/app.js');

// Spread from the require() call itself, the form Node's ESM loader recognises (see
// lib/primitives/index.js).
module.exports = { ...require('./lib/primitives/index.js'), normalizeWebSocketOptions, WebSocketRegistry, App };
