//! `texcnn`: the native command-line tool.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

mod commands;
mod input;
mod tokenize;

#[derive(Parser, Debug)]
#[command(
    name = "texcnn",
    version,
    about = "TExCNN: gene expression from promoter DNA"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the DNABERT-2 token ids of every FASTA record (id, then ids, tab-separated).
    Tokenize {
        /// FASTA or raw DNA text ("-" for standard input).
        #[arg(long)]
        fasta: PathBuf,
        /// A Hugging Face tokenizer.json to use instead of the bundled DNABERT-2 one.
        #[arg(long)]
        tokenizer: Option<PathBuf>,
        /// Print the token texts instead of the ids.
        #[arg(long)]
        tokens: bool,
    },
    /// Remove duplicate sequences and split the genes 80/10/10 at random with a recorded seed;
    /// write the split file that every later run reuses.
    Split {
        #[command(flatten)]
        data: commands::DataArgs,
        /// Seed of the split.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Split file to write (JSON).
        #[arg(long)]
        out: PathBuf,
    },
    /// Baselines that need no encoder.
    Baseline {
        #[command(subcommand)]
        baseline: Baseline,
    },
    /// R² (squared Pearson) and Pearson r of prediction files on one part of their split,
    /// min/mean/max over the files (runs), and a scatter plot as SVG.
    Evaluate {
        /// Prediction files (one per run).
        #[arg(long, num_args = 1.., required = true)]
        predictions: Vec<PathBuf>,
        /// The part to score: test, valid or train.
        #[arg(long, default_value = "test")]
        part: String,
        /// Write a prediction-versus-label scatter plot of the first run here (SVG).
        #[arg(long)]
        scatter: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum Baseline {
    /// Ridge regression on k-mer frequencies; alpha chosen on the validation genes.
    KmerRidge {
        #[command(flatten)]
        data: commands::DataArgs,
        /// Use this split file (else one split per seed of --seeds, written to --out-dir).
        #[arg(long)]
        split: Option<PathBuf>,
        /// Split seeds, e.g. 0-9 or 0,3,7 (ignored with --split).
        #[arg(long, default_value = "0", value_parser = commands::parse_seeds)]
        seeds: std::vec::Vec<u64>,
        /// k-mer length.
        #[arg(long, default_value_t = 4)]
        k: usize,
        /// Append the data set's feature columns to the k-mer frequencies.
        #[arg(long)]
        use_features: bool,
        /// Folder for split files and predictions_seedN.tsv.
        #[arg(long)]
        out_dir: PathBuf,
    },
    /// Xpresso-style one-hot CNN trained with MSE and Adam, early stopping on the validation
    /// genes, best epoch kept; one run per training seed on one split.
    OnehotCnn {
        #[command(flatten)]
        data: commands::DataArgs,
        #[command(flatten)]
        cnn: commands::CnnArgs,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Tokenize {
            fasta,
            tokenizer,
            tokens,
        } => tokenize::run(&fasta, tokenizer.as_deref(), tokens),
        Command::Split { data, seed, out } => commands::split(&data, seed, &out),
        Command::Baseline {
            baseline:
                Baseline::KmerRidge {
                    data,
                    split,
                    seeds,
                    k,
                    use_features,
                    out_dir,
                },
        } => commands::kmer_ridge(&data, split.as_deref(), &seeds, k, use_features, &out_dir),
        Command::Baseline {
            baseline: Baseline::OnehotCnn { data, cnn },
        } => commands::onehot_cnn(&data, &cnn),
        Command::Evaluate {
            predictions,
            part,
            scatter,
        } => commands::evaluate(&predictions, &part, scatter.as_deref()),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Reads a whole file, or standard input for "-".
pub fn read_input(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
        Ok(bytes)
    } else {
        std::fs::read(path).with_context(|| format!("reading {}", path.display()))
    }
}
