// Types shared by `daloy-ws-native/bun` and `daloy-ws-native/deno`: the options and the handle of
// serve() on a runtime's own server (lib/web/). They stand alone: no @types/node needed.

import type { Logger, PubSubBroker, TopicPublisher, WebSocketConnection } from './index.js';

/** Options of serve() on Bun and Deno; `Fetch` is the runtime's request handler. */
export interface WebServeOptions<Fetch> {
  /** TCP port; 0 picks a free one (see {@link WebServerHandle.port}). Default: 3000. */
  port?: number;
  /** Interface to listen on. Default: `"0.0.0.0"`. */
  hostname?: string;
  /** Graceful shutdown on SIGTERM/SIGINT, then the process exits with 0 (unless other listeners of the signal remain). Default: true. */
  handleSignals?: boolean;
  /** Serves plain HTTP requests. Default: 404 for every request. */
  fetch?: Fetch;
  /** Replaces the App's logger for this server. */
  logger?: Logger;
  /** Milliseconds a closing handshake may take before the connection is terminated. Default: 10000. */
  closeTimeout?: number;
  /** Bound of the whole shutdown, in milliseconds. Default: 10000. */
  shutdownTimeout?: number;
  /** DaloyJS's name for `shutdownTimeout` (give one, or both with the same value). */
  shutdownTimeoutMs?: number;
  /** Milliseconds each connection has to answer the shutdown's 1001 before it is terminated; at most `shutdownTimeout`. Default: 1000. */
  shutdownCloseTimeout?: number;
  /** Carries topic publishes to and from other processes (`daloy-ws-native/redis`); closed with the server. */
  pubsub?: PubSubBroker;
}

/** What serve() returns on Bun and Deno. */
export interface WebServerHandle extends TopicPublisher {
  /** The runtime's server object (the return value of Bun.serve or Deno.serve). */
  readonly server: unknown;
  /** The port listened on (the one the system chose, for port 0, once `ready` resolved). */
  readonly port: number;
  readonly hostname: string;
  /** Resolves once the server listens. */
  readonly ready: Promise<void>;
  /** Open WebSocket connections (live view). */
  readonly connections: ReadonlySet<WebSocketConnection>;
  /** Sends 1001 to every connection, waits up to `shutdownCloseTimeout` for their closing handshakes, terminates the rest, then stops the server. Idempotent. */
  close(): Promise<void>;
}
