// The page: input, results, charts. All model work happens in worker.js.
//
// URL parameters: ?backend=cpu|webgpu|auto (default auto: WebGPU on a hardware adapter, else the
// CPU), ?compute=auto|int8|int8-a8|int8-a7|f32 (the CPU path's Linear layers, default auto:
// int8-a7 where the browser has WebAssembly relaxed SIMD and the worker times its kernel at
// least 10% faster, int8 else), ?simd=128 (the SIMD128 module even where
// relaxed SIMD runs), ?bundle=URL (default from bundles.json), ?workers=N (the worker pool).
// When a run finishes, document.body.dataset.state becomes 'done' (the end-to-end test waits on it).

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
// The workers' script: ?simd=128 on the page takes the SIMD128 module even where the browser
// has relaxed SIMD (worker.js).
const WORKER_URL = params.get('simd') === '128' ? 'worker.js?simd=128' : 'worker.js';
const worker = new Worker(WORKER_URL, { type: 'module' });

// Offline after one visit: sw.js keeps the page's own files, versioned by the build (needs a
// secure context: https or localhost). The page works the same without it.
if ('serviceWorker' in navigator && window.isSecureContext) {
  navigator.serviceWorker
    .register('sw.js')
    .catch((err) => console.warn(`the page cannot be kept for offline use: ${err.message}`));
}

const state = {
  seq: 0,
  outputs: [],
  results: [],
  errors: [],
  timings: {},
  running: false,
  ready: false,
  tables: null, // header lines of the exported tables, from Rust: {predictions, ism, variants}
};

function setStatus(el, text, kind = '') {
  el.textContent = text;
  el.dataset.kind = kind;
}

function fmtBytes(n) {
  return n > 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(0)} kB`;
}

// ---- model loading --------------------------------------------------------------------------

// bundles.json: {name: {url, sha256, label?}}; the entry named "default" loads first.
async function readManifest() {
  try {
    const response = await fetch('bundles.json', { cache: 'no-cache' });
    return response.ok ? await response.json() : {};
  } catch (_) {
    return {};
  }
}

function fillModelPicker(manifest, current) {
  const select = $('model-select');
  select.replaceChildren();
  const entries = Object.entries(manifest).filter(([, b]) => b && b.url);
  if (!entries.some(([, b]) => b.url === current)) entries.unshift([current, { url: current }]);
  for (const [name, b] of entries) {
    const option = document.createElement('option');
    option.value = b.url;
    option.textContent = b.label || (name === 'default' ? `default (${b.url})` : name);
    option.selected = b.url === current;
    select.append(option);
  }
}

$('model-select').addEventListener('change', (e) => {
  loadBundleUrl(e.target.value);
});

// bundles.json is read once, here; the worker gets the bundle's digest with the URL.
let manifest = {};
function loadBundleUrl(url) {
  const entry = Object.values(manifest).find((b) => b && b.url === url);
  loadModel({ type: 'load', url, name: url, sha256: (entry && entry.sha256) || null });
}

// How the CPU path computes its Linear layers: ?compute=f32|int8|int8-a8|int8-a7, or 'auto'
// (the default: the worker chooses int8 with 7-bit or with wide activations, worker.js; segment
// embeddings within cosine 0.999 of f32 either way, tested).
const COMPUTES = ['f32', 'int8', 'int8-a8', 'int8-a7'];
function computeParam() {
  const asked = params.get('compute');
  return COMPUTES.includes(asked) ? asked : 'auto';
}

function loadModel(msg) {
  state.loadMessage = msg;
  dropPool();
  state.ready = false;
  $('predict').disabled = true;
  document.body.dataset.model = 'loading';
  setStatus($('model-status'), `Loading ${msg.name}…`);
  $('model-progress').hidden = false;
  $('model-progress').removeAttribute('value');
  worker.postMessage({ ...msg, backend: params.get('backend') || 'auto', compute: computeParam() });
}

$('bundle-picker').addEventListener('change', async (e) => {
  const file = e.target.files[0];
  if (!file) return;
  const bytes = await file.arrayBuffer();
  loadModel({ type: 'load', bytes, name: file.name });
});

// ---- input ----------------------------------------------------------------------------------

// Input errors (the record is not run) and warnings (it runs, e.g. a duplicate id), each
// clickable to show its place in the text.
function showInputErrors(errors, warnings = []) {
  const list = $('input-errors');
  list.replaceChildren();
  const items = [...errors.map((e) => ['input-error', e]), ...warnings.map((w) => ['input-warning', w])];
  for (const [className, err] of items) {
    const li = document.createElement('li');
    li.className = className;
    li.textContent = err.message;
    if (err.line) {
      li.dataset.line = err.line;
      li.dataset.column = err.column || 1;
      li.title = 'Click to show this place in the text';
      li.addEventListener('click', () => selectPosition(err.line, err.column || 1));
    }
    list.append(li);
  }
}

// Selects the offending character in the text area.
function selectPosition(line, column) {
  const text = $('dna').value;
  let offset = 0;
  for (let l = 1; l < line; l++) offset = text.indexOf('\n', offset) + 1;
  const chars = Array.from(text.slice(offset));
  const start = offset + chars.slice(0, column - 1).join('').length;
  const ta = $('dna');
  ta.focus();
  ta.setSelectionRange(start, start + (chars[column - 1] || ' ').length);
}

let parseTimer = null;
$('dna').addEventListener('input', () => {
  clearTimeout(parseTimer);
  parseTimer = setTimeout(() => worker.postMessage({ type: 'parse', text: $('dna').value, tss: tssField(), seq: -1 }), 250);
});

const dropZone = $('input');
dropZone.addEventListener('dragover', (e) => {
  e.preventDefault();
  dropZone.classList.add('dragging');
});
dropZone.addEventListener('dragleave', () => dropZone.classList.remove('dragging'));
dropZone.addEventListener('drop', async (e) => {
  e.preventDefault();
  dropZone.classList.remove('dragging');
  const file = e.dataTransfer.files[0];
  if (file) $('dna').value = await file.text();
  $('dna').dispatchEvent(new Event('input'));
});
$('fasta-picker').addEventListener('change', async (e) => {
  const file = e.target.files[0];
  if (file) $('dna').value = await file.text();
  $('dna').dispatchEvent(new Event('input'));
});
$('example').addEventListener('click', async () => {
  $('dna').value = await (await fetch('example.fa')).text();
  $('dna').dispatchEvent(new Event('input'));
});

// ---- running --------------------------------------------------------------------------------

$('predict').addEventListener('click', async () => {
  state.seq += 1;
  state.results = [];
  state.errors = [];
  state.running = true;
  state.started = performance.now();
  document.body.dataset.state = 'running';
  $('predict').disabled = true;
  $('cancel').disabled = false;
  $('run-progress').hidden = false;
  $('run-progress').value = 0;
  setStatus($('run-status'), 'Reading the input…');
  renderResults();
  const seq = state.seq;
  const parts = await predictParts();
  if (seq !== state.seq) return;
  document.body.dataset.parts = String(parts);
  worker.postMessage({ type: 'predict', text: $('dna').value, tss: tssField(), seq, parts });
});

// Workers one prediction is spread over on the CPU path: the page's own and those of the
// mutagenesis pool that are loaded (each embeds a share of every record's segments; the head
// runs on the page's own). With ?workers=N (N > 1) the pool is loaded first; otherwise it is
// used once mutagenesis has loaded it. WebGPU has one device: one worker.
async function predictParts() {
  if ($('backend').dataset.backend === 'webgpu') return 1;
  const n = poolSize();
  if (n > 1 && Number(params.get('workers')) > 1) {
    try {
      await ensurePool(n);
    } catch (_) {
      dropPool();
      return 1;
    }
  }
  let loaded = 0;
  while (loaded < Math.min(n - 1, ism.pool.length) && ism.pool[loaded].loaded) loaded += 1;
  return 1 + loaded;
}

// The page's worker asks for parts 1..parts-1 of a record's segments: each from pool worker
// `part`, forwarded to it as they come (null: it embeds that part itself).
function spreadParts(msg) {
  for (let part = 1; part < msg.parts; part++) {
    const forward = (rows) =>
      worker.postMessage({ type: 'part-rows', seq: msg.seq, index: msg.index, part, rows }, rows ? [rows.buffer] : []);
    if (msg.stale || part > ism.pool.length) {
      forward(null);
      continue;
    }
    call(part, { type: 'embed-part', record: msg.record, part, parts: msg.parts }, 'part-rows')
      .then((reply) => forward(reply.rows || null))
      .catch(() => forward(null));
  }
}

// The page's TSS field: the TSS (1-based) of records without tss= in their header.
function tssField() {
  const n = Number($('tss').value);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

$('cancel').addEventListener('click', () => {
  worker.postMessage({ type: 'cancel' });
  for (const e of ism.pool) e.worker.postMessage({ type: 'cancel' });
  setStatus($('run-status'), 'Cancelling…');
});

// ---- results --------------------------------------------------------------------------------

function outputHeader(o) {
  return `${o.label} (${o.value_unit})`;
}

function renderLegend() {
  const legend = $('outputs-legend');
  legend.replaceChildren();
  for (const o of state.outputs) {
    const dt = document.createElement('dt');
    dt.textContent = `${o.name}: ${o.label}`;
    const dd = document.createElement('dd');
    const percentile = /percentile/i.test(o.meaning || '')
      ? ''
      : "The percentile places the value among the model's reference genes (the labels it was trained on).";
    dd.textContent = `Unit: ${o.value_unit}. ${o.meaning ? `${o.meaning}. ` : ''}${percentile}`;
    legend.append(dt, dd);
  }
}

function renderResults() {
  const section = $('results');
  section.hidden = state.results.length === 0 && state.errors.length === 0;
  const head = $('results-table').tHead;
  head.replaceChildren();
  const tr = head.insertRow();
  for (const h of ['id', 'read (bp of the record)', ...state.outputs.flatMap((o) => [outputHeader(o), 'percentile']), 'inputs', 'notes', '']) {
    const th = document.createElement('th');
    th.textContent = h;
    tr.append(th);
  }
  const body = $('results-table').tBodies[0];
  body.replaceChildren();
  for (const r of state.results) {
    const row = body.insertRow();
    row.dataset.id = r.id;
    row.dataset.index = r.index;
    row.insertCell().textContent = r.id;
    row.insertCell().textContent = r.read_text;
    r.outputs.forEach((o, i) => {
      const cell = row.insertCell();
      cell.className = 'value';
      cell.dataset.output = state.outputs[i].name;
      cell.dataset.value = String(o.value);
      cell.textContent = o.value.toFixed(3);
      cell.title = state.outputs[i].meaning;
      row.insertCell().textContent = o.percentile_text ?? '';
    });
    const inputs = row.insertCell();
    inputs.className = 'inputs';
    inputs.textContent = r.inputs;
    inputs.title =
      r.inputs === 'dna+features'
        ? "predicted from the DNA and this gene's per-gene features carried by the bundle (looked up by the record's Ensembl id)"
        : 'predicted from the DNA alone';
    const notes = row.insertCell();
    notes.className = 'notes';
    notes.textContent = r.notes.join(' ');
    const btn = document.createElement('button');
    btn.textContent = 'segments';
    btn.addEventListener('click', () => showExplain(r));
    row.insertCell().append(btn);
  }
  for (const e of state.errors) {
    const row = body.insertRow();
    row.className = 'row-error';
    row.insertCell().textContent = e.id;
    const cell = row.insertCell();
    cell.colSpan = 4 + 2 * state.outputs.length;
    cell.textContent = e.message;
  }
}

function showExplain(result) {
  $('explain').hidden = false;
  if (ism.current !== result) {
    ism.current = result;
    $('ism-heatmap').replaceChildren();
    setStatus($('ism-status'), '');
    setStatus($('mut-result'), '');
  }
  setIsmBusy(ism.running);
  $('explain-id').textContent = `(${result.id})`;
  const chart = $('segment-chart');
  const deltas = result.segments.map((s) => s.delta[0]);
  const max = Math.max(1e-9, ...deltas.map(Math.abs));
  const w = 640;
  const h = 200;
  const bw = w / deltas.length;
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${h + 30}`);
  svg.setAttribute('width', '100%');
  const axis = document.createElementNS(ns, 'line');
  Object.entries({ x1: 0, x2: w, y1: h / 2, y2: h / 2, stroke: '#555' }).forEach(([k, v]) => axis.setAttribute(k, v));
  svg.append(axis);
  for (const [y, text] of [[12, `+${max.toPrecision(2)}`], [h - 4, `−${max.toPrecision(2)}`]]) {
    const label = document.createElementNS(ns, 'text');
    label.setAttribute('x', 4);
    label.setAttribute('y', y);
    label.setAttribute('class', 'scale');
    label.textContent = text;
    svg.append(label);
  }
  result.segments.forEach((s, i) => {
    const d = s.delta[0];
    const bar = document.createElementNS(ns, 'rect');
    const bh = (Math.abs(d) / max) * (h / 2 - 4);
    bar.setAttribute('x', i * bw + 1);
    bar.setAttribute('width', Math.max(1, bw - 2));
    bar.setAttribute('y', d >= 0 ? h / 2 - bh : h / 2);
    bar.setAttribute('height', Math.max(1, bh));
    bar.setAttribute('class', d >= 0 ? 'bar up' : 'bar down');
    const title = document.createElementNS(ns, 'title');
    title.textContent = `segment ${i + 1}: ${segmentSpan(s)}, change ${d >= 0 ? '+' : ''}${d.toFixed(4)}`;
    bar.append(title);
    bar.addEventListener('click', () => {
      showTokens(result, s);
      const [first, last] = segmentInRecord(result, s);
      $('ism-start').value = first;
      $('ism-end').value = last;
      setStatus($('ism-status'), `Bases ${first}–${last} of ${result.id} (segment ${i + 1}): press Run mutagenesis.`);
    });
    svg.append(bar);
    const label = document.createElementNS(ns, 'text');
    label.setAttribute('x', i * bw + bw / 2);
    label.setAttribute('y', h + 20);
    label.setAttribute('text-anchor', 'middle');
    label.textContent = s.tss_relative ? signed(s.tss_relative[0]) : String(i + 1);
    svg.append(label);
  });
  const caption = document.createElementNS(ns, 'text');
  caption.setAttribute('x', w);
  caption.setAttribute('y', h + 20);
  caption.setAttribute('text-anchor', 'end');
  caption.setAttribute('class', 'scale');
  caption.textContent = result.segments.some((s) => s.tss_relative) ? 'segment start, bp from the TSS' : 'segment';
  svg.append(caption);
  chart.replaceChildren(svg);
  if (result.segments.length) showTokens(result, result.segments[0]);
}

function signed(n) {
  return n > 0 ? `+${n}` : String(n).replace('-', '−');
}

// A segment's bases: relative to the TSS when the model knows it, else in the window.
function segmentSpan(s) {
  return s.tss_relative
    ? `bp ${signed(s.tss_relative[0])} to ${signed(s.tss_relative[1])} from the TSS`
    : `bp ${s.start + 1}–${s.end} of the window`;
}

function showTokens(result, segment) {
  $('tokens-segment').textContent = `${segment.index + 1} (${segmentSpan(segment)})`;
  renderTokens(result.segment_tokens[segment.index] || []);
}

function renderTokens(tokens) {
  const box = $('tokens');
  box.replaceChildren();
  for (const t of tokens) {
    const span = document.createElement('span');
    span.className = t.text.startsWith('[') ? 'token special' : 'token';
    span.textContent = t.text;
    span.title = `id ${t.id}`;
    box.append(span);
  }
}

function download(name, type, text) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// Every exported table's header and rows come from Rust (texcnn::export), as the native
// tool writes them; the page only joins the lines.
function table(header, rows) {
  return [header, ...rows].join('\n') + '\n';
}

$('export-csv').addEventListener('click', () => {
  download('texcnn-predictions.csv', 'text/csv', table(state.tables.predictions, state.results.map((r) => r.row)));
});
$('export-json').addEventListener('click', () => {
  download(
    'texcnn-predictions.json',
    'application/json',
    JSON.stringify({ outputs: state.outputs, results: state.results, errors: state.errors }, null, 2),
  );
});

// ---- what changes expression: in-silico mutagenesis and single changes ------------------------
//
// The edits of a region come from Rust (ism_edits, as texcnn ism makes them); they are split
// over a pool of workers, each with its own WebAssembly module and copy of the model
// (navigator.hardwareConcurrency of them on the CPU path, at most 4; one on WebGPU; ?workers=N
// to choose), and the results are put back in order.

const ISM_MAX = 600;
$('ism-max').textContent = String(ISM_MAX);
const ism = {
  seq: 1_000_000, // apart from the predictions' run numbers
  calls: new Map(), // `${worker}:${seq}` → {resolve, reject, progress}
  pool: [], // extra workers (the page's own worker is worker 0)
  running: false,
  result: null, // {id, index, inputs, rows: [{pos, ref, alt, delta, tss_relative}]}
  changes: [], // single changes scored: {id, pos, ref, alt, reference, alt_values, delta, tss_relative, inputs}
  current: null, // the result the explanation shows
};

function poolWorker(k) {
  return k === 0 ? worker : ism.pool[k - 1].worker;
}

// Sends `msg` (with a fresh seq) to worker k; resolves with the reply of type `reply`.
function call(k, msg, reply, progress) {
  ism.seq += 1;
  const seq = ism.seq;
  return new Promise((resolve, reject) => {
    ism.calls.set(`${k}:${seq}`, { resolve, reject, progress, reply });
    poolWorker(k).postMessage({ ...msg, seq });
  });
}

// Replies from any worker about mutagenesis; true when the message was one.
function ismReply(k, msg) {
  const key = `${k}:${msg.seq}`;
  const pending = ism.calls.get(key);
  if (!pending) return false;
  if (msg.type === 'score-progress') {
    if (pending.progress) pending.progress(msg.done, msg.total);
  } else if (msg.type === 'error') {
    ism.calls.delete(key);
    pending.reject(new Error(msg.message));
  } else if (msg.type === pending.reply) {
    ism.calls.delete(key);
    pending.resolve(msg);
  }
  return true;
}

function poolSize() {
  const asked = Number(params.get('workers'));
  if (Number.isInteger(asked) && asked >= 1) return Math.min(asked, 8);
  if ($('backend').dataset.backend === 'webgpu') return 1;
  return Math.max(1, Math.min(navigator.hardwareConcurrency || 1, 4));
}

// The pool's workers 1..n-1, each loaded with the page's model (from the browser cache).
async function ensurePool(n) {
  while (ism.pool.length < n - 1) {
    const k = ism.pool.length + 1;
    const w = new Worker(WORKER_URL, { type: 'module' });
    const entry = { worker: w, ready: null, loaded: false };
    entry.ready = new Promise((resolve, reject) => {
      w.onmessage = (event) => {
        const msg = event.data;
        if (msg.type === 'ready') {
          entry.loaded = true;
          resolve();
        } else if (msg.type === 'error' && msg.seq === undefined) reject(new Error(msg.message));
        else ismReply(k, msg);
      };
    });
    ism.pool.push(entry);
    w.postMessage({ ...state.loadMessage, backend: $('backend').dataset.backend, compute: state.computeLoaded || computeParam() });
  }
  await Promise.all(ism.pool.slice(0, n - 1).map((e) => e.ready));
}

function dropPool() {
  for (const e of ism.pool) e.worker.terminate();
  ism.pool = [];
}

// The record the explanation shows: {id, index, length} (its bases stay in the worker).
function ismRecord() {
  const r = ism.current;
  return r ? { id: r.id, index: r.index, length: r.length } : null;
}

function setIsmBusy(busy) {
  ism.running = busy;
  $('ism-run').disabled = busy || !ism.current;
  $('mut-run').disabled = busy || !ism.current;
  $('ism-cancel').disabled = !busy;
  $('ism-progress').hidden = !busy;
}

async function runIsm() {
  const record = ismRecord();
  const start = Number($('ism-start').value);
  const end = Number($('ism-end').value);
  if (!record) return;
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 1 && start <= end && end <= record.length)) {
    setStatus($('ism-status'), `The region must be bases a to b with 1 ≤ a ≤ b ≤ ${record.length} (the record's length).`, 'error');
    return;
  }
  if (end - start + 1 > ISM_MAX) {
    setStatus($('ism-status'), `The region is ${end - start + 1} bp; at most ${ISM_MAX} bp at a time.`, 'error');
    return;
  }
  setIsmBusy(true);
  ism.cancelled = false;
  document.body.dataset.ism = 'running';
  const started = performance.now();
  try {
    // The edits, and the record's bases for the pool's other workers (held only for this run).
    const { edits, record: bases } = await call(0, { type: 'ism-edits', index: record.index, start, end }, 'ism-edits');
    // Whole positions per worker, at least 8 positions each.
    const positions = Math.max(1, Math.ceil(edits.length / 3));
    const n = Math.max(1, Math.min(poolSize(), Math.floor(positions / 8) || 1));
    setStatus($('ism-status'), `Mutagenesis of ${record.id}, bases ${start}–${end}: ${edits.length} changes on ${n} worker(s)…`);
    await ensurePool(n);
    if (ism.cancelled) {
      setStatus($('ism-status'), 'Mutagenesis cancelled.');
      document.body.dataset.ism = 'cancelled';
      return;
    }
    const per = Math.ceil(positions / n) * 3;
    const parts = Array.from({ length: n }, (_, k) => edits.slice(k * per, (k + 1) * per));
    const done = new Array(n).fill(0);
    const total = new Array(n).fill(0);
    const replies = await Promise.all(
      parts.map((part, k) =>
        call(k, { type: 'score', record: bases, edits: part }, 'scores', (d, t) => {
          done[k] = d;
          total[k] = t;
          const sum = total.reduce((a, b) => a + b, 0);
          $('ism-progress').max = Math.max(1, sum);
          $('ism-progress').value = done.reduce((a, b) => a + b, 0);
        }),
      ),
    );
    if (replies.some((r) => r.result.cancelled)) {
      setStatus($('ism-status'), 'Mutagenesis cancelled.');
      document.body.dataset.ism = 'cancelled';
      return;
    }
    const rows = replies.flatMap((r) => r.result.effects);
    const seconds = (performance.now() - started) / 1000;
    ism.result = { id: record.id, index: record.index, inputs: replies[0].result.inputs, reference: replies[0].result.reference, rows, start, end, seconds, workers: n };
    renderHeatmap(ism.result);
    const failed = rows.filter((r) => r.error);
    setStatus(
      $('ism-status'),
      `${rows.length - failed.length} changes scored in ${seconds.toFixed(1)} s on ${n} worker(s) (${(rows.length / seconds).toFixed(0)} per second)${failed.length ? `; ${failed.length} failed: ${failed[0].error}` : ''}.`,
      'ok',
    );
    $('export-ism').disabled = false;
    document.body.dataset.ism = 'done';
    document.body.dataset.ismSeconds = String(seconds);
  } catch (err) {
    setStatus($('ism-status'), err.message, 'error');
    document.body.dataset.ism = 'error';
  } finally {
    setIsmBusy(false);
  }
}

$('ism-run').addEventListener('click', runIsm);
$('ism-cancel').addEventListener('click', () => {
  ism.cancelled = true;
  for (let k = 0; k <= ism.pool.length; k++) poolWorker(k).postMessage({ type: 'cancel' });
  setStatus($('ism-status'), 'Cancelling…');
});

// The bases selected in the text box, as positions in the record they lie in.
$('ism-selection').addEventListener('click', () => {
  const ta = $('dna');
  const text = ta.value;
  const [from, to] = [ta.selectionStart, ta.selectionEnd];
  const header = text.lastIndexOf('>', from);
  const lineEnd = header >= 0 ? text.indexOf('\n', header) : -1;
  const body = lineEnd >= 0 ? lineEnd + 1 : 0;
  const bases = (s) => s.replace(/[^A-Za-z]/g, '').length;
  const id = header >= 0 ? text.slice(header + 1, lineEnd < 0 ? undefined : lineEnd).trim().split(/\s+/)[0] : '';
  const result = state.results.find((r) => r.id === id) || (header < 0 ? state.results[0] : null);
  if (to <= from || from < body || !result) {
    setStatus($('ism-status'), 'Select bases of one predicted record in the text box first.', 'error');
    return;
  }
  showExplain(result);
  $('ism-start').value = bases(text.slice(body, from)) + 1;
  $('ism-end').value = bases(text.slice(body, to));
  setStatus($('ism-status'), `Bases ${$('ism-start').value}–${$('ism-end').value} of ${id || 'the record'}.`);
});

// A segment's bases in the record (the part of the window that is not padding).
function segmentInRecord(result, s) {
  const read = result.read;
  const inRecord = (w) => read.first + (w - read.pad_before);
  const first = Math.max(read.first, inRecord(s.start));
  const last = Math.min(read.last, inRecord(s.end - 1));
  return [first, Math.min(last, first + ISM_MAX - 1)];
}

function colour(d, max) {
  const t = Math.min(1, Math.abs(d) / max);
  const [r, g, b] = d >= 0 ? [178, 24, 43] : [33, 102, 172];
  const mix = (c) => Math.round(255 + (c - 255) * t);
  return `rgb(${mix(r)},${mix(g)},${mix(b)})`;
}

// A/C/G/T × position, the first output's change; hover for the values.
function renderHeatmap(result) {
  const ns = 'http://www.w3.org/2000/svg';
  const positions = [...new Set(result.rows.map((r) => r.pos))].sort((a, b) => a - b);
  const column = new Map(positions.map((p, i) => [p, i]));
  const refAt = new Map(result.rows.map((r) => [r.pos, r.ref]));
  const tssAt = new Map(result.rows.filter((r) => r.tss_relative !== null && r.tss_relative !== undefined).map((r) => [r.pos, r.tss_relative]));
  const max = Math.max(1e-9, ...result.rows.filter((r) => r.delta).map((r) => Math.abs(r.delta[0])));
  const cw = Math.max(2, Math.min(16, 900 / Math.max(1, positions.length)));
  const ch = 16;
  const left = 18;
  const w = left + cw * positions.length;
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${w + 4} ${4 * ch + 34}`);
  svg.setAttribute('width', '100%');
  const name = state.outputs[0] ? state.outputs[0].name : 'output';
  ['A', 'C', 'G', 'T'].forEach((base, row) => {
    const label = document.createElementNS(ns, 'text');
    label.setAttribute('x', 2);
    label.setAttribute('y', row * ch + 12);
    label.textContent = base;
    svg.append(label);
    for (const p of positions) {
      const rect = document.createElementNS(ns, 'rect');
      rect.setAttribute('x', left + column.get(p) * cw);
      rect.setAttribute('y', row * ch);
      rect.setAttribute('width', cw);
      rect.setAttribute('height', ch);
      const title = document.createElementNS(ns, 'title');
      const where = tssAt.has(p) ? `bp ${p} (${signed(tssAt.get(p))} from the TSS)` : `bp ${p}`;
      if (refAt.get(p) === base) {
        rect.setAttribute('fill', '#ccc');
        title.textContent = `${where}: ${base} is the reference base`;
      } else {
        const r = result.rows.find((x) => x.pos === p && x.alt === base);
        if (!r || !r.delta) {
          rect.setAttribute('fill', '#fff');
          title.textContent = `${where}: ${r ? r.error : 'not scored'}`;
        } else {
          rect.setAttribute('fill', colour(r.delta[0], max));
          rect.dataset.pos = String(p);
          rect.dataset.alt = base;
          rect.dataset.delta = String(r.delta[0]);
          title.textContent = `${where}: ${r.ref} → ${base}, ${name} ${r.delta[0] >= 0 ? '+' : ''}${r.delta[0].toFixed(4)}`;
        }
      }
      rect.append(title);
      svg.append(rect);
    }
  });
  const ticks = Math.max(1, Math.round(positions.length / 10));
  positions.forEach((p, i) => {
    if (i % ticks !== 0) return;
    const label = document.createElementNS(ns, 'text');
    label.setAttribute('x', left + i * cw);
    label.setAttribute('y', 4 * ch + 14);
    label.setAttribute('class', 'scale');
    label.textContent = tssAt.has(p) ? signed(tssAt.get(p)) : String(p);
    svg.append(label);
  });
  const caption = document.createElementNS(ns, 'text');
  caption.setAttribute('x', w);
  caption.setAttribute('y', 4 * ch + 30);
  caption.setAttribute('text-anchor', 'end');
  caption.setAttribute('class', 'scale');
  caption.textContent = `${tssAt.size ? 'bp from the TSS' : 'bp of the record'}; colour: change of ${name}, ±${max.toPrecision(2)} at full colour (${result.inputs})`;
  svg.append(caption);
  $('ism-heatmap').replaceChildren(svg);
}

// The reference base(s) of the mutate box follow its position.
$('mut-pos').addEventListener('input', async () => {
  const record = ismRecord();
  const pos = Number($('mut-pos').value);
  if (!(record && Number.isInteger(pos) && pos >= 1 && pos <= record.length)) return;
  try {
    const { bases } = await call(0, { type: 'bases', index: record.index, pos, length: 1 }, 'bases');
    if (Number($('mut-pos').value) === pos && ismRecord()?.index === record.index) $('mut-ref').value = bases;
  } catch (err) {
    setStatus($('mut-result'), err.message, 'error');
  }
});

$('mut-run').addEventListener('click', async () => {
  const record = ismRecord();
  if (!record) return;
  const edit = { pos: Number($('mut-pos').value), ref: $('mut-ref').value.trim().toUpperCase(), alt: $('mut-alt').value.trim().toUpperCase() };
  setIsmBusy(true);
  document.body.dataset.mutate = 'running';
  try {
    const { result } = await call(0, { type: 'score', index: record.index, edits: [edit] }, 'scores');
    if (result.cancelled) return;
    const e = result.effects[0];
    if (e.error) {
      setStatus($('mut-result'), `${record.id}: ${e.error}`, 'error');
    } else {
      ism.changes.push({ id: record.id, ...e, reference: result.reference, inputs: result.inputs });
      const parts = state.outputs.map(
        (o, i) => `${o.name}: ref ${result.reference[i].toFixed(4)}, alt ${e.alt_values[i].toFixed(4)}, change ${e.delta[i] >= 0 ? '+' : ''}${e.delta[i].toFixed(4)}`,
      );
      const where = e.tss_relative !== null && e.tss_relative !== undefined ? ` (${signed(e.tss_relative)} from the TSS)` : '';
      setStatus($('mut-result'), `${record.id} bp ${e.pos}${where} ${e.ref} → ${e.alt}: ${parts.join('; ')} (${result.inputs})`, 'ok');
      $('export-variants').disabled = false;
    }
    document.body.dataset.mutate = 'done';
  } catch (err) {
    setStatus($('mut-result'), err.message, 'error');
    document.body.dataset.mutate = 'error';
  } finally {
    setIsmBusy(false);
  }
});

// The tables texcnn ism and texcnn variants write, with the same columns.
$('export-ism').addEventListener('click', () => {
  const r = ism.result;
  const rows = r.rows.filter((x) => x.ism_row).map((x) => x.ism_row);
  download(`texcnn-ism-${r.id}-${r.start}-${r.end}.tsv`, 'text/tab-separated-values', table(state.tables.ism, rows));
});
$('export-variants').addEventListener('click', () => {
  download('texcnn-variants.tsv', 'text/tab-separated-values', table(state.tables.variants, ism.changes.map((c) => c.variant_row)));
});

// ---- worker messages ------------------------------------------------------------------------

worker.onmessage = (event) => {
  const msg = event.data;
  if (ismReply(0, msg)) return;
  switch (msg.type) {
    case 'load-progress': {
      document.body.dataset.downloaded = String(msg.loaded);
      const p = $('model-progress');
      if (msg.total) {
        p.max = msg.total;
        p.value = msg.loaded;
      }
      setStatus($('model-status'), `Downloading the model: ${fmtBytes(msg.loaded)}${msg.total ? ` of ${fmtBytes(msg.total)}` : ''}`);
      break;
    }
    case 'ready': {
      state.ready = true;
      state.outputs = msg.outputs;
      state.tables = msg.tables;
      renderLegend();
      $('model-progress').hidden = true;
      $('predict').disabled = false;
      document.body.dataset.model = 'ready';
      document.body.dataset.bundleFromCache = String(msg.fromCache);
      setStatus(
        $('model-status'),
        `${msg.card.name} — loaded ${{ cache: 'from the browser cache', file: `from the file ${msg.name}`, network: 'over the network' }[msg.source]} in ${msg.seconds.toFixed(1)} s`,
        'ok',
      );
      const backend = $('backend');
      backend.dataset.backend = msg.backend;
      backend.dataset.compute = msg.compute;
      // The pool's workers load with the same compute (no probe of their own).
      state.computeLoaded = msg.compute.split(' ')[0];
      const why = msg.computeNote ? ` (${msg.computeNote})` : '';
      backend.textContent = `Backend: ${msg.backendNote}${msg.backend === 'cpu' ? ` Compute: ${msg.compute}${why}.` : ''}`;
      $('model-card-text').textContent = JSON.stringify(msg.card, null, 2);
      break;
    }
    case 'parsed':
      if (msg.seq === -1 || msg.seq === state.seq) showInputErrors(msg.errors, msg.warnings);
      if (msg.seq === state.seq) {
        state.total = msg.records.length;
        setStatus($('run-status'), `${msg.records.length} record(s) to run${msg.errors.length ? `, ${msg.errors.length} error(s) in the input` : ''}`);
      }
      break;
    case 'progress':
      if (msg.seq !== state.seq) break;
      $('run-progress').max = msg.total;
      $('run-progress').value = msg.done;
      setStatus($('run-status'), `${msg.record}: segment ${msg.done} of ${msg.total}`);
      break;
    case 'result':
      if (msg.seq !== state.seq) break;
      state.results.push(msg.result);
      renderResults();
      break;
    case 'embed-help':
      // A run the page has left: the worker embeds every part itself.
      spreadParts(msg.seq === state.seq ? msg : { ...msg, stale: true });
      break;
    case 'record-error':
      if (msg.seq !== state.seq) break;
      state.errors.push({ index: msg.index, id: msg.id, message: msg.message });
      renderResults();
      break;
    case 'done': {
      if (msg.seq !== state.seq) break;
      state.running = false;
      $('predict').disabled = false;
      $('cancel').disabled = true;
      $('run-progress').hidden = true;
      const perRecord = state.results.map((r) => `${r.id}: ${r.timings.total_ms.toFixed(0)} ms (encoder ${r.timings.encoder_ms.toFixed(0)} ms, ${r.segments.length} segments)`);
      const elapsed = performance.now() - state.started;
      $('timings').textContent = `Time to result: ${elapsed.toFixed(0)} ms. ${perRecord.join('; ')}`;
      setStatus($('run-status'), msg.cancelled ? 'Cancelled.' : `Done: ${state.results.length} prediction(s).`);
      document.body.dataset.state = msg.cancelled ? 'cancelled' : 'done';
      document.body.dataset.seconds = String(msg.seconds);
      if (state.results.length) showExplain(state.results[0]);
      break;
    }
    case 'error':
      if (document.body.dataset.model === 'loading') document.body.dataset.model = 'error';
      setStatus(state.running ? $('run-status') : $('model-status'), msg.message, 'error');
      state.running = false;
      document.body.dataset.state = 'error';
      document.body.dataset.error = msg.message;
      $('predict').disabled = !state.ready;
      $('cancel').disabled = true;
      break;
    default:
      break;
  }
};

readManifest().then((read) => {
  manifest = read;
  const url = params.get('bundle') || (manifest.default && manifest.default.url);
  if (!url) {
    setStatus($('model-status'), 'No default model: bundles.json is missing. Open a model bundle file below.', 'error');
    document.body.dataset.model = 'error';
    return;
  }
  fillModelPicker(manifest, url);
  loadBundleUrl(url);
});
