//! k-mer frequency profiles of DNA: the features of the k-mer ridge baseline.
//!
//! A k-mer is indexed in base 4 with A=0, C=1, G=2, T=3, first base most significant (so for
//! k = 2: AA=0, AC=1, …, TT=15). Overlapping windows are counted (stride 1); a window that
//! contains any other character (`N`) is skipped. Frequencies are counts divided by the number
//! of counted windows, so sequences of different lengths are comparable.

/// Largest supported k (4^12 = 16.7 M features is already far past useful).
pub const MAX_K: usize = 12;

/// Why a k-mer profile cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KmerError {
    #[error("k must be between 1 and {MAX_K}, got {0}")]
    BadK(usize),
}

/// Counts overlapping k-mers of a fixed k.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KmerCounter {
    k: usize,
}

/// 2-bit code of a base (A 0, C 1, G 2, T 3, either case); `None` for anything else.
pub fn base_code(b: u8) -> Option<usize> {
    match b {
        b'A' | b'a' => Some(0),
        b'C' | b'c' => Some(1),
        b'G' | b'g' => Some(2),
        b'T' | b't' => Some(3),
        _ => None,
    }
}

impl KmerCounter {
    /// A counter for k-mers of length `k` (1 ≤ k ≤ [`MAX_K`]).
    pub fn new(k: usize) -> Result<Self, KmerError> {
        if k == 0 || k > MAX_K {
            return Err(KmerError::BadK(k));
        }
        Ok(Self { k })
    }

    /// k.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Number of distinct k-mers, 4^k.
    pub fn dim(&self) -> usize {
        1 << (2 * self.k)
    }

    /// The k-mer with index `index`, as text.
    pub fn kmer(&self, index: usize) -> String {
        (0..self.k)
            .rev()
            .map(|i| b"ACGT"[(index >> (2 * i)) & 3] as char)
            .collect()
    }

    /// Counts of every k-mer (length [`Self::dim`]) and the number of windows counted.
    pub fn counts(&self, seq: &str) -> (Vec<u32>, u32) {
        let mut counts = vec![0u32; self.dim()];
        let mask = self.dim() - 1;
        let mut code = 0usize;
        let mut valid_run = 0usize;
        let mut total = 0u32;
        for b in seq.bytes() {
            match base_code(b) {
                Some(c) => {
                    code = ((code << 2) | c) & mask;
                    valid_run += 1;
                    if valid_run >= self.k {
                        counts[code] += 1;
                        total += 1;
                    }
                }
                None => valid_run = 0,
            }
        }
        (counts, total)
    }

    /// Frequencies of every k-mer (sum 1, or all zero when no window is free of `N`).
    pub fn frequencies(&self, seq: &str) -> Vec<f64> {
        let (counts, total) = self.counts(seq);
        let scale = if total == 0 { 0.0 } else { 1.0 / total as f64 };
        counts.into_iter().map(|c| c as f64 * scale).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_and_names_agree() {
        let c = KmerCounter::new(2).unwrap();
        assert_eq!(c.dim(), 16);
        assert_eq!(c.kmer(0), "AA");
        assert_eq!(c.kmer(1), "AC");
        assert_eq!(c.kmer(15), "TT");
        let c4 = KmerCounter::new(4).unwrap();
        assert_eq!(c4.kmer(0b00_01_10_11), "ACGT");
    }

    #[test]
    fn counts_overlapping_windows_and_skips_n() {
        let c = KmerCounter::new(2).unwrap();
        // ACGNTT: windows AC, CG, (GN, NT skipped), TT.
        let (counts, total) = c.counts("ACGNTT");
        assert_eq!(total, 3);
        assert_eq!(counts[1], 1); // AC
        assert_eq!(counts[6], 1); // CG
        assert_eq!(counts[15], 1); // TT
        assert_eq!(counts.iter().sum::<u32>(), 3);
        let f = c.frequencies("ACGNTT");
        assert!((f.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(c.frequencies("NNNN").iter().all(|v| *v == 0.0));
    }

    #[test]
    fn lower_case_counts_like_upper_case() {
        let c = KmerCounter::new(3).unwrap();
        assert_eq!(c.counts("acgtacgt"), c.counts("ACGTACGT"));
    }

    #[test]
    fn bad_k_is_an_error() {
        assert_eq!(KmerCounter::new(0), Err(KmerError::BadK(0)));
        assert_eq!(KmerCounter::new(13), Err(KmerError::BadK(13)));
    }
}
