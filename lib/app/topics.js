'use strict';

// Topics: publish/subscribe between the connections of one server, with Bun's names and semantics
// (`conn.subscribe(topic)`, `conn.publish(topic, data)`, `server.publish(topic, data)`), the same on
// every runtime. The registry keeps who is subscribed to what; how a message reaches the subscribers
// is the wiring's (a "fan-out": on Node the frame is built once and the same bytes are written to every
// socket, on Bun the runtime's native publish, on Deno one send per subscriber). With a broker
// (`serve(app, { pubsub })`), publishes also travel to other processes, and a process joins a topic's
// channel while it has local subscribers to it.

const { Buffer, isUtf8 } = require('node:buffer');
const { bytesOf } = require('./payload.js');
const { log } = require('./logger.js');
const { WS_READY_STATE } = require('../primitives/constants.js');

const { OPEN } = WS_READY_STATE;

/** Longest topic name, in UTF-8 bytes: a name is a key in a map per server and a broker channel. */
const MAX_TOPIC_BYTES = 1024;
/** Default of the route option `maxTopicsPerConnection`. */
const DEFAULT_MAX_TOPICS_PER_CONNECTION = 1024;

// With the `u` flag a surrogate pair is one code point: only a lone surrogate matches.
const LONE_SURROGATE = /\p{Cs}/u;

/** Throws a TypeError or RangeError naming `fn` unless `topic` is a valid topic name. */
function checkTopic(topic, fn) {
  if (typeof topic !== 'string') throw new TypeError(`${fn}: topic must be a string (got ${topic === null ? 'null' : typeof topic})`);
  if (topic.length === 0) throw new RangeError(`${fn}: topic must not be empty`);
  // Checked on UTF-16 length first, so a huge string is refused without encoding it.
  if (topic.length > MAX_TOPIC_BYTES || (topic.length * 3 > MAX_TOPIC_BYTES && Buffer.byteLength(topic, 'utf8') > MAX_TOPIC_BYTES)) {
    throw new RangeError(`${fn}: topic must be at most ${MAX_TOPIC_BYTES} bytes of UTF-8`);
  }
  // A lone surrogate has no UTF-8 form: two such names would meet as one channel on a broker.
  if (LONE_SURROGATE.test(topic)) throw new TypeError(`${fn}: topic must be well-formed Unicode (it has a lone surrogate)`);
}

/**
 * The payload of a publish: a string is TEXT unless `{ binary: true }`; bytes are BINARY.
 * @returns {{ payload: string | Uint8Array, isBinary: boolean }}
 */
function publishPayload(data, options, fn) {
  if (typeof data === 'string') return { payload: data, isBinary: options != null && options.binary === true };
  return { payload: bytesOf(data, fn), isBinary: true };
}

/**
 * The subscriptions of one server: topic -> the set of its subscribed connections.
 * `fanOut` is the wiring's delivery:
 *   encode(payload, isBinary)  the message as the wiring sends it (built once per publish)
 *   bytes(message)             its payload bytes, for the broker
 *   decode(bytes, isBinary)    a message from a broker's bytes
 *   deliver(topic, subscribers, except, message) -> how many subscribers it was queued for
 *   joined?(conn, topic), left?(conn, topic)  (Bun: the runtime's own subscriptions)
 */
class TopicRegistry {
  #subscribers = new Map();
  #fanOut;
  #broker = null;
  #host;

  /**
   * @param {object} fanOut
   * @param {{ logger: object }} host where a failing broker call is logged
   */
  constructor(fanOut, host) {
    this.#fanOut = fanOut;
    this.#host = host;
  }

  /** Uses `broker` to reach other processes; it calls back with their publishes. */
  useBroker(broker) {
    checkBroker(broker);
    this.#broker = broker;
    broker.start((topic, bytes, isBinary) => this.#deliverRemote(topic, bytes, isBinary));
  }

  /** Closes the broker, if any (the server is closing). */
  closeBroker() {
    const broker = this.#broker;
    if (broker === null) return Promise.resolve();
    this.#broker = null;
    return Promise.resolve()
      .then(() => broker.close())
      .catch((err) => log(this.#host.logger, 'error', { err }, 'Topics broker close failed'));
  }

  /** How many connections of this server are subscribed to `topic`. */
  subscriberCount(topic) {
    checkTopic(topic, 'subscriberCount()');
    const set = this.#subscribers.get(topic);
    return set === undefined ? 0 : set.size;
  }

  /**
   * Publishes to every subscriber of `topic` but `except` (a connection, or null), and through the
   * broker to other processes. Returns how many local subscribers it was queued for.
   */
  publish(topic, data, options, except, fn) {
    checkTopic(topic, fn);
    const { payload, isBinary } = publishPayload(data, options, fn);
    const subscribers = this.#subscribers.get(topic);
    const broker = this.#broker;
    if (subscribers === undefined && broker === null) return 0;
    const fanOut = this.#fanOut;
    const message = fanOut.encode(payload, isBinary);
    let count = 0;
    if (subscribers !== undefined) count = fanOut.deliver(topic, subscribers, except, message);
    if (broker !== null) {
      // At most once: a broker that fails loses this message for other processes, never the local one.
      try {
        broker.publish(topic, fanOut.bytes(message), isBinary);
      } catch (err) {
        log(this.#host.logger, 'error', { err, topic }, 'Topics broker publish failed');
      }
    }
    return count;
  }

  #deliverRemote(topic, bytes, isBinary) {
    const subscribers = this.#subscribers.get(topic);
    if (subscribers === undefined) return;
    // A TEXT message must be UTF-8 (RFC 6455 §8.1); anything on the channel could have sent this one.
    if (!isBinary && !isUtf8(bytes)) {
      log(this.#host.logger, 'error', { topic }, 'Topics broker delivered a text message that is not UTF-8; dropped');
      return;
    }
    this.#fanOut.deliver(topic, subscribers, null, this.#fanOut.decode(bytes, isBinary));
  }

  /** @internal TopicMember's half: adds `conn` to `topic`'s subscribers. */
  join(conn, topic) {
    let set = this.#subscribers.get(topic);
    if (set === undefined) {
      set = new Set();
      this.#subscribers.set(topic, set);
      // The first local subscriber: this process now wants the topic's remote traffic.
      if (this.#broker !== null) this.#brokerCall('subscribe', topic);
    }
    set.add(conn);
    if (this.#fanOut.joined !== undefined) this.#fanOut.joined(conn, topic);
  }

  /** @internal TopicMember's half: removes `conn` from `topic`'s subscribers. */
  leave(conn, topic) {
    const set = this.#subscribers.get(topic);
    if (set === undefined || !set.delete(conn)) return;
    if (this.#fanOut.left !== undefined) this.#fanOut.left(conn, topic);
    if (set.size > 0) return;
    this.#subscribers.delete(topic);
    if (this.#broker !== null) this.#brokerCall('unsubscribe', topic);
  }

  #brokerCall(method, topic) {
    try {
      this.#broker[method](topic);
    } catch (err) {
      log(this.#host.logger, 'error', { err, topic }, `Topics broker ${method} failed`);
    }
  }
}

function checkBroker(broker) {
  if (broker === null || typeof broker !== 'object') throw new TypeError('serve(): pubsub must be a broker object');
  for (const method of ['start', 'publish', 'subscribe', 'unsubscribe', 'close']) {
    if (typeof broker[method] !== 'function') throw new TypeError(`serve(): pubsub must have a ${method}() method`);
  }
}

/** Called by a connection when it closes: it leaves every topic. */
const kLeaveTopics = Symbol('daloy-ws-native.leaveTopics');

/**
 * The topic half of a connection, the base class of the Node and the Bun/Deno connection:
 * subscribe, unsubscribe, isSubscribed, subscriptions and publish, with Bun's names. A closing or
 * closed connection (readyState other than OPEN) subscribes to nothing, as on Bun.
 */
class TopicMember {
  #registry;
  #max;
  #topics = null;

  /**
   * @param {TopicRegistry} registry the server's
   * @param {number} max the route's maxTopicsPerConnection
   */
  constructor(registry, max) {
    this.#registry = registry;
    this.#max = max;
  }

  /**
   * The connection's WHATWG ready state: each connection class defines its own.
   * @returns {number}
   */
  get readyState() {
    return OPEN;
  }

  /** Subscribes to `topic` (ignored once the connection is closing). */
  subscribe(topic) {
    checkTopic(topic, 'subscribe()');
    if (this.readyState !== OPEN) return;
    let topics = this.#topics;
    if (topics === null) topics = this.#topics = new Set();
    else if (topics.has(topic)) return;
    if (topics.size >= this.#max) {
      throw new RangeError(`subscribe(): a connection may subscribe to at most ${this.#max} topics (maxTopicsPerConnection)`);
    }
    topics.add(topic);
    this.#registry.join(this, topic);
  }

  /** Leaves `topic`; a topic not subscribed is ignored. */
  unsubscribe(topic) {
    checkTopic(topic, 'unsubscribe()');
    if (this.#topics === null || !this.#topics.delete(topic)) return;
    this.#registry.leave(this, topic);
  }

  isSubscribed(topic) {
    checkTopic(topic, 'isSubscribed()');
    return this.#topics !== null && this.#topics.has(topic);
  }

  /** The topics, in subscription order (a new array). */
  get subscriptions() {
    return this.#topics === null ? [] : [...this.#topics];
  }

  /** Publishes to every subscriber of `topic` but this connection; returns how many it was queued for here. */
  publish(topic, data, options) {
    return this.#registry.publish(topic, data, options, this, 'publish()');
  }

  [kLeaveTopics]() {
    const topics = this.#topics;
    if (topics === null) return;
    this.#topics = null;
    for (const topic of topics) this.#registry.leave(this, topic);
  }
}

/**
 * The walk of a fan-out over the subscribers but `except`: `queue(conn, message)` answers 1
 * (queued), 0 (not open, or skipped over its backpressure limit) or -1 (over the limit, to be
 * closed). Those to be closed are closed with `closeOverLimit(conn)` after the walk, so no handler
 * runs while the set is iterated. Returns how many it was queued for.
 */
function deliverEach(subscribers, except, message, queue, closeOverLimit) {
  let count = 0;
  let overLimit = null;
  for (const conn of subscribers) {
    if (conn === except) continue;
    const verdict = queue(conn, message);
    if (verdict === 1) count++;
    else if (verdict === -1) (overLimit ??= []).push(conn);
  }
  if (overLimit !== null) for (const conn of overLimit) closeOverLimit(conn);
  return count;
}

/**
 * A publish's message on a wiring that frames it itself (Node): the uncompressed frame, written as is
 * to every subscriber without permessage-deflate, and the other forms of it that subscribers need,
 * each made once per publish and shared by every subscriber that needs the same bytes. With
 * permessage-deflate that is one compressed frame per distinct agreement (window bits and level) of
 * the subscribers without context takeover on the server's side; a subscriber whose compressor keeps
 * its window compresses for itself (`payload` gives it the bytes, encoded once).
 */
class Publication {
  #variants = null;

  /**
   * @param {Uint8Array} frame the whole uncompressed frame
   * @param {number} payloadAt where its payload starts
   * @param {number} opcode TEXT or BINARY
   */
  constructor(frame, payloadAt, opcode) {
    this.frame = frame;
    this.payloadAt = payloadAt;
    this.opcode = opcode;
  }

  /** The payload bytes (a view into the frame). */
  get payload() {
    return this.frame.subarray(this.payloadAt);
  }

  /** The payload's length in bytes. */
  get length() {
    return this.frame.length - this.payloadAt;
  }

  /**
   * The form of this message under `key`, made by `make(publication, arg)` on the first call for that
   * key and the same object on every later call.
   */
  variant(key, make, arg) {
    let variants = this.#variants;
    if (variants === null) variants = this.#variants = new Map();
    let value = variants.get(key);
    if (value === undefined) {
      value = make(this, arg);
      variants.set(key, value);
    }
    return value;
  }
}

/** A route's maxTopicsPerConnection: a positive integer, or the default. */
function maxTopicsOption(value) {
  if (value === undefined) return DEFAULT_MAX_TOPICS_PER_CONNECTION;
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`app.ws(): maxTopicsPerConnection must be a positive integer (got ${String(value)})`);
  }
  return value;
}

/**
 * What a server handle (serve(), attach() on Node; serve() on Bun and Deno) offers of its topics.
 * @param {{ publish(topic: string, data: unknown, options: unknown): number, topics: TopicRegistry }} host
 */
function topicMethods(host) {
  return {
    /** Publishes to every subscriber of `topic` (and, with `pubsub`, in every process). */
    publish: (topic, data, options) => host.publish(topic, data, options),
    /** How many of this server's connections are subscribed to `topic`. */
    subscriberCount: (topic) => host.topics.subscriberCount(topic),
  };
}

module.exports = {
  TopicRegistry,
  Publication,
  topicMethods,
  TopicMember,
  kLeaveTopics,
  deliverEach,
  checkTopic,
  publishPayload,
  maxTopicsOption,
  MAX_TOPIC_BYTES,
  DEFAULT_MAX_TOPICS_PER_CONNECTION,
};
