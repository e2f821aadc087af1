// Types of `daloy-ws-native/deno`: an App's WebSocket routes on Deno.serve.

import type { App } from './index.js';
import type { WebServeOptions, WebServerHandle } from './web.js';

/** Options of {@link serve}; `fetch` gets Deno's connection info as its second argument. */
export interface DenoServeOptions extends WebServeOptions<(request: Request, info: unknown) => Response | Promise<Response>> {}

/** What {@link serve} returns; `server` is Deno.serve's return value. */
export interface DenoServerHandle extends WebServerHandle {}

/** Serves the app's WebSocket routes with Deno.serve. */
export declare function serve(app: App, options?: DenoServeOptions): DenoServerHandle;
