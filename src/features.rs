//! Per-gene features beside the DNA (mRNA half-life, annotation lengths, TF-target sets, …):
//! how a gene's raw values become the head's extra inputs.
//!
//! A [`FeatureSpec`] is fitted on the training genes only (by `texcnn fit` and the baselines)
//! and travels with the model. For each column it holds the transform the source prescribes
//! (e.g. `log10(x + 0.1)` for lengths) and the mean and standard deviation of the transformed
//! values over the training genes that have one.
//!
//! **Missing values.** A missing value (an empty cell, or a gene absent from a table) becomes 0,
//! the training mean, and the fact that it is missing is an input of its own: genes without a
//! measured half-life tend to be lowly expressed, so whether a study measured a gene carries
//! signal. Columns whose values are missing for exactly the same training genes (the 181 TF
//! sets of a gene absent from that table, say) share one indicator; an indicator is the
//! fraction of its columns that are missing (0 or 1 on the training genes). The model may use
//! this because it is known without the gene's label, for any gene, at prediction time: it is
//! a property of the feature tables, not of the measurement being predicted.

use serde::{Deserialize, Serialize};

/// How a raw value is transformed before standardisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Transform {
    /// The value as it is.
    #[serde(rename = "x")]
    Identity,
    /// `log10(x + 0.1)`, as Xpresso feeds lengths and SuRE activity (negative values below
    /// −0.1 have no logarithm and count as missing).
    #[serde(rename = "log10(x + 0.1)")]
    Log10Plus01,
}

impl Transform {
    /// The transformed value; `None` where it is undefined (then the value counts as missing).
    pub fn apply(self, x: f32) -> Option<f32> {
        let y = match self {
            Self::Identity => x,
            Self::Log10Plus01 => (x + 0.1).log10(),
        };
        y.is_finite().then_some(y)
    }

    /// The name used on the command line (`COLUMN:log10`, `COLUMN:raw`) and in model cards.
    pub fn label(self) -> &'static str {
        match self {
            Self::Identity => "x",
            Self::Log10Plus01 => "log10(x + 0.1)",
        }
    }

    /// The transform a column's source prescribes (see the feature tables' README): Xpresso's
    /// annotation lengths and exon density, and SuRE activity, are fed as `log10(x + 0.1)`;
    /// everything else (half-life scores, z-scores, 0/1 sets, counts) as it is.
    pub fn for_column(name: &str) -> Self {
        const LOG10: [&str; 6] = [
            "UTR5LEN",
            "CDSLEN",
            "INTRONLEN",
            "UTR3LEN",
            "ORFEXONDENSITY",
            "sure_k562_mean",
        ];
        if LOG10.contains(&name) {
            Self::Log10Plus01
        } else {
            Self::Identity
        }
    }
}

/// One feature column of a [`FeatureSpec`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureColumn {
    pub name: String,
    pub transform: Transform,
    /// Mean and standard deviation of the transformed value over the training genes that have
    /// one (standard deviation 1 for a constant column).
    pub mean: f32,
    pub std: f32,
    /// The missing-value indicator this column belongs to (an index into
    /// [`FeatureSpec::indicators`]); `None` when no training gene lacked it.
    pub indicator: Option<usize>,
}

/// How raw per-gene values become the head's extra inputs: the columns (standardised values,
/// 0 where missing) and then one input per missing-value indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpec {
    pub columns: Vec<FeatureColumn>,
    /// A name per indicator, e.g. `missing: hl_saluki_pc1` or `missing: tf_AFF1 … (181 columns)`.
    pub indicators: Vec<String>,
}

/// A spec that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeatureError {
    #[error("{given} feature values given; the model reads {expected} ({first}, …)")]
    Count {
        given: usize,
        expected: usize,
        first: String,
    },
    #[error("feature \"{0}\": its standard deviation is not a positive number")]
    BadStd(String),
    #[error("feature \"{name}\": indicator {index} does not exist ({count} indicators)")]
    BadIndicator {
        name: String,
        index: usize,
        count: usize,
    },
}

impl FeatureSpec {
    /// The number of head inputs: one per column and one per indicator.
    pub fn width(&self) -> usize {
        self.columns.len() + self.indicators.len()
    }

    /// Checks that every column can be standardised and points at an existing indicator.
    pub fn validate(&self) -> Result<(), FeatureError> {
        for c in &self.columns {
            if !(c.std.is_finite() && c.std > 0.0 && c.mean.is_finite()) {
                return Err(FeatureError::BadStd(c.name.clone()));
            }
            if let Some(index) = c.indicator
                && index >= self.indicators.len()
            {
                return Err(FeatureError::BadIndicator {
                    name: c.name.clone(),
                    index,
                    count: self.indicators.len(),
                });
            }
        }
        Ok(())
    }

    /// The error for `given` values where `expected` are read (naming the first column).
    pub fn count_error(&self, given: usize, expected: usize) -> FeatureError {
        FeatureError::Count {
            given,
            expected,
            first: self
                .columns
                .first()
                .map_or_else(String::new, |c| c.name.clone()),
        }
    }

    /// The head inputs of one gene from its raw values in column order (`None` or NaN =
    /// missing).
    pub fn encode(&self, raw: &[Option<f32>]) -> Result<Vec<f32>, FeatureError> {
        if raw.len() != self.columns.len() {
            return Err(self.count_error(raw.len(), self.columns.len()));
        }
        let mut out = vec![0.0f32; self.width()];
        let mut missing = vec![0usize; self.indicators.len()];
        let mut members = vec![0usize; self.indicators.len()];
        for (k, (c, v)) in self.columns.iter().zip(raw).enumerate() {
            let value = v.and_then(|x| c.transform.apply(x));
            if let Some(i) = c.indicator {
                members[i] += 1;
                missing[i] += usize::from(value.is_none());
            }
            out[k] = value.map_or(0.0, |y| (y - c.mean) / c.std);
        }
        let base = self.columns.len();
        for (i, (m, n)) in missing.iter().zip(&members).enumerate() {
            out[base + i] = if *n == 0 { 0.0 } else { *m as f32 / *n as f32 };
        }
        Ok(out)
    }
}

/// Where a bundle's feature values came from and under which terms (one per table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureSource {
    /// The table's file name, e.g. `mrna_halflife.tsv`.
    pub file: String,
    /// The columns taken from it.
    pub columns: Vec<String>,
    /// Its licence and provenance, as its README states them.
    pub licence: String,
}

/// The values of one stored column, one per gene of the [`FeatureStore`]. Equality compares
/// the stored bits (a missing value, NaN, equals itself).
#[derive(Debug, Clone)]
pub enum ColumnValues {
    /// Any number; NaN where the gene has no value.
    F32(Vec<f32>),
    /// A 0/1 column (a TF-target set): two bitsets of one bit per gene, least significant bit
    /// first: whether the gene has a value, and whether it is 1.
    Bits { known: Vec<u8>, ones: Vec<u8> },
}

/// One column of a [`FeatureStore`].
#[derive(Debug, Clone, PartialEq)]
pub struct StoredColumn {
    pub name: String,
    pub values: ColumnValues,
}

/// The raw per-gene values a bundle carries, compactly: the genes' keys ([`gene_key`]) sorted,
/// and per column one value per gene (0/1 columns as bits).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeatureStore {
    pub genes: Vec<String>,
    pub columns: Vec<StoredColumn>,
}

/// A store that cannot be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("gene {0:?} appears twice or out of order (the genes must be sorted and unique)")]
    GeneOrder(String),
    #[error("column {name}: {found} bytes, expected {expected} for {genes} genes")]
    Length {
        name: String,
        found: usize,
        expected: usize,
        genes: usize,
    },
    #[error("the store has columns {found:?}, the model reads {expected:?}")]
    Columns {
        found: Vec<String>,
        expected: Vec<String>,
    },
}

fn bit(bits: &[u8], i: usize) -> bool {
    bits[i / 8] & (1 << (i % 8)) != 0
}

impl PartialEq for ColumnValues {
    fn eq(&self, other: &Self) -> bool {
        self.to_bytes() == other.to_bytes()
            && matches!(self, Self::Bits { .. }) == matches!(other, Self::Bits { .. })
    }
}

impl ColumnValues {
    /// Bytes per column for `genes` genes: 4 per value, or two bitsets.
    pub fn byte_len(bits: bool, genes: usize) -> usize {
        if bits {
            2 * genes.div_ceil(8)
        } else {
            4 * genes
        }
    }

    /// The value of gene `i` (`None` where missing).
    pub fn get(&self, i: usize) -> Option<f32> {
        match self {
            Self::F32(v) => Some(v[i]).filter(|x| !x.is_nan()),
            Self::Bits { known, ones } => bit(known, i).then(|| f32::from(u8::from(bit(ones, i)))),
        }
    }

    /// The stored bytes: little-endian `f32`s, or the `known` bitset followed by `ones`.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Self::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Self::Bits { known, ones } => [known.as_slice(), ones].concat(),
        }
    }

    /// Reads [`Self::to_bytes`]'s layout for `genes` genes.
    pub fn from_bytes(
        name: &str,
        bits: bool,
        genes: usize,
        bytes: &[u8],
    ) -> Result<Self, StoreError> {
        let expected = Self::byte_len(bits, genes);
        if bytes.len() != expected {
            return Err(StoreError::Length {
                name: name.to_string(),
                found: bytes.len(),
                expected,
                genes,
            });
        }
        Ok(if bits {
            let (known, ones) = bytes.split_at(genes.div_ceil(8));
            Self::Bits {
                known: known.to_vec(),
                ones: ones.to_vec(),
            }
        } else {
            Self::F32(
                bytes
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            )
        })
    }

    /// `values` (NaN = missing) as bits when every known value is 0 or 1, else as `f32`.
    pub fn pack(values: Vec<f32>) -> Self {
        if !values.iter().all(|&x| x.is_nan() || x == 0.0 || x == 1.0) {
            return Self::F32(values);
        }
        let mut known = vec![0u8; values.len().div_ceil(8)];
        let mut ones = known.clone();
        for (i, &x) in values.iter().enumerate() {
            if !x.is_nan() {
                known[i / 8] |= 1 << (i % 8);
                if x == 1.0 {
                    ones[i / 8] |= 1 << (i % 8);
                }
            }
        }
        Self::Bits { known, ones }
    }
}

impl FeatureStore {
    /// A store of `columns` from `(gene id, raw values in column order, NaN = missing)` rows;
    /// the ids are reduced to their [`gene_key`] and sorted.
    pub fn from_rows(
        columns: &[String],
        rows: impl IntoIterator<Item = (String, Vec<f32>)>,
    ) -> Result<Self, StoreError> {
        let mut rows: Vec<(String, Vec<f32>)> = rows
            .into_iter()
            .map(|(id, v)| (gene_key(&id).to_string(), v))
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = rows.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(StoreError::GeneOrder(w[0].0.clone()));
        }
        let columns = columns
            .iter()
            .enumerate()
            .map(|(k, name)| StoredColumn {
                name: name.clone(),
                values: ColumnValues::pack(
                    rows.iter()
                        .map(|(_, v)| v.get(k).copied().unwrap_or(f32::NAN))
                        .collect(),
                ),
            })
            .collect();
        Ok(Self {
            genes: rows.into_iter().map(|(id, _)| id).collect(),
            columns,
        })
    }

    /// Checks that the genes are sorted and unique and every column has one value per gene.
    pub fn validate(&self) -> Result<(), StoreError> {
        if let Some(w) = self.genes.windows(2).find(|w| w[0] >= w[1]) {
            return Err(StoreError::GeneOrder(w[1].clone()));
        }
        let n = self.genes.len();
        for c in &self.columns {
            let (bits, ok) = match &c.values {
                ColumnValues::F32(v) => (false, v.len() == n),
                ColumnValues::Bits { known, ones } => (
                    true,
                    known.len() == n.div_ceil(8) && ones.len() == n.div_ceil(8),
                ),
            };
            if !ok {
                return Err(StoreError::Length {
                    name: c.name.clone(),
                    found: c.values.to_bytes().len(),
                    expected: ColumnValues::byte_len(bits, n),
                    genes: n,
                });
            }
        }
        Ok(())
    }

    /// Checks that the store holds exactly the spec's columns, in its order.
    pub fn check_columns(&self, spec: &FeatureSpec) -> Result<(), StoreError> {
        let found: Vec<String> = self.columns.iter().map(|c| c.name.clone()).collect();
        let expected: Vec<String> = spec.columns.iter().map(|c| c.name.clone()).collect();
        if found != expected {
            return Err(StoreError::Columns { found, expected });
        }
        Ok(())
    }

    /// The raw values of the gene a record id names (any version suffix or `|` extras are
    /// ignored), `None` for a gene the store does not hold.
    pub fn raw(&self, id: &str) -> Option<Vec<Option<f32>>> {
        let i = self
            .genes
            .binary_search_by(|g| g.as_str().cmp(gene_key(id)))
            .ok()?;
        Some(self.columns.iter().map(|c| c.values.get(i)).collect())
    }

    /// Bytes of the stored values (gene keys not counted).
    pub fn value_bytes(&self) -> usize {
        self.columns
            .iter()
            .map(|c| {
                ColumnValues::byte_len(
                    matches!(c.values, ColumnValues::Bits { .. }),
                    self.genes.len(),
                )
            })
            .sum()
    }
}

/// The key a record or table row is looked up by: an Ensembl id without its version suffix
/// and without `|`-separated extras (`ENSG00000001461.17|NIPAL3` → `ENSG00000001461`); other
/// ids are kept whole up to the first `|` or whitespace.
pub fn gene_key(id: &str) -> &str {
    let id = id.split(['|', ' ', '\t']).next().unwrap_or(id).trim();
    if id.starts_with("ENS")
        && let Some((stem, version)) = id.rsplit_once('.')
        && !version.is_empty()
        && version.bytes().all(|b| b.is_ascii_digit())
    {
        return stem;
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, mean: f32, std: f32, indicator: Option<usize>) -> FeatureColumn {
        FeatureColumn {
            name: name.into(),
            transform: Transform::Identity,
            mean,
            std,
            indicator,
        }
    }

    #[test]
    fn gene_keys_drop_versions_and_extras() {
        assert_eq!(gene_key("ENSG00000001461"), "ENSG00000001461");
        assert_eq!(gene_key("ENSG00000001461.17"), "ENSG00000001461");
        assert_eq!(gene_key("ENSG00000001461.17|NIPAL3|x"), "ENSG00000001461");
        assert_eq!(gene_key("ENSG00000001461 tss=1025"), "ENSG00000001461");
        // Not an Ensembl id: a dot is part of the name.
        assert_eq!(gene_key("chr1.5"), "chr1.5");
        assert_eq!(gene_key("ENSG1.x"), "ENSG1.x");
    }

    #[test]
    fn missing_values_become_the_mean_and_set_their_indicator() {
        let spec = FeatureSpec {
            columns: vec![
                column("a", 1.0, 2.0, Some(0)),
                column("b", 0.0, 1.0, Some(0)),
                column("c", -1.0, 0.5, None),
            ],
            indicators: vec!["missing: a, b".into()],
        };
        spec.validate().unwrap();
        assert_eq!(
            spec.encode(&[Some(3.0), Some(2.0), Some(0.0)]).unwrap(),
            vec![1.0, 2.0, 2.0, 0.0]
        );
        assert_eq!(
            spec.encode(&[None, Some(f32::NAN), None]).unwrap(),
            vec![0.0, 0.0, 0.0, 1.0]
        );
        // Half of the group missing (only possible outside the training genes).
        assert_eq!(
            spec.encode(&[Some(1.0), None, Some(-1.0)]).unwrap(),
            vec![0.0, 0.0, 0.0, 0.5]
        );
        let err = spec.encode(&[Some(1.0)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "1 feature values given; the model reads 3 (a, …)"
        );
    }

    #[test]
    fn log_transform_is_xpressos_and_undefined_values_are_missing() {
        let t = Transform::for_column("CDSLEN");
        assert_eq!(t, Transform::Log10Plus01);
        assert!((t.apply(999.9).unwrap() - 3.0).abs() < 1e-6);
        assert_eq!(t.apply(-0.5), None);
        assert_eq!(Transform::for_column("hl_saluki_pc1"), Transform::Identity);
        let json = serde_json::to_string(&Transform::Log10Plus01).unwrap();
        assert_eq!(json, "\"log10(x + 0.1)\"");
    }

    #[test]
    fn bad_specs_are_refused() {
        let spec = FeatureSpec {
            columns: vec![column("a", 0.0, 0.0, None)],
            indicators: vec![],
        };
        assert_eq!(spec.validate(), Err(FeatureError::BadStd("a".into())));
        let spec = FeatureSpec {
            columns: vec![column("a", 0.0, 1.0, Some(2))],
            indicators: vec!["x".into()],
        };
        assert!(matches!(
            spec.validate(),
            Err(FeatureError::BadIndicator { index: 2, .. })
        ));
    }

    #[test]
    fn a_store_packs_binary_columns_as_bits_and_looks_genes_up_by_key() {
        let columns = vec!["hl".to_string(), "tf_A".to_string()];
        let store = FeatureStore::from_rows(
            &columns,
            [
                ("ENSG00000000003.15".to_string(), vec![0.25, 1.0]),
                ("ENSG00000000001".to_string(), vec![f32::NAN, 0.0]),
                ("ENSG00000000002|X".to_string(), vec![-3.5, f32::NAN]),
            ],
        )
        .unwrap();
        store.validate().unwrap();
        assert_eq!(
            store.genes,
            ["ENSG00000000001", "ENSG00000000002", "ENSG00000000003"]
        );
        assert!(matches!(store.columns[0].values, ColumnValues::F32(_)));
        assert_eq!(
            store.columns[1].values,
            ColumnValues::Bits {
                known: vec![0b101],
                ones: vec![0b100]
            }
        );
        assert_eq!(
            store.raw("ENSG00000000003.2|name"),
            Some(vec![Some(0.25), Some(1.0)])
        );
        assert_eq!(store.raw("ENSG00000000001"), Some(vec![None, Some(0.0)]));
        assert_eq!(store.raw("ENSG00000000002"), Some(vec![Some(-3.5), None]));
        assert_eq!(store.raw("ENSG00000000004"), None);
        assert_eq!(store.value_bytes(), 3 * 4 + 2);
        for c in &store.columns {
            let bits = matches!(c.values, ColumnValues::Bits { .. });
            let back = ColumnValues::from_bytes(&c.name, bits, 3, &c.values.to_bytes()).unwrap();
            assert_eq!(back, c.values);
        }
        assert!(matches!(
            ColumnValues::from_bytes("hl", false, 4, &store.columns[0].values.to_bytes()),
            Err(StoreError::Length {
                expected: 16,
                found: 12,
                ..
            })
        ));
        let twice = FeatureStore::from_rows(
            &columns,
            [
                ("ENSG00000000001.1".to_string(), vec![1.0, 1.0]),
                ("ENSG00000000001.2".to_string(), vec![2.0, 0.0]),
            ],
        );
        assert_eq!(twice, Err(StoreError::GeneOrder("ENSG00000000001".into())));
    }
}
