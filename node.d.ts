/// <reference types="node" />
// Types of `daloy-ws-native/node`: an App's WebSocket routes on Node's http(s) server.

import type { IncomingMessage, RequestListener, Server as HttpServer, ServerOptions } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { App, PubSubBroker, TopicPublisher, WebSocketConnection } from './index.js';

/** Where handler errors are logged: pino's calling convention (`console` and pino both fit). */
export interface Logger {
  error(fields: { err?: unknown; path?: string } & Record<string, unknown>, message: string): void;
  warn?(fields: Record<string, unknown>, message: string): void;
  info?(fields: Record<string, unknown>, message: string): void;
}

/** Options shared by {@link serve}, {@link attach} and {@link createUpgradeHandler}. */
export interface UpgradeOptions {
  /** Replaces the App's logger for this server; `false` logs nothing. */
  logger?: Logger | false;
  /** Milliseconds a closing handshake may take (the peer's CLOSE, then its FIN) before the socket is destroyed. Default: 10000. */
  closeTimeout?: number;
  /** Grace period of `close()`, in milliseconds, before the remaining connections are destroyed. Default: 10000. */
  shutdownTimeout?: number;
  /** Carries topic publishes to and from other processes (`daloy-ws-native/redis`); closed with the server. */
  pubsub?: PubSubBroker;
}

/** Options of {@link serve}. */
export interface ServeOptions extends UpgradeOptions {
  /** TCP port; 0 picks a free one (see {@link NodeServerHandle.port}). Default: 3000. */
  port?: number;
  /** Interface to listen on. Default: `"0.0.0.0"`. */
  hostname?: string;
  /** Graceful shutdown on SIGTERM/SIGINT, then the process exits with 0 (unless other listeners of the signal remain). Default: true. */
  handleSignals?: boolean;
  /** Serves plain HTTP requests (an Express app, any `(req, res)` listener). Default: 404 for every request. */
  handler?: RequestListener;
  /** Options for `http.createServer`. */
  serverOptions?: ServerOptions;
  /** Server to use. Default: detected (Bun.serve on Bun, Deno.serve on Deno), node:http when `handler` is given. */
  runtime?: 'node' | 'bun' | 'deno';
}

/** Options of {@link attach}. */
export interface AttachOptions extends UpgradeOptions {
  /**
   * Answer 404 to upgrades for paths the app does not own, instead of leaving them to the
   * server's other `upgrade` listeners. (Without other listeners they get 404 anyway.) Default: false.
   */
  rejectUnmatched?: boolean;
  /** On SIGTERM/SIGINT: close the WebSocket connections, then the server, then exit. Default: false. */
  handleSignals?: boolean;
}

/** Options of a graceful close. */
export interface CloseOptions {
  /** Close code sent to every open connection. Default: 1001. */
  code?: number;
  /** Close reason. Default: `"Server shutting down"`. */
  reason?: string;
  /** Grace period in milliseconds. Default: the `shutdownTimeout` option. */
  timeout?: number;
}

/** The handshake and the connections of one App, for an `upgrade` listener of your own. */
export interface UpgradeHandler extends TopicPublisher {
  /**
   * Handles an `upgrade` event. Returns `true` when it took the socket (a route matched, whether
   * the upgrade was then accepted or answered with an error), `false` when no route owns the
   * path: the socket is left untouched for another listener.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** The open connections (a live view). */
  readonly connections: ReadonlySet<WebSocketConnection<any>>;
  /** Refuses new upgrades (503), sends CLOSE to every connection, destroys what is left after the grace period. */
  close(options?: CloseOptions): Promise<void>;
  closeTimeout: number;
  shutdownTimeout: number;
}

/** Returned by {@link serve}. */
export interface NodeServerHandle extends TopicPublisher {
  /** The `node:http` server. */
  server: HttpServer;
  /** The port listened on (the system's choice for port 0, once listening). */
  readonly port: number;
  hostname: string;
  /** Resolves once the server listens; rejects if it could not. */
  ready: Promise<void>;
  /** The open WebSocket connections (a live view). */
  readonly connections: ReadonlySet<WebSocketConnection<any>>;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Graceful shutdown: 1001 to every connection, a bounded grace period, then the server closes. Idempotent. */
  close(): Promise<void>;
}

/** Returned by {@link attach}. */
export interface AttachHandle extends TopicPublisher {
  server: HttpServer | HttpsServer;
  /** The open WebSocket connections (a live view). */
  readonly connections: ReadonlySet<WebSocketConnection<any>>;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Closes the WebSocket connections gracefully and removes the `upgrade` listener; the server stays open. */
  close(): Promise<void>;
}

/** Starts an HTTP server for the app's WebSocket routes (as `serve` of `@daloyjs/core/node`). */
export declare function serve(app: App, options?: ServeOptions): NodeServerHandle;

/** Serves the app's WebSocket routes on an existing http/https server, beside its other listeners. */
export declare function attach(app: App, server: HttpServer | HttpsServer, options?: AttachOptions): AttachHandle;

/** The handshake and connection tracking without a listener: call `handleUpgrade` from your own. */
export declare function createUpgradeHandler(app: App, options?: UpgradeOptions): UpgradeHandler;

// serve() on a runtime's own server (lib/web/): the options and the handle shared by
// `daloy-ws-native/bun` and `daloy-ws-native/deno`.

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
  /** Grace period of `close()`, in milliseconds, before the remaining connections are terminated. Default: 10000. */
  shutdownTimeout?: number;
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
  /** Sends 1001 to every connection, waits up to `shutdownTimeout` for their closing handshakes, terminates the rest, then stops the server. Idempotent. */
  close(): Promise<void>;
}
