//! The text-CNN head against a plain-Rust re-implementation of the same arithmetic
//! (same-padded 1-D convolutions, ReLU, global max-pool, dense layers), on random weights.

use burn::tensor::{Device, Tensor, TensorData};
use texcnn::head::{HeadConfigError, TextCnnHeadConfig};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn values<const D: usize>(t: &Tensor<D>) -> Vec<f32> {
    t.to_data().try_into_vec::<f32>().unwrap()
}

/// out[o] = b[o] + Σ_i w[o][i] x[i], with burn's Linear layout w: [in, out].
fn linear(x: &[f32], w: &[f32], b: &[f32], inputs: usize, outputs: usize) -> Vec<f32> {
    (0..outputs)
        .map(|o| b[o] + (0..inputs).map(|i| w[i * outputs + o] * x[i]).sum::<f32>())
        .collect()
}

#[test]
fn matches_a_plain_rust_text_cnn() {
    let device = Device::flex();
    let (dim, filters, extra, hidden) = (5, 3, 2, 4);
    let config = TextCnnHeadConfig::new(dim)
        .with_kernel_sizes(vec![1, 3, 5])
        .with_filters(filters)
        .with_extra_features(extra)
        .with_dense(vec![hidden])
        .with_outputs(2);
    let head = config.init(&device).unwrap();
    // Three segments: fewer than the widest kernel.
    let (batch, segments) = (2, 3);
    let x: Vec<f32> = (0..batch * segments * dim)
        .map(|i| ((i * 37 % 17) as f32 - 8.0) / 5.0)
        .collect();
    let feats: Vec<f32> = vec![0.5, -1.0, 2.0, 0.25];
    let got = head.forward(
        Tensor::from_data(TensorData::new(x.clone(), [batch, segments, dim]), &device),
        Some(Tensor::from_data(
            TensorData::new(feats.clone(), [batch, extra]),
            &device,
        )),
    );
    assert_eq!(got.dims(), [batch, 2]);
    let got = values(&got);

    for b in 0..batch {
        let at = |s: isize, c: usize| -> f32 {
            if s < 0 || s >= segments as isize {
                0.0
            } else {
                x[(b * segments + s as usize) * dim + c]
            }
        };
        let mut pooled = Vec::new();
        for conv in &head.convs {
            let w = values(&conv.weight.val()); // [filters, dim, k]
            let bias = values(&conv.bias.as_ref().unwrap().val());
            let k = conv.kernel_size;
            let half = (k / 2) as isize;
            for f in 0..filters {
                let mut best = f32::NEG_INFINITY;
                for s in 0..segments as isize {
                    let mut acc = bias[f];
                    for c in 0..dim {
                        for j in 0..k {
                            acc += w[(f * dim + c) * k + j] * at(s + j as isize - half, c);
                        }
                    }
                    best = best.max(acc.max(0.0));
                }
                pooled.push(best);
            }
        }
        pooled.extend_from_slice(&feats[b * extra..(b + 1) * extra]);
        let d = &head.dense[0];
        let h: Vec<f32> = linear(
            &pooled,
            &values(&d.weight.val()),
            &values(&d.bias.as_ref().unwrap().val()),
            pooled.len(),
            hidden,
        )
        .into_iter()
        .map(|v| v.max(0.0))
        .collect();
        let out = linear(
            &h,
            &values(&head.output.weight.val()),
            &values(&head.output.bias.as_ref().unwrap().val()),
            hidden,
            2,
        );
        for o in 0..2 {
            let diff = (out[o] - got[b * 2 + o]).abs();
            assert!(
                diff < 1e-5,
                "batch {b} output {o}: {} vs {}",
                out[o],
                got[b * 2 + o]
            );
        }
    }
}

#[test]
fn rejects_unbuildable_configs() {
    let device = Device::flex();
    let even = TextCnnHeadConfig::new(8).with_kernel_sizes(vec![1, 2]);
    assert_eq!(
        even.init(&device).err(),
        Some(HeadConfigError::BadKernel(2))
    );
    let none = TextCnnHeadConfig::new(8).with_kernel_sizes(vec![]);
    assert_eq!(none.init(&device).err(), Some(HeadConfigError::NoKernels));
    let zero = TextCnnHeadConfig::new(0);
    assert_eq!(
        zero.init(&device).err().map(|e| e.to_string()),
        Some("the head's embedding size must be at least 1".to_string())
    );
}

#[test]
fn weights_round_trip_by_name_and_are_checked_strictly() {
    use texcnn::head::{HeadWeightsError, TextCnnHead};
    let device = Device::flex();
    let config = TextCnnHeadConfig::new(6)
        .with_kernel_sizes(vec![1, 3])
        .with_filters(4)
        .with_dense(vec![5, 3])
        .with_outputs(2);
    let head = config.init(&device).unwrap();
    let tensors = head.to_tensors().unwrap();
    let names: Vec<_> = tensors.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "convs.0.weight",
            "convs.0.bias",
            "convs.1.weight",
            "convs.1.bias",
            "dense.0.weight",
            "dense.0.bias",
            "dense.1.weight",
            "dense.1.bias",
            "output.weight",
            "output.bias"
        ]
    );
    let again = TextCnnHead::from_tensors(&config, &tensors, &device).unwrap();
    let x = Tensor::<3>::from_data(
        TensorData::new(
            (0..2 * 4 * 6)
                .map(|i| (i as f32 * 0.37).sin())
                .collect::<Vec<_>>(),
            [2, 4, 6],
        ),
        &device,
    );
    assert_eq!(
        values(&head.forward(x.clone(), None)),
        values(&again.forward(x, None))
    );

    let mut wrong = tensors.clone();
    wrong[4].shape = vec![5, 8];
    assert_eq!(
        TextCnnHead::from_tensors(&config, &wrong, &device)
            .err()
            .map(|e| e.to_string()),
        Some("head weight dense.0.weight: expected shape [8, 5], found [5, 8]".to_string())
    );
    let missing: Vec<_> = tensors
        .iter()
        .filter(|t| t.name != "output.bias")
        .cloned()
        .collect();
    assert_eq!(
        TextCnnHead::from_tensors(&config, &missing, &device).err(),
        Some(HeadWeightsError::Missing("output.bias".into()))
    );
    let mut extra = tensors.clone();
    extra.push(texcnn::head::NamedTensor {
        name: "bogus".into(),
        shape: vec![1],
        values: vec![0.0],
    });
    assert_eq!(
        TextCnnHead::from_tensors(&config, &extra, &device).err(),
        Some(HeadWeightsError::Unexpected("bogus".into()))
    );
}

/// Two heads stacked into one give each head's own outputs, side by side: the first reads
/// per-gene features, the second does not, their filter counts, dense widths and output
/// counts differ.
#[test]
fn stacked_heads_compute_both_heads_outputs() {
    use texcnn::head::{StackError, TextCnnHead, stack};
    let device = Device::flex();
    let dim = 6;
    let first = TextCnnHeadConfig::new(dim)
        .with_kernel_sizes(vec![1, 3])
        .with_filters(4)
        .with_extra_features(3)
        .with_dense(vec![5, 3])
        .with_outputs(1);
    let second = TextCnnHeadConfig::new(dim)
        .with_kernel_sizes(vec![1, 3])
        .with_filters(2)
        .with_dense(vec![4, 2])
        .with_outputs(2);
    device.seed(11);
    let (a, b) = (first.init(&device).unwrap(), second.init(&device).unwrap());
    let (at, bt) = (a.to_tensors().unwrap(), b.to_tensors().unwrap());
    let (config, tensors) = stack((&first, &at), (&second, &bt)).unwrap();
    assert_eq!(
        (config.filters, config.dense.clone(), config.outputs),
        (6, vec![9, 5], 3)
    );
    let merged = TextCnnHead::from_tensors(&config, &tensors, &device).unwrap();
    let (batch, segments) = (3, 5);
    let x: Vec<f32> = (0..batch * segments * dim)
        .map(|i| ((i * 29 % 23) as f32 - 11.0) / 4.0)
        .collect();
    let feats: Vec<f32> = (0..batch * 3).map(|i| i as f32 / 3.0 - 1.0).collect();
    let input =
        || Tensor::<3>::from_data(TensorData::new(x.clone(), [batch, segments, dim]), &device);
    let extra = || Tensor::<2>::from_data(TensorData::new(feats.clone(), [batch, 3]), &device);
    let want_a = values(&a.forward(input(), Some(extra())));
    let want_b = values(&b.forward(input(), None));
    let got = values(&merged.forward(input(), Some(extra())));
    for row in 0..batch {
        let want = [want_a[row], want_b[2 * row], want_b[2 * row + 1]];
        for (o, &w) in want.iter().enumerate() {
            let g = got[row * 3 + o];
            assert!((g - w).abs() < 1e-5, "gene {row} output {o}: {g} vs {w}");
        }
    }
    // The added head must not read features, and the shapes must agree.
    assert_eq!(
        stack((&second, &bt), (&first, &at)).unwrap_err(),
        StackError::SecondHasFeatures(3)
    );
    let wider = second.clone().with_kernel_sizes(vec![1, 5]);
    let ct = wider.init(&device).unwrap().to_tensors().unwrap();
    assert!(matches!(
        stack((&first, &at), (&wider, &ct)),
        Err(StackError::Shape {
            what: "kernel widths",
            ..
        })
    ));
    let with_features = second.clone().with_extra_features(1);
    let wt = with_features.init(&device).unwrap().to_tensors().unwrap();
    assert_eq!(
        stack((&first, &at), (&with_features, &wt)).unwrap_err(),
        StackError::SecondHasFeatures(1)
    );
}
