//! `texcnn tokenize`: DNABERT-2 token ids per record.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use texcnn::tokenizer::Dnabert2Tokenizer;

pub fn run(fasta: &Path, tokenizer: Option<&Path>, tokens: bool) -> anyhow::Result<ExitCode> {
    let tokenizer = match tokenizer {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            Dnabert2Tokenizer::from_json_bytes(&bytes)
                .with_context(|| format!("loading {}", path.display()))?
        }
        None => Dnabert2Tokenizer::official()?,
    };
    let crate::cli::input::Input {
        records,
        mut errors,
        ..
    } = crate::cli::input::read_records(fasta)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for record in &records {
        match tokenizer.encode_tokens(&record.residues) {
            Ok(encoded) => {
                write!(out, "{}", record.id)?;
                for token in encoded {
                    if tokens {
                        write!(out, "\t{}", token.text)?;
                    } else {
                        write!(out, "\t{}", token.id)?;
                    }
                }
                writeln!(out)?;
            }
            Err(err) => {
                errors += 1;
                eprintln!("{}: record \"{}\": {err}", fasta.display(), record.id);
            }
        }
    }
    out.flush()?;
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
