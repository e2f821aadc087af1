// ESM entry of `daloy-ws-native/redis`: the same objects as the CommonJS entry.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const redis = require('./redis.js');

export const { createRedisBroker, RedisBroker } = redis;
export default redis;
