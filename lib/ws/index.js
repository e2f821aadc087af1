'use strict';

// The `ws`-compatible module (daloy-ws-native/ws): exports shaped as `ws` 8.x's. The default
// export is WebSocket, carrying the rest as properties.

// The properties below are added here, so the class is typed loosely for the checker.
const WebSocket = /** @type {any} */ (require('./websocket.js').WebSocket);
const { WebSocketServer } = require('./server.js');
const { createWebSocketStream } = require('./stream.js');
const { Sender } = require('./sender.js');
const { Receiver } = require('./receiver.js');

WebSocket.createWebSocketStream = createWebSocketStream;
WebSocket.Server = WebSocketServer;
WebSocket.Receiver = Receiver;
WebSocket.Sender = Sender;
WebSocket.WebSocket = WebSocket;
WebSocket.WebSocketServer = WebSocketServer;

module.exports = WebSocket;
