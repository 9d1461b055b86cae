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

    /// The head inputs of one gene from its raw values in column order (`None` or NaN =
    /// missing).
    pub fn encode(&self, raw: &[Option<f32>]) -> Result<Vec<f32>, FeatureError> {
        if raw.len() != self.columns.len() {
            return Err(FeatureError::Count {
                given: raw.len(),
                expected: self.columns.len(),
                first: self
                    .columns
                    .first()
                    .map_or_else(String::new, |c| c.name.clone()),
            });
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
}
