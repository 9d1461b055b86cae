//! BERT-style masking for masked-language modelling: 15 % of the real tokens are chosen
//! (never `[CLS]`, `[SEP]` or `[PAD]`); of those, 80 % become `[MASK]`, 10 % a random
//! ordinary token, 10 % stay as they are. The model must predict the original token at
//! every chosen position.

pub use texcnn::rng::SplitMix64;
use texcnn::tokenizer::special;

/// Share of tokens chosen for prediction.
pub const MASK_RATE: f64 = 0.15;

/// First id of an ordinary (non-special) token in DNABERT-2's vocabulary.
pub const FIRST_ORDINARY_ID: u32 = 5;

/// One masked sequence: the corrupted input and, per chosen position, the original id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masked {
    pub input: Vec<u32>,
    /// (position, original id) of every token to predict.
    pub targets: Vec<(usize, u32)>,
}

/// Masks `ids` (one tokenized sequence, `[CLS] … [SEP]`). At least one token is chosen when
/// the sequence has any ordinary token, so every example contributes to the loss.
pub fn mask_tokens(ids: &[u32], vocab_size: usize, rng: &mut SplitMix64) -> Masked {
    let mut input = ids.to_vec();
    let mut targets = Vec::new();
    let candidates: Vec<usize> = (0..ids.len())
        .filter(|&i| !matches!(ids[i], special::CLS | special::SEP | special::PAD))
        .collect();
    for &i in &candidates {
        if rng.next_f64() < MASK_RATE {
            targets.push((i, ids[i]));
        }
    }
    if targets.is_empty() && !candidates.is_empty() {
        let i = candidates[rng.below(candidates.len() as u64) as usize];
        targets.push((i, ids[i]));
    }
    let ordinary = vocab_size.saturating_sub(FIRST_ORDINARY_ID as usize).max(1);
    for &(i, _) in &targets {
        let roll = rng.next_f64();
        if roll < 0.8 {
            input[i] = special::MASK;
        } else if roll < 0.9 {
            input[i] = FIRST_ORDINARY_ID + rng.below(ordinary as u64) as u32;
        }
    }
    Masked { input, targets }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_specials() {
        let mut rng = SplitMix64::new(7);
        let ids: Vec<u32> = std::iter::once(special::CLS)
            .chain((0..20_000).map(|i| 5 + (i % 4000) as u32))
            .chain(std::iter::once(special::SEP))
            .collect();
        let m = mask_tokens(&ids, 4096, &mut rng);
        let chosen = m.targets.len() as f64 / 20_000.0;
        assert!((chosen - 0.15).abs() < 0.01, "chosen {chosen}");
        assert_eq!(m.input[0], special::CLS);
        assert_eq!(*m.input.last().unwrap(), special::SEP);
        let masked = m
            .targets
            .iter()
            .filter(|&&(i, _)| m.input[i] == special::MASK)
            .count();
        let kept = m.targets.iter().filter(|&&(i, t)| m.input[i] == t).count();
        let n = m.targets.len() as f64;
        assert!((masked as f64 / n - 0.8).abs() < 0.03);
        // Kept: the 10 % left alone plus random draws that hit the same id.
        assert!((kept as f64 / n - 0.1).abs() < 0.03);
        assert!(m.targets.iter().all(|&(i, t)| ids[i] == t));
        assert!(m.input.iter().all(|&id| id < 4096));
    }

    #[test]
    fn short_sequences_still_get_a_target() {
        let mut rng = SplitMix64::new(1);
        for _ in 0..100 {
            let m = mask_tokens(&[special::CLS, 77, special::SEP], 4096, &mut rng);
            assert_eq!(m.targets, [(1, 77)]);
        }
        let m = mask_tokens(&[special::CLS, special::SEP], 4096, &mut rng);
        assert!(m.targets.is_empty());
    }
}
