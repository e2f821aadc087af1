// Topics: the connection's, the server handle's and the app's publish, and a broker.
import { App, type PubSubBroker } from 'daloy-ws-native';
import { serve } from 'daloy-ws-native/node';
import { createRedisBroker, type RedisBroker } from 'daloy-ws-native/redis';

const app = new App();
app.ws('/chat/:room', {
  maxTopicsPerConnection: 16,
  open(conn, ctx) {
    conn.subscribe(ctx.params.room);
    const subscribed: boolean = conn.isSubscribed(ctx.params.room);
    const topics: string[] = conn.subscriptions;
    void subscribed;
    void topics;
  },
  message(conn, data) {
    const queued: number = conn.publish('room', typeof data === 'string' ? data : new Uint8Array(0), { binary: false });
    void queued;
  },
  close(conn) {
    conn.unsubscribe('room');
  },
});

const broker: PubSubBroker = {
  start(deliver) {
    deliver('room', new Uint8Array(1), true);
  },
  subscribe() {},
  unsubscribe() {},
  publish(_topic: string, _payload: Uint8Array, _isBinary: boolean) {},
  close: async () => {},
};
const server = serve(app, { port: 0, pubsub: broker });
const local: number = server.publish('room', 'hello') + app.publish('room', new ArrayBuffer(2)) + server.subscriberCount('room');
void local;
// @ts-expect-error a topic is a string
server.publish(42, 'x');

const redis: RedisBroker = createRedisBroker({ url: 'redis://127.0.0.1:6390', prefix: 'app:' });
const clustered = createRedisBroker({ cluster: { rootNodes: [{ url: 'redis://127.0.0.1:7000' }] }, sharded: true });
serve(app, { port: 0, pubsub: redis });
const ready: Promise<void> = clustered.ready;
void ready;
// @ts-expect-error the prefix is a string
createRedisBroker({ url: 'redis://127.0.0.1:6390', prefix: 1 });
