// Types of `daloy-ws-native/bun`: an App's WebSocket routes on Bun.serve.

import type { App } from './index.js';
import type { WebServeOptions, WebServerHandle } from './web.js';

/** Options of {@link serve}; `fetch` gets Bun's server as its second argument. */
export interface BunServeOptions extends WebServeOptions<(request: Request, server: unknown) => Response | Promise<Response> | undefined> {}

/** What {@link serve} returns; `server` is Bun.serve's return value. */
export interface BunServerHandle extends WebServerHandle {}

/** Serves the app's WebSocket routes with Bun.serve. */
export declare function serve(app: App, options?: BunServeOptions): BunServerHandle;
