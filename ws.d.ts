// Types of `daloy-ws-native/ws`, the `ws`-compatible module (ws 8.x's interface).

import { EventEmitter } from 'node:events';
import type { Agent, ClientRequest, ClientRequestArgs, IncomingMessage, OutgoingHttpHeaders, Server as HTTPServer } from 'node:http';
import type { Server as HTTPSServer } from 'node:https';
import type { Duplex, DuplexOptions, Writable } from 'node:stream';
import type { SecureContextOptions } from 'node:tls';
import type { URL } from 'node:url';

// As @types/ws declares it: an array goes through Buffer.from, so a received Buffer[] may be sent back.
type BufferLike = string | Blob | Buffer | DataView | number | ArrayBufferView | Uint8Array | ArrayBuffer | SharedArrayBuffer | readonly any[];
type RawData = Buffer | ArrayBuffer | Buffer[] | Blob;

declare namespace WebSocket {
  type Data = string | Buffer | ArrayBuffer | Buffer[] | Blob;
  type RawData = Buffer | ArrayBuffer | Buffer[] | Blob;

  interface ClientOptions extends SecureContextOptions {
    protocol?: string;
    followRedirects?: boolean;
    generateMask?(mask: Buffer): void;
    handshakeTimeout?: number;
    maxRedirects?: number;
    /**
     * permessage-deflate (RFC 7692), offered by default as by `ws`; `false` offers nothing. The
     * server's answer is checked as `ws` checks it (a bad one fails the handshake).
     */
    perMessageDeflate?: boolean | PerMessageDeflateOptions;
    localAddress?: string;
    protocolVersion?: 8 | 13;
    headers?: Record<string, string>;
    origin?: string;
    agent?: Agent;
    host?: string;
    family?: number;
    checkServerIdentity?(servername: string, cert: unknown): boolean;
    rejectUnauthorized?: boolean;
    allowSynchronousEvents?: boolean;
    autoPong?: boolean;
    closeTimeout?: number;
    maxPayload?: number;
    maxPendingAutoPongs?: number;
    /** Accepted; UTF-8 is always validated. */
    skipUTF8Validation?: boolean;
    createConnection?: ClientRequestArgs['createConnection'];
    finishRequest?(request: ClientRequest, websocket: WebSocket): void;
    protocols?: string | string[];
  }

  interface ServerOptions<T extends typeof WebSocket = typeof WebSocket> {
    host?: string;
    port?: number;
    backlog?: number;
    server?: HTTPServer | HTTPSServer;
    verifyClient?: VerifyClientCallbackSync | VerifyClientCallbackAsync;
    handleProtocols?: (protocols: Set<string>, request: IncomingMessage) => string | false;
    path?: string;
    noServer?: boolean;
    allowSynchronousEvents?: boolean;
    autoPong?: boolean;
    clientTracking?: boolean;
    closeTimeout?: number;
    /** permessage-deflate (RFC 7692): off by default, as in `ws`; `true` for `ws`'s defaults. */
    perMessageDeflate?: boolean | PerMessageDeflateOptions;
    maxFragments?: number;
    maxPayload?: number;
    maxPendingAutoPongs?: number;
    /** Accepted; UTF-8 is always validated. */
    skipUTF8Validation?: boolean;
    WebSocket?: T;
  }

  /**
   * `ws`'s permessage-deflate options. `serverNoContextTakeover` and `clientNoContextTakeover`
   * both true is this package's shared mode (one compressor per thread, nothing held by an idle
   * connection); otherwise each connection keeps its window, as with `ws`.
   */
  interface PerMessageDeflateOptions {
    serverNoContextTakeover?: boolean | undefined;
    clientNoContextTakeover?: boolean | undefined;
    /** 8 to 15; a boolean is taken as not set. */
    serverMaxWindowBits?: number | boolean | undefined;
    /** 8 to 15; a boolean is taken as not set. */
    clientMaxWindowBits?: number | boolean | undefined;
    /** `level` (0 to 9, -1 for zlib's default 6) applies; the other zlib options are accepted and ignored. */
    zlibDeflateOptions?:
      | {
          flush?: number | undefined;
          finishFlush?: number | undefined;
          chunkSize?: number | undefined;
          windowBits?: number | undefined;
          level?: number | undefined;
          memLevel?: number | undefined;
          strategy?: number | undefined;
          dictionary?: Buffer | Buffer[] | DataView | undefined;
          info?: boolean | undefined;
        }
      | undefined;
    /** Accepted and ignored: messages are inflated natively. */
    zlibInflateOptions?: import('node:zlib').ZlibOptions | undefined;
    /** Bytes below which a message goes uncompressed (1024) when this side resets its window per message. */
    threshold?: number | undefined;
    /** Accepted, no effect: compression is synchronous here, nothing waits in a queue. */
    concurrencyLimit?: number | undefined;
  }

  interface VerifyClientInfo {
    origin: string | undefined;
    secure: boolean;
    req: IncomingMessage;
  }
  type VerifyClientCallbackSync = (info: VerifyClientInfo) => boolean;
  type VerifyClientCallbackAsync = (
    info: VerifyClientInfo,
    callback: (res: boolean, code?: number, message?: string, headers?: OutgoingHttpHeaders) => void,
  ) => void;

  interface AddressInfo {
    address: string;
    family: string;
    port: number;
  }

  interface Event {
    type: string;
    target: WebSocket;
  }
  interface ErrorEvent {
    error: any;
    message: string;
    type: string;
    target: WebSocket;
  }
  interface CloseEvent {
    wasClean: boolean;
    code: number;
    reason: string;
    type: string;
    target: WebSocket;
  }
  interface MessageEvent {
    data: Data;
    type: string;
    target: WebSocket;
  }
  interface EventListenerOptions {
    once?: boolean;
  }

  /** A WebSocket server; `WebSocket.Server` is the same class. */
  class WebSocketServer<T extends typeof WebSocket = typeof WebSocket> extends EventEmitter {
    options: ServerOptions<T>;
    path: string;
    /** The connected clients (with clientTracking, the default). */
    clients: Set<InstanceType<T>>;
    constructor(options?: ServerOptions<T>, callback?: () => void);
    address(): AddressInfo | string | null;
    close(cb?: (err?: Error) => void): void;
    handleUpgrade(request: IncomingMessage, socket: Duplex, upgradeHead: Buffer, callback: (client: InstanceType<T>, request: IncomingMessage) => void): void;
    shouldHandle(request: IncomingMessage): boolean | Promise<boolean>;

    on(event: 'connection', cb: (this: WebSocketServer<T>, websocket: InstanceType<T>, request: IncomingMessage) => void): this;
    on(event: 'error', cb: (this: WebSocketServer<T>, error: Error) => void): this;
    on(event: 'headers', cb: (this: WebSocketServer<T>, headers: string[], request: IncomingMessage) => void): this;
    on(event: 'close' | 'listening', cb: (this: WebSocketServer<T>) => void): this;
    on(event: 'wsClientError', cb: (this: WebSocketServer<T>, error: Error, socket: Duplex, request: IncomingMessage) => void): this;
    on(event: string | symbol, listener: (this: WebSocketServer<T>, ...args: any[]) => void): this;
    once(event: 'connection', cb: (this: WebSocketServer<T>, websocket: InstanceType<T>, request: IncomingMessage) => void): this;
    once(event: string | symbol, listener: (this: WebSocketServer<T>, ...args: any[]) => void): this;
  }

  const Server: typeof WebSocketServer;
  type Server<T extends typeof WebSocket = typeof WebSocket> = WebSocketServer<T>;
  const WebSocket: typeof WebSocketAlias;
  type WebSocket = WebSocketAlias;

  /** Builds and writes frames; `Sender.frame` pre-encodes one for `_sender.sendFrame`. */
  class Sender {
    constructor(socket: Duplex);
    static frame(data: Buffer | string, options: { fin?: boolean; mask?: boolean; opcode: number; readOnly?: boolean; rsv1?: boolean }): Buffer[];
    sendFrame(list: readonly Uint8Array[], cb?: (err?: Error | null) => void): void;
    send(data: BufferLike, options: { binary?: boolean; fin?: boolean; mask?: boolean }, cb?: (err?: Error | null) => void): void;
    ping(data: BufferLike | undefined, mask: boolean, cb?: (err?: Error | null) => void): void;
    pong(data: BufferLike | undefined, mask: boolean, cb?: (err?: Error | null) => void): void;
    close(code?: number, data?: string | Buffer, mask?: boolean, cb?: (err?: Error | null) => void): void;
  }

  /** A stand-alone parser: write bytes, get `message`, `ping`, `pong`, `conclude` and `error`. */
  class Receiver extends Writable {
    constructor(options?: { binaryType?: 'nodebuffer' | 'arraybuffer' | 'fragments' | 'blob'; isServer?: boolean; maxPayload?: number; maxFragments?: number });
  }

  function createWebSocketStream(websocket: WebSocket, options?: DuplexOptions): Duplex;
}

declare class WebSocket extends EventEmitter {
  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSING: 2;
  static readonly CLOSED: 3;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSING: 2;
  readonly CLOSED: 3;

  binaryType: 'nodebuffer' | 'arraybuffer' | 'fragments' | 'blob';
  readonly bufferedAmount: number;
  readonly extensions: string;
  readonly isPaused: boolean;
  readonly protocol: string;
  readonly readyState: 0 | 1 | 2 | 3;
  readonly url: string;
  /** The socket, once open (`ws` exposes it; engine.io reads `_socket.remoteAddress`). */
  readonly _socket: (Duplex & { remoteAddress?: string }) | null;
  /** The frame writer, once open (engine.io writes pre-encoded frames with `_sender.sendFrame`). */
  readonly _sender: WebSocket.Sender | null;

  onopen: ((event: WebSocket.Event) => void) | null;
  onerror: ((event: WebSocket.ErrorEvent) => void) | null;
  onclose: ((event: WebSocket.CloseEvent) => void) | null;
  onmessage: ((event: WebSocket.MessageEvent) => void) | null;

  constructor(address: null);
  constructor(address: string | URL, options?: WebSocket.ClientOptions | ClientRequestArgs);
  constructor(address: string | URL, protocols?: string | string[], options?: WebSocket.ClientOptions | ClientRequestArgs);

  close(code?: number, data?: string | Buffer): void;
  ping(data?: any, mask?: boolean, cb?: (err: Error) => void): void;
  pong(data?: any, mask?: boolean, cb?: (err: Error) => void): void;
  send(data: BufferLike, cb?: (err?: Error) => void): void;
  send(data: BufferLike, options: { mask?: boolean; binary?: boolean; compress?: boolean; fin?: boolean }, cb?: (err?: Error) => void): void;
  terminate(): void;
  pause(): void;
  resume(): void;

  addEventListener(type: 'message', listener: ((event: WebSocket.MessageEvent) => void) | { handleEvent(event: WebSocket.MessageEvent): void }, options?: WebSocket.EventListenerOptions): void;
  addEventListener(type: 'close', listener: ((event: WebSocket.CloseEvent) => void) | { handleEvent(event: WebSocket.CloseEvent): void }, options?: WebSocket.EventListenerOptions): void;
  addEventListener(type: 'error', listener: ((event: WebSocket.ErrorEvent) => void) | { handleEvent(event: WebSocket.ErrorEvent): void }, options?: WebSocket.EventListenerOptions): void;
  addEventListener(type: 'open', listener: ((event: WebSocket.Event) => void) | { handleEvent(event: WebSocket.Event): void }, options?: WebSocket.EventListenerOptions): void;
  removeEventListener(type: 'message' | 'close' | 'error' | 'open', listener: (...args: any[]) => void): void;

  on(event: 'close', listener: (this: WebSocket, code: number, reason: Buffer) => void): this;
  on(event: 'error', listener: (this: WebSocket, error: Error & { code?: string; closeCode?: number }) => void): this;
  on(event: 'upgrade', listener: (this: WebSocket, request: IncomingMessage) => void): this;
  on(event: 'message', listener: (this: WebSocket, data: RawData, isBinary: boolean) => void): this;
  on(event: 'open', listener: (this: WebSocket) => void): this;
  on(event: 'ping' | 'pong', listener: (this: WebSocket, data: Buffer) => void): this;
  on(event: 'redirect', listener: (this: WebSocket, url: string, request: ClientRequest) => void): this;
  on(event: 'unexpected-response', listener: (this: WebSocket, request: ClientRequest, response: IncomingMessage) => void): this;
  on(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;
  once(event: 'close', listener: (this: WebSocket, code: number, reason: Buffer) => void): this;
  once(event: 'message', listener: (this: WebSocket, data: RawData, isBinary: boolean) => void): this;
  once(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;
}

declare const WebSocketAlias: typeof WebSocket;
type WebSocketAlias = WebSocket;

export = WebSocket;
