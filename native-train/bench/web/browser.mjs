// Browser benchmark: the page itself (our wasm CPU path, and WebGPU) against ONNX Runtime Web
// (npm onnxruntime-web, WASM and WebGPU) running the same encoder's ONNX export, in the same
// headless Chromium, on the same segments and tokens.
//
// For each model (--model NAME=HF_FOLDER, repeatable) it prepares, under --work:
//   NAME/page.texcnn    the encoder as an int8 predictor bundle with an untrained head and
//                       TExCNN's 2,000 bp / stride 500 segments (`texcnn bench --web-bundle`)
//   NAME/onnx/          encoder_fp32.onnx and encoder_int8.onnx (`reference.py export`)
//   NAME/<input>/       gene.fa, segments.fa, tokens.json (`texcnn bench --prepare-only`)
//                       and ours_f32.tsv (`texcnn embed`): the reference for the parity check
// then times, per model and input, each runtime RUNS times in one page (the first run pays
// for warm-up: shader compilation, wasm tier-up, allocation), and prints a markdown table:
// first run, median of the later runs with min/max, tokens/s and GFLOP/s, and the ratios of
// our medians to ONNX Runtime Web's. Our figure is the page's own "Time to result" (from
// pressing Predict to the table, tokenizing and the head included); ONNX Runtime Web's is its
// embedding of the same token ids (session creation apart).
//
// Inputs: 2048 = www/example.fa (a 2,048 bp human promoter: 2 segments); 10500 = record 0 of
// tests/fixtures/pig_test_10seq.h5 (the 10,500 bp gene of `texcnn bench`: 18 segments).
//
// Run from the repository root after `bash www/serve.sh --build-only` (release page) and
// `cargo build --release -p texcnn-native`, with `npm ci` in this folder:
//   node native-train/bench/web/browser.mjs --model default=models/encoder \
//     --model full=/tmp/texcnn-bench/dnabert2-117m-random --python /work/bench-venv/bin/python
// Options: --texcnn BIN (target/release/texcnn), --python PY (python3), --work DIR
// (/tmp/texcnn-bench/browser), --inputs 2048,10500, --runs N (3), --runtimes LIST (default
// ours-cpu,ours-webgpu,ort-wasm-fp32,ort-wasm-int8,ort-webgpu-fp32; ours-cpu-simd128 is the
// page's SIMD128 module where the browser has relaxed SIMD, ours-cpu-a7 its relaxed-SIMD
// kernel whether or not its probe takes it), --page-workers N (1: the
// page's workers, each embedding a share of every record's segments), --ort-threads N (1; more
// needs cross-origin isolation, which the server gives), --ort-batch N (1), --skip REGEX
// (skips "MODEL/INPUT/RUNTIME" keys that match), --timeout-min N (60 per page),
// --json FILE (results.json under --work); --from-json FILE (repeatable) only re-prints the
// tables of earlier runs' JSON files, merged.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs as parseArgsOf } from 'node:util';
import { chromium } from 'playwright-core';
import { chromiumFlags, runPage, waitReady } from '../../../www/tests/page-driver.mjs';
import { startServer } from '../../../www/tests/static-server.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..', '..');
const WWW = join(REPO, 'www');

const RUNTIMES = {
  'ours-cpu': { label: 'texcnn page, CPU (wasm)', ours: true, backend: 'cpu' },
  // The page's SIMD128 module even where the browser has relaxed SIMD (?simd=128).
  'ours-cpu-simd128': { label: 'texcnn page, CPU (wasm, SIMD128 module)', ours: true, backend: 'cpu', query: '&simd=128' },
  // Relaxed SIMD's 7-bit kernel, whether or not the page's probe would take it (?compute=int8-a7).
  'ours-cpu-a7': { label: 'texcnn page, CPU (wasm, int8-a7 on relaxed SIMD)', ours: true, backend: 'cpu', query: '&compute=int8-a7' },
  'ours-webgpu': { label: 'texcnn page, WebGPU', ours: true, backend: 'webgpu' },
  'ort-wasm-fp32': { label: 'ORT Web WASM fp32', ep: 'wasm', onnx: 'encoder_fp32.onnx' },
  'ort-wasm-int8': { label: 'ORT Web WASM int8 (dynamic)', ep: 'wasm', onnx: 'encoder_int8.onnx' },
  'ort-webgpu-fp32': { label: 'ORT Web WebGPU fp32', ep: 'webgpu', onnx: 'encoder_fp32.onnx' },
};

function parseArgs(argv) {
  const { values: v } = parseArgsOf({
    args: argv,
    options: {
      texcnn: { type: 'string', default: join(REPO, 'target', 'release', 'texcnn') },
      python: { type: 'string', default: 'python3' },
      work: { type: 'string', default: '/tmp/texcnn-bench/browser' },
      model: { type: 'string', multiple: true, default: [] },
      inputs: { type: 'string', default: '2048,10500' },
      runs: { type: 'string', default: '3' },
      runtimes: { type: 'string', default: 'ours-cpu,ours-webgpu,ort-wasm-fp32,ort-wasm-int8,ort-webgpu-fp32' },
      'ort-threads': { type: 'string', default: '1' },
      'page-workers': { type: 'string', default: '1' },
      'ort-batch': { type: 'string', default: '1' },
      skip: { type: 'string' },
      'timeout-min': { type: 'string', default: '60' },
      json: { type: 'string' },
      'from-json': { type: 'string', multiple: true },
    },
  });
  const args = {
    texcnn: v.texcnn,
    python: v.python,
    work: v.work,
    models: v.model.map((spec) => {
      const [name, dir] = spec.split('=');
      if (!name || !dir) throw new Error('--model takes NAME=HF_FOLDER');
      return { name, dir: resolve(dir) };
    }),
    inputs: v.inputs.split(','),
    runs: Number(v.runs),
    runtimes: v.runtimes.split(','),
    ortThreads: Number(v['ort-threads']),
    pageWorkers: Number(v['page-workers']),
    ortBatch: Number(v['ort-batch']),
    skip: v.skip ? new RegExp(v.skip) : null,
    timeoutMin: Number(v['timeout-min']),
    json: v.json ?? null,
    fromJson: v['from-json'],
  };
  if (args.models.length === 0 && !args.fromJson) throw new Error('give at least one --model NAME=HF_FOLDER');
  for (const r of args.runtimes) if (!RUNTIMES[r]) throw new Error(`unknown runtime ${r}`);
  for (const input of args.inputs) if (!['2048', '10500'].includes(input)) throw new Error(`unknown input ${input}`);
  if (!(args.runs >= 1)) throw new Error('--runs must be at least 1');
  return args;
}

function sh(cmd, argv) {
  console.error(`$ ${cmd} ${argv.join(' ')}`);
  return execFileSync(cmd, argv, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// Bundle, ONNX files, inputs (segments, token ids, FLOPs) and our f32 reference embeddings.
function prepare(args, model) {
  const dir = join(args.work, model.name);
  mkdirSync(dir, { recursive: true });
  const bundle = join(dir, 'page.texcnn');
  if (!existsSync(bundle)) sh(args.texcnn, ['bench', '--model', model.dir, '--web-bundle', bundle]);
  const onnx = join(dir, 'onnx');
  if (!existsSync(join(onnx, 'encoder_int8.onnx'))) {
    sh(args.python, [join(REPO, 'native-train', 'bench', 'reference.py'), 'export', model.dir, '--work', onnx]);
  }
  const inputs = {};
  for (const input of args.inputs) {
    const gene = join(dir, input);
    const source =
      input === '2048'
        ? ['--fasta', join(WWW, 'example.fa')]
        : ['--h5', join(REPO, 'tests', 'fixtures', 'pig_test_10seq.h5'), '--record', '0'];
    const report = sh(args.texcnn, ['bench', '--model', model.dir, '--precision', 'f32', ...source, '--prepare-only', '--write-gene', gene]);
    const gflop = Number(/matmul FLOPs per gene \(unpadded tokens\): ([0-9.]+) GFLOP/.exec(report)[1]);
    const tokens = JSON.parse(readFileSync(join(gene, 'tokens.json'), 'utf8'));
    const reference = join(gene, 'ours_f32.tsv');
    if (!existsSync(reference)) {
      sh(args.texcnn, ['embed', '--model', model.dir, '--fasta', join(gene, 'segments.fa'), '--out', reference]);
    }
    inputs[input] = {
      fasta: readFileSync(join(gene, 'gene.fa'), 'utf8'),
      length: tokens.length,
      segments: tokens.token_ids.length,
      tokens: tokens.token_ids.reduce((n, s) => n + s.length, 0),
      gflop,
      reference: readFileSync(reference, 'utf8')
        .trim()
        .split('\n')
        .map((line) => line.split('\t').slice(1).map(Number)),
    };
  }
  return { dir, bundle, onnx, inputs };
}

// Parity of ORT Web's vectors with ours (f32 `texcnn embed`): max |diff| and min cosine.
function parity(vectors, reference) {
  let maxDiff = 0;
  let minCos = 1;
  vectors.forEach((v, i) => {
    const r = reference[i];
    let dot = 0;
    let nv = 0;
    let nr = 0;
    v.forEach((x, j) => {
      maxDiff = Math.max(maxDiff, Math.abs(x - r[j]));
      dot += x * r[j];
      nv += x * x;
      nr += r[j] * r[j];
    });
    minCos = Math.min(minCos, dot / Math.sqrt(nv * nr));
  });
  if (vectors.length !== reference.length) throw new Error(`${vectors.length} vectors, expected ${reference.length}`);
  return { maxDiff, minCos };
}

async function timeOurs(context, server, args, model, prepared, runtime) {
  const page = await context.newPage();
  const timeout = args.timeoutMin * 60_000;
  // ?workers=N: the page spreads each prediction over N workers (its CPU path).
  const url = `${server.url}?backend=${RUNTIMES[runtime].backend}&workers=${args.pageWorkers}&bundle=${encodeURIComponent(`/work/${model.name}/page.texcnn`)}${RUNTIMES[runtime].query || ''}`;
  const started = Date.now();
  await page.goto(url);
  await waitReady(page, timeout);
  const loadMs = Date.now() - started;
  const backend = await page.$eval('#backend', (el) => el.dataset.backend);
  // How the CPU path computes, e.g. 'int8-a7 (relaxed-simd)', and what the page's probe of the
  // relaxed-SIMD kernel measured (on ?compute=auto).
  const compute = await page.$eval('#backend', (el) => el.dataset.compute);
  const probe = /7-bit kernel timed ([0-9.]+×)/.exec(await page.textContent('#backend'));
  const out = {};
  for (const input of args.inputs) {
    const key = `${model.name}/${input}/${runtime}`;
    if (args.skip && args.skip.test(key)) continue;
    const runMs = [];
    const encoderMs = [];
    for (let run = 0; run < args.runs; run += 1) {
      await runPage(page, prepared.inputs[input].fasta, timeout);
      const text = await page.textContent('#timings');
      const total = /Time to result: (\d+) ms/.exec(text);
      const encoder = /encoder (\d+) ms/.exec(text);
      if (!total) throw new Error(`no timing on the page: ${text}`);
      runMs.push(Number(total[1]));
      if (encoder) encoderMs.push(Number(encoder[1]));
      console.error(`${key} run ${run + 1}: ${text}`);
    }
    out[input] = { runMs, encoderMs, loadMs, backend, compute, probe: probe ? probe[1] : null };
  }
  await page.close();
  return out;
}

async function timeOrt(context, server, args, model, prepared, runtime) {
  const spec = RUNTIMES[runtime];
  const out = {};
  for (const input of args.inputs) {
    const key = `${model.name}/${input}/${runtime}`;
    if (args.skip && args.skip.test(key)) continue;
    const page = await context.newPage();
    const query = new URLSearchParams({
      model: `/work/${model.name}/onnx/${spec.onnx}`,
      tokens: `/work/${model.name}/${input}/tokens.json`,
      ep: spec.ep,
      threads: String(args.ortThreads),
      batch: String(args.ortBatch),
      runs: String(args.runs),
    });
    await page.goto(`${server.url}bench/ort.html?${query}`);
    await page.waitForFunction(() => window.benchResult, null, { timeout: args.timeoutMin * 60_000, polling: 1000 });
    const result = await page.evaluate(() => window.benchResult);
    await page.close();
    if (result.status !== 'done') throw new Error(`${key}: ${result.message}`);
    const check = parity(result.vectors, prepared.inputs[input].reference);
    console.error(`${key}: load ${result.loadMs.toFixed(0)} ms, runs ${result.runMs.map((m) => m.toFixed(0)).join(', ')} ms; vs ours f32: max |diff| ${check.maxDiff.toExponential(2)}, min cosine ${check.minCos.toFixed(6)}`);
    out[input] = { runMs: result.runMs, loadMs: result.loadMs, parity: check };
  }
  return out;
}

function table(args, results, prepared) {
  const lines = [];
  lines.push('| model | input | runtime | first run s | later runs: median s (min–max) | tokens/s | GFLOP/s | notes |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
  const figure = {};
  const encoder = {};
  for (const model of args.models) {
    for (const input of args.inputs) {
      const info = prepared[model.name].inputs[input];
      for (const runtime of args.runtimes) {
        const r = results[model.name]?.[runtime]?.[input];
        if (!r) continue;
        const later = r.runMs.length > 1 ? r.runMs.slice(1) : r.runMs;
        const med = median(later) / 1000;
        figure[`${model.name}/${input}/${runtime}`] = med;
        const notes = [];
        if (r.backend) notes.push(`backend ${r.backend}`);
        if (r.compute && r.backend === 'cpu') notes.push(`compute ${r.compute}`);
        if (r.probe) notes.push(`relaxed-SIMD probe ${r.probe}`);
        if (r.encoderMs && r.encoderMs.length) {
          encoder[`${model.name}/${input}/${runtime}`] = median(r.encoderMs.slice(r.encoderMs.length > 1 ? 1 : 0)) / 1000;
          notes.push(`encoder ${encoder[`${model.name}/${input}/${runtime}`].toFixed(2)} s`);
        }
        if (r.parity) notes.push(`vs ours f32: max diff ${r.parity.maxDiff.toExponential(1)}, cosine ≥ ${r.parity.minCos.toFixed(5)}`);
        notes.push(`load ${(r.loadMs / 1000).toFixed(1)} s`);
        lines.push(
          `| ${model.name} | ${info.length} bp, ${info.segments} seg, ${info.tokens} tok | ${RUNTIMES[runtime].label} | ${(r.runMs[0] / 1000).toFixed(2)} | ` +
            `${med.toFixed(2)} (${(Math.min(...later) / 1000).toFixed(2)}–${(Math.max(...later) / 1000).toFixed(2)}) | ` +
            `${(info.tokens / med).toFixed(0)} | ${(info.gflop / med).toFixed(1)} | ${notes.join('; ')} |`,
        );
      }
    }
  }
  lines.push('');
  // Like for like: our CPU path against ORT Web's WASM, our WebGPU against its WebGPU; on the
  // whole page time and on our encoder time alone (ORT Web's figure is its encoder alone).
  lines.push('| model | input | ours | ORT Web | ours / ORT Web, page time | ours / ORT Web, encoder only |');
  lines.push('| --- | --- | --- | --- | --- | --- |');
  const pairs = [
    ['ours-cpu', 'ort-wasm-fp32'],
    ['ours-cpu', 'ort-wasm-int8'],
    ['ours-cpu-simd128', 'ort-wasm-fp32'],
    ['ours-cpu-simd128', 'ort-wasm-int8'],
    ['ours-cpu-a7', 'ort-wasm-fp32'],
    ['ours-cpu-a7', 'ort-wasm-int8'],
    ['ours-webgpu', 'ort-webgpu-fp32'],
  ];
  for (const model of args.models) {
    for (const input of args.inputs) {
      for (const [ours, peer] of pairs) {
        const a = figure[`${model.name}/${input}/${ours}`];
        const e = encoder[`${model.name}/${input}/${ours}`];
        const b = figure[`${model.name}/${input}/${peer}`];
        if (!a || !b) continue;
        lines.push(`| ${model.name} | ${input} | ${RUNTIMES[ours].label} | ${RUNTIMES[peer].label} | ${(a / b).toFixed(2)} | ${e ? (e / b).toFixed(2) : '-'} |`);
      }
    }
  }
  return lines.join('\n');
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.fromJson) {
    // Re-print the table of earlier runs (several --from-json files are merged).
    const saved = args.fromJson.map((f) => JSON.parse(readFileSync(f, 'utf8')));
    const merged = { models: [], inputs: args.inputs, runtimes: args.runtimes };
    const results = {};
    const info = {};
    for (const s of saved) {
      for (const m of s.args.models) if (!merged.models.some((x) => x.name === m.name)) merged.models.push(m);
      for (const [m, byRuntime] of Object.entries(s.results)) results[m] = { ...results[m], ...byRuntime };
      Object.assign(info, s.info);
      console.log(s.notes.join('\n'));
    }
    console.log();
    console.log(table(merged, results, info));
    return;
  }
  if (!existsSync(join(WWW, 'pkg', 'texcnn_bg.wasm'))) throw new Error('www/pkg is missing: run bash www/serve.sh --build-only');
  if (!existsSync(args.texcnn)) throw new Error(`${args.texcnn} is missing: cargo build --release -p texcnn-native`);
  if (!existsSync(join(HERE, 'node_modules', 'onnxruntime-web'))) throw new Error(`run npm ci in ${HERE}`);
  const prepared = {};
  for (const model of args.models) prepared[model.name] = prepare(args, model);

  // Cross-origin isolation lets ONNX Runtime Web use threads (--ort-threads); the page runs
  // on one thread either way.
  const server = await startServer(
    [
      ['/bench/', HERE],
      ['/work/', resolve(args.work)],
      ['/', WWW],
    ],
    { headers: { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } },
  );
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: chromiumFlags(REPO) });
  const context = await browser.newContext();
  const results = {};
  const notes = [`machine: ${cpus().length} CPU(s), ${cpus()[0].model}; load average at start ${loadavg().map((l) => l.toFixed(2)).join('/')}`];
  try {
    for (const model of args.models) {
      results[model.name] = {};
      for (const runtime of args.runtimes) {
        const keyPrefix = `${model.name}/*/${runtime}`;
        console.error(`== ${keyPrefix} (load average ${loadavg()[0].toFixed(2)})`);
        try {
          const time = RUNTIMES[runtime].ours ? timeOurs : timeOrt;
          results[model.name][runtime] = await time(context, server, args, model, prepared[model.name], runtime);
        } catch (err) {
          notes.push(`${keyPrefix}: FAILED: ${String(err.message || err).split('\n')[0]}`);
          console.error(`${keyPrefix} failed: ${err.stack || err}`);
        }
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
  notes.push(`load average at the end ${loadavg().map((l) => l.toFixed(2)).join('/')}`);
  notes.push(`ORT Web: ${args.ortThreads} thread(s), batch ${args.ortBatch}; the page: ${args.pageWorkers} worker(s) on the CPU path, its own batches (CPU 2, WebGPU 4)`);
  const json = args.json || join(args.work, 'results.json');
  const info = Object.fromEntries(
    Object.entries(prepared).map(([m, p]) => [m, { inputs: Object.fromEntries(Object.entries(p.inputs).map(([k, v]) => [k, { ...v, fasta: undefined, reference: undefined }])) }]),
  );
  writeFileSync(json, JSON.stringify({ args: { ...args, skip: String(args.skip) }, notes, info, results }, null, 1));
  console.log(notes.join('\n'));
  console.log();
  console.log(table(args, results, info));
  console.error(`results: ${json}`);
}

main().catch((err) => {
  console.error(err.stack || String(err));
  process.exit(1);
});
