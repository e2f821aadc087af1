// Types of `daloy-ws-native/bun`: an App's WebSocket routes on Bun.serve.

import type { App, WebSocketConnection } from './index.js';
import type { Logger } from './node.js';

/** Options of {@link serve}. */
export interface BunServeOptions {
  /** TCP port; 0 picks a free one (see {@link BunServerHandle.port}). Default: 3000. */
  port?: number;
  /** Interface to listen on. Default: `"0.0.0.0"`. */
  hostname?: string;
  /** Graceful shutdown on SIGTERM/SIGINT, then the process exits with 0 (unless other listeners of the signal remain). Default: true. */
  handleSignals?: boolean;
  /** Serves plain HTTP requests. Default: 404 for every request. */
  fetch?: (request: Request, server: unknown) => Response | Promise<Response> | undefined;
  /** Replaces the App's logger for this server. */
  logger?: Logger;
  /** Milliseconds a closing handshake may take before the connection is terminated. Default: 10000. */
  closeTimeout?: number;
  /** Grace period of `close()`, in milliseconds, before the remaining connections are terminated. Default: 10000. */
  shutdownTimeout?: number;
}

/** What {@link serve} returns. */
export interface BunServerHandle {
  /** The runtime's server object (Bun.serve's return value). */
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

/** Serves the app's WebSocket routes with Bun.serve. */
export declare function serve(app: App, options?: BunServeOptions): BunServerHandle;
