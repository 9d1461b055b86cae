//! A reproducible train / validation / test split by gene, after removing duplicate sequences.
//!
//! The paper's protocol: a random split by gene (80/10/10) with a fixed, recorded seed, and no
//! sequence in two splits. Here:
//! 1. [`dedup_sequences`] keeps the first example of every distinct sequence and lists the
//!    others (with the example they duplicate), so the caller can report them;
//! 2. [`split_by_gene`] sorts the distinct gene ids, shuffles them with [`SplitMix64`] seeded by
//!    the recorded seed, and cuts the shuffled list: the first `round(n·test)` ids are test, the
//!    next `round(n·valid)` validation, the rest training. All examples of one gene id land in
//!    the same split. Sorting first makes the split independent of the row order of the file.
//!
//! The generator ([`texcnn::rng`]) is written out (not taken from a crate) so that a recorded
//! seed gives the same genes on every platform and with every dependency version, forever.

use std::collections::{BTreeMap, HashMap};

use texcnn::rng::SplitMix64;

/// Fractions of the genes that go to training, validation and test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitFractions {
    pub train: f64,
    pub valid: f64,
    pub test: f64,
}

impl Default for SplitFractions {
    /// 80/10/10, as in the paper.
    fn default() -> Self {
        Self {
            train: 0.8,
            valid: 0.1,
            test: 0.1,
        }
    }
}

/// Which part of the split an example belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    Train,
    Valid,
    Test,
}

impl Part {
    /// `train`, `valid` or `test`.
    pub fn name(self) -> &'static str {
        match self {
            Part::Train => "train",
            Part::Valid => "valid",
            Part::Test => "test",
        }
    }

    /// Parses [`Part::name`].
    pub fn from_name(name: &str) -> Option<Part> {
        match name {
            "train" => Some(Part::Train),
            "valid" => Some(Part::Valid),
            "test" => Some(Part::Test),
            _ => None,
        }
    }
}

/// An example removed because an earlier example has the same sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duplicate {
    /// Index of the removed example.
    pub removed: usize,
    /// Index of the earlier example it duplicates, which is kept.
    pub kept: usize,
}

/// Indices of the examples to keep (first of each distinct sequence, in input order), and the
/// removed duplicates.
pub fn dedup_sequences<S: AsRef<str>>(sequences: &[S]) -> (Vec<usize>, Vec<Duplicate>) {
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(sequences.len());
    let mut kept = Vec::with_capacity(sequences.len());
    let mut duplicates = Vec::new();
    for (i, seq) in sequences.iter().enumerate() {
        match first.entry(seq.as_ref()) {
            std::collections::hash_map::Entry::Occupied(e) => duplicates.push(Duplicate {
                removed: i,
                kept: *e.get(),
            }),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(i);
                kept.push(i);
            }
        }
    }
    (kept, duplicates)
}

/// Why a split cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SplitError {
    #[error("split fractions must be ≥ 0 and sum to 1, got {train}/{valid}/{test}")]
    BadFractions { train: f64, valid: f64, test: f64 },
    #[error("{genes} distinct genes are too few for a train/validation/test split (need ≥ 3)")]
    TooFewGenes { genes: usize },
}

/// Gene ids per part of the split, each list sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneSplit {
    pub seed: u64,
    pub train: Vec<String>,
    pub valid: Vec<String>,
    pub test: Vec<String>,
}

impl GeneSplit {
    /// The part of every gene id.
    pub fn parts(&self) -> HashMap<&str, Part> {
        let mut map = HashMap::new();
        for (part, ids) in [
            (Part::Train, &self.train),
            (Part::Valid, &self.valid),
            (Part::Test, &self.test),
        ] {
            for id in ids {
                map.insert(id.as_str(), part);
            }
        }
        map
    }
}

/// Splits the distinct ids of `gene_ids` at random by gene (see the module docs).
pub fn split_by_gene<S: AsRef<str>>(
    gene_ids: &[S],
    seed: u64,
    fractions: SplitFractions,
) -> Result<GeneSplit, SplitError> {
    let SplitFractions { train, valid, test } = fractions;
    let ok = [train, valid, test]
        .iter()
        .all(|f| f.is_finite() && *f >= 0.0)
        && ((train + valid + test) - 1.0).abs() < 1e-9;
    if !ok {
        return Err(SplitError::BadFractions { train, valid, test });
    }
    let mut genes: Vec<&str> = gene_ids
        .iter()
        .map(|g| g.as_ref())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let n = genes.len();
    if n < 3 {
        return Err(SplitError::TooFewGenes { genes: n });
    }
    SplitMix64::new(seed).shuffle(&mut genes);
    let n_test = ((n as f64 * test).round() as usize).min(n);
    let n_valid = ((n as f64 * valid).round() as usize).min(n - n_test);
    let sorted = |ids: &[&str]| {
        let mut v: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    };
    Ok(GeneSplit {
        seed,
        test: sorted(&genes[..n_test]),
        valid: sorted(&genes[n_test..n_test + n_valid]),
        train: sorted(&genes[n_test + n_valid..]),
    })
}

/// A 64-bit FNV-1a fingerprint of a labelled data set (ids, sequences and labels, in order),
/// recorded in split files so a split is never applied to other data by mistake.
pub fn dataset_fingerprint<'a>(examples: impl IntoIterator<Item = (&'a str, &'a str, f64)>) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01B3);
        }
    };
    for (id, seq, label) in examples {
        feed(id.as_bytes());
        feed(b"\t");
        feed(seq.as_bytes());
        feed(b"\t");
        feed(&label.to_bits().to_le_bytes());
        feed(b"\n");
    }
    hash
}

/// Indices of the examples assigned to `part`, in order.
pub fn part_indices(parts: &[Option<Part>], part: Part) -> Vec<usize> {
    parts
        .iter()
        .enumerate()
        .filter(|(_, p)| **p == Some(part))
        .map(|(i, _)| i)
        .collect()
}

/// Counts of examples per part, for reports.
pub fn count_parts(parts: impl IntoIterator<Item = Part>) -> BTreeMap<Part, usize> {
    let mut counts = BTreeMap::new();
    for p in parts {
        *counts.entry(p).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_keeps_first_and_lists_the_rest() {
        let seqs = ["ACGT", "TTTT", "ACGT", "GGGG", "TTTT", "ACGT"];
        let (kept, dups) = dedup_sequences(&seqs);
        assert_eq!(kept, vec![0, 1, 3]);
        assert_eq!(
            dups,
            vec![
                Duplicate {
                    removed: 2,
                    kept: 0
                },
                Duplicate {
                    removed: 4,
                    kept: 1
                },
                Duplicate {
                    removed: 5,
                    kept: 0
                },
            ]
        );
    }

    #[test]
    fn split_is_80_10_10_disjoint_and_complete() {
        let ids: Vec<String> = (0..1000).map(|i| format!("g{i:04}")).collect();
        let s = split_by_gene(&ids, 0, SplitFractions::default()).unwrap();
        assert_eq!(
            (s.train.len(), s.valid.len(), s.test.len()),
            (800, 100, 100)
        );
        let mut all: Vec<&String> = s.train.iter().chain(&s.valid).chain(&s.test).collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 1000);
    }

    #[test]
    fn split_depends_on_seed_not_on_row_order() {
        let ids: Vec<String> = (0..50).map(|i| format!("g{i}")).collect();
        let mut reversed = ids.clone();
        reversed.reverse();
        let a = split_by_gene(&ids, 3, SplitFractions::default()).unwrap();
        let b = split_by_gene(&reversed, 3, SplitFractions::default()).unwrap();
        let c = split_by_gene(&ids, 4, SplitFractions::default()).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.test, c.test);
    }

    #[test]
    fn repeated_gene_ids_land_in_one_part() {
        let ids = ["a", "b", "a", "c", "d", "a", "e", "f", "g", "h", "i", "j"];
        let s = split_by_gene(&ids, 1, SplitFractions::default()).unwrap();
        assert_eq!(s.train.len() + s.valid.len() + s.test.len(), 10);
    }

    #[test]
    fn bad_fractions_and_tiny_sets_are_errors() {
        let ids = ["a", "b", "c"];
        let bad = SplitFractions {
            train: 0.8,
            valid: 0.3,
            test: 0.1,
        };
        assert!(matches!(
            split_by_gene(&ids, 0, bad),
            Err(SplitError::BadFractions { .. })
        ));
        assert_eq!(
            split_by_gene(&["a", "a"], 0, SplitFractions::default()),
            Err(SplitError::TooFewGenes { genes: 1 })
        );
    }

    #[test]
    fn fingerprint_sees_every_field() {
        let base = dataset_fingerprint([("g1", "ACGT", 1.0)]);
        assert_ne!(base, dataset_fingerprint([("g2", "ACGT", 1.0)]));
        assert_ne!(base, dataset_fingerprint([("g1", "ACGA", 1.0)]));
        assert_ne!(base, dataset_fingerprint([("g1", "ACGT", 1.5)]));
        assert_eq!(base, dataset_fingerprint([("g1", "ACGT", 1.0)]));
    }
}
