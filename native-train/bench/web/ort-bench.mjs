// ONNX Runtime Web on one gene: ?model=URL&tokens=URL&ep=wasm|webgpu&threads=N&batch=N&runs=N
// Session creation is timed apart; each run embeds every segment (batch segments per call,
// padded like reference.py, mean-pooled inside the exported graph) and reads the vectors back.
import * as ort from './node_modules/onnxruntime-web/dist/ort.all.min.mjs';

const PAD_ID = 3n;
const params = new URLSearchParams(location.search);
const log = (line) => {
  document.getElementById('log').textContent += `\n${line}`;
};

async function main() {
  const ep = params.get('ep') || 'wasm';
  const threads = Number(params.get('threads') || 1);
  const batch = Number(params.get('batch') || 1);
  const runs = Number(params.get('runs') || 2);
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false;
  const gene = await (await fetch(params.get('tokens'))).json();
  const segments = gene.token_ids;

  let started = performance.now();
  const session = await ort.InferenceSession.create(params.get('model'), {
    executionProviders: [ep],
    graphOptimizationLevel: 'all',
  });
  const loadMs = performance.now() - started;
  log(`session on ${ep} (${threads} thread(s)) in ${loadMs.toFixed(0)} ms`);

  const embedAll = async () => {
    const vectors = [];
    for (let first = 0; first < segments.length; first += batch) {
      const chunk = segments.slice(first, first + batch);
      const longest = Math.max(...chunk.map((s) => s.length));
      const ids = new BigInt64Array(chunk.length * longest).fill(PAD_ID);
      const mask = new Float32Array(chunk.length * longest);
      chunk.forEach((tokens, row) => {
        tokens.forEach((id, col) => {
          ids[row * longest + col] = BigInt(id);
          mask[row * longest + col] = 1;
        });
      });
      const out = await session.run({
        input_ids: new ort.Tensor('int64', ids, [chunk.length, longest]),
        mask: new ort.Tensor('float32', mask, [chunk.length, longest]),
      });
      const pooled = out.pooled;
      const data = pooled.location === 'cpu' ? pooled.data : await pooled.getData();
      const hidden = pooled.dims[1];
      for (let row = 0; row < chunk.length; row += 1) {
        vectors.push(Array.from(data.subarray(row * hidden, (row + 1) * hidden)));
      }
    }
    return vectors;
  };

  const runMs = [];
  let vectors = null;
  for (let run = 0; run < runs; run += 1) {
    started = performance.now();
    vectors = await embedAll();
    runMs.push(performance.now() - started);
    log(`run ${run + 1}: ${runMs[run].toFixed(0)} ms`);
  }
  window.benchResult = { status: 'done', ep, threads, batch, loadMs, runMs, vectors };
}

main().catch((err) => {
  log(`error: ${err && err.stack ? err.stack : err}`);
  window.benchResult = { status: 'error', message: String(err && err.message ? err.message : err) };
});
