//! The encoder on the CPU with every segment's tokens packed into one matrix: the inference
//! path of [`Dnabert2Encoder::embed_segments`] on burn's Flex backend (no autodiff).
//!
//! The tensor path ([`Dnabert2Encoder::forward`]) pads every segment to the longest and
//! computes `[batch, tokens, hidden]` tensors, padding rows included, through burn's ops. Here
//! the real tokens of all segments are the rows of one `[rows, hidden]` matrix, so that
//!
//! - each `Linear` layer is **one matmul over all segments' rows** (int8 kernels where the
//!   encoder [uses them](Dnabert2Encoder::use_int8), burn's f32 matmul otherwise), and no padded
//!   row is computed;
//! - attention runs per segment and head straight on the QKV matrix (`gemm` with strides: no
//!   copies, no mask: a segment's keys are all real), with the fused ALiBi softmax of
//!   [`super::host`];
//! - the residual adds, LayerNorms, gated GELU and the pooling are single passes over host
//!   memory, and between layers the activations stay plain `Vec<f32>`, not tensors.
//!
//! It computes what the tensor path computes, up to float rounding (the encoder parity tests
//! run both against the reference outputs).

use burn::nn::{LayerNorm, Linear};
use burn::tensor::{Int, Tensor, TensorData};

use super::host;
use super::int8::Int8Linear;
use super::model::{BertLayer, Dnabert2Encoder, EncodeError, alibi_slopes};

/// Rows of one segment in the packed matrix.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    len: usize,
}

/// Segment embeddings ([`Dnabert2Encoder::embed_segments`]) on the packed path:
/// `[segments × hidden]` values, row-major. `segments` are already checked (non-empty, ids in
/// the vocabulary).
pub(super) fn embed_segments(
    encoder: &Dnabert2Encoder,
    segments: &[Vec<u32>],
) -> Result<Vec<f32>, EncodeError> {
    let device = encoder.device();
    let width = encoder.hidden_size();
    let mut spans = Vec::with_capacity(segments.len());
    let mut ids = Vec::with_capacity(segments.iter().map(Vec::len).sum());
    for tokens in segments {
        spans.push(Span {
            start: ids.len(),
            len: tokens.len(),
        });
        ids.extend(tokens.iter().map(|&id| i64::from(id)));
    }
    let rows = ids.len();
    // The embeddings are a lookup and one LayerNorm: burn's ops, once, on a [1, rows] batch.
    let ids: Tensor<2, Int> = Tensor::from_data(TensorData::new(ids, [1, rows]), &device);
    let mut hidden = read(encoder.embeddings.forward(ids))?;
    let heads = encoder.num_attention_heads();
    let slopes = alibi_slopes(heads);
    let eps = encoder.layer_norm_eps() as f32;
    for layer in &encoder.encoder.layer {
        hidden = layer_forward(layer, hidden, rows, &spans, &slopes, eps)?;
    }
    Ok(mean_pool(&hidden, width, &spans))
}

/// One encoder layer on `rows` packed rows of hidden states.
fn layer_forward(
    layer: &BertLayer,
    hidden: Vec<f32>,
    rows: usize,
    spans: &[Span],
    slopes: &[f32],
    eps: f32,
) -> Result<Vec<f32>, EncodeError> {
    let attention = &layer.attention;
    let s = &attention.self_attention;
    let qkv = linear(&s.wqkv, s.wqkv_int8.as_deref(), &hidden, rows)?;
    let attended = attend(&qkv, rows, spans, slopes);
    let o = &attention.output;
    let mut hidden = add_norm(
        linear(&o.dense, o.dense_int8.as_deref(), &attended, rows)?,
        &hidden,
        &o.layer_norm,
        eps,
    )?;
    let m = &layer.mlp;
    let both = linear(
        &m.gated_layers,
        m.gated_layers_int8.as_deref(),
        &hidden,
        rows,
    )?;
    let mixed = host::gated_gelu_rows(&both, m.intermediate_size);
    drop(both);
    hidden = add_norm(
        linear(&m.wo, m.wo_int8.as_deref(), &mixed, rows)?,
        &hidden,
        &m.layernorm,
        eps,
    )?;
    Ok(hidden)
}

/// `x` (`rows` rows) through a `Linear` layer: its int8 form where it has one, else burn's
/// f32 `Linear` on a `[rows, in]` tensor.
fn linear(
    linear: &Linear,
    int8: Option<&Int8Linear>,
    x: &[f32],
    rows: usize,
) -> Result<Vec<f32>, EncodeError> {
    match int8 {
        Some(q) => Ok(q.forward(x, rows)),
        None => {
            let [d_in, _] = linear.weight.val().dims();
            let device = linear.weight.val().device();
            let x: Tensor<2> =
                Tensor::from_data(TensorData::new(x.to_vec(), [rows, d_in]), &device);
            read(linear.forward(x))
        }
    }
}

/// Multi-head ALiBi attention on the packed `qkv` rows (`[rows, 3 · hidden]`, laid out q|k|v,
/// head, head size) → `[rows, hidden]`: for each segment and head, `softmax(q kᵀ / √d + alibi)
/// v` over that segment's tokens only.
fn attend(qkv: &[f32], rows: usize, spans: &[Span], slopes: &[f32]) -> Vec<f32> {
    let heads = slopes.len();
    let width = qkv.len() / rows.max(1) / 3;
    let head_size = width / heads;
    let scale = 1.0 / (head_size as f32).sqrt();
    let tasks: Vec<(usize, usize)> = (0..spans.len())
        .flat_map(|s| (0..heads).map(move |h| (s, h)))
        .collect();
    // `scores` is each thread's scratch, reused from task to task: gemm and the softmax write
    // every element they read, so it is never cleared (zeroing a fresh n × n buffer per task
    // showed as `memset` in the profile).
    let run = |scores: &mut Vec<f32>, &(s, h): &(usize, usize)| -> Vec<f32> {
        let Span { start, len: n } = spans[s];
        let stride = 3 * width;
        let q = &qkv[start * stride + h * head_size..];
        let k = &qkv[start * stride + width + h * head_size..];
        let v = &qkv[start * stride + 2 * width + h * head_size..];
        if scores.len() < n * n {
            scores.resize(n * n, 0.0);
        }
        let scores = &mut scores[..n * n];
        // scores[i][j] = Σ_c q[i][c] · k[j][c]
        matmul(
            scores,
            (n, n, head_size),
            (n, 1),
            q,
            (stride, 1),
            k,
            (1, stride),
        );
        let positions: Vec<f32> = (0..n).map(|j| j as f32).collect();
        let no_bias = vec![0f32; n];
        for (i, row) in scores.chunks_exact_mut(n).enumerate() {
            host::softmax_row(row, &no_bias, &positions, scale, slopes[h], i as f32);
        }
        // out[i][c] = Σ_j p[i][j] · v[j][c]
        let mut out = vec![0f32; n * head_size];
        matmul(
            &mut out,
            (n, head_size, n),
            (head_size, 1),
            scores,
            (n, 1),
            v,
            (stride, 1),
        );
        out
    };
    #[cfg(not(target_arch = "wasm32"))]
    let results: Vec<Vec<f32>> = {
        use rayon::prelude::*;
        tasks.par_iter().map_init(Vec::new, run).collect()
    };
    #[cfg(target_arch = "wasm32")]
    let results: Vec<Vec<f32>> = {
        let mut scores = Vec::new();
        tasks.iter().map(|task| run(&mut scores, task)).collect()
    };
    let mut attended = vec![0f32; rows * width];
    for (&(s, h), out) in tasks.iter().zip(&results) {
        let Span { start, .. } = spans[s];
        for (i, values) in out.chunks_exact(head_size).enumerate() {
            attended[(start + i) * width + h * head_size..][..head_size].copy_from_slice(values);
        }
    }
    attended
}

/// `dst = lhs · rhs` for `(m, n, k)`, each operand given by its (row, column) strides in
/// elements: `dst` m × n, `lhs` m × k, `rhs` k × n, single-threaded (the callers run many at
/// once).
fn matmul(
    dst: &mut [f32],
    (m, n, k): (usize, usize, usize),
    (dst_rs, dst_cs): (usize, usize),
    lhs: &[f32],
    (lhs_rs, lhs_cs): (usize, usize),
    rhs: &[f32],
    (rhs_rs, rhs_cs): (usize, usize),
) {
    if m == 0 || n == 0 {
        return;
    }
    // Every element each operand's strides reach must be inside its slice: this is what makes
    // the raw-pointer call below sound.
    let last = |rows: usize, cols: usize, rs: usize, cs: usize| {
        (rows.max(1) - 1) * rs + (cols.max(1) - 1) * cs
    };
    assert!(
        last(m, n, dst_rs, dst_cs) < dst.len(),
        "matmul: dst too short"
    );
    if k > 0 {
        assert!(
            last(m, k, lhs_rs, lhs_cs) < lhs.len(),
            "matmul: lhs too short"
        );
        assert!(
            last(k, n, rhs_rs, rhs_cs) < rhs.len(),
            "matmul: rhs too short"
        );
    }
    let s = |x: usize| x as isize;
    // SAFETY: the asserts above keep every element gemm reads or writes inside its slice;
    // `dst` is borrowed mutably and does not overlap `lhs` or `rhs` (both borrowed shared);
    // with `read_dst` false gemm writes `dst` without reading it.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            s(dst_cs),
            s(dst_rs),
            false,
            lhs.as_ptr(),
            s(lhs_cs),
            s(lhs_rs),
            rhs.as_ptr(),
            s(rhs_cs),
            s(rhs_rs),
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// `LayerNorm(x + residual)` row by row (biased variance, as PyTorch and burn compute it).
fn add_norm(
    mut x: Vec<f32>,
    residual: &[f32],
    norm: &LayerNorm,
    eps: f32,
) -> Result<Vec<f32>, EncodeError> {
    let gamma = read(norm.gamma.val())?;
    let beta = match &norm.beta {
        Some(beta) => read(beta.val())?,
        None => vec![0.0; gamma.len()],
    };
    let width = gamma.len();
    host::zip_rows(&mut x, width, residual, width, |row, residual| {
        host::add_norm_row(row, residual, &gamma, &beta, eps);
    });
    Ok(x)
}

/// The mean of each segment's rows → `[segments × width]`.
fn mean_pool(hidden: &[f32], width: usize, spans: &[Span]) -> Vec<f32> {
    let mut pooled = vec![0f32; spans.len() * width];
    for (out, span) in pooled.chunks_exact_mut(width).zip(spans) {
        for row in hidden[span.start * width..(span.start + span.len) * width].chunks_exact(width) {
            for (o, &v) in out.iter_mut().zip(row) {
                *o += v;
            }
        }
        let inv = 1.0 / span.len as f32;
        out.iter_mut().for_each(|o| *o *= inv);
    }
    pooled
}

/// A CPU tensor's values.
fn read<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, EncodeError> {
    tensor
        .into_data()
        .try_into_vec::<f32>()
        .map_err(|err| EncodeError::Device(format!("{err:?}")))
}
