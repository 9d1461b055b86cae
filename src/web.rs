//! The JavaScript API of the page (wasm32 only): parse input, load a bundle, predict with
//! progress and cancellation, show tokens. `www/worker.js` is its only caller.

use std::sync::atomic::{AtomicBool, Ordering};

use burn::tensor::Device;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::bundle::Bundle;
use crate::predict::{PredictError, Prediction, Predictor};
use crate::sequence::{ParseError, ParseOptions, ParseWarning, parse_text_with};

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

/// What `predict` resolves to when it was cancelled: `{cancelled: true, message}`.
#[derive(Serialize)]
struct JsCancelled {
    cancelled: bool,
    message: String,
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

#[derive(Serialize)]
struct JsPrediction<'a> {
    id: &'a str,
    length: usize,
    /// `5977-8024 of 10500, tss 7001`: which bases were read.
    read_text: String,
    #[serde(flatten)]
    prediction: &'a Prediction,
    timings: JsTimings,
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
}

#[wasm_bindgen]
impl WebPredictor {
    /// Loads a bundle. `backend`: `"webgpu"`, `"cpu"` or `"auto"` (WebGPU when the browser
    /// gives an adapter, else the CPU).
    pub async fn load(bytes: Vec<u8>, backend: String) -> Result<WebPredictor, JsError> {
        let bundle = Bundle::from_bytes(&bytes).map_err(|e| JsError::new(&e.to_string()))?;
        let (device, backend) = match backend.as_str() {
            "cpu" => (Device::flex(), "cpu".to_string()),
            "webgpu" => (webgpu_device().await?, "webgpu".to_string()),
            _ => match webgpu_device().await {
                Ok(device) => (device, "webgpu".to_string()),
                Err(_) => (Device::flex(), "cpu".to_string()),
            },
        };
        let predictor =
            Predictor::from_bundle(&bundle, &device).map_err(|e| JsError::new(&e.to_string()))?;
        Ok(WebPredictor { predictor, backend })
    }

    /// `"webgpu"` or `"cpu"`.
    pub fn backend(&self) -> String {
        self.backend.clone()
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

    /// Predicts one sequence (normalised residues and TSS from `parse_input`), calling
    /// `on_progress(done, total)` after each batch of segments. After `cancel()` it stops at
    /// the next batch and resolves to `{cancelled: true, message}`; errors reject.
    pub async fn predict(
        &self,
        id: String,
        residues: String,
        tss: Option<u32>,
        explain: bool,
        on_progress: js_sys::Function,
    ) -> Result<JsValue, JsError> {
        let started = now_ms();
        let p = &self.predictor;
        let err = |e: PredictError| JsError::new(&format!("{id}: {e}"));
        let prepared = p.prepare(&residues, tss.map(|t| t as usize)).map_err(err)?;
        let total = prepared.segments.len();
        let embedder = &p.embedder;
        let ids = prepared.token_ids();
        let mut rows: Vec<Vec<f32>> = Vec::with_capacity(total);
        // Small batches keep progress and cancellation responsive.
        let batch = if self.backend == "webgpu" { 4 } else { 2 };
        let _ = on_progress.call2(
            &JsValue::NULL,
            &JsValue::from(0),
            &JsValue::from(total as u32),
        );
        for embedded in embedder.batches(&ids, batch) {
            yield_to_event_loop().await;
            if cancelled() {
                return to_js(&JsCancelled {
                    cancelled: true,
                    message: PredictError::Cancelled.to_string(),
                });
            }
            // WebGPU cannot be read synchronously: the batch is awaited, then split in rows.
            let data = embedded
                .map_err(err)?
                .into_data_async()
                .await
                .map_err(|e| JsError::new(&format!("{id}: reading embeddings: {e:?}")))?;
            rows.extend(embedder.rows(data).map_err(err)?);
            let _ = on_progress.call2(
                &JsValue::NULL,
                &JsValue::from(rows.len() as u32),
                &JsValue::from(total as u32),
            );
        }
        let encoded = now_ms();
        let features = p.feature_inputs(&id, None).map_err(err)?;
        let prediction = p
            .finish(&rows, &prepared, explain, features.as_deref())
            .map_err(err)?;
        let finished = now_ms();
        to_js(&JsPrediction {
            id: &id,
            length: residues.len(),
            read_text: prediction.read.describe(),
            prediction: &prediction,
            timings: JsTimings {
                total_ms: finished - started,
                encoder_ms: encoded - started,
                head_ms: finished - encoded,
            },
        })
    }

    /// The BPE tokens of bases `start..end` of the window placed on `residues` (around base
    /// `tss`, 1-based, when given): `[{id, text, start, end}]`.
    pub fn tokens(
        &self,
        residues: &str,
        tss: Option<u32>,
        start: usize,
        end: usize,
    ) -> Result<JsValue, JsError> {
        let (fitted, _) = self
            .predictor
            .embedder
            .plan
            .read(residues, tss.map(|t| t as usize))
            .map_err(|e| JsError::new(&e.to_string()))?;
        let end = end.min(fitted.len());
        let start = start.min(end);
        let tokens = self
            .predictor
            .embedder
            .tokenizer
            .encode_tokens(&fitted[start..end])
            .map_err(|e| JsError::new(&e.to_string()))?;
        to_js(&tokens)
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
