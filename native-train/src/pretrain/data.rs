//! Pre-training data: promoter sequences, a fixed held-out part, random crops.

use std::io::Read;
use std::path::Path;

use anyhow::Context;
use texcnn::sequence::{Sequence, parse_text};

use super::masking::SplitMix64;

/// Sequences for training and for the held-out evaluation.
#[derive(Debug)]
pub struct Corpus {
    pub train: Vec<String>,
    pub heldout: Vec<String>,
}

/// FNV-1a: a stable hash, so the held-out part never changes between runs or versions.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Whether a sequence belongs to the held-out part: decided by a hash of its residues, so
/// a sequence present twice is never on both sides.
pub fn is_heldout(residues: &str, heldout_per_mille: u64) -> bool {
    fnv1a(residues.as_bytes()) % 1000 < heldout_per_mille
}

/// Reads a FASTA file (plain or gzip) and splits it. Records that fail to parse are
/// reported on stderr and left out.
pub fn load_corpus(path: &Path, heldout_per_mille: u64) -> anyhow::Result<Corpus> {
    let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let text = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(raw.as_slice())
            .read_to_string(&mut text)
            .with_context(|| format!("decompressing {}", path.display()))?;
        text
    } else {
        String::from_utf8_lossy(&raw).into_owned()
    };
    let outcome = parse_text(&text);
    for error in outcome.errors.iter().take(20) {
        eprintln!("{}: {error}", path.display());
    }
    if outcome.errors.len() > 20 {
        eprintln!(
            "{}: {} more errors",
            path.display(),
            outcome.errors.len() - 20
        );
    }
    let mut corpus = Corpus {
        train: Vec::new(),
        heldout: Vec::new(),
    };
    for Sequence { residues, .. } in outcome.records {
        if is_heldout(&residues, heldout_per_mille) {
            corpus.heldout.push(residues);
        } else {
            corpus.train.push(residues);
        }
    }
    anyhow::ensure!(
        !corpus.train.is_empty() && !corpus.heldout.is_empty(),
        "{}: need sequences on both sides of the held-out split (train {}, held out {})",
        path.display(),
        corpus.train.len(),
        corpus.heldout.len()
    );
    Ok(corpus)
}

/// A random crop of `len` bp (the whole sequence when shorter), chosen with probability
/// proportional to sequence length so every base is equally likely to be seen.
pub fn random_crop<'a>(
    seqs: &'a [String],
    total_bp: u64,
    len: usize,
    rng: &mut SplitMix64,
) -> &'a str {
    let mut target = rng.next_u64() % total_bp.max(1);
    let mut chosen = &seqs[0];
    for s in seqs {
        if target < s.len() as u64 {
            chosen = s;
            break;
        }
        target -= s.len() as u64;
    }
    if chosen.len() <= len {
        return chosen;
    }
    let start = rng.below((chosen.len() - len + 1) as u64) as usize;
    &chosen[start..start + len]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heldout_is_stable_and_about_the_requested_share() {
        let mut rng = SplitMix64::new(3);
        let seqs: Vec<String> = (0..5000)
            .map(|_| {
                (0..50)
                    .map(|_| b"ACGT"[rng.below(4) as usize] as char)
                    .collect()
            })
            .collect();
        let held = seqs.iter().filter(|s| is_heldout(s, 20)).count();
        assert!((60..=140).contains(&held), "{held}");
        assert!(is_heldout(&seqs[0], 20) == is_heldout(&seqs[0].clone(), 20));
    }

    #[test]
    fn crops_have_the_requested_length() {
        let seqs = vec!["A".repeat(100), "C".repeat(10)];
        let mut rng = SplitMix64::new(1);
        for _ in 0..200 {
            let crop = random_crop(&seqs, 110, 30, &mut rng);
            assert!(crop.len() == 30 || crop == "C".repeat(10));
        }
    }
}
