// The web worker: owns the wasm module and the model, so the page never freezes.
//
// Messages in:  {type: 'load', url?, sha256?, bytes?, name, backend: 'auto'|'webgpu'|'cpu',
//                compute: 'int8'|'f32' (the CPU path's Linear layers)}
//               (sha256: the bundle's digest from bundles.json, which the page reads once)
//               {type: 'parse', text, tss?, seq}  (tss: the page's TSS field)
//               {type: 'predict', text, tss?, seq}
//               {type: 'cancel'}
//               {type: 'ism-edits', seq, index, start, end}  (saturation edits of bases start..end
//                of the last prediction run's record `index`)
//               {type: 'bases', seq, index, pos, length}  (bases pos..pos+length-1 of that record)
//               {type: 'score', seq, index | record: {id, residues, tss}, edits: [{pos, ref, alt}]}
// The worker keeps the records of its last prediction run; the page keeps none of their bases
// (a result carries its segments' tokens, and its rows of the exported tables).
// Messages out: {type: 'load-progress', loaded, total}
//               {type: 'ready', backend, backendNote, compute, card, outputs, tables, fromCache, source: 'network'|'cache'|'file', name, seconds}
//               (backendNote: which backend and why; compute: 'int8 (simd128)' or 'f32')
//               (tables: the header lines of the exported tables, {predictions, ism, variants})
//               {type: 'parsed', seq, records (without their bases), errors, warnings}
//               {type: 'progress', seq, done, total, record}
//               {type: 'result', seq, result}
//               {type: 'record-error', seq, index, id, message}
// Records are told apart by `index`, their position in the input (two may share an id).
//               {type: 'done', seq, cancelled, seconds}
//               {type: 'ism-edits', seq, edits, record: {id, residues, tss}}  (the record for the
//                pool's other workers, which did not parse the input)
//               {type: 'bases', seq, bases}
//               {type: 'score-progress', seq, done, total}
//               {type: 'scores', seq, result: {reference, read_text, inputs, effects} | {cancelled}}
//               {type: 'error', message, seq?}

import init, { parse_input, cancel, cancelled, clear_cancel, ism_edits, WebPredictor } from './pkg/texcnn.js';

// Bump when the cache layout changes; bundle entries are also keyed by the bundle's digest.
const CACHE_NAME = 'texcnn-bundles-v1';

let predictor = null;
const ready = init();
// The records of the last prediction run, by index (what mutagenesis and the mutate box refer to).
let records = new Map();

// One cancellation flag, kept by the wasm module: set by a 'cancel' or 'load' message,
// cleared by a 'predict' message, read between segment batches (in wasm) and between records.
function requestCancel() {
  ready.then(() => cancel()).catch(() => {});
}

function post(msg) {
  self.postMessage(msg);
}

async function readWithProgress(response) {
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

// Bundles listed in bundles.json ({name: {url, sha256}}, sha256 of the file) are checked
// against that digest and cached under a key versioned by it, so a new bundle is downloaded
// once and an old one never reused. A bundle
// given by URL alone (?bundle=URL) is revalidated with a HEAD request (size and
// Last-Modified) before its cached copy is used; offline, the cached copy is used as is.
async function remoteVersion(url) {
  try {
    const head = await fetch(url, { method: 'HEAD', cache: 'no-cache' });
    if (!head.ok) return null;
    return `${head.headers.get('content-length') || ''}|${head.headers.get('last-modified') || ''}`;
  } catch (_) {
    return null;
  }
}

async function cachedBundle(cache, key, digest, url) {
  const hit = await cache.match(key);
  if (!hit) return null;
  if (!digest) {
    const remote = await remoteVersion(url);
    if (remote !== null && remote !== hit.headers.get('x-texcnn-version')) return null;
  }
  return new Uint8Array(await hit.arrayBuffer());
}

async function loadBundleBytes(url, digest, { refresh = false } = {}) {
  const key = digest ? `${url}?sha256=${digest}` : url;
  const cache = 'caches' in self ? await caches.open(CACHE_NAME) : null;
  if (cache && !refresh) {
    const bytes = await cachedBundle(cache, key, digest, url);
    if (bytes) return { bytes, fromCache: true, key };
  }
  const response = await fetch(url, { cache: 'no-cache' });
  if (!response.ok) throw new Error(`downloading ${url}: HTTP ${response.status}`);
  const bytes = await readWithProgress(response);
  if (digest && self.crypto && crypto.subtle) {
    const hex = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)))
      .map((x) => x.toString(16).padStart(2, '0'))
      .join('');
    if (hex !== digest.toLowerCase()) {
      throw new Error(`downloaded ${url} has SHA-256 ${hex}, but bundles.json lists ${digest}: the server has another version`);
    }
  }
  if (cache) {
    // Drop older versions of the same bundle.
    const base = new URL(url, self.location.href).href;
    for (const request of await cache.keys()) {
      if (request.url.split('?')[0] === base) await cache.delete(request);
    }
    const version = `${response.headers.get('content-length') || ''}|${response.headers.get('last-modified') || ''}`;
    await cache.put(
      key,
      new Response(bytes, { headers: { 'content-type': 'application/octet-stream', 'x-texcnn-version': version } }),
    );
  }
  return { bytes, fromCache: false, key };
}

async function load(msg) {
  await ready;
  const started = performance.now();
  if (predictor) predictor.free();
  predictor = null;
  let fromCache = false;
  if (msg.bytes) {
    predictor = await WebPredictor.load(new Uint8Array(msg.bytes), msg.backend || 'auto', msg.compute || 'int8');
  } else {
    let bytes;
    ({ bytes, fromCache } = await loadBundleBytes(msg.url, msg.sha256));
    try {
      predictor = await WebPredictor.load(bytes, msg.backend || 'auto', msg.compute || 'int8');
    } catch (err) {
      if (!fromCache) throw err;
      // A damaged cache entry (the bundle's checksum catches it): download it again.
      ({ bytes, fromCache } = await loadBundleBytes(msg.url, msg.sha256, { refresh: true }));
      predictor = await WebPredictor.load(bytes, msg.backend || 'auto', msg.compute || 'int8');
    }
  }
  post({
    type: 'ready',
    name: msg.name || msg.url,
    backend: predictor.backend(),
    backendNote: predictor.backend_note(),
    compute: predictor.compute(),
    card: predictor.card(),
    outputs: predictor.outputs(),
    tables: predictor.tables(),
    fromCache,
    source: msg.bytes ? 'file' : fromCache ? 'cache' : 'network',
    seconds: (performance.now() - started) / 1000,
  });
}

async function predict(msg) {
  if (!predictor) throw new Error('no model is loaded');
  const started = performance.now();
  const parsed = parse_input(msg.text, msg.tss);
  records = new Map(parsed.records.map((r) => [r.index, r]));
  postParsed(msg.seq, parsed);
  let wasCancelled = false;
  for (const record of parsed.records) {
    if (cancelled()) {
      wasCancelled = true;
      break;
    }
    try {
      const notes = parsed.warnings.filter((w) => w.record_index === record.index).map((w) => w.note);
      const result = await predictor.predict(record.id, record.residues, record.tss, true, notes, (done, total) =>
        post({ type: 'progress', seq: msg.seq, record: record.id, done, total }),
      );
      if (result.cancelled) {
        wasCancelled = true;
        break;
      }
      result.index = record.index;
      post({ type: 'result', seq: msg.seq, result });
    } catch (err) {
      post({ type: 'record-error', seq: msg.seq, index: record.index, id: record.id, message: errorText(err) });
    }
  }
  post({ type: 'done', seq: msg.seq, cancelled: wasCancelled, seconds: (performance.now() - started) / 1000 });
}

// Edits of one record scored against it (texcnn variants / ism in the page); the page may
// split an ISM's edits over several workers, each with its own module and model.
async function score(msg) {
  if (!predictor) throw new Error('no model is loaded');
  const record = msg.record || runRecord(msg.index);
  const result = await predictor.score_edits(record.id, record.residues, record.tss, msg.edits, (done, total) =>
    post({ type: 'score-progress', seq: msg.seq, done, total }),
  );
  post({ type: 'scores', seq: msg.seq, result });
}

// Loading and predicting run one at a time (a new model waits for the running prediction,
// which it cancels); parsing and cancelling are answered at once.
let queue = Promise.resolve();
function enqueue(job, seq) {
  queue = queue.then(job).catch((err) => post({ type: 'error', message: errorText(err), seq }));
}

// The parsed input for the page: the records without their bases.
function postParsed(seq, parsed) {
  const summaries = parsed.records.map(({ residues, ...summary }) => summary);
  post({ type: 'parsed', seq, records: summaries, errors: parsed.errors, warnings: parsed.warnings });
}

function runRecord(index) {
  const record = records.get(index);
  if (!record) throw new Error('this record is not in the last prediction run: press Predict again');
  return record;
}

function errorText(err) {
  return String(err && err.message ? err.message : err);
}

self.onmessage = async (event) => {
  const msg = event.data;
  try {
    if (msg.type === 'load') {
      requestCancel();
      enqueue(() => load(msg));
    } else if (msg.type === 'predict') {
      await ready;
      clear_cancel();
      enqueue(() => predict(msg));
    } else if (msg.type === 'score') {
      await ready;
      clear_cancel();
      enqueue(() => score(msg), msg.seq);
    } else if (msg.type === 'ism-edits') {
      await ready;
      const { id, residues, tss } = runRecord(msg.index);
      post({ type: 'ism-edits', seq: msg.seq, edits: ism_edits(residues, msg.start, msg.end), record: { id, residues, tss } });
    } else if (msg.type === 'bases') {
      const { residues } = runRecord(msg.index);
      post({ type: 'bases', seq: msg.seq, bases: residues.slice(msg.pos - 1, msg.pos - 1 + (msg.length || 1)) });
    } else if (msg.type === 'cancel') {
      requestCancel();
    } else if (msg.type === 'parse') {
      await ready;
      postParsed(msg.seq, parse_input(msg.text, msg.tss));
    }
  } catch (err) {
    post({ type: 'error', message: errorText(err), seq: msg.seq });
  }
};
