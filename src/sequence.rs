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
//! - any other character is an error naming the record, line and column (1-based, counted in
//!   characters), and the record is not returned; the other records of the batch still parse;
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

/// At most this many invalid characters are reported per record; the rest are counted.
pub const MAX_REPORTED_BAD_CHARS: usize = 20;

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
}

impl Sequence {
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
    /// A character that is neither a nucleotide, an IUPAC code, whitespace nor a digit.
    #[error(
        "{record}, line {line}, column {column}: invalid character {}; expected A, C, G, T, U, N or an IUPAC code (R Y S W K M B D H V)",
        describe_char(*found)
    )]
    InvalidCharacter {
        record: RecordRef,
        line: usize,
        column: usize,
        found: char,
    },
    /// More invalid characters than [`MAX_REPORTED_BAD_CHARS`] in one record.
    #[error("{record}: {count} more invalid characters not listed")]
    MoreInvalidCharacters { record: RecordRef, count: usize },
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
            | ParseError::MoreInvalidCharacters { record, .. }
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
            ParseError::EmptyInput | ParseError::MoreInvalidCharacters { .. } => None,
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

/// The good records and the errors of one input, in input order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseOutcome {
    pub records: Vec<Sequence>,
    pub errors: Vec<ParseError>,
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
    bad_chars: usize,
    has_header: bool,
}

impl Pending {
    fn finish(self, options: &ParseOptions, out: &mut ParseOutcome) {
        if self.bad_chars > MAX_REPORTED_BAD_CHARS {
            out.errors.push(ParseError::MoreInvalidCharacters {
                record: self.record.clone(),
                count: self.bad_chars - MAX_REPORTED_BAD_CHARS,
            });
        }
        if self.bad_chars > 0 {
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
                bad_chars: 0,
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
                bad_chars: 0,
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
                    pending.bad_chars += 1;
                    if pending.bad_chars <= MAX_REPORTED_BAD_CHARS {
                        out.errors.push(ParseError::InvalidCharacter {
                            record: pending.record.clone(),
                            line: line_no,
                            column: column_index + 1,
                            found: c,
                        });
                    }
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
    out
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
