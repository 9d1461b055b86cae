//! Word2Vec skip-gram with negative sampling (Mikolov et al. 2013), written out here so that a
//! seed gives the same vectors on every machine: one thread, one [`SplitMix64`] stream.
//!
//! The training follows the original `word2vec.c` recipe: input vectors start uniform in
//! ±0.5/dim and output vectors at zero; for each position a window width is drawn from
//! 1..=window, and each context word inside it is trained to predict the centre word against
//! `negatives` words drawn from the unigram distribution raised to the power 0.75 (a draw that
//! hits the centre word is skipped); the learning rate falls linearly from its start to 1e-4 of
//! it over all epochs. There is no frequent-word subsampling (DNA k-mer vocabularies are small
//! and every word is frequent). Sentences are visited in a new seeded order every epoch.
//!
//! Tokens are `u32` ids below the vocabulary size; `None` marks an unknown token (a k-mer with
//! `N`). Unknown tokens are never trained and never serve as context, but they keep their place,
//! so a window does not reach across them to farther words.

use texcnn::rng::SplitMix64;

/// Settings of a Word2Vec run.
#[derive(Debug, Clone, PartialEq)]
pub struct Word2VecConfig {
    /// Width of a word vector.
    pub dim: usize,
    /// Largest distance between a centre word and a context word.
    pub window: usize,
    /// Negative samples per (context, centre) pair.
    pub negatives: usize,
    pub epochs: usize,
    /// Starting learning rate (decays linearly over all epochs).
    pub learning_rate: f64,
    pub seed: u64,
}

impl Default for Word2VecConfig {
    fn default() -> Self {
        Self {
            dim: 64,
            window: 5,
            negatives: 5,
            epochs: 5,
            learning_rate: 0.025,
            seed: 0,
        }
    }
}

/// Why Word2Vec cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Word2VecError {
    #[error("word2vec {0} must be at least 1")]
    Zero(&'static str),
    #[error("word2vec learning rate must be a positive number, got {0}")]
    BadLearningRate(f64),
    #[error("the word2vec corpus has no known token")]
    EmptyCorpus,
    #[error("token {token} in sentence {sentence} is outside the vocabulary of {vocab}")]
    OutOfVocabulary {
        token: u32,
        sentence: usize,
        vocab: usize,
    },
}

impl Word2VecConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), Word2VecError> {
        for (name, value) in [
            ("vector size", self.dim),
            ("window", self.window),
            ("negative sample count", self.negatives),
            ("epoch count", self.epochs),
        ] {
            if value == 0 {
                return Err(Word2VecError::Zero(name));
            }
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Word2VecError::BadLearningRate(self.learning_rate));
        }
        Ok(())
    }
}

/// Trained word vectors (the input vectors of the skip-gram model).
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    dim: usize,
    /// [vocab, dim], row-major.
    vectors: Vec<f32>,
    /// Whether the token occurred in the corpus.
    known: Vec<bool>,
}

impl Embeddings {
    /// Width of a vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The vector of `token`, or `None` for a token that never occurred in the corpus (or is
    /// outside the vocabulary).
    pub fn vector(&self, token: u32) -> Option<&[f32]> {
        let t = token as usize;
        self.known
            .get(t)
            .copied()
            .unwrap_or(false)
            .then(|| &self.vectors[t * self.dim..(t + 1) * self.dim])
    }

    /// Cosine similarity of two known tokens.
    pub fn cosine(&self, a: u32, b: u32) -> Option<f64> {
        let (a, b) = (self.vector(a)?, self.vector(b)?);
        let dot = |x: &[f32], y: &[f32]| {
            x.iter()
                .zip(y)
                .map(|(p, q)| f64::from(*p) * f64::from(*q))
                .sum::<f64>()
        };
        Some(dot(a, b) / (dot(a, a).sqrt() * dot(b, b).sqrt()))
    }
}

/// One epoch of Word2Vec training.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Word2VecEpoch {
    pub epoch: usize,
    /// Mean negative-sampling loss per (context, centre) pair, measured before each update.
    pub mean_loss: f64,
    pub pairs: u64,
    pub seconds: f64,
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Eight partial sums, so the compiler can keep them in one SIMD register (a single running
/// sum cannot be reordered and stays scalar).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// One negative-sampling update for one (context, centre) pair, as in `word2vec.c`.
///
/// `input` is the context word's input vector [dim]; `output` holds all output vectors
/// [vocab, dim]; `targets[0]` is the centre word (label 1) and the rest are negative samples
/// (label 0). Targets are visited in order, each output vector updated at once; the input
/// vector receives the summed gradient at the end. `scratch` is [dim] work space. Returns the
/// pair's loss −log σ(u·v₀) − Σ log σ(−u·vⱼ), with the scores taken before their update.
pub fn sgns_step(
    input: &mut [f32],
    output: &mut [f32],
    targets: &[u32],
    learning_rate: f32,
    scratch: &mut [f32],
) -> f64 {
    let dim = input.len();
    scratch.fill(0.0);
    let mut loss = 0.0;
    for (j, &t) in targets.iter().enumerate() {
        let row = &mut output[t as usize * dim..(t as usize + 1) * dim];
        let score = dot(input, row);
        let label = if j == 0 { 1.0 } else { 0.0 };
        let p = sigmoid(score);
        // −log σ(s) for the positive, −log σ(−s) = −log(1 − σ(s)) for negatives.
        let q = if j == 0 { p } else { 1.0 - p };
        loss -= f64::from(q.max(f32::MIN_POSITIVE)).ln();
        let g = (label - p) * learning_rate;
        for ((s, o), i) in scratch.iter_mut().zip(row.iter_mut()).zip(input.iter()) {
            *s += g * *o;
            *o += g * i;
        }
    }
    for (i, s) in input.iter_mut().zip(scratch.iter()) {
        *i += s;
    }
    loss
}

/// Draws words from the unigram distribution to the power 0.75.
struct NegativeTable {
    /// Cumulative weights.
    cumulative: Vec<f64>,
}

impl NegativeTable {
    fn new(counts: &[u64]) -> Self {
        let mut total = 0.0;
        let cumulative = counts
            .iter()
            .map(|&c| {
                total += (c as f64).powf(0.75);
                total
            })
            .collect();
        Self { cumulative }
    }

    fn draw(&self, rng: &mut SplitMix64) -> u32 {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let u = rng.next_f64() * total;
        // The first word whose cumulative weight exceeds u; never a word of count 0.
        let i = self.cumulative.partition_point(|&c| c <= u);
        i.min(self.cumulative.len() - 1) as u32
    }
}

/// Trains word vectors on `sentences` (token ids below `vocab`, `None` for unknown tokens).
/// `on_epoch` sees every finished epoch.
pub fn train<S: AsRef<[Option<u32>]>>(
    sentences: &[S],
    vocab: usize,
    config: &Word2VecConfig,
    mut on_epoch: impl FnMut(&Word2VecEpoch),
) -> Result<Embeddings, Word2VecError> {
    config.validate()?;
    let dim = config.dim;
    let mut counts = vec![0u64; vocab];
    for (s, sentence) in sentences.iter().enumerate() {
        for &token in sentence.as_ref().iter().flatten() {
            match counts.get_mut(token as usize) {
                Some(c) => *c += 1,
                None => {
                    return Err(Word2VecError::OutOfVocabulary {
                        token,
                        sentence: s,
                        vocab,
                    });
                }
            }
        }
    }
    let total_words: u64 = counts.iter().sum();
    if total_words == 0 {
        return Err(Word2VecError::EmptyCorpus);
    }
    let negatives = NegativeTable::new(&counts);
    let mut rng = SplitMix64::new(config.seed);
    let mut input: Vec<f32> = (0..vocab * dim)
        .map(|_| ((rng.next_f64() - 0.5) / dim as f64) as f32)
        .collect();
    let mut output = vec![0f32; vocab * dim];
    let mut scratch = vec![0f32; dim];
    let mut targets = Vec::with_capacity(config.negatives + 1);
    let mut order: Vec<usize> = (0..sentences.len()).collect();
    let schedule = (config.epochs as u64 * total_words + 1) as f64;
    let mut words_done = 0u64;
    for epoch in 1..=config.epochs {
        let started = std::time::Instant::now();
        rng.shuffle(&mut order);
        let (mut loss, mut pairs) = (0.0, 0u64);
        for &s in &order {
            let sentence = sentences[s].as_ref();
            for (pos, centre) in sentence.iter().enumerate() {
                let Some(centre) = *centre else { continue };
                let lr = config.learning_rate * (1.0 - words_done as f64 / schedule).max(1e-4);
                words_done += 1;
                let reach = config.window - rng.below(config.window as u64) as usize;
                let lo = pos.saturating_sub(reach);
                let hi = (pos + reach).min(sentence.len() - 1);
                for (c, context) in sentence.iter().enumerate().take(hi + 1).skip(lo) {
                    let Some(context) = *context else { continue };
                    if c == pos {
                        continue;
                    }
                    targets.clear();
                    targets.push(centre);
                    for _ in 0..config.negatives {
                        let t = negatives.draw(&mut rng);
                        if t != centre {
                            targets.push(t);
                        }
                    }
                    let c0 = context as usize * dim;
                    loss += sgns_step(
                        &mut input[c0..c0 + dim],
                        &mut output,
                        &targets,
                        lr as f32,
                        &mut scratch,
                    );
                    pairs += 1;
                }
            }
        }
        on_epoch(&Word2VecEpoch {
            epoch,
            mean_loss: loss / pairs.max(1) as f64,
            pairs,
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    Ok(Embeddings {
        dim,
        vectors: input,
        known: counts.iter().map(|&c| c > 0).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four topics of five tokens each; every sentence draws 20 tokens from one topic, so
    /// tokens of one topic share all their contexts and tokens of different topics none.
    fn topic_corpus(seed: u64) -> Vec<Vec<Option<u32>>> {
        let mut rng = SplitMix64::new(seed);
        (0..400)
            .map(|_| {
                let topic = rng.below(4) as u32;
                (0..20)
                    .map(|_| Some(topic * 5 + rng.below(5) as u32))
                    .collect()
            })
            .collect()
    }

    fn small_config() -> Word2VecConfig {
        Word2VecConfig {
            dim: 16,
            window: 3,
            epochs: 3,
            ..Word2VecConfig::default()
        }
    }

    #[test]
    fn co_occurring_tokens_get_similar_vectors() {
        let mut losses = Vec::new();
        let emb = train(&topic_corpus(7), 20, &small_config(), |e| {
            losses.push(e.mean_loss)
        })
        .unwrap();
        let (mut within, mut across) = (f64::INFINITY, f64::NEG_INFINITY);
        for a in 0..20u32 {
            for b in a + 1..20 {
                let cos = emb.cosine(a, b).unwrap();
                if a / 5 == b / 5 {
                    within = within.min(cos);
                } else {
                    across = across.max(cos);
                }
            }
        }
        assert!(
            within > 0.8 && across < 0.5,
            "least similar same-topic pair {within:.3}, most similar cross-topic pair {across:.3}"
        );
        assert!(losses[2] < losses[0], "loss did not fall: {losses:?}");
    }

    #[test]
    fn seeded_runs_repeat_and_unknown_tokens_have_no_vector() {
        let mut corpus = topic_corpus(3);
        corpus[0][4] = None;
        let a = train(&corpus, 25, &small_config(), |_| {}).unwrap();
        let b = train(&corpus, 25, &small_config(), |_| {}).unwrap();
        assert_eq!(a, b);
        let other = Word2VecConfig {
            seed: 1,
            ..small_config()
        };
        assert_ne!(a, train(&corpus, 25, &other, |_| {}).unwrap());
        // Tokens 20..25 never occur, 25 is past the vocabulary.
        assert!(a.vector(19).is_some());
        assert_eq!(a.vector(20), None);
        assert_eq!(a.vector(25), None);
    }

    #[test]
    fn bad_settings_and_corpora_are_errors() {
        let zero_dim = Word2VecConfig {
            dim: 0,
            ..Word2VecConfig::default()
        };
        assert_eq!(
            train(&[vec![Some(0)]], 1, &zero_dim, |_| {}).unwrap_err(),
            Word2VecError::Zero("vector size")
        );
        let cfg = Word2VecConfig::default();
        assert_eq!(
            train(&[vec![None, None]], 4, &cfg, |_| {}).unwrap_err(),
            Word2VecError::EmptyCorpus
        );
        assert_eq!(
            train(&[vec![Some(1)], vec![Some(0), Some(9)]], 4, &cfg, |_| {}).unwrap_err(),
            Word2VecError::OutOfVocabulary {
                token: 9,
                sentence: 1,
                vocab: 4
            }
        );
    }

    #[derive(serde::Deserialize)]
    struct StepFixture {
        dim: usize,
        learning_rate: f32,
        targets: Vec<u32>,
        input: Vec<f32>,
        output: Vec<f32>,
        expected_input: Vec<f32>,
        expected_output: Vec<f32>,
        expected_loss: f64,
    }

    /// The step against an independent numpy implementation (`tests/fixtures/make_sgns_step.py`).
    #[test]
    fn sgns_step_matches_numpy() {
        let f: StepFixture =
            serde_json::from_str(include_str!("../../../tests/fixtures/sgns_step.json")).unwrap();
        let (mut input, mut output) = (f.input.clone(), f.output.clone());
        let mut scratch = vec![0f32; f.dim];
        let loss = sgns_step(
            &mut input,
            &mut output,
            &f.targets,
            f.learning_rate,
            &mut scratch,
        );
        assert!(
            (loss - f.expected_loss).abs() < 1e-5,
            "{loss} vs {}",
            f.expected_loss
        );
        for (name, got, want) in [
            ("input", &input, &f.expected_input),
            ("output", &output, &f.expected_output),
        ] {
            assert_eq!(got.len(), want.len());
            for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
                assert!((g - w).abs() < 1e-6, "{name}[{i}]: {g} vs {w}");
            }
        }
    }
}
