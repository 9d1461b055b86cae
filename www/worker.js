// The web worker: owns the wasm module and the model, so the page never freezes.
//
// Messages in:  {type: 'load', url?, bytes?, name, backend: 'auto'|'webgpu'|'cpu'}
//               {type: 'parse', text, seq}
//               {type: 'predict', text, seq}
//               {type: 'cancel'}
//               {type: 'tokens', residues, start, end}
// Messages out: {type: 'load-progress', loaded, total}
//               {type: 'ready', backend, card, outputs, fromCache, name, seconds}
//               {type: 'parsed', seq, records, errors}
//               {type: 'progress', seq, done, total, record}
//               {type: 'result', seq, result}
//               {type: 'record-error', seq, id, message}
//               {type: 'done', seq, cancelled, seconds}
//               {type: 'tokens', tokens, start, end}
//               {type: 'error', message}

import init, { parse_input, cancel, WebPredictor } from './pkg/texcnn.js';

// Bump when the cache layout changes; bundle entries are also keyed by the bundle's digest.
const CACHE_NAME = 'texcnn-bundles-v1';

let predictor = null;
let ready = init();

function post(msg) {
  self.postMessage(msg);
}

async function fetchWithProgress(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`downloading ${url}: HTTP ${response.status}`);
  const total = Number(response.headers.get('content-length')) || 0;
  const reader = response.body.getReader();
  const chunks = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    post({ type: 'load-progress', loaded, total });
  }
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.length;
  }
  return bytes;
}

// The default bundle is described by bundles.json ({default: {url, sha256, bytes}}): its
// digest versions the cache key, so a new bundle is downloaded once and an old one never reused.
async function loadBundleBytes(url) {
  let key = url;
  try {
    const manifest = await (await fetch('bundles.json', { cache: 'no-cache' })).json();
    const entry = Object.values(manifest).find((b) => b.url === url);
    if (entry && entry.sha256) key = `${url}?sha256=${entry.sha256}`;
  } catch (_) {
    // No manifest: the URL alone is the key.
  }
  const cache = 'caches' in self ? await caches.open(CACHE_NAME) : null;
  if (cache) {
    const hit = await cache.match(key);
    if (hit) return { bytes: new Uint8Array(await hit.arrayBuffer()), fromCache: true };
  }
  const bytes = await fetchWithProgress(url);
  if (cache) {
    // Drop older versions of the same bundle.
    for (const request of await cache.keys()) {
      if (request.url.split('?')[0].endsWith(url) && !request.url.endsWith(key)) {
        await cache.delete(request);
      }
    }
    await cache.put(key, new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } }));
  }
  return { bytes, fromCache: false };
}

async function load(msg) {
  await ready;
  const started = performance.now();
  let bytes;
  let fromCache = false;
  if (msg.bytes) {
    bytes = new Uint8Array(msg.bytes);
  } else {
    ({ bytes, fromCache } = await loadBundleBytes(msg.url));
  }
  if (predictor) predictor.free();
  predictor = null;
  predictor = await WebPredictor.load(bytes, msg.backend || 'auto');
  post({
    type: 'ready',
    name: msg.name || msg.url,
    backend: predictor.backend(),
    card: predictor.card(),
    outputs: predictor.outputs(),
    fromCache,
    seconds: (performance.now() - started) / 1000,
  });
}

async function predict(msg) {
  const started = performance.now();
  const parsed = parse_input(msg.text);
  post({ type: 'parsed', seq: msg.seq, records: parsed.records, errors: parsed.errors });
  let cancelled = false;
  for (const record of parsed.records) {
    try {
      const result = await predictor.predict(record.id, record.residues, true, (done, total) =>
        post({ type: 'progress', seq: msg.seq, record: record.id, done, total }),
      );
      post({ type: 'result', seq: msg.seq, result });
    } catch (err) {
      const message = String(err && err.message ? err.message : err);
      if (message.includes('cancelled')) {
        cancelled = true;
        break;
      }
      post({ type: 'record-error', seq: msg.seq, id: record.id, message });
    }
  }
  post({ type: 'done', seq: msg.seq, cancelled, seconds: (performance.now() - started) / 1000 });
}

self.onmessage = async (event) => {
  const msg = event.data;
  try {
    if (msg.type === 'load') await load(msg);
    else if (msg.type === 'parse') {
      await ready;
      const parsed = parse_input(msg.text);
      post({ type: 'parsed', seq: msg.seq, records: parsed.records, errors: parsed.errors });
    } else if (msg.type === 'predict') await predict(msg);
    else if (msg.type === 'cancel') cancel();
    else if (msg.type === 'tokens') {
      post({ type: 'tokens', tokens: predictor.tokens(msg.residues, msg.start, msg.end), start: msg.start, end: msg.end });
    }
  } catch (err) {
    post({ type: 'error', message: String(err && err.message ? err.message : err) });
  }
};
