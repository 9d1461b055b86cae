//! `texcnn embed`: segment embeddings of FASTA records, one TSV row per record (or segment).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use texcnn::pipeline::SegmentEmbedder;
use texcnn_native::files::hf_folder::load_hf_folder;
use texcnn_native::files::output::AtomicFile;

use crate::cli::device::DeviceChoice;

use texcnn::{segment, tokenizer};

#[derive(clap::Args, Debug)]
pub struct EmbedArgs {
    /// Hugging Face model folder: config.json, model.safetensors or pytorch_model.bin, and
    /// tokenizer.json (without one, the bundled official DNABERT-2 tokenizer is used).
    #[arg(long)]
    pub model: PathBuf,
    /// FASTA file (or raw DNA); each record is embedded as one segment.
    #[arg(long)]
    pub fasta: PathBuf,
    /// Output TSV, no header: record id (then segment index when segmenting), then the
    /// pooled values.
    #[arg(long)]
    pub out: PathBuf,
    /// Cut each record into segments of this many bp (needs --stride).
    #[arg(long, requires = "stride")]
    pub segment_len: Option<usize>,
    /// Distance between segment starts, in bp (needs --segment-len).
    #[arg(long, requires = "segment_len")]
    pub stride: Option<usize>,
    /// Segments per forward pass.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_size: u32,
    /// Where the encoder runs.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Cpu)]
    pub device: DeviceChoice,
}

pub fn run(args: &EmbedArgs) -> anyhow::Result<ExitCode> {
    let device = args.device.device()?;
    let loaded = load_hf_folder(&args.model, &device)
        .with_context(|| format!("loading the model folder {}", args.model.display()))?;
    let tokenizer = match &loaded.tokenizer_json {
        Some(bytes) => tokenizer::Dnabert2Tokenizer::from_json_bytes(bytes)
            .with_context(|| format!("{}/tokenizer.json", args.model.display()))?,
        None => {
            eprintln!(
                "note: {} has no tokenizer.json; using the bundled official DNABERT-2 tokenizer",
                args.model.display()
            );
            tokenizer::Dnabert2Tokenizer::official()?
        }
    };

    // Bad records are reported on stderr and skipped; the others are embedded.
    let crate::cli::input::Input {
        records,
        errors: bad_records,
        ..
    } = crate::cli::input::read_records(&args.fasta)?;
    if records.is_empty() {
        bail!("{}: no valid sequence records", args.fasta.display());
    }

    // Without --segment-len a record is one segment: a plan whose segments are longer than
    // any record, and no window.
    let plan = match (args.segment_len, args.stride) {
        (Some(len), Some(stride)) => segment::SegmentPlan::new(len, stride)?,
        _ => segment::SegmentPlan::new(usize::MAX, usize::MAX)?,
    };
    let segmented = args.segment_len.is_some();
    let embedder = SegmentEmbedder {
        plan,
        tokenizer,
        encoder: loaded.encoder,
    };
    let mut labels = Vec::new();
    let mut token_ids = Vec::new();
    for record in &records {
        let prepared = embedder
            .prepare(&record.residues, record.tss)
            .with_context(|| format!("segmenting and tokenizing {}", record.id))?;
        for s in prepared.segments {
            labels.push(if segmented {
                format!("{}\t{}", record.id, s.segment.index)
            } else {
                record.id.clone()
            });
            token_ids.push(s.token_ids);
        }
    }

    let mut out = AtomicFile::create(&args.out)?;
    let progress = ProgressBar::new(token_ids.len() as u64);
    progress.set_style(
        ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} segments, {elapsed} (eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    progress.set_message("embedding");
    let mut labels = labels.iter();
    for embedded in embedder.batches(&token_ids, args.batch_size as usize) {
        let rows = embedder.read_back(embedded?)?;
        progress.inc(rows.len() as u64);
        for (row, label) in rows.into_iter().zip(labels.by_ref()) {
            write!(out, "{label}")?;
            for value in row {
                // `{}` prints the shortest text that reads back to the same f32.
                write!(out, "\t{value}")?;
            }
            writeln!(out)?;
        }
    }
    progress.finish_and_clear();
    out.commit()?;
    eprintln!(
        "embedded {} segment(s) of {} record(s) into {}",
        token_ids.len(),
        records.len(),
        args.out.display()
    );
    Ok(if bad_records == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
