'use strict';

// The WHATWG-style layer of `ws`'s WebSocket over its EventEmitter events: `addEventListener`,
// `removeEventListener`, the `onopen`/`onmessage`/`onclose`/`onerror` attributes, and the event
// objects they receive (`ws`'s `doc/ws.md`, "websocket.addEventListener").

const kType = Symbol('daloy-ws-native.ws.type');
const kTarget = Symbol('daloy-ws-native.ws.target');
// The listener a wrapper stands for, and whether it was installed by an `on<event>` attribute.
const kListener = Symbol('daloy-ws-native.ws.listener');
const kForOnEventAttribute = Symbol('daloy-ws-native.ws.on-event-attribute');

class Event {
  constructor(type) {
    this[kTarget] = null;
    this[kType] = type;
  }

  get target() {
    return this[kTarget];
  }

  get type() {
    return this[kType];
  }
}
Object.defineProperty(Event.prototype, 'target', { enumerable: true });
Object.defineProperty(Event.prototype, 'type', { enumerable: true });

class CloseEvent extends Event {
  #code;
  #reason;
  #wasClean;

  constructor(type, options = {}) {
    super(type);
    this.#code = options.code === undefined ? 0 : options.code;
    this.#reason = options.reason === undefined ? '' : options.reason;
    this.#wasClean = options.wasClean === undefined ? false : options.wasClean;
  }

  get code() {
    return this.#code;
  }

  get reason() {
    return this.#reason;
  }

  get wasClean() {
    return this.#wasClean;
  }
}
for (const name of ['code', 'reason', 'wasClean']) Object.defineProperty(CloseEvent.prototype, name, { enumerable: true });

class ErrorEvent extends Event {
  #error;
  #message;

  constructor(type, options = {}) {
    super(type);
    this.#error = options.error === undefined ? null : options.error;
    this.#message = options.message === undefined ? '' : options.message;
  }

  get error() {
    return this.#error;
  }

  get message() {
    return this.#message;
  }
}
for (const name of ['error', 'message']) Object.defineProperty(ErrorEvent.prototype, name, { enumerable: true });

class MessageEvent extends Event {
  #data;

  constructor(type, options = {}) {
    super(type);
    this.#data = options.data === undefined ? null : options.data;
  }

  get data() {
    return this.#data;
  }
}
Object.defineProperty(MessageEvent.prototype, 'data', { enumerable: true });

function callListener(listener, thisArg, event) {
  event[kTarget] = thisArg;
  if (typeof listener === 'object' && listener !== null && typeof listener.handleEvent === 'function') {
    listener.handleEvent.call(listener, event);
  } else {
    listener.call(thisArg, event);
  }
}

// One wrapper per event type: the EventEmitter arguments turned into the event object.
const wrappers = {
  close(handler) {
    return function onClose(code, reason) {
      const event = new CloseEvent('close', {
        code,
        reason: reason.toString(),
        wasClean: this._closeFrameReceived && this._closeFrameSent,
      });
      callListener(handler, this, event);
    };
  },
  error(handler) {
    return function onError(error) {
      callListener(handler, this, new ErrorEvent('error', { error, message: error.message }));
    };
  },
  message(handler) {
    return function onMessage(data, isBinary) {
      callListener(handler, this, new MessageEvent('message', { data: isBinary ? data : data.toString() }));
    };
  },
  open(handler) {
    return function onOpen() {
      callListener(handler, this, new Event('open'));
    };
  },
};

/** The EventTarget methods, mixed into WebSocket.prototype. */
const EventTarget = {
  /**
   * Registers `handler` for `type` ("close", "error", "message" or "open"; other types are
   * ignored). The same handler is registered once; `options.once` removes it after one call.
   */
  addEventListener(type, handler, options = {}) {
    const wrap = Object.hasOwn(wrappers, type) ? wrappers[type] : undefined;
    if (wrap === undefined) return;
    if (!options[kForOnEventAttribute]) {
      for (const listener of this.listeners(type)) {
        if (listener[kListener] === handler && !listener[kForOnEventAttribute]) return;
      }
    }
    const wrapper = wrap(handler);
    wrapper[kForOnEventAttribute] = Boolean(options[kForOnEventAttribute]);
    wrapper[kListener] = handler;
    if (options.once) this.once(type, wrapper);
    else this.on(type, wrapper);
  },

  /** Removes a handler registered with addEventListener. */
  removeEventListener(type, handler) {
    for (const listener of this.listeners(type)) {
      if (listener[kListener] === handler && !listener[kForOnEventAttribute]) {
        this.removeListener(type, listener);
        break;
      }
    }
  },
};

/** Defines the `on<type>` attribute accessors for the four events on `proto`. */
function defineEventAttributes(proto) {
  for (const type of ['open', 'error', 'close', 'message']) {
    Object.defineProperty(proto, `on${type}`, {
      enumerable: true,
      configurable: true,
      get() {
        for (const listener of this.listeners(type)) {
          if (listener[kForOnEventAttribute]) return listener[kListener];
        }
        return null;
      },
      set(handler) {
        for (const listener of this.listeners(type)) {
          if (listener[kForOnEventAttribute]) {
            this.removeListener(type, listener);
            break;
          }
        }
        if (typeof handler !== 'function') return;
        this.addEventListener(type, handler, { [kForOnEventAttribute]: true });
      },
    });
  }
}

module.exports = { Event, CloseEvent, ErrorEvent, MessageEvent, EventTarget, defineEventAttributes };
