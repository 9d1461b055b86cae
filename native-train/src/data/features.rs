//! Per-gene feature tables (`--features TABLE[,TABLE...]`), joined to a data set by gene id,
//! and the [`FeatureSpec`] fitted on the training genes that turns them into model inputs.
//!
//! A table is a TSV/CSV with a header; its first column is the gene id (an Ensembl id, with or
//! without version: rows and examples are matched by [`gene_key`]); every further column is a
//! numeric feature. An empty cell, `NA` or `NaN`, or a gene without a row, is missing. The
//! files of `../shared/data/features/` (half-lives, annotation, TF targets, SuRE) are tables
//! of this kind.
//!
//! Columns are chosen with `--feature-columns PATTERN[:TRANSFORM],...` (`*` matches any run
//! of characters, e.g. `tf_*`; TRANSFORM is `log10` for `log10(x + 0.1)` or `raw`); without
//! it every column of every table is used. Each column gets the transform its source
//! prescribes ([`Transform::for_column`]) unless the pattern names one.

use std::collections::HashMap;
use std::path::PathBuf;

use texcnn::bundle::NormStats;
use texcnn::features::{FeatureColumn, FeatureSpec, Transform, gene_key};

use super::table::RawTable;
use super::{DataError, Dataset, RowError};

/// Feature columns read from one or more tables, by gene.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureTables {
    /// Column names, in input order.
    pub columns: Vec<String>,
    /// The transform of each column.
    pub transforms: Vec<Transform>,
    /// The table each column came from.
    pub sources: Vec<PathBuf>,
    /// Raw values by gene key; NaN = missing.
    by_gene: HashMap<String, Vec<f32>>,
    /// Cells and rows that could not be read (their values count as missing), with where.
    pub malformed: Vec<RowError>,
}

/// One `--feature-columns` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSelector {
    pub pattern: String,
    pub transform: Option<Transform>,
}

impl std::str::FromStr for ColumnSelector {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (pattern, transform) = match s.rsplit_once(':') {
            Some((p, "log10")) => (p, Some(Transform::Log10Plus01)),
            Some((p, "raw")) => (p, Some(Transform::Identity)),
            Some((_, t)) => {
                return Err(format!(
                    "\"{s}\": unknown transform \"{t}\" (log10 for log10(x + 0.1), or raw)"
                ));
            }
            None => (s, None),
        };
        let pattern = pattern.trim();
        if pattern.is_empty() {
            return Err(format!("\"{s}\": an empty column pattern"));
        }
        Ok(Self {
            pattern: pattern.to_string(),
            transform,
        })
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

fn parse_value(cell: &str) -> Result<f32, String> {
    match super::parse_label(cell) {
        Ok(v) => Ok(v.map_or(f32::NAN, |v| v as f32)),
        Err(_) => Err(format!("\"{}\" is not a number", cell.trim())),
    }
}

impl FeatureTables {
    /// Reads `paths` and keeps the columns `selectors` choose (all when empty). A column name
    /// in two tables, or a selector that matches nothing, is an error; a malformed cell or row
    /// is listed in [`malformed`](Self::malformed) and counts as missing.
    pub fn read(paths: &[PathBuf], selectors: &[ColumnSelector]) -> Result<Self, DataError> {
        let mut out = Self {
            columns: Vec::new(),
            transforms: Vec::new(),
            sources: Vec::new(),
            by_gene: HashMap::new(),
            malformed: Vec::new(),
        };
        let mut used = vec![false; selectors.len()];
        let mut available = Vec::new();
        for path in paths {
            let table = RawTable::read(path)?;
            out.malformed.extend(table.unreadable.iter().cloned());
            let mut chosen: Vec<(usize, Transform)> = Vec::new();
            for (c, name) in table.header.iter().enumerate().skip(1) {
                available.push(name.clone());
                let transform = if selectors.is_empty() {
                    Some(Transform::for_column(name))
                } else {
                    selectors.iter().enumerate().find_map(|(k, s)| {
                        glob_match(&s.pattern, name).then(|| {
                            used[k] = true;
                            s.transform.unwrap_or_else(|| Transform::for_column(name))
                        })
                    })
                };
                let Some(transform) = transform else { continue };
                if let Some(k) = out.columns.iter().position(|n| n == name) {
                    return Err(DataError::Format {
                        path: path.clone(),
                        message: format!(
                            "column \"{name}\" is also in {}: rename one or choose with --feature-columns",
                            out.sources[k].display()
                        ),
                    });
                }
                chosen.push((c, transform));
            }
            let base = out.columns.len();
            for &(c, t) in &chosen {
                out.columns.push(table.header[c].clone());
                out.transforms.push(t);
                out.sources.push(path.clone());
            }
            let width = out.columns.len();
            let mut seen: HashMap<String, usize> = HashMap::new();
            for (line, cells) in &table.rows {
                if cells.len() != table.header.len() {
                    out.malformed.push(table.row_error(
                        *line,
                        format!(
                            "{} fields, the header has {}; row skipped",
                            cells.len(),
                            table.header.len()
                        ),
                    ));
                    continue;
                }
                let key = gene_key(&cells[0]).to_string();
                if key.is_empty() {
                    out.malformed
                        .push(table.row_error(*line, "no gene id; row skipped".into()));
                    continue;
                }
                if let Some(first) = seen.get(&key) {
                    out.malformed.push(table.row_error(
                        *line,
                        format!("gene {key} again (first on line {first}); this row skipped"),
                    ));
                    continue;
                }
                seen.insert(key.clone(), *line);
                let row = out
                    .by_gene
                    .entry(key)
                    .or_insert_with(|| vec![f32::NAN; width]);
                row.resize(width, f32::NAN);
                for (k, &(c, _)) in chosen.iter().enumerate() {
                    row[base + k] = match parse_value(&cells[c]) {
                        Ok(v) => v,
                        Err(message) => {
                            out.malformed.push(table.row_error(
                                *line,
                                format!(
                                    "column {} ({}): {message}; counted as missing",
                                    c + 1,
                                    table.header[c]
                                ),
                            ));
                            f32::NAN
                        }
                    };
                }
            }
        }
        if let Some(k) = used.iter().position(|u| !u)
            && !selectors.is_empty()
        {
            let mut shown: Vec<&str> = available.iter().take(12).map(String::as_str).collect();
            if available.len() > shown.len() {
                shown.push("…");
            }
            return Err(DataError::Format {
                path: paths.first().cloned().unwrap_or_default(),
                message: format!(
                    "--feature-columns \"{}\" matches no column of the feature tables (columns: {})",
                    selectors[k].pattern,
                    shown.join(", ")
                ),
            });
        }
        if out.columns.is_empty() {
            return Err(DataError::Format {
                path: paths.first().cloned().unwrap_or_default(),
                message: "no feature column: a feature table has the gene id first, then one column per feature".into(),
            });
        }
        let width = out.columns.len();
        for row in out.by_gene.values_mut() {
            row.resize(width, f32::NAN);
        }
        Ok(out)
    }

    /// The raw values of a gene (by record or gene id), NaN where missing; all NaN for a gene
    /// no table has.
    pub fn row(&self, id: &str) -> Vec<f32> {
        self.known_row(id)
            .map_or_else(|| vec![f32::NAN; self.columns.len()], <[f32]>::to_vec)
    }

    /// The raw values of a gene the tables have (NaN where missing); `None` for another.
    pub fn known_row(&self, id: &str) -> Option<&[f32]> {
        self.by_gene.get(gene_key(id)).map(Vec::as_slice)
    }

    /// Every gene's key and raw values (NaN where missing), in no particular order.
    pub fn rows(&self) -> impl Iterator<Item = (&str, &[f32])> {
        self.by_gene.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Genes with at least one value.
    pub fn genes(&self) -> usize {
        self.by_gene.len()
    }

    /// Appends every example's values to its features (and the names to the data set's).
    /// Returns how many examples have every value, some, and none.
    pub fn join(&self, dataset: &mut Dataset) -> Coverage {
        let mut coverage = Coverage::default();
        let existing = dataset.feature_names.len();
        dataset
            .feature_transforms
            .resize(existing, Transform::Identity);
        dataset.feature_names.extend(self.columns.iter().cloned());
        dataset
            .feature_transforms
            .extend(self.transforms.iter().copied());
        for e in &mut dataset.examples {
            let row = self.row(&e.id);
            match row.iter().filter(|v| v.is_nan()).count() {
                0 => coverage.all += 1,
                n if n == row.len() => coverage.none += 1,
                _ => coverage.some += 1,
            }
            e.features.extend(row);
        }
        coverage
    }
}

/// How many examples have every feature value, some, or none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Coverage {
    pub all: usize,
    pub some: usize,
    pub none: usize,
}

/// Why a spec cannot be fitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("no training gene")]
    NoGenes,
    #[error("feature \"{0}\" has no value for any training gene: drop it with --feature-columns")]
    NeverObserved(String),
}

/// Fits the spec of `names` (with `transforms`) on the raw rows of the training genes (NaN =
/// missing): mean and standard deviation of each transformed column over the genes that have
/// it, and one missing-value indicator per distinct missingness pattern among the columns that
/// some training gene lacks.
pub fn fit_spec(
    names: &[String],
    transforms: &[Transform],
    train_rows: &[&[f32]],
) -> Result<FeatureSpec, SpecError> {
    if train_rows.is_empty() {
        return Err(SpecError::NoGenes);
    }
    let mut columns = Vec::with_capacity(names.len());
    let mut indicators: Vec<String> = Vec::new();
    // Missingness pattern (one bit per training gene) → indicator, and its columns' names.
    let mut patterns: HashMap<Vec<bool>, usize> = HashMap::new();
    let mut members: Vec<Vec<String>> = Vec::new();
    for (k, (name, &transform)) in names.iter().zip(transforms).enumerate() {
        // NaN is not finite: `apply` reads it as missing.
        let values: Vec<Option<f32>> = train_rows
            .iter()
            .map(|row| transform.apply(row.get(k).copied().unwrap_or(f32::NAN)))
            .collect();
        let present: Vec<f32> = values.iter().flatten().copied().collect();
        if present.is_empty() {
            return Err(SpecError::NeverObserved(name.clone()));
        }
        // The project's one normaliser: population SD, 1 for a constant column.
        let stats = NormStats::fit(name, 1, present.chunks(1));
        let indicator = (present.len() < values.len()).then(|| {
            let pattern: Vec<bool> = values.iter().map(Option::is_none).collect();
            let index = *patterns.entry(pattern).or_insert_with(|| {
                members.push(Vec::new());
                members.len() - 1
            });
            members[index].push(name.clone());
            index
        });
        columns.push(FeatureColumn {
            name: name.clone(),
            transform,
            mean: stats.mean[0],
            std: stats.std[0],
            indicator,
        });
    }
    for m in &members {
        indicators.push(match m.len() {
            1 => format!("missing: {}", m[0]),
            n => format!("missing: {} … {} ({n} columns)", m[0], m[n - 1]),
        });
    }
    Ok(FeatureSpec {
        columns,
        indicators,
    })
}

/// A data set's features as model inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedFeatures {
    /// Fitted on the training genes.
    pub spec: FeatureSpec,
    /// Every example's inputs, in example order.
    pub rows: Vec<Vec<f32>>,
}

/// The spec of `dataset`'s features fitted on `train`, and every example's encoded inputs
/// (`None` when the data set has no features).
pub fn encode_dataset(
    dataset: &Dataset,
    train: &[usize],
) -> Result<Option<EncodedFeatures>, SpecError> {
    if dataset.feature_names.is_empty() {
        return Ok(None);
    }
    let rows: Vec<&[f32]> = train
        .iter()
        .map(|&i| dataset.examples[i].features.as_slice())
        .collect();
    let transforms: Vec<Transform> = (0..dataset.feature_names.len())
        .map(|k| {
            dataset
                .feature_transforms
                .get(k)
                .copied()
                .unwrap_or(Transform::Identity)
        })
        .collect();
    let spec = fit_spec(&dataset.feature_names, &transforms, &rows)?;
    let encoded = dataset
        .examples
        .iter()
        .map(|e| {
            let raw: Vec<Option<f32>> = e
                .features
                .iter()
                .map(|&v| (!v.is_nan()).then_some(v))
                .collect();
            // The spec was fitted on these very columns: the count always matches.
            spec.encode(&raw)
                .unwrap_or_else(|_| vec![0.0; spec.width()])
        })
        .collect();
    Ok(Some(EncodedFeatures {
        spec,
        rows: encoded,
    }))
}

/// Where a table is, for messages.
pub fn describe(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads the tables for `dataset`, joins them, and prints the coverage and what was malformed.
/// Returns the tables (every gene's values, for a bundle that carries them).
pub fn load_into(
    dataset: &mut Dataset,
    paths: &[PathBuf],
    selectors: &[ColumnSelector],
) -> Result<FeatureTables, DataError> {
    let tables = FeatureTables::read(paths, selectors)?;
    for err in tables.malformed.iter().take(20) {
        eprintln!("malformed: {err}");
    }
    if tables.malformed.len() > 20 {
        eprintln!(
            "malformed: … and {} more problems in the feature tables",
            tables.malformed.len() - 20
        );
    }
    let coverage = tables.join(dataset);
    eprintln!(
        "features: {} columns from {} ({} genes); of {} examples {} have every value, {} some, {} none",
        tables.columns.len(),
        describe(paths),
        tables.genes(),
        dataset.examples.len(),
        coverage.all,
        coverage.some,
        coverage.none
    );
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("texcnn-features-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn globs() {
        assert!(glob_match("tf_*", "tf_CTCF"));
        assert!(!glob_match("tf_*", "hl_x"));
        assert!(glob_match("*LEN", "CDSLEN"));
        assert!(glob_match("a*b*c", "aXbYc"));
        assert!(!glob_match("a*b*c", "aXcYb"));
        assert!(glob_match("x", "x"));
        assert!(!glob_match("ab*ba", "aba"));
    }

    #[test]
    fn tables_join_by_gene_key_and_report_bad_cells() {
        let d = dir("join");
        let a = write(
            &d,
            "a.tsv",
            "gene_id\tCDSLEN\thl\nENSG1\t999.9\t2\nENSG2\tabc\t\nENSG1\t1\t1\nENSG3\t5\n",
        );
        let b = write(&d, "b.tsv", "gene_id\ttf_A\ttf_B\nENSG2\t1\t0\n");
        let t = FeatureTables::read(&[a.clone(), b], &[]).unwrap();
        assert_eq!(t.columns, vec!["CDSLEN", "hl", "tf_A", "tf_B"]);
        assert_eq!(t.transforms[0], Transform::Log10Plus01);
        assert_eq!(t.transforms[1], Transform::Identity);
        let row1 = t.row("ENSG1.4|FOO");
        assert_eq!(&row1[..2], &[999.9, 2.0]);
        assert!(row1[2].is_nan() && row1[3].is_nan());
        let row2 = t.row("ENSG2");
        assert!(row2[0].is_nan() && row2[1].is_nan());
        assert_eq!(&row2[2..], &[1.0, 0.0]);
        assert!(t.row("ENSG9").iter().all(|v| v.is_nan()));
        let messages: Vec<String> = t.malformed.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            vec![
                format!(
                    "{}: line 3: column 2 (CDSLEN): \"abc\" is not a number; counted as missing",
                    a.display()
                ),
                format!(
                    "{}: line 4: gene ENSG1 again (first on line 2); this row skipped",
                    a.display()
                ),
                format!(
                    "{}: line 5: 2 fields, the header has 3; row skipped",
                    a.display()
                ),
            ]
        );
    }

    #[test]
    fn selectors_choose_columns_and_transforms() {
        let d = dir("select");
        let a = write(
            &d,
            "a.tsv",
            "gene_id\tCDSLEN\ttf_A\ttf_B\thl\nG\t1\t1\t0\t3\n",
        );
        let sel =
            |s: &str| -> Vec<ColumnSelector> { s.split(',').map(|x| x.parse().unwrap()).collect() };
        let t = FeatureTables::read(std::slice::from_ref(&a), &sel("tf_*,CDSLEN:raw")).unwrap();
        assert_eq!(t.columns, vec!["CDSLEN", "tf_A", "tf_B"]);
        assert_eq!(t.transforms[0], Transform::Identity);
        let t = FeatureTables::read(std::slice::from_ref(&a), &sel("hl:log10")).unwrap();
        assert_eq!(t.transforms, vec![Transform::Log10Plus01]);
        let err = FeatureTables::read(std::slice::from_ref(&a), &sel("sure_*"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--feature-columns \"sure_*\" matches no column")
                && err.contains("CDSLEN, tf_A, tf_B, hl"),
            "{err}"
        );
        assert!("x:sqrt".parse::<ColumnSelector>().is_err());
        let err = FeatureTables::read(&[a.clone(), a], &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("column \"CDSLEN\" is also in"), "{err}");
    }

    #[test]
    fn spec_uses_training_genes_only_and_groups_missingness() {
        let nan = f32::NAN;
        let names: Vec<String> = ["len", "tf_a", "tf_b", "hl"].map(String::from).to_vec();
        let transforms = [
            Transform::Log10Plus01,
            Transform::Identity,
            Transform::Identity,
            Transform::Identity,
        ];
        let rows: [&[f32]; 3] = [
            &[9.9, 1.0, 0.0, 2.0],
            &[99.9, nan, nan, 4.0],
            &[999.9, 0.0, 1.0, nan],
        ];
        let spec = fit_spec(&names, &transforms, &rows).unwrap();
        spec.validate().unwrap();
        // log10 values 1, 2, 3 → mean 2, population sd sqrt(2/3).
        assert!((spec.columns[0].mean - 2.0).abs() < 1e-6);
        assert!((spec.columns[0].std - (2.0f32 / 3.0).sqrt()).abs() < 1e-6);
        assert_eq!(spec.columns[0].indicator, None);
        // The two TF columns miss the same gene: one indicator; the half-life another.
        assert_eq!(spec.columns[1].indicator, Some(0));
        assert_eq!(spec.columns[2].indicator, Some(0));
        assert_eq!(spec.columns[3].indicator, Some(1));
        assert_eq!(
            spec.indicators,
            vec!["missing: tf_a … tf_b (2 columns)", "missing: hl"]
        );
        assert_eq!((spec.columns[3].mean, spec.columns[3].std), (3.0, 1.0));
        let encoded = spec.encode(&[Some(99.9), None, None, Some(5.0)]).unwrap();
        assert_eq!(encoded, vec![0.0, 0.0, 0.0, 2.0, 1.0, 0.0]);
        let only_missing: [&[f32]; 1] = [&[nan]];
        assert_eq!(
            fit_spec(&names[..1], &transforms[..1], &only_missing),
            Err(SpecError::NeverObserved("len".into()))
        );
    }
}
