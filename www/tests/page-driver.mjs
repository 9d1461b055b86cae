// Driving the page in headless Chromium (playwright-core), shared by the end-to-end test
// (e2e.mjs) and the browser benchmark (native-train/bench/web/browser.mjs).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/// Chromium's flags from webdriver.json (shared with the wasm-bindgen-test browser tests):
/// WebGPU on, and SwiftShader when there is no GPU.
export function chromiumFlags(repo) {
  return JSON.parse(readFileSync(join(repo, 'webdriver.json'), 'utf8'))['goog:chromeOptions'].args.filter(
    (a) => a !== '--headless',
  );
}

/// FASTA text → [{id, seq}].
export function fastaRecords(text) {
  const records = [];
  for (const block of text.split(/^>/m).slice(1)) {
    const [header, ...lines] = block.split('\n');
    records.push({ id: header.trim().split(/\s+/)[0], seq: lines.join('').trim() });
  }
  return records;
}

/// Waits until the page has loaded its model; throws with the page's error if it failed.
export async function waitReady(page, timeoutMs) {
  await page.waitForFunction(
    () => ['ready', 'error'].includes(document.body.dataset.model) || document.body.dataset.state === 'error',
    null,
    { timeout: timeoutMs },
  );
  const error = await page.evaluate(() => document.body.dataset.error);
  if (error) throw new Error(`the page failed to load the model: ${error}`);
}

/// Pastes text, presses Predict, waits for the end; returns {values: {id: value}, ms}, `ms`
/// from the click to the page's "done".
export async function runPage(page, text, timeoutMs) {
  await page.fill('#dna', text);
  const started = Date.now();
  await page.click('#predict');
  await page.waitForFunction(
    () => ['done', 'error', 'cancelled'].includes(document.body.dataset.state),
    null,
    { timeout: timeoutMs },
  );
  const ms = Date.now() - started;
  const state = await page.evaluate(() => [document.body.dataset.state, document.body.dataset.error]);
  if (state[0] !== 'done') throw new Error(`the run ended in state ${state[0]}: ${state[1]}`);
  const values = await page.$$eval('#results-table tbody tr[data-id]', (rows) =>
    Object.fromEntries(rows.map((r) => [r.dataset.id, Number(r.querySelector('td.value').dataset.value)])),
  );
  return { values, ms };
}
