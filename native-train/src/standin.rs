//! STAND-INS for `texcnn::{sequence, segment, tokenizer}`, which are being written on
//! `main` at the same time as this branch. They mirror the names `embed.rs` uses and
//! nothing more; at merge, delete this file, drop `mod standin;` from `main.rs` and
//! import the real modules in `embed.rs` (one line, marked there).

pub mod sequence {
    //! Minimal FASTA reader: `>` headers (id = first word), residues upper-cased, `U` read
    //! as `T`, IUPAC ambiguity codes as `N`, whitespace and digits ignored.

    use std::fmt;

    #[derive(Debug, Clone)]
    pub struct Sequence {
        pub id: String,
        pub residues: String,
    }

    #[derive(Debug, Clone)]
    pub struct ParseError {
        pub record: String,
        pub line: usize,
        pub column: usize,
        pub found: char,
    }

    impl fmt::Display for ParseError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(
                f,
                "record {}, line {}, column {}: {:?} is not a DNA letter",
                self.record, self.line, self.column, self.found
            )
        }
    }

    #[derive(Debug, Default)]
    pub struct ParseOutcome {
        pub records: Vec<Sequence>,
        pub errors: Vec<ParseError>,
    }

    pub fn parse_text(text: &str) -> ParseOutcome {
        let mut outcome = ParseOutcome::default();
        let mut current: Option<Sequence> = None;
        for (n, line) in text.lines().enumerate() {
            if let Some(header) = line.strip_prefix('>') {
                outcome.records.extend(current.take());
                let id = header.split_whitespace().next().unwrap_or("").to_string();
                current = Some(Sequence {
                    id,
                    residues: String::new(),
                });
                continue;
            }
            let record = current.get_or_insert_with(|| Sequence {
                id: "sequence_1".to_string(),
                residues: String::new(),
            });
            for (col, c) in line.chars().enumerate() {
                match c.to_ascii_uppercase() {
                    'A' | 'C' | 'G' | 'T' => record.residues.push(c.to_ascii_uppercase()),
                    'U' => record.residues.push('T'),
                    'N' | 'R' | 'Y' | 'S' | 'W' | 'K' | 'M' | 'B' | 'D' | 'H' | 'V' => {
                        record.residues.push('N')
                    }
                    c if c.is_whitespace() || c.is_ascii_digit() => {}
                    found => outcome.errors.push(ParseError {
                        record: record.id.clone(),
                        line: n + 1,
                        column: col + 1,
                        found,
                    }),
                }
            }
        }
        outcome.records.extend(current);
        outcome.records.retain(|r| !r.residues.is_empty());
        outcome
    }
}

pub mod segment {
    //! Fixed-length segments at a fixed stride; the last one is aligned to the end.

    #[derive(Debug, thiserror::Error)]
    pub enum SegmentError {
        #[error("segment length and stride must be positive")]
        Zero,
        #[error("the sequence is empty")]
        EmptySequence,
    }

    #[derive(Debug, Clone, Copy)]
    pub struct SegmentPlan {
        pub segment_len: usize,
        pub stride: usize,
    }

    #[derive(Debug, Clone, Copy)]
    pub struct Segment {
        pub index: usize,
        pub start: usize,
        pub end: usize,
    }

    impl SegmentPlan {
        pub fn new(segment_len: usize, stride: usize) -> Result<Self, SegmentError> {
            if segment_len == 0 || stride == 0 {
                return Err(SegmentError::Zero);
            }
            Ok(Self {
                segment_len,
                stride,
            })
        }

        pub fn segments(&self, seq_len: usize) -> Result<Vec<Segment>, SegmentError> {
            if seq_len == 0 {
                return Err(SegmentError::EmptySequence);
            }
            if seq_len <= self.segment_len {
                return Ok(vec![Segment {
                    index: 0,
                    start: 0,
                    end: seq_len,
                }]);
            }
            let full = (seq_len - self.segment_len) / self.stride + 1;
            let mut segments: Vec<Segment> = (0..full)
                .map(|index| Segment {
                    index,
                    start: index * self.stride,
                    end: index * self.stride + self.segment_len,
                })
                .collect();
            if segments.last().is_some_and(|last| last.end < seq_len) {
                segments.push(Segment {
                    index: full,
                    start: seq_len - self.segment_len,
                    end: seq_len,
                });
            }
            Ok(segments)
        }
    }
}

pub mod tokenizer {
    //! DNABERT-2's BPE tokenizer from a `tokenizer.json`; ids include `[CLS]` … `[SEP]`.

    use tokenizers::Tokenizer;

    const OFFICIAL_TOKENIZER_JSON: &[u8] =
        include_bytes!("../../src/assets/dnabert2/tokenizer.json");

    #[derive(Debug, thiserror::Error)]
    pub enum TokenizerError {
        #[error("not a valid tokenizer.json: {0}")]
        InvalidJson(String),
        #[error("tokenizing failed: {0}")]
        Encode(String),
    }

    pub struct Dnabert2Tokenizer {
        inner: Tokenizer,
    }

    impl Dnabert2Tokenizer {
        pub fn official() -> Result<Self, TokenizerError> {
            Self::from_json_bytes(OFFICIAL_TOKENIZER_JSON)
        }

        pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, TokenizerError> {
            Tokenizer::from_bytes(bytes)
                .map(|inner| Self { inner })
                .map_err(|e| TokenizerError::InvalidJson(e.to_string()))
        }

        pub fn encode(&self, sequence: &str) -> Result<Vec<u32>, TokenizerError> {
            let upper = sequence.to_ascii_uppercase();
            self.inner
                .encode(upper.as_str(), true)
                .map(|encoding| encoding.get_ids().to_vec())
                .map_err(|e| TokenizerError::Encode(e.to_string()))
        }
    }
}
