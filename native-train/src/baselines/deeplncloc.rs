//! The DeepLncLoc input (Zeng et al. 2022), which TExCNN's paper used as a baseline: overlapping
//! k-mers are the words of a sequence, Word2Vec ([`crate::baselines::word2vec`]) gives each a vector, the
//! k-mer list is cut into `s` equal subsequences and each subsequence becomes the mean of its
//! k-mer vectors. The [genes, s, dim] result goes through TExCNN's text-CNN head.
//!
//! k-mers are indexed as in [`crate::baselines::kmer`] (base 4, A=0 C=1 G=2 T=3, first base most
//! significant, stride 1). A k-mer with any other character is unknown and, like a k-mer that
//! Word2Vec never saw, counts as a zero vector: it still takes its place in the mean.

use std::ops::Range;

use crate::baselines::kmer::MAX_K;

use crate::baselines::word2vec::Embeddings;

/// Why the DeepLncLoc input cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeepLncLocError {
    #[error("k must be between 1 and {MAX_K}, got {0}")]
    BadK(usize),
    #[error("the number of subsequences must be at least 1")]
    NoSubsequences,
    #[error(
        "\"{id}\" is {length} bp, {kmers} {k}-mers: too few to cut into {subsequences} \
         subsequences (lower --subsequences or --k)"
    )]
    TooShort {
        id: String,
        length: usize,
        k: usize,
        kmers: usize,
        subsequences: usize,
    },
}

/// Checks k and the subsequence count before any sequence is read.
pub fn check_settings(k: usize, subsequences: usize) -> Result<(), DeepLncLocError> {
    if k == 0 || k > MAX_K {
        return Err(DeepLncLocError::BadK(k));
    }
    if subsequences == 0 {
        return Err(DeepLncLocError::NoSubsequences);
    }
    Ok(())
}

/// The overlapping k-mers of `seq` (one per start position, `len − k + 1` of them), each its
/// index below 4^k, or `None` when the window holds a character other than A, C, G, T.
pub fn kmer_tokens(seq: &str, k: usize) -> Vec<Option<u32>> {
    let bytes = seq.as_bytes();
    if k == 0 || bytes.len() < k {
        return Vec::new();
    }
    let mask = (1u64 << (2 * k)) - 1;
    let (mut code, mut valid_run) = (0u64, 0usize);
    let mut out = Vec::with_capacity(bytes.len() + 1 - k);
    for (i, &b) in bytes.iter().enumerate() {
        match crate::baselines::kmer::base_code(b) {
            Some(c) => {
                code = ((code << 2) | c as u64) & mask;
                valid_run += 1;
            }
            None => valid_run = 0,
        }
        if i + 1 >= k {
            out.push((valid_run >= k).then_some(code as u32));
        }
    }
    out
}

/// Cuts `n` items into `s` consecutive parts of `n / s` items; the last part also takes the
/// remainder. `None` when `s` is 0 or larger than `n`.
pub fn subsequence_ranges(n: usize, s: usize) -> Option<Vec<Range<usize>>> {
    if s == 0 || s > n {
        return None;
    }
    let size = n / s;
    Some(
        (0..s)
            .map(|i| i * size..if i + 1 == s { n } else { (i + 1) * size })
            .collect(),
    )
}

/// The DeepLncLoc matrix of one gene: [s, dim], row i the mean of the vectors of the k-mers of
/// subsequence i (unknown k-mers count as zero vectors). `None` when the gene has fewer than
/// `s` k-mers.
pub fn subsequence_vectors(
    tokens: &[Option<u32>],
    s: usize,
    embeddings: &Embeddings,
) -> Option<Vec<f32>> {
    let dim = embeddings.dim();
    let ranges = subsequence_ranges(tokens.len(), s)?;
    let mut out = vec![0f32; s * dim];
    for (row, range) in out.chunks_mut(dim).zip(ranges) {
        let count = range.len() as f32;
        for token in &tokens[range] {
            if let Some(v) = token.and_then(|t| embeddings.vector(t)) {
                for (o, x) in row.iter_mut().zip(v) {
                    *o += x;
                }
            }
        }
        for o in row.iter_mut() {
            *o /= count;
        }
    }
    Some(out)
}

/// Checks that every sequence has at least `s` k-mers, naming the shortest offender.
pub fn check_lengths<'a>(
    genes: impl IntoIterator<Item = (&'a str, &'a str)>,
    k: usize,
    subsequences: usize,
) -> Result<(), DeepLncLocError> {
    let shortest = genes
        .into_iter()
        .min_by_key(|(_, seq)| seq.len())
        .map(|(id, seq)| (id, seq.len()));
    if let Some((id, length)) = shortest {
        let kmers = (length + 1).saturating_sub(k);
        if kmers < subsequences {
            return Err(DeepLncLocError::TooShort {
                id: id.to_string(),
                length,
                k,
                kmers,
                subsequences,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baselines::word2vec::{Word2VecConfig, train};

    #[test]
    fn kmers_overlap_and_windows_with_n_are_unknown() {
        // AC=1, CG=6, GT=11, TA=12; every window touching the N is unknown.
        assert_eq!(
            kmer_tokens("ACGTNAC", 2),
            vec![Some(1), Some(6), Some(11), None, None, Some(1)]
        );
        assert_eq!(kmer_tokens("acg", 3), vec![Some(6)]);
        assert_eq!(kmer_tokens("AC", 3), Vec::<Option<u32>>::new());
    }

    #[test]
    fn the_last_subsequence_takes_the_remainder() {
        assert_eq!(subsequence_ranges(10, 3), Some(vec![0..3, 3..6, 6..10]));
        assert_eq!(subsequence_ranges(2046, 64).unwrap()[63], 1953..2046);
        assert_eq!(subsequence_ranges(4, 4), Some(vec![0..1, 1..2, 2..3, 3..4]));
        assert_eq!(subsequence_ranges(3, 4), None);
        assert_eq!(subsequence_ranges(3, 0), None);
    }

    #[test]
    fn subsequence_means_by_hand() {
        // A corpus of 1-mers where A, C and G occur and T never does: T has no vector.
        let emb = train(
            &[vec![Some(0), Some(1), Some(2), Some(0), Some(1), Some(2)]],
            4,
            &Word2VecConfig {
                dim: 2,
                window: 1,
                epochs: 1,
                ..Word2VecConfig::default()
            },
            |_| {},
        )
        .unwrap();
        let v = |t: u32| emb.vector(t).unwrap().to_vec();
        assert_eq!(emb.vector(3), None);
        // "ACNGTCA", k = 1: A C N G T C A → 7 k-mers in 2 parts: [A C N] and [G T C A].
        let tokens = kmer_tokens("ACNGTCA", 1);
        let got = subsequence_vectors(&tokens, 2, &emb).unwrap();
        let (a, c, g) = (v(0), v(1), v(2));
        let expected = [
            (a[0] + c[0]) / 3.0,
            (a[1] + c[1]) / 3.0,
            (g[0] + c[0] + a[0]) / 4.0,
            (g[1] + c[1] + a[1]) / 4.0,
        ];
        for (x, y) in got.iter().zip(expected) {
            assert!((x - y).abs() < 1e-7, "{got:?} vs {expected:?}");
        }
        assert_eq!(got.len(), 4);
        assert_eq!(subsequence_vectors(&tokens, 8, &emb), None);
    }

    #[test]
    fn settings_and_lengths_are_checked() {
        assert_eq!(check_settings(0, 64), Err(DeepLncLocError::BadK(0)));
        assert_eq!(check_settings(13, 64), Err(DeepLncLocError::BadK(13)));
        assert_eq!(check_settings(3, 0), Err(DeepLncLocError::NoSubsequences));
        assert_eq!(check_settings(3, 64), Ok(()));
        let genes = [("long", "ACGTACGTAC"), ("short", "ACGTA")];
        assert_eq!(check_lengths(genes, 3, 3), Ok(()));
        let err = check_lengths(genes, 3, 4).unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"short\" is 5 bp, 3 3-mers: too few to cut into 4 subsequences \
             (lower --subsequences or --k)"
        );
    }
}
