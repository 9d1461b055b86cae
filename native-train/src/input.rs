//! Reading DNA records from a file, reporting bad records on stderr.

use std::path::Path;

use texcnn::sequence::{Sequence, parse_bytes};

/// The good records of `path`, with every parse error printed on stderr (prefixed by the
/// file name), and the number of errors.
pub fn read_records(path: &Path) -> anyhow::Result<(Vec<Sequence>, usize)> {
    let bytes = crate::read_input(path)?;
    let outcome = parse_bytes(&bytes);
    for error in &outcome.errors {
        eprintln!("{}: {error}", path.display());
    }
    Ok((outcome.records, outcome.errors.len()))
}
