// The page's service worker: keeps the page's own files (HTML, JS, CSS, the wasm package) so
// that the page opens and predicts offline after one visit. The model bundles are not handled
// here: worker.js keeps them in their own Cache API store ('texcnn-bundles-*'), checked by digest.
//
// Versioned by the build: www/serve.sh writes pkg/build.js (self.TEXCNN_BUILD = {version,
// files}), a digest of the page's files. A new build changes it, the browser installs this
// worker again, the new version's files are fetched into a cache of their own and the old
// version's cache is deleted when the new one takes over.
//
// Network first: online, every file comes from the server (the HTTP cache revalidates it) and
// the stored copy is refreshed; only when the server cannot be reached is the stored copy used.

importScripts('pkg/build.js');

const BUILD = self.TEXCNN_BUILD;
const PREFIX = 'texcnn-page-';
const CACHE = `${PREFIX}${BUILD.version}`;
const SHELL = ['./', 'index.html', 'main.js', 'worker.js', 'style.css', 'example.fa', 'bundles.json', ...BUILD.files];
const SHELL_URLS = new Set(SHELL.map((path) => new URL(path, self.registration.scope).href));

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((path) => new Request(path, { cache: 'no-cache' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

// The stored key of a request: the page itself for any navigation (its query string, e.g.
// ?backend=cpu, selects options, not another file), else the URL without its query.
function shellKey(request) {
  if (request.mode === 'navigate') return new URL('./', self.registration.scope).href;
  const url = new URL(request.url);
  url.search = '';
  return SHELL_URLS.has(url.href) ? url.href : null;
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const key = shellKey(request);
  if (!key) return; // bundles and anything else: the network, as without this worker
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      try {
        const response = await fetch(request);
        if (response.ok) await cache.put(key, response.clone());
        return response;
      } catch (err) {
        const stored = await cache.match(key);
        if (stored) return stored;
        throw err;
      }
    })(),
  );
});
