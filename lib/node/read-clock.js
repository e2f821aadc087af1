'use strict';

// The time of a socket read, for the idle timeout (lib/app/idle-timeout.js): read once per turn of
// Node's loop, not once per read. The reads of every ready connection run one after another in the
// loop's poll phase; the first takes Date.now() and the others reuse it until the check phase that
// follows. Node's timers date themselves the same way (libuv's loop time, taken once per turn), so
// the idle timeout keeps its precision: a read is dated at most one poll phase early.

let now = 0;
let fresh = false;

function expire() {
  fresh = false;
}

/** Date.now(), taken at most once per turn of the loop. */
function readTime() {
  if (!fresh) {
    now = Date.now();
    fresh = true;
    setImmediate(expire);
  }
  return now;
}

module.exports = { readTime };
