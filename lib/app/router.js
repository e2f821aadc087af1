'use strict';

// Route table of an App's WebSocket routes: static patterns resolve through one Map lookup,
// patterns with `:name` segments through a segment trie. Lookups take the raw (percent-encoded)
// request path; parameter values come back decoded.

const PARAM_NAME = /^[A-Za-z_$][\w$]*$/;

/**
 * Splits a route pattern into segments, rejecting what could never match a request path.
 * @param {string} pattern
 * @returns {string[]}
 */
function patternSegments(pattern) {
  if (typeof pattern !== 'string' || pattern.charCodeAt(0) !== 47 /* / */) {
    throw new TypeError(`app.ws(): path must be a string starting with "/" (got ${describe(pattern)})`);
  }
  if (pattern.includes('?') || pattern.includes('#')) {
    throw new TypeError(`app.ws(): path must not contain a query or a fragment: ${pattern}`);
  }
  const segments = trimSlashes(pattern).split('/');
  if (segments.length === 1 && segments[0] === '') return [];
  const names = new Set();
  for (const segment of segments) {
    if (segment === '') throw new TypeError(`app.ws(): path has an empty segment: ${pattern}`);
    if (segment.charCodeAt(0) === 58 /* : */) {
      const name = segment.slice(1);
      // "__proto__" would set the prototype of ctx.params instead of a property.
      if (!PARAM_NAME.test(name) || name === '__proto__') {
        throw new TypeError(`app.ws(): invalid parameter name "${segment}" in ${pattern}`);
      }
      if (names.has(name)) throw new TypeError(`app.ws(): parameter "${name}" appears twice in ${pattern}`);
      names.add(name);
    }
  }
  return segments;
}

function describe(value) {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value;
}

// "/a/b/" and "/a/b" name the same route; the leading slash is dropped too.
function trimSlashes(path) {
  let end = path.length;
  while (end > 1 && path.charCodeAt(end - 1) === 47) end--;
  return path.slice(1, end);
}

function decodeSegment(segment) {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined; // a malformed escape cannot name anything: no match rather than an error
  }
}

function createNode() {
  return { children: new Map(), param: null, paramName: '', route: null };
}

class RouteTable {
  #static = new Map();
  #root = createNode();
  #routes = [];

  /** Number of routes. */
  get size() {
    return this.#routes.length;
  }

  /** The routes in registration order (a copy). */
  list() {
    return this.#routes.slice();
  }

  /**
   * @param {string} pattern e.g. `/chat/:room`
   * @param {object} route stored as is and returned by `find`
   */
  add(pattern, route) {
    const segments = patternSegments(pattern);
    const isStatic = segments.every((s) => s.charCodeAt(0) !== 58);
    if (isStatic) {
      const key = '/' + segments.join('/');
      if (this.#static.has(key)) throw new Error(`app.ws(): duplicate WebSocket route ${pattern}`);
      this.#static.set(key, route);
    } else {
      let node = this.#root;
      for (const segment of segments) {
        if (segment.charCodeAt(0) === 58) {
          const name = segment.slice(1);
          if (node.param === null) {
            node.param = createNode();
            node.paramName = name;
          } else if (node.paramName !== name) {
            throw new Error(
              `app.ws(): ${pattern} names a parameter ":${name}" where another route has ":${node.paramName}"`,
            );
          }
          node = node.param;
        } else {
          let next = node.children.get(segment);
          if (next === undefined) {
            next = createNode();
            node.children.set(segment, next);
          }
          node = next;
        }
      }
      if (node.route !== null) throw new Error(`app.ws(): duplicate WebSocket route ${pattern}`);
      node.route = route;
    }
    this.#routes.push(route);
  }

  /**
   * Matches a request path (without its query string).
   * @param {string} pathname
   * @returns {{ route: object, params: Record<string, string> } | undefined}
   */
  find(pathname) {
    if (typeof pathname !== 'string' || pathname.charCodeAt(0) !== 47) return undefined;
    const exact = this.#static.get(pathname);
    if (exact !== undefined) return { route: exact, params: {} };
    const trimmed = trimSlashes(pathname);
    const segments = trimmed === '' ? [] : trimmed.split('/');
    for (const segment of segments) {
      // No route has an empty segment; "." and ".." are resolved by clients, never routed.
      if (segment === '' || segment === '.' || segment === '..') return undefined;
    }
    const fromStatic = this.#static.get('/' + trimmed);
    if (fromStatic !== undefined) return { route: fromStatic, params: {} };
    /** @type {Record<string, string>} */
    const params = {};
    const node = walk(this.#root, segments, 0, params);
    if (node === undefined) return undefined;
    return { route: node.route, params };
  }
}

// Depth-first: a static child wins over the parameter at the same position, with backtracking
// so that "/a/:x/c" still matches "/a/b/c" when "/a/b" is also a prefix of another route.
function walk(node, segments, index, params) {
  if (index === segments.length) return node.route !== null ? node : undefined;
  const segment = segments[index];
  const child = node.children.get(segment);
  if (child !== undefined) {
    const found = walk(child, segments, index + 1, params);
    if (found !== undefined) return found;
  }
  if (node.param !== null) {
    const value = decodeSegment(segment);
    if (value !== undefined) {
      params[node.paramName] = value;
      const found = walk(node.param, segments, index + 1, params);
      if (found !== undefined) return found;
      delete params[node.paramName];
    }
  }
  return undefined;
}

module.exports = { RouteTable };
