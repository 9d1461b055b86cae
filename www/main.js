// The page: input, results, charts. All model work happens in worker.js.
//
// URL parameters: ?backend=cpu|webgpu|auto (default auto), ?bundle=URL (default from bundles.json).
// When a run finishes, document.body.dataset.state becomes 'done' (the end-to-end test waits on it).

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const worker = new Worker('worker.js', { type: 'module' });

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
  residues: new Map(),
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

function loadModel(msg) {
  state.ready = false;
  $('predict').disabled = true;
  document.body.dataset.model = 'loading';
  setStatus($('model-status'), `Loading ${msg.name}…`);
  $('model-progress').hidden = false;
  $('model-progress').removeAttribute('value');
  worker.postMessage({ ...msg, backend: params.get('backend') || 'auto' });
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

$('predict').addEventListener('click', () => {
  state.seq += 1;
  state.results = [];
  state.errors = [];
  state.residues.clear();
  state.running = true;
  state.started = performance.now();
  document.body.dataset.state = 'running';
  $('predict').disabled = true;
  $('cancel').disabled = false;
  $('run-progress').hidden = false;
  $('run-progress').value = 0;
  setStatus($('run-status'), 'Reading the input…');
  renderResults();
  worker.postMessage({ type: 'predict', text: $('dna').value, tss: tssField(), seq: state.seq });
});

// The page's TSS field: the TSS (1-based) of records without tss= in their header.
function tssField() {
  const n = Number($('tss').value);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

$('cancel').addEventListener('click', () => {
  worker.postMessage({ type: 'cancel' });
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
    bar.addEventListener('click', () => showTokens(result, s));
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
  const record = state.residues.get(result.index);
  worker.postMessage({ type: 'tokens', residues: record.residues, tss: record.tss, start: segment.start, end: segment.end });
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

function csvField(v) {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

$('export-csv').addEventListener('click', () => {
  const header = ['id', 'length', ...state.outputs.flatMap((o) => [o.name, `${o.name}_percentile`]), 'inputs', 'read', 'notes'];
  const lines = [header.join(',')];
  for (const r of state.results) {
    lines.push([r.id, r.length, ...r.outputs.flatMap((o) => [o.value, o.percentile ?? '']), r.inputs, r.read_text, r.notes.join(' ')].map(csvField).join(','));
  }
  download('texcnn-predictions.csv', 'text/csv', lines.join('\n') + '\n');
});
$('export-json').addEventListener('click', () => {
  download(
    'texcnn-predictions.json',
    'application/json',
    JSON.stringify({ outputs: state.outputs, results: state.results, errors: state.errors }, null, 2),
  );
});

// ---- worker messages ------------------------------------------------------------------------

worker.onmessage = (event) => {
  const msg = event.data;
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
      backend.textContent =
        msg.backend === 'webgpu'
          ? 'Backend: WebGPU (your graphics card).'
          : params.get('backend') === 'cpu'
            ? 'Backend: CPU (WebAssembly), as asked by ?backend=cpu.'
            : 'Backend: CPU (WebAssembly): this browser gives no WebGPU adapter.';
      $('model-card-text').textContent = JSON.stringify(msg.card, null, 2);
      break;
    }
    case 'parsed':
      if (msg.seq === -1 || msg.seq === state.seq) showInputErrors(msg.errors, msg.warnings);
      if (msg.seq === state.seq) {
        for (const r of msg.records) state.residues.set(r.index, { residues: r.residues, tss: r.tss });
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
    case 'tokens':
      renderTokens(msg.tokens);
      break;
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
