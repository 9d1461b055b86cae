//! `texcnn embed`: segment embeddings of FASTA records, one TSV row per record (or segment).

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use burn::tensor::Device;
use indicatif::{ProgressBar, ProgressStyle};
use texcnn::encoder::load_hf_folder;

// STAND-IN: swap for `use texcnn::{segment, sequence, tokenizer};` once main's modules merge.
use crate::standin::{segment, sequence, tokenizer};

/// Where the encoder runs.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// burn's Flex CPU backend.
    Cpu,
    /// burn's wgpu backend (GPU, or a software Vulkan adapter).
    Wgpu,
}

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
    /// Backend to run the encoder on.
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    pub device: Backend,
}

/// One row of the output: its label columns and its token ids.
struct Job {
    label: String,
    tokens: Vec<u32>,
}

pub fn run(args: &EmbedArgs) -> anyhow::Result<()> {
    let device = match args.device {
        Backend::Cpu => Device::flex(),
        Backend::Wgpu => Device::wgpu_options()
            .init()
            .map_err(|err| anyhow::anyhow!("no wgpu device: {err}"))?,
    };
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

    let text = std::fs::read_to_string(&args.fasta)
        .with_context(|| format!("reading {}", args.fasta.display()))?;
    let parsed = sequence::parse_text(&text);
    if !parsed.errors.is_empty() {
        let listed: Vec<String> = parsed.errors.iter().map(ToString::to_string).collect();
        bail!("{}: {}", args.fasta.display(), listed.join("; "));
    }
    if parsed.records.is_empty() {
        bail!("{}: no sequence records", args.fasta.display());
    }

    let plan = match (args.segment_len, args.stride) {
        (Some(len), Some(stride)) => Some(segment::SegmentPlan::new(len, stride)?),
        _ => None,
    };
    let mut jobs = Vec::new();
    for record in &parsed.records {
        let tokenize = |residues: &str| {
            tokenizer
                .encode(residues)
                .with_context(|| format!("tokenizing {}", record.id))
        };
        match &plan {
            None => jobs.push(Job {
                label: record.id.clone(),
                tokens: tokenize(&record.residues)?,
            }),
            Some(plan) => {
                let segments = plan
                    .segments(record.residues.len())
                    .with_context(|| format!("segmenting {}", record.id))?;
                for segment in segments {
                    jobs.push(Job {
                        label: format!("{}\t{}", record.id, segment.index),
                        tokens: tokenize(&record.residues[segment.start..segment.end])?,
                    });
                }
            }
        }
    }

    let file = std::fs::File::create(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut out = BufWriter::new(file);
    let progress = ProgressBar::new(jobs.len() as u64);
    progress.set_style(
        ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} segments, {elapsed} (eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    progress.set_message("embedding");
    let batch_size = args.batch_size as usize;
    for chunk in jobs.chunks(batch_size) {
        let tokens: Vec<Vec<u32>> = chunk.iter().map(|job| job.tokens.clone()).collect();
        let rows = loaded.encoder.embed_segments_to_vec(&tokens)?;
        for (job, row) in chunk.iter().zip(rows) {
            write!(out, "{}", job.label)?;
            for value in row {
                // `{}` prints the shortest text that reads back to the same f32.
                write!(out, "\t{value}")?;
            }
            writeln!(out)?;
        }
        progress.inc(chunk.len() as u64);
    }
    progress.finish_and_clear();
    out.flush()
        .with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!(
        "embedded {} segment(s) of {} record(s) into {}",
        jobs.len(),
        parsed.records.len(),
        args.out.display()
    );
    Ok(())
}
