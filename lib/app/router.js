'use strict';

// Route table of an App's WebSocket routes: static patterns resolve through one Map lookup,
// patterns with `:name` segments or a final `*name` segment through a segment trie. Lookups take
// the raw (percent-encoded) request path; parameter values come back decoded. A match has
// DaloyJS's shape: `{ handler, params }`.

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
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment === '') throw new TypeError(`app.ws(): path has an empty segment: ${pattern}`);
    const wildcard = segment.charCodeAt(0) === 42; /* * */
    // A `*` anywhere else would be matched as a literal character, which no one writing it means.
    if (segment.includes('*', wildcard ? 1 : 0) || (wildcard && i !== segments.length - 1)) {
      throw new TypeError(`app.ws(): "*" is only allowed as the whole last segment ("/files/*" or "/files/*rest"): ${pattern}`);
    }
    if (wildcard || segment.charCodeAt(0) === 58 /* : */) {
      // `*` alone names its parameter "wildcard", as DaloyJS does.
      const name = wildcard && segment.length === 1 ? 'wildcard' : segment.slice(1);
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
  return { children: new Map(), param: null, paramName: '', wildcard: null, wildcardName: '', route: null };
}

function isDynamic(segment) {
  const c = segment.charCodeAt(0);
  return c === 58 /* : */ || c === 42 /* * */;
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
   * @param {string} pattern e.g. `/chat/:room`, `/files/*path`
   * @param {object} route stored as is and returned by `find` as `handler`
   */
  add(pattern, route) {
    const segments = patternSegments(pattern);
    const isStatic = !segments.some(isDynamic);
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
        } else if (segment.charCodeAt(0) === 42) {
          const name = segment.length === 1 ? 'wildcard' : segment.slice(1);
          if (node.wildcard === null) {
            node.wildcard = createNode();
            node.wildcardName = name;
          } else if (node.wildcardName !== name) {
            throw new Error(`app.ws(): ${pattern} names a wildcard "*${name}" where another route has "*${node.wildcardName}"`);
          }
          node = node.wildcard;
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
   * @returns {{ handler: object, params: Record<string, string> } | undefined}
   */
  find(pathname) {
    if (typeof pathname !== 'string' || pathname.charCodeAt(0) !== 47) return undefined;
    const exact = this.#static.get(pathname);
    if (exact !== undefined) return { handler: exact, params: {} };
    const trimmed = trimSlashes(pathname);
    const segments = trimmed === '' ? [] : trimmed.split('/');
    for (const segment of segments) {
      // No route has an empty segment; "." and ".." are resolved by clients, never routed.
      if (segment === '' || segment === '.' || segment === '..') return undefined;
    }
    const fromStatic = this.#static.get('/' + trimmed);
    if (fromStatic !== undefined) return { handler: fromStatic, params: {} };
    /** @type {Record<string, string>} */
    const params = {};
    const node = walk(this.#root, segments, 0, params);
    if (node === undefined) return undefined;
    return { handler: node.route, params };
  }
}

// Depth-first: a static child wins over the parameter at the same position, which wins over a
// wildcard, with backtracking so that "/a/:x/c" still matches "/a/b/c" when "/a/b" is also a
// prefix of another route. A wildcard takes one segment or more, decoded and joined with "/".
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
  if (node.wildcard !== null && node.wildcard.route !== null) {
    const parts = [];
    for (let i = index; i < segments.length; i++) {
      const value = decodeSegment(segments[i]);
      if (value === undefined) return undefined;
      parts.push(value);
    }
    params[node.wildcardName] = parts.join('/');
    return node.wildcard;
  }
  return undefined;
}

module.exports = { RouteTable };
