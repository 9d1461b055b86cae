//! int8 compute of the encoder's `Linear` layers (`texcnn::encoder::int8`) against `f32`: every
//! kernel this CPU has against the portable one, and segment embeddings (cosine ≥ 0.999) of
//! the golden model's int8 bundle, of its `f32` bundle quantized on load, and (natively) of
//! the default bundle, whose predictions must also stay within a stated tolerance. Runs
//! natively (AVX2 where the CPU has it) and on wasm32 (SIMD128, under Node).

use burn::tensor::Device;
use texcnn::bundle::{Bundle, Compute, cosine};
use texcnn::encoder::int8::{Activations, Int8Linear, Kernel};
use texcnn::rng::SplitMix64;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// The accuracy bar of int8 compute: segment-embedding cosine against `f32`.
const MIN_COSINE: f64 = 0.999;

const GOLDEN_INT8: &[u8] = include_bytes!("fixtures/bundles/golden_tiny_int8.texcnn");
const GOLDEN_F32: &[u8] = include_bytes!("fixtures/bundles/golden_tiny_f32.texcnn");

/// Deterministic values in [-1, 1).
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64::new(seed);
    (0..n).map(|_| rng.next_f64() as f32 * 2.0 - 1.0).collect()
}

/// Segments of token ids `[CLS] … [SEP]` of several lengths (short ones padded in a batch
/// with the long one), ids spread over the vocabulary.
fn segments(vocab: usize) -> Vec<Vec<u32>> {
    [3usize, 40, 250, 17]
        .iter()
        .enumerate()
        .map(|(s, &len)| {
            let mut ids = vec![1u32];
            ids.extend((0..len).map(|i| (5 + (i * 37 + s * 101) % (vocab - 5)) as u32));
            ids.push(2);
            ids
        })
        .collect()
}

/// The lowest cosine between corresponding rows, and the largest absolute difference.
fn compare(a: &[Vec<f32>], b: &[Vec<f32>]) -> (f64, f32) {
    assert_eq!(a.len(), b.len());
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| cosine(x, y))
        .fold(1.0, f64::min);
    let diff = a
        .iter()
        .zip(b)
        .flat_map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs()))
        .fold(0.0, f32::max);
    (worst, diff)
}

#[test]
fn every_kernel_gives_the_portable_kernels_numbers_exactly() {
    // The sums are integers, so every kernel must give the same bits; odd K, a ragged last
    // panel and ragged row tiles included.
    for (rows, d_in, d_out) in [(1, 7, 3), (9, 130, 33), (21, 768, 50)] {
        let q = Int8Linear::quantize(
            d_in,
            d_out,
            &values(d_in * d_out, 1),
            Some(values(d_out, 2)),
        );
        let x: Vec<f32> = values(rows * d_in, 3).iter().map(|v| v * 3.0).collect();
        // Both activation widths; with 8-bit ones the AVX-512 VNNI kernel reads u8 quads, a
        // layout of its own, and must still give the portable kernel's bits.
        for activations in Activations::ALL {
            let q = q.clone().with_activations(activations);
            let want = q.forward_with(&x, rows, Kernel::Portable);
            for kernel in Kernel::available() {
                assert_eq!(
                    q.forward_with(&x, rows, kernel),
                    want,
                    "{} {activations:?}",
                    kernel.name()
                );
            }
        }
        // The two widths are different computations (8 bits round the inputs more).
        assert_ne!(
            q.forward(&x, rows),
            q.clone()
                .with_activations(Activations::Int8)
                .forward(&x, rows)
        );
    }
    // The widest kernel the CPU runs is the one chosen.
    #[cfg(target_arch = "x86_64")]
    {
        let widest = Kernel::available().into_iter().last().unwrap();
        assert_eq!(Kernel::best(), widest);
        eprintln!(
            "kernels here: {:?}, chosen {}",
            Kernel::available(),
            widest.name()
        );
    }
    // A build with relaxed SIMD (the page's second module) takes its kernel.
    #[cfg(all(target_arch = "wasm32", not(target_feature = "relaxed-simd")))]
    assert_eq!(Kernel::best().name(), "simd128");
    #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
    assert_eq!(Kernel::best().name(), "relaxed-simd");
}

/// Embeds the test segments with `bundle`'s encoder in `f32` and in `compute` (an int8 one).
fn embed_both(bundle: &Bundle, compute: Compute) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let device = Device::flex();
    let f32 = bundle.load_encoder_with(&device, Compute::F32).unwrap();
    let int8 = bundle.load_encoder_with(&device, compute).unwrap();
    assert!(!f32.uses_int8() && int8.uses_int8());
    assert_eq!(int8.int8_activations(), compute.activations());
    let segments = segments(f32.vocab_size());
    (
        f32.embed_segments_to_vec(&segments).unwrap(),
        int8.embed_segments_to_vec(&segments).unwrap(),
    )
}

/// `bundle` computed in int8 keeps the cosine bar against f32, and is not f32 under another
/// name.
fn check_cosine_bar(bundle: &[u8]) {
    for compute in [Compute::Int8, Compute::Int8Act8, Compute::Int8Act7] {
        let (f32, int8) = embed_both(&Bundle::from_bytes(bundle).unwrap(), compute);
        let (worst, diff) = compare(&f32, &int8);
        assert!(
            worst >= MIN_COSINE,
            "{}: cosine {worst} < {MIN_COSINE}",
            compute.as_str()
        );
        assert!(
            diff > 0.0,
            "{} compute gave the f32 numbers exactly",
            compute.as_str()
        );
    }
}

#[test]
fn golden_int8_bundle_computed_in_int8_keeps_the_cosine_bar() {
    check_cosine_bar(GOLDEN_INT8);
}

#[test]
fn golden_f32_bundle_quantized_on_load_keeps_the_cosine_bar() {
    check_cosine_bar(GOLDEN_F32);
}

#[test]
fn int8_compute_is_ignored_off_the_cpu_path_and_f32_is_the_default() {
    let bundle = Bundle::from_bytes(GOLDEN_INT8).unwrap();
    assert_eq!(texcnn::bundle::default_compute(), Compute::F32);
    assert!(!bundle.load_encoder(&Device::flex()).unwrap().uses_int8());
}

/// The default bundle (int8 encoder) on the example promoter, as `texcnn predict` runs it.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn default_bundle_in_int8_keeps_the_cosine_bar_and_its_predictions() {
    use texcnn::predict::Predictor;
    use texcnn::sequence::parse_text;

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let bundle =
        Bundle::from_bytes(&std::fs::read(root.join("www/models/default.texcnn")).unwrap())
            .unwrap();
    let example = std::fs::read_to_string(root.join("www/example.fa")).unwrap();
    let record = parse_text(&example).records.swap_remove(0);
    let device = Device::flex();
    let mut predictor = Predictor::from_bundle(&bundle, &device).unwrap();
    let prepared = predictor.prepare(&record.residues, record.tss).unwrap();
    let ids = prepared.token_ids();
    // The segment embeddings and the prediction with the predictor's encoder as it is.
    let run = |p: &Predictor| {
        let rows = p.embedder.encoder.embed_segments_to_vec(&ids).unwrap();
        let prediction = p
            .predict_at(&record.residues, record.tss, 8, false)
            .unwrap();
        (rows, prediction)
    };
    let (f32_rows, f32_prediction) = run(&predictor);
    for compute in [Compute::Int8, Compute::Int8Act8, Compute::Int8Act7] {
        predictor.embedder.encoder = bundle.load_encoder_with(&device, compute).unwrap();
        let (int8_rows, int8_prediction) = run(&predictor);
        let (worst, diff) = compare(&f32_rows, &int8_rows);
        let name = compute.as_str();
        eprintln!(
            "default bundle, {} segments, {name}: cosine ≥ {worst:.6}, max |diff| {diff:.2e}",
            ids.len()
        );
        assert!(worst >= MIN_COSINE, "{name}: cosine {worst} < {MIN_COSINE}");
        // The stated tolerance of int8 predictions: 0.01 in label units (log10 RPKM), i.e.
        // the predicted RPKM changes by at most 2.3 %.
        for (a, b) in f32_prediction.outputs.iter().zip(&int8_prediction.outputs) {
            let change = (a.value - b.value).abs();
            eprintln!(
                "{}: f32 {} {name} {} (|change| {change:.2e})",
                a.name, a.value, b.value
            );
            assert!(
                change <= 0.01,
                "{}: f32 {} vs {name} {}",
                a.name,
                a.value,
                b.value
            );
        }
    }
}
