// Types of `daloy-ws-native/deno`: an App's WebSocket routes on Deno.serve.

import type { App, WebSocketConnection } from './index.js';
import type { Logger } from './node.js';

/** Options of {@link serve}. */
export interface DenoServeOptions {
  /** TCP port; 0 picks a free one (see {@link DenoServerHandle.port}). Default: 3000. */
  port?: number;
  /** Interface to listen on. Default: `"0.0.0.0"`. */
  hostname?: string;
  /** Graceful shutdown on SIGTERM/SIGINT, then the process exits with 0 (unless other listeners of the signal remain). Default: true. */
  handleSignals?: boolean;
  /** Serves plain HTTP requests. Default: 404 for every request. */
  fetch?: (request: Request, info: unknown) => Response | Promise<Response>;
  /** Replaces the App's logger for this server. */
  logger?: Logger;
  /** Milliseconds a closing handshake may take before the connection is terminated. Default: 10000. */
  closeTimeout?: number;
  /** Grace period of `close()`, in milliseconds, before the remaining connections are terminated. Default: 10000. */
  shutdownTimeout?: number;
}

/** What {@link serve} returns. */
export interface DenoServerHandle {
  /** The runtime's server object (Deno.serve's return value). */
  readonly server: unknown;
  /** The port listened on (the one the system chose, for port 0, once `ready` resolved). */
  readonly port: number;
  readonly hostname: string;
  /** Resolves once the server listens. */
  readonly ready: Promise<void>;
  /** Open WebSocket connections (live view). */
  readonly connections: ReadonlySet<WebSocketConnection>;
  /** Sends 1001 to every connection, waits up to `shutdownTimeout` for their closing handshakes, terminates the rest, then stops the server. Idempotent. */
  close(): Promise<void>;
}

/** Serves the app's WebSocket routes with Deno.serve. */
export declare function serve(app: App, options?: DenoServeOptions): DenoServerHandle;
