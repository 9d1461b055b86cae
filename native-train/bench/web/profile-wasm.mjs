// Where the page's CPU (wasm) path spends its time: runs the page's own wasm package
// (www/pkg, built by `bash www/serve.sh --build-only`) under Node's V8 sampling profiler on one
// input, through the same WebPredictor API the page's worker calls, and prints the functions
// with the most self time, grouped into kinds (gemm, element-wise, softmax, GELU, memory, ...).
//
//   node native-train/bench/web/profile-wasm.mjs --bundle /tmp/texcnn-bench/browser/full/page.texcnn \
//     --fasta /tmp/texcnn-bench/browser/full/2048/gene.fa [--runs 2] [--top 25] [--out prof.cpuprofile] \
//     [--pkg DIR] [--compute int8|f32]
//
// With --runs N it also prints each timed run and their median, so that two --compute values
// can be compared in one sitting.
//
// www/pkg's wasm has been through `wasm-opt -O2`, which drops function names; for named
// functions give --pkg a package of the same cargo build without wasm-opt:
//   wasm-bindgen --target web --no-typescript --out-dir /tmp/texcnn-prof-pkg \
//     target/wasm32-unknown-unknown/release/texcnn.wasm
//
// Node runs the same V8 engine and wasm code as Chromium's worker (one thread, SIMD128), so the
// shares of time carry over; the absolute times differ a little between V8 versions. The first
// run is a warm-up (wasm tier-up, allocation) and is not profiled.

import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs as parseArgsOf } from 'node:util';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function parseArgs(argv) {
  const { values: v } = parseArgsOf({
    args: argv,
    options: {
      bundle: { type: 'string' },
      fasta: { type: 'string' },
      runs: { type: 'string', default: '2' },
      top: { type: 'string', default: '25' },
      out: { type: 'string' },
      pkg: { type: 'string', default: join(REPO, 'www', 'pkg') },
      compute: { type: 'string', default: 'int8' },
    },
  });
  const args = {
    bundle: v.bundle,
    fasta: v.fasta,
    runs: Number(v.runs),
    top: Number(v.top),
    out: v.out ?? null,
    pkg: resolve(v.pkg),
    compute: v.compute,
  };
  if (!args.bundle || !args.fasta) throw new Error('give --bundle FILE and --fasta FILE');
  if (!(args.runs >= 1)) throw new Error('--runs must be at least 1');
  return args;
}

// The kind of work a wasm function does, from its (demangled Rust) name.
const KINDS = [
  ['gemm (matmul kernels)', /gemm|microkernel|matmul/i],
  ['softmax / exp', /softmax|exp/i],
  ['GELU / erf', /gelu|erf/i],
  ['layer norm / reductions', /norm|reduce|sum|mean|var/i],
  ['element-wise (binary/unary)', /binary|unary|elementwise|scalar_op|macerator|zip|map/i],
  ['copies, layout (swap_dims, narrow, reshape, cat)', /copy|memcpy|memmove|strided|permute|swap|narrow|reshape|slice|cat|contiguous/i],
  ['allocation, zeroing', /alloc|memset|dlmalloc|free|realloc|grow/i],
];

function kindOf(name) {
  for (const [kind, re] of KINDS) if (re.test(name)) return kind;
  return 'other';
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const pkg = args.pkg;
  const wasm = await import(join(pkg, 'texcnn.js'));
  wasm.initSync({ module: readFileSync(join(pkg, 'texcnn_bg.wasm')) });
  const predictor = await wasm.WebPredictor.load(readFileSync(args.bundle), 'cpu', args.compute);
  console.error(`compute: ${predictor.compute()}`);
  const parsed = wasm.parse_input(readFileSync(args.fasta, 'utf8'));
  const record = parsed.records[0];
  if (!record) throw new Error(`${args.fasta}: no record`);
  const predict = () => predictor.predict(record.id, record.residues, record.tss, true, [], () => {});

  const warm = await predict();
  console.error(`warm-up: ${warm.timings.total_ms.toFixed(0)} ms (encoder ${warm.timings.encoder_ms.toFixed(0)} ms)`);
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 1000 });
  await session.post('Profiler.start');
  const times = [];
  for (let run = 0; run < args.runs; run += 1) {
    const r = await predict();
    times.push(r.timings.total_ms);
  }
  const { profile } = await session.post('Profiler.stop');
  const sorted = [...times].sort((x, y) => x - y);
  console.error(`runs: ${times.map((t) => t.toFixed(0)).join(', ')} ms; median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms`);
  session.disconnect();
  if (args.out) writeFileSync(args.out, JSON.stringify(profile));

  // Self time per function: samples whose leaf is that node.
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) || 0) + 1);
  const selfByName = new Map();
  let total = 0;
  for (const [id, count] of counts) {
    const name = byId.get(id).callFrame.functionName || '(anonymous)';
    selfByName.set(name, (selfByName.get(name) || 0) + count);
    total += count;
  }
  const byKind = new Map();
  for (const [name, count] of selfByName) {
    const kind = ['(idle)', '(program)', '(garbage collector)'].includes(name) ? name : kindOf(name);
    byKind.set(kind, (byKind.get(kind) || 0) + count);
  }
  const pct = (n) => `${((100 * n) / total).toFixed(1)}%`;
  console.log(`profiled ${args.runs} run(s): ${times.map((t) => `${(t / 1000).toFixed(2)} s`).join(', ')}; ${total} samples`);
  console.log('\n| kind | share of samples |\n| --- | --- |');
  for (const [kind, count] of [...byKind].sort((a, b) => b[1] - a[1])) console.log(`| ${kind} | ${pct(count)} |`);
  console.log('\n| function (self time) | share |\n| --- | --- |');
  for (const [name, count] of [...selfByName].sort((a, b) => b[1] - a[1]).slice(0, args.top)) {
    console.log(`| \`${name.slice(0, 140).replace(/\|/g, '\\|')}\` | ${pct(count)} |`);
  }
}

main().catch((err) => {
  console.error(err.stack || String(err));
  process.exit(1);
});
