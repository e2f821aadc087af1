'use strict';

// `daloy-ws-native/node`: an App's WebSocket routes on Node's http server, as
// `@daloyjs/core/node` serves them (serve), or on a server the application already has (attach).

const { serve, attach, createUpgradeHandler } = require('./lib/node-server.js');

module.exports = { serve, attach, createUpgradeHandler };
