// End-to-end test of the page in real headless Chromium (Debian's /usr/bin/chromium, driven
// by playwright-core): paste a real promoter and a record with a bad character, wait for the
// result and compare it with the native `texcnn predict` on the same bundle; check the error
// shown; reload and check the bundle came from the Cache API; once on WebGPU (SwiftShader)
// and once on the CPU path (?backend=cpu); offline, reload and predict again (service worker). Saves www/tests/screenshot.png.
//
// Needs the built page (bash www/serve.sh --build-only [--dev]) and the native binary:
//   TEXCNN_BIN=target/debug/texcnn node www/tests/e2e.mjs
// Environment: TEXCNN_BIN (default $CARGO_TARGET_DIR/debug/texcnn or target/debug/texcnn),
// CHROMIUM (default /usr/bin/chromium), E2E_BUNDLE (default the tiny test bundle),
// E2E_TIMING=1 also times a 2,048 bp and a 10,500 bp sequence on each backend, and a 200 bp
// mutagenesis on the CPU path with one worker and with the default pool.
// Prints one line per check and a cargo-style `test result:` line (counted by run_all.sh).

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { chromiumFlags, fastaRecords, runPage, waitReady as waitPageReady } from './page-driver.mjs';
import { startServer } from './static-server.mjs';

const WWW = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO = resolve(WWW, '..');
const FIXTURES = join(REPO, 'tests', 'fixtures');
const TINY = 'fixtures/bundles/tiny_predictor.texcnn';
const DEFAULT = 'models/default.texcnn';
const TOLERANCE = 1e-3;

// The int8 compute the loaded page runs: by default (?compute=auto) in this Chromium, which has
// WebAssembly relaxed SIMD, 'int8' or 'int8-a7' as the worker's probe finds faster on this
// CPU; texcnn's --compute of the same name computes the same numbers.
async function pageInt8(page) {
  const shown = await page.getAttribute('#backend', 'data-compute');
  return shown.split(' ')[0];
}
const TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS || 300_000);
const TEXCNN_BIN =
  process.env.TEXCNN_BIN || join(process.env.CARGO_TARGET_DIR || join(REPO, 'target'), 'debug', 'texcnn');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const FLAGS = chromiumFlags(REPO);

// ---- a tiny harness with cargo-style output ---------------------------------------------------

let passed = 0;
let failed = 0;
async function check(name, body) {
  const started = Date.now();
  try {
    await body();
    passed += 1;
    console.log(`test ${name} ... ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (err) {
    failed += 1;
    console.log(`test ${name} ... FAILED (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    console.log(String(err && err.stack ? err.stack : err).replace(/^/gm, '    '));
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}

// ---- inputs and the native reference ----------------------------------------------------------

const PROMOTERS = fastaRecords(readFileSync(join(FIXTURES, 'promoters_excerpt.fa'), 'utf8'));
const P2048 = PROMOTERS.find((r) => r.seq.length === 2048);
const P1200 = PROMOTERS.find((r) => r.seq.length === 1200);

// A pasted input: a 2,048 bp promoter, then a record with an 'X' at line 4, column 7, then a
// 1,200 bp promoter (the bad record must not stop the good ones).
const BAD_LINE = 4;
const BAD_COLUMN = 7;
const PASTE = [
  `>${P2048.id} promoter from the repository's fixtures`,
  P2048.seq,
  '>broken',
  'ACGTAAXCCGT',
  `>${P1200.id}`,
  P1200.seq,
  '',
].join('\n');
const EXPECTED_ERROR = `record 2 ("broken"), line ${BAD_LINE}, column ${BAD_COLUMN}: invalid character 'X'`;

// `texcnn predict` on the good records: {id: value}. `compute` as in `nativeIsm`.
function nativePredict(bundleFile, records, compute = 'f32') {
  const dir = mkdtempSync(join(tmpdir(), 'texcnn-e2e-'));
  const fasta = join(dir, 'in.fa');
  const out = join(dir, 'out.tsv');
  writeFileSync(fasta, records.map((r) => `>${r.id}\n${r.seq}\n`).join(''));
  execFileSync(TEXCNN_BIN, ['predict', '--bundle', bundleFile, '--fasta', fasta, '--out', out, '--compute', compute], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const [header, ...rows] = readFileSync(out, 'utf8').trim().split('\n');
  const columns = header.split('\t');
  const at = columns.indexOf('inputs');
  assert(at >= 2 && columns[at + 1] === 'read' && columns[at + 2] === 'notes' && columns.length === at + 3, `expected id, the outputs, inputs, read, notes: ${header}`);
  return Object.fromEntries(rows.map((r) => r.split('\t')).map(([id, v]) => [id, Number(v)]));
}

// A TSV that texcnn wrote or the page exported: header and rows split on tabs.
function readTsv(text) {
  const [header, ...rows] = text.trim().split('\n').map((l) => l.split('\t'));
  return { header, rows };
}

// `texcnn ism` on one record: {header, rows, deltas: {`${pos}${alt}`: delta}}. `compute`: how
// the native encoder computes (the page's CPU path computes in int8 by default; WebGPU in f32).
function nativeIsm(bundleFile, record, start, end, compute = 'f32') {
  const dir = mkdtempSync(join(tmpdir(), 'texcnn-e2e-ism-'));
  writeFileSync(join(dir, 'in.fa'), `>${record.id}\n${record.seq}\n`);
  execFileSync(TEXCNN_BIN, ['ism', '--bundle', bundleFile, '--fasta', join(dir, 'in.fa'), '--region', `${start}..${end}`, '--out', join(dir, 'ism.tsv'), '--compute', compute], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const table = readTsv(readFileSync(join(dir, 'ism.tsv'), 'utf8'));
  return { ...table, deltas: Object.fromEntries(table.rows.map((r) => [`${r[1]}${r[3]}`, Number(r[4])])) };
}

// `texcnn variants` on one record and one change: the output row.
function nativeVariant(bundleFile, record, edit, compute = 'f32') {
  const dir = mkdtempSync(join(tmpdir(), 'texcnn-e2e-var-'));
  writeFileSync(join(dir, 'in.fa'), `>${record.id}\n${record.seq}\n`);
  writeFileSync(join(dir, 'v.tsv'), `id\tpos\tref\talt\n${record.id}\t${edit.pos}\t${edit.ref}\t${edit.alt}\n`);
  execFileSync(TEXCNN_BIN, ['variants', '--bundle', bundleFile, '--fasta', join(dir, 'in.fa'), '--variants', join(dir, 'v.tsv'), '--out', join(dir, 'out.tsv'), '--compute', compute], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return readTsv(readFileSync(join(dir, 'out.tsv'), 'utf8'));
}

// Runs mutagenesis of bases start..end of the record the page explains: {`${pos}${alt}`: delta}.
async function pageIsm(page, start, end) {
  await page.fill('#ism-start', String(start));
  await page.fill('#ism-end', String(end));
  await page.click('#ism-run');
  await page.waitForFunction(() => ['done', 'error', 'cancelled'].includes(document.body.dataset.ism), null, { timeout: TIMEOUT_MS });
  const outcome = await page.evaluate(() => document.body.dataset.ism);
  const status = await page.textContent('#ism-status');
  if (outcome !== 'done') throw new Error(`mutagenesis ended ${outcome}: ${status}`);
  const cells = await page.$$eval('#ism-heatmap rect[data-alt]', (r) => r.map((x) => [`${x.dataset.pos}${x.dataset.alt}`, Number(x.dataset.delta)]));
  return { deltas: Object.fromEntries(cells), status };
}

function compareDeltas(got, want, tolerance, label) {
  const keys = Object.keys(want);
  assert(keys.length > 0 && Object.keys(got).length === keys.length, `${label}: ${Object.keys(got).length} cells vs ${keys.length} changes`);
  let worst = 0;
  for (const k of keys) {
    assert(k in got, `${label}: no cell for ${k}`);
    worst = Math.max(worst, Math.abs(got[k] - want[k]));
  }
  const largest = Math.max(...keys.map((k) => Math.abs(want[k])));
  console.log(`${label}: largest |page - texcnn ism| = ${worst.toExponential(2)} (largest |delta| ${largest.toExponential(2)})`);
  assert(worst <= tolerance, `${label}: page and texcnn ism differ by ${worst} > ${tolerance}`);
  assert(largest > 10 * tolerance, `${label}: the deltas (${largest}) are too small to compare at ${tolerance}`);
}

// ---- the page ---------------------------------------------------------------------------------

const waitReady = (page) => waitPageReady(page, TIMEOUT_MS);
const run = (page, text) => runPage(page, text, TIMEOUT_MS);

function compare(got, want, label) {
  let worst = 0;
  for (const [id, w] of Object.entries(want)) {
    assert(id in got, `no result for ${id} on the page (got ${JSON.stringify(got)})`);
    const diff = Math.abs(got[id] - w);
    assert(diff <= TOLERANCE, `${id}: page ${got[id]} vs native ${w} (|diff| ${diff} > ${TOLERANCE})`);
    worst = Math.max(worst, diff);
  }
  if (label) console.log(`${label}: largest |page - native| = ${worst.toExponential(2)}`);
  const extra = Object.keys(got).filter((id) => !(id in want));
  assert(extra.length === 0, `unexpected results on the page: ${extra.join(', ')}`);
}

async function main() {
  const t0 = Date.now();
  const server = await startServer([
    ['/fixtures/', FIXTURES],
    ['/', WWW],
  ]);
  const bundleUrl = process.env.E2E_BUNDLE || TINY;
  const bundleFile = join(bundleUrl.startsWith('fixtures/') ? REPO + '/tests' : WWW, bundleUrl);
  assert(existsSync(join(WWW, 'pkg', 'texcnn_bg.wasm')), 'www/pkg is missing: run bash www/serve.sh --build-only');
  assert(existsSync(TEXCNN_BIN), `${TEXCNN_BIN} is missing: build it with cargo build -p texcnn-native`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  const context = await browser.newContext({ viewport: { width: 1100, height: 1500 } });
  const foreign = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.origin === new URL(server.url).origin || url.protocol === 'blob:' || url.protocol === 'data:') {
      return route.continue();
    }
    foreign.push(route.request().url());
    return route.abort();
  });
  const page = await context.newPage();
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
  const bundleGets = () =>
    server.requests.filter((r) => r.method === 'GET' && r.path === `/${bundleUrl}`).length;

  const goodRecords = [P2048, P1200];
  const native = nativePredict(bundleFile, goodRecords);
  // texcnn predict's values for each int8 compute the page runs (--compute of the same name).
  const nativeInt8 = {};
  const nativeCpu = (compute) =>
    (nativeInt8[compute] ??= nativePredict(bundleFile, goodRecords, compute));
  console.log(`native ${bundleUrl}: ${JSON.stringify(native)}`);
  const timings = [];

  await check('webgpu_matches_native_and_shows_bad_record', async () => {
    await page.goto(`${server.url}?bundle=${encodeURIComponent(bundleUrl)}&backend=webgpu`);
    await waitReady(page);
    const backend = await page.getAttribute('#backend', 'data-backend');
    assert(backend === 'webgpu', `backend shown: ${backend}`);
    assert(bundleGets() === 1, `the bundle was fetched ${bundleGets()} times on the first visit`);
    const downloaded = await page.evaluate(() => document.body.dataset.downloaded);
    const size = statSync(bundleFile).size;
    assert(Number(downloaded) === size, `download progress reached ${downloaded} of ${size} bytes`);
    const { values, ms } = await run(page, PASTE);
    timings.push(`webgpu, paste with ${goodRecords.length} good records: ${ms} ms`);
    compare(values, native, 'webgpu');
    const errors = await page.$$eval('#input-errors li', (li) => li.map((l) => l.textContent));
    assert(
      errors.length === 1 && errors[0].startsWith(EXPECTED_ERROR),
      `input errors shown: ${JSON.stringify(errors)}, expected one starting with ${EXPECTED_ERROR}`,
    );
    // The leave-one-segment-out chart has one bar per segment, and the tokens view shows
    // the chosen segment wrapped in [CLS] … [SEP].
    const bars = await page.$$eval('#segment-chart rect.bar', (b) => b.length);
    assert(bars >= 2, `segment chart has ${bars} bars`);
    await page.waitForFunction(() => document.querySelectorAll('#tokens .token').length > 2);
    const tokens = await page.$$eval('#tokens .token', (t) => t.map((x) => x.textContent));
    assert(tokens[0] === '[CLS]' && tokens.at(-1) === '[SEP]', `tokens: ${tokens.slice(0, 5)}…`);
  });

  // Mutagenesis on WebGPU (SwiftShader here) gives texcnn ism's values (the encoder's
  // WebGPU kernels differ from the CPU's in summation order: 1e-4 where the CPU path has 1e-5).
  await check('webgpu_ism_matches_texcnn_ism', async () => {
    const want = nativeIsm(bundleFile, P2048, 1020, 1025);
    const { deltas } = await pageIsm(page, 1020, 1025);
    compareDeltas(deltas, want.deltas, 1e-4, 'webgpu ism');
  });

  await check('reload_takes_the_bundle_from_the_cache', async () => {
    const before = bundleGets();
    await page.reload();
    await waitReady(page);
    const fromCache = await page.evaluate(() => document.body.dataset.bundleFromCache);
    assert(fromCache === 'true', `bundleFromCache = ${fromCache}`);
    assert(bundleGets() === before, `the bundle was downloaded again (${bundleGets() - before} GETs)`);
    const status = await page.textContent('#model-status');
    assert(/browser cache/.test(status), `model status: ${status}`);
  });

  await check('cpu_matches_native', async () => {
    await page.goto(`${server.url}?bundle=${encodeURIComponent(bundleUrl)}&backend=cpu`);
    await waitReady(page);
    const backend = await page.getAttribute('#backend', 'data-backend');
    assert(backend === 'cpu', `backend shown: ${backend}`);
    // Chromium has relaxed SIMD: the worker timed both int8 kernels and says which it took.
    const compute = await page.getAttribute('#backend', 'data-compute');
    const note = await page.textContent('#backend');
    assert(
      ['int8 (simd128)', 'int8-a7 (relaxed-simd)'].includes(compute) && /relaxed SIMD's 7-bit kernel timed [0-9.]+× SIMD128's/.test(note),
      `the CPU path computes in ${compute}: ${note}`,
    );
    console.log(`cpu: ${note}`);
    const { values, ms } = await run(page, PASTE);
    timings.push(`cpu, paste with ${goodRecords.length} good records: ${ms} ms`);
    compare(values, nativeCpu(compute.split(' ')[0]), 'cpu');
    const errors = await page.$$eval('#input-errors li', (li) => li.map((l) => l.textContent));
    assert(errors.length === 1 && errors[0].startsWith(EXPECTED_ERROR), `input errors: ${JSON.stringify(errors)}`);
  });

  // Each int8 kernel the page has, asked for by name, gives texcnn's numbers for the same
  // --compute: relaxed SIMD's 7-bit quads (?compute=int8-a7, the relaxed-SIMD module), and
  // SIMD128's pairs in the SIMD128 module (?simd=128), predictions and mutagenesis.
  for (const [query, shown, compute] of [
    ['compute=int8-a7', 'int8-a7 (relaxed-simd)', 'int8-a7'],
    ['simd=128', 'int8 (simd128)', 'int8'],
  ]) {
    await check(`cpu_${query.replace(/[=-]/g, '_')}_matches_texcnn_${compute.replace('-', '_')}`, async () => {
      await page.goto(`${server.url}?bundle=${encodeURIComponent(bundleUrl)}&backend=cpu&${query}&workers=1`);
      await waitReady(page);
      const got = await page.getAttribute('#backend', 'data-compute');
      assert(got === shown, `?${query} computes in ${got}, not ${shown}`);
      const { values } = await run(page, PASTE);
      compare(values, nativeCpu(compute), `cpu, ${shown}`);
      const want = nativeIsm(bundleFile, P2048, 1020, 1022, compute);
      const { deltas } = await pageIsm(page, 1020, 1022);
      compareDeltas(deltas, want.deltas, 2e-5, `cpu ism, ${shown}`);
    });
  }

  // On ?backend=auto the page never takes a software WebGPU adapter (headless Chromium's
  // SwiftShader here) over its own CPU path, and says why.
  await check('auto_backend_never_takes_a_software_adapter', async () => {
    await page.goto(`${server.url}?bundle=${encodeURIComponent(bundleUrl)}`);
    await waitReady(page);
    const backend = await page.getAttribute('#backend', 'data-backend');
    const note = await page.textContent('#backend');
    assert(backend === 'cpu' && /software/.test(note), `auto chose ${backend}: ${note}`);
    console.log(`auto: ${note}`);
  });

  // ?compute=f32 computes the CPU path in f32, as texcnn does by default.
  await check('cpu_f32_compute_matches_texcnn_f32', async () => {
    await page.goto(`${server.url}?bundle=${encodeURIComponent(bundleUrl)}&backend=cpu&compute=f32&workers=1`);
    await waitReady(page);
    const compute = await page.getAttribute('#backend', 'data-compute');
    assert(compute === 'f32', `compute shown: ${compute}`);
    await run(page, PASTE);
    const want = nativeIsm(bundleFile, P2048, 1020, 1022);
    const { deltas } = await pageIsm(page, 1020, 1022);
    compareDeltas(deltas, want.deltas, 1e-5, 'cpu f32 ism');
  });

  // Mutagenesis on the CPU path (int8 compute) over a pool of two workers gives texcnn ism's
  // values computed in int8, and so does one worker; the export has texcnn ism's columns; one
  // change in the mutate box gives texcnn variants' row.
  await check('cpu_ism_pool_and_one_worker_match_texcnn_ism', async () => {
    let want;
    const pooled = {};
    const predicted = {};
    for (const workers of [2, 1]) {
      await page.goto(`${server.url}?bundle=${encodeURIComponent(bundleUrl)}&backend=cpu&workers=${workers}`);
      await waitReady(page);
      want = nativeIsm(bundleFile, P2048, 1016, 1035, await pageInt8(page));
      // With two workers each record's segments are embedded half by each, the head on the
      // page's own: the same predictions as one worker's.
      predicted[workers] = (await run(page, PASTE)).values;
      const parts = await page.evaluate(() => document.body.dataset.parts);
      assert(parts === String(workers), `prediction spread over ${parts} worker(s), asked ${workers}`);
      const { deltas, status } = await pageIsm(page, 1016, 1035);
      assert(status.includes(`on ${workers} worker(s)`), `status: ${status}`);
      timings.push(`cpu ism, 60 changes, ${workers} worker(s): ${await page.evaluate(() => document.body.dataset.ismSeconds)} s`);
      // Both sides compute in int8: an activation within float rounding of a quantization
      // boundary may round the other way on the other CPU's kernels (one step, 1/32767 of its
      // row's largest value), so 2e-5 where the f32 comparison above holds 1e-5.
      compareDeltas(deltas, want.deltas, 2e-5, `cpu ism, ${workers} worker(s)`);
      pooled[workers] = deltas;
    }
    for (const k of Object.keys(pooled[1])) {
      assert(Math.abs(pooled[1][k] - pooled[2][k]) <= 1e-6, `${k}: one worker ${pooled[1][k]}, two ${pooled[2][k]}`);
    }
    assert(Object.keys(predicted[1]).length === goodRecords.length, `predictions: ${JSON.stringify(predicted[1])}`);
    for (const k of Object.keys(predicted[1])) {
      assert(Math.abs(predicted[1][k] - predicted[2][k]) <= 1e-6, `${k}: predicted ${predicted[1][k]} by one worker, ${predicted[2][k]} by two`);
    }
    const [exported] = await Promise.all([page.waitForEvent('download'), page.click('#export-ism')]);
    const table = readTsv(readFileSync(await exported.path(), 'utf8'));
    assert(JSON.stringify(table.header) === JSON.stringify(want.header), `export header ${table.header} vs ${want.header}`);
    assert(table.rows.length === want.rows.length, `export rows: ${table.rows.length} vs ${want.rows.length}`);
    // The rows are texcnn ism's: the same edits, TSS positions and inputs, in the same order.
    const text = (rows) => rows.map((r) => [...r.slice(0, 4), ...r.slice(-2)].join(' '));
    assert(JSON.stringify(text(table.rows)) === JSON.stringify(text(want.rows)), 'the exported edits differ from texcnn ism\'s');

    // Cancel stops a long mutagenesis, and the next one completes.
    await page.fill('#ism-start', '1');
    await page.fill('#ism-end', '600');
    await page.click('#ism-run');
    await page.click('#ism-cancel');
    await page.waitForFunction(() => ['done', 'error', 'cancelled'].includes(document.body.dataset.ism), null, { timeout: TIMEOUT_MS });
    const afterCancel = await page.evaluate(() => document.body.dataset.ism);
    assert(afterCancel === 'cancelled', `after Cancel the mutagenesis ended ${afterCancel}: ${await page.textContent('#ism-status')}`);
    const again = await pageIsm(page, 1016, 1018);
    assert(Object.keys(again.deltas).length === 9, `after a cancel: ${JSON.stringify(again.deltas)}`);

    const pos = 1020;
    const ref = P2048.seq[pos - 1];
    const alt = ref === 'A' ? 'G' : 'A';
    await page.fill('#mut-pos', String(pos));
    await page.dispatchEvent('#mut-pos', 'input');
    // The worker, which keeps the record's bases, fills the reference in.
    await page.waitForFunction((r) => document.getElementById('mut-ref').value === r, ref, { timeout: 10_000 }).catch(() => {});
    assert((await page.inputValue('#mut-ref')) === ref, 'the mutate box fills in the reference base');
    await page.fill('#mut-alt', alt);
    await page.click('#mut-run');
    await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.mutate), null, { timeout: TIMEOUT_MS });
    const native = nativeVariant(bundleFile, P2048, { pos, ref, alt }, await pageInt8(page));
    const [variants] = await Promise.all([page.waitForEvent('download'), page.click('#export-variants')]);
    const got = readTsv(readFileSync(await variants.path(), 'utf8'));
    assert(JSON.stringify(got.header) === JSON.stringify(native.header), `variants header ${got.header} vs ${native.header}`);
    assert(got.rows.length === 1, `variants rows: ${got.rows.length}`);
    // Every output's ref, alt and delta (the last two columns are pos_tss and inputs).
    for (let c = 4; c < native.header.length - 2; c++) {
      assert(Math.abs(Number(got.rows[0][c]) - Number(native.rows[0][c])) <= 1e-5, `column ${native.header[c]}: page ${got.rows[0][c]} vs ${native.rows[0][c]}`);
    }
  });

  // A protein pasted by mistake is one error that says so, and two records with one id are
  // two rows in input order, the second with a note; the page shows the same words as
  // `texcnn predict` prints for the same input.
  await check('protein_and_duplicate_ids_one_answer_each_same_words_as_cli', async () => {
    const text = [
      `>${P2048.id}`,
      P2048.seq,
      '>sp|P69905|HBA_HUMAN',
      'MVLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKTYFPHF',
      `>${P2048.id} again`,
      P2048.seq,
      '',
    ].join('\n');
    await run(page, text);
    const shown = await page.$$eval('#input-errors li', (li) => li.map((l) => [l.className, l.textContent]));
    const dir = mkdtempSync(join(tmpdir(), 'texcnn-e2e-'));
    writeFileSync(join(dir, 'in.fa'), text);
    let stderr = '';
    try {
      execFileSync(TEXCNN_BIN, ['predict', '--bundle', bundleFile, '--fasta', join(dir, 'in.fa'), '--out', join(dir, 'out.tsv')], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    } catch (err) {
      stderr = String(err.stderr);
    }
    const prefix = `${join(dir, 'in.fa')}: `;
    const cli = stderr.split('\n').filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
    const want = cli.map((l) => (l.startsWith('warning: ') ? ['input-warning', l.slice(9)] : ['input-error', l]));
    assert(JSON.stringify(shown) === JSON.stringify(want), `page ${JSON.stringify(shown)} vs texcnn predict ${JSON.stringify(want)}`);
    assert(shown.length === 2 && /looks like a protein sequence/.test(shown[0][1]) && /same id as record 1/.test(shown[1][1]), `shown: ${JSON.stringify(shown)}`);
    const rows = await page.$$eval('#results-table tbody tr[data-id]', (r) =>
      r.map((x) => [x.dataset.id, x.dataset.index, x.querySelector('td.value').dataset.value, x.querySelector('td.notes').textContent]),
    );
    assert(rows.length === 2 && rows[0][0] === P2048.id && rows[1][0] === P2048.id, `rows: ${JSON.stringify(rows)}`);
    assert(rows[0][1] === '0' && rows[1][1] === '2', `row positions: ${JSON.stringify(rows)}`);
    assert(rows[0][2] === rows[1][2], `same sequence, different values: ${JSON.stringify(rows)}`);
    const dupNote = 'duplicate id: also record 1';
    assert(rows[1][3] === (rows[0][3] ? `${rows[0][3]} ${dupNote}` : dupNote), `notes: ${JSON.stringify(rows)}`);
  });

  // Cancel stops a run between segment batches or records (one flag, in wasm), says so, and
  // the next run starts afresh.
  await check('cancel_stops_the_run_and_the_next_run_completes', async () => {
    const many = Array.from({ length: 40 }, (_, i) => `>r${i}\n${P2048.seq}\n`).join('');
    await page.fill('#dna', many);
    await page.click('#predict');
    await page.waitForFunction(() => document.querySelectorAll('#results-table tbody tr[data-id]').length >= 1, null, {
      timeout: TIMEOUT_MS,
    });
    await page.click('#cancel');
    await page.waitForFunction(() => ['done', 'cancelled'].includes(document.body.dataset.state), null, { timeout: TIMEOUT_MS });
    const state = await page.evaluate(() => document.body.dataset.state);
    const rows = await page.$$eval('#results-table tbody tr[data-id]', (r) => r.length);
    assert(state === 'cancelled' && rows < 40, `after cancel: state ${state}, ${rows} rows`);
    assert((await page.textContent('#run-status')) === 'Cancelled.', 'status after cancel');
    const { values } = await run(page, `>again\n${P2048.seq}\n`);
    assert(Math.abs(values.again - native[P2048.id]) <= TOLERANCE, `after a cancel: ${JSON.stringify(values)}`);
  });

  // After one visit the service worker (www/sw.js) holds the page's own files: offline, a
  // reload still opens the page, loads the bundle from the Cache API and predicts. Offline is
  // playwright's network emulation and, beside it, a server that drops every connection:
  // Chromium's own service-worker update check (sw.js and what it imports) is not covered by
  // the emulation, and must fail as it would on a machine with no network. Every request the
  // page itself makes must be answered from the cache: none may even try the server.
  await check('offline_reload_serves_the_page_and_predicts', async () => {
    await page.waitForFunction(() => navigator.serviceWorker && navigator.serviceWorker.controller !== null, null, {
      timeout: TIMEOUT_MS,
    });
    const before = server.requests.length;
    await context.setOffline(true);
    server.setDown(true);
    try {
      await page.reload();
      await waitReady(page);
      const { values } = await run(page, PASTE);
      compare(values, nativeCpu(await pageInt8(page)), 'offline (cpu)');
      const updateCheck = new Set(['/sw.js', '/pkg/build.js']);
      const tried = server.requests.slice(before);
      const fromPage = tried.filter((r) => !updateCheck.has(r.path)).map((r) => `${r.method} ${r.path}`);
      assert(fromPage.length === 0, `offline, the page tried the server for: ${fromPage.join(', ')}`);
      assert(tried.every((r) => r.refused), 'a request was answered while the server was down');
      const controlled = await page.evaluate(() => navigator.serviceWorker.controller !== null);
      assert(controlled, 'the reloaded page is not controlled by the service worker');
    } finally {
      server.setDown(false);
      await context.setOffline(false);
    }
  });

  await check('exports_csv_and_json', async () => {
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const csvText = readFileSync(await csv.path(), 'utf8').trim().split('\n');
    assert(/^id,length,([^,]+,[^,]+_percentile,)+inputs,read,notes$/.test(csvText[0]), `CSV header: ${csvText[0]}`);
    assert(csvText.length === 1 + goodRecords.length, `CSV rows: ${csvText.length}`);
    const [json] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
    const data = JSON.parse(readFileSync(await json.path(), 'utf8'));
    compare(Object.fromEntries(data.results.map((r) => [r.id, r.outputs[0].value])), nativeCpu(await pageInt8(page)));
  });

  await check('dropped_fasta_file_fills_the_input', async () => {
    const text = `>dropped\n${P1200.seq}\n>second\nACGTACGT\n`;
    const transfer = await page.evaluateHandle((t) => {
      const dt = new DataTransfer();
      dt.items.add(new File([t], 'dropped.fa', { type: 'text/plain' }));
      return dt;
    }, text);
    await page.dispatchEvent('#input', 'drop', { dataTransfer: transfer });
    await page.waitForFunction((t) => document.getElementById('dna').value === t, text);
  });

  await check('model_picker_loads_a_bundle_file', async () => {
    // The picker starts a load (the model's state leaves this mark; a fast load may pass
    // 'loading' before a poll sees it).
    await page.evaluate(() => {
      document.body.dataset.model = 'before-picker';
    });
    await page.setInputFiles('#bundle-picker', bundleFile);
    await page.waitForFunction(() => document.body.dataset.model !== 'before-picker');
    await waitReady(page);
    const status = await page.textContent('#model-status');
    assert(status.includes(`loaded from the file ${basename(bundleFile)}`), `model status: ${status}`);
    const { values } = await run(page, PASTE);
    compare(values, nativeCpu(await pageInt8(page)));
  });

  await page.screenshot({ path: join(WWW, 'tests', 'screenshot.png'), fullPage: true });

  if (existsSync(join(WWW, DEFAULT)) && bundleUrl !== DEFAULT) {
    await check('default_bundle_cpu_matches_native', async () => {
      await page.goto(`${server.url}?backend=cpu`);
      await waitReady(page);
      const want = nativePredict(join(WWW, DEFAULT), [P2048], await pageInt8(page));
      const { values, ms } = await run(page, `>${P2048.id}\n${P2048.seq}\n`);
      timings.push(`cpu, default bundle, 2,048 bp: ${ms} ms`);
      compare(values, want, 'cpu, default bundle');
      // The unit and the percentile come from Rust: the label's transform of its unit once,
      // and an English ordinal.
      const header = await page.$$eval('#results-table thead th', (th) => th.map((x) => x.textContent));
      assert(header.some((h) => h.includes('(log10(RPKM + 0.1))')) && !header.some((h) => h.includes('log10(log10')), `header: ${header}`);
      const pct = await page.textContent('#results-table tbody tr[data-id] td:nth-child(4)');
      const n = Number.parseInt(pct, 10);
      const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' })[n % 10] || 'th';
      assert(pct === `${n}${suffix}`, `percentile cell: ${pct}`);
    });
    // A 10,500 bp record with tss=7001 is read around its TSS: its 2,048 bp TSS-centred slice
    // (the promoter, between other promoters' bases) predicts as the promoter alone, and the
    // table says which bases were read.
    await check('default_bundle_reads_a_long_record_around_its_tss', async () => {
      const want = nativePredict(join(WWW, DEFAULT), [P2048], await pageInt8(page));
      const flank = PROMOTERS.filter((r) => r !== P2048).map((r) => r.seq).join('').repeat(4);
      const long = flank.slice(0, 5976) + P2048.seq + flank.slice(5976, 5976 + 2476);
      assert(long.length === 10_500, `long record: ${long.length} bp`);
      const { values } = await run(page, `>long_window tss=7001\n${long}\n`);
      compare(values, { long_window: want[P2048.id] }, 'cpu, default bundle, tss=7001 in 10,500 bp');
      const read = await page.textContent('#results-table tbody tr[data-id="long_window"] td:nth-child(2)');
      assert(read === '5977-8024 of 10500, tss 7001', `read column: ${read}`);
    });
    // A promoter named by its Ensembl id is predicted from the DNA and the gene's bundled
    // features, the same bases under another name from the DNA alone; each row says which,
    // with the values of texcnn predict.
    await check('default_bundle_uses_the_features_of_known_genes', async () => {
      const [, first] = readFileSync(join(REPO, 'native-train', 'data', 'genes_2kb.tsv'), 'utf8').split('\n');
      const cells = first.split('\t');
      const gene = { id: cells[0], seq: cells[5] };
      const anonymous = { id: 'unnamed', seq: gene.seq };
      const want = nativePredict(join(WWW, DEFAULT), [gene, anonymous], await pageInt8(page));
      assert(Math.abs(want[gene.id] - want.unnamed) > 1e-3, `the features changed nothing: ${JSON.stringify(want)}`);
      const { values } = await run(page, `>${gene.id}\n${gene.seq}\n>unnamed\n${gene.seq}\n`);
      compare(values, want, 'cpu, default bundle, by Ensembl id');
      const inputs = await page.$$eval('#results-table tbody tr[data-id]', (rows) =>
        rows.map((r) => [r.dataset.id, r.querySelector('td.inputs').textContent]),
      );
      assert(JSON.stringify(inputs) === JSON.stringify([[gene.id, 'dna+features'], ['unnamed', 'dna']]), `inputs: ${JSON.stringify(inputs)}`);
    });
  } else {
    console.log(`note: ${DEFAULT} does not exist; the CPU check ran with ${bundleUrl} only`);
  }

  if (process.env.E2E_TIMING) {
    // 10,500 bp: the excerpt's promoters joined end to end (timing only, not biology).
    const long = PROMOTERS.map((r) => r.seq).join('').slice(0, 10_500);
    for (const backend of ['cpu', 'webgpu']) {
      await page.goto(`${server.url}?bundle=${encodeURIComponent(bundleUrl)}&backend=${backend}`);
      await waitReady(page);
      // Twice each: the first runs include WebAssembly tier-up and (WebGPU) shader compiles.
      for (const [name, seq] of [['2048bp', P2048.seq], ['10500bp', long], ['2048bp', P2048.seq], ['10500bp', long]]) {
        const { ms } = await run(page, `>${name}\n${seq}\n`);
        const inner = await page.textContent('#timings');
        timings.push(`${backend}, ${name}: paste to result ${ms} ms (${inner})`);
      }
    }
    // Mutagenesis of 200 bp around the TSS (600 substitutions) on the CPU path, with one
    // worker and with the default pool (navigator.hardwareConcurrency workers, at most 4),
    // three times each (the first includes loading the pool's models).
    for (const workers of ['1', '']) {
      await page.goto(`${server.url}?bundle=${encodeURIComponent(bundleUrl)}&backend=cpu${workers ? `&workers=${workers}` : ''}`);
      await waitReady(page);
      await run(page, `>${P2048.id}\n${P2048.seq}\n`);
      for (let i = 0; i < 3; i++) {
        const { status } = await pageIsm(page, 926, 1125);
        timings.push(`cpu ism, 200 bp, ${workers ? `${workers} worker` : 'default pool'}: ${status}`);
      }
    }
  }

  // bundles.json with a digest: the cache key is versioned by it, and a wrong digest is an
  // error (each in a fresh browser context, so with an empty cache).
  const digest = createHash('sha256').update(readFileSync(bundleFile)).digest('hex');
  const manifest = (sha256) => ({
    body: JSON.stringify({ default: { url: bundleUrl, sha256 } }),
    type: 'application/json',
  });
  await check('bundles_json_digest_versions_the_cache_key', async () => {
    server.overrides.set('/bundles.json', manifest(digest));
    const fresh = await browser.newContext();
    const p = await fresh.newPage();
    await p.goto(`${server.url}?backend=cpu`);
    await waitReady(p);
    await p.reload();
    await waitReady(p);
    const [fromCache, keys] = await p.evaluate(async () => [
      document.body.dataset.bundleFromCache,
      (await (await caches.open('texcnn-bundles-v1')).keys()).map((r) => r.url),
    ]);
    assert(fromCache === 'true', `bundleFromCache = ${fromCache}`);
    assert(
      keys.length === 1 && keys[0] === `${server.url}${bundleUrl}?sha256=${digest}`,
      `cache keys: ${JSON.stringify(keys)}`,
    );
    await fresh.close();
  });
  await check('bundles_json_digest_mismatch_is_an_error', async () => {
    server.overrides.set('/bundles.json', manifest('0'.repeat(64)));
    const fresh = await browser.newContext();
    const p = await fresh.newPage();
    await p.goto(`${server.url}?backend=cpu`);
    await p.waitForFunction(() => document.body.dataset.model === 'error', null, { timeout: TIMEOUT_MS });
    const status = await p.textContent('#model-status');
    assert(status.includes(`has SHA-256 ${digest}, but bundles.json lists ${'0'.repeat(64)}`), `model status: ${status}`);
    await fresh.close();
  });
  server.overrides.delete('/bundles.json');

  await check('no_request_to_another_host', async () => {
    assert(foreign.length === 0, `requests to other hosts: ${foreign.join(', ')}`);
  });

  await browser.close();
  await server.close();
  for (const t of timings) console.log(`timing: ${t}`);
  if (failed) console.log(`browser console:\n${consoleLines.join('\n')}`);
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(
    `\ntest result: ${failed ? 'FAILED' : 'ok'}. ${passed} passed; ${failed} failed; 0 ignored; 0 measured; 0 filtered out; finished in ${secs}s`,
  );
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.log(`test e2e_setup ... FAILED\n${err && err.stack ? err.stack : err}`);
  console.log(`\ntest result: FAILED. ${passed} passed; ${failed + 1} failed; 0 ignored; 0 measured; 0 filtered out`);
  process.exit(1);
});
