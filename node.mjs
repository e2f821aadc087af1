// ESM entry of `daloy-ws-native/node`: the same objects as the CommonJS entry.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const node = require('./node.js');

export const { serve, attach, createUpgradeHandler } = node;
export default node;
