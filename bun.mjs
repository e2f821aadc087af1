// ESM entry of `daloy-ws-native/bun`: the same objects as the CommonJS entry.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const bun = require('./bun.js');

export const { serve } = bun;
export default bun;
