//! The encoder's hyper-parameters, read from a Hugging Face `config.json`.

use serde::{Deserialize, Serialize};

/// Errors in a DNABERT-2 `config.json`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The text is not JSON, or a required field is missing or has the wrong type.
    #[error("config.json is not a valid DNABERT-2 config: {0}")]
    Json(serde_json::Error),
    /// The fields parse but describe a model this encoder cannot build.
    #[error("config.json: {0}")]
    Invalid(String),
}

/// Sizes of a DNABERT-2 (MosaicBERT) encoder, as the official `config.json` spells them.
///
/// Unknown fields are ignored. `position_embedding_type` is ignored on purpose: the
/// official config says `absolute`, but DNABERT-2 has no position embeddings and uses
/// ALiBi. `max_position_embeddings` and `alibi_starting_size` do not limit the sequence
/// length either: the ALiBi bias is built for whatever length comes in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dnabert2Config {
    /// Number of token ids (4,096 for DNABERT-2).
    pub vocab_size: usize,
    /// Width of every hidden state (768 for DNABERT-2-117M).
    pub hidden_size: usize,
    /// Number of encoder layers (12).
    pub num_hidden_layers: usize,
    /// Number of attention heads per layer (12); must divide `hidden_size`.
    pub num_attention_heads: usize,
    /// Width of the gated MLP (3,072); `mlp.gated_layers` produces twice this.
    pub intermediate_size: usize,
    /// Number of token types (2); only type 0 is used.
    #[serde(default = "default_type_vocab_size")]
    pub type_vocab_size: usize,
    /// LayerNorm epsilon (1e-12).
    #[serde(default = "default_layer_norm_eps")]
    pub layer_norm_eps: f64,
    /// Activation of the gated MLP; only `gelu` (exact, erf-based) is supported.
    #[serde(default = "default_hidden_act")]
    pub hidden_act: String,
}

fn default_type_vocab_size() -> usize {
    2
}

fn default_layer_norm_eps() -> f64 {
    1e-12
}

fn default_hidden_act() -> String {
    "gelu".to_string()
}

impl Dnabert2Config {
    /// The published DNABERT-2-117M sizes (hidden 768, 12 layers, 12 heads, FFN 3,072).
    pub fn dnabert2_117m() -> Self {
        Self {
            vocab_size: 4096,
            hidden_size: 768,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            intermediate_size: 3072,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
            hidden_act: default_hidden_act(),
        }
    }

    /// Parses and checks the text of a `config.json`.
    pub fn from_json_str(text: &str) -> Result<Self, ConfigError> {
        let config: Self = serde_json::from_str(text).map_err(ConfigError::Json)?;
        config.validate()?;
        Ok(config)
    }

    /// The config as JSON, in the field names `from_json_str` reads.
    pub fn to_json_string(&self) -> String {
        // A struct of numbers and strings always serialises.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Width of one attention head.
    pub fn head_size(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    /// Checks the sizes this encoder relies on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("intermediate_size", self.intermediate_size),
            ("type_vocab_size", self.type_vocab_size),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(ConfigError::Invalid(format!("{name} must be positive")));
            }
        }
        // Far above any DNABERT-2 (117M: 4,096 / 768 / 12 / 3,072 / 2), far below sizes whose
        // products overflow or whose tensors no machine holds: a damaged or hostile config is
        // an error here, not an allocation failure later.
        let limits = [
            ("vocab_size", self.vocab_size, 1 << 20),
            ("hidden_size", self.hidden_size, 1 << 16),
            ("num_hidden_layers", self.num_hidden_layers, 1 << 10),
            ("intermediate_size", self.intermediate_size, 1 << 18),
            ("type_vocab_size", self.type_vocab_size, 1 << 10),
        ];
        for (name, value, max) in limits {
            if value > max {
                return Err(ConfigError::Invalid(format!(
                    "{name} {value} is larger than this encoder accepts (at most {max})"
                )));
            }
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return Err(ConfigError::Invalid(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            )));
        }
        if !(self.layer_norm_eps.is_finite() && self.layer_norm_eps > 0.0) {
            return Err(ConfigError::Invalid(format!(
                "layer_norm_eps must be a positive number, found {}",
                self.layer_norm_eps
            )));
        }
        if self.hidden_act != "gelu" {
            return Err(ConfigError::Invalid(format!(
                "hidden_act {:?} is not supported (DNABERT-2 uses exact \"gelu\")",
                self.hidden_act
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_official_config_and_ignores_position_embedding_type() {
        let text = r#"{
            "alibi_starting_size": 512, "attention_probs_dropout_prob": 0.0,
            "hidden_act": "gelu", "hidden_size": 768, "intermediate_size": 3072,
            "layer_norm_eps": 1e-12, "max_position_embeddings": 512,
            "num_attention_heads": 12, "num_hidden_layers": 12,
            "position_embedding_type": "absolute", "type_vocab_size": 2, "vocab_size": 4096,
            "auto_map": {"AutoModel": "bert_layers.BertModel"}
        }"#;
        let config = Dnabert2Config::from_json_str(text).expect("official config parses");
        assert_eq!(config, Dnabert2Config::dnabert2_117m());
        assert_eq!(config.head_size(), 64);
    }

    #[test]
    fn rejects_heads_that_do_not_divide_hidden() {
        let mut config = Dnabert2Config::dnabert2_117m();
        config.num_attention_heads = 7;
        let err = config.validate().expect_err("768 is not a multiple of 7");
        assert!(err.to_string().contains("num_attention_heads 7"), "{err}");
    }

    #[test]
    fn rejects_sizes_no_encoder_here_can_hold() {
        let mut config = Dnabert2Config::dnabert2_117m();
        config.num_hidden_layers = 4_000_000_000;
        let err = config.validate().expect_err("too many layers");
        assert_eq!(
            err.to_string(),
            "config.json: num_hidden_layers 4000000000 is larger than this encoder accepts (at most 1024)"
        );
        let mut config = Dnabert2Config::dnabert2_117m();
        config.hidden_size = 1 << 17;
        assert!(config.validate().is_err());
        config.hidden_size = 1 << 16;
        config.num_attention_heads = 16;
        assert!(config.validate().is_ok());
    }

    #[test]
    fn rejects_a_missing_size() {
        let err = Dnabert2Config::from_json_str(r#"{"vocab_size": 4096}"#)
            .expect_err("hidden_size is required");
        assert!(err.to_string().contains("hidden_size"), "{err}");
    }

    #[test]
    fn round_trips_through_json() {
        let config = Dnabert2Config::dnabert2_117m();
        let back = Dnabert2Config::from_json_str(&config.to_json_string()).expect("parses");
        assert_eq!(back, config);
    }
}
