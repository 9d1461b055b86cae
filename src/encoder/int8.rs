//! int8 compute for the encoder's `Linear` layers on the CPU (QKV, attention output,
//! `gated_layers`, `wo`): the weights stay int8 with one scale per output channel, as an int8
//! bundle stores them; each input row is quantized on the fly with a scale of its own; the
//! products accumulate in `i32`; the sums are rescaled to `f32` and the bias added.
//!
//! **Integer widths.** The multiply is `vpmaddwd` (x86-64 AVX2) or `i32x4.dot_i16x8_s`
//! (wasm32 SIMD128): pairs of `i16` times pairs of `i16`, summed into `i32` lanes. The weights
//! are stored as `i8` and widened to `i16` as they are loaded. The activations use as many
//! bits as the `i32` sums allow without overflow (`|a| ≤ i32::MAX / (K · 128)`, e.g. ±21,800
//! for K = 768, ±5,400 for K = 3,072): the same instructions as 8-bit activations, but no
//! activation quantization error worth the name, so the accuracy is the int8 weights' alone
//! (segment-embedding cosine ≥ 0.999 against f32 is tested on the golden and default
//! models). `vpmaddubsw` (u8 × i8) would double the multiplies per instruction but saturates
//! its `i16` pair sums at these magnitudes.
//!
//! **Kernels**, chosen at run time ([`Kernel::best`]): AVX-512 VNNI (`vpdpwssd`) or AVX2
//! where the CPU has them (`is_x86_feature_detected!`), SIMD128 on wasm32 (every build of this
//! crate enables it), portable Rust otherwise; all give the same bits (tested). Each computes a
//! tile of [`MR`] rows × [`NR`] columns over the whole K. The rows are cut into blocks whose
//! quantized inputs stay in L2, each block meets every panel of weights (which stays in L1
//! while it meets the block's tiles), and the blocks run in parallel natively (rayon).
//!
//! **8-bit activations** ([`Activations::Int8`], `--compute int8-a8`): each row quantized to
//! ±127 instead, as ONNX Runtime's dynamic quantization does (it keeps one scale per tensor;
//! here one per row). The integer sums are the same instructions' on most CPUs, but with AVX-512
//! VNNI the kernel multiplies four `u8 × i8` per lane (`vpdpbusd`, the activations offset by
//! +128 and the offset's `128 · Σ w` taken back in the store): twice the products per
//! instruction and no widening of the weights. Every kernel gives the same bits in this mode
//! too. The price is the activations' rounding (segment-embedding cosine against f32 is tested
//! as for the wide mode).
//!
//! **7-bit activations** ([`Activations::Int7`], `--compute int8-a7`): each row quantized to
//! ±63 and offset by +64 to 1..=127, the operand range of wasm's relaxed SIMD
//! `i32x4.relaxed_dot_i8x16_i7x16_add_s` (16 `i8 × i7` products and the sum in one
//! instruction, deterministic for operands in 0..=127: `pmaddubsw` cannot saturate at
//! 2 · 127 · 127). A build of the crate with the `relaxed-simd` target feature (the page's
//! second module, loaded where the browser validates it) has that kernel
//! ([`Kernel::RelaxedSimd`]); natively the AVX-512 VNNI `u8` kernel reads the same quads and
//! the pair kernels the same values, so every kernel gives the same bits here too.
//!
//! Measurements and what limits them: `docs/performance.md`, "int8 compute".

use std::sync::OnceLock;

use super::host::{self, wide_simd};

/// Output columns per packed panel of weights (one tile's width).
pub const NR: usize = 16;
/// Input rows per tile.
pub const MR: usize = 4;
/// Bytes of quantized input rows multiplied by every panel before the next rows (kept in
/// L2, which is 512 KiB and more per core on current x86-64 CPUs).
const A_BLOCK_BYTES: usize = 192 * 1024;

/// How the activations (the inputs of a `Linear` layer) are quantized, one scale per row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Activations {
    /// As many bits as the `i32` sums allow (`i16`, e.g. ±21,800 for K = 768): no activation
    /// error worth the name.
    #[default]
    Wide,
    /// 8 bits (±127), as ONNX Runtime's dynamic quantization: with AVX-512 VNNI, twice the
    /// products per instruction (`vpdpbusd`).
    Int8,
    /// 7 bits (±63, offset to 1..=127): what wasm's relaxed SIMD dot product multiplies
    /// ([`Kernel::RelaxedSimd`]), twice the products per instruction of SIMD128's.
    Int7,
}

impl Activations {
    /// Every choice (the tests run each).
    pub const ALL: [Activations; 3] = [Activations::Wide, Activations::Int8, Activations::Int7];

    /// The largest quantized magnitude for `d_in` inputs.
    fn limit(self, d_in: usize) -> f32 {
        match self {
            Self::Wide => activation_limit(d_in),
            Self::Int8 => 127.0,
            Self::Int7 => 63.0,
        }
    }

    /// The offset that makes the quantized values unsigned in the quad layout: 128 for
    /// 8 bits (`u8`), 64 for 7 bits (1..=127).
    fn zero(self) -> i32 {
        match self {
            Self::Int7 => 64,
            Self::Wide | Self::Int8 => 128,
        }
    }
}

/// Bytes of weights per output column in one group of the packed layout: the kernels read the
/// inputs two at a time (`i16` pairs) or, in the `u8` VNNI kernel, four at a time.
const PAIR: usize = 2;
const QUAD: usize = 4;

/// A `Linear` layer's weights packed for the int8 kernels.
#[derive(Clone)]
pub struct Int8Linear {
    d_in: usize,
    d_out: usize,
    /// `⌈d_in / 2⌉`: the kernels read inputs two at a time.
    pairs: usize,
    /// Panels of [`NR`] output columns (the last padded with zero weights); in each, for
    /// every pair of inputs `j`, the [`NR`] columns' two weights `(w[c][2j], w[c][2j+1])`.
    packed: Vec<i8>,
    /// One scale per output column (`w ≈ q · scale`), zeros after `d_out` up to the last
    /// panel's end.
    scales: Vec<f32>,
    /// The bias per output column (zeros where there is none), padded like `scales`.
    bias: Vec<f32>,
    has_bias: bool,
    activations: Activations,
    /// With 8- or 7-bit activations where a kernel reads quads of them (AVX-512 VNNI,
    /// relaxed SIMD): the weights packed again in panels of [`NR`] columns by groups of four
    /// inputs (`⌈d_in / 4⌉` groups), and `zero · Σ_k w[c][k]` per column (the activations'
    /// offset to take back, [`Activations::zero`]). Empty otherwise.
    quads: Vec<i8>,
    offsets: Vec<i32>,
}

impl std::fmt::Debug for Int8Linear {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The shape, not the megabytes of packed weights.
        f.debug_struct("Int8Linear")
            .field("d_in", &self.d_in)
            .field("d_out", &self.d_out)
            .field("bias", &self.has_bias)
            .finish()
    }
}

/// Why int8 weights cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Int8Error {
    #[error("int8 weights: {found} values for {d_out} × {d_in}")]
    Values {
        d_out: usize,
        d_in: usize,
        found: usize,
    },
    #[error("int8 weights: {found} scales for {d_out} output channels")]
    Scales { d_out: usize, found: usize },
    #[error("int8 weights: {found} bias values for {d_out} output channels")]
    Bias { d_out: usize, found: usize },
}

impl Int8Linear {
    /// From `values` [d_out, d_in] (row-major, PyTorch's `Linear.weight` layout) in
    /// -127..=127, one scale per output row, and an optional bias.
    pub fn new(
        d_in: usize,
        d_out: usize,
        values: &[i8],
        scales: Vec<f32>,
        bias: Option<Vec<f32>>,
    ) -> Result<Self, Int8Error> {
        if values.len() != d_in * d_out {
            return Err(Int8Error::Values {
                d_out,
                d_in,
                found: values.len(),
            });
        }
        if scales.len() != d_out {
            return Err(Int8Error::Scales {
                d_out,
                found: scales.len(),
            });
        }
        if let Some(b) = &bias
            && b.len() != d_out
        {
            return Err(Int8Error::Bias {
                d_out,
                found: b.len(),
            });
        }
        let pairs = d_in.div_ceil(2);
        let panels = d_out.div_ceil(NR);
        let mut packed = vec![0i8; panels * pairs * NR * 2];
        for (o, row) in values.chunks_exact(d_in).enumerate() {
            let (panel, c) = (o / NR, o % NR);
            let base = panel * pairs * NR * 2;
            for (k, &q) in row.iter().enumerate() {
                packed[base + (k / 2) * NR * 2 + c * 2 + k % 2] = q;
            }
        }
        let padded = panels * NR;
        let has_bias = bias.is_some();
        let mut bias = bias.unwrap_or_default();
        bias.resize(padded, 0.0);
        let mut scales = scales;
        scales.resize(padded, 0.0);
        Ok(Self {
            d_in,
            d_out,
            pairs,
            packed,
            scales,
            bias,
            has_bias,
            activations: Activations::Wide,
            quads: Vec::new(),
            offsets: Vec::new(),
        })
    }

    /// The same layer with its activations quantized as `activations` says.
    pub fn with_activations(mut self, activations: Activations) -> Self {
        self.activations = activations;
        self.quads.clear();
        self.offsets.clear();
        if quad_kernel_runs_here(activations) {
            let zero = activations.zero();
            let (quads, panels) = (self.d_in.div_ceil(QUAD), self.d_out.div_ceil(NR));
            self.quads = vec![0i8; panels * quads * NR * QUAD];
            self.offsets = vec![0i32; panels * NR];
            for o in 0..self.d_out {
                let (panel, c) = (o / NR, o % NR);
                let base = panel * quads * NR * QUAD;
                for k in 0..self.d_in {
                    let q = self.weight(o, k);
                    self.quads[base + (k / QUAD) * NR * QUAD + c * QUAD + k % QUAD] = q;
                    self.offsets[o] += zero * i32::from(q);
                }
            }
        }
        self
    }

    /// How its activations are quantized.
    pub fn activations(&self) -> Activations {
        self.activations
    }

    /// The int8 weight of output `o`, input `k`, from the packed pairs.
    fn weight(&self, o: usize, k: usize) -> i8 {
        let (panel, c) = (o / NR, o % NR);
        self.packed[panel * self.pairs * NR * PAIR + (k / PAIR) * NR * PAIR + c * PAIR + k % PAIR]
    }

    /// Quantizes `f32` weights [d_out, d_in] as an int8 bundle stores them: symmetric, one
    /// scale per output row (`max |w| / 127`).
    pub fn quantize(d_in: usize, d_out: usize, weight: &[f32], bias: Option<Vec<f32>>) -> Self {
        let mut values = Vec::with_capacity(weight.len());
        let mut scales = Vec::with_capacity(d_out);
        for row in weight.chunks_exact(d_in.max(1)).take(d_out) {
            let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
            let scale = if max > 0.0 { max / 127.0 } else { 0.0 };
            scales.push(scale);
            values.extend(row.iter().map(|&v| {
                if scale > 0.0 {
                    (v / scale).round().clamp(-127.0, 127.0) as i8
                } else {
                    0
                }
            }));
        }
        Self::new(d_in, d_out, &values, scales, bias).expect("quantized weights are consistent")
    }

    /// Inputs per row.
    pub fn d_in(&self) -> usize {
        self.d_in
    }

    /// Outputs per row.
    pub fn d_out(&self) -> usize {
        self.d_out
    }

    /// `x` (`rows` rows of [`Self::d_in`] values, row-major) → `rows` rows of
    /// [`Self::d_out`]: `x · wᵀ + bias`, computed in integers with the fastest kernel this
    /// CPU has.
    pub fn forward(&self, x: &[f32], rows: usize) -> Vec<f32> {
        self.forward_with(x, rows, Kernel::best())
    }

    /// [`Self::forward`] with a chosen kernel (the tests compare them).
    pub fn forward_with(&self, x: &[f32], rows: usize, kernel: Kernel) -> Vec<f32> {
        assert_eq!(
            x.len(),
            rows * self.d_in,
            "int8 Linear: input of the wrong size"
        );
        if self.d_out == 0 || rows == 0 {
            return vec![0f32; rows * self.d_out];
        }
        // Not zeroed first (that was a `memset` of every output, 4% of the time): `row_block`
        // writes each element once.
        let mut out = Vec::with_capacity(rows * self.d_out);
        // The quad kernel where it runs; the pair kernels take the same values else.
        let quads = kernel.has_quads(self.activations) && !self.quads.is_empty();
        let width = if quads { QUAD } else { PAIR };
        let (a, a_scales) = quantize_rows(
            x,
            rows,
            self.d_in,
            self.activations.limit(self.d_in),
            Quantized {
                width,
                zero: self.activations.zero(),
            },
        );
        let (packed, groups, offsets) = if width == QUAD {
            (
                &self.quads,
                self.d_in.div_ceil(QUAD),
                Some(self.offsets.as_slice()),
            )
        } else {
            (&self.packed, self.pairs, None)
        };
        let weights = Packed {
            values: packed,
            groups,
            width,
            offsets,
        };
        // Cache blocking: blocks of rows whose quantized inputs stay in L2 (`A_BLOCK_BYTES`),
        // and small enough that every thread gets two; each block meets every panel of
        // weights, a panel (K × NR bytes) staying in L1 while it meets every tile of the block.
        // The blocks run in parallel natively, each writing its own rows of the result.
        #[cfg(not(target_arch = "wasm32"))]
        let threads = rayon::current_num_threads();
        #[cfg(target_arch = "wasm32")]
        let threads = 1;
        let block_rows = (A_BLOCK_BYTES / (groups * 4).max(1))
            .min(rows.div_ceil(2 * threads))
            .max(MR)
            .next_multiple_of(MR);
        let block = |(b, out): (usize, &mut [std::mem::MaybeUninit<f32>])| {
            self.row_block(b * block_rows, out, &a, &a_scales, &weights, kernel);
        };
        #[cfg(not(target_arch = "wasm32"))]
        {
            use rayon::prelude::*;
            out.spare_capacity_mut()[..rows * self.d_out]
                .par_chunks_mut(block_rows * self.d_out)
                .enumerate()
                .for_each(block);
        }
        #[cfg(target_arch = "wasm32")]
        out.spare_capacity_mut()[..rows * self.d_out]
            .chunks_mut(block_rows * self.d_out)
            .enumerate()
            .for_each(block);
        // SAFETY: the blocks cover all `rows` rows, and in each `row_block` writes every
        // column of every row: the panels cover columns 0..d_out (the last `width` wide), the
        // tiles every row of the block.
        unsafe { out.set_len(rows * self.d_out) };
        out
    }

    /// Rows `first..` (as many as `out` holds) times every panel, into `out`: every element
    /// of `out` is written.
    fn row_block(
        &self,
        first: usize,
        out: &mut [std::mem::MaybeUninit<f32>],
        a: &[i32],
        a_scales: &[f32],
        weights: &Packed<'_>,
        kernel: Kernel,
    ) {
        let rows = out.len() / self.d_out;
        let groups = weights.groups;
        let panel_len = groups * NR * weights.width;
        let mut acc = [[0i32; NR]; MR];
        for (p, panel) in weights.values.chunks_exact(panel_len).enumerate() {
            let c0 = p * NR;
            let width = NR.min(self.d_out - c0);
            let (scales, bias) = (&self.scales[c0..c0 + NR], &self.bias[c0..c0 + NR]);
            let offsets = weights.offsets.map_or(&[0i32; NR][..], |o| &o[c0..c0 + NR]);
            for r0 in (0..rows).step_by(MR) {
                let tile = &a[(first + r0) * groups..(first + r0 + MR) * groups];
                if weights.width == QUAD {
                    kernel.run_quads(tile, groups, panel, &mut acc);
                } else {
                    kernel.run(tile, groups, panel, &mut acc);
                }
                for (r, sums) in acc.iter().enumerate().take((rows - r0).min(MR)) {
                    let sa = a_scales[first + r0 + r];
                    // Rescaled straight into the output row, zipped rather than indexed so
                    // that no bounds check stops the compiler vectorising it. (Computing a
                    // panel into a buffer and copying `width` values out was a `memcpy` call
                    // per tile row and panel, a fifth of the time; indexing by column kept
                    // the loop scalar, a tenth.)
                    let start = (r0 + r) * self.d_out + c0;
                    let dst = &mut out[start..start + width];
                    for ((((d, &sum), &offset), &scale), &b) in
                        dst.iter_mut().zip(sums).zip(offsets).zip(scales).zip(bias)
                    {
                        d.write((sum - offset) as f32 * (sa * scale) + b);
                    }
                }
            }
        }
    }
}

/// One packed layout of the weights, as `row_block` reads it.
struct Packed<'a> {
    values: &'a [i8],
    /// Groups of inputs per row (pairs or quads).
    groups: usize,
    /// Inputs per group: [`PAIR`] or [`QUAD`].
    width: usize,
    /// Per column, what the `u8` offset of the activations added (quads only).
    offsets: Option<&'a [i32]>,
}

/// Whether a kernel that reads quads of `activations` runs on this CPU.
fn quad_kernel_runs_here(activations: Activations) -> bool {
    Kernel::available()
        .into_iter()
        .any(|k| k.has_quads(activations))
}

/// How [`quantize_rows`] packs the values: `width` [`PAIR`] or [`QUAD`]; in quads each value
/// is offset by `zero` ([`Activations::zero`]).
#[derive(Clone, Copy)]
struct Quantized {
    width: usize,
    zero: i32,
}

/// The largest activation magnitude for K inputs: `K · |a| · 128` (every weight at its
/// largest magnitude) must fit in `i32`.
fn activation_limit(d_in: usize) -> f32 {
    let k = d_in.next_multiple_of(2).max(2) as i64;
    (i64::from(i32::MAX) / (k * 128)).min(i64::from(i16::MAX)) as f32
}

/// Rows of `x` quantized symmetrically to `±limit`, one scale per row, packed in `i32`:
/// `form.width` [`PAIR`]: two `i16` (low half the even input); [`QUAD`]: four bytes, each
/// value offset by `form.zero` (lowest byte the first input). `rows` rounded up to [`MR`]
/// (zero rows), `⌈d_in / width⌉` groups per row.
fn quantize_rows(
    x: &[f32],
    rows: usize,
    d_in: usize,
    limit: f32,
    form: Quantized,
) -> (Vec<i32>, Vec<f32>) {
    let groups = d_in.div_ceil(form.width);
    let padded = rows.next_multiple_of(MR);
    let mut a = vec![0i32; padded * groups];
    let mut scales = vec![0f32; padded];
    if groups == 0 {
        return (a, scales);
    }
    let row = |((out, scale), row): ((&mut [i32], &mut f32), &[f32])| {
        quantize_row(out, scale, row, limit, form);
    };
    // Rows in parallel natively (the inputs of `wo` are 3,072 wide: a serial pass over
    // thousands of rows showed in the profile).
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        a.par_chunks_exact_mut(groups)
            .zip(scales.par_iter_mut())
            .zip(x.par_chunks_exact(d_in.max(1)))
            .take(rows)
            .for_each(row);
    }
    #[cfg(target_arch = "wasm32")]
    a.chunks_exact_mut(groups)
        .zip(scales.iter_mut())
        .zip(x.chunks_exact(d_in.max(1)))
        .take(rows)
        .for_each(row);
    (a, scales)
}

wide_simd! {
    /// One row of [`quantize_rows`]: its scale, and its values packed in `out`.
    fn quantize_row(out: &mut [i32], scale: &mut f32, row: &[f32], limit: f32, form: Quantized) {
        let max = host::lane_abs_max(row);
        if !(max > 0.0 && max.is_finite()) {
            // A zero row gives zeros; a row with inf gives NaN, as f32 would. (Quads of a
            // zero row are all 0, not the offset: the scale 0 cancels whatever they sum to.)
            *scale = if max == 0.0 { 0.0 } else { f32::NAN };
            return;
        }
        let inv = limit / max;
        *scale = max / limit;
        // Round to nearest (ties to even) by adding and removing 1.5 · 2^23, exact for
        // |v · inv| ≤ 2^22: a vectorisable `rint` (the libm call was an eighth of the time).
        const ROUND: f32 = 12_582_912.0;
        let q = |v: f32| ((v * inv + ROUND) - ROUND) as i32;
        if form.width == PAIR {
            let whole = row.len() / PAIR;
            for (slot, pair) in out.iter_mut().zip(row.chunks_exact(PAIR)) {
                *slot = (q(pair[0]) & 0xFFFF) | (q(pair[1]) << 16);
            }
            if let [last] = row.chunks_exact(PAIR).remainder() {
                out[whole] = q(*last) & 0xFFFF;
            }
        } else {
            // Each value offset by `zero` to a u8 (or u7); inputs past d_in are 0 (offset
            // to `zero`): their weights are 0.
            let byte = |v: f32| ((q(v) + form.zero) as u32) & 0xFF;
            let whole = row.len() / QUAD;
            for (slot, quad) in out.iter_mut().zip(row.chunks_exact(QUAD)) {
                *slot = (byte(quad[0])
                    | byte(quad[1]) << 8
                    | byte(quad[2]) << 16
                    | byte(quad[3]) << 24) as i32;
            }
            let tail = row.chunks_exact(QUAD).remainder();
            if !tail.is_empty() {
                let mut packed = 0u32;
                for b in 0..QUAD {
                    packed |= tail.get(b).map_or(form.zero as u32, |&v| byte(v)) << (8 * b);
                }
                out[whole] = packed as i32;
            }
        }
    }
}

/// One of the tile kernels: `acc[r][c] = Σ_j a[r][j] · w[c][j]` over pairs, for [`MR`] rows
/// of `a` (`pairs` packed pairs each) and one panel of [`NR`] columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// Plain Rust, any CPU.
    Portable,
    /// x86-64 AVX2 (`vpmaddwd`).
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// x86-64 AVX-512 VNNI (`vpdpwssd`: the pair products and the sum in one instruction).
    #[cfg(target_arch = "x86_64")]
    Avx512Vnni,
    /// wasm32 SIMD128 (`i32x4.dot_i16x8_s`).
    #[cfg(target_arch = "wasm32")]
    Simd128,
    /// wasm32 relaxed SIMD, in a build with the `relaxed-simd` target feature: SIMD128's pair
    /// kernel, and for 7-bit activations quads of `i8 × i7`
    /// (`i32x4.relaxed_dot_i8x16_i7x16_add_s`).
    #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
    RelaxedSimd,
}

impl Kernel {
    /// The fastest kernel this CPU runs, detected once; natively `TEXCNN_INT8_KERNEL`
    /// (`portable`, `avx2`, `avx512-vnni`) picks another that runs here, for benchmarks.
    pub fn best() -> Self {
        static BEST: OnceLock<Kernel> = OnceLock::new();
        *BEST.get_or_init(|| {
            #[cfg(not(target_arch = "wasm32"))]
            if let Ok(name) = std::env::var("TEXCNN_INT8_KERNEL")
                && let Some(kernel) = Kernel::available().into_iter().find(|k| k.name() == name)
            {
                return kernel;
            }
            #[cfg(target_arch = "x86_64")]
            if Kernel::Avx512Vnni.runs_here() {
                return Kernel::Avx512Vnni;
            }
            #[cfg(target_arch = "x86_64")]
            if Kernel::Avx2.runs_here() {
                return Kernel::Avx2;
            }
            #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
            return Kernel::RelaxedSimd;
            #[cfg(all(target_arch = "wasm32", not(target_feature = "relaxed-simd")))]
            return Kernel::Simd128;
            #[allow(unreachable_code)]
            Kernel::Portable
        })
    }

    /// Every kernel this CPU runs (the tests check each against the portable one).
    pub fn available() -> Vec<Self> {
        let mut kernels = vec![Self::Portable];
        #[cfg(target_arch = "x86_64")]
        kernels.extend(
            [Self::Avx2, Self::Avx512Vnni]
                .into_iter()
                .filter(|k| k.runs_here()),
        );
        #[cfg(target_arch = "wasm32")]
        kernels.push(Self::Simd128);
        #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
        kernels.push(Self::RelaxedSimd);
        kernels
    }

    /// Whether this CPU has the instructions the kernel needs.
    pub fn runs_here(self) -> bool {
        match self {
            Self::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Self::Avx512Vnni => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512vnni")
            }
            #[cfg(target_arch = "wasm32")]
            Self::Simd128 => true,
            // A module with relaxed SIMD instructions is only instantiated where the browser
            // validates them.
            #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
            Self::RelaxedSimd => true,
        }
    }

    /// Its name in benchmark rows and the card: `portable`, `avx2`, `avx512-vnni`, `simd128`,
    /// `relaxed-simd`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Portable => "portable",
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => "avx2",
            #[cfg(target_arch = "x86_64")]
            Self::Avx512Vnni => "avx512-vnni",
            #[cfg(target_arch = "wasm32")]
            Self::Simd128 => "simd128",
            #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
            Self::RelaxedSimd => "relaxed-simd",
        }
    }

    /// Whether it has a form for quads of `activations` (unsigned after their offset): AVX-512
    /// VNNI for 8 and 7 bits (`u8 × i8`), relaxed SIMD for 7 bits (`i7 × i8`).
    pub fn has_quads(self, activations: Activations) -> bool {
        match (self, activations) {
            #[cfg(target_arch = "x86_64")]
            (Self::Avx512Vnni, Activations::Int8 | Activations::Int7) => self.runs_here(),
            #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
            (Self::RelaxedSimd, Activations::Int7) => true,
            _ => false,
        }
    }

    /// The quad form: `acc[r][c] = Σ_j Σ_b a[r][j].byte(b) · w[c][4j + b]` (unsigned bytes
    /// times `i8`; below 128 for relaxed SIMD, which [`Self::has_quads`] holds it to).
    fn run_quads(self, a: &[i32], quads: usize, w: &[i8], acc: &mut [[i32; NR]; MR]) {
        assert!(a.len() >= MR * quads && w.len() >= quads * NR * QUAD);
        match self {
            // SAFETY: the CPU has AVX-512 F, BW and VNNI (checked); the slices were checked
            // above to hold what the kernel reads.
            #[cfg(target_arch = "x86_64")]
            Self::Avx512Vnni if self.runs_here() => unsafe { avx512_vnni_u8(a, quads, w, acc) },
            // SAFETY: the slices were checked above to hold what the kernel reads.
            #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
            Self::RelaxedSimd => unsafe { relaxed_simd_u7(a, quads, w, acc) },
            _ => panic!(
                "the {} kernel has no quad form here ({quads} quads, {} rows)",
                self.name(),
                acc.len()
            ),
        }
    }

    fn run(self, a: &[i32], pairs: usize, w: &[i8], acc: &mut [[i32; NR]; MR]) {
        assert!(a.len() >= MR * pairs && w.len() >= pairs * NR * 2);
        // A kernel the CPU lacks is never run (`forward_with` callers choose from `available`).
        assert!(
            self.runs_here(),
            "the {} kernel does not run on this CPU",
            self.name()
        );
        match self {
            Self::Portable => portable(a, pairs, w, acc),
            // SAFETY: the CPU has AVX2 (checked above); the slices were checked above to hold
            // what the kernel reads.
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => unsafe { avx2(a, pairs, w, acc) },
            // SAFETY: the CPU has AVX-512 F, BW and VNNI (checked above); the slices as above.
            #[cfg(target_arch = "x86_64")]
            Self::Avx512Vnni => unsafe { avx512_vnni(a, pairs, w, acc) },
            // SAFETY: the slices were checked above to hold what the kernel reads.
            #[cfg(target_arch = "wasm32")]
            Self::Simd128 => unsafe { simd128(a, pairs, w, acc) },
            // SAFETY: as for SIMD128 (relaxed SIMD's pairs are SIMD128's kernel).
            #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
            Self::RelaxedSimd => unsafe { simd128(a, pairs, w, acc) },
        }
    }
}

fn portable(a: &[i32], pairs: usize, w: &[i8], acc: &mut [[i32; NR]; MR]) {
    *acc = [[0; NR]; MR];
    for j in 0..pairs {
        let wj = &w[j * NR * 2..(j + 1) * NR * 2];
        for (r, sums) in acc.iter_mut().enumerate() {
            let pair = a[r * pairs + j];
            let (lo, hi) = (i32::from(pair as i16), pair >> 16);
            for (c, sum) in sums.iter_mut().enumerate() {
                *sum += lo * i32::from(wj[2 * c]) + hi * i32::from(wj[2 * c + 1]);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn avx2(a: &[i32], pairs: usize, w: &[i8], acc: &mut [[i32; NR]; MR]) {
    use std::arch::x86_64::*;
    let mut sums = [[_mm256_setzero_si256(); 2]; MR];
    let (a, w) = (a.as_ptr(), w.as_ptr());
    for j in 0..pairs {
        // SAFETY (all loads): `run` checked that `w` holds `pairs · NR · 2` bytes and `a`
        // holds `MR · pairs` values.
        let both = unsafe { _mm256_loadu_si256(w.add(j * NR * 2).cast()) };
        let w0 = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(both));
        let w1 = _mm256_cvtepi8_epi16(_mm256_extracti128_si256::<1>(both));
        for (r, s) in sums.iter_mut().enumerate() {
            let pair = _mm256_set1_epi32(unsafe { *a.add(r * pairs + j) });
            s[0] = _mm256_add_epi32(s[0], _mm256_madd_epi16(pair, w0));
            s[1] = _mm256_add_epi32(s[1], _mm256_madd_epi16(pair, w1));
        }
    }
    for (row, s) in acc.iter_mut().zip(&sums) {
        // SAFETY: each row holds NR = 16 i32, two 256-bit stores.
        unsafe {
            _mm256_storeu_si256(row.as_mut_ptr().cast(), s[0]);
            _mm256_storeu_si256(row.as_mut_ptr().add(8).cast(), s[1]);
        }
    }
}

/// The AVX-512 tile loop both VNNI kernels share: for each group `j` of inputs, `load(j)` the
/// [`NR`] columns' weights and add `dot(sum, a[r][j] broadcast, weights)` into each row's sum.
/// `vpdpwssd` / `vpdpbusd` add into their accumulator, so each accumulator is a chain of
/// dependent instructions (latency about 4-5 cycles, two issued per cycle): UNROLL consecutive
/// groups go to separate accumulators, MR · UNROLL chains in flight, summed at the end.
/// Generic over the two, so each kernel gets its own copy with its closures inlined.
///
/// # Safety
/// The CPU has AVX-512 F, BW and VNNI; `a` holds `MR · groups` values and `load` reads only
/// inside its weights for `j < groups`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
#[inline]
unsafe fn avx512_tile(
    a: &[i32],
    groups: usize,
    acc: &mut [[i32; NR]; MR],
    load: impl Fn(usize) -> std::arch::x86_64::__m512i,
    dot: impl Fn(
        std::arch::x86_64::__m512i,
        std::arch::x86_64::__m512i,
        std::arch::x86_64::__m512i,
    ) -> std::arch::x86_64::__m512i,
) {
    use std::arch::x86_64::*;
    const UNROLL: usize = 4;
    let mut sums = [[_mm512_setzero_si512(); MR]; UNROLL];
    let a = a.as_ptr();
    let step = |sums: &mut [__m512i; MR], j: usize| {
        let cols = load(j);
        for (r, s) in sums.iter_mut().enumerate() {
            // SAFETY: `a` holds MR · groups values (the caller's contract).
            let group = _mm512_set1_epi32(unsafe { *a.add(r * groups + j) });
            *s = dot(*s, group, cols);
        }
    };
    let whole = groups - groups % UNROLL;
    for j in (0..whole).step_by(UNROLL) {
        for (u, s) in sums.iter_mut().enumerate() {
            step(s, j + u);
        }
    }
    for j in whole..groups {
        step(&mut sums[0], j);
    }
    for (r, row) in acc.iter_mut().enumerate() {
        let total = _mm512_add_epi32(
            _mm512_add_epi32(sums[0][r], sums[1][r]),
            _mm512_add_epi32(sums[2][r], sums[3][r]),
        );
        // SAFETY: each row holds NR = 16 i32, one 512-bit store.
        unsafe { _mm512_storeu_si512(row.as_mut_ptr().cast(), total) };
    }
}

/// Pairs of `i16` (`vpdpwssd`): NR = 16 columns' pairs, 32 bytes widened to 32 `i16`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn avx512_vnni(a: &[i32], pairs: usize, w: &[i8], acc: &mut [[i32; NR]; MR]) {
    use std::arch::x86_64::*;
    let w = w.as_ptr();
    // SAFETY: `run` checked that `w` holds `pairs · NR · 2` bytes and `a` `MR · pairs` values;
    // this function enables what the tile loop needs.
    unsafe {
        avx512_tile(
            a,
            pairs,
            acc,
            |j| _mm512_cvtepi8_epi16(_mm256_loadu_si256(w.add(j * NR * PAIR).cast())),
            |sum, pair, cols| _mm512_dpwssd_epi32(sum, pair, cols),
        )
    }
}

/// Quads of `u8 × i8` (`vpdpbusd`): NR = 16 columns' quads in one 64-byte load, no widening.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn avx512_vnni_u8(a: &[i32], quads: usize, w: &[i8], acc: &mut [[i32; NR]; MR]) {
    use std::arch::x86_64::*;
    let w = w.as_ptr();
    // SAFETY: `run_quads` checked that `w` holds `quads · NR · 4` bytes and `a` `MR · quads`
    // values; this function enables what the tile loop needs.
    unsafe {
        avx512_tile(
            a,
            quads,
            acc,
            |j| _mm512_loadu_si512(w.add(j * NR * QUAD).cast()),
            |sum, quad, cols| _mm512_dpbusd_epi32(sum, quad, cols),
        )
    }
}

/// The wasm32 tile loop both wasm kernels share: the tile's 16 columns in two halves of 8,
/// so that 8 sums, the half's two weight vectors and one activation group stay in registers
/// (x86-64 engines have 16 `xmm`; all 16 columns' sums and weights spilled: 3.5% slower in
/// Chromium on the full-size model). For each group `j` of inputs, `load(j, half)` gives the
/// half's two weight vectors (4 columns each) and `dot(sum, group splat, weights)` adds their
/// products with row `r`'s group `a[r][j]` into `sum`. Generic over the two, so each kernel
/// gets its own copy with its closures inlined.
///
/// # Safety
/// `a` holds `MR · groups` values and `load` reads only inside its weights for `j < groups`.
#[cfg(target_arch = "wasm32")]
#[inline(always)]
unsafe fn wasm_tile(
    a: &[i32],
    groups: usize,
    acc: &mut [[i32; NR]; MR],
    load: impl Fn(usize, usize) -> [std::arch::wasm32::v128; 2],
    dot: impl Fn(
        std::arch::wasm32::v128,
        std::arch::wasm32::v128,
        std::arch::wasm32::v128,
    ) -> std::arch::wasm32::v128,
) {
    use std::arch::wasm32::*;
    const HALF: usize = NR / 2;
    let a = a.as_ptr();
    for half in 0..2 {
        let mut sums = [[i32x4_splat(0); 2]; MR];
        for j in 0..groups {
            let cols = load(j, half);
            for (r, s) in sums.iter_mut().enumerate() {
                // SAFETY: `a` holds MR · groups values (the caller's contract).
                let group = unsafe { v128_load32_splat(a.add(r * groups + j).cast()) };
                s[0] = dot(s[0], group, cols[0]);
                s[1] = dot(s[1], group, cols[1]);
            }
        }
        for (row, s) in acc.iter_mut().zip(&sums) {
            for (q, v) in s.iter().enumerate() {
                // SAFETY: each row holds NR = 16 i32; half · 8 + 4q + 4 ≤ 16.
                unsafe { v128_store(row.as_mut_ptr().add(half * HALF + 4 * q).cast(), *v) };
            }
        }
    }
}

/// Pairs of `i16` (`i32x4.dot_i16x8_s`): a half's 8 columns' pairs, 16 bytes widened to two
/// vectors of 8 `i16`.
#[cfg(target_arch = "wasm32")]
unsafe fn simd128(a: &[i32], pairs: usize, w: &[i8], acc: &mut [[i32; NR]; MR]) {
    use std::arch::wasm32::*;
    let w = w.as_ptr();
    // SAFETY: `run` checked that `w` holds `pairs · NR · 2` bytes and `a` `MR · pairs` values.
    unsafe {
        wasm_tile(
            a,
            pairs,
            acc,
            |j, half| {
                let both = v128_load(w.add((j * NR + half * NR / 2) * PAIR).cast());
                [i16x8_extend_low_i8x16(both), i16x8_extend_high_i8x16(both)]
            },
            |sum, pair, cols| i32x4_add(sum, i32x4_dot_i16x8(pair, cols)),
        )
    }
}

/// Quads of `i7 × i8` (`i32x4.relaxed_dot_i8x16_i7x16_add_s`): each lane of a weight vector
/// holds one column's four weights, the activation quad is splat to every lane, 16 products
/// and the sum in one instruction. Deterministic: the activations are in 1..=127 (7 bits
/// offset by 64, see [`Activations::Int7`]), so signed and unsigned readings agree, and pair
/// sums reach at most 2 · 127 · 127 < 2^15, so no lowering saturates. (All 16 columns at once
/// instead of [`wasm_tile`]'s halves was 4% slower in Chromium on x86-64.)
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
unsafe fn relaxed_simd_u7(a: &[i32], quads: usize, w: &[i8], acc: &mut [[i32; NR]; MR]) {
    use std::arch::wasm32::*;
    let w = w.as_ptr();
    // SAFETY: `run_quads` checked that `w` holds `quads · NR · 4` bytes and `a` `MR · quads`
    // values.
    unsafe {
        wasm_tile(
            a,
            quads,
            acc,
            |j, half| {
                let cols = w.add((j * NR + half * NR / 2) * QUAD);
                [v128_load(cols.cast()), v128_load(cols.add(16).cast())]
            },
            |sum, quad, cols| i32x4_relaxed_dot_i8x16_i7x16_add(cols, quad, sum),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [-1, 1).
    fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = crate::rng::SplitMix64::new(seed);
        (0..n).map(|_| rng.next_f64() as f32 * 2.0 - 1.0).collect()
    }

    /// `x · wᵀ + b` in f64 with the dequantized weights.
    fn reference(q: &Int8Linear, w: &[f32], x: &[f32], rows: usize) -> Vec<f64> {
        let mut out = Vec::new();
        for r in 0..rows {
            for o in 0..q.d_out {
                let row = &w[o * q.d_in..(o + 1) * q.d_in];
                let scale = f64::from(q.scales[o]);
                let mut sum = f64::from(q.bias[o]);
                for k in 0..q.d_in {
                    let wq = (f64::from(row[k]) / scale).round().clamp(-127.0, 127.0) * scale;
                    sum += f64::from(x[r * q.d_in + k]) * wq;
                }
                out.push(sum);
            }
        }
        out
    }

    #[test]
    fn every_kernel_computes_the_dequantized_product_on_ragged_shapes() {
        // Odd K (a padded pair), N not a multiple of a panel, rows not a multiple of a tile
        // or of a parallel block.
        for (rows, d_in, d_out) in [(1, 3, 5), (7, 33, 17), (37, 768, 40), (5, 130, 48)] {
            let w = values(d_in * d_out, 1);
            let bias = values(d_out, 2);
            let x: Vec<f32> = values(rows * d_in, 3).iter().map(|v| v * 4.0).collect();
            let q = Int8Linear::quantize(d_in, d_out, &w, Some(bias));
            let want = reference(&q, &w, &x, rows);
            for activations in Activations::ALL {
                let limit = activations.limit(d_in);
                let q = q.clone().with_activations(activations);
                for kernel in Kernel::available() {
                    let got = q.forward_with(&x, rows, kernel);
                    let worst = got
                        .iter()
                        .zip(&want)
                        .map(|(g, w)| (f64::from(*g) - w).abs())
                        .fold(0.0, f64::max);
                    // The activations' rounding: half a step of 4 / limit per input (the
                    // largest |x| is below 4, every |w| below 1), summed.
                    let bound = 4.0 / f64::from(limit) * d_in as f64 * 0.5 + 1e-4;
                    assert!(
                        worst <= bound,
                        "{} {activations:?} {rows}×{d_in}→{d_out}: off by {worst} > {bound}",
                        kernel.name()
                    );
                }
            }
        }
    }

    #[test]
    fn the_integer_sums_cannot_overflow_at_the_largest_values() {
        // Every weight at ±127 and every activation at the row's maximum: the sum reaches
        // K · limit · 127, which must still fit in i32.
        let (rows, d_in, d_out) = (4, 3072, 16);
        let values = vec![127i8; d_in * d_out];
        let q = Int8Linear::new(d_in, d_out, &values, vec![1.0; d_out], None).unwrap();
        let x = vec![1.0f32; rows * d_in];
        for activations in Activations::ALL {
            // (8-bit activations offset to u8 reach K · 255 · 127 in the VNNI kernel.)
            let q = q.clone().with_activations(activations);
            for kernel in Kernel::available() {
                for v in q.forward_with(&x, rows, kernel) {
                    assert!(
                        (v - 127.0 * d_in as f32).abs() <= 1.0,
                        "{} {activations:?}: {v}",
                        kernel.name()
                    );
                }
            }
        }
    }

    #[test]
    fn inconsistent_weights_are_refused() {
        assert_eq!(
            Int8Linear::new(2, 2, &[1, 2, 3], vec![1.0; 2], None).unwrap_err(),
            Int8Error::Values {
                d_out: 2,
                d_in: 2,
                found: 3
            }
        );
        assert!(matches!(
            Int8Linear::new(2, 2, &[1, 2, 3, 4], vec![1.0], None),
            Err(Int8Error::Scales { .. })
        ));
    }

    #[test]
    fn zero_and_non_finite_rows_give_zeros_and_nan() {
        let q = Int8Linear::quantize(4, 2, &values(8, 5), None);
        let x = [0.0, 0.0, 0.0, 0.0, 1.0, f32::INFINITY, 0.0, 0.0];
        for activations in Activations::ALL {
            let q = q.clone().with_activations(activations);
            for kernel in Kernel::available() {
                let out = q.forward_with(&x, 2, kernel);
                assert_eq!(&out[..2], &[0.0, 0.0], "{} {activations:?}", kernel.name());
                assert!(out[2..].iter().all(|v| v.is_nan()));
            }
        }
    }
}
