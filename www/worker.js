// The web worker: owns the wasm module and the model, so the page never freezes.
//
// The wasm module: pkg/relaxed/ (built with WebAssembly relaxed SIMD: int8 products with 7-bit
// activations, twice as many per instruction) where this browser validates relaxed SIMD, else
// pkg/ (SIMD128). worker.js?simd=128 takes pkg/ anyway (the page passes its ?simd=128 on).
//
// Messages in:  {type: 'load', url?, sha256?, bytes?, name, backend: 'auto'|'webgpu'|'cpu',
//                compute: 'auto'|'int8'|'int8-a8'|'int8-a7'|'f32' (the CPU path's Linear layers;
//                'auto': int8-a7 with the relaxed-SIMD module where its probe finds it at
//                least 10% faster, int8 else)}
//               (sha256: the bundle's digest from bundles.json, which the page reads once)
//               {type: 'parse', text, tss?, seq}  (tss: the page's TSS field)
//               {type: 'predict', text, tss?, seq}
//               {type: 'predict', ..., parts: n}  (n > 1: this worker embeds part 0 of each
//                record's segments and asks the page, with 'embed-help', for parts 1..n-1)
//               {type: 'part-rows', seq, index, part, rows: Float32Array | null}  (a part the
//                page had another worker embed; null: embed it here)
//               {type: 'embed-part', seq, record: {id, residues, tss}, part, parts}  (another
//                worker's prediction: embed that part of the record's segments)
//               {type: 'cancel'}
//               {type: 'ism-edits', seq, index, start, end}  (saturation edits of bases start..end
//                of the last prediction run's record `index`)
//               {type: 'bases', seq, index, pos, length}  (bases pos..pos+length-1 of that record)
//               {type: 'score', seq, index | record: {id, residues, tss}, edits: [{pos, ref, alt}]}
// The worker keeps the records of its last prediction run; the page keeps none of their bases
// (a result carries its segments' tokens, and its rows of the exported tables).
// Messages out: {type: 'load-progress', loaded, total}
//               {type: 'ready', backend, backendNote, compute, card, outputs, tables, fromCache, source: 'network'|'cache'|'file', name, seconds}
//               (backendNote: which backend and why; compute: e.g. 'int8-a7 (relaxed-simd)',
//                'int8 (simd128)' or 'f32'; computeNote: why, where the page chose it)
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
//               {type: 'embed-help', seq, index, parts, record: {id, residues, tss}}
//               {type: 'part-rows', seq, rows: Float32Array | null}  (the reply to 'embed-part')
//               {type: 'error', message, seq?}

// A module of one function, `v128.const 0` three times and
// `i32x4.relaxed_dot_i8x16_i7x16_add_s` (0xfd 0x113): valid where the browser has relaxed SIMD.
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // types: () -> v128
  0x03, 0x02, 0x01, 0x00, // one function of type 0
  0x0a, 0x3d, 0x01, 0x3b, 0x00, // code: one body of 59 bytes, no locals
  ...[0, 1, 2].flatMap(() => [0xfd, 0x0c, ...new Array(16).fill(0)]),
  0xfd, 0x93, 0x02, 0x0b,
]);
const RELAXED_SIMD =
  new URL(self.location.href).searchParams.get('simd') !== '128' && WebAssembly.validate(RELAXED_SIMD_PROBE);

// The chosen module's exports (parse_input, cancel, cancelled, clear_cancel, ism_edits,
// WebPredictor), once `ready` has resolved.
let wasm = null;
const ready = import(RELAXED_SIMD ? './pkg/relaxed/texcnn.js' : './pkg/texcnn.js').then(async (module) => {
  await module.default();
  wasm = module;
});

// 'auto' on the relaxed-SIMD module: one encoder-shaped Linear layer timed with wide
// activations (SIMD128's pair kernel) and with 7-bit ones (relaxed SIMD's quad kernel),
// alternately, the fastest of 8 passes each (the first passes also let the engine compile both
// kernels in its optimizing tier); 7-bit where that is at least 10% faster. How much faster
// depends on how the engine lowers the instruction: one instruction where the CPU has a dot
// product for bytes (Arm's sdot, x86's AVX-VNNI), several on other x86-64 CPUs, where it was
// measured slower than SIMD128's (docs/performance.md). Both keep the accuracy bar.
let probed = null;
function probeRelaxedSimd() {
  if (!probed) {
    const best = { int8: Infinity, 'int8-a7': Infinity };
    for (let round = 0; round < 8; round += 1) {
      for (const compute of Object.keys(best)) {
        const started = performance.now();
        wasm.int8_probe(compute);
        best[compute] = Math.min(best[compute], performance.now() - started);
      }
    }
    const speedup = best.int8 / best['int8-a7'];
    probed = {
      compute: speedup >= 1.1 ? 'int8-a7' : 'int8',
      note: `relaxed SIMD's 7-bit kernel timed ${speedup.toFixed(2)}× SIMD128's on this CPU`,
    };
  }
  return probed;
}

// The compute to load with, and a note on why ('' where it was asked for).
function computeChoice(asked) {
  if (asked && asked !== 'auto') return { compute: asked, note: '' };
  if (!RELAXED_SIMD) return { compute: 'int8', note: 'this browser has no relaxed SIMD' };
  return probeRelaxedSimd();
}

// Bump when the cache layout changes; bundle entries are also keyed by the bundle's digest.
const CACHE_NAME = 'texcnn-bundles-v1';

let predictor = null;
// The records of the last prediction run, by index (what mutagenesis and the mutate box refer to).
let records = new Map();

// One cancellation flag, kept by the wasm module: set by a 'cancel' or 'load' message,
// cleared by a 'predict' message, read between segment batches (in wasm) and between records.
function requestCancel() {
  ready.then(() => wasm.cancel()).catch(() => {});
}

function post(msg, transfer = []) {
  self.postMessage(msg, transfer);
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
  const { compute, note: computeNote } = computeChoice(msg.compute);
  if (predictor) predictor.free();
  predictor = null;
  let fromCache = false;
  if (msg.bytes) {
    predictor = await wasm.WebPredictor.load(new Uint8Array(msg.bytes), msg.backend || 'auto', compute);
  } else {
    let bytes;
    ({ bytes, fromCache } = await loadBundleBytes(msg.url, msg.sha256));
    try {
      predictor = await wasm.WebPredictor.load(bytes, msg.backend || 'auto', compute);
    } catch (err) {
      if (!fromCache) throw err;
      // A damaged cache entry (the bundle's checksum catches it): download it again.
      ({ bytes, fromCache } = await loadBundleBytes(msg.url, msg.sha256, { refresh: true }));
      predictor = await wasm.WebPredictor.load(bytes, msg.backend || 'auto', compute);
    }
  }
  post({
    type: 'ready',
    name: msg.name || msg.url,
    backend: predictor.backend(),
    backendNote: predictor.backend_note(),
    compute: predictor.compute(),
    computeNote,
    card: predictor.card(),
    outputs: predictor.outputs(),
    tables: predictor.tables(),
    fromCache,
    source: msg.bytes ? 'file' : fromCache ? 'cache' : 'network',
    seconds: (performance.now() - started) / 1000,
  });
}

// Parts of a record's segments that other workers embed for this one's prediction:
// `${seq}:${index}:${part}` → resolve(rows | null).
const helpers = new Map();

function helped(seq, index, part) {
  return new Promise((resolve) => helpers.set(`${seq}:${index}:${part}`, resolve));
}

// Stops waiting for other workers (a cancel, or a new run): the parts are embedded here.
function releaseHelpers() {
  for (const resolve of helpers.values()) resolve(null);
  helpers.clear();
}

// One record's prediction over `parts` workers: this one embeds part 0 while the page has the
// others embed theirs; a part that does not come back is embedded here. The same result as
// predictor.predict (the head runs here, on all the rows in order).
async function predictSpread(seq, record, parts, notes, progress) {
  const started = performance.now();
  const { id, residues, tss } = record;
  const waits = [];
  for (let part = 1; part < parts; part++) waits.push(helped(seq, record.index, part));
  post({ type: 'embed-help', seq, index: record.index, parts, record: { id, residues, tss } });
  const own = await predictor.embed_part(id, residues, tss, 0, parts, progress);
  if (own === null) {
    releaseHelpers();
    return { cancelled: true };
  }
  const pieces = [own];
  for (let part = 1; part < parts; part++) {
    let rows = await waits[part - 1];
    if (rows === null) {
      if (wasm.cancelled()) return { cancelled: true };
      rows = await predictor.embed_part(id, residues, tss, part, parts, progress);
      if (rows === null) return { cancelled: true };
    }
    pieces.push(rows);
  }
  const all = new Float32Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    all.set(p, at);
    at += p.length;
  }
  return predictor.predict_rows(id, residues, tss, true, notes, all, performance.now() - started);
}

async function predict(msg) {
  if (!predictor) throw new Error('no model is loaded');
  const started = performance.now();
  const parts = Math.max(1, Math.floor(Number(msg.parts) || 1));
  const parsed = wasm.parse_input(msg.text, msg.tss);
  records = new Map(parsed.records.map((r) => [r.index, r]));
  postParsed(msg.seq, parsed);
  let wasCancelled = false;
  for (const record of parsed.records) {
    if (wasm.cancelled()) {
      wasCancelled = true;
      break;
    }
    try {
      const notes = parsed.warnings.filter((w) => w.record_index === record.index).map((w) => w.note);
      const progress = (done, total) => post({ type: 'progress', seq: msg.seq, record: record.id, done, total });
      const result =
        parts > 1
          ? await predictSpread(msg.seq, record, parts, notes, progress)
          : await predictor.predict(record.id, record.residues, record.tss, true, notes, progress);
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

// Part of another worker's prediction: the rows of one part of a record's segments.
async function embedPart(msg) {
  if (!predictor) throw new Error('no model is loaded');
  const { id, residues, tss } = msg.record;
  const rows = await predictor.embed_part(id, residues, tss, msg.part, msg.parts, () => {});
  post(rows === null ? { type: 'part-rows', seq: msg.seq, rows: null } : { type: 'part-rows', seq: msg.seq, rows }, rows ? [rows.buffer] : []);
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
      wasm.clear_cancel();
      releaseHelpers();
      enqueue(() => predict(msg));
    } else if (msg.type === 'part-rows') {
      const resolve = helpers.get(`${msg.seq}:${msg.index}:${msg.part}`);
      helpers.delete(`${msg.seq}:${msg.index}:${msg.part}`);
      if (resolve) resolve(msg.rows || null);
    } else if (msg.type === 'embed-part') {
      await ready;
      wasm.clear_cancel();
      enqueue(() => embedPart(msg), msg.seq);
    } else if (msg.type === 'score') {
      await ready;
      wasm.clear_cancel();
      enqueue(() => score(msg), msg.seq);
    } else if (msg.type === 'ism-edits') {
      await ready;
      const { id, residues, tss } = runRecord(msg.index);
      post({ type: 'ism-edits', seq: msg.seq, edits: wasm.ism_edits(residues, msg.start, msg.end), record: { id, residues, tss } });
    } else if (msg.type === 'bases') {
      const { residues } = runRecord(msg.index);
      post({ type: 'bases', seq: msg.seq, bases: residues.slice(msg.pos - 1, msg.pos - 1 + (msg.length || 1)) });
    } else if (msg.type === 'cancel') {
      requestCancel();
      releaseHelpers();
    } else if (msg.type === 'parse') {
      await ready;
      postParsed(msg.seq, wasm.parse_input(msg.text, msg.tss));
    }
  } catch (err) {
    post({ type: 'error', message: errorText(err), seq: msg.seq });
  }
};
