//! `texcnn bench`: encoder throughput and per-gene latency on one TExCNN gene (10,500 bp,
//! 18 segments of 2,000 bp at stride 500), with the matmul FLOPs the encoder performs and the
//! FLOP/s it achieves; and `--make-random-117m`, the full-size DNABERT-2-117M architecture
//! with random weights in the official layout, for this benchmark and the Python reference
//! (`native-train/bench/`). `--web-bundle` wraps the benchmarked encoder in a predictor bundle
//! with an untrained head, so the page can time it (`native-train/bench/web/browser.mjs`).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use burn::tensor::{Device, Tensor, TensorData};
use texcnn::bundle::{
    Bundle, Compute, Encoding, LabelSpec, ModelCard, OutputSpec, Precision, cosine,
};
use texcnn::encoder::int8::{Activations, Kernel};
use texcnn::encoder::{Dnabert2Config, Dnabert2Encoder};
use texcnn::head::TextCnnHeadConfig;
use texcnn::pipeline::{PreparedSegment, SegmentEmbedder, prepare_segments};
use texcnn::rng::SplitMix64;
use texcnn::segment::SegmentPlan;
use texcnn::tokenizer::Dnabert2Tokenizer;
use texcnn_native::data::h5::{H5Options, load_h5};
use texcnn_native::files::hf_folder::{CONFIG_FILE, SAFETENSORS_FILE, load_hf_folder};
use texcnn_native::files::import::import_hf_folder;
use texcnn_native::files::output::{AtomicFile, write_atomic};
use texcnn_native::train::untrained::attach_random_head;

/// Weight precision of the benchmarked encoder.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BenchPrecision {
    /// The folder's weights as they are.
    F32,
    /// The folder imported as an int8 bundle in memory, computed in int8 (the bundle's int8
    /// weights, activations quantized per row, integer sums: `texcnn::encoder::int8`).
    Int8,
    /// As `int8`, with 8-bit activations too (`--compute int8-a8`), as ONNX Runtime's
    /// dynamic quantization.
    #[value(name = "int8-a8")]
    Int8A8,
    /// As `int8`, with 7-bit activations (`--compute int8-a7`), what the page computes
    /// with WebAssembly relaxed SIMD.
    #[value(name = "int8-a7")]
    Int8A7,
    /// The same int8 bundle dequantized to f32 on load and computed in f32.
    Int8Dequantized,
}

/// Which CPU path computes the encoder.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BenchKernels {
    /// texcnn's packed CPU path, what every command uses: the segments' real tokens as the
    /// rows of one matrix (no padding computed), int8 or f32 matmuls over all of them, fused
    /// softmax and GELU (`texcnn::encoder::host`).
    Fused,
    /// burn's padded tensor path with its generic ops, one pass per step (what the GPU path
    /// runs; always f32).
    Generic,
}

/// Table format on standard output.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableFormat {
    Markdown,
    Tsv,
}

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Hugging Face model folder (config.json + model.safetensors or pytorch_model.bin).
    #[arg(long, conflicts_with = "bundle")]
    pub model: Option<PathBuf>,
    /// A texcnn bundle (benchmarked at the precision it stores; an int8 bundle both computed
    /// in int8 and dequantized to f32).
    #[arg(long)]
    pub bundle: Option<PathBuf>,
    /// Write the DNABERT-2-117M architecture with random N(0, 0.02) weights in the official
    /// layout (config.json + model.safetensors, 466 MB) into this folder, then exit.
    #[arg(long, conflicts_with_all = ["model", "bundle"])]
    pub make_random_117m: Option<PathBuf>,
    /// Seed of the random weights of --make-random-117m.
    #[arg(long, default_value_t = 117)]
    pub seed: u64,
    /// Precisions to run with --model.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "f32,int8")]
    pub precision: Vec<BenchPrecision>,
    /// Segments per forward pass.
    #[arg(long, value_delimiter = ',', default_value = "1,8")]
    pub batch: Vec<usize>,
    /// CPU path (packed with fused kernels, or burn's padded tensor path); several
    /// (fused,generic) time both, one after the other, in this process.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "fused")]
    pub kernels: Vec<BenchKernels>,
    /// Untimed warm-up runs per configuration.
    #[arg(long, default_value_t = 1)]
    pub warmup: u32,
    /// Timed runs per configuration (after the warm-up).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeats: u32,
    /// Take the gene from this Xpresso/TExCNN h5 file (its 10,500 bp window).
    #[arg(long, conflicts_with = "fasta")]
    pub h5: Option<PathBuf>,
    /// Record of --h5 to use (0-based).
    #[arg(long, default_value_t = 0)]
    pub record: usize,
    /// Take the gene from the first record of this FASTA file (any length; cut into 2,000 bp
    /// segments at stride 500 like TExCNN's 10,500 bp genes).
    #[arg(long)]
    pub fasta: Option<PathBuf>,
    /// Write the gene's segments (segments.fa) and their token ids (tokens.json) here, for
    /// `texcnn embed` and the Python reference.
    #[arg(long)]
    pub write_gene: Option<PathBuf>,
    /// Write each precision's segment embeddings (embeddings_<precision>.tsv) here.
    #[arg(long)]
    pub write_embeddings: Option<PathBuf>,
    /// Table format on standard output.
    #[arg(long, value_enum, default_value_t = TableFormat::Markdown)]
    pub format: TableFormat,
    /// Cut and tokenize the gene (--write-gene) and print its token and FLOP counts, without
    /// timing anything.
    #[arg(long)]
    pub prepare_only: bool,
    /// Write the model (--model, int8 unless --precision f32; or --bundle as stored) as a
    /// predictor bundle for the page, with an UNTRAINED random text-CNN head (kernels 1, 3,
    /// 5; 64 filters; dense 64: `texcnn fit`'s shape) and TExCNN's segments without a fixed
    /// window (2,000 bp, stride 500: a 10,500 bp input gives the 18 segments), then exit.
    #[arg(long, conflicts_with_all = ["prepare_only", "write_gene", "write_embeddings"])]
    pub web_bundle: Option<PathBuf>,
}

/// TExCNN's segments (2,000 bp, stride 500) without its fixed 10,500 bp window, so that a
/// FASTA input of any length can be timed; a 10,500 bp gene gives exactly TExCNN's 18.
fn bench_plan() -> anyhow::Result<SegmentPlan> {
    let xpresso = SegmentPlan::texcnn_xpresso();
    Ok(SegmentPlan::new(xpresso.segment_len, xpresso.stride)?)
}

/// Matmul FLOPs (one multiply-add = 2 FLOPs) of one forward pass, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Flops {
    /// `Wqkv`: tokens × hidden → 3·hidden.
    pub qkv: f64,
    /// `q·kᵀ` over all heads: tokens² × hidden.
    pub scores: f64,
    /// `softmax · v` over all heads: tokens² × hidden.
    pub weighted_sum: f64,
    /// `attention.output.dense`: hidden → hidden.
    pub out_proj: f64,
    /// `mlp.gated_layers`: hidden → 2·intermediate.
    pub mlp_gated: f64,
    /// `mlp.wo`: intermediate → hidden.
    pub mlp_wo: f64,
}

impl Flops {
    /// All layers of `config` on one segment of `tokens` tokens.
    pub fn segment(config: &Dnabert2Config, tokens: usize) -> Self {
        let (n, h, i) = (
            tokens as f64,
            config.hidden_size as f64,
            config.intermediate_size as f64,
        );
        let layers = config.num_hidden_layers as f64;
        Self {
            qkv: layers * 2.0 * n * h * 3.0 * h,
            scores: layers * 2.0 * n * n * h,
            weighted_sum: layers * 2.0 * n * n * h,
            out_proj: layers * 2.0 * n * h * h,
            mlp_gated: layers * 2.0 * n * h * 2.0 * i,
            mlp_wo: layers * 2.0 * n * i * h,
        }
    }

    /// Sum over segments of the given token counts.
    pub fn segments(config: &Dnabert2Config, token_counts: &[usize]) -> Self {
        token_counts
            .iter()
            .map(|&n| Self::segment(config, n))
            .fold(Self::default(), |a, b| a.add(&b))
    }

    fn add(&self, o: &Self) -> Self {
        Self {
            qkv: self.qkv + o.qkv,
            scores: self.scores + o.scores,
            weighted_sum: self.weighted_sum + o.weighted_sum,
            out_proj: self.out_proj + o.out_proj,
            mlp_gated: self.mlp_gated + o.mlp_gated,
            mlp_wo: self.mlp_wo + o.mlp_wo,
        }
    }

    pub fn total(&self) -> f64 {
        self.qkv + self.scores + self.weighted_sum + self.out_proj + self.mlp_gated + self.mlp_wo
    }

    fn parts(&self) -> [(&'static str, f64); 6] {
        [
            ("QKV projection", self.qkv),
            ("attention scores q·kᵀ", self.scores),
            ("attention weighted sum", self.weighted_sum),
            ("attention output projection", self.out_proj),
            ("MLP gated_layers", self.mlp_gated),
            ("MLP wo", self.mlp_wo),
        ]
    }
}

/// Median, min and max of some durations, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// `None` for no samples. The median of an even count is the mean of the middle two.
    pub fn of(samples: &[f64]) -> Option<Self> {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = match n {
            0 => return None,
            _ if n % 2 == 1 => sorted[n / 2],
            _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        };
        Some(Self {
            median,
            min: sorted[0],
            max: sorted[n - 1],
        })
    }
}

/// The gene that is benchmarked: its residues and where they came from.
struct Gene {
    id: String,
    residues: String,
    source: String,
}

fn load_gene(args: &BenchArgs) -> anyhow::Result<Gene> {
    let window = SegmentPlan::texcnn_xpresso().window.unwrap_or(10_500);
    if let Some(path) = &args.h5 {
        let dataset = load_h5(path, &H5Options::default())
            .with_context(|| format!("reading {}", path.display()))?;
        let n = dataset.examples.len();
        let example = dataset
            .examples
            .into_iter()
            .nth(args.record)
            .with_context(|| {
                format!(
                    "{}: no record {} (the file has {n})",
                    path.display(),
                    args.record
                )
            })?;
        return Ok(Gene {
            source: format!("{} record {} ({})", path.display(), args.record, example.id),
            id: example.id,
            residues: example.sequence,
        });
    }
    if let Some(path) = &args.fasta {
        let record = crate::cli::input::read_records(path)?
            .records
            .into_iter()
            .next()
            .with_context(|| format!("{}: no valid sequence record", path.display()))?;
        return Ok(Gene {
            source: format!("{} record {}", path.display(), record.id),
            id: record.id,
            residues: record.residues,
        });
    }
    let mut rng = SplitMix64::new(args.seed);
    let residues = (0..window)
        .map(|_| b"ACGT"[rng.below(4) as usize] as char)
        .collect();
    Ok(Gene {
        id: "random".into(),
        residues,
        source: format!(
            "deterministic random ACGT sequence (SplitMix64 seed {})",
            args.seed
        ),
    })
}

/// One encoder to time.
struct Candidate {
    label: String,
    encoder: Dnabert2Encoder,
    load_seconds: f64,
}

/// A candidate's encoder in the pipeline every command uses, with the bench's plan and
/// tokenizer.
struct Timed {
    label: String,
    embedder: SegmentEmbedder,
    load_seconds: f64,
}

fn bundle_precision(bundle: &Bundle) -> &'static str {
    let encodings = bundle.encoder.tensors.iter().map(|t| t.encoding);
    let mut label = "f32";
    for encoding in encodings {
        match encoding {
            Encoding::Int8 { .. } => return "int8",
            Encoding::F16 => label = "f16",
            Encoding::F32 => {}
        }
    }
    label
}

pub fn run(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    if let Some(dir) = &args.make_random_117m {
        make_random_117m(dir, args.seed)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.batch.contains(&0) {
        bail!("--batch: a batch size must be at least 1");
    }
    if let Some(out) = &args.web_bundle {
        write_web_bundle(args, out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let device = Device::flex();
    let gene = load_gene(args)?;
    let plan = bench_plan()?;

    // The model, and the tokenizer that travels with it.
    let (config, tokenizer_json, candidates) = load_candidates(args, &device)?;
    let tokenizer = match &tokenizer_json {
        Some(bytes) => Dnabert2Tokenizer::from_json_bytes(bytes)?,
        None => Dnabert2Tokenizer::official()?,
    };
    // Window, segments and tokens exactly as the predictor prepares them.
    let start = Instant::now();
    let prepared = prepare_segments(&plan, &tokenizer, &gene.residues, None)
        .with_context(|| format!("cutting {} into TExCNN's segments", gene.source))?;
    let tokenize_seconds = start.elapsed().as_secs_f64();
    eprintln!(
        "gene: {}, {} bp, {} segments of {} bp at stride {}",
        gene.source,
        prepared.fitted_len,
        prepared.segments.len(),
        plan.segment_len,
        plan.stride
    );
    let token_ids = prepared.token_ids();
    let counts: Vec<usize> = token_ids.iter().map(Vec::len).collect();
    let tokens: usize = counts.iter().sum();
    if let Some(dir) = &args.write_gene {
        write_gene(dir, &gene, &plan, &prepared.segments)?;
    }
    let candidates: Vec<Timed> = candidates
        .into_iter()
        .map(|c| Timed {
            label: c.label,
            load_seconds: c.load_seconds,
            embedder: SegmentEmbedder {
                plan,
                tokenizer: tokenizer.clone(),
                encoder: c.encoder,
            },
        })
        .collect();

    let flops = Flops::segments(&config, &counts);
    let mut report = String::new();
    let _ = writeln!(
        report,
        "model: hidden {}, {} layers, {} heads, intermediate {}; gene: {} segments, {} tokens \
         ({}–{} per segment); tokenizing took {:.1} ms",
        config.hidden_size,
        config.num_hidden_layers,
        config.num_attention_heads,
        config.intermediate_size,
        counts.len(),
        tokens,
        counts.iter().min().unwrap_or(&0),
        counts.iter().max().unwrap_or(&0),
        tokenize_seconds * 1e3
    );
    let _ = writeln!(
        report,
        "matmul FLOPs per gene (unpadded tokens): {:.1} GFLOP",
        flops.total() / 1e9
    );
    for (name, value) in flops.parts() {
        let _ = writeln!(
            report,
            "  {name:<28} {:>8.1} GFLOP ({:.1}%)",
            value / 1e9,
            100.0 * value / flops.total()
        );
    }

    if args.prepare_only {
        print!("{report}");
        return Ok(ExitCode::SUCCESS);
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let matmul = matmul_gflops(&device, counts.iter().copied().max().unwrap_or(1), &config);
    let _ = writeln!(
        report,
        "burn Flex matmul [{}×{}]·[{}×{}]: {:.1} GFLOP/s ({threads} CPU(s) visible)",
        matmul.0[0], matmul.0[1], matmul.0[1], matmul.0[2], matmul.1
    );

    let mut rows = Vec::new();
    let mut embeddings: Vec<(String, Vec<Vec<f32>>)> = Vec::new();
    for candidate in &candidates {
        for (&kernels, &batch) in args
            .kernels
            .iter()
            .flat_map(|k| args.batch.iter().map(move |b| (k, b)))
        {
            texcnn::encoder::host::set_fused_kernels(kernels == BenchKernels::Fused);
            let label = match kernels {
                BenchKernels::Fused => candidate.label.clone(),
                BenchKernels::Generic => format!("{} [generic kernels]", candidate.label),
            };
            let padded: usize = token_ids
                .chunks(batch)
                .map(|chunk| chunk.len() * chunk.iter().map(Vec::len).max().unwrap_or(0))
                .sum();
            eprintln!(
                "{label} batch {batch}: {} warm-up run(s), then {} timed",
                args.warmup, args.repeats
            );
            let mut warm = None;
            for _ in 0..args.warmup {
                warm = Some(embed_gene(&candidate.embedder, &token_ids, batch)?.0);
            }
            let mut samples = Vec::new();
            for run in 0..args.repeats {
                let (took, vectors) = embed_gene(&candidate.embedder, &token_ids, batch)?;
                eprintln!("  run {}: {:.3} s", run + 1, took.as_secs_f64());
                samples.push(took.as_secs_f64());
                if kernels == BenchKernels::Fused
                    && !embeddings.iter().any(|(l, _)| *l == candidate.label)
                {
                    embeddings.push((candidate.label.clone(), vectors));
                }
            }
            let spread = Spread::of(&samples).context("no timed runs")?;
            rows.push(Row {
                label,
                batch,
                segments: counts.len(),
                tokens,
                padded,
                load: candidate.load_seconds,
                warm: warm.map(|w| w.as_secs_f64()),
                spread,
                gflop: flops.total() / 1e9,
            });
        }
    }

    texcnn::encoder::host::set_fused_kernels(true);
    // The f32 reference: the folder's f32 weights, or else a bundle dequantized to f32.
    let is_reference = |l: &str| l.starts_with("f32") || l.contains("dequantized to f32");
    let reference = embeddings
        .iter()
        .find(|(l, _)| l.starts_with("f32"))
        .or_else(|| embeddings.iter().find(|(l, _)| is_reference(l)));
    if let Some((reference_label, reference)) = reference {
        for (label, vectors) in embeddings.iter().filter(|(l, _)| l != reference_label) {
            let cosines: Vec<f64> = vectors
                .iter()
                .zip(reference)
                .map(|(a, b)| cosine(a, b))
                .collect();
            let spread = Spread::of(&cosines).context("no segments")?;
            let _ = writeln!(
                report,
                "{label} vs {reference_label} segment-embedding cosine: min {:.7}, median {:.7}",
                spread.min, spread.median
            );
        }
    }
    if let Some(dir) = &args.write_embeddings {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for (label, vectors) in &embeddings {
            let name = label.split_whitespace().next().unwrap_or("model");
            let compute = if label.contains("int8 compute") {
                "_int8compute"
            } else {
                ""
            };
            let path = dir.join(format!("embeddings_{name}{compute}.tsv"));
            write_embeddings(&path, &gene.id, &vectors[..])?;
        }
    }

    print!("{report}");
    print!("{}", render_table(&rows, args.format));
    Ok(ExitCode::SUCCESS)
}

fn load_candidates(
    args: &BenchArgs,
    device: &Device,
) -> anyhow::Result<(Dnabert2Config, Option<Vec<u8>>, Vec<Candidate>)> {
    if let Some(path) = &args.bundle {
        let start = Instant::now();
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let bundle =
            Bundle::from_bytes(&bytes).with_context(|| format!("loading {}", path.display()))?;
        let read_seconds = start.elapsed().as_secs_f64();
        let stored = bundle_precision(&bundle);
        let computes: &[Compute] = if stored == "int8" {
            &[Compute::F32, Compute::Int8]
        } else {
            &[Compute::F32]
        };
        let mut candidates = Vec::new();
        for &compute in computes {
            let start = Instant::now();
            let encoder = bundle
                .load_encoder_with(device, compute)
                .with_context(|| format!("building the encoder of {}", path.display()))?;
            candidates.push(Candidate {
                label: format!("{stored} (bundle, {})", compute_label(compute, &encoder)),
                encoder,
                load_seconds: read_seconds + start.elapsed().as_secs_f64(),
            });
        }
        return Ok((
            bundle.encoder.config.clone(),
            Some(bundle.tokenizer_json.clone()),
            candidates,
        ));
    }
    let Some(dir) = &args.model else {
        bail!("give the model: --model DIR (Hugging Face folder) or --bundle FILE");
    };
    let mut config = None;
    let mut tokenizer_json = None;
    let mut candidates = Vec::new();
    for &precision in &args.precision {
        eprintln!("loading {} as {precision:?}", dir.display());
        let candidate = match precision {
            BenchPrecision::F32 => {
                let start = Instant::now();
                let loaded = load_hf_folder(dir, device)
                    .with_context(|| format!("loading the model folder {}", dir.display()))?;
                let load_seconds = start.elapsed().as_secs_f64();
                config = Some(loaded.config);
                tokenizer_json = loaded.tokenizer_json;
                Candidate {
                    label: "f32".into(),
                    encoder: loaded.encoder,
                    load_seconds,
                }
            }
            BenchPrecision::Int8
            | BenchPrecision::Int8A8
            | BenchPrecision::Int8A7
            | BenchPrecision::Int8Dequantized => {
                let bundle = import_hf_folder(
                    dir,
                    ModelCard::imported_encoder("bench", &dir.display().to_string()),
                    SegmentPlan::texcnn_xpresso(),
                    &Precision::Int8.plan(),
                )
                .with_context(|| format!("importing {} as int8", dir.display()))?;
                // What a user pays: reading the int8 bundle back and building its encoder.
                let bytes = bundle.to_bytes()?;
                drop(bundle);
                let start = Instant::now();
                let bundle = Bundle::from_bytes(&bytes)?;
                let compute = match precision {
                    BenchPrecision::Int8 => Compute::Int8,
                    BenchPrecision::Int8A8 => Compute::Int8Act8,
                    BenchPrecision::Int8A7 => Compute::Int8Act7,
                    _ => Compute::F32,
                };
                let encoder = bundle.load_encoder_with(device, compute)?;
                let load_seconds = start.elapsed().as_secs_f64();
                config = Some(bundle.encoder.config.clone());
                tokenizer_json = Some(bundle.tokenizer_json.clone());
                Candidate {
                    label: format!("int8 ({})", compute_label(compute, &encoder)),
                    encoder,
                    load_seconds,
                }
            }
        };
        candidates.push(candidate);
    }
    let config = config.context("--precision: give at least one precision")?;
    Ok((config, tokenizer_json, candidates))
}

/// How a candidate computes: `int8 compute, avx2 kernels` or `dequantized to f32`.
fn compute_label(compute: Compute, encoder: &texcnn::encoder::Dnabert2Encoder) -> String {
    if let Some(activations) = encoder.int8_activations() {
        let what = match activations {
            Activations::Wide => "int8 compute",
            Activations::Int8 => "int8 compute, 8-bit activations",
            Activations::Int7 => "int8 compute, 7-bit activations",
        };
        let kernel = Kernel::best();
        let form = if kernel.has_quads(activations) {
            " (u8 quads)"
        } else {
            ""
        };
        format!("{what}, {}{form} kernels", kernel.name())
    } else if compute != Compute::F32 {
        "f32: int8 compute applies to the CPU device only".into()
    } else {
        "dequantized to f32".into()
    }
}

/// Embeds every segment, `batch` segments per forward pass, and reads the vectors back.
fn embed_gene(
    embedder: &SegmentEmbedder,
    token_ids: &[Vec<u32>],
    batch: usize,
) -> anyhow::Result<(Duration, Vec<Vec<f32>>)> {
    let start = Instant::now();
    let vectors = embedder.embed_tokens(token_ids, batch, |_| {})?;
    Ok((start.elapsed(), vectors))
}

/// The shape `[m, k, n]` of the model's largest matmul (`mlp.gated_layers` on the longest
/// segment) and the GFLOP/s burn Flex reaches on it (best of a few runs).
fn matmul_gflops(device: &Device, tokens: usize, config: &Dnabert2Config) -> ([usize; 3], f64) {
    let (m, k, n) = (tokens, config.hidden_size, 2 * config.intermediate_size);
    let mut rng = SplitMix64::new(1);
    let mut random = |len: usize| -> Vec<f32> {
        (0..len)
            .map(|_| (rng.below(2001) as f32 - 1000.0) / 1000.0)
            .collect()
    };
    let a = Tensor::<2>::from_data(TensorData::new(random(m * k), [m, k]), device);
    let b = Tensor::<2>::from_data(TensorData::new(random(k * n), [k, n]), device);
    let mut best = f64::INFINITY;
    for _ in 0..4 {
        let start = Instant::now();
        let product = a.clone().matmul(b.clone());
        // Reading one value back waits for the product on any backend.
        let _ = product.slice([0..1, 0..1]).into_data();
        best = best.min(start.elapsed().as_secs_f64());
    }
    ([m, k, n], 2.0 * (m * k * n) as f64 / best / 1e9)
}

struct Row {
    label: String,
    batch: usize,
    segments: usize,
    tokens: usize,
    padded: usize,
    load: f64,
    warm: Option<f64>,
    spread: Spread,
    gflop: f64,
}

const HEADER: [&str; 12] = [
    "precision",
    "batch",
    "segments",
    "tokens",
    "padded tokens",
    "load s",
    "warm-up s",
    "median s/gene",
    "min s",
    "max s",
    "tokens/s",
    "GFLOP/s",
];

fn render_table(rows: &[Row], format: TableFormat) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.label.clone(),
                r.batch.to_string(),
                r.segments.to_string(),
                r.tokens.to_string(),
                r.padded.to_string(),
                format!("{:.2}", r.load),
                r.warm.map_or("-".into(), |w| format!("{w:.3}")),
                format!("{:.3}", r.spread.median),
                format!("{:.3}", r.spread.min),
                format!("{:.3}", r.spread.max),
                format!("{:.0}", r.tokens as f64 / r.spread.median),
                format!("{:.1}", r.gflop / r.spread.median),
            ]
        })
        .collect();
    let mut out = String::new();
    match format {
        TableFormat::Tsv => {
            let _ = writeln!(out, "{}", HEADER.join("\t"));
            for row in cells {
                let _ = writeln!(out, "{}", row.join("\t"));
            }
        }
        TableFormat::Markdown => {
            let _ = writeln!(out, "| {} |", HEADER.join(" | "));
            let _ = writeln!(out, "|{}", " --- |".repeat(HEADER.len()));
            for row in cells {
                let _ = writeln!(out, "| {} |", row.join(" | "));
            }
        }
    }
    out
}

fn write_gene(
    dir: &Path,
    gene: &Gene,
    plan: &SegmentPlan,
    segments: &[PreparedSegment],
) -> anyhow::Result<()> {
    let fitted = plan.fit(&gene.residues)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join("gene.fa");
    write_atomic(&path, format!(">{} {}\n{fitted}\n", gene.id, gene.source))?;
    let mut fasta = String::new();
    for PreparedSegment { segment, .. } in segments {
        let _ = writeln!(
            fasta,
            ">{}_s{} {}..{}\n{}",
            gene.id,
            segment.index,
            segment.start,
            segment.end,
            &fitted[segment.start..segment.end]
        );
    }
    let path = dir.join("segments.fa");
    write_atomic(&path, fasta)?;
    let json = serde_json::json!({
        "gene": gene.id,
        "source": gene.source,
        "length": fitted.len(),
        "segment_len": plan.segment_len,
        "stride": plan.stride,
        "token_ids": segments.iter().map(|s| &s.token_ids).collect::<Vec<_>>(),
    });
    let path = dir.join("tokens.json");
    write_atomic(&path, serde_json::to_string(&json)?)?;
    eprintln!(
        "wrote the gene's segments and token ids to {}",
        dir.display()
    );
    Ok(())
}

fn write_embeddings(path: &Path, gene: &str, vectors: &[Vec<f32>]) -> anyhow::Result<()> {
    let mut out = AtomicFile::create(path)?;
    for (index, row) in vectors.iter().enumerate() {
        write!(out, "{gene}_s{index}")?;
        for value in row {
            write!(out, "\t{value}")?;
        }
        writeln!(out)?;
    }
    out.commit()
}

/// `--web-bundle`: the benchmarked encoder with an untrained head and the bench's segments.
fn write_web_bundle(args: &BenchArgs, out: &Path) -> anyhow::Result<()> {
    let plan = bench_plan()?;
    let (mut bundle, source) = if let Some(path) = &args.bundle {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let bundle =
            Bundle::from_bytes(&bytes).with_context(|| format!("loading {}", path.display()))?;
        (bundle, path.display().to_string())
    } else if let Some(dir) = &args.model {
        let precision = if args.precision == [BenchPrecision::F32] {
            Precision::F32
        } else {
            Precision::Int8
        };
        eprintln!("importing {} as {precision:?}", dir.display());
        let bundle = import_hf_folder(
            dir,
            ModelCard::imported_encoder("bench", &dir.display().to_string()),
            plan,
            &precision.plan(),
        )
        .with_context(|| format!("importing {}", dir.display()))?;
        (bundle, dir.display().to_string())
    } else {
        bail!("--web-bundle: give the model: --model DIR or --bundle FILE");
    };
    let head = TextCnnHeadConfig::new(bundle.encoder.config.hidden_size)
        .with_kernel_sizes(vec![1, 3, 5])
        .with_filters(64)
        .with_dense(vec![64])
        .with_dropout(0.0)
        .with_outputs(1);
    attach_random_head(&mut bundle, &head, args.seed)?;
    bundle.segment_plan = plan;
    bundle.normalization.clear();
    bundle.card = ModelCard {
        name: format!("bench-untrained-head ({})", bundle_precision(&bundle)),
        description: format!(
            "BENCHMARK MODEL, NOT A PREDICTOR: the encoder of {source} with an untrained \
             random text-CNN head (seed {}), for timing the page. Its outputs mean nothing.",
            args.seed
        ),
        training: None,
        outputs: vec![OutputSpec {
            name: "untrained".into(),
            label: LabelSpec {
                name: "none (untrained benchmark head)".into(),
                unit: "arbitrary".into(),
                transform: "none".into(),
            },
            meaning: "a fixed random function of the sequence, not an expression level".into(),
            reference: Vec::new(),
        }],
        metrics: Vec::new(),
        licence: format!("the licence of {source}'s weights applies"),
        created_by: format!("texcnn {} bench --web-bundle", env!("CARGO_PKG_VERSION")),
    };
    let bytes = bundle.to_bytes()?;
    write_atomic(out, &bytes)?;
    eprintln!(
        "wrote {} ({:.1} MB)",
        out.display(),
        bytes.len() as f64 / 1e6
    );
    Ok(())
}

/// Writes DNABERT-2-117M with random weights (BERT's N(0, 0.02) init, seeded) as a Hugging
/// Face folder: `config.json` and `model.safetensors` with the official `bert.*` keys.
fn make_random_117m(dir: &Path, seed: u64) -> anyhow::Result<()> {
    let device = Device::flex();
    device.seed(seed);
    let config = Dnabert2Config::dnabert2_117m();
    let start = Instant::now();
    eprintln!("initialising DNABERT-2-117M with random weights (seed {seed}) ...");
    let encoder = Dnabert2Encoder::init(&config, &device);
    let checkpoint = encoder.to_checkpoint()?;
    drop(encoder);
    let bytes = checkpoint
        .to_safetensors()
        .map_err(|err| anyhow::anyhow!("serialising the weights: {err}"))?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let config_path = dir.join(CONFIG_FILE);
    write_atomic(&config_path, config.to_json_string())?;
    let weights_path = dir.join(SAFETENSORS_FILE);
    write_atomic(&weights_path, &bytes)?;
    eprintln!(
        "wrote {} and {} ({:.1} MB) in {:.1} s",
        config_path.display(),
        weights_path.display(),
        bytes.len() as f64 / 1e6,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The projections' FLOPs are 2 × tokens × (weights of every `Linear` in the encoder
    /// layers), counted here from the checkpoint of a real model rather than the formula.
    #[test]
    fn projection_flops_match_the_linear_weights_of_a_real_checkpoint() {
        let config = Dnabert2Config {
            vocab_size: 50,
            hidden_size: 24,
            num_hidden_layers: 3,
            num_attention_heads: 4,
            intermediate_size: 40,
            ..Dnabert2Config::dnabert2_117m()
        };
        let encoder = Dnabert2Encoder::init(&config, &Device::flex());
        let checkpoint = encoder.to_checkpoint().expect("checkpoint");
        let linear_weights: usize = checkpoint
            .tensors
            .iter()
            .filter(|(name, t)| {
                name.starts_with("bert.encoder.layer.")
                    && name.ends_with(".weight")
                    && t.shape.len() == 2
            })
            .map(|(_, t)| t.shape.iter().product::<usize>())
            .sum();
        let tokens = 17;
        let flops = Flops::segment(&config, tokens);
        let projections = flops.qkv + flops.out_proj + flops.mlp_gated + flops.mlp_wo;
        assert_eq!(projections, 2.0 * tokens as f64 * linear_weights as f64);
        // Attention: per layer and head, two [n × d]·[d × n]-sized products.
        let head = config.hidden_size / config.num_attention_heads;
        let attention = config.num_hidden_layers
            * config.num_attention_heads
            * 2
            * (2 * tokens * tokens * head);
        assert_eq!(flops.scores + flops.weighted_sum, attention as f64);
    }

    #[test]
    fn the_117m_linear_layers_hold_113m_weights() {
        // 12 × (768·2304 + 768·768 + 768·6144 + 3072·768), from the published shapes.
        let flops = Flops::segment(&Dnabert2Config::dnabert2_117m(), 1);
        let projections = flops.qkv + flops.out_proj + flops.mlp_gated + flops.mlp_wo;
        assert_eq!(projections, 2.0 * 113_246_208.0);
    }

    #[test]
    fn spread_takes_the_middle_of_sorted_samples() {
        let odd = Spread::of(&[3.0, 1.0, 2.0]).expect("samples");
        assert_eq!((odd.median, odd.min, odd.max), (2.0, 1.0, 3.0));
        let even = Spread::of(&[4.0, 1.0, 2.0, 10.0]).expect("samples");
        assert_eq!((even.median, even.min, even.max), (3.0, 1.0, 10.0));
        assert_eq!(Spread::of(&[]), None);
    }
}
