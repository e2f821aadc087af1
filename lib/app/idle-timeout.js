'use strict';

// A route's idleTimeout, the same rule on every runtime: the timer is not reset on every read (a
// timer update per read); when it fires, it compares the time of the last inbound traffic with the
// limit, and the connection either closes with 1001 or re-arms for the remainder.

/**
 * Milliseconds left before the connection counts as idle, or 0 when it is idle now.
 * @param {number} lastInbound `Date.now()` of the last inbound traffic
 * @param {number} idleMs the route's idleTimeout in milliseconds
 */
function idleRemaining(lastInbound, idleMs) {
  const idle = Date.now() - lastInbound;
  return idle >= idleMs ? 0 : idleMs - idle;
}

/** The close the idle rule sends (RFC 6455 §7.4.1: 1001, the endpoint is going away). */
const IDLE_CLOSE_REASON = 'Idle timeout';

module.exports = { idleRemaining, IDLE_CLOSE_REASON };
