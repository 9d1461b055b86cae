//! DNA input parsing: what a user pastes or drops, and what they are told when it is wrong.

use texcnn::sequence::{
    DEFAULT_MAX_LEN, ParseError, ParseOptions, ParseWarning, parse_bytes, parse_text,
    parse_text_with,
};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn fasta_with_many_records_keeps_ids_descriptions_and_order() {
    let text = ">gene1 chr1:100-200 (+)\nACGT\nacgt\n\n>gene2\nGGGG\n>gene3 last\nTTTT";
    let out = parse_text(text);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let ids: Vec<_> = out.records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["gene1", "gene2", "gene3"]);
    assert_eq!(out.records[0].description, "chr1:100-200 (+)");
    assert_eq!(out.records[0].residues, "ACGTACGT");
    assert_eq!(out.records[0].line, 1);
    assert_eq!(out.records[1].line, 5);
    assert_eq!(out.records[2].description, "last");
}

#[test]
fn whitespace_digits_and_blank_lines_are_ignored() {
    // GenBank ORIGIN style: line numbers, blocks of ten, CRLF line ends.
    let text = "        1 acgtacgtac gtacgtacgt\r\n       21 ttttt\r\n\r\n";
    let out = parse_text(text);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.records.len(), 1);
    assert_eq!(out.records[0].residues, "ACGTACGTACGTACGTACGTTTTTT");
    assert_eq!(out.records[0].id, "sequence_1");
}

#[test]
fn u_reads_as_t_and_iupac_codes_become_n() {
    let out = parse_text(">rna\nACGU uuu\n>iupac\nRYSWKMBDHVN ryswkmbdhvn A");
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.records[0].residues, "ACGTTTT");
    assert_eq!(out.records[1].residues, format!("{}A", "N".repeat(22)));
}

#[test]
fn invalid_character_names_record_line_and_column_and_others_still_parse() {
    let text = ">good1\nACGT\n>bad\nACGT\nAC-GT\n>good2\nTTTT\n";
    let out = parse_text(text);
    let ids: Vec<_> = out.records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["good1", "good2"]);
    assert_eq!(out.errors.len(), 1);
    match &out.errors[0] {
        ParseError::InvalidCharacter {
            record,
            line,
            column,
            found,
            count,
            protein,
        } => {
            assert_eq!(record.id, "bad");
            assert_eq!(record.index, 1);
            assert_eq!((*line, *column, *found), (5, 3, '-'));
            assert_eq!((*count, *protein), (1, false));
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert_eq!(
        out.errors[0].to_string(),
        "record 2 (\"bad\"), line 5, column 3: invalid character '-'; expected A, C, G, T, U, N or an IUPAC code (R Y S W K M B D H V)"
    );
    assert_eq!(out.errors[0].line(), Some(5));
    assert_eq!(out.errors[0].column(), Some(3));
}

#[test]
fn columns_count_characters_not_bytes() {
    // Two no-break spaces (whitespace, two bytes each in UTF-8) before the bad character.
    let out = parse_text("\u{a0}\u{a0}X");
    let columns: Vec<_> = out.errors.iter().filter_map(ParseError::column).collect();
    assert_eq!(columns, [3]);
}

/// A record with many foreign characters gets one error: the first one's place and the count.
#[test]
fn many_bad_characters_give_one_error_with_their_count() {
    let text = format!(">good\nACGT\n>junk\nAC{}\nGG!\n", "!".repeat(26));
    let out = parse_text(&text);
    let ids: Vec<_> = out.records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["good"]);
    let messages: Vec<String> = out.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "record 2 (\"junk\"), line 4, column 3: invalid character '!' (the first of 27 in this record); expected A, C, G, T, U, N or an IUPAC code (R Y S W K M B D H V)"
        ]
    );
    assert!(matches!(
        &out.errors[..],
        [ParseError::InvalidCharacter {
            count: 27,
            protein: false,
            ..
        }]
    ));
}

/// A protein pasted by mistake is one error that says so; DNA with a masked run of `X` or a
/// stray letter is not called a protein.
#[test]
fn a_protein_sequence_is_one_error_that_says_so() {
    // Human haemoglobin alpha, first 47 residues (UniProt P69905).
    let text = ">sp|P69905|HBA_HUMAN\nMVLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKTYFPHF\n>masked\nACGTXXXXXXACGT\n>stray\nACGTLACGT\n";
    let out = parse_text(text);
    assert!(out.records.is_empty());
    let messages: Vec<String> = out.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "record 1 (\"sp|P69905|HBA_HUMAN\"), line 2, column 3: invalid character 'L' (the first of 13 in this record): this looks like a protein sequence, not DNA; expected A, C, G, T, U, N or an IUPAC code (R Y S W K M B D H V)",
            "record 2 (\"masked\"), line 4, column 5: invalid character 'X' (the first of 6 in this record); expected A, C, G, T, U, N or an IUPAC code (R Y S W K M B D H V)",
            "record 3 (\"stray\"), line 6, column 5: invalid character 'L'; expected A, C, G, T, U, N or an IUPAC code (R Y S W K M B D H V)",
        ]
    );
    let protein: Vec<bool> = out
        .errors
        .iter()
        .map(|e| matches!(e, ParseError::InvalidCharacter { protein: true, .. }))
        .collect();
    assert_eq!(protein, [true, false, false]);
}

/// Two records with one id are both kept, in input order, told apart by their position, with
/// a warning on the later one.
#[test]
fn duplicate_ids_are_kept_apart_with_a_warning() {
    let out = parse_text(">a\nACGT\n>b\nGG\n>bad\nAC-G\n>a tss=2\nTTTT\n>a\nCCCC\n");
    let rows: Vec<_> = out
        .records
        .iter()
        .map(|r| (r.index, r.id.as_str(), r.residues.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            (0, "a", "ACGT"),
            (1, "b", "GG"),
            (3, "a", "TTTT"),
            (4, "a", "CCCC")
        ]
    );
    let messages: Vec<String> = out.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "record 4 (\"a\"), line 7: the same id as record 1 (line 1); both are kept, in input order",
            "record 5 (\"a\"), line 9: the same id as record 1 (line 1); both are kept, in input order",
        ]
    );
    let notes: Vec<String> = out.warnings.iter().map(ParseWarning::note).collect();
    assert_eq!(
        notes,
        ["duplicate id: also record 1", "duplicate id: also record 1"]
    );
    assert_eq!(out.warnings_for(3).count(), 1);
    assert_eq!(out.warnings_for(0).count(), 0);
    // Distinct ids: no warning.
    assert!(parse_text(">a\nACGT\n>A\nACGT\n").warnings.is_empty());
}

#[test]
fn empty_input_has_its_own_error() {
    for text in ["", "   \n\n\t  \r\n", "  1 \n 61\n"] {
        let out = parse_text(text);
        assert!(out.records.is_empty());
        assert_eq!(out.errors, [ParseError::EmptyInput]);
    }
    assert_eq!(
        ParseError::EmptyInput.to_string(),
        "the input is empty: paste DNA (A, C, G, T, N) or FASTA records"
    );
}

#[test]
fn header_without_sequence_has_its_own_error() {
    let out = parse_text(">a\n>b\nACGT\n>c\n\n");
    let ids: Vec<_> = out.records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["b"]);
    let messages: Vec<_> = out.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "record 1 (\"a\"), line 1: the header has no sequence",
            "record 3 (\"c\"), line 4: the header has no sequence",
        ]
    );
}

#[test]
fn headers_without_id_get_a_numbered_one() {
    let out = parse_text(">\nACGT\n> \nGGGG");
    let ids: Vec<_> = out.records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["record_1", "record_2"]);
}

#[test]
fn over_long_sequence_has_its_own_error_and_the_batch_continues() {
    let options = ParseOptions {
        max_len: 100,
        ..ParseOptions::default()
    };
    let text = format!(">long\n{}\n>short\nACGT\n", "A".repeat(150));
    let out = parse_text_with(&text, &options);
    assert_eq!(out.records.len(), 1);
    assert_eq!(out.records[0].id, "short");
    assert_eq!(
        out.errors[0].to_string(),
        "record 1 (\"long\"), line 1: the sequence is 150 bp, longer than the maximum of 100 bp"
    );
    assert_eq!(ParseOptions::default().max_len, DEFAULT_MAX_LEN);
}

#[test]
fn invalid_utf8_is_an_invalid_character_not_a_crash() {
    let out = parse_bytes(b">x\nAC\xffGT\n>y\nAAAA");
    assert_eq!(out.records.len(), 1);
    assert!(matches!(
        &out.errors[..],
        [ParseError::InvalidCharacter {
            line: 2,
            column: 3,
            found: '\u{FFFD}',
            ..
        }]
    ));
    assert!(out.errors[0].to_string().contains("U+FFFD"));
}

#[cfg(not(target_arch = "wasm32"))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Arbitrary bytes never panic, and what parses is clean DNA.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let out = parse_bytes(&bytes);
            for record in &out.records {
                prop_assert!(!record.residues.is_empty());
                prop_assert!(record.residues.bytes().all(|b| b"ACGTN".contains(&b)));
            }
            // Every input yields something to show: records, errors, or both.
            prop_assert!(!out.records.is_empty() || !out.errors.is_empty());
        }

        /// Headers with arbitrary attributes (`tss=` with any value, other `key=value` words,
        /// junk) never panic; a TSS that is kept is a base of its record, and a record is
        /// either kept or named by an error.
        #[test]
        fn arbitrary_header_attributes_never_panic(
            records in proptest::collection::vec((
                "[^\n>]{0,10}",
                proptest::collection::vec(prop_oneof![
                    "(?i:tss)=-?[0-9]{0,25}",
                    "(?i:tss)=[^\\s]{0,8}",
                    "[a-z]{1,5}=[^\\s]{0,8}",
                    "[^\n]{0,10}",
                ], 0..4),
                "[ACGTNacgtnX!]{0,60}",
            ), 1..6),
            default_tss in proptest::option::of(0usize..100),
        ) {
            let mut text = String::new();
            for (id, attributes, dna) in &records {
                text.push_str(&format!(">{id} {}\n{dna}\n", attributes.join(" ")));
            }
            let options = ParseOptions { default_tss, ..ParseOptions::default() };
            let out = parse_text_with(&text, &options);
            for record in &out.records {
                if let Some(tss) = record.tss {
                    prop_assert!((1..=record.len()).contains(&tss));
                }
            }
            let errored = out.errors.iter().filter(|e| e.record().is_some()).count();
            prop_assert_eq!(out.records.len() + errored, records.len());
        }

        /// FASTA-shaped text from the DNA alphabet, any case, round-trips.
        #[test]
        fn generated_fasta_round_trips(
            records in proptest::collection::vec(("[a-zA-Z0-9_]{1,12}", "[ACGTUacgtuNn]{1,300}", 1usize..80), 1..8)
        ) {
            let mut text = String::new();
            for (id, dna, width) in &records {
                text.push_str(&format!(">{id} desc\n"));
                for chunk in dna.as_bytes().chunks(*width) {
                    text.push_str(std::str::from_utf8(chunk).unwrap());
                    text.push('\n');
                }
            }
            let out = parse_text(&text);
            prop_assert!(out.errors.is_empty());
            prop_assert_eq!(out.records.len(), records.len());
            for (record, (id, dna, _)) in out.records.iter().zip(&records) {
                prop_assert_eq!(&record.id, id);
                let want = dna.to_ascii_uppercase().replace('U', "T");
                prop_assert_eq!(&record.residues, &want);
            }
        }
    }
}

#[test]
fn tss_header_attribute_and_the_default_tss() {
    let text = ">a tss=3 promoter\nACGTACGT\n>b\nACGTAC\n>c TSS=9\nACGT\n>d tss=two\nACGT\n";
    let out = parse_text(text);
    let tss: Vec<_> = out.records.iter().map(|r| (r.id.as_str(), r.tss)).collect();
    assert_eq!(tss, [("a", Some(3)), ("b", None)]);
    let messages: Vec<String> = out.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "record 3 (\"c\"), line 5: tss=9 is not a base of the record: give a whole number from 1 to 4 (1-based position of the TSS in the record)",
            "record 4 (\"d\"), line 7: tss=two is not a base of the record: give a whole number from 1 to 4 (1-based position of the TSS in the record)",
        ]
    );
    // The page's TSS field applies to records that do not give theirs, and is checked too.
    let options = ParseOptions {
        default_tss: Some(5),
        ..ParseOptions::default()
    };
    let out = parse_text_with(">a tss=2\nACGTAC\n>b\nACGTAC\n>c\nACG\n", &options);
    let tss: Vec<_> = out.records.iter().map(|r| (r.id.as_str(), r.tss)).collect();
    assert_eq!(tss, [("a", Some(2)), ("b", Some(5))]);
    assert!(matches!(
        &out.errors[..],
        [ParseError::BadTss { length: 3, .. }]
    ));
}
