//! Named tensors as a bundle stores them: `f32`, `f16`, or symmetric int8 with one `f32`
//! scale per block of consecutive values along the last dimension. Decoding always gives
//! `f32` values, identical on every platform (no backend is involved).

use serde::{Deserialize, Serialize};

use super::BundleError;

/// How one tensor's values are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Encoding {
    /// Little-endian IEEE `f32`: 4 bytes a value.
    F32,
    /// Little-endian IEEE half precision: 2 bytes a value.
    F16,
    /// Symmetric int8: the values are cut into blocks of `block` consecutive values along the
    /// last dimension (which `block` divides), each block has the scale `max|x| / 127`, and
    /// `x ≈ q · scale` with `q` in −127..=127. Bytes: every block's `f32` scale (LE), then every
    /// `q` as `i8`. With `block` equal to the last dimension this is one scale per row, i.e.
    /// per output channel of a PyTorch `Linear` weight `[out, in]`.
    Int8 {
        /// Values per scale (> 0).
        block: usize,
    },
}

impl Encoding {
    /// Short name for listings ("f32", "f16", "int8/768").
    pub fn label(&self) -> String {
        match self {
            Self::F32 => "f32".into(),
            Self::F16 => "f16".into(),
            Self::Int8 { block } => format!("int8/{block}"),
        }
    }

    /// Number of stored bytes for a tensor of `shape`, or why the pair is impossible.
    pub fn byte_len(&self, shape: &[usize]) -> Result<usize, String> {
        let count = element_count(shape)?;
        match *self {
            Self::F32 => count.checked_mul(4).ok_or_else(|| "too large".into()),
            Self::F16 => count.checked_mul(2).ok_or_else(|| "too large".into()),
            Self::Int8 { block } => {
                let last = shape.last().copied().unwrap_or(1);
                if block == 0 || last % block != 0 {
                    return Err(format!(
                        "int8 block {block} does not divide the last dimension {last}"
                    ));
                }
                (count / block)
                    .checked_mul(4)
                    .and_then(|scales| scales.checked_add(count))
                    .ok_or_else(|| "too large".into())
            }
        }
    }
}

/// Product of the dimensions, or an error on overflow.
pub fn element_count(shape: &[usize]) -> Result<usize, String> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| format!("shape {shape:?} has more elements than this platform can address"))
}

/// One tensor in its stored form.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTensor {
    /// Key, e.g. `bert.encoder.layer.0.mlp.wo.weight` (official names, PyTorch layout).
    pub name: String,
    /// Shape, outermost dimension first.
    pub shape: Vec<usize>,
    /// How `bytes` encode the values.
    pub encoding: Encoding,
    /// Exactly `encoding.byte_len(&shape)` bytes.
    pub bytes: Vec<u8>,
}

impl StoredTensor {
    /// Encodes `values` (row-major, `shape`) with `encoding`.
    pub fn encode(
        name: impl Into<String>,
        shape: Vec<usize>,
        values: &[f32],
        encoding: Encoding,
    ) -> Result<Self, BundleError> {
        let name = name.into();
        let bad = |reason: String| BundleError::Tensor {
            tensor: name.clone(),
            reason,
        };
        let expected_len = encoding.byte_len(&shape).map_err(bad)?;
        let count = element_count(&shape).map_err(bad)?;
        if values.len() != count {
            return Err(bad(format!(
                "shape {shape:?} needs {count} values, got {}",
                values.len()
            )));
        }
        let bytes = match encoding {
            Encoding::F32 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            Encoding::F16 => values
                .iter()
                .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
                .collect(),
            Encoding::Int8 { block } => quantize_int8(values, block),
        };
        debug_assert_eq!(bytes.len(), expected_len);
        Ok(Self {
            name,
            shape,
            encoding,
            bytes,
        })
    }

    /// Number of values.
    pub fn element_count(&self) -> usize {
        element_count(&self.shape).unwrap_or(0)
    }

    /// Checks that the byte length matches shape and encoding.
    pub fn check(&self) -> Result<(), BundleError> {
        let bad = |reason: String| BundleError::Tensor {
            tensor: self.name.clone(),
            reason,
        };
        let expected = self.encoding.byte_len(&self.shape).map_err(bad)?;
        if self.bytes.len() != expected {
            return Err(bad(format!(
                "{} {:?} needs {expected} bytes, the bundle holds {}",
                self.encoding.label(),
                self.shape,
                self.bytes.len()
            )));
        }
        Ok(())
    }

    /// An int8 tensor as stored ([`Int8Parts`]); `None` for other encodings.
    pub fn int8_parts(&self) -> Result<Option<Int8Parts<'_>>, BundleError> {
        let Encoding::Int8 { block } = self.encoding else {
            return Ok(None);
        };
        self.check()?;
        let (scales, values) = self.bytes.split_at(self.element_count() / block * 4);
        let scales = scales
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .map(|scale| {
                if scale.is_finite() {
                    Ok(scale)
                } else {
                    Err(BundleError::Tensor {
                        tensor: self.name.clone(),
                        reason: format!("int8 scale {scale} is not finite"),
                    })
                }
            })
            .collect::<Result<Vec<f32>, _>>()?;
        Ok(Some(Int8Parts {
            block,
            scales,
            values,
        }))
    }

    /// The values as `f32`, row-major.
    pub fn to_f32(&self) -> Result<Vec<f32>, BundleError> {
        self.check()?;
        Ok(match self.encoding {
            Encoding::F32 => self
                .bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Encoding::F16 => self
                .bytes
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Encoding::Int8 { .. } => {
                let parts = self.int8_parts()?.expect("an int8 tensor");
                parts
                    .values
                    .chunks_exact(parts.block)
                    .zip(parts.scales)
                    .flat_map(|(chunk, scale)| {
                        chunk.iter().map(move |&q| f32::from(q as i8) * scale)
                    })
                    .collect()
            }
        })
    }
}

/// An int8 tensor's stored parts: one scale per block of `block` consecutive values (each
/// checked finite), and the values as bytes of `i8`.
pub struct Int8Parts<'a> {
    pub block: usize,
    pub scales: Vec<f32>,
    pub values: &'a [u8],
}

/// Scales first, then the int8 values; see [`Encoding::Int8`]. `block` divides `values.len()`.
fn quantize_int8(values: &[f32], block: usize) -> Vec<u8> {
    let mut scales = Vec::with_capacity(values.len() / block * 4);
    let mut quantized = Vec::with_capacity(values.len());
    for chunk in values.chunks_exact(block) {
        let max = chunk.iter().fold(0f32, |m, v| m.max(v.abs()));
        let scale = if max > 0.0 && max.is_finite() {
            max / 127.0
        } else {
            0.0
        };
        scales.extend_from_slice(&scale.to_le_bytes());
        quantized.extend(chunk.iter().map(|&v| {
            let q = if scale > 0.0 {
                (v / scale).round().clamp(-127.0, 127.0)
            } else {
                0.0
            };
            (q as i8) as u8
        }));
    }
    scales.extend_from_slice(&quantized);
    scales
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_and_f16_round_trip() {
        let values = [1.0f32, -2.5, 0.0, 65504.0];
        let t = StoredTensor::encode("x", vec![2, 2], &values, Encoding::F32).expect("encodes");
        assert_eq!(t.to_f32().expect("decodes"), values);
        let t = StoredTensor::encode("x", vec![2, 2], &values, Encoding::F16).expect("encodes");
        assert_eq!(t.to_f32().expect("decodes"), values);
    }

    #[test]
    fn int8_error_is_at_most_half_a_step() {
        let values: Vec<f32> = (0..64)
            .map(|i| ((i * 37 % 29) as f32 - 14.0) * 0.013)
            .collect();
        for block in [4, 8, 16] {
            let t = StoredTensor::encode("w", vec![4, 16], &values, Encoding::Int8 { block })
                .expect("encodes");
            assert_eq!(t.bytes.len(), 64 / block * 4 + 64);
            let back = t.to_f32().expect("decodes");
            for (chunk, back) in values.chunks(block).zip(back.chunks(block)) {
                let max = chunk.iter().fold(0f32, |m, v| m.max(v.abs()));
                let step = max / 127.0;
                for (a, b) in chunk.iter().zip(back) {
                    assert!((a - b).abs() <= step * 0.5 + 1e-7, "{a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn all_zero_block_decodes_to_zero() {
        let t = StoredTensor::encode("w", vec![1, 4], &[0.0; 4], Encoding::Int8 { block: 4 })
            .expect("encodes");
        assert_eq!(t.to_f32().expect("decodes"), vec![0.0; 4]);
    }

    #[test]
    fn block_must_divide_the_last_dimension() {
        let err = StoredTensor::encode("w", vec![2, 3], &[0.0; 6], Encoding::Int8 { block: 2 })
            .expect_err("3 is not a multiple of 2");
        assert!(err.to_string().contains("does not divide"), "{err}");
    }

    #[test]
    fn wrong_byte_length_is_reported_with_the_name() {
        let mut t = StoredTensor::encode("w.bias", vec![3], &[1.0, 2.0, 3.0], Encoding::F32)
            .expect("encodes");
        t.bytes.pop();
        let err = t.to_f32().expect_err("short");
        assert!(
            err.to_string().contains("w.bias") && err.to_string().contains("needs 12 bytes"),
            "{err}"
        );
    }
}
