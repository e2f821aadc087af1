// Types of `daloy-ws-native/redis`: a topics broker on Redis (node-redis, `@redis/client`).

import type { Logger, PubSubBroker } from './index.js';

/** Options of {@link createRedisBroker}: `url` for one Redis server, or `cluster` for a Redis Cluster. */
export interface RedisBrokerOptions {
  /** One Redis server: `redis://[user:password@]host:port[/db]` (or `rediss://`). */
  url?: string;
  /** A Redis Cluster (sharded pub/sub: SSUBSCRIBE/SPUBLISH): a few of its nodes. */
  cluster?: { rootNodes: { url: string }[] };
  /** Prefix of every channel name (`prefix + topic`). Default: `"daloy-ws:"`. */
  prefix?: string;
  /** SSUBSCRIBE/SPUBLISH instead of SUBSCRIBE/PUBLISH. Default: true with `cluster`, false with `url`. */
  sharded?: boolean;
  /**
   * Bytes of publishes sent to Redis and not yet acknowledged, at most: past it (Redis slower than the
   * publishers) publishes are dropped for other processes and a warning is logged. Default: 16 MiB.
   */
  maxPendingBytes?: number;
  /** Where connection errors are reported (once per outage). Default: stderr. */
  logger?: Logger;
}

/**
 * Carries topic publishes between processes through Redis. Delivery is at most once: while Redis
 * is unreachable, publishes reach this process's subscribers only; the broker reconnects and
 * resubscribes by itself.
 */
export declare class RedisBroker implements PubSubBroker {
  /** This process's id, carried by each message it publishes so that it never delivers its own twice. */
  readonly id: Uint8Array;
  /** Resolves once connected to Redis the first time (after the server started the broker). */
  readonly ready: Promise<void>;
  start(deliver: (topic: string, payload: Uint8Array, isBinary: boolean) => void): void;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  publish(topic: string, payload: Uint8Array, isBinary: boolean): void;
  close(): Promise<void>;
}

/** A topics broker on Redis, for `serve(app, { pubsub })`. Needs `redis` or `@redis/client` installed. */
export declare function createRedisBroker(options: RedisBrokerOptions): RedisBroker;
