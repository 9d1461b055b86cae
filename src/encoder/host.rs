//! Fused CPU kernels for the two element-wise hot spots of the encoder on burn's Flex backend:
//! the attention softmax (with its scale, ALiBi bias and padding mask) and the gated GELU.
//!
//! Profiles of the generic tensor path (docs/performance.md) put a quarter to a third of the
//! CPU time there: every step (`/ √d`, `+ bias`, max, `exp`, sum, divide; `narrow`, erf,
//! multiply) is a separate pass that allocates its output, and `exp`/`erf` are scalar libm
//! calls. Here each is one pass over the data, in place where it can be, with `exp` and
//! `erf` written as branch-free polynomials that the compiler vectorises (SSE/AVX natively,
//! SIMD128 in wasm).
//!
//! Only plain CPU (Flex) tensors without autodiff take this path ([`applies`]); GPU devices
//! keep burn's kernels, and training keeps burn's differentiable ops.

use std::sync::atomic::{AtomicBool, Ordering};

use burn::tensor::{Device, Tensor, TensorData};

/// `x` below this gives `exp(x) = 0` (the smallest normal `f32` is `exp(-87.34)`).
const EXP_UNDERFLOW: f32 = -87.0;
/// `x` above this saturates (`exp(88.72)` is the largest finite `f32`).
const EXP_OVERFLOW: f32 = 88.0;

/// Off: every device takes burn's generic ops (for side-by-side benchmarks).
static FUSED_OFF: AtomicBool = AtomicBool::new(false);

/// Defines a function whose body is compiled twice on x86-64: for the baseline (SSE2) and for
/// AVX2, taken where the CPU has it (detected at run time; the detection is cached by std).
/// The body's helpers are `#[inline(always)]`, so they are compiled into each copy: loops over
/// [`exp`], [`erf`] and the lane reductions run on 8-lane vectors instead of 4. No float
/// contraction happens in either copy (Rust does not fuse `a * b + c`), so both give the same
/// bits. On other targets (wasm32 is built with SIMD128 throughout) the body is compiled once.
macro_rules! wide_simd {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? {
                    body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2 (detected just above).
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use wide_simd;

/// Turns the fused CPU kernels on (the default) or off for the whole process, so that a
/// benchmark can time both paths in one binary (`texcnn bench --kernels generic`).
pub fn set_fused_kernels(enabled: bool) {
    FUSED_OFF.store(!enabled, Ordering::Relaxed);
}

/// Whether the fused CPU kernels apply on `device`: burn's Flex backend, no autodiff, and
/// not turned off by [`set_fused_kernels`].
pub fn applies(device: &Device) -> bool {
    !FUSED_OFF.load(Ordering::Relaxed) && !device.is_autodiff() && *device == Device::flex()
}

/// `e^x` to within 2 ulp for `x` in [-87, 88]; 0 below, `e^88` above. Branch-free so that
/// loops over it vectorise: `x = n·ln 2 + r` with `|r| ≤ ln 2 / 2`, `e^r` by its Taylor
/// polynomial of degree 7 (truncation error below 6e-9 relative), `2^n` built in the
/// exponent bits.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split so that n · LN2_HI is exact for |n| < 2^8.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding 1.5 · 2^23 rounds to an integer n and leaves n in the low mantissa bits:
    // no libm call and no float-to-int conversion, both of which stop vectorisation.
    const ROUND: f32 = 12_582_912.0;
    const ROUND_BITS: i32 = 0x4B40_0000;
    let clamped = x.clamp(EXP_UNDERFLOW, EXP_OVERFLOW);
    let shifted = clamped * LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = (clamped - n * LN2_HI) - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    let exponent = (shifted.to_bits() as i32).wrapping_sub(ROUND_BITS) + 127;
    let scale = f32::from_bits((exponent as u32) << 23);
    if x < EXP_UNDERFLOW { 0.0 } else { p * scale }
}

/// `erf(x)`, branch-free. For `|x| ≥ 0.5`: Abramowitz & Stegun 7.1.26 (Handbook of
/// Mathematical Functions, 1964), `1 - (a1·t + … + a5·t^5)·e^(-x²)` with
/// `t = 1 / (1 + p·|x|)`, odd in `x` (1.5e-7 absolute, plus `f32` rounding). Below 0.5, where
/// `1 - …` would cancel, the Maclaurin series `2/√π · Σ (-1)^k x^(2k+1) / (k! (2k+1))` to
/// `x^13` (truncation below 2e-8).
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    const P: f32 = 0.327_591_1;
    // A&S's published digits, kept as printed (f32 rounds them).
    #[allow(clippy::excessive_precision)]
    const A: [f32; 5] = [
        0.254_829_592,
        -0.284_496_736,
        1.421_413_741,
        -1.453_152_027,
        1.061_405_429,
    ];
    const TWO_OVER_SQRT_PI: f32 = std::f32::consts::FRAC_2_SQRT_PI;
    let ax = x.abs();
    let t = 1.0 / (1.0 + P * ax);
    let poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    let large = (1.0 - poly * exp(-ax * ax)).copysign(x);
    let x2 = x * x;
    let series = TWO_OVER_SQRT_PI
        * x
        * (1.0
            + x2 * (-1.0 / 3.0
                + x2 * (1.0 / 10.0
                    + x2 * (-1.0 / 42.0
                        + x2 * (1.0 / 216.0 + x2 * (-1.0 / 1320.0 + x2 * (1.0 / 9360.0)))))));
    if ax < 0.5 { series } else { large }
}

/// Exact (erf) GELU: `x · Φ(x) = x/2 · (1 + erf(x / √2))`.
#[inline(always)]
pub fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// What the attention adds to its scores before the softmax, on the host: ALiBi
/// (`-slope_h · |i - j|`) and a bias per key (0 for real tokens, a large negative number for
/// padding).
#[derive(Debug, Clone)]
pub struct HostBias {
    /// One ALiBi slope per head.
    pub slopes: Vec<f32>,
    /// `[batch × tokens]`: added to the score of the key at that position.
    pub key_bias: Vec<f32>,
}

/// Lanes of the partial maxima and sums: wide enough for AVX (8 × f32) and a multiple of
/// SIMD128's 4. Fixed-size arrays per chunk let the compiler keep them in vector registers;
/// a running scalar maximum or sum would pin the loop to one element at a time.
const LANES: usize = 8;

#[inline(always)]
fn lane_max(values: &[f32]) -> f32 {
    let mut maxima = [f32::NEG_INFINITY; LANES];
    let chunks = values.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (m, &v) in maxima.iter_mut().zip(chunk) {
            *m = if v > *m { v } else { *m };
        }
    }
    tail.iter()
        .chain(&maxima)
        .fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m })
}

/// The largest `|v|` (NaNs are skipped, as `f32::max` skips them).
#[inline(always)]
pub(super) fn lane_abs_max(values: &[f32]) -> f32 {
    let mut maxima = [0.0f32; LANES];
    let chunks = values.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (m, &v) in maxima.iter_mut().zip(chunk) {
            let a = v.abs();
            *m = if a > *m { a } else { *m };
        }
    }
    tail.iter()
        .chain(&maxima)
        .fold(0.0, |m, &v| if v.abs() > m { v.abs() } else { m })
}

#[inline(always)]
fn lane_sum(values: &[f32]) -> f32 {
    let mut sums = [0.0f32; LANES];
    let chunks = values.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (s, &v) in sums.iter_mut().zip(chunk) {
            *s += v;
        }
    }
    tail.iter().sum::<f32>() + sums.iter().sum::<f32>()
}

wide_simd! {
    /// One attention row, in place: `s ← softmax(s · scale - slope·|query - j| + key_bias_j)`.
    /// Each step is its own simple loop over the row (which stays in L1), so each vectorises.
    pub(super) fn softmax_row(
        row: &mut [f32],
        key_bias: &[f32],
        positions: &[f32],
        scale: f32,
        slope: f32,
        query: f32,
    ) {
        for ((s, &bias), &j) in row.iter_mut().zip(key_bias).zip(positions) {
            *s = *s * scale - slope * (query - j).abs() + bias;
        }
        let max = lane_max(row);
        for s in row.iter_mut() {
            *s = exp(*s - max);
        }
        let inv = 1.0 / lane_sum(row);
        for s in row.iter_mut() {
            *s *= inv;
        }
    }
}

wide_simd! {
    /// One row of DNABERT-2's gated GELU: `mixed ← gelu(gate) · up`.
    fn gelu_mul(mixed: &mut [f32], gate: &[f32], up: &[f32]) {
        for ((m, &g), &u) in mixed.iter_mut().zip(gate).zip(up) {
            *m = gelu(g) * u;
        }
    }
}

wide_simd! {
    /// One row of `LayerNorm(x + residual)`, in place in `x` (biased variance, as PyTorch and
    /// burn compute it).
    pub(super) fn add_norm_row(x: &mut [f32], residual: &[f32], gamma: &[f32], beta: &[f32], eps: f32) {
        for (v, &r) in x.iter_mut().zip(residual) {
            *v += r;
        }
        // Sums in lanes (a serial sum is one long dependency chain per row).
        let width = x.len() as f32;
        let mean = lane_sum(x) / width;
        let mut squares = [0.0f32; LANES];
        let chunks = x.chunks_exact(LANES);
        let tail = chunks.remainder();
        for chunk in chunks {
            for (s, &v) in squares.iter_mut().zip(chunk) {
                *s += (v - mean) * (v - mean);
            }
        }
        let var = (tail.iter().map(|&v| (v - mean) * (v - mean)).sum::<f32>()
            + squares.iter().sum::<f32>())
            / width;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, &g), &b) in x.iter_mut().zip(gamma).zip(beta) {
            *v = (*v - mean) * inv * g + b;
        }
    }
}

/// Softmax over the last axis of `scores · scale + bias`, in one pass per row (rows in
/// parallel natively). `scores` [batch, heads, tokens, tokens] (queries × keys) → same shape.
pub fn attention_softmax(scores: Tensor<4>, scale: f32, bias: &HostBias) -> Tensor<4> {
    let dims = scores.dims();
    let [_, heads, queries, keys] = dims;
    let device = scores.device();
    let mut values = into_vec(scores);
    let positions: Vec<f32> = (0..keys).map(|j| j as f32).collect();
    let row = |(row_index, row): (usize, &mut [f32])| {
        let query = row_index % queries;
        let head = (row_index / queries) % heads;
        let b = row_index / (queries * heads);
        softmax_row(
            row,
            &bias.key_bias[b * keys..(b + 1) * keys],
            &positions,
            scale,
            bias.slopes[head],
            query as f32,
        );
    };
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        values.par_chunks_exact_mut(keys).enumerate().for_each(row);
    }
    #[cfg(target_arch = "wasm32")]
    values.chunks_exact_mut(keys).enumerate().for_each(row);
    Tensor::from_data(TensorData::new(values, dims), &device)
}

/// The gated GELU of DNABERT-2's MLP in one pass: `both` [batch, tokens, 2·n] → `gelu(both[..,
/// :n]) · both[.., n:]` [batch, tokens, n].
pub fn gated_gelu(both: Tensor<3>, n: usize) -> Tensor<3> {
    let [batch, tokens, width] = both.dims();
    debug_assert_eq!(width, 2 * n);
    let device = both.device();
    let out = gated_gelu_rows(&into_vec(both), n);
    Tensor::from_data(TensorData::new(out, [batch, tokens, n]), &device)
}

/// The gated GELU on rows of `2·n` values: `[rows, 2n]` → `gelu(x[.., :n]) · x[.., n:]`
/// (rows in parallel natively); the tensor path and the packed path both run it.
pub(super) fn gated_gelu_rows(both: &[f32], n: usize) -> Vec<f32> {
    let rows = both.len() / (2 * n).max(1);
    let mut out = vec![0f32; rows * n];
    zip_rows(&mut out, n, both, 2 * n, |mixed, row| {
        let (gate, up) = row.split_at(n);
        gelu_mul(mixed, gate, up);
    });
    out
}

/// `row(out_row, in_row)` for the rows of `out` (`out_width` wide) and of `input`
/// (`in_width` wide), pairwise: in parallel natively (rayon), in order on wasm32.
pub(super) fn zip_rows(
    out: &mut [f32],
    out_width: usize,
    input: &[f32],
    in_width: usize,
    row: impl Fn(&mut [f32], &[f32]) + Sync + Send,
) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        out.par_chunks_exact_mut(out_width)
            .zip(input.par_chunks_exact(in_width))
            .for_each(|(o, i)| row(o, i));
    }
    #[cfg(target_arch = "wasm32")]
    out.chunks_exact_mut(out_width)
        .zip(input.chunks_exact(in_width))
        .for_each(|(o, i)| row(o, i));
}

/// The values of a CPU tensor. Flex tensors are host memory, so reading them back cannot
/// fail short of a bug; a failure would be a broken invariant, not a user error.
fn into_vec<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor
        .into_data()
        .try_into_vec::<f32>()
        .expect("a Flex f32 tensor reads back as f32")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoder::model::{alibi_bias, alibi_slopes};
    use crate::rng::SplitMix64;
    use burn::tensor::Bool;
    use burn::tensor::activation::{gelu as burn_gelu, softmax};

    fn random(shape: &[usize], rng: &mut SplitMix64, spread: f64) -> Vec<f32> {
        (0..shape.iter().product::<usize>())
            .map(|_| ((2.0 * rng.next_f64() - 1.0) * spread) as f32)
            .collect()
    }

    fn max_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
        let a = into_vec(a);
        let b = into_vec(b);
        a.iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    /// The fused softmax against burn's ops on the same scores, with padding in one row
    /// of the batch.
    #[test]
    fn attention_softmax_matches_burns_ops() {
        let device = Device::flex();
        let (batch, heads, tokens) = (2, 3, 7);
        let shape = [batch, heads, tokens, tokens];
        let mut rng = SplitMix64::new(3);
        let scores = Tensor::<4>::from_data(
            TensorData::new(random(&shape, &mut rng, 8.0), shape),
            &device,
        );
        // Segment 0 has 7 real tokens, segment 1 has 4 then 3 padded.
        let real: Vec<bool> = (0..batch * tokens).map(|i| i < tokens + 4).collect();
        let scale = 0.125f32;
        let mask =
            Tensor::<2, Bool>::from_data(TensorData::new(real.clone(), [batch, tokens]), &device);
        let key_bias = (mask.float() - 1.0)
            .mul_scalar(1.0e9)
            .reshape([batch, 1, 1, tokens]);
        let want = softmax(
            scores.clone().mul_scalar(scale) + alibi_bias(heads, tokens, &device) + key_bias,
            3,
        );
        let got = attention_softmax(
            scores,
            scale,
            &HostBias {
                slopes: alibi_slopes(heads),
                key_bias: real.iter().map(|&r| if r { 0.0 } else { -1.0e9 }).collect(),
            },
        );
        let values = into_vec(got.clone());
        // Padded keys of segment 1 get exactly zero weight.
        for row in values[heads * tokens * tokens..].chunks(tokens) {
            assert!(row[4..].iter().all(|&p| p == 0.0), "{row:?}");
        }
        let diff = max_diff(got, want);
        assert!(diff < 1e-6, "max |diff| {diff:e}");
    }

    #[test]
    fn gated_gelu_matches_burns_ops() {
        let device = Device::flex();
        let (batch, tokens, n) = (2, 5, 6);
        let mut rng = SplitMix64::new(5);
        let both = Tensor::<3>::from_data(
            TensorData::new(
                random(&[batch, tokens, 2 * n], &mut rng, 6.0),
                [batch, tokens, 2 * n],
            ),
            &device,
        );
        let want = burn_gelu(both.clone().narrow(2, 0, n)) * both.clone().narrow(2, n, n);
        let diff = max_diff(gated_gelu(both, n), want);
        assert!(diff < 1e-5, "max |diff| {diff:e}");
    }

    /// Relative error against `f64`'s exp over the whole range the softmax uses.
    #[test]
    fn exp_is_within_two_ulp_of_f64() {
        let mut worst = 0.0f64;
        let mut x = -87.0f32;
        while x <= 88.0 {
            let want = f64::from(x).exp();
            let got = f64::from(exp(x));
            worst = worst.max(((got - want) / want).abs());
            x += 0.001_3;
        }
        assert!(worst < 2.5e-7, "worst relative error {worst:e}");
        assert_eq!(exp(-1.0e9), 0.0);
        assert_eq!(exp(-88.0), 0.0);
        assert_eq!(exp(0.0), 1.0);
    }

    /// Against libm's erf (`f64`), the value the generic GELU path computes. The bound is
    /// the formula's 1.5e-7 plus the rounding of `1 - q·e^(-x²)` in `f32` (`q ≤ 1`, `exp`
    /// within 2 ulp): 4e-7; below 0.5 the series is within a few ulp relative.
    #[test]
    fn erf_and_gelu_match_libm() {
        let mut worst_erf = 0.0f64;
        let mut worst_small = 0.0f64;
        let mut worst_gelu = 0.0f64;
        let mut x = -9.0f32;
        while x <= 9.0 {
            let xd = f64::from(x);
            let want = libm::erf(xd);
            let error = (f64::from(erf(x)) - want).abs();
            worst_erf = worst_erf.max(error);
            if xd.abs() < 0.5 && xd != 0.0 {
                worst_small = worst_small.max(error / want.abs());
            }
            let want = 0.5 * xd * (1.0 + libm::erf(xd / std::f64::consts::SQRT_2));
            worst_gelu = worst_gelu.max((f64::from(gelu(x)) - want).abs() / xd.abs().max(1.0));
            x += 0.000_7;
        }
        assert!(worst_erf < 4e-7, "erf: worst absolute error {worst_erf:e}");
        assert!(
            worst_small < 5e-7,
            "erf below 0.5: worst relative error {worst_small:e}"
        );
        assert!(
            worst_gelu < 4e-7,
            "gelu: worst error {worst_gelu:e} (relative to max(|x|, 1))"
        );
        assert_eq!(erf(0.0), 0.0);
        assert_eq!(gelu(-20.0), 0.0);
    }
}
