// ESM entry of `daloy-ws-native/deno`: the same objects as the CommonJS entry.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const deno = require('./deno.js');

export const { serve } = deno;
export default deno;
