//! The JavaScript API of the page (wasm32 only): parse input, load a bundle, predict and score
//! edits with progress and cancellation, and the rows of the tables the page exports (made by
//! [`crate::export`], as the native tool writes them). `www/worker.js` is its only caller.

use std::sync::atomic::{AtomicBool, Ordering};

use burn::tensor::Device;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::bundle::{Bundle, Compute, set_default_compute};
use crate::encoder::int8::{Activations, Kernel};
use crate::export::{
    PredictionColumns, Separator, ism_fields, ism_header, prediction_fields, prediction_header,
    variant_fields, variant_header,
};
use crate::predict::{PredictError, Prediction, Predictor};
use crate::sequence::{ParseError, ParseOptions, ParseWarning, parse_text_with};
use crate::variants::{Edit, saturation_edits};

static CANCEL: AtomicBool = AtomicBool::new(false);

unsafe extern "C" {
    /// wasm-ld's runner of static constructors (the `inventory` registrations that cubecl's
    /// WebGPU compiler makes).
    fn __wasm_call_ctors();
}

/// Runs the module's static constructors, once; later calls return at once.
///
/// A module that never calls `__wasm_call_ctors` itself is linked by wasm-ld as a "command":
/// every export is wrapped to run all constructors again on each call. Here that cost ~90 ms
/// per call into the module (measured in Node: `tokens` of 100 bp 95 ms, almost all in
/// `__wasm_call_ctors`), paid again by every resumption of `predict`'s future. Referencing it
/// here makes wasm-ld leave the exports unwrapped, so the constructors must run before
/// cubecl's WebGPU compiler is used: the page's start function runs them, and so does every
/// WebGPU device this module creates. A wasm32 program that links this crate without going
/// through wasm-bindgen's start (wasm-bindgen-test does not run it) calls this first.
pub fn run_static_constructors() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: the linker's constructor runner, run exactly once per instance (`Once`), as the
    // convention for modules that run their own constructors expects.
    ONCE.call_once(|| unsafe { __wasm_call_ctors() });
}

#[wasm_bindgen(start)]
fn start() {
    run_static_constructors();
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&e.to_string()))
}

#[derive(Serialize)]
struct JsRecord<'a> {
    /// 0-based position in the input: what the page keys a record's rows and views by.
    index: usize,
    id: &'a str,
    description: &'a str,
    line: usize,
    length: usize,
    residues: &'a str,
    tss: Option<usize>,
}

#[derive(Serialize)]
struct JsParseError {
    message: String,
    record_index: Option<usize>,
    record_id: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
}

impl From<&ParseError> for JsParseError {
    fn from(e: &ParseError) -> Self {
        Self {
            message: e.to_string(),
            record_index: e.record().map(|r| r.index),
            record_id: e.record().map(|r| r.id.clone()),
            line: e.line(),
            column: e.column(),
        }
    }
}

#[derive(Serialize)]
struct JsParseWarning {
    message: String,
    /// The short note for the record's result row.
    note: String,
    record_index: usize,
    record_id: String,
    line: usize,
}

impl From<&ParseWarning> for JsParseWarning {
    fn from(w: &ParseWarning) -> Self {
        Self {
            message: w.to_string(),
            note: w.note(),
            record_index: w.record().index,
            record_id: w.record().id.clone(),
            line: w.line(),
        }
    }
}

#[derive(Serialize)]
struct JsParsed<'a> {
    records: Vec<JsRecord<'a>>,
    errors: Vec<JsParseError>,
    warnings: Vec<JsParseWarning>,
}

/// Parses pasted text: `{records: [{index, id, description, line, length, residues, tss}],
/// errors: [{message, record_index, record_id, line, column}], warnings: [{message, note,
/// record_index, record_id, line}]}`. `default_tss` (the page's TSS field, 1-based) is the TSS
/// of records whose header has no `tss=`.
#[wasm_bindgen]
pub fn parse_input(text: &str, default_tss: Option<u32>) -> Result<JsValue, JsError> {
    let options = ParseOptions {
        default_tss: default_tss.map(|t| t as usize),
        ..ParseOptions::default()
    };
    let outcome = parse_text_with(text, &options);
    to_js(&JsParsed {
        records: outcome
            .records
            .iter()
            .map(|r| JsRecord {
                index: r.index,
                id: &r.id,
                description: &r.description,
                line: r.line,
                length: r.len(),
                residues: &r.residues,
                tss: r.tss,
            })
            .collect(),
        errors: outcome.errors.iter().map(JsParseError::from).collect(),
        warnings: outcome.warnings.iter().map(JsParseWarning::from).collect(),
    })
}

/// Asks the running prediction to stop at its next segment batch (and the worker to run no
/// further record): the one cancellation flag, until [`clear_cancel`].
#[wasm_bindgen]
pub fn cancel() {
    CANCEL.store(true, Ordering::SeqCst);
}

/// Whether [`cancel`] was called since the last [`clear_cancel`].
#[wasm_bindgen]
pub fn cancelled() -> bool {
    CANCEL.load(Ordering::SeqCst)
}

/// Forgets an earlier [`cancel`]: called when the user starts a new run.
#[wasm_bindgen]
pub fn clear_cancel() {
    CANCEL.store(false, Ordering::SeqCst);
}

/// One pass of an encoder-shaped `Linear` layer (768 → 768, 128 rows, fixed pseudo-random
/// weights and inputs) computed in int8 as `compute` names it (`"int8"`, `"int8-a8"`,
/// `"int8-a7"`), for the worker to time the kernels this module has before it chooses one
/// (worker.js: the relaxed-SIMD module's 7-bit kernel is not faster on every CPU). Returns the
/// sum of the outputs (finite; different per compute).
#[wasm_bindgen]
pub fn int8_probe(compute: &str) -> Result<f32, JsError> {
    use crate::encoder::int8::Int8Linear;
    use std::cell::OnceCell;
    const ROWS: usize = 128;
    const WIDTH: usize = 768;
    /// Values in [-1, 1) from `seed`.
    fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = crate::rng::SplitMix64::new(seed);
        (0..n).map(|_| rng.next_f64() as f32 * 2.0 - 1.0).collect()
    }
    thread_local! {
        /// The inputs, and the layer packed for each activation width (built on first use,
        /// outside the timed calls that follow).
        static INPUTS: Vec<f32> = values(ROWS * WIDTH, 1);
        static LAYERS: [OnceCell<Int8Linear>; Activations::ALL.len()] = Default::default();
    }
    let activations = Compute::from_name(compute)
        .and_then(Compute::activations)
        .ok_or_else(|| JsError::new(&format!("int8_probe: {compute:?} is not an int8 compute")))?;
    let index = Activations::ALL
        .iter()
        .position(|&a| a == activations)
        .unwrap_or_default();
    Ok(LAYERS.with(|layers| {
        let layer = layers[index].get_or_init(|| {
            Int8Linear::quantize(WIDTH, WIDTH, &values(WIDTH * WIDTH, 2), None)
                .with_activations(activations)
        });
        INPUTS.with(|x| layer.forward(x, ROWS).iter().sum())
    }))
}

/// What `predict` resolves to when it was cancelled: `{cancelled: true, message}`.
#[derive(Serialize)]
struct JsCancelled {
    cancelled: bool,
    message: String,
}

fn cancelled_result() -> Result<JsValue, JsError> {
    to_js(&JsCancelled {
        cancelled: true,
        message: PredictError::Cancelled.to_string(),
    })
}

/// One edit as the page gives it.
#[derive(serde::Deserialize)]
struct JsEditIn {
    pos: usize,
    #[serde(rename = "ref")]
    reference: String,
    #[serde(rename = "alt")]
    alternative: String,
}

/// One edit's score (or why it has none).
#[derive(Serialize)]
struct JsEditOut {
    pos: usize,
    #[serde(rename = "ref")]
    reference: String,
    #[serde(rename = "alt")]
    alternative: String,
    alt_values: Option<Vec<f32>>,
    delta: Option<Vec<f32>>,
    tss_relative: Option<i64>,
    reembedded: Option<usize>,
    error: Option<String>,
    /// The edit's row of `texcnn ism`'s table (tab-separated), when it was scored.
    ism_row: Option<String>,
    /// The edit's row of `texcnn variants`' table (tab-separated), when it was scored.
    variant_row: Option<String>,
}

#[derive(Serialize)]
struct JsEditScores {
    reference: Vec<f32>,
    read_text: String,
    inputs: &'static str,
    effects: Vec<JsEditOut>,
}

/// The edits of saturation mutagenesis over bases `start..=end` (1-based) of `residues`: every
/// position and each of the three other bases, `[{pos, ref, alt}]` (N positions skipped), as
/// `texcnn ism` makes them.
#[wasm_bindgen]
pub fn ism_edits(residues: &str, start: usize, end: usize) -> Result<JsValue, JsError> {
    let list: Vec<serde_json::Value> = saturation_edits(residues, start, end)
        .into_iter()
        .map(|e| serde_json::json!({"pos": e.pos, "ref": e.reference, "alt": e.alternative}))
        .collect();
    to_js(&list)
}

/// Lets the worker's event loop run (so a `cancel` message can arrive): a macrotask yield.
async fn yield_to_event_loop() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        let set_timeout = js_sys::Reflect::get(&global, &JsValue::from_str("setTimeout"))
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        match set_timeout {
            Some(f) => {
                let _ = f.call2(&global, &resolve, &JsValue::from(0));
            }
            None => {
                let _ = resolve.call0(&JsValue::NULL);
            }
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

#[derive(Serialize)]
struct JsOutput {
    name: String,
    label: String,
    /// The unit of the predicted value as a reader sees it ([`crate::bundle::LabelSpec::value_unit`]).
    value_unit: String,
    unit: String,
    transform: String,
    meaning: String,
}

#[derive(Serialize)]
struct JsTimings {
    total_ms: f64,
    encoder_ms: f64,
    head_ms: f64,
}

/// One token of a segment, for the page's token view.
#[derive(Serialize)]
struct JsToken {
    id: u32,
    text: String,
}

#[derive(Serialize)]
struct JsPrediction<'a> {
    id: &'a str,
    length: usize,
    /// `5977-8024 of 10500, tss 7001`: which bases were read.
    read_text: String,
    #[serde(flatten)]
    prediction: &'a Prediction,
    /// Each segment's tokens, `[CLS]` and `[SEP]` included, in segment order (what the token
    /// view shows; empty unless explaining).
    segment_tokens: Vec<Vec<JsToken>>,
    /// The record's row of the page's predictions table (CSV).
    row: String,
    timings: JsTimings,
}

/// The headers of the tables the page exports: `{predictions}` (CSV, the page's columns),
/// `{ism, variants}` (tab-separated, as `texcnn ism` and `texcnn variants` write them).
#[derive(Serialize)]
struct JsTables {
    predictions: String,
    ism: String,
    variants: String,
}

fn now_ms() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("performance"))
        .ok()
        .and_then(|p| {
            let now = js_sys::Reflect::get(&p, &JsValue::from_str("now")).ok()?;
            now.dyn_into::<js_sys::Function>()
                .ok()?
                .call0(&p)
                .ok()?
                .as_f64()
        })
        .unwrap_or_else(js_sys::Date::now)
}

/// A model loaded from a bundle, on WebGPU or on the CPU.
#[wasm_bindgen]
pub struct WebPredictor {
    predictor: Predictor,
    backend: String,
    /// Why this backend, in the page's words.
    backend_note: String,
}

/// What the browser's WebGPU adapter is, when it gives one: `(description, software)`.
/// A software adapter (Chromium's SwiftShader, Mesa's llvmpipe/lavapipe, Microsoft's Basic
/// Render Driver, or one the browser flags as a fallback) computes on the CPU, far slower
/// than the page's own CPU path (15.7–28.7 s against 0.2–0.5 s per 2,048 bp promoter,
/// docs/performance.md).
async fn webgpu_adapter() -> Option<(String, bool)> {
    let get = |v: &JsValue, k: &str| js_sys::Reflect::get(v, &JsValue::from_str(k)).ok();
    let navigator = get(&js_sys::global(), "navigator")?;
    let gpu = get(&navigator, "gpu").filter(|g| !g.is_undefined() && !g.is_null())?;
    let request = get(&gpu, "requestAdapter")?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    let promise = request
        .call0(&gpu)
        .ok()?
        .dyn_into::<js_sys::Promise>()
        .ok()?;
    let adapter = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    if adapter.is_null() || adapter.is_undefined() {
        return None;
    }
    let info = get(&adapter, "info").unwrap_or(JsValue::UNDEFINED);
    let text = |k: &str| {
        get(&info, k)
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    let fallback = [&adapter, &info]
        .iter()
        .any(|v| get(v, "isFallbackAdapter").and_then(|f| f.as_bool()) == Some(true));
    let parts = [
        text("vendor"),
        text("architecture"),
        text("device"),
        text("description"),
    ];
    let description = parts
        .iter()
        .filter(|p| !p.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    let lower = description.to_lowercase();
    let software = fallback
        || [
            "swiftshader",
            "llvmpipe",
            "lavapipe",
            "softpipe",
            "basic render",
            "software",
        ]
        .iter()
        .any(|s| lower.contains(s));
    Some((description, software))
}

#[wasm_bindgen]
impl WebPredictor {
    /// Loads a bundle. `backend`: `"webgpu"`, `"cpu"` or `"auto"` (WebGPU when the browser
    /// gives a hardware adapter; the CPU when it gives none, or only a software one).
    /// `compute` (the CPU path's `Linear` layers): `"int8"`, `"int8-a8"` (8-bit activations
    /// too), `"int8-a7"` (7-bit) or `"f32"`; anything else is `f32`.
    pub async fn load(
        bytes: Vec<u8>,
        backend: String,
        compute: String,
    ) -> Result<WebPredictor, JsError> {
        let bundle = Bundle::from_bytes(&bytes).map_err(|e| JsError::new(&e.to_string()))?;
        let cpu = |note: String| (Device::flex(), "cpu".to_string(), note);
        let (device, backend, backend_note) = match backend.as_str() {
            "cpu" => cpu("CPU (WebAssembly), as asked.".into()),
            "webgpu" => (
                webgpu_device().await?,
                "webgpu".to_string(),
                "WebGPU, as asked.".into(),
            ),
            _ => match webgpu_adapter().await {
                None => cpu("CPU (WebAssembly): this browser gives no WebGPU adapter.".into()),
                Some((name, true)) => cpu(format!(
                    "CPU (WebAssembly): this browser's WebGPU adapter ({name}) is software that \
                     runs on the CPU, far slower than the page's own CPU path."
                )),
                Some((name, false)) => match webgpu_device().await {
                    Ok(device) => (
                        device,
                        "webgpu".to_string(),
                        format!("WebGPU on your graphics card ({name})."),
                    ),
                    Err(e) => cpu(format!(
                        "CPU (WebAssembly): WebGPU ({name}) failed to start: {e:?}"
                    )),
                },
            },
        };
        set_default_compute(Compute::from_name(&compute).unwrap_or_default());
        let predictor =
            Predictor::from_bundle(&bundle, &device).map_err(|e| JsError::new(&e.to_string()))?;
        Ok(WebPredictor {
            predictor,
            backend,
            backend_note,
        })
    }

    /// `"webgpu"` or `"cpu"`.
    pub fn backend(&self) -> String {
        self.backend.clone()
    }

    /// Which backend was chosen and why, for the page to show.
    pub fn backend_note(&self) -> String {
        self.backend_note.clone()
    }

    /// How the encoder computes: `"int8 (simd128)"` (or `"int8-a8 (simd128)"`, 8-bit
    /// activations, or `"int8-a7 (relaxed-simd)"`, 7-bit ones on relaxed SIMD's kernel) where
    /// the CPU path computes in int8, else `"f32"`.
    pub fn compute(&self) -> String {
        match self.predictor.embedder.encoder.int8_activations() {
            Some(activations) if self.backend == "cpu" => {
                let name = match activations {
                    Activations::Wide => Compute::Int8.as_str(),
                    Activations::Int8 => Compute::Int8Act8.as_str(),
                    Activations::Int7 => Compute::Int8Act7.as_str(),
                };
                // The module's pair kernel is SIMD128's (relaxed SIMD only adds the 7-bit quads).
                let kernel = Kernel::best();
                let kernel = if kernel.has_quads(activations) {
                    kernel.name()
                } else {
                    "simd128"
                };
                format!("{name} ({kernel})")
            }
            _ => "f32".into(),
        }
    }

    /// The model card.
    pub fn card(&self) -> Result<JsValue, JsError> {
        to_js(&self.predictor.card)
    }

    /// What each output is: `[{name, label, value_unit, unit, transform, meaning}]`.
    pub fn outputs(&self) -> Result<JsValue, JsError> {
        let names = self.predictor.output_names();
        let outputs: Vec<JsOutput> = names
            .into_iter()
            .enumerate()
            .map(|(i, name)| match self.predictor.card.outputs.get(i) {
                Some(o) => JsOutput {
                    name,
                    value_unit: o.label.value_unit(),
                    label: o.label.name.clone(),
                    unit: o.label.unit.clone(),
                    transform: o.label.transform.clone(),
                    meaning: o.meaning.clone(),
                },
                None => JsOutput {
                    value_unit: String::new(),
                    label: name.clone(),
                    name,
                    unit: String::new(),
                    transform: String::new(),
                    meaning: String::new(),
                },
            })
            .collect();
        to_js(&outputs)
    }

    /// The header lines of the tables the page exports: `{predictions, ism, variants}`.
    pub fn tables(&self) -> Result<JsValue, JsError> {
        let names = self.predictor.output_names();
        to_js(&JsTables {
            predictions: Separator::Comma.line(&prediction_header(&names, PredictionColumns::PAGE)),
            ism: Separator::Tab.line(&ism_header(&names)),
            variants: Separator::Tab.line(&variant_header(&names)),
        })
    }

    /// Predicts one sequence (normalised residues and TSS from `parse_input`), calling
    /// `on_progress(done, total)` after each batch of segments. `notes` (strings) are the
    /// input's notes on the record (e.g. a duplicate id), added to the prediction's. The
    /// result carries its row of the predictions table (`row`) and, when explaining, each
    /// segment's tokens. After `cancel()` it stops at the next batch and resolves to
    /// `{cancelled: true, message}`; errors reject.
    pub async fn predict(
        &self,
        id: String,
        residues: String,
        tss: Option<u32>,
        explain: bool,
        notes: JsValue,
        on_progress: js_sys::Function,
    ) -> Result<JsValue, JsError> {
        let started = now_ms();
        let prepared = self.prepare(&id, &residues, tss)?;
        let ids = prepared.token_ids();
        let Some(rows) = self.embed(&id, &ids, 0, ids.len(), &on_progress).await? else {
            return cancelled_result();
        };
        let encoder_ms = now_ms() - started;
        self.finish(&id, &residues, &prepared, &rows, explain, notes, encoder_ms)
    }

    /// Embeds part `part` of `parts` of a record's segments (segments `⌊part·n / parts⌋ ..
    /// ⌊(part + 1)·n / parts⌋` of its `n`; the same record and TSS as `predict` takes), so that
    /// a page can spread one prediction over several workers: the rows one after another as a
    /// `Float32Array` (empty for an empty part), or `null` after `cancel()`. `on_progress(done,
    /// total)` counts this part's segments.
    pub async fn embed_part(
        &self,
        id: String,
        residues: String,
        tss: Option<u32>,
        part: u32,
        parts: u32,
        on_progress: js_sys::Function,
    ) -> Result<JsValue, JsError> {
        let prepared = self.prepare(&id, &residues, tss)?;
        let ids = prepared.token_ids();
        let (start, end) = part_range(ids.len(), part as usize, parts as usize);
        let Some(rows) = self
            .embed(&id, &ids[start..end], 0, end - start, &on_progress)
            .await?
        else {
            return Ok(JsValue::NULL);
        };
        Ok(js_sys::Float32Array::from(rows.concat().as_slice()).into())
    }

    /// `predict` from segment embeddings computed elsewhere (`embed_part` of every part, in
    /// order, concatenated): the same result, its `timings.encoder_ms` the given one.
    #[allow(clippy::too_many_arguments)]
    pub fn predict_rows(
        &self,
        id: String,
        residues: String,
        tss: Option<u32>,
        explain: bool,
        notes: JsValue,
        rows: Vec<f32>,
        encoder_ms: f64,
    ) -> Result<JsValue, JsError> {
        let prepared = self.prepare(&id, &residues, tss)?;
        let width = self.predictor.embedder.hidden_size();
        let segments = prepared.segments.len();
        if rows.len() != segments * width {
            return Err(JsError::new(&format!(
                "{id}: {} embedding values for {segments} segments of width {width}",
                rows.len()
            )));
        }
        let rows: Vec<Vec<f32>> = rows.chunks(width.max(1)).map(<[f32]>::to_vec).collect();
        self.finish(&id, &residues, &prepared, &rows, explain, notes, encoder_ms)
    }
}

/// Segments `⌊part·n / parts⌋ .. ⌊(part + 1)·n / parts⌋` of `n` (a part past the last is empty).
fn part_range(n: usize, part: usize, parts: usize) -> (usize, usize) {
    let parts = parts.max(1);
    let part = part.min(parts);
    (n * part / parts, n * (part + 1).min(parts) / parts)
}

impl WebPredictor {
    /// A record's window, segments and tokens (`predict`, `embed_part` and `predict_rows` all
    /// start here, so that their parts agree).
    fn prepare(
        &self,
        id: &str,
        residues: &str,
        tss: Option<u32>,
    ) -> Result<crate::pipeline::Prepared, JsError> {
        self.predictor
            .prepare(residues, tss.map(|t| t as usize))
            .map_err(|e| JsError::new(&format!("{id}: {e}")))
    }

    /// The head on a record's segment embeddings, as `predict` returns it.
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        id: &str,
        residues: &str,
        prepared: &crate::pipeline::Prepared,
        rows: &[Vec<f32>],
        explain: bool,
        notes: JsValue,
        encoder_ms: f64,
    ) -> Result<JsValue, JsError> {
        let notes: Vec<String> = if notes.is_undefined() || notes.is_null() {
            Vec::new()
        } else {
            serde_wasm_bindgen::from_value(notes)
                .map_err(|e| JsError::new(&format!("notes: {e}")))?
        };
        let started = now_ms() - encoder_ms;
        let encoded = now_ms();
        let p = &self.predictor;
        let err = |e: PredictError| JsError::new(&format!("{id}: {e}"));
        let features = p.feature_inputs(id, None).map_err(err)?;
        let mut prediction = p
            .finish(rows, prepared, explain, features.as_deref())
            .map_err(err)?;
        prediction.notes.extend(notes);
        let tokenizer = &p.embedder.tokenizer;
        let segment_tokens = if explain {
            prepared
                .segments
                .iter()
                .map(|s| {
                    s.token_ids
                        .iter()
                        .map(|&id| JsToken {
                            id,
                            text: tokenizer
                                .id_to_token(id)
                                .unwrap_or_else(|| format!("#{id}")),
                        })
                        .collect()
                })
                .collect()
        } else {
            Vec::new()
        };
        let length = residues.len();
        let fields = prediction_fields(id, length, &prediction, &[], PredictionColumns::PAGE);
        let finished = now_ms();
        to_js(&JsPrediction {
            id,
            length,
            read_text: prediction.read.describe(),
            prediction: &prediction,
            segment_tokens,
            row: Separator::Comma.line(&fields),
            timings: JsTimings {
                total_ms: finished - started,
                encoder_ms: encoded - started,
                head_ms: finished - encoded,
            },
        })
    }
}

#[wasm_bindgen]
impl WebPredictor {
    /// Scores edits of one record (`edits`: `[{pos, ref, alt}]`, VCF-like, 1-based), as
    /// `texcnn variants` does, re-embedding only the segments an edit changes:
    /// `{reference: [per output], read_text, inputs, effects: [{pos, ref, alt, alt_values,
    /// delta, tss_relative, reembedded} | {pos, ref, alt, error}]}`. `on_progress(done,
    /// total)` follows the segments embedded (the reference's, then the changed ones);
    /// cancellation as in `predict`. A record named by a gene the bundle has features for is
    /// scored with them, as in `predict`.
    pub async fn score_edits(
        &self,
        id: String,
        residues: String,
        tss: Option<u32>,
        edits: JsValue,
        on_progress: js_sys::Function,
    ) -> Result<JsValue, JsError> {
        let p = &self.predictor;
        let err = |e: PredictError| JsError::new(&format!("{id}: {e}"));
        let given: Vec<JsEditIn> = serde_wasm_bindgen::from_value(edits)
            .map_err(|e| JsError::new(&format!("edits: {e}")))?;
        // An edit that does not parse is an error in its place, like a reference mismatch.
        let parsed: Vec<Result<Edit, String>> = given
            .iter()
            .map(|e| Edit::new(e.pos, &e.reference, &e.alternative).map_err(|x| x.to_string()))
            .collect();
        let good: Vec<Edit> = parsed
            .iter()
            .filter_map(|e| e.as_ref().ok().cloned())
            .collect();
        let plan = p
            .plan_edits(&residues, tss.map(|t| t as usize), &good)
            .map_err(err)?;
        let ref_ids = plan.reference.token_ids();
        let total = ref_ids.len() + plan.pending.len();
        let Some(ref_rows) = self.embed(&id, &ref_ids, 0, total, &on_progress).await? else {
            return cancelled_result();
        };
        let Some(new_rows) = self
            .embed(&id, &plan.pending, ref_ids.len(), total, &on_progress)
            .await?
        else {
            return cancelled_result();
        };
        let features = p.feature_inputs(&id, None).map_err(err)?;
        let scores = p
            .finish_edits(plan, &ref_rows, &new_rows, features.as_deref())
            .map_err(err)?;
        let mut scored = scores.effects.into_iter();
        let effects: Vec<JsEditOut> = given
            .into_iter()
            .zip(parsed)
            .map(|(e, parsed)| {
                let result = parsed.and_then(|edit| {
                    scored.next().map_or_else(
                        || Err("not scored".to_string()),
                        |r| r.map(|effect| (edit, effect)).map_err(|x| x.to_string()),
                    )
                });
                match result {
                    Ok((edit, effect)) => JsEditOut {
                        ism_row: Some(Separator::Tab.line(&ism_fields(
                            &id,
                            &edit,
                            &effect,
                            scores.inputs,
                        ))),
                        variant_row: Some(Separator::Tab.line(&variant_fields(
                            &id,
                            &edit,
                            &scores.reference,
                            &effect,
                            scores.inputs,
                        ))),
                        pos: e.pos,
                        reference: e.reference,
                        alternative: e.alternative,
                        alt_values: Some(effect.alt),
                        delta: Some(effect.delta),
                        tss_relative: effect.tss_relative,
                        reembedded: Some(effect.reembedded),
                        error: None,
                    },
                    Err(message) => JsEditOut {
                        pos: e.pos,
                        reference: e.reference,
                        alternative: e.alternative,
                        alt_values: None,
                        delta: None,
                        tss_relative: None,
                        reembedded: None,
                        error: Some(message),
                        ism_row: None,
                        variant_row: None,
                    },
                }
            })
            .collect();
        to_js(&JsEditScores {
            reference: scores.reference,
            read_text: scores.read.describe(),
            inputs: scores.inputs.as_str(),
            effects,
        })
    }

    /// The segment embeddings of `ids`, in small batches read back asynchronously (WebGPU
    /// cannot be read synchronously), calling `on_progress(offset + done, total)` after each;
    /// `None` when cancelled.
    async fn embed(
        &self,
        id: &str,
        ids: &[Vec<u32>],
        offset: usize,
        total: usize,
        on_progress: &js_sys::Function,
    ) -> Result<Option<Vec<Vec<f32>>>, JsError> {
        let embedder = &self.predictor.embedder;
        let err = |e: PredictError| JsError::new(&format!("{id}: {e}"));
        let mut rows: Vec<Vec<f32>> = Vec::with_capacity(ids.len());
        // Small batches keep progress and cancellation responsive.
        let batch = if self.backend == "webgpu" { 4 } else { 2 };
        let report = |done: usize| {
            let _ = on_progress.call2(
                &JsValue::NULL,
                &JsValue::from((offset + done) as u32),
                &JsValue::from(total as u32),
            );
        };
        report(0);
        for embedded in embedder.batches(ids, batch) {
            yield_to_event_loop().await;
            if cancelled() {
                return Ok(None);
            }
            let data = embedded
                .map_err(err)?
                .into_data_async()
                .await
                .map_err(|e| JsError::new(&format!("{id}: reading embeddings: {e:?}")))?;
            rows.extend(embedder.rows(data).map_err(err)?);
            report(rows.len());
        }
        Ok(Some(rows))
    }
}

thread_local! {
    /// WebGPU can be initialised once per page: later bundles reuse the device.
    static GPU: std::cell::RefCell<Option<Device>> = const { std::cell::RefCell::new(None) };
}

async fn webgpu_device() -> Result<Device, JsError> {
    if let Some(device) = GPU.with(|g| g.borrow().clone()) {
        return Ok(device);
    }
    run_static_constructors();
    let has_gpu = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("navigator"))
        .ok()
        .and_then(|n| js_sys::Reflect::get(&n, &JsValue::from_str("gpu")).ok())
        .is_some_and(|gpu| !gpu.is_undefined() && !gpu.is_null());
    if !has_gpu {
        return Err(JsError::new("WebGPU is not available in this browser"));
    }
    let device = Device::wgpu_options()
        .init_async()
        .await
        .map_err(|e| JsError::new(&format!("no WebGPU adapter: {e}")))?;
    GPU.with(|g| *g.borrow_mut() = Some(device.clone()));
    Ok(device)
}
