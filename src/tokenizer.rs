//! The DNABERT-2 BPE tokenizer, loaded from a Hugging Face `tokenizer.json` through the
//! `tokenizers` crate (built with its wasm-compatible features, the same natively and in the
//! browser).
//!
//! Every input is wrapped `[CLS] … [SEP]` by the tokenizer's own post-processor; there is no
//! length cap. The vocabulary is upper-case only, so input is upper-cased first: lower-case
//! DNA tokenizes exactly like upper-case. `N` is not in the vocabulary: each `N` becomes one
//! `[UNK]` (id 0).

use tokenizers::Tokenizer;

/// The official DNABERT-2-117M `tokenizer.json` (Apache-2.0, see `src/assets/dnabert2/`).
pub const OFFICIAL_TOKENIZER_JSON: &[u8] = include_bytes!("assets/dnabert2/tokenizer.json");

/// Special token ids of DNABERT-2.
pub mod special {
    pub const UNK: u32 = 0;
    pub const CLS: u32 = 1;
    pub const SEP: u32 = 2;
    pub const PAD: u32 = 3;
    pub const MASK: u32 = 4;
}

/// Tokenizer failures.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error("the tokenizer file is not a valid Hugging Face tokenizer.json: {0}")]
    InvalidJson(String),
    #[error(
        "the tokenizer does not look like DNABERT-2's: token {token} should have id {expected}, found {found:?}"
    )]
    NotDnabert2 {
        token: &'static str,
        expected: u32,
        found: Option<u32>,
    },
    #[error("tokenizing failed: {0}")]
    Encode(String),
}

/// One token of an encoded sequence, for display (the page's teaching view).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Token {
    pub id: u32,
    /// The token's text, e.g. `[CLS]` or `ACGTT`.
    pub text: String,
    /// Bases `start..end` of the input this token covers (`start == end` for `[CLS]`/`[SEP]`).
    pub start: usize,
    pub end: usize,
}

/// DNABERT-2's BPE tokenizer.
#[derive(Clone)]
pub struct Dnabert2Tokenizer {
    inner: Tokenizer,
}

impl std::fmt::Debug for Dnabert2Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dnabert2Tokenizer")
            .field("vocab_size", &self.vocab_size())
            .finish()
    }
}

impl Dnabert2Tokenizer {
    /// The official DNABERT-2 tokenizer bundled with the crate.
    pub fn official() -> Result<Self, TokenizerError> {
        Self::from_json_bytes(OFFICIAL_TOKENIZER_JSON)
    }

    /// Loads a `tokenizer.json` from bytes and checks DNABERT-2's special token ids.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, TokenizerError> {
        let inner =
            Tokenizer::from_bytes(bytes).map_err(|e| TokenizerError::InvalidJson(e.to_string()))?;
        for (token, expected) in [
            ("[UNK]", special::UNK),
            ("[CLS]", special::CLS),
            ("[SEP]", special::SEP),
            ("[PAD]", special::PAD),
            ("[MASK]", special::MASK),
        ] {
            let found = inner.token_to_id(token);
            if found != Some(expected) {
                return Err(TokenizerError::NotDnabert2 {
                    token,
                    expected,
                    found,
                });
            }
        }
        Ok(Self { inner })
    }

    /// Number of ids in the vocabulary (4,096 for DNABERT-2).
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Token ids of `sequence`, `[CLS]` and `[SEP]` included.
    pub fn encode(&self, sequence: &str) -> Result<Vec<u32>, TokenizerError> {
        Ok(self
            .encode_tokens(sequence)?
            .into_iter()
            .map(|t| t.id)
            .collect())
    }

    /// Tokens of `sequence` with their text and the bases each one covers.
    pub fn encode_tokens(&self, sequence: &str) -> Result<Vec<Token>, TokenizerError> {
        let upper = sequence.to_ascii_uppercase();
        let encoding = self
            .inner
            .encode(upper.as_str(), true)
            .map_err(|e| TokenizerError::Encode(e.to_string()))?;
        Ok(encoding
            .get_ids()
            .iter()
            .zip(encoding.get_tokens())
            .zip(encoding.get_offsets())
            .map(|((&id, text), &(start, end))| Token {
                id,
                text: text.clone(),
                start,
                end,
            })
            .collect())
    }

    /// The text of token `id`, if it exists.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }
}
