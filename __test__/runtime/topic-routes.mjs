// The topic routes of the behavioural suite's server (server.mjs), driven by topics.test.mjs:
// each text message a client sends is a command, `name argument`.

/**
 * @param {import('../../index.mjs').App} app
 * @param {(name: string, ...args: unknown[]) => void} emit
 * @param {() => { publish: Function, subscriberCount: Function }} server what serve() returned
 */
export function addTopicRoutes(app, emit, server) {
  const byTag = new Map();

  const commands = {
    // Ordering on one connection: the sender's own frames around its publish.
    publish(conn, arg) {
      conn.send('before');
      const count = conn.publish(conn.data.room, arg);
      conn.send(`after ${count}`);
    },
    'publish-binary'(conn, arg) {
      conn.publish(conn.data.room, arg, { binary: true });
    },
    'publish-to'(conn, arg) {
      const space = arg.indexOf(' ');
      conn.send(`published ${server().publish(arg.slice(0, space), arg.slice(space + 1))}`);
    },
    // server.publish and app.publish reach the sender too, in order with its sends.
    'server-publish'(conn) {
      const room = conn.data.room;
      conn.send('s1');
      const a = server().publish(room, 'p1');
      conn.send('s2');
      const b = app.publish(room, new TextEncoder().encode('p2'));
      conn.send(`s3 ${a} ${b}`);
    },
    count(conn, arg) {
      conn.send(`count ${server().subscriberCount(arg)}`);
    },
    subscriptions(conn) {
      conn.send(JSON.stringify({ subscriptions: conn.subscriptions, subscribed: conn.isSubscribed(conn.data.room) }));
    },
    unsubscribe(conn) {
      conn.unsubscribe(conn.data.room);
      conn.send(`unsubscribed ${conn.isSubscribed(conn.data.room)}`);
    },
    // Unsubscribes another connection between two publishes.
    'unsubscribe-between'(conn, arg) {
      const room = conn.data.room;
      const one = app.publish(room, 'one');
      byTag.get(arg).unsubscribe(room);
      const two = app.publish(room, 'two');
      conn.send(`between ${one} ${two}`);
    },
    'bad-topics'(conn) {
      const results = [];
      const attempts = [
        () => conn.subscribe(42),
        () => conn.subscribe(''),
        () => conn.subscribe('x'.repeat(1025)),
        () => conn.subscribe('é'.repeat(513)),
        () => conn.subscribe('\ud800'),
        () => conn.publish(null, 'x'),
        () => conn.publish('room', 42),
        () => server().subscriberCount(undefined),
      ];
      for (const attempt of attempts) {
        try {
          attempt();
          results.push('no error');
        } catch (err) {
          results.push(`${err.name}: ${err.message}`);
        }
      }
      conn.subscribe('x'.repeat(1024));
      conn.send(JSON.stringify({ results, subscriptions: conn.subscriptions.length }));
    },
    // Hostile handlers: the limits throw, the error handler hears of it, memory stays bounded.
    'subscribe-flood'(conn) {
      for (let i = 0; i < 100_000; i++) conn.subscribe(`flood-${i}`);
    },
    'huge-topic'(conn) {
      conn.publish('t'.repeat(64 * 1024 * 1024), 'x');
    },
    'close-me'(conn) {
      conn.close(4001, 'bye');
    },
    // Publishes 64 KiB messages to `arg` until `count` were sent, a few per tick.
    flood(conn, arg) {
      const chunk = new Uint8Array(64 * 1024);
      let sent = 0;
      let delivered = 0;
      const tick = () => {
        for (let i = 0; i < 16 && sent < 512; i++, sent++) delivered += server().publish(arg, chunk);
        if (sent < 512) setTimeout(tick, 1);
        else emit('flood-done', arg, delivered, sent, server().subscriberCount(arg));
      };
      tick();
    },
  };

  const closeLogged = (conn, code) => {
    emit('topic-close', conn.data.tag, code, conn.subscriptions.length);
    // A close handler may still publish to the rooms it is leaving (the others hear it).
    if (conn.data.announce) conn.publish(conn.data.room, `left ${conn.data.tag}`);
    byTag.delete(conn.data.tag);
  };

  app.ws('/topic/:room', {
    open(conn, ctx) {
      conn.data = { room: ctx.params.room, tag: ctx.query.tag ?? '', announce: ctx.query.announce === '1' };
      byTag.set(conn.data.tag, conn);
      if (ctx.query.subscribe !== 'no') conn.subscribe(conn.data.room);
      conn.send('ready');
    },
    message(conn, data) {
      const text = String(data);
      const space = text.indexOf(' ');
      const name = space === -1 ? text : text.slice(0, space);
      const command = commands[name];
      if (command === undefined) return conn.send(`unknown ${name}`);
      return command(conn, space === -1 ? '' : text.slice(space + 1));
    },
    error(conn, err) {
      emit('topic-error', conn.data.tag, err.name, err.message);
      conn.send(`error ${err.name}: ${err.message}`);
    },
    close: closeLogged,
  });

  // Subscribers that stop reading: one route closes them at the limit, the other skips them.
  for (const [path, closeOnBackpressureLimit] of [
    ['/topic-slow-close', true],
    ['/topic-slow-skip', false],
  ]) {
    app.ws(path, {
      backpressureLimit: 64 * 1024,
      closeOnBackpressureLimit,
      open(conn, ctx) {
        conn.data = { tag: ctx.query.tag ?? '' };
        conn.subscribe(path.slice(1));
        conn.send('ready');
      },
      close: closeLogged,
    });
  }
}
