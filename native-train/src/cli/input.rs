//! Reading DNA records from a file, reporting bad records on stderr.

use std::path::Path;

use texcnn::sequence::{ParseWarning, Sequence, parse_bytes};

/// The records of one input file that can be read, with what was said about the others.
pub struct Input {
    /// The good records, in input order.
    pub records: Vec<Sequence>,
    /// How many records were errors (each printed on stderr).
    pub errors: usize,
    /// Warnings about good records (each printed on stderr), e.g. duplicate ids.
    pub warnings: Vec<ParseWarning>,
}

impl Input {
    /// The short notes for a result row of the record at input position `index`.
    pub fn notes_for(&self, index: usize) -> Vec<String> {
        self.warnings
            .iter()
            .filter(|w| w.record().index == index)
            .map(ParseWarning::note)
            .collect()
    }
}

/// The good records of `path`, with every parse error and warning printed on stderr (prefixed
/// by the file name).
pub fn read_records(path: &Path) -> anyhow::Result<Input> {
    let bytes = crate::read_input(path)?;
    let outcome = parse_bytes(&bytes);
    for error in &outcome.errors {
        eprintln!("{}: {error}", path.display());
    }
    for warning in &outcome.warnings {
        eprintln!("{}: warning: {warning}", path.display());
    }
    Ok(Input {
        errors: outcome.errors.len(),
        records: outcome.records,
        warnings: outcome.warnings,
    })
}
