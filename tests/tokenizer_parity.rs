//! The tokenizer reproduces the ids of the original DNABERT-2 tokenizer (Hugging Face
//! `tokenizers`, Python) for the golden sequences. Runs natively and, compiled to wasm32,
//! under wasm-bindgen-test: fixtures are embedded at compile time so no filesystem is needed.

use texcnn::sequence::parse_text;
use texcnn::tokenizer::{Dnabert2Tokenizer, special};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const INPUT_FA: &str = include_str!("fixtures/dnabert2_golden_tiny/input.fa");
const TOKEN_IDS_JSON: &str = include_str!("fixtures/dnabert2_golden_tiny/token_ids.json");

/// The model-card example of zhihan1996/DNABERT-2-117M and its ids.
const MODEL_CARD_DNA: &str = "ACGTAGCATCGGATCTATCTATCGACACTTGGTTATCGATCTACGAGCATCTCGTTAGC";
const MODEL_CARD_IDS: [u32; 17] = [
    1, 5, 194, 32, 757, 1239, 2092, 294, 24, 359, 88, 93, 32, 75, 77, 19, 2,
];

fn golden_ids() -> Vec<Vec<u32>> {
    let value: serde_json::Value = serde_json::from_str(TOKEN_IDS_JSON).expect("fixture is JSON");
    serde_json::from_value(value["token_ids"].clone()).expect("token_ids is a list of id lists")
}

#[test]
fn golden_sequences_tokenize_exactly() {
    let tokenizer = Dnabert2Tokenizer::official().unwrap();
    let parsed = parse_text(INPUT_FA);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let expected = golden_ids();
    assert_eq!(parsed.records.len(), expected.len());
    for (record, want) in parsed.records.iter().zip(&expected) {
        let got = tokenizer.encode(&record.residues).unwrap();
        assert_eq!(&got, want, "ids differ for {}", record.id);
    }
    // The longest golden sequence goes past ALiBi's 512 starting size.
    assert!(expected.iter().any(|ids| ids.len() > 512));
}

#[test]
fn model_card_example() {
    let tokenizer = Dnabert2Tokenizer::official().unwrap();
    assert_eq!(tokenizer.encode(MODEL_CARD_DNA).unwrap(), MODEL_CARD_IDS);
    assert_eq!(tokenizer.vocab_size(), 4096);
}

#[test]
fn lower_case_tokenizes_like_upper_case() {
    let tokenizer = Dnabert2Tokenizer::official().unwrap();
    let lower = MODEL_CARD_DNA.to_ascii_lowercase();
    assert_eq!(tokenizer.encode(&lower).unwrap(), MODEL_CARD_IDS);
    // Also through the parser, for every golden sequence.
    let parsed = parse_text(&INPUT_FA.to_ascii_lowercase());
    for (record, want) in parsed.records.iter().zip(golden_ids()) {
        assert_eq!(tokenizer.encode(&record.residues).unwrap(), want);
    }
}

#[test]
fn tokens_cover_the_input_in_order() {
    let tokenizer = Dnabert2Tokenizer::official().unwrap();
    let tokens = tokenizer.encode_tokens(MODEL_CARD_DNA).unwrap();
    assert_eq!(tokens.first().map(|t| t.id), Some(special::CLS));
    assert_eq!(tokens.last().map(|t| t.id), Some(special::SEP));
    let body = &tokens[1..tokens.len() - 1];
    let joined: String = body.iter().map(|t| t.text.as_str()).collect();
    assert_eq!(joined, MODEL_CARD_DNA);
    let mut next = 0;
    for token in body {
        assert_eq!(token.start, next);
        assert_eq!(&MODEL_CARD_DNA[token.start..token.end], token.text);
        next = token.end;
    }
    assert_eq!(next, MODEL_CARD_DNA.len());
}

#[test]
fn n_becomes_unknown() {
    let tokenizer = Dnabert2Tokenizer::official().unwrap();
    assert_eq!(
        tokenizer.encode("NNN").unwrap(),
        [
            special::CLS,
            special::UNK,
            special::UNK,
            special::UNK,
            special::SEP
        ]
    );
}

#[test]
fn rejects_a_tokenizer_that_is_not_dnabert2() {
    assert!(Dnabert2Tokenizer::from_json_bytes(b"{not json").is_err());
    // A valid tokenizer.json whose special ids are shuffled is rejected by name.
    let json = String::from_utf8(texcnn::tokenizer::OFFICIAL_TOKENIZER_JSON.to_vec()).unwrap();
    let swapped =
        json.replacen("\"[CLS]\": 1", "\"[CLS]\": 9", 1)
            .replacen("\"id\": 1,", "\"id\": 9,", 1);
    let err = Dnabert2Tokenizer::from_json_bytes(swapped.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("[CLS]"), "{err}");
}
