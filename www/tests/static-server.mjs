// A minimal static file server for the end-to-end test (and the browser benchmark): serves www/ and, under /fixtures/,
// the repository's tests/fixtures/ (read-only), on 127.0.0.1 and a free port. Every request
// is recorded so the test can tell what the page downloaded.

import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.fa': 'text/plain; charset=utf-8',
  '.onnx': 'application/octet-stream',
};

// Maps a URL path to a file under one of the roots, or null (never outside a root).
function resolve(roots, urlPath) {
  let path;
  try {
    path = decodeURIComponent(urlPath);
  } catch (_) {
    return null;
  }
  for (const [prefix, dir] of roots) {
    if (!path.startsWith(prefix)) continue;
    const rest = path.slice(prefix.length);
    const rel = normalize(rest.endsWith('/') || rest === '' ? `${rest}index.html` : rest);
    const file = join(dir, rel);
    if (file !== dir && !file.startsWith(dir + sep)) return null;
    return file;
  }
  return null;
}

/// Starts the server. `roots`: [[urlPrefix, directory]], most specific first; `headers`:
/// extra headers on every file (e.g. COOP/COEP for cross-origin isolation).
/// Resolves to {url, requests, overrides, setDown(bool), close()}; `requests` is
/// [{method, path, refused}]; `overrides` maps a URL path to {body, type} served instead of a
/// file; while `setDown(true)` holds, every connection is dropped unanswered (what a client
/// sees of a server it cannot reach), and its requests are recorded with `refused: true`.
export function startServer(roots, { headers = {} } = {}) {
  const requests = [];
  const overrides = new Map();
  let down = false;
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://localhost').pathname;
    requests.push({ method: req.method, path, refused: down });
    if (down) {
      req.socket.destroy();
      return;
    }
    if (overrides.has(path)) {
      const { body, type } = overrides.get(path);
      res.writeHead(200, {
        ...headers,
        'content-type': type,
        'content-length': Buffer.byteLength(body),
        'cache-control': 'no-cache',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    const file = resolve(roots, path);
    let stat = null;
    try {
      stat = file && statSync(file);
    } catch (_) {
      stat = null;
    }
    if (!stat || !stat.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`not found: ${path}\n`);
      return;
    }
    res.writeHead(200, {
      ...headers,
      'content-type': TYPES[extname(file)] || 'application/octet-stream',
      'content-length': stat.size,
      'last-modified': stat.mtime.toUTCString(),
      'cache-control': 'no-cache',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      ok({
        url: `http://127.0.0.1:${port}/`,
        requests,
        overrides,
        setDown: (value) => {
          down = Boolean(value);
        },
        close: () => new Promise((done) => server.close(done)),
      });
    });
  });
}
