//! What an edit of a record does to its prediction: substitutions and insertions/deletions up
//! to [`MAX_INDEL`] bp, scored against the reference, for every output of the model.
//!
//! Edits are VCF-like: a 1-based position in the record, the reference allele found there and
//! the alternative that replaces it (`pos 120 ref A alt G`; a deletion `ref ATT alt A`; an
//! insertion `ref A alt AGG`). The reference allele is checked against the record.
//!
//! Only what an edit changes is embedded again: the edited record is placed in the model's
//! window and cut and tokenized like any input (cheap), and a segment whose tokens equal the
//! reference segment's at the same place reuses the reference embedding (the encoder sees
//! the same input). A substitution changes at most ⌈segment / stride⌉ segments; an indel
//! shifts the bases after it, so every segment downstream of it changes. The changed
//! segments of all edits are embedded together, `batch` per encoder pass.
//!
//! Where the record's TSS is known (given, the window's, or assumed at the centre), an edited
//! record is read around the same TSS: an edit that ends before the TSS moves it by the
//! edit's change in length, one that covers or follows it does not.

use crate::pipeline::Prepared;
use crate::predict::{Inputs, PredictError, Predictor};
use crate::segment::{ReadWindow, TssSource};

/// Longest insertion or deletion scored, in bp (the change in length of one edit).
pub const MAX_INDEL: usize = 50;

/// One edit of a record, VCF-like (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// 1-based position of the reference allele's first base in the record.
    pub pos: usize,
    /// The bases found there (`A`, `C`, `G`, `T`).
    pub reference: String,
    /// The bases that replace them.
    pub alternative: String,
}

/// Why an edit cannot be scored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// An allele that is empty or holds something other than `A C G T`.
    #[error("{which} allele \"{allele}\" is not made of A, C, G and T")]
    Allele { which: &'static str, allele: String },
    /// Reference and alternative are the same.
    #[error("ref and alt are both \"{0}\": nothing changes")]
    Unchanged(String),
    /// An allele longer than [`MAX_INDEL`] + 1 bp (VCF-style, an indel's alleles share their
    /// first base).
    #[error(
        "an allele of {0} bp: alleles of at most {max} bp (insertions and deletions of at most {MAX_INDEL} bp) are scored",
        max = MAX_INDEL + 1
    )]
    TooLong(usize),
    /// The reference allele does not lie inside the record.
    #[error("position {pos} (ref {len_ref} bp) is outside the record's {record_len} bp")]
    OutOfRange {
        pos: usize,
        len_ref: usize,
        record_len: usize,
    },
    /// The record has other bases where the reference allele should be.
    #[error("ref \"{given}\" does not match the record, which has \"{found}\" at position {pos}")]
    RefMismatch {
        pos: usize,
        given: String,
        found: String,
    },
}

fn is_acgt(allele: &str) -> bool {
    !allele.is_empty() && allele.bytes().all(|b| b"ACGT".contains(&b))
}

impl Edit {
    /// An edit with its alleles upper-cased and checked (A/C/G/T only, not equal, a change
    /// in length of at most [`MAX_INDEL`] bp).
    pub fn new(pos: usize, reference: &str, alternative: &str) -> Result<Self, EditError> {
        let reference = reference.trim().to_ascii_uppercase();
        let alternative = alternative.trim().to_ascii_uppercase();
        for (which, allele) in [("ref", &reference), ("alt", &alternative)] {
            if !is_acgt(allele) {
                return Err(EditError::Allele {
                    which,
                    allele: allele.clone(),
                });
            }
        }
        if reference == alternative {
            return Err(EditError::Unchanged(reference));
        }
        let longest = reference.len().max(alternative.len());
        if longest > MAX_INDEL + 1 {
            return Err(EditError::TooLong(longest));
        }
        Ok(Self {
            pos,
            reference,
            alternative,
        })
    }

    /// The record with the edit applied, after checking the reference allele.
    pub fn apply(&self, residues: &str) -> Result<String, EditError> {
        let start = self.pos.wrapping_sub(1);
        let end = start.saturating_add(self.reference.len());
        if self.pos == 0 || end > residues.len() {
            return Err(EditError::OutOfRange {
                pos: self.pos,
                len_ref: self.reference.len(),
                record_len: residues.len(),
            });
        }
        let found = &residues[start..end];
        if found != self.reference {
            return Err(EditError::RefMismatch {
                pos: self.pos,
                given: self.reference.clone(),
                found: found.to_string(),
            });
        }
        Ok(format!(
            "{}{}{}",
            &residues[..start],
            self.alternative,
            &residues[end..]
        ))
    }

    /// Where the TSS (1-based in the record) is after the edit: moved by the change in
    /// length when the edit ends before it.
    pub fn tss_after(&self, tss: usize) -> usize {
        let last = self.pos + self.reference.len() - 1;
        if last < tss {
            (tss + self.alternative.len()).saturating_sub(self.reference.len())
        } else {
            tss
        }
    }
}

/// Every substitution of `start..=end` (1-based, inclusive, in the record): at each position
/// the three other bases, in the order A, C, G, T. Positions holding `N` are skipped.
pub fn saturation_edits(residues: &str, start: usize, end: usize) -> Vec<Edit> {
    let bytes = residues.as_bytes();
    let mut edits = Vec::new();
    for pos in start.max(1)..=end.min(bytes.len()) {
        let base = bytes[pos - 1];
        if base == b'N' {
            continue;
        }
        for alt in [b'A', b'C', b'G', b'T'] {
            if alt != base {
                edits.push(Edit {
                    pos,
                    reference: char::from(base).to_string(),
                    alternative: char::from(alt).to_string(),
                });
            }
        }
    }
    edits
}

/// Why one edit has no score.
#[derive(Debug, thiserror::Error)]
pub enum VariantError {
    #[error(transparent)]
    Edit(#[from] EditError),
    #[error("the edited record: {0}")]
    Predict(#[from] PredictError),
}

/// The score of one edit.
#[derive(Debug, Clone, PartialEq)]
pub struct EditEffect {
    /// The edited record's prediction, one value per output, in label units.
    pub alt: Vec<f32>,
    /// `alt - reference`, per output.
    pub delta: Vec<f32>,
    /// The edit's position relative to the TSS (TSS at 0, upstream negative), when known.
    pub tss_relative: Option<i64>,
    /// How many segments were embedded again for it (the rest reused the reference's).
    pub reembedded: usize,
}

/// The reference and every edit's effect, in the order of the edits.
#[derive(Debug)]
pub struct EditScores {
    /// The unedited record's prediction, one value per output.
    pub reference: Vec<f32>,
    /// Which bases of the unedited record were read.
    pub read: ReadWindow,
    /// Which head scored the reference and the edits.
    pub inputs: Inputs,
    pub effects: Vec<Result<EditEffect, VariantError>>,
}

/// Where one segment of an edited record comes from.
enum Row {
    /// The reference's segment at this index (same tokens).
    Reuse(usize),
    /// This index among the segments to embed.
    New(usize),
}

/// An edited record, ready for the head once the new segments are embedded.
struct Planned {
    rows: Vec<Row>,
    tss_relative: Option<i64>,
}

/// The TSS an edited record is read around (see the module docs).
fn edited_tss(read: &ReadWindow, given: Option<usize>, edit: &Edit) -> Option<usize> {
    match (read.tss_source, read.tss) {
        (TssSource::Header | TssSource::Window | TssSource::Centre, Some(tss)) => {
            Some(edit.tss_after(tss))
        }
        _ => given,
    }
}

/// Edits of one record, prepared: the reference's segments and, per edit, which segments
/// are reused and which must be embedded ([`EditPlan::pending`]). The caller embeds the
/// reference's tokens and the pending ones its own way (synchronously natively, in batches
/// read back asynchronously in the browser) and hands the rows to [`Predictor::finish_edits`].
pub struct EditPlan {
    /// The unedited record, windowed, cut and tokenized.
    pub reference: Prepared,
    /// The token ids of every segment to embed for the edits, in order.
    pub pending: Vec<Vec<u32>>,
    plans: Vec<Result<Planned, VariantError>>,
}

impl Predictor {
    /// Prepares `edits` of one record (`tss`: base of its TSS, 1-based, when the record gives
    /// it). An edit that cannot be scored (e.g. a reference allele that does not match) is an
    /// error in its place; an error of the reference itself fails the whole call.
    pub fn plan_edits(
        &self,
        residues: &str,
        tss: Option<usize>,
        edits: &[Edit],
    ) -> Result<EditPlan, PredictError> {
        let reference = self.prepare(residues, tss)?;
        let mut pending: Vec<Vec<u32>> = Vec::new();
        let mut plans: Vec<Result<Planned, VariantError>> = Vec::new();
        for edit in edits {
            let planned = (|| {
                let alt = edit.apply(residues)?;
                let alt_tss = edited_tss(&reference.read, tss, edit);
                let prepared: Prepared = self.prepare(&alt, alt_tss)?;
                let rows = prepared
                    .segments
                    .iter()
                    .enumerate()
                    .map(|(i, s)| match reference.segments.get(i) {
                        Some(r) if r.token_ids == s.token_ids => Row::Reuse(i),
                        _ => {
                            pending.push(s.token_ids.clone());
                            Row::New(pending.len() - 1)
                        }
                    })
                    .collect::<Vec<_>>();
                let tss_relative = reference.read.tss.map(|t| edit.pos as i64 - t as i64);
                Ok::<_, VariantError>(Planned { rows, tss_relative })
            })();
            plans.push(planned);
        }
        Ok(EditPlan {
            reference,
            pending,
            plans,
        })
    }

    /// The scores of a plan from the reference's segment embeddings (`ref_rows`, one per
    /// segment) and the pending segments' (`new_rows`, in [`EditPlan::pending`] order). With
    /// `features` (from [`Predictor::feature_inputs`]) the features head scores every
    /// sequence; without, the DNA-only head.
    pub fn finish_edits(
        &self,
        plan: EditPlan,
        ref_rows: &[Vec<f32>],
        new_rows: &[Vec<f32>],
        features: Option<&[f32]>,
    ) -> Result<EditScores, PredictError> {
        if new_rows.len() != plan.pending.len() {
            return Err(PredictError::Device(format!(
                "{} embedded segments for {} pending ones",
                new_rows.len(),
                plan.pending.len()
            )));
        }
        let features = features.filter(|_| self.has_features());
        let ref_values = self.head_output(ref_rows, features)?;
        let mut effects = Vec::with_capacity(plan.plans.len());
        for planned in plan.plans {
            let effect = match planned {
                Err(err) => Err(err),
                Ok(Planned { rows, tss_relative }) => {
                    let reembedded = rows.iter().filter(|r| matches!(r, Row::New(_))).count();
                    let set: Vec<Vec<f32>> = rows
                        .iter()
                        .map(|r| match r {
                            Row::Reuse(i) => ref_rows[*i].clone(),
                            Row::New(j) => new_rows[*j].clone(),
                        })
                        .collect();
                    self.head_output(&set, features)
                        .map(|alt| EditEffect {
                            delta: alt.iter().zip(&ref_values).map(|(a, r)| a - r).collect(),
                            alt,
                            tss_relative,
                            reembedded,
                        })
                        .map_err(VariantError::from)
                }
            };
            effects.push(effect);
        }
        Ok(EditScores {
            reference: ref_values,
            read: plan.reference.read,
            inputs: if features.is_some() {
                Inputs::DnaFeatures
            } else {
                Inputs::Dna
            },
            effects,
        })
    }

    /// Scores `edits` of one record synchronously (native code): the reference prediction
    /// and, per edit, the edited record's prediction and the difference, re-embedding only
    /// the segments an edit changes, `batch` per encoder pass. `progress(done, total)` follows
    /// the encoder passes over the changed segments. `features` as in
    /// [`Self::finish_edits`].
    pub fn score_edits(
        &self,
        residues: &str,
        tss: Option<usize>,
        edits: &[Edit],
        features: Option<&[f32]>,
        batch: usize,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<EditScores, PredictError> {
        let plan = self.plan_edits(residues, tss, edits)?;
        let ref_rows = self.embedder.embed_prepared(&plan.reference, batch)?;
        let total = plan.pending.len();
        progress(0, total);
        let new_rows = self
            .embedder
            .embed_tokens(&plan.pending, batch, |done| progress(done, total))?;
        self.finish_edits(plan, &ref_rows, &new_rows, features)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_apply_vcf_style_and_check_the_reference() {
        let record = "ACGTACGTAC";
        let snv = Edit::new(3, "g", "t").unwrap();
        assert_eq!(snv.apply(record).unwrap(), "ACTTACGTAC");
        let deletion = Edit::new(4, "TAC", "T").unwrap();
        assert_eq!(deletion.apply(record).unwrap(), "ACGTGTAC");
        let insertion = Edit::new(10, "C", "CGG").unwrap();
        assert_eq!(insertion.apply(record).unwrap(), "ACGTACGTACGG");
        assert_eq!(
            Edit::new(3, "A", "T").unwrap().apply(record),
            Err(EditError::RefMismatch {
                pos: 3,
                given: "A".into(),
                found: "G".into()
            })
        );
        for pos in [0, 10] {
            assert!(matches!(
                Edit::new(pos, "CA", "C").unwrap().apply(record),
                Err(EditError::OutOfRange { .. })
            ));
        }
        assert!(matches!(
            Edit::new(1, "A", "N"),
            Err(EditError::Allele { which: "alt", .. })
        ));
        assert!(matches!(
            Edit::new(1, "", "A"),
            Err(EditError::Allele { which: "ref", .. })
        ));
        assert_eq!(
            Edit::new(1, "A", "a"),
            Err(EditError::Unchanged("A".into()))
        );
        let long = "A".repeat(MAX_INDEL + 2);
        assert_eq!(
            Edit::new(1, "A", &long),
            Err(EditError::TooLong(MAX_INDEL + 2))
        );
        assert!(Edit::new(1, "A", &long[1..]).is_ok());
    }

    #[test]
    fn the_tss_moves_with_edits_that_end_before_it() {
        let insertion = Edit::new(5, "A", "AGG").unwrap();
        assert_eq!(insertion.tss_after(6), 8);
        assert_eq!(insertion.tss_after(5), 5);
        let deletion = Edit::new(2, "ACG", "A").unwrap();
        assert_eq!(deletion.tss_after(10), 8);
        assert_eq!(deletion.tss_after(4), 4);
        assert_eq!(Edit::new(3, "A", "C").unwrap().tss_after(7), 7);
    }

    #[test]
    fn saturation_covers_three_bases_per_position_and_skips_n() {
        let edits = saturation_edits("ANGT", 1, 4);
        assert_eq!(edits.len(), 9);
        let first: Vec<_> = edits[..3].iter().map(|e| e.alternative.as_str()).collect();
        assert_eq!(first, ["C", "G", "T"]);
        assert!(edits.iter().all(|e| e.pos != 2));
        assert!(saturation_edits("ACGT", 3, 9).iter().all(|e| e.pos <= 4));
    }
}
