//! Regression cases, each named after what once broke. Add one here when a bug is fixed: the
//! name says what a user saw, the comment says what the cause was.

#[cfg(not(target_arch = "wasm32"))]
mod common;

/// The padding mask: segments of different lengths are embedded together, the short ones
/// padded to the longest. Without the mask in the attention scores and in the mean, a
/// segment's vector depended on its batch neighbours.
#[cfg(not(target_arch = "wasm32"))]
mod padding_mask {
    use burn::tensor::Device;

    use crate::common::{self, PARITY_TOLERANCE, golden_token_ids, max_abs_diff};

    #[test]
    fn a_segment_gives_the_same_vector_alone_and_in_a_padded_batch() {
        let device = Device::flex();
        let (_, encoder) = common::golden_encoder(&device);
        let ids = golden_token_ids();
        // Short segments next to the 849-token one get hundreds of padded positions.
        let batch = encoder.embed_segments_to_vec(&ids).expect("batch embeds");
        for (n, segment) in ids.iter().enumerate() {
            let alone = encoder
                .embed_segments_to_vec(std::slice::from_ref(segment))
                .expect("segment embeds");
            let error = max_abs_diff(&alone[0], &batch[n]);
            assert!(error <= 1e-5, "seq{n}: alone vs in batch differ by {error}");
        }
    }

    #[test]
    fn padding_changes_nothing_even_in_reverse_order() {
        // The longest segment first, then the shortest, against the original code's output.
        let device = Device::flex();
        let (_, encoder) = common::golden_encoder(&device);
        let ids = golden_token_ids();
        let (expected_shape, expected) =
            common::read_npy_f32(&common::golden_dir().join("mean_pooled.npy"));
        let width = expected_shape[1];
        let batch = encoder
            .embed_segments_to_vec(&[ids[0].clone(), ids[3].clone(), ids[0].clone()])
            .expect("batch embeds");
        for (row, n) in [(0, 0), (1, 3), (2, 0)] {
            let error = max_abs_diff(&batch[row], &expected[n * width..(n + 1) * width]);
            assert!(error <= PARITY_TOLERANCE, "row {row}: error {error}");
        }
    }
}

/// The page's column headers read "log10(log10(RPKM + 0.1) + 0.1)" for the tiny test bundle:
/// the page applied the transform to a unit that was already transformed. The unit text now
/// comes from Rust (`LabelSpec::value_unit`), which the page shows as it is.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn unit_of_an_already_transformed_label_is_not_transformed_twice() {
    let path = common::repo_root().join("tests/fixtures/bundles/tiny_predictor.texcnn");
    let bundle = texcnn::bundle::Bundle::from_bytes(&std::fs::read(path).unwrap()).unwrap();
    let label = &bundle.card.outputs[0].label;
    assert_eq!(
        (label.unit.as_str(), label.transform.as_str()),
        ("log10(RPKM + 0.1)", "log10(x + 0.1)"),
        "the fixture no longer has the case this test is about"
    );
    assert_eq!(label.value_unit(), "log10(RPKM + 0.1)");
}

/// Every call into the page's WebAssembly module cost ~90 ms: wasm-ld linked the module as a
/// "command" and wrapped each export to run all static constructors (cubecl's `inventory`
/// registrations) again. `texcnn::web::run_static_constructors` references
/// `__wasm_call_ctors`, so the exports are not wrapped and the constructors run once, when it
/// is called. A constructor of this test counts its runs: a wrapped export (this test's
/// entry) would run it before the test body, and the call below once more.
#[cfg(target_arch = "wasm32")]
mod wasm_call_ctors {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use wasm_bindgen_test::wasm_bindgen_test;

    static RUNS: AtomicUsize = AtomicUsize::new(0);

    extern "C" fn count_run() {
        RUNS.fetch_add(1, Ordering::SeqCst);
    }

    /// A static constructor, as `inventory` registers them on wasm32.
    #[used]
    #[unsafe(link_section = ".init_array")]
    static COUNT_RUN: extern "C" fn() = count_run;

    #[wasm_bindgen_test]
    fn static_constructors_run_once_not_on_every_call_into_the_module() {
        texcnn::web::run_static_constructors();
        texcnn::web::run_static_constructors();
        assert_eq!(RUNS.load(Ordering::SeqCst), 1);
    }

    #[wasm_bindgen_test]
    fn a_second_call_into_the_module_runs_no_constructor() {
        texcnn::web::run_static_constructors();
        let before = RUNS.load(Ordering::SeqCst);
        texcnn::web::run_static_constructors();
        assert_eq!((before, RUNS.load(Ordering::SeqCst)), (1, 1));
    }
}
