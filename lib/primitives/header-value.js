'use strict';

/**
 * One request header's value from a `Headers`-like object (`get(name)`) or a Node
 * `IncomingHttpHeaders` object (lower-case keys; repeated headers arrive as arrays or joined with
 * ", "), or `undefined`.
 * @param {any} headers
 * @param {string} name lower-case
 * @returns {string | undefined}
 */
function headerValue(headers, name) {
  if (headers == null) return undefined;
  if (typeof headers.get === 'function') {
    const value = headers.get(name);
    return value == null ? undefined : String(value);
  }
  const value = headers[name];
  if (value == null) return undefined;
  return Array.isArray(value) ? value.join(', ') : String(value);
}

module.exports = { headerValue };
