'use strict';

// A WebSocket route's options: DaloyJS's defaults and validation (the same messages, plain
// `Error`), its production guards under `secureDefaults`, and this package's additions
// (`maxFragments`, the timer ceiling of `idleTimeout`, `maxPayloadLength: Infinity`).

const {
  DEFAULT_WS_BACKPRESSURE_LIMIT,
  DEFAULT_WS_MAX_PAYLOAD_LENGTH,
  DEFAULT_WS_IDLE_TIMEOUT_SECONDS,
  DEFAULT_WS_MAX_FRAGMENTS,
} = require('../primitives/constants.js');
const { deflateOption } = require('./deflate-option.js');
const { maxTopicsOption } = require('./topics.js');

// setTimeout's ceiling in seconds: a longer idle timeout would fire at once.
const MAX_IDLE_TIMEOUT_SECONDS = 2147483;

function positiveInteger(name, value) {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`app.ws(): ${name} must be a positive integer.`);
}

function boolean(name, value) {
  if (typeof value !== 'boolean') throw new Error(`app.ws(): ${name} must be a boolean.`);
}

function checkOriginPolicy(policy) {
  if (policy === undefined || policy === 'same-origin' || typeof policy === 'function') return;
  if (!Array.isArray(policy)) {
    throw new Error('app.ws(): allowedOrigins must be "same-origin", an array of origin strings, or a predicate function.');
  }
  for (const origin of policy) {
    if (typeof origin !== 'string' || origin.length === 0) {
      throw new Error('app.ws(): allowedOrigins entries must be non-empty origin strings.');
    }
  }
}

function refusedInProduction(what, instead) {
  return new Error(
    `app.ws(): ${what} is refused in production under secureDefaults. ` +
      `${instead} or pass app({ secureDefaults: false }) only for a reviewed deployment.`,
  );
}

/**
 * A route's limits with DaloyJS's defaults applied; throws a plain `Error` with DaloyJS's message
 * on a value DaloyJS refuses. `context` is the App's environment (DaloyJS's second argument); without
 * it, development with secureDefaults, as DaloyJS's registry assumes.
 * @param {object} handler
 * @param {{ production?: boolean, secureDefaults?: boolean }} [context]
 */
function normalizeWebSocketOptions(handler, context) {
  if (handler === null || typeof handler !== 'object') {
    throw new TypeError('normalizeWebSocketOptions(): handler must be an object');
  }
  const guarded = context !== undefined && context !== null && context.production === true && context.secureDefaults !== false;
  const closeOnBackpressureLimit = handler.closeOnBackpressureLimit ?? true;
  const backpressureLimit = handler.backpressureLimit ?? DEFAULT_WS_BACKPRESSURE_LIMIT;
  const perMessageDeflate = handler.perMessageDeflate ?? false;
  const idleTimeout = handler.idleTimeout ?? DEFAULT_WS_IDLE_TIMEOUT_SECONDS;
  const maxPayloadLength = handler.maxPayloadLength ?? DEFAULT_WS_MAX_PAYLOAD_LENGTH;
  const maxFragments = handler.maxFragments ?? DEFAULT_WS_MAX_FRAGMENTS;
  positiveInteger('backpressureLimit', backpressureLimit);
  if (idleTimeout === 0) {
    // Bun reads 0 as "no idle timeout"; DaloyJS refuses it, and so does this package: a connection
    // that never times out is a choice to spell out, with the longest timeout.
    throw new Error(
      `app.ws(): idleTimeout must be a positive integer. 0 does not disable the idle timer; the longest is ${MAX_IDLE_TIMEOUT_SECONDS} seconds.`,
    );
  }
  positiveInteger('idleTimeout', idleTimeout);
  if (idleTimeout > MAX_IDLE_TIMEOUT_SECONDS) {
    throw new Error(`app.ws(): idleTimeout must be at most ${MAX_IDLE_TIMEOUT_SECONDS} seconds.`);
  }
  // Infinity means what it means to FrameSink: no limit beyond RFC 6455's own (2^53 - 1 per frame).
  if (maxPayloadLength !== Infinity) positiveInteger('maxPayloadLength', maxPayloadLength);
  positiveInteger('maxFragments', maxFragments);
  boolean('closeOnBackpressureLimit', closeOnBackpressureLimit);
  // A boolean, as in DaloyJS, or this package's options object (lib/app/deflate-option.js).
  if (typeof perMessageDeflate === 'object' && perMessageDeflate !== null && !Array.isArray(perMessageDeflate)) {
    deflateOption(perMessageDeflate);
  } else {
    boolean('perMessageDeflate', perMessageDeflate);
  }
  checkOriginPolicy(handler.allowedOrigins);
  if (guarded && perMessageDeflate !== false) throw refusedInProduction('perMessageDeflate: true', 'Leave it false');
  if (guarded && maxPayloadLength === Infinity) throw refusedInProduction('maxPayloadLength: Infinity', 'Give a finite limit');
  const maxTopicsPerConnection = maxTopicsOption(handler.maxTopicsPerConnection);
  return {
    closeOnBackpressureLimit,
    backpressureLimit,
    perMessageDeflate,
    idleTimeout,
    maxPayloadLength,
    maxFragments,
    maxTopicsPerConnection,
  };
}

/**
 * DaloyJS's refusals at `app.ws()` time in production under secureDefaults: a route must decide
 * before the 101 (beforeUpgrade) and guard against Cross-Site WebSocket Hijacking (allowedOrigins),
 * or acknowledge that it does not.
 * @param {string} path
 * @param {object} handler
 * @param {{ production: boolean, secureDefaults: boolean }} context
 */
function checkProductionGuards(path, handler, context) {
  if (!context.production || !context.secureDefaults) return;
  const route = `app.ws(${JSON.stringify(path)}): production WebSocket routes must `;
  if (handler.beforeUpgrade === undefined && handler.acknowledgeUnauthenticated !== true) {
    throw new Error(
      route +
        'authenticate or reject clients before the RFC 6455 upgrade. Add a beforeUpgrade hook for ' +
        'authenticated routes, or pass { acknowledgeUnauthenticated: true } for an intentionally public route.',
    );
  }
  if (handler.allowedOrigins === undefined && handler.acknowledgeCrossOriginUpgrade !== true) {
    throw new Error(
      route +
        'guard against Cross-Site WebSocket Hijacking (CSWSH). Set { allowedOrigins: "same-origin" } or an ' +
        'explicit origin allowlist, or pass { acknowledgeCrossOriginUpgrade: true } for an intentionally public route.',
    );
  }
}

/**
 * The App's environment, as DaloyJS decides it: production is `env === "production"` when `env`
 * is given, else the `production` option, else `NODE_ENV === "production"`; secureDefaults is on
 * unless `false`, which production refuses without `acknowledgeInsecureDefaults: true`.
 * @param {{ env?: string, production?: boolean, secureDefaults?: boolean, acknowledgeInsecureDefaults?: boolean }} options
 */
function resolveEnvironment(options) {
  if (options.env !== undefined && options.env !== 'development' && options.env !== 'production' && options.env !== 'test') {
    throw new TypeError('App: env must be "development", "production" or "test"');
  }
  for (const name of ['production', 'secureDefaults', 'acknowledgeInsecureDefaults']) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') throw new TypeError(`App: ${name} must be a boolean`);
  }
  let production;
  if (options.env !== undefined) production = options.env === 'production';
  else if (options.production !== undefined) production = options.production;
  else production = nodeEnv() === 'production';
  const secureDefaults = options.secureDefaults !== false;
  if (production && !secureDefaults && options.acknowledgeInsecureDefaults !== true) {
    throw new Error(
      'app({ secureDefaults: false }) is refused in production. It turns off the production guards of ' +
        'WebSocket routes (beforeUpgrade or acknowledgeUnauthenticated, allowedOrigins or ' +
        'acknowledgeCrossOriginUpgrade, no perMessageDeflate). If you really need this in production, also ' +
        'pass acknowledgeInsecureDefaults: true to confirm.',
    );
  }
  return { production, secureDefaults };
}

function nodeEnv() {
  try {
    return typeof process === 'object' && process !== null ? process.env.NODE_ENV : undefined;
  } catch {
    return undefined; // Deno without --allow-env
  }
}

module.exports = { normalizeWebSocketOptions, checkProductionGuards, resolveEnvironment, MAX_IDLE_TIMEOUT_SECONDS };
