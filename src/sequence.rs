//! DNA input: a raw paste or FASTA text with one or many records.
//!
//! Rules (the same natively and in the browser):
//! - a record starts at a `>` header line; its id is the first whitespace-separated word of the
//!   header, the rest is kept as the description. Text before the first header is one record
//!   named `sequence_1` (a raw paste);
//! - upper and lower case are accepted and normalised to upper case;
//! - whitespace, digits (GenBank-style line numbers) and blank lines are ignored;
//! - `U` is read as `T`;
//! - the IUPAC ambiguity codes `R Y S W K M B D H V` and `N` become `N`;
//! - any other character makes the record an error, one per record: it names the first such
//!   character's line and column (1-based, counted in characters) and how many the record has,
//!   and says when the record looks like a protein sequence (every invalid character an
//!   amino-acid letter that is no nucleotide code, `E F I J L O P Q X Z *`, two different ones
//!   at least); the
//!   record is not returned and the other records of the batch still parse;
//! - two records with the same id are both kept, in input order, with a [`ParseWarning`]:
//!   callers tell records apart by their position ([`Sequence::index`]), never by id;
//! - empty input, a header with no sequence, and a sequence longer than
//!   [`ParseOptions::max_len`] (default [`DEFAULT_MAX_LEN`]) each get their own error;
//! - a header word `tss=N` says where the record's TSS is: base N, 1-based, of the record
//!   (e.g. `>ENSG00000001461 tss=7001`); N must be a whole number from 1 to the record's
//!   length, else the record is an error. A raw paste (no header) takes
//!   [`ParseOptions::default_tss`] (the page's TSS field), as does a header without `tss=`.

use std::fmt;

/// Default upper bound on one sequence's length (bp): 1 Mbp, far above the 50 kbp windows of
/// the TExCNN paper, low enough that one pasted record cannot exhaust a browser tab.
pub const DEFAULT_MAX_LEN: usize = 1_000_000;

/// One parsed DNA record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    /// Record id: the first word of the FASTA header, or `sequence_N` for a header-less paste.
    pub id: String,
    /// The rest of the header line, trimmed (empty when absent).
    pub description: String,
    /// Normalised residues, each one of `A C G T N`.
    pub residues: String,
    /// The TSS, 1-based in the record, when the header (`tss=N`) or the options say where.
    pub tss: Option<usize>,
    /// 1-based line of the record's header (or of its first line for a header-less paste).
    pub line: usize,
    /// 0-based position of the record in the input (records with errors count too): what
    /// tells two records with the same id apart.
    pub index: usize,
}

impl Sequence {
    /// Where the record is and what it is called, as errors name it (`record 3 ("p5")`).
    pub fn record_ref(&self) -> RecordRef {
        RecordRef {
            index: self.index,
            id: self.id.clone(),
        }
    }

    /// Length in bp.
    pub fn len(&self) -> usize {
        self.residues.len()
    }

    /// True when the record holds no residue (never the case for a parsed record).
    pub fn is_empty(&self) -> bool {
        self.residues.is_empty()
    }
}

/// Where a record starts and what it is called, carried by every record-level error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRef {
    /// 0-based position of the record in the input.
    pub index: usize,
    /// The record id (see [`Sequence::id`]).
    pub id: String,
}

impl fmt::Display for RecordRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "record {} (\"{}\")", self.index + 1, self.id)
    }
}

/// What went wrong in the input, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Nothing but whitespace (or nothing at all).
    #[error("the input is empty: paste DNA (A, C, G, T, N) or FASTA records")]
    EmptyInput,
    /// Characters that are neither a nucleotide, an IUPAC code, whitespace nor a digit: one
    /// error per record, at the first of them, with their count.
    #[error(
        "{record}, line {line}, column {column}: invalid character {}{}",
        describe_char(*found),
        invalid_tail(*count, *protein)
    )]
    InvalidCharacter {
        record: RecordRef,
        line: usize,
        column: usize,
        /// The first invalid character.
        found: char,
        /// How many invalid characters the record has.
        count: usize,
        /// The record looks like a protein sequence (see the module docs).
        protein: bool,
    },
    /// A header followed by no residue before the next header or the end.
    #[error("{record}, line {line}: the header has no sequence")]
    EmptyRecord { record: RecordRef, line: usize },
    /// A `tss=` header attribute that is not a base of the record.
    #[error(
        "{record}, line {line}: tss={value} is not a base of the record: give a whole number from 1 to {length} (1-based position of the TSS in the record)"
    )]
    BadTss {
        record: RecordRef,
        line: usize,
        value: String,
        length: usize,
    },
    /// A record longer than the configured maximum.
    #[error(
        "{record}, line {line}: the sequence is {length} bp, longer than the maximum of {max} bp"
    )]
    TooLong {
        record: RecordRef,
        line: usize,
        length: usize,
        max: usize,
    },
}

impl ParseError {
    /// The record the error belongs to, if any.
    pub fn record(&self) -> Option<&RecordRef> {
        match self {
            ParseError::EmptyInput => None,
            ParseError::InvalidCharacter { record, .. }
            | ParseError::EmptyRecord { record, .. }
            | ParseError::BadTss { record, .. }
            | ParseError::TooLong { record, .. } => Some(record),
        }
    }

    /// The 1-based line the error points at, if any.
    pub fn line(&self) -> Option<usize> {
        match self {
            ParseError::InvalidCharacter { line, .. }
            | ParseError::EmptyRecord { line, .. }
            | ParseError::BadTss { line, .. }
            | ParseError::TooLong { line, .. } => Some(*line),
            ParseError::EmptyInput => None,
        }
    }

    /// The 1-based column the error points at, if any.
    pub fn column(&self) -> Option<usize> {
        match self {
            ParseError::InvalidCharacter { column, .. } => Some(*column),
            _ => None,
        }
    }
}

const EXPECTED_DNA: &str = "expected A, C, G, T, U, N or an IUPAC code (R Y S W K M B D H V)";

/// The end of an invalid-character message: how many more there are, and a protein hint.
fn invalid_tail(count: usize, protein: bool) -> String {
    let more = match count {
        0 | 1 => String::new(),
        n => format!(" (the first of {n} in this record)"),
    };
    if protein {
        format!("{more}: this looks like a protein sequence, not DNA; {EXPECTED_DNA}")
    } else {
        format!("{more}; {EXPECTED_DNA}")
    }
}

/// Amino-acid letters that are no nucleotide or IUPAC code: `E F I L P Q`, the rarer
/// `J O X Z` (`U`, selenocysteine, reads as `T`), and `*`, a stop.
const PROTEIN_ONLY: &[u8] = b"EFIJLOPQXZ*";

/// The invalid characters of one record: how many, the first and where, and what a protein
/// test needs.
#[derive(Debug, Clone, Copy, Default)]
struct InvalidChars {
    count: usize,
    /// The first one, with its 1-based line and column.
    first: Option<(char, usize, usize)>,
    /// Which of [`PROTEIN_ONLY`] occurred (bit i for its i-th letter).
    protein_letters: u32,
    /// Some invalid character is not in [`PROTEIN_ONLY`].
    other: bool,
}

impl InvalidChars {
    fn push(&mut self, c: char, line: usize, column: usize) {
        self.count += 1;
        self.first.get_or_insert((c, line, column));
        let upper = c.to_ascii_uppercase();
        match PROTEIN_ONLY.iter().position(|&p| char::from(p) == upper) {
            Some(i) => self.protein_letters |= 1 << i,
            None => self.other = true,
        }
    }

    /// A record "looks like a protein sequence" when every invalid character in it is one of
    /// the amino-acid letters that are no nucleotide code (`E F I J L O P Q X Z`, any case, or
    /// `*`) and at least two different ones occur: a DNA record with a stray `X` or a masked
    /// run of `X` does not qualify, a protein (a third of whose residues are `E L I P Q F`)
    /// does.
    fn looks_like_protein(&self) -> bool {
        !self.other && self.protein_letters.count_ones() >= 2
    }
}

fn describe_char(c: char) -> String {
    if c.is_control() || c == char::REPLACEMENT_CHARACTER {
        format!("U+{:04X}", c as u32)
    } else {
        format!("'{c}'")
    }
}

/// Parser settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseOptions {
    /// Longest accepted sequence, in bp.
    pub max_len: usize,
    /// The TSS (1-based) of records that do not say (`tss=`): the page's TSS field.
    pub default_tss: Option<usize>,
}

impl Default for ParseOptions {
    fn default() -> Self {
        Self {
            max_len: DEFAULT_MAX_LEN,
            default_tss: None,
        }
    }
}

/// The value of a `tss=` word of a header description (the last one wins), if any.
fn tss_attribute(description: &str) -> Option<&str> {
    description
        .split_whitespace()
        .filter_map(|word| {
            let (key, value) = word.split_once('=')?;
            key.eq_ignore_ascii_case("tss").then_some(value)
        })
        .next_back()
}

/// Something the user should know about records that are still read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseWarning {
    /// A record whose id an earlier record already has: both are kept, in input order.
    #[error(
        "{record}, line {line}: the same id as record {} (line {first_line}); both are kept, in input order",
        first.index + 1
    )]
    DuplicateId {
        record: RecordRef,
        line: usize,
        first: RecordRef,
        first_line: usize,
    },
}

impl ParseWarning {
    /// The record the warning belongs to.
    pub fn record(&self) -> &RecordRef {
        match self {
            ParseWarning::DuplicateId { record, .. } => record,
        }
    }

    /// The 1-based line the warning points at.
    pub fn line(&self) -> usize {
        match self {
            ParseWarning::DuplicateId { line, .. } => *line,
        }
    }

    /// A short note for the record's result row (e.g. the `notes` column).
    pub fn note(&self) -> String {
        match self {
            ParseWarning::DuplicateId { first, .. } => {
                format!("duplicate id: also record {}", first.index + 1)
            }
        }
    }
}

/// The good records, the errors and the warnings of one input, in input order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseOutcome {
    pub records: Vec<Sequence>,
    pub errors: Vec<ParseError>,
    pub warnings: Vec<ParseWarning>,
}

impl ParseOutcome {
    /// The warnings about the record at input position `index` ([`Sequence::index`]).
    pub fn warnings_for(&self, index: usize) -> impl Iterator<Item = &ParseWarning> {
        self.warnings
            .iter()
            .filter(move |w| w.record().index == index)
    }
}

/// Parses text with the default options.
pub fn parse_text(text: &str) -> ParseOutcome {
    parse_text_with(text, &ParseOptions::default())
}

/// Parses bytes (e.g. a dropped file); invalid UTF-8 shows up as invalid characters.
pub fn parse_bytes(bytes: &[u8]) -> ParseOutcome {
    parse_text(&String::from_utf8_lossy(bytes))
}

/// Maps one input character to a residue, `None` for ignored characters, `Err` for invalid ones.
fn residue(c: char) -> Result<Option<u8>, ()> {
    match c.to_ascii_uppercase() {
        'A' => Ok(Some(b'A')),
        'C' => Ok(Some(b'C')),
        'G' => Ok(Some(b'G')),
        'T' | 'U' => Ok(Some(b'T')),
        'N' | 'R' | 'Y' | 'S' | 'W' | 'K' | 'M' | 'B' | 'D' | 'H' | 'V' => Ok(Some(b'N')),
        c if c.is_whitespace() || c.is_ascii_digit() => Ok(None),
        _ => Err(()),
    }
}

struct Pending {
    record: RecordRef,
    description: String,
    line: usize,
    residues: Vec<u8>,
    /// Residues seen, also those past `max_len` that were not stored.
    length: usize,
    invalid: InvalidChars,
    has_header: bool,
}

impl Pending {
    fn finish(self, options: &ParseOptions, out: &mut ParseOutcome) {
        if let Some((found, line, column)) = self.invalid.first {
            out.errors.push(ParseError::InvalidCharacter {
                record: self.record,
                line,
                column,
                found,
                count: self.invalid.count,
                protein: self.invalid.looks_like_protein(),
            });
            return;
        }
        if self.length == 0 {
            if self.has_header {
                out.errors.push(ParseError::EmptyRecord {
                    record: self.record,
                    line: self.line,
                });
            }
            return;
        }
        if self.length > options.max_len {
            out.errors.push(ParseError::TooLong {
                record: self.record,
                line: self.line,
                length: self.length,
                max: options.max_len,
            });
            return;
        }
        let given = tss_attribute(&self.description)
            .map(str::to_string)
            .or_else(|| options.default_tss.map(|t| t.to_string()));
        let tss = match given {
            None => None,
            Some(value) => match value.parse::<usize>() {
                Ok(t) if (1..=self.length).contains(&t) => Some(t),
                _ => {
                    out.errors.push(ParseError::BadTss {
                        record: self.record,
                        line: self.line,
                        value,
                        length: self.length,
                    });
                    return;
                }
            },
        };
        // Every byte pushed is one of b"ACGTN".
        let residues = String::from_utf8(self.residues).unwrap_or_default();
        out.records.push(Sequence {
            id: self.record.id,
            description: self.description,
            residues,
            tss,
            line: self.line,
            index: self.record.index,
        });
    }
}

/// Parses text with explicit options. Never panics; see the module docs for the rules.
pub fn parse_text_with(text: &str, options: &ParseOptions) -> ParseOutcome {
    let mut out = ParseOutcome::default();
    if text.trim().is_empty() {
        out.errors.push(ParseError::EmptyInput);
        return out;
    }
    let mut record_count = 0usize;
    let mut current: Option<Pending> = None;
    for (line_index, line) in text.lines().enumerate() {
        let line_no = line_index + 1;
        if let Some(header) = line.strip_prefix('>') {
            if let Some(done) = current.take() {
                done.finish(options, &mut out);
            }
            let header = header.trim();
            let (id, description) = match header.split_once(char::is_whitespace) {
                Some((id, rest)) => (id.to_string(), rest.trim().to_string()),
                None => (header.to_string(), String::new()),
            };
            let id = if id.is_empty() {
                format!("record_{}", record_count + 1)
            } else {
                id
            };
            current = Some(Pending {
                record: RecordRef {
                    index: record_count,
                    id,
                },
                description,
                line: line_no,
                residues: Vec::new(),
                length: 0,
                invalid: InvalidChars::default(),
                has_header: true,
            });
            record_count += 1;
            continue;
        }
        if current.is_none() {
            if line.trim().is_empty() {
                continue;
            }
            current = Some(Pending {
                record: RecordRef {
                    index: record_count,
                    id: format!("sequence_{}", record_count + 1),
                },
                description: String::new(),
                line: line_no,
                residues: Vec::new(),
                length: 0,
                invalid: InvalidChars::default(),
                has_header: false,
            });
            record_count += 1;
        }
        let Some(pending) = current.as_mut() else {
            continue;
        };
        for (column_index, c) in line.chars().enumerate() {
            match residue(c) {
                Ok(Some(base)) => {
                    // Past the limit only the count is kept: the length error needs no more.
                    pending.length += 1;
                    if pending.length <= options.max_len {
                        pending.residues.push(base);
                    }
                }
                Ok(None) => {}
                Err(()) => {
                    pending.invalid.push(c, line_no, column_index + 1);
                }
            }
        }
    }
    if let Some(done) = current.take() {
        done.finish(options, &mut out);
    }
    if out.records.is_empty() && out.errors.is_empty() {
        // Only digits and whitespace: nothing that could be DNA.
        out.errors.push(ParseError::EmptyInput);
    }
    out.warnings = duplicate_ids(&out.records);
    out
}

/// One [`ParseWarning::DuplicateId`] per record whose id an earlier record has.
fn duplicate_ids(records: &[Sequence]) -> Vec<ParseWarning> {
    let mut first_seen: std::collections::HashMap<&str, &Sequence> =
        std::collections::HashMap::new();
    let mut warnings = Vec::new();
    for record in records {
        match first_seen.get(record.id.as_str()) {
            Some(first) => warnings.push(ParseWarning::DuplicateId {
                record: record.record_ref(),
                line: record.line,
                first: first.record_ref(),
                first_line: first.line,
            }),
            None => {
                first_seen.insert(&record.id, record);
            }
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_paste_is_one_record() {
        let out = parse_text("acgt\nACGU\n");
        assert!(out.errors.is_empty());
        assert_eq!(out.records.len(), 1);
        assert_eq!(out.records[0].id, "sequence_1");
        assert_eq!(out.records[0].residues, "ACGTACGT");
    }

    #[test]
    fn too_long_counts_all_residues() {
        let options = ParseOptions {
            max_len: 5,
            ..ParseOptions::default()
        };
        let out = parse_text_with(">a\nACGTACGTAC\n>b\nACG\n", &options);
        assert_eq!(out.records.len(), 1);
        assert_eq!(out.records[0].id, "b");
        match &out.errors[..] {
            [ParseError::TooLong { length, max, .. }] => {
                assert_eq!(*length, 10);
                assert_eq!(*max, 5);
            }
            other => panic!("unexpected errors {other:?}"),
        }
    }
}
