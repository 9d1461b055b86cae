//! BERT-style masking for masked-language modelling: 15 % of the real tokens are chosen
//! (never `[CLS]`, `[SEP]` or `[PAD]`); of those, 80 % become `[MASK]`, 10 % a random
//! ordinary token, 10 % stay as they are. The model must predict the original token at
//! every chosen position.

use texcnn::tokenizer::special;

/// Share of tokens chosen for prediction.
pub const MASK_RATE: f64 = 0.15;

/// First id of an ordinary (non-special) token in DNABERT-2's vocabulary.
pub const FIRST_ORDINARY_ID: u32 = 5;

/// A small deterministic generator (SplitMix64): reproducible masks from a seed, with no
/// dependency whose stream could change between versions.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

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
        let i = candidates[rng.below(candidates.len())];
        targets.push((i, ids[i]));
    }
    let ordinary = vocab_size.saturating_sub(FIRST_ORDINARY_ID as usize).max(1);
    for &(i, _) in &targets {
        let roll = rng.next_f64();
        if roll < 0.8 {
            input[i] = special::MASK;
        } else if roll < 0.9 {
            input[i] = FIRST_ORDINARY_ID + rng.below(ordinary) as u32;
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
