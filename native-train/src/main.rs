//! `texcnn`: the native command-line tool.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

mod bundle_cmd;
mod embed;
mod input;
mod standin;
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
    /// Turn a Hugging Face DNABERT-2 folder into an encoder-only texcnn bundle.
    Import {
        /// Folder with config.json and model.safetensors or pytorch_model.bin
        /// (tokenizer.json optional: the official DNABERT-2 one is used otherwise).
        #[arg(long)]
        hf_dir: PathBuf,
        /// The bundle to write.
        #[arg(long)]
        out: PathBuf,
        /// Storage of the encoder weights.
        #[arg(long, value_enum, default_value = "int8")]
        quantize: bundle_cmd::Quantize,
        /// Name on the model card (default: the folder's name).
        #[arg(long)]
        name: Option<String>,
        /// Segment length in bp of the bundle's segment plan.
        #[arg(long, default_value_t = 2000)]
        segment_len: usize,
        /// Stride in bp between segment starts.
        #[arg(long, default_value_t = 500)]
        stride: usize,
        /// Required input length in bp (0: any length).
        #[arg(long, default_value_t = 10_500)]
        window: usize,
    },
    /// Print a bundle's model card and sizes.
    Inspect {
        /// The bundle.
        file: PathBuf,
    },
    /// Embed every FASTA record with a DNABERT-2 encoder (mean of the last hidden layer).
    Embed(embed::EmbedArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Tokenize {
            fasta,
            tokenizer,
            tokens,
        } => tokenize::run(&fasta, tokenizer.as_deref(), tokens),
        Command::Import {
            hf_dir,
            out,
            quantize,
            name,
            segment_len,
            stride,
            window,
        } => {
            let plan = texcnn::segment::SegmentPlan {
                segment_len,
                stride,
                window: (window > 0).then_some(window),
                window_policy: texcnn::segment::WindowPolicy::Exact,
            };
            bundle_cmd::import(&hf_dir, &out, quantize, name, plan)
        }
        Command::Inspect { file } => bundle_cmd::inspect(&file),
        Command::Embed(args) => embed::run(&args).map(|()| ExitCode::SUCCESS),
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
