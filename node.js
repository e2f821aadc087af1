'use strict';

// `daloy-ws-native/node`: an App's WebSocket routes on Node's http server, as
// `@daloyjs/core/node` serves them (serve), or on a server the application already has (attach).
// Run under Bun or Deno, `serve` uses the runtime's own server (lib/serve.js).

const { serve } = require('./lib/serve.js');
const { attach, createUpgradeHandler } = require('./lib/node/server.js');

module.exports = { serve, attach, createUpgradeHandler };
