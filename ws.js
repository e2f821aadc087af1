'use strict';

// `daloy-ws-native/ws`: a drop-in for the `ws` package (8.x), server and client, on this package's
// native framing. The default export is WebSocket, with WebSocketServer, createWebSocketStream,
// Sender and Receiver as its properties, as `ws` exports them.

module.exports = require('./lib/ws/index.js');
