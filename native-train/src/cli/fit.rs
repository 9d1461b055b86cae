//! `texcnn fit`: TExCNN's head on cached segment embeddings, one run per training seed on one
//! split, predictions for `texcnn evaluate`, and the best run (by validation loss) as a
//! predictor bundle.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use texcnn::bundle::{FeaturePart, LabelSpec, Metric, ModelCard, OutputSpec, TrainingData};
use texcnn::features::{FeatureSource, FeatureSpec, FeatureStore};
use texcnn::head::TextCnnHeadConfig;
use texcnn::predict::head_part;
use texcnn::segment::{SegmentPlan, WindowPolicy};
use texcnn_native::data::features::FeatureTables;
use texcnn_native::data::split::Part;
use texcnn_native::train::embed_cache::EmbeddingCache;
use texcnn_native::train::fit::{
    BundleEmbedder, HeadRun, embed_all, embedding_norm, encoder_bundle_from_folder, normalise,
    predictor_bundle, quantiles, train_head,
};
use texcnn_native::train::trainer::{TrainData, TrainerConfig};

use crate::cli::bundle::Quantize;
use crate::cli::commands::{
    DataArgs, EPOCH_LOG_HEADER, SplitChoice, log_epoch, run_meta, write_seed_run,
};
use crate::cli::device::DeviceChoice;

/// Settings of `texcnn fit`.
#[derive(clap::Args, Debug, Clone)]
pub struct FitArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub split: SplitChoice,
    /// Encoder: a Hugging Face-layout folder (config.json, model.safetensors or
    /// pytorch_model.bin, tokenizer.json), e.g. the output of `texcnn pretrain`.
    #[arg(long)]
    pub encoder: PathBuf,
    /// Storage of the encoder weights; training embeds with the stored (e.g. int8) weights so
    /// the head learns what the bundle will compute.
    #[arg(long, value_enum, default_value = "int8")]
    pub quantize: Quantize,
    /// Segment length in bp.
    #[arg(long, default_value_t = 512)]
    pub segment_len: usize,
    /// Distance between segment starts in bp.
    #[arg(long, default_value_t = 256)]
    pub stride: usize,
    /// Input window in bp, TSS-centred (the TSS at bp window / 2 + 1, as in genes_2kb.tsv):
    /// a record that gives `tss=N` is read around it, one of another length without it is
    /// taken to have its TSS at its centre (padded with N / cut around it, with a note).
    #[arg(long, default_value_t = 2048)]
    pub window: usize,
    /// Head: convolution widths over the segment axis (odd).
    #[arg(long, value_delimiter = ',', default_value = "1,3,5")]
    pub kernels: Vec<usize>,
    /// Head: filters per kernel width.
    #[arg(long, default_value_t = 64)]
    pub filters: usize,
    /// Head: dense hidden layer widths (comma-separated; empty for none).
    #[arg(long, value_delimiter = ',', default_value = "64")]
    pub dense: Vec<usize>,
    /// Head: dropout before each dense layer (0.5 won on validation genes; docs/training-and-results.md).
    #[arg(long, default_value_t = 0.5)]
    pub dropout: f64,
    /// Training seeds (head initialisation and batch order), e.g. 0-9.
    #[arg(long, default_value = "0", value_parser = crate::cli::commands::parse_seeds)]
    pub seeds: std::vec::Vec<u64>,
    #[arg(long, default_value_t = 100)]
    pub epochs: usize,
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Early stopping: epochs without a lower validation loss.
    #[arg(long, default_value_t = 10)]
    pub patience: usize,
    /// Segments per encoder pass while embedding.
    #[arg(long, default_value_t = 8)]
    pub embed_batch: usize,
    /// Where the encoder embeds and the head trains.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Cpu)]
    pub device: DeviceChoice,
    /// Where segment embeddings are cached (default: $XDG_CACHE_HOME/texcnn/embeddings or
    /// ~/.cache/texcnn/embeddings).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Folder for the split file, predictions_seedN.tsv and train_log_seedN.tsv.
    #[arg(long)]
    pub out_dir: PathBuf,
    /// Standardise the segment embeddings with this predictor bundle's statistics instead of
    /// the training genes' own, so that the result can be joined to it (`texcnn add-output`).
    #[arg(long)]
    pub embedding_norm_from: Option<PathBuf>,
    /// Write the run with the lowest validation loss as a predictor bundle here.
    #[arg(long)]
    pub bundle_out: Option<PathBuf>,
    /// Output name in the bundle (the column `texcnn predict` writes), e.g. xpresso_median.
    #[arg(long, default_value = "xpresso_median")]
    pub output_name: String,
    /// What the label measures (model card).
    #[arg(long, default_value = "median expression across tissues (Xpresso)")]
    pub label_meaning: String,
    /// Unit of the raw measurement (model card).
    #[arg(long, default_value = "RPKM")]
    pub label_unit: String,
    /// Transform applied to the raw measurement (model card).
    #[arg(long, default_value = "log10(x + 0.1)")]
    pub label_transform: String,
    /// Name on the model card.
    #[arg(long, default_value = "texcnn-xpresso-median")]
    pub name: String,
    /// Licence and provenance of a --features table, carried in the bundle beside its values:
    /// FILE=TEXT with FILE the table's file name (repeat for each table), e.g.
    /// "mrna_halflife.tsv=Apache-2.0 (Saluki, Agarwal & Kelley 2022)".
    #[arg(long = "feature-licence")]
    pub feature_licences: Vec<String>,
}

/// The bundle's per-gene features part: every gene of the --features tables (not only the
/// data set's: features are not labels; their columns are the data set's, since --bundle-out
/// refuses --data-features), the spec fitted on the training genes, the sources with their
/// licences, and the features head.
fn feature_part(
    args: &FitArgs,
    tables: &FeatureTables,
    spec: &FeatureSpec,
    config: &TextCnnHeadConfig,
    run: &HeadRun,
) -> anyhow::Result<FeaturePart> {
    let store = FeatureStore::from_rows(
        &tables.columns,
        tables
            .rows()
            .map(|(id, row)| (id.to_string(), row.to_vec())),
    )?;
    let mut sources = Vec::new();
    for path in &args.data.features {
        let file = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let columns: Vec<String> = tables
            .columns
            .iter()
            .zip(&tables.sources)
            .filter(|(_, s)| *s == path)
            .map(|(c, _)| c.clone())
            .collect();
        let licence = args
            .feature_licences
            .iter()
            .find_map(|l| l.strip_prefix(&format!("{file}=")))
            .map(str::to_string);
        if licence.is_none() {
            eprintln!(
                "warning: no --feature-licence {file}=TEXT: the bundle will say its licence was not given"
            );
        }
        sources.push(FeatureSource {
            file,
            columns,
            licence: licence.unwrap_or_else(|| "not given to texcnn fit".into()),
        });
    }
    Ok(FeaturePart {
        spec: spec.clone(),
        sources,
        store,
        head: head_part(config, &run.head)?,
    })
}

fn default_cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("texcnn")
        .join("embeddings")
}

/// `texcnn fit`.
pub fn run(args: &FitArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let plan = SegmentPlan::new(args.segment_len, args.stride)
        .and_then(|p| p.with_window(args.window, WindowPolicy::PadOrTrim))
        .and_then(|p| p.with_tss(args.window / 2 + 1))
        .context("segment plan")?;
    let (dataset, tables) = crate::cli::commands::load_with_tables(&args.data)?;
    if args.bundle_out.is_some() && !args.data.data_features.is_empty() {
        bail!(
            "--bundle-out with --data-features: a bundle carries per-gene features looked up by gene id, which only --features tables give; pass the columns as a table with --features"
        );
    }
    // A licence for a table that is not given is a typo: said before any work.
    let table_names: Vec<String> = args
        .data
        .features
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    for licence in &args.feature_licences {
        match licence.split_once('=') {
            Some((file, _)) if table_names.iter().any(|t| t == file) => {}
            Some((file, _)) => bail!(
                "--feature-licence {file}=…: no --features table is named {file} (tables: {})",
                table_names.join(", ")
            ),
            None => bail!("--feature-licence {licence:?}: expected FILE=TEXT"),
        }
    }
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("creating {}", args.out_dir.display()))?;
    let (split, split_path) = args.split.resolve(&dataset, &args.out_dir)?;
    let parts = split.assign(&dataset)?;
    let train_idx = texcnn_native::data::split::part_indices(&parts, Part::Train);
    let valid_idx = texcnn_native::data::split::part_indices(&parts, Part::Valid);
    let test_idx = texcnn_native::data::split::part_indices(&parts, Part::Test);
    let all_idx: Vec<usize> = (0..parts.len()).filter(|&i| parts[i].is_some()).collect();

    eprintln!("loading the encoder from {} ...", args.encoder.display());
    let encoder_bundle = encoder_bundle_from_folder(&args.encoder, args.quantize.into(), plan)
        .with_context(|| format!("loading the encoder {}", args.encoder.display()))?;
    let device = args.device.device()?;
    let embedder = BundleEmbedder::new(&encoder_bundle, &device)?;
    let cache_root = args.cache_dir.clone().unwrap_or_else(default_cache_dir);
    let cache = EmbeddingCache::open(&cache_root, &embedder.cache_key())?;
    eprintln!("embedding cache: {}", cache.dir().display());

    // Only genes in the split are embedded (removed duplicates are not needed).
    let genes: Vec<(&str, &str)> = all_idx
        .iter()
        .map(|&i| {
            let e = &dataset.examples[i];
            (e.id.as_str(), e.sequence.as_str())
        })
        .collect();
    let bar = ProgressBar::new(genes.len() as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "embedding {bar:40} {pos}/{len} genes ({msg}), {elapsed} (eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let embed_started = Instant::now();
    let mut from_cache = 0;
    // Without a terminal (a log file, CI) the bar is hidden: print a line every 10 % instead.
    let step = (genes.len() / 10).max(1);
    let embedded = embed_all(
        &embedder,
        &genes,
        Some(&cache),
        args.embed_batch,
        |done, c| {
            from_cache = c;
            bar.set_position(done as u64);
            bar.set_message(format!("{c} from cache"));
            if bar.is_hidden() && (done % step == 0 || done == genes.len()) {
                eprintln!(
                    "embedded {done}/{} genes ({c} from cache), {:.0} s",
                    genes.len(),
                    embed_started.elapsed().as_secs_f64()
                );
            }
        },
    )?;
    bar.finish_and_clear();
    eprintln!(
        "embedded {} genes ({} from cache) in {:.1} s: {} segments of {} values each",
        genes.len(),
        from_cache,
        embed_started.elapsed().as_secs_f64(),
        embedded[0].segments,
        embedded[0].width
    );
    // `embedded[k]` belongs to example `all_idx[k]`; index everything by example.
    let mut by_example = vec![None; dataset.examples.len()];
    for (k, e) in all_idx.iter().zip(embedded) {
        by_example[*k] = Some(e);
    }
    let placeholder = texcnn_native::train::embed_cache::SegmentEmbeddings {
        segments: 0,
        width: 0,
        values: Vec::new(),
    };
    let embeddings: Vec<_> = by_example
        .into_iter()
        .map(|e| e.unwrap_or_else(|| placeholder.clone()))
        .collect();
    let segments = embeddings[all_idx[0]].segments;
    let norm = match &args.embedding_norm_from {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let other = texcnn::bundle::Bundle::from_bytes(&bytes)
                .with_context(|| format!("loading {}", path.display()))?;
            let norm = other
                .normalization
                .into_iter()
                .find(|n| n.name == texcnn::predict::EMBEDDING_NORM)
                .with_context(|| {
                    format!("{} has no segment-embedding normalisation", path.display())
                })?;
            let width = embeddings[all_idx[0]].width;
            if norm.dims() != width {
                bail!(
                    "{} standardises {}-wide segment embeddings; this encoder gives {width}",
                    path.display(),
                    norm.dims()
                );
            }
            norm
        }
        None => embedding_norm(&embeddings, &train_idx),
    };
    let normalised = normalise(&embeddings, &norm);

    let labels: Vec<f64> = dataset.examples.iter().map(|e| e.label).collect();
    // Per-gene features: transformed and standardised with training-gene statistics only.
    let features = texcnn_native::data::features::encode_dataset(&dataset, &train_idx)?;
    let features_note = features.as_ref().map(|f| {
        let spec = &f.spec;
        format!(
            "{} per-gene features + {} missing-value indicators ({})",
            spec.columns.len(),
            spec.indicators.len(),
            texcnn_native::data::features::describe(&args.data.features)
        )
    });
    if let Some(note) = &features_note {
        eprintln!("head inputs beside the DNA: {note}");
    }
    let dna_config = TextCnnHeadConfig::new(embedder.embedder.hidden_size())
        .with_kernel_sizes(args.kernels.clone())
        .with_filters(args.filters)
        .with_dense(args.dense.clone())
        .with_dropout(args.dropout);
    let head_config = dna_config
        .clone()
        .with_extra_features(features.as_ref().map_or(0, |f| f.spec.width()));
    head_config.validate()?;
    let dna_description = format!(
        "TExCNN head (text-CNN, kernels {:?}, {} filters, dense {:?}, dropout {}) on {} segments of {} bp (stride {}, window {} bp)",
        args.kernels,
        args.filters,
        args.dense,
        args.dropout,
        segments,
        args.segment_len,
        args.stride,
        args.window
    );
    let description = dna_description.clone()
        + &features_note
            .as_ref()
            .map_or_else(String::new, |n| format!(", with {n}"));
    // One run per training seed: predictions and logs in `out_dir`.
    let train_seeds = |config: &TextCnnHeadConfig,
                       extra: Option<&[Vec<f32>]>,
                       out_dir: &std::path::Path,
                       description: &str|
     -> anyhow::Result<Vec<(u64, HeadRun)>> {
        std::fs::create_dir_all(out_dir)
            .with_context(|| format!("creating {}", out_dir.display()))?;
        let mut runs = Vec::new();
        for &seed in &args.seeds {
            let trainer = TrainerConfig {
                max_epochs: args.epochs,
                batch_size: args.batch_size,
                learning_rate: args.lr,
                patience: args.patience,
                seed,
            };
            let mut log = String::from(EPOCH_LOG_HEADER);
            let run = train_head(
                config,
                &normalised,
                extra,
                segments,
                TrainData {
                    train: &train_idx,
                    valid: &valid_idx,
                    labels: &labels,
                },
                &all_idx,
                &trainer,
                &device,
                |e| log_epoch(seed, &mut log, e),
            )?;
            write_seed_run(
                &dataset,
                &parts,
                &all_idx,
                &run.predictions,
                [
                    ("encoder".into(), args.encoder.display().to_string()),
                    ("head".into(), description.to_string()),
                ]
                .into_iter()
                .chain(run_meta(
                    "texcnn",
                    &dataset,
                    (&split_path, split.seed),
                    seed,
                    &run.report,
                    &trainer,
                ))
                .collect(),
                out_dir,
                seed,
                &log,
            )?;
            runs.push((seed, run));
        }
        Ok(runs)
    };
    let runs = train_seeds(
        &head_config,
        features.as_ref().map(|f| f.rows.as_slice()),
        &args.out_dir,
        &description,
    )?;
    // A bundle with features also carries a DNA-only head for records of unknown genes.
    let dna_runs = match (&args.bundle_out, &features) {
        (Some(_), Some(_)) => {
            let dir = args.out_dir.join("dna_only");
            eprintln!(
                "training the DNA-only head the bundle uses for genes without features ({})",
                dir.display()
            );
            Some(train_seeds(&dna_config, None, &dir, &dna_description)?)
        }
        _ => None,
    };

    if let Some(out) = &args.bundle_out {
        let score = |idx: &[usize], run: &HeadRun| {
            let (p, l): (Vec<f64>, Vec<f64>) = idx
                .iter()
                .map(|i| {
                    let k = all_idx.binary_search(i).unwrap_or(0);
                    (run.predictions[k], labels[*i])
                })
                .unzip();
            texcnn_native::eval::metrics::scores(&p, &l)
        };
        let on = format!(
            "test split: {} held-out genes (split seed {}), never used for training or selection",
            test_idx.len(),
            split.seed
        );
        // Model selection uses the validation loss only; the test split is reported, not used.
        // Returns the chosen run's index and its test metrics, named with `what`.
        let select = |runs: &[(u64, HeadRun)],
                      what: &str|
         -> anyhow::Result<(usize, Vec<Metric>)> {
            let (chosen, (seed, best)) = runs
                .iter()
                .enumerate()
                .min_by(|a, b| {
                    a.1.1
                        .report
                        .best_valid_loss
                        .total_cmp(&b.1.1.report.best_valid_loss)
                })
                .context("no run")?;
            let Some(test) = score(&test_idx, best) else {
                bail!("the test split has too few genes to score");
            };
            let r2s: Vec<f64> = runs
                .iter()
                .filter_map(|(_, r)| score(&test_idx, r).map(|s| s.r2))
                .collect();
            let summary = texcnn_native::eval::metrics::summarize(&r2s).context("no scored run")?;
            let metric = |name: String, value: f64| Metric {
                name: name + what,
                value,
                on: on.clone(),
            };
            let metrics = vec![
                metric("R² (squared Pearson)".into(), test.r2),
                metric("Pearson r".into(), test.pearson_r),
                metric(
                    format!("R² min over {} training seeds", summary.n),
                    summary.min,
                ),
                metric(
                    format!("R² mean over {} training seeds", summary.n),
                    summary.mean,
                ),
                metric(
                    format!("R² max over {} training seeds", summary.n),
                    summary.max,
                ),
            ];
            eprintln!(
                "{}: seed {seed} (lowest validation loss), test R² {:.4}, r {:.4}",
                if what.is_empty() {
                    "DNA head"
                } else {
                    what.trim_start_matches(", ")
                },
                test.r2,
                test.pearson_r
            );
            Ok((chosen, metrics))
        };
        let dna_path = dna_runs.as_deref().unwrap_or(&runs);
        let (chosen, mut test_metrics) = select(dna_path, "")?;
        let (seed, best) = &dna_path[chosen];
        let mut features_part = None;
        let mut features_seed = None;
        if let Some(f) = &features {
            let (chosen, metrics) = select(&runs, ", DNA + per-gene features")?;
            let (fseed, run) = &runs[chosen];
            test_metrics.extend(metrics);
            features_seed = Some(*fseed);
            let tables = tables
                .as_ref()
                .context("per-gene features for a bundle come from --features tables")?;
            features_part = Some(feature_part(args, tables, &f.spec, &head_config, run)?);
        }
        let train_labels: Vec<f64> = train_idx.iter().map(|&i| labels[i]).collect();
        let pretraining = encoder_pretraining(&args.encoder);
        let mut metrics = Vec::new();
        if let Some(p) = &pretraining {
            metrics.extend(p.metrics.iter().cloned());
        }
        let paths = match &features_note {
            Some(note) => format!(
                " A record named by a gene the bundle knows (an Ensembl id) is predicted from the DNA and its per-gene features ({note}; head seed {} chosen by validation loss); any other record from the DNA alone (the DNA-only head).",
                features_seed.unwrap_or_default()
            ),
            None => String::new(),
        };
        let card = ModelCard {
            name: args.name.clone(),
            description: format!(
                "Predicts {} from a {} bp promoter (TSS at bp {}: −{}…+{}). {dna_description}; encoder {}.{paths}",
                args.label_meaning,
                args.window,
                args.window / 2 + 1,
                args.window / 2,
                args.window - args.window / 2 - 1,
                args.encoder.display()
            ),
            training: Some(TrainingData {
                data: format!(
                    "{} (label {}): {} train, {} validation, {} test genes{}",
                    dataset.source,
                    dataset.label_name,
                    train_idx.len(),
                    valid_idx.len(),
                    test_idx.len(),
                    pretraining
                        .as_ref()
                        .map_or_else(String::new, |p| format!(". Encoder: {}", p.summary))
                ),
                split: format!(
                    "random by gene after removing duplicate sequences, 80/10/10, split seed {} ({}); head training seed {seed} chosen among seeds {:?} by validation loss",
                    split.seed,
                    split_path
                        .file_name()
                        .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                    args.seeds
                ),
            }),
            outputs: vec![OutputSpec {
                name: args.output_name.clone(),
                label: LabelSpec {
                    name: args.label_meaning.clone(),
                    unit: args.label_unit.clone(),
                    transform: args.label_transform.clone(),
                },
                meaning: "higher means more mRNA; the percentile places the prediction among the training genes' measured values".into(),
                reference: quantiles(&train_labels, 201),
            }],
            metrics: test_metrics.into_iter().chain(metrics).collect(),
            licence: format!(
                "Code MIT/Apache-2.0; the DNABERT-2 tokenizer is Apache-2.0; labels from Xpresso (Agarwal & Shendure 2020) / GTEx via the data files named above; see the repository's data READMEs{}",
                features_part.as_ref().map_or_else(String::new, |f| {
                    let each: Vec<String> = f.sources.iter().map(|s| format!("{}: {}", s.file, s.licence)).collect();
                    format!(". Per-gene features: {}", each.join("; "))
                })
            ),
            created_by: format!("texcnn {} fit", env!("CARGO_PKG_VERSION")),
        };
        let mut bundle = predictor_bundle(&encoder_bundle, plan, &dna_config, best, norm, card)?;
        bundle.features = features_part;
        bundle.validate()?;
        let bytes = bundle.to_bytes()?;
        texcnn_native::files::output::write_atomic(out, &bytes)?;
        eprintln!("{}: {:.2} MB", out.display(), bytes.len() as f64 / 1e6);
    }
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

/// What an encoder folder's `model_card.json` (written by `texcnn pretrain`) says about its
/// pre-training, for the predictor's card.
struct Pretraining {
    summary: String,
    metrics: Vec<Metric>,
}

/// Reads `DIR/model_card.json` if it is a `texcnn pretrain` card; `None` otherwise (e.g. the
/// real DNABERT-2, whose card lives elsewhere).
fn encoder_pretraining(dir: &std::path::Path) -> Option<Pretraining> {
    let text = std::fs::read_to_string(dir.join("model_card.json")).ok()?;
    let card: serde_json::Value = serde_json::from_str(&text).ok()?;
    let arch = &card["architecture"];
    let training = &card["training"];
    let held = &card["heldout_metrics"];
    let accuracy = held["masked_accuracy"].as_f64()?;
    let hardware: Vec<&str> = training["hardware"]
        .as_array()
        .map(|h| h.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let summary = format!(
        "{} (hidden {}, {} layers, {} heads, {} parameters), pre-trained by masked-language modelling on {} for {} steps, {} tokens, {:.0} s on {}; held-out masked-token accuracy {:.3} (most frequent token {:.3}, neighbour-context model {:.3})",
        card["name"].as_str().unwrap_or("encoder"),
        arch["hidden_size"],
        arch["num_hidden_layers"],
        arch["num_attention_heads"],
        arch["parameters"],
        training["data"].as_str().unwrap_or("unknown data"),
        training["steps"],
        training["tokens_seen"],
        training["wall_seconds"].as_f64().unwrap_or(0.0),
        hardware.join(", "),
        accuracy,
        held["baseline_most_frequent_token_accuracy"]
            .as_f64()
            .unwrap_or(0.0),
        held["baseline_neighbour_context_accuracy"]
            .as_f64()
            .unwrap_or(0.0),
    );
    let on = "the encoder's pre-training held-out sequences (2 % of the pool, by sequence hash)";
    Some(Pretraining {
        summary,
        metrics: [
            ("encoder masked-token accuracy", Some(accuracy)),
            ("encoder MLM loss", held["mlm_loss"].as_f64()),
        ]
        .into_iter()
        .filter_map(|(name, value)| {
            value.map(|value| Metric {
                name: name.into(),
                value,
                on: on.into(),
            })
        })
        .collect(),
    })
}
