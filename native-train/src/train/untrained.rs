//! Untrained predictor heads: seeded random text-CNN weights on an encoder bundle, for test
//! fixtures and for timing the page with an encoder that has no trained head (`texcnn bench
//! --web-bundle`). Nothing made here predicts anything; the cards say so.

use burn::tensor::Device;
use texcnn::bundle::Bundle;
use texcnn::head::{NamedTensor, TextCnnHead, TextCnnHeadConfig};
use texcnn::predict::head_part;
use texcnn::rng::SplitMix64;

/// Head weights named and shaped as `TextCnnHead::to_tensors` gives them, drawn uniformly
/// in ±1/√fan-in (fan-in: channels × width for a convolution, inputs for a Linear).
fn random_weights(shapes: &[NamedTensor], rng: &mut SplitMix64) -> Vec<NamedTensor> {
    let mut fan_in = 1;
    shapes
        .iter()
        .map(|t| {
            if t.name.ends_with(".weight") {
                // Conv1d [filters, channels, width]; Linear [in, out] (burn's layout).
                fan_in = match t.shape.as_slice() {
                    [_, channels, width] => channels * width,
                    [inputs, _] => *inputs,
                    _ => 1,
                };
            }
            let bound = 1.0 / (fan_in as f64).sqrt();
            let values = (0..t.values.len())
                .map(|_| ((2.0 * rng.next_f64() - 1.0) * bound) as f32)
                .collect();
            NamedTensor {
                name: t.name.clone(),
                shape: t.shape.clone(),
                values,
            }
        })
        .collect()
}

/// Puts a text-CNN head of `config` with random weights (SplitMix64 `seed`) on `bundle`.
pub fn attach_random_head(
    bundle: &mut Bundle,
    config: &TextCnnHeadConfig,
    seed: u64,
) -> anyhow::Result<()> {
    let device = Device::flex();
    // Only the names and shapes of a fresh head are used; its values are replaced.
    let layout = config.init(&device)?.to_tensors()?;
    let weights = random_weights(&layout, &mut SplitMix64::new(seed));
    let head = TextCnnHead::from_tensors(config, &weights, &device)?;
    bundle.head = Some(head_part(config, &head)?);
    Ok(())
}
