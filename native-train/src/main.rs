//! `texcnn`: the native command-line tool.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

mod cli;
mod pretrain;

use cli::{bench, bundle, commands, embed, fit, predict, tokenize, variants};

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
    /// Time the encoder on one TExCNN gene (10,500 bp, 18 segments): latency, tokens/s,
    /// FLOPs and FLOP/s; or write the random full-size model the benchmark uses.
    Bench(Box<bench::BenchArgs>),
    /// Embed every FASTA record with a DNABERT-2 encoder (mean of the last hidden layer).
    Embed(embed::EmbedArgs),
    /// Predict expression for FASTA records with a predictor bundle (TSV out).
    Predict(predict::PredictArgs),
    /// Variant effects: the prediction of each edited record (substitutions, indels up to
    /// 50 bp) against the reference, re-embedding only the segments an edit changes.
    Variants(variants::VariantsArgs),
    /// Saturation mutagenesis: every substitution of a region, as a table and a heatmap.
    Ism(variants::IsmArgs),
    /// Train TExCNN's head on cached segment embeddings of an encoder (one run per seed on one
    /// split), write predictions for `texcnn evaluate` and the best run as a predictor bundle.
    Fit(Box<fit::FitArgs>),
    /// Pre-train a DNABERT-2-architecture encoder by masked-language modelling on FASTA.
    Pretrain(Box<pretrain::PretrainArgs>),
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
        quantize: bundle::Quantize,
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
        /// Where the TSS sits in the window, 1-based (e.g. 7001 for Xpresso's 10,500 bp
        /// window): records that give `tss=N` are then read around it. Without it the bundle
        /// reads only records of exactly the window's length.
        #[arg(long)]
        tss: Option<usize>,
    },
    /// Print a bundle's model card and sizes.
    Inspect {
        /// The bundle.
        file: PathBuf,
    },
    /// Add the outputs of a DNA-only predictor (e.g. liver, fitted with --embedding-norm-from
    /// BUNDLE) to a predictor bundle: one head computes both, exactly as each did.
    AddOutput {
        /// The predictor to extend (its outputs come first).
        #[arg(long)]
        bundle: PathBuf,
        /// The predictor whose outputs are added (same encoder, segment plan and
        /// segment-embedding normalisation; no per-gene features).
        #[arg(long)]
        from: PathBuf,
        /// The bundle to write.
        #[arg(long)]
        out: PathBuf,
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
        #[command(flatten)]
        runs: commands::RidgeRuns,
        /// k-mer length.
        #[arg(long, default_value_t = 4)]
        k: usize,
        /// Append the per-gene features (--features TABLE, or the data file's own) to the k-mer
        /// frequencies.
        #[arg(long)]
        use_features: bool,
    },
    /// Ridge regression on the per-gene features alone (--features TABLE; transformed,
    /// standardised on the training genes, missing values as inputs); alpha chosen on the
    /// validation genes. The features-only baseline beside DNA models.
    FeatureRidge {
        #[command(flatten)]
        data: commands::DataArgs,
        #[command(flatten)]
        runs: commands::RidgeRuns,
    },
    /// Xpresso-style one-hot CNN trained with MSE and Adam, early stopping on the validation
    /// genes, best epoch kept; one run per training seed on one split.
    OnehotCnn {
        #[command(flatten)]
        data: commands::DataArgs,
        #[command(flatten)]
        cnn: commands::CnnArgs,
    },
    /// DeepLncLoc (Zeng et al. 2022): Word2Vec k-mer vectors (trained on the training genes),
    /// averaged over equal subsequences, then TExCNN's text-CNN head; trained like onehot-cnn.
    Deeplncloc {
        #[command(flatten)]
        data: commands::DataArgs,
        #[command(flatten)]
        cnn: commands::CnnArgs,
        #[command(flatten)]
        dll: commands::DeepLncLocArgs,
    },
}

fn main() -> ExitCode {
    texcnn_native::train::memory::reuse_freed_memory();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Tokenize {
            fasta,
            tokenizer,
            tokens,
        } => tokenize::run(&fasta, tokenizer.as_deref(), tokens),
        Command::Embed(args) => embed::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Predict(args) => predict::run(&args),
        Command::Variants(args) => variants::run_variants(&args),
        Command::Ism(args) => variants::run_ism(&args),
        Command::Fit(args) => fit::run(&args),
        Command::Pretrain(args) => pretrain::run(*args).map(|()| ExitCode::SUCCESS),
        Command::Import {
            hf_dir,
            out,
            quantize,
            name,
            segment_len,
            stride,
            window,
            tss,
        } => {
            let plan = texcnn::segment::SegmentPlan {
                segment_len,
                stride,
                window: (window > 0).then_some(window),
                window_policy: texcnn::segment::WindowPolicy::Exact,
                tss,
            };
            bundle::import(&hf_dir, &out, quantize, name, plan)
        }
        Command::Inspect { file } => bundle::inspect(&file),
        Command::AddOutput { bundle, from, out } => bundle::add_output(&bundle, &from, &out),
        Command::Split { data, seed, out } => commands::split(&data, seed, &out),
        Command::Baseline {
            baseline:
                Baseline::KmerRidge {
                    data,
                    runs,
                    k,
                    use_features,
                },
        } => commands::kmer_ridge(&data, &runs, Some(k), use_features),
        Command::Baseline {
            baseline: Baseline::FeatureRidge { data, runs },
        } => commands::kmer_ridge(&data, &runs, None, true),
        Command::Baseline {
            baseline: Baseline::OnehotCnn { data, cnn },
        } => commands::onehot_cnn(&data, &cnn),
        Command::Baseline {
            baseline: Baseline::Deeplncloc { data, cnn, dll },
        } => commands::deeplncloc(&data, &cnn, &dll),
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
