// Types of `daloy-ws-native` and `daloy-ws-native/websocket`: the `@daloyjs/core/websocket` surface.
// They stand alone: no @types/node needed. `Request` and `Response` are the runtime's own (from
// @types/node, the DOM lib, Bun's or Deno's types); the empty declarations below only merge into
// them, and keep these types compiling where none is loaded.

declare global {
  interface Request {}
  interface Response {}
}

// ---------------------------------------------------------------- constants

/** RFC 6455 §1.3: the GUID appended to `Sec-WebSocket-Key` before hashing. */
export declare const WS_GUID: '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** WHATWG `WebSocket.readyState` values. */
export declare const WS_READY_STATE: {
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSING: 2;
  readonly CLOSED: 3;
};

/** RFC 6455 §5.2 opcodes. */
export declare const WS_OPCODE: {
  readonly CONTINUATION: 0;
  readonly TEXT: 1;
  readonly BINARY: 2;
  readonly CLOSE: 8;
  readonly PING: 9;
  readonly PONG: 10;
};

/** RFC 6455 §7.4.1 status codes in common use. */
export declare const WS_CLOSE_CODE: {
  readonly NORMAL_CLOSURE: 1000;
  readonly GOING_AWAY: 1001;
  readonly PROTOCOL_ERROR: 1002;
  readonly UNSUPPORTED_DATA: 1003;
  readonly NO_STATUS_RECEIVED: 1005;
  readonly ABNORMAL_CLOSURE: 1006;
  readonly INVALID_PAYLOAD: 1007;
  readonly POLICY_VIOLATION: 1008;
  readonly MESSAGE_TOO_BIG: 1009;
  readonly INTERNAL_ERROR: 1011;
};

/** RFC 6455 §5.5: control frames carry at most 125 payload bytes. */
export declare const WS_MAX_CONTROL_PAYLOAD: 125;
/** Queued outbound bytes above which backpressure handling starts (1 MiB). */
export declare const DEFAULT_WS_BACKPRESSURE_LIMIT: 1048576;
/** Largest inbound message accepted by default (1 MiB). */
export declare const DEFAULT_WS_MAX_PAYLOAD_LENGTH: 1048576;
/** Seconds without inbound traffic before a connection is closed with 1001. */
export declare const DEFAULT_WS_IDLE_TIMEOUT_SECONDS: 120;
/** Most frames one message may span (enough for Autobahn|Testsuite's 9.* cases). */
export declare const DEFAULT_WS_MAX_FRAGMENTS: 131072;

/** Returned by {@link parseFrame} when the buffer does not yet hold a whole frame. */
export declare const FRAME_INCOMPLETE: unique symbol;

// ---------------------------------------------------------------- errors

/** Stable identifiers of protocol errors (the names the `ws` package uses). */
export type WebSocketErrorCode =
  | 'WS_ERR_UNEXPECTED_RSV_1'
  | 'WS_ERR_UNEXPECTED_RSV_2_3'
  | 'WS_ERR_EXPECTED_FIN'
  | 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH'
  | 'WS_ERR_INVALID_OPCODE'
  | 'WS_ERR_EXPECTED_MASK'
  | 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH'
  | 'WS_ERR_INVALID_UTF8'
  | 'WS_ERR_INVALID_CLOSE_CODE'
  | 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
  | 'WS_ERR_TOO_MANY_BUFFERED_PARTS'
  | 'WS_ERR_INVALID_SUBPROTOCOL'
  | 'WS_ERR_PROTOCOL'
  | (string & {});

/** Every RFC 6455 violation. Adapters close the connection with {@link closeCode}. */
export declare class WebSocketProtocolError extends Error {
  constructor(message: string, options?: { code?: string; closeCode?: number });
  /** Stable identifier, e.g. `WS_ERR_INVALID_UTF8`. */
  code: WebSocketErrorCode;
  /** The close status a server answers with: 1002, 1007 (invalid UTF-8), 1008 or 1009. */
  closeCode: number;
}

/** A message (summed over its fragments) or a declared frame length above `maxPayloadLength`. */
export declare class WebSocketPayloadTooLargeError extends WebSocketProtocolError {
  constructor(limit: number, actual: number);
  /** The `maxPayloadLength` in force. */
  readonly limit: number;
  /** The length that exceeded it. */
  readonly actual: number;
}

// ---------------------------------------------------------------- public types

/** Per-application state handed to WebSocket contexts. */
export type AppState = Record<string, unknown>;

type ParamName<S extends string> = S extends `${infer Name}/${string}` ? Name : S;
type ParamsAfter<S extends string> = S extends `${string}/${infer Tail}` ? PathParams<`/${Tail}`> : {};
type NamedParams<P extends string> = P extends `${string}:${infer Rest}` ? { [K in ParamName<Rest>]: string } & ParamsAfter<Rest> : {};

/**
 * Path parameters of a route pattern: `"/chat/:room"` gives `{ room: string }`; a final
 * `*name` segment gives `{ name: string }` (`*` alone: `{ wildcard: string }`).
 */
export type PathParams<P extends string> = string extends P
  ? Record<string, string>
  : P extends `${infer Head}/*${infer Name}`
    ? NamedParams<Head> & { [K in Name extends '' ? 'wildcard' : Name]: string }
    : NamedParams<P>;

/** Live, server-side view of a WebSocket connection (mirrors the WHATWG `WebSocket` where it makes sense). */
export interface WebSocketConnection<TData = unknown> {
  /** WHATWG ready state. */
  readonly readyState: 0 | 1 | 2 | 3;
  /** Negotiated subprotocol (the response's `Sec-WebSocket-Protocol`), or `""`. */
  readonly protocol: string;
  /** Negotiated extensions (the response's `Sec-WebSocket-Extensions`), or `""`. */
  readonly extensions: string;
  /** Bytes queued but not yet handed to the kernel. */
  readonly bufferedAmount: number;
  /** How binary messages are surfaced: a Buffer (default) or an ArrayBuffer. */
  binaryType: 'arraybuffer' | 'nodebuffer';
  /** Free slot for the application's per-connection state. */
  data: TData;
  /**
   * Sends a TEXT frame for a string, a BINARY frame for bytes; `{ binary: true }` forces BINARY.
   * With permessage-deflate agreed, messages of at least the route's `threshold` bytes are
   * compressed; `{ compress }` decides for this message.
   */
  send(data: string | ArrayBufferLike | ArrayBufferView, options?: { binary?: boolean; compress?: boolean }): void;
  /** Sends a CLOSE frame and starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /** Sends a PING frame (payload ≤ 125 bytes). */
  ping(data?: string | ArrayBufferLike | ArrayBufferView): void;
  /** Sends a PONG frame (payload ≤ 125 bytes). */
  pong(data?: string | ArrayBufferLike | ArrayBufferView): void;
  /** Tears the socket down at once, without a closing handshake. */
  terminate(): void;
  /**
   * Subscribes to `topic` (a non-empty string of at most 1024 bytes of UTF-8). Ignored once the
   * connection is closing. Throws a `RangeError` past the route's `maxTopicsPerConnection`.
   */
  subscribe(topic: string): void;
  /** Leaves `topic`; a topic not subscribed is ignored. */
  unsubscribe(topic: string): void;
  /** Whether the connection is subscribed to `topic`. */
  isSubscribed(topic: string): boolean;
  /** The topics the connection is subscribed to (a new array). A closed connection has none. */
  readonly subscriptions: string[];
  /**
   * Sends `data` to every subscriber of `topic` except this connection, in this process and, with
   * a broker (`serve(app, { pubsub })`), in every other one. Returns how many subscribers in this
   * process it was queued for (0 when none); a subscriber over its backpressure limit is skipped
   * (or closed with 1009 when its route has `closeOnBackpressureLimit`) and not counted.
   */
  publish(topic: string, data: string | ArrayBufferLike | ArrayBufferView, options?: { binary?: boolean }): number;
}

/** Per-upgrade context handed to `beforeUpgrade` and `open`. */
export interface WebSocketContext<P extends string = string, S = AppState> {
  /** The upgrade request. */
  request: Request;
  /** Parameters of the matched route pattern. */
  params: PathParams<P>;
  /** Query-string parameters of the upgrade URL. */
  query: Record<string, string>;
  /** Upgrade request headers, lower-case keys. */
  headers: Record<string, string>;
  /** Per-upgrade state. */
  state: S;
  /** Subprotocols offered by the client, in its order of preference. */
  protocols: string[];
}

/** Lifecycle callbacks and limits of a WebSocket route (Bun's handler shape). */
export interface WebSocketHandler<P extends string = string, S = AppState, TData = unknown> {
  /** Close the connection with 1009 when queued outbound bytes exceed `backpressureLimit`. Default: true. */
  closeOnBackpressureLimit?: boolean;
  /** Queued outbound bytes before backpressure handling starts. Default: 1 MiB. */
  backpressureLimit?: number;
  /**
   * permessage-deflate (RFC 7692). Default: false. `true` is the shared mode. On Node it is
   * negotiated per route; on Bun it turns on Bun's own compression; Deno does not negotiate it.
   * Refused in production under secureDefaults, as in DaloyJS.
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Seconds without inbound traffic before the connection is closed with 1001: 1 to 2147483 (0 is refused, as in DaloyJS). Default: 120. */
  idleTimeout?: number;
  /** Largest inbound message in bytes; `Infinity` for no limit (refused in production). Default: 1 MiB. */
  maxPayloadLength?: number;
  /** Most frames one inbound message may span (closes with 1008 beyond it). Default: 131072. */
  maxFragments?: number;
  /** Most topics one connection may subscribe to; `subscribe()` throws a `RangeError` beyond it. Default: 1024. */
  maxTopicsPerConnection?: number;
  /** `Origin` policy checked before `beforeUpgrade` (403 when it fails). */
  allowedOrigins?: 'same-origin' | readonly string[] | ((origin: string | null, request: Request) => boolean);
  /** In production under secureDefaults, a route without `beforeUpgrade` is refused unless this is `true`. */
  acknowledgeUnauthenticated?: boolean;
  /** In production under secureDefaults, a route without `allowedOrigins` is refused unless this is `true`. */
  acknowledgeCrossOriginUpgrade?: boolean;
  /**
   * Runs before the 101 response: return a `Response` to reject, a string to select that
   * subprotocol (it must have been offered), or `undefined` to accept.
   */
  beforeUpgrade?(
    request: Request,
    ctx: WebSocketContext<P, S>,
  ): Response | string | undefined | void | Promise<Response | string | undefined | void>;
  /** Called once the connection is open. */
  open?(conn: WebSocketConnection<TData>, ctx: WebSocketContext<P, S>): void | Promise<void>;
  /** Called for each complete message: a string for text, bytes for binary (`isBinary: true`). */
  message?(conn: WebSocketConnection<TData>, data: string | Uint8Array | ArrayBuffer, isBinary: boolean): void | Promise<void>;
  /** Called once when the connection closes, with the close code and reason. */
  close?(conn: WebSocketConnection<TData>, code: number, reason: string): void | Promise<void>;
  /** Called when a socket or handler error occurs on the connection. */
  error?(conn: WebSocketConnection<TData>, err: unknown): void | Promise<void>;
  /** Called when the socket's send buffer drains after backpressure. */
  drain?(conn: WebSocketConnection<TData>): void | Promise<void>;
}

/** Result of {@link validateUpgrade}. */
export type HandshakeResult =
  | { ok: true; acceptKey: string; protocols: string[] }
  | { ok: false; status: number; reason: string };

/** One decoded frame, as returned by {@link parseFrame}. */
export interface ParsedFrame {
  /** FIN bit: this frame ends a message. */
  fin: boolean;
  /** Frame opcode (see {@link WS_OPCODE}). */
  opcode: number;
  /** Unmasked payload: a view of the input buffer, not a copy. */
  payload: Uint8Array;
  /** Bytes of the input this frame took (header and payload). */
  consumed: number;
}

/** A complete message delivered by {@link FrameSink}. */
export interface MessageEvent {
  /** The text for a text message, the bytes (owned by the receiver) for a binary one. */
  data: string | Uint8Array;
  /** True when the message was sent as binary frames. */
  isBinary: boolean;
}

/** Callbacks of a {@link FrameSink}. */
export interface FrameSinkEvents {
  /** A complete (possibly reassembled) message arrived. */
  onMessage(ev: MessageEvent): void;
  /** A PING arrived; `payload` is the receiver's own copy. */
  onPing(payload: Uint8Array): void;
  /** A PONG arrived; `payload` is the receiver's own copy. */
  onPong(payload: Uint8Array): void;
  /** A CLOSE arrived (1005 when it carried no code); all later input is ignored. */
  onClose(code: number, reason: string): void;
  /** The peer broke RFC 6455; all later input is ignored. Close with `err.closeCode`. */
  onProtocolError(err: WebSocketProtocolError): void;
}

/** Options of a {@link FrameSink}. */
export interface FrameSinkOptions extends FrameSinkEvents {
  /** Reject unmasked frames (RFC 6455 §5.1: a server must). Default: false. */
  requireMask?: boolean;
  /** Reject masked frames (RFC 6455 §5.1: a client must), with `WS_ERR_UNEXPECTED_MASK`. Default: false. */
  rejectMask?: boolean;
  /** Largest message, summed over its fragments; also checked on each declared frame length. Default: 1 MiB. */
  maxPayloadLength?: number;
  /** Most frames one message may span. Default: 131072. */
  maxFragments?: number;
  /**
   * Deliver TEXT messages to `onMessage` as their UTF-8 bytes (still validated) instead of
   * strings, as `ws` does. Default: false.
   */
  textAsBytes?: boolean;
}

// ---------------------------------------------------------------- functions

/** `base64(SHA-1(key + WS_GUID))` (RFC 6455 §4.2.2): the `Sec-WebSocket-Accept` value. */
export declare function computeAcceptKey(key: string): Promise<string>;
/** Synchronous twin of {@link computeAcceptKey}. */
export declare function computeAcceptKeySync(key: string): string;
/** Offered subprotocols: split on `,`, trimmed, empties dropped, client order kept. */
export declare function parseSubprotocols(header: string | null | undefined): string[];
/** Returns `protocol` if it is an HTTP token the client offered; throws {@link WebSocketProtocolError} otherwise. */
export declare function validateSelectedSubprotocol(protocol: string, offered: readonly string[]): string;

/** Header access accepted by {@link validateUpgrade}: a `Headers`-like object or Node's `IncomingHttpHeaders`. */
export type UpgradeHeaders =
  | { get(name: string): string | null }
  | Record<string, string | string[] | undefined>;

/** Checks the opening handshake (RFC 6455 §4.2.1) and computes the accept key. */
export declare function validateUpgrade(headers: UpgradeHeaders): Promise<HandshakeResult>;
/** Synchronous twin of {@link validateUpgrade}. */
export declare function validateUpgradeSync(headers: UpgradeHeaders): HandshakeResult;
/** Applies a route's `allowedOrigins` policy to an upgrade request. */
export declare function checkWebSocketOrigin(
  request: Request,
  policy: WebSocketHandler<any, any, any>['allowedOrigins'],
): { ok: true } | { ok: false; reason: string };

/** Decodes one frame at the start of `buf`, unmasking in place; {@link FRAME_INCOMPLETE} when more bytes are needed. */
export declare function parseFrame(
  buf: Uint8Array,
  opts?: { requireMask?: boolean; maxPayload?: number },
): ParsedFrame | typeof FRAME_INCOMPLETE;
/** Encodes one complete frame; `mask: true` draws a random masking key. */
export declare function encodeFrame(opts: { fin?: boolean; opcode: number; payload?: Uint8Array; mask?: boolean }): Uint8Array;
/** Whether `code` may appear in a CLOSE frame: 1000–1014 but 1004–1006, and 3000–4999. */
export declare function isValidWireCloseCode(code: number): boolean;
/** Big-endian status code followed by the UTF-8 reason; throws on an invalid code or a reason over 123 bytes. */
export declare function encodeClosePayload(code: number, reason?: string): Uint8Array;
/** Decodes a CLOSE payload; an empty one gives `{ code: 1005, reason: "" }`. */
export declare function decodeClosePayload(payload: Uint8Array): { code: number; reason: string };
/** A string becomes a TEXT payload; bytes become a BINARY payload without a copy. */
export declare function encodeSendPayload(data: string | ArrayBufferLike | ArrayBufferView): { opcode: number; payload: Uint8Array };
/**
 * Returns its argument, typed: give the path pattern as `P` to type `ctx.params`
 * (`defineWebSocket<"/chat/:room">({...})`), `S` for `ctx.state`, `TData` for `conn.data`.
 * Without them `ctx.params` is `Record<string, string>` and `conn.data` is `unknown`.
 * (`app.ws(path, handler)` infers `P` from `path` itself.)
 */
export declare function defineWebSocket<P extends string, S = AppState, TData = unknown>(
  handler: WebSocketHandler<P, S, TData>,
): WebSocketHandler<P, S, TData>;

/** Streaming RFC 6455 parser: push socket bytes split anywhere; callbacks fire in wire order. */
export declare class FrameSink {
  constructor(opts: FrameSinkOptions);
  /** Feeds bytes. A callback's exception propagates; events not yet delivered wait for the next push. */
  push(chunk: Uint8Array | ArrayBuffer | ArrayBufferView): void;
  /** Bytes held for an unfinished frame header or message. */
  readonly bufferedAmount: number;
}

/** A logger with pino's calling convention (pino, DaloyJS's `app.log` and `console` fit). */
export interface Logger {
  error(fields: object, message: string): void;
  warn?(fields: object, message: string): void;
  info?(fields: object, message: string): void;
}

/** A route's limits with defaults applied, as {@link normalizeWebSocketOptions} returns them. */
export interface NormalizedWebSocketOptions {
  closeOnBackpressureLimit: boolean;
  backpressureLimit: number;
  /** As the handler gave it: a boolean or the options object. */
  perMessageDeflate: boolean | PerMessageDeflateOptions;
  idleTimeout: number;
  maxPayloadLength: number;
  maxFragments: number;
  maxTopicsPerConnection: number;
}

/** The `perMessageDeflate` options of a route. */
export interface PerMessageDeflateOptions {
  /**
   * `"shared"` (default): no context takeover either way, one compressor per thread, nothing held
   * by an idle connection. `"dedicated"`: each connection keeps its compression window (smaller
   * messages; the compressor is released after 5-10 s without a compressed send, keeping only the
   * stream's last bytes, at most 32 KiB).
   */
  mode?: 'shared' | 'dedicated';
  /** The server's compression window in the dedicated mode, 8 to 15. Default: 15. */
  windowBits?: number;
  /**
   * In the dedicated mode: `"shared"` (default) asks the client for `client_no_context_takeover`,
   * so no inflater is held between messages; `"dedicated"` lets the client keep its window too,
   * with an inflater per connection.
   */
  decompressor?: 'shared' | 'dedicated';
  /** Messages below this many bytes are sent uncompressed. Default: 1024. */
  threshold?: number;
  /** zlib compression level, 0 to 9. Default: 6. */
  level?: number;
}

/** A registered WebSocket route, as `app.webSocketRoutes` stores it (DaloyJS's shape). */
export interface WebSocketRouteEntry {
  /** The route pattern. */
  path: string;
  /** The handler it was registered with. */
  handler: WebSocketHandler<any, any, any>;
  /** Gives each upgrade its fresh `ctx.state`. */
  createState: () => Record<string, unknown>;
  /** Its limits, defaults applied. */
  options: NormalizedWebSocketOptions;
}

/**
 * A route's limits with DaloyJS's defaults applied; throws a plain `Error` with DaloyJS's message
 * on a value it refuses (and `perMessageDeflate: true` or `maxPayloadLength: Infinity` in
 * production under secureDefaults). Without `context`: development with secureDefaults.
 */
export declare function normalizeWebSocketOptions(
  handler: WebSocketHandler<any, any, any>,
  context?: { production: boolean; secureDefaults: boolean },
): NormalizedWebSocketOptions;

/** An App's WebSocket routes (`app.webSocketRoutes`), as DaloyJS's registry. */
export declare class WebSocketRegistry {
  /** Registers a route; `createState` defaults to `() => ({})`, `options` to the handler normalized for development. */
  add(
    path: string,
    handler: WebSocketHandler<any, any, any>,
    createState?: () => Record<string, unknown>,
    options?: NormalizedWebSocketOptions,
  ): void;
  /** The route owning a request path, with its decoded parameters, or `undefined`. */
  find(pathname: string): { handler: WebSocketRouteEntry; params: Record<string, string> } | undefined;
  /** The routes in registration order (a copy). */
  list(): WebSocketRouteEntry[];
  /** Number of routes. */
  readonly size: number;
  /**
   * One set of options for a runtime whose WebSocket configuration is server-wide (Bun): every
   * route's closeOnBackpressureLimit, the largest limits, the smallest idleTimeout, any route's
   * perMessageDeflate; the defaults without routes.
   */
  runtimeOptions(): NormalizedWebSocketOptions;
}

/** Options of {@link App}; DaloyJS's other App options are accepted and ignored. */
export interface AppOptions {
  /** Where handler errors are logged; `false` logs nothing. Default: one line per event on stderr. */
  logger?: Logger | false;
  /** `"production"` arms the production guards; decides over `production` and `NODE_ENV`. */
  env?: 'development' | 'production' | 'test';
  /** Production when `env` is not given. Default: `NODE_ENV === "production"`. */
  production?: boolean;
  /** The production guards of `app.ws()`. `false` is refused in production without `acknowledgeInsecureDefaults`. Default: true. */
  secureDefaults?: boolean;
  /** Confirms `secureDefaults: false` in production. */
  acknowledgeInsecureDefaults?: boolean;
  [option: string]: unknown;
}

/** An application's WebSocket routes; served by `serve` / `attach` from `daloy-ws-native/node`. */
export declare class App {
  constructor(options?: AppOptions);
  /** Where handler errors are logged; assign a logger, or `false` to log nothing. */
  get log(): Logger;
  set log(logger: Logger | false);
  /** Whether the App runs as production (`env`, else `production`, else `NODE_ENV`). */
  readonly production: boolean;
  /** Whether the production guards of `app.ws()` apply. */
  readonly secureDefaults: boolean;
  /** The registered routes. */
  readonly webSocketRoutes: WebSocketRegistry;
  /** Adds `key: value` to every upgrade's `ctx.state` (a fresh shallow copy per upgrade). */
  decorate(key: string, value: unknown): this;
  /** Registers a WebSocket route; `:name` segments become `ctx.params.name`, a final `*name` the rest of the path. */
  ws<P extends string, S = AppState, TData = unknown>(path: P, handler: WebSocketHandler<P, S, TData>): this;
  /**
   * Publishes to the subscribers of `topic` on every server serving this app and, with a broker,
   * in every process. Returns how many subscribers in this process it was queued for.
   */
  publish(topic: string, data: string | ArrayBufferLike | ArrayBufferView, options?: { binary?: boolean }): number;
}

/**
 * Carries publishes between processes (`serve(app, { pubsub })`); `daloy-ws-native/redis` ships
 * one on Redis. A server calls `start` once, `subscribe` when a topic gets its first local
 * subscriber and `unsubscribe` when it loses its last, `publish` for every publish, and `close`
 * when it closes. A broker must not hand a process its own publishes back.
 */
export interface PubSubBroker {
  start(deliver: (topic: string, payload: Uint8Array, isBinary: boolean) => void): void;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  publish(topic: string, payload: Uint8Array, isBinary: boolean): void;
  close(): void | Promise<void>;
}

/** What `publish` and `subscriberCount` of a server handle do. */
export interface TopicPublisher {
  /**
   * Publishes to every subscriber of `topic` on this server and, with a broker, in every
   * process. Returns how many subscribers in this process it was queued for.
   */
  publish(topic: string, data: string | ArrayBufferLike | ArrayBufferView, options?: { binary?: boolean }): number;
  /** How many of this server's connections are subscribed to `topic`. */
  subscriberCount(topic: string): number;
}
