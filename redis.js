'use strict';

// `daloy-ws-native/redis`: a topics broker on Redis, for `serve(app, { pubsub: createRedisBroker({ url }) })`.

const { createRedisBroker, RedisBroker } = require('./lib/redis/broker.js');

module.exports = { createRedisBroker, RedisBroker };
