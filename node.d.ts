/// <reference types="node" />
// Types of `daloy-ws-native/node`: an App's WebSocket routes on Node's http(s) server. They are
// written in terms of node:http, so they need @types/node (an optional peer dependency of this
// package: TypeScript users of this entry install it; `daloy-ws-native`, `/bun` and `/deno` do not).

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
  /** Bound of the whole shutdown, in milliseconds (HTTP requests still running get what is left). Default: 10000. */
  shutdownTimeout?: number;
  /** DaloyJS's name for `shutdownTimeout` (give one, or both with the same value). */
  shutdownTimeoutMs?: number;
  /** Milliseconds each WebSocket connection has to answer the shutdown's 1001 before it is destroyed; at most `shutdownTimeout`. Default: 1000. */
  shutdownCloseTimeout?: number;
  /**
   * An upgrade request with this many header fields or more gets 431 before any WebSocket work
   * (Node's parser drops fields past the server's `maxHeadersCount` instead of refusing). `serve`
   * also sets the server's `maxHeadersCount` to it. 0: no limit. Default: 100.
   */
  maxHeaderCount?: number;
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
  /** Largest request head in bytes (Node's `maxHeaderSize`; a larger one gets 431 from Node's parser). Default: 16384. */
  maxHeaderBytes?: number;
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
  /** Milliseconds each connection has to answer before it is destroyed. Default: the `shutdownCloseTimeout` option. */
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
  shutdownCloseTimeout: number;
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

/**
 * Serves the app's WebSocket routes on an existing http/https server, beside its other listeners.
 * The server's own limits stay as the application set them: an upgrade to one of the app's routes
 * with `maxHeaderCount` header fields or more still gets 431, but the size of the request head
 * (`maxHeaderSize` of `http.createServer`) and a count above the server's `maxHeadersCount` (Node's
 * parser drops the fields past it) are the server's to enforce.
 */
export declare function attach(app: App, server: HttpServer | HttpsServer, options?: AttachOptions): AttachHandle;

/** The handshake and connection tracking without a listener: call `handleUpgrade` from your own. */
export declare function createUpgradeHandler(app: App, options?: UpgradeOptions): UpgradeHandler;

// The options and the handle of serve() on Bun and Deno live in web.d.ts (no @types/node there).
export type { WebServeOptions, WebServerHandle } from './web.js';
