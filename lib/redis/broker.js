'use strict';

// A topics broker on Redis (`serve(app, { pubsub: createRedisBroker({ url }) })`): every process
// serving the app publishes each topic message to a Redis channel, and subscribes to a topic's channel
// while it has local subscribers to the topic (lib/app/topics.js calls subscribe/unsubscribe on the
// first and last one). Redis PUB/SUB on one server; sharded pub/sub (SSUBSCRIBE/SPUBLISH) on a Redis
// Cluster, where a channel lives on the shard of its hash slot. The client is node-redis
// (`@redis/client`, an optional peer dependency), which reconnects and resubscribes by itself.
//
// Delivery is at most once: Redis PUB/SUB keeps nothing for a process that is not connected, and a
// publish made while Redis is unreachable reaches this process's subscribers only (the client's
// offline queue is off, so an outage cannot grow memory).
//
// A message on a channel is an envelope: [version 1][flags: bit 0 = binary][16-byte process id][payload].
// The id lets a process drop its own publishes, which its subscribers already got locally.

const { randomBytes } = require('node:crypto');
const { Buffer } = require('node:buffer');
const { defaultLogger, log, isLogger } = require('../app/logger.js');

const VERSION = 1;
const ID_BYTES = 16;
const HEADER_BYTES = 2 + ID_BYTES;
const FLAG_BINARY = 1;
// Default bound on the bytes of publishes sent to Redis and not yet acknowledged: a Redis slower
// than the publishers drops messages past it (at most once) instead of growing this process's memory.
const DEFAULT_MAX_PENDING_BYTES = 16 * 1024 * 1024;
// Reconnection: 50 ms, 100 ms, ... at most 2 s between attempts, forever.
const RECONNECT_MAX_MS = 2000;

function reconnectStrategy(retries) {
  return Math.min(50 * (retries + 1), RECONNECT_MAX_MS);
}

function loadClient() {
  try {
    return require('@redis/client');
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND') {
      throw new Error('daloy-ws-native/redis needs the Redis client: npm install redis (or @redis/client)');
    }
    throw err;
  }
}

function checkOptions(options) {
  if (options === null || typeof options !== 'object') throw new TypeError('createRedisBroker(): options must be an object');
  const { url, cluster, prefix = 'daloy-ws:', logger } = options;
  if ((url === undefined) === (cluster === undefined)) {
    throw new TypeError('createRedisBroker(): give either url (one Redis server) or cluster (a Redis Cluster)');
  }
  if (url !== undefined && typeof url !== 'string') throw new TypeError('createRedisBroker(): url must be a string (redis://host:port)');
  if (cluster !== undefined) {
    if (cluster === null || typeof cluster !== 'object' || !Array.isArray(cluster.rootNodes) || cluster.rootNodes.length === 0) {
      throw new TypeError('createRedisBroker(): cluster must be { rootNodes: [{ url }, ...] }');
    }
  }
  if (typeof prefix !== 'string') throw new TypeError('createRedisBroker(): prefix must be a string');
  if (logger !== undefined && !isLogger(logger)) throw new TypeError('createRedisBroker(): logger must have an error(fields, message) method');
  const sharded = options.sharded ?? cluster !== undefined;
  if (typeof sharded !== 'boolean') throw new TypeError('createRedisBroker(): sharded must be a boolean');
  const maxPendingBytes = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
  if (!Number.isInteger(maxPendingBytes) || maxPendingBytes <= 0) {
    throw new RangeError('createRedisBroker(): maxPendingBytes must be a positive integer');
  }
  return { url, cluster, prefix, logger: logger ?? defaultLogger, sharded, maxPendingBytes };
}

/** A broker (lib/app/topics.js's interface) over Redis PUB/SUB or sharded pub/sub. */
class RedisBroker {
  /** This process's id in every message it publishes. */
  id = randomBytes(ID_BYTES);
  #prefix;
  #logger;
  #sharded;
  #publisher;
  #subscriber;
  #deliver = null;
  // topic -> its channel listener, while subscribed.
  #listeners = new Map();
  #ready;
  #closed = false;
  // Whether the last publish failed: an outage is logged once, not once per message.
  #failing = false;
  #maxPendingBytes;
  #pendingBytes = 0;
  #overflowing = false;

  /**
   * @param {{ url?: string, cluster?: { rootNodes: { url: string }[] }, prefix?: string,
   *   sharded?: boolean, maxPendingBytes?: number, logger?: object }} options
   */
  constructor(options) {
    const opts = checkOptions(options);
    const redis = loadClient();
    this.#prefix = opts.prefix;
    this.#logger = opts.logger;
    this.#sharded = opts.sharded;
    this.#maxPendingBytes = opts.maxPendingBytes;
    // No offline queue: a publish while Redis is unreachable fails at once instead of piling up.
    const settings = { disableOfflineQueue: true, socket: { reconnectStrategy } };
    if (opts.cluster !== undefined) {
      // One cluster object: node-redis keeps a pub/sub connection per shard for SSUBSCRIBE.
      this.#publisher = redis.createCluster({ rootNodes: opts.cluster.rootNodes, defaults: settings });
      this.#subscriber = this.#publisher;
    } else {
      this.#publisher = redis.createClient({ url: opts.url, ...settings });
      // A connection in subscriber mode runs no other command.
      this.#subscriber = this.#publisher.duplicate();
    }
    for (const client of new Set([this.#publisher, this.#subscriber])) {
      client.on('error', (err) => this.#onError(err));
      if (typeof client.on === 'function') client.on('ready', () => this.#onReady());
    }
    this.#ready = null;
  }

  /** Resolves once both connections to Redis are up (the first time). */
  get ready() {
    return this.#ready ?? Promise.reject(new Error('RedisBroker: not started'));
  }

  /** The server's side: where messages from other processes go. Connects to Redis. */
  start(deliver) {
    if (this.#deliver !== null) throw new Error('RedisBroker: already started; use one broker per server');
    this.#deliver = deliver;
    const clients = [...new Set([this.#publisher, this.#subscriber])];
    this.#ready = Promise.all(clients.map((client) => client.connect())).then(() => undefined);
    this.#ready.catch((err) => this.#onError(err));
  }

  subscribe(topic) {
    if (this.#closed || this.#listeners.has(topic)) return;
    const listener = (message) => this.#onMessage(topic, message);
    this.#listeners.set(topic, listener);
    const channel = this.#prefix + topic;
    const done = this.#sharded ? this.#subscriber.sSubscribe(channel, listener, true) : this.#subscriber.subscribe(channel, listener, true);
    done.catch((err) => this.#onError(err));
  }

  unsubscribe(topic) {
    const listener = this.#listeners.get(topic);
    if (listener === undefined || this.#closed) return;
    this.#listeners.delete(topic);
    const channel = this.#prefix + topic;
    const done = this.#sharded ? this.#subscriber.sUnsubscribe(channel, listener, true) : this.#subscriber.unsubscribe(channel, listener, true);
    done.catch((err) => this.#onError(err));
  }

  publish(topic, payload, isBinary) {
    if (this.#closed) return;
    const size = HEADER_BYTES + payload.length;
    if (this.#pendingBytes + size > this.#maxPendingBytes) {
      if (!this.#overflowing) {
        this.#overflowing = true;
        log(this.#logger, 'warn', { pendingBytes: this.#pendingBytes }, 'Redis broker: Redis is behind, publishes dropped for other processes (maxPendingBytes)');
      }
      return;
    }
    this.#overflowing = false;
    this.#pendingBytes += size;
    const message = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
    message[0] = VERSION;
    message[1] = isBinary ? FLAG_BINARY : 0;
    this.id.copy(message, 2);
    message.set(payload, HEADER_BYTES);
    const channel = this.#prefix + topic;
    const done = this.#sharded ? this.#publisher.sPublish(channel, message) : this.#publisher.publish(channel, message);
    done.then(
      () => {
        this.#pendingBytes -= size;
        this.#failing = false;
      },
      (err) => {
        this.#pendingBytes -= size;
        if (this.#failing) return;
        this.#failing = true;
        log(this.#logger, 'warn', { err }, 'Redis broker: publish failed, remote subscribers miss messages until Redis is back');
      },
    );
  }

  /** Leaves every channel and closes the connections. */
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    const clients = [...new Set([this.#subscriber, this.#publisher])];
    await Promise.all(
      clients.map((client) =>
        client.isOpen
          ? client.close().catch(() => client.destroy())
          : Promise.resolve().then(() => {
              // Still trying to connect: stop the attempts.
              if (typeof client.destroy === 'function') client.destroy();
            }),
      ),
    ).catch(() => {});
  }

  #onMessage(topic, message) {
    if (!Buffer.isBuffer(message) || message.length < HEADER_BYTES || message[0] !== VERSION) {
      log(this.#logger, 'error', { topic }, 'Redis broker: dropped a message that is not from daloy-ws-native');
      return;
    }
    // Our own publish: this process's subscribers had it when it was published.
    if (this.id.equals(message.subarray(2, HEADER_BYTES))) return;
    if (this.#deliver !== null && !this.#closed) this.#deliver(topic, message.subarray(HEADER_BYTES), (message[1] & FLAG_BINARY) !== 0);
  }

  #onError(err) {
    if (this.#closed) return;
    if (this.#failing) return;
    this.#failing = true;
    log(this.#logger, 'warn', { err }, 'Redis broker: connection error, reconnecting');
  }

  #onReady() {
    if (this.#failing) log(this.#logger, 'info', {}, 'Redis broker: connected');
    this.#failing = false;
  }
}

/**
 * A topics broker on Redis, for `serve(app, { pubsub })`.
 * @param {{ url?: string, cluster?: { rootNodes: { url: string }[] }, prefix?: string,
 *   sharded?: boolean, maxPendingBytes?: number, logger?: object }} options `url` for one server,
 *   `cluster` for a Redis Cluster (sharded pub/sub); `prefix` of every channel (default "daloy-ws:");
 *   `sharded` forces SSUBSCRIBE/SPUBLISH on one server (Redis 7) or plain PUB/SUB on a cluster;
 *   `maxPendingBytes` bounds the publishes Redis has not acknowledged yet (default 16 MiB).
 */
function createRedisBroker(options) {
  return new RedisBroker(options);
}

module.exports = { createRedisBroker, RedisBroker };
