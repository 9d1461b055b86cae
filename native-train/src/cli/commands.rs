//! `texcnn split`, `texcnn baseline kmer-ridge` and `texcnn evaluate`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use clap::Args;
use texcnn_native::baselines::kmer_ridge::{self, KmerRidgeConfig};
use texcnn_native::data::fasta::{FastaOptions, load_fasta_with_labels};
use texcnn_native::data::h5::{H5Options, load_h5};
use texcnn_native::data::split::{Part, SplitFractions, count_parts, part_indices};
use texcnn_native::data::split_file::SplitFile;
use texcnn_native::data::table::{TableOptions, load_table};
use texcnn_native::data::{Dataset, SourceKind, source_kind};
use texcnn_native::eval::evaluate::{scatter_svg, score_runs, summarize_runs};
use texcnn_native::eval::predictions::{Prediction, PredictionFile};
use texcnn_native::train::trainer::{self, TrainerConfig};

/// Where the labelled data comes from.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Data file: a TSV/CSV table with a sequence column, a FASTA file (with --labels), or an
    /// Xpresso/TExCNN .h5 file.
    #[arg(long)]
    pub data: PathBuf,
    /// Label column (tables; default "label"). Ignored for h5, whose label is `label`.
    #[arg(long, default_value = "label")]
    pub label: String,
    /// Sequence column of a table.
    #[arg(long, default_value = "sequence")]
    pub sequence_column: String,
    /// Gene id column (default: the first of gene_id, geneName, id, gene; else line_N).
    #[arg(long)]
    pub id_column: Option<String>,
    /// Numeric feature columns of the data table itself, comma-separated (h5 files bring
    /// their `data` features anyway).
    #[arg(long, value_delimiter = ',')]
    pub data_features: Vec<String>,
    /// Per-gene feature tables joined by gene id (TSV/CSV, the gene id first, then one column
    /// per feature; e.g. the tables of shared/data/features), comma-separated. A missing value
    /// is an input of its own (docs/features.md).
    #[arg(long, value_delimiter = ',')]
    pub features: Vec<PathBuf>,
    /// Which columns of the feature tables, comma-separated: names or patterns with `*`
    /// (`tf_*`), each optionally with `:log10` (log10(x + 0.1)) or `:raw`; default: all, with
    /// the transform their source prescribes.
    #[arg(long, value_delimiter = ',')]
    pub feature_columns: Vec<texcnn_native::data::features::ColumnSelector>,
    /// For FASTA data: the label table to join by id.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// For FASTA data: keep only the part of the record id before this character.
    #[arg(long)]
    pub id_separator: Option<char>,
    /// For h5 data: the window START..END of the promoter to use (default 3000..13500 for
    /// 20,000 bp Xpresso promoters, else the whole promoter).
    #[arg(long, value_parser = parse_range)]
    pub h5_window: Option<(usize, usize)>,
}

fn parse_range(s: &str) -> Result<(usize, usize), String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("\"{s}\" is not START..END"))?;
    let a = a
        .trim()
        .parse()
        .map_err(|_| format!("bad start in \"{s}\""))?;
    let b = b
        .trim()
        .parse()
        .map_err(|_| format!("bad end in \"{s}\""))?;
    Ok((a, b))
}

/// Parses `0-9`, `3` or `0,2,5`.
pub fn parse_seeds(s: &str) -> Result<Vec<u64>, String> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let part = part.trim();
        if let Some((a, b)) = part.split_once('-') {
            let a: u64 = a
                .parse()
                .map_err(|_| format!("bad seed range \"{part}\""))?;
            let b: u64 = b
                .parse()
                .map_err(|_| format!("bad seed range \"{part}\""))?;
            if a > b {
                return Err(format!("empty seed range \"{part}\""));
            }
            out.extend(a..=b);
        } else {
            out.push(part.parse().map_err(|_| format!("bad seed \"{part}\""))?);
        }
    }
    Ok(out)
}

/// Loads the data set and prints what was skipped.
pub fn load(args: &DataArgs) -> anyhow::Result<Dataset> {
    load_with_tables(args).map(|(dataset, _)| dataset)
}

/// [`load`], and the --features tables it joined (`None` without --features).
pub fn load_with_tables(
    args: &DataArgs,
) -> anyhow::Result<(
    Dataset,
    Option<texcnn_native::data::features::FeatureTables>,
)> {
    let mut dataset = match source_kind(&args.data) {
        SourceKind::H5 => load_h5(
            &args.data,
            &H5Options {
                window: args.h5_window,
            },
        )?,
        SourceKind::Fasta => {
            let Some(labels) = &args.labels else {
                bail!(
                    "{}: a FASTA file needs --labels TABLE to join labels by id",
                    args.data.display()
                );
            };
            load_fasta_with_labels(
                &args.data,
                labels,
                &FastaOptions {
                    id_column: args.id_column.clone(),
                    label_column: args.label.clone(),
                    feature_columns: args.data_features.clone(),
                    id_separator: args.id_separator,
                },
            )?
        }
        SourceKind::Table => load_table(
            &args.data,
            &TableOptions {
                sequence_column: args.sequence_column.clone(),
                label_column: args.label.clone(),
                id_column: args.id_column.clone(),
                feature_columns: args.data_features.clone(),
            },
        )?,
    };
    for err in &dataset.report.malformed {
        eprintln!("malformed: {err}");
    }
    eprintln!(
        "{}: {}",
        dataset.source,
        dataset.report.summary(dataset.examples.len())
    );
    if dataset.examples.is_empty() {
        bail!("{}: no labelled example", dataset.source);
    }
    let tables = if !args.features.is_empty() {
        Some(texcnn_native::data::features::load_into(
            &mut dataset,
            &args.features,
            &args.feature_columns,
        )?)
    } else if !args.feature_columns.is_empty() {
        bail!("--feature-columns chooses among the tables of --features, and none was given");
    } else {
        None
    };
    Ok((dataset, tables))
}

fn describe_split(split: &SplitFile) -> String {
    format!(
        "seed {}: {} train, {} valid, {} test genes; {} duplicate sequences removed",
        split.seed,
        split.train.len(),
        split.valid.len(),
        split.test.len(),
        split.duplicates_removed.len()
    )
}

/// `texcnn split`.
pub fn split(data: &DataArgs, seed: u64, out: &Path) -> anyhow::Result<ExitCode> {
    let dataset = load(data)?;
    let split =
        texcnn_native::data::split_file::make_split(&dataset, seed, SplitFractions::default())?;
    split.write(out)?;
    eprintln!("{}: {}", out.display(), describe_split(&split));
    Ok(ExitCode::SUCCESS)
}

/// Which splits the ridge baselines run on, and where their outputs go.
#[derive(Args, Debug, Clone)]
pub struct RidgeRuns {
    /// Use this split file (else one split per seed of --seeds, written to --out-dir).
    #[arg(long)]
    pub split: Option<PathBuf>,
    /// Split seeds, e.g. 0-9 or 0,3,7 (ignored with --split): ridge is deterministic, so the
    /// runs differ by their split.
    #[arg(long, default_value = "0", value_parser = parse_seeds)]
    pub seeds: std::vec::Vec<u64>,
    /// Folder for split files and predictions_seedN.tsv.
    #[arg(long)]
    pub out_dir: PathBuf,
}

/// `texcnn baseline kmer-ridge` (`k` given) and `texcnn baseline feature-ridge` (no `k`: the
/// per-gene features alone).
pub fn kmer_ridge(
    data: &DataArgs,
    runs: &RidgeRuns,
    k: Option<usize>,
    use_features: bool,
) -> anyhow::Result<ExitCode> {
    let (split_path, seeds, out_dir) = (runs.split.as_deref(), &runs.seeds, &runs.out_dir);
    let dataset = load(data)?;
    if use_features && dataset.feature_names.is_empty() {
        bail!(
            "{}: no per-gene features to use: give --features TABLE (or --data-features for columns of the data file)",
            dataset.source
        );
    }
    let model_name = match k {
        Some(k) if use_features => format!(
            "kmer-ridge k={k} + features ({})",
            dataset.feature_names.len()
        ),
        Some(k) => format!("kmer-ridge k={k}"),
        None => format!("feature-ridge ({} features)", dataset.feature_names.len()),
    };
    let config = KmerRidgeConfig {
        k,
        use_features,
        ..KmerRidgeConfig::default()
    };
    // One run per split: a given split file, or one split per seed (ridge is deterministic, so
    // the repeated runs differ by their split).
    let splits: Vec<(SplitFile, PathBuf)> = match split_path {
        Some(path) => vec![(SplitFile::read(path)?, path.to_path_buf())],
        None => seeds
            .iter()
            .map(|&seed| {
                let split = texcnn_native::data::split_file::make_split(
                    &dataset,
                    seed,
                    SplitFractions::default(),
                )?;
                let path = out_dir.join(format!("split_seed{seed}.json"));
                split.write(&path)?;
                Ok((split, path))
            })
            .collect::<anyhow::Result<_>>()?,
    };
    for (split, split_path) in &splits {
        let parts = split.assign(&dataset)?;
        let counts = count_parts(parts.iter().flatten().copied());
        eprintln!("{}", describe_split(split));
        let run = kmer_ridge::run(&dataset, &parts, &config)
            .with_context(|| format!("{model_name} on split {}", split_path.display()))?;
        let file = PredictionFile {
            meta: vec![
                ("model".into(), model_name.clone()),
                ("data".into(), dataset.source.clone()),
                ("label".into(), dataset.label_name.clone()),
                ("split".into(), split_path.display().to_string()),
                ("seed".into(), split.seed.to_string()),
                ("alpha".into(), format!("{}", run.model.alpha)),
                (
                    "genes".into(),
                    format!(
                        "{} train, {} valid, {} test",
                        counts.get(&Part::Train).unwrap_or(&0),
                        counts.get(&Part::Valid).unwrap_or(&0),
                        counts.get(&Part::Test).unwrap_or(&0)
                    ),
                ),
            ],
            rows: run.predictions,
        };
        let out = out_dir.join(format!("predictions_seed{}.tsv", split.seed));
        file.write(&out)?;
        let (p, l) = file.part(Part::Test);
        let s = texcnn_native::eval::metrics::scores(&p, &l);
        eprintln!(
            "{}: alpha {} (chosen on valid), test R² {}",
            out.display(),
            run.model.alpha,
            s.map_or("undefined".to_string(), |s| format!("{:.4}", s.r2))
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `texcnn evaluate`.
pub fn evaluate(
    predictions: &[PathBuf],
    part: &str,
    scatter: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let part = Part::from_name(part)
        .with_context(|| format!("--part \"{part}\" is not train, valid or test"))?;
    let runs = predictions
        .iter()
        .map(|p| Ok((p.display().to_string(), PredictionFile::read(p)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let scores = score_runs(&runs, part)?;
    println!("run\tseed\tn\tpearson_r\tr2");
    for s in &scores {
        println!(
            "{}\t{}\t{}\t{:.4}\t{:.4}",
            s.name,
            s.seed.as_deref().unwrap_or("-"),
            s.scores.n,
            s.scores.pearson_r,
            s.scores.r2
        );
    }
    if let Some((r2, r)) = summarize_runs(&scores) {
        println!(
            "R² on {} over {} runs: min {:.4}  mean {:.4}  max {:.4}",
            part.name(),
            r2.n,
            r2.min,
            r2.mean,
            r2.max
        );
        println!(
            "Pearson r on {} over {} runs: min {:.4}  mean {:.4}  max {:.4}",
            part.name(),
            r.n,
            r.min,
            r.mean,
            r.max
        );
    }
    if let Some(path) = scatter {
        let (name, file) = &runs[0];
        let (pred, label) = file.part(part);
        let s = &scores[0].scores;
        let title = format!(
            "{} — {} genes, R² {:.3}, r {:.3}{}",
            file.meta("model").unwrap_or("model"),
            s.n,
            s.r2,
            s.pearson_r,
            file.meta("seed")
                .map(|seed| format!(", seed {seed}"))
                .unwrap_or_default()
        );
        let svg = scatter_svg(&label, &pred, &title, file.meta("label").unwrap_or("label"));
        texcnn_native::files::output::write_atomic(path, svg)?;
        eprintln!(
            "{}: scatter of {} ({} part)",
            path.display(),
            name,
            part.name()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Settings of `texcnn baseline onehot-cnn`.
#[derive(Args, Debug, Clone)]
pub struct CnnArgs {
    #[command(flatten)]
    pub split: SplitChoice,
    /// Training seeds (initialisation and batch order), e.g. 0-9; the split stays fixed.
    #[arg(long, default_value = "0", value_parser = parse_seeds)]
    pub seeds: std::vec::Vec<u64>,
    #[arg(long, default_value_t = 30)]
    pub epochs: usize,
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Early stopping: epochs without a lower validation loss.
    #[arg(long, default_value_t = 5)]
    pub patience: usize,
    /// Folder for the split file, predictions_seedN.tsv and train_log_seedN.tsv.
    #[arg(long)]
    pub out_dir: PathBuf,
}

/// The fixed split and gene indices that every training run of a neural baseline shares, and
/// the per-seed step: train, predict every gene, write `predictions_seedN.tsv` and
/// `train_log_seedN.tsv`.
struct SeedRuns<'a> {
    dataset: &'a Dataset,
    args: &'a CnnArgs,
    split: SplitFile,
    split_path: PathBuf,
    parts: Vec<Option<Part>>,
    train: Vec<usize>,
    valid: Vec<usize>,
    /// Every gene of the split (duplicates removed by the split are left out).
    all: Vec<usize>,
    labels: Vec<f64>,
}

impl<'a> SeedRuns<'a> {
    /// Reads `--split`, or makes the split of `--split-seed` and writes it to `--out-dir`.
    fn new(dataset: &'a Dataset, args: &'a CnnArgs) -> anyhow::Result<Self> {
        let (split, split_path) = args.split.resolve(dataset, &args.out_dir)?;
        let parts = split.assign(dataset)?;
        Ok(Self {
            train: part_indices(&parts, Part::Train),
            valid: part_indices(&parts, Part::Valid),
            all: (0..parts.len()).filter(|&i| parts[i].is_some()).collect(),
            labels: dataset.examples.iter().map(|e| e.label).collect(),
            dataset,
            args,
            split,
            split_path,
            parts,
        })
    }

    /// Trains `model` (initialised on `device.autodiff()`) with training seed `seed` and
    /// writes its predictions and log. `model_name` and `settings` go into the prediction
    /// file's header.
    fn train_seed<M, F>(
        &self,
        seed: u64,
        model: M,
        forward: F,
        device: &Device,
        model_name: &str,
        settings: Vec<(String, String)>,
    ) -> anyhow::Result<()>
    where
        M: Module,
        F: Fn(&M, &[usize], &Device) -> Tensor<2>,
    {
        let args = self.args;
        let config = TrainerConfig {
            max_epochs: args.epochs,
            batch_size: args.batch_size,
            learning_rate: args.lr,
            patience: args.patience,
            seed,
        };
        let mut log = String::from(EPOCH_LOG_HEADER);
        let (best, report) = trainer::train(
            model,
            trainer::TrainData {
                train: &self.train,
                valid: &self.valid,
                labels: &self.labels,
            },
            &config,
            device,
            &forward,
            |e| log_epoch(seed, &mut log, e),
        )?;
        let pred = trainer::predict(
            &best,
            &self.all,
            args.batch_size,
            &report.label_norm,
            device,
            &forward,
        );
        let mut meta = run_meta(
            model_name,
            self.dataset,
            (&self.split_path, self.split.seed),
            seed,
            &report,
            &config,
        );
        meta.extend(settings);
        write_seed_run(
            self.dataset,
            &self.parts,
            &self.all,
            &pred,
            meta,
            &args.out_dir,
            seed,
            &log,
        )
    }
}

/// `texcnn baseline onehot-cnn`.
pub fn onehot_cnn(data: &DataArgs, args: &CnnArgs) -> anyhow::Result<ExitCode> {
    use texcnn_native::baselines::onehot_cnn::{OneHotCnn, OneHotCnnConfig, one_hot};

    let dataset = load(data)?;
    let length = dataset.examples[0].sequence.len();
    if let Some(e) = dataset.examples.iter().find(|e| e.sequence.len() != length) {
        bail!(
            "the one-hot CNN needs one sequence length: \"{}\" is {} bp, \"{}\" is {length} bp",
            e.id,
            e.sequence.len(),
            dataset.examples[0].id
        );
    }
    let runs = SeedRuns::new(&dataset, args)?;
    let sequences: Vec<&str> = dataset
        .examples
        .iter()
        .map(|e| e.sequence.as_str())
        .collect();
    let forward = |model: &OneHotCnn, batch: &[usize], device: &Device| {
        let seqs: Vec<&str> = batch.iter().map(|&i| sequences[i]).collect();
        model.forward(one_hot(&seqs, length, device))
    };
    let device = Device::flex();
    for &seed in &args.seeds {
        device.seed(seed);
        let model = OneHotCnnConfig::new(length).init(&device.clone().autodiff())?;
        runs.train_seed(
            seed,
            model,
            forward,
            &device,
            "onehot-cnn (Xpresso-style)",
            Vec::new(),
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Settings of `texcnn baseline deeplncloc` beyond the shared training settings.
#[derive(Args, Debug, Clone)]
pub struct DeepLncLocArgs {
    /// k-mer length: overlapping k-mers (stride 1) are the words.
    #[arg(long, default_value_t = 3)]
    pub k: usize,
    /// Subsequences each sequence's k-mer list is cut into (the last takes the remainder).
    #[arg(long, default_value_t = 64)]
    pub subsequences: usize,
    /// Word2Vec vector size.
    #[arg(long, default_value_t = 64)]
    pub w2v_dim: usize,
    /// Word2Vec window (largest distance between centre and context k-mer).
    #[arg(long, default_value_t = 5)]
    pub w2v_window: usize,
    /// Word2Vec negative samples per pair.
    #[arg(long, default_value_t = 5)]
    pub w2v_negatives: usize,
    /// Word2Vec epochs over the training genes.
    #[arg(long, default_value_t = 5)]
    pub w2v_epochs: usize,
    /// Word2Vec starting learning rate (linear decay).
    #[arg(long, default_value_t = 0.025)]
    pub w2v_lr: f64,
    /// Word2Vec seed. The vectors are trained once and shared by every training seed, as
    /// TExCNN's encoder is.
    #[arg(long, default_value_t = 0)]
    pub w2v_seed: u64,
}

/// `texcnn baseline deeplncloc`: Word2Vec once on the training genes' k-mers, the
/// [genes, subsequences, dim] matrix of subsequence means, then per training seed TExCNN's
/// text-CNN head trained on it.
pub fn deeplncloc(
    data: &DataArgs,
    args: &CnnArgs,
    dll: &DeepLncLocArgs,
) -> anyhow::Result<ExitCode> {
    use texcnn::head::{TextCnnHead, TextCnnHeadConfig};
    use texcnn_native::baselines::deeplncloc::{
        check_lengths, check_settings, kmer_tokens, subsequence_vectors,
    };
    use texcnn_native::baselines::word2vec::{self, Word2VecConfig};

    let (k, s, dim) = (dll.k, dll.subsequences, dll.w2v_dim);
    check_settings(k, s)?;
    let w2v = Word2VecConfig {
        dim,
        window: dll.w2v_window,
        negatives: dll.w2v_negatives,
        epochs: dll.w2v_epochs,
        learning_rate: dll.w2v_lr,
        seed: dll.w2v_seed,
    };
    w2v.validate()?;
    let head = TextCnnHeadConfig::new(dim);
    head.validate()?;
    let dataset = load(data)?;
    check_lengths(
        dataset
            .examples
            .iter()
            .map(|e| (e.id.as_str(), e.sequence.as_str())),
        k,
        s,
    )?;
    let runs = SeedRuns::new(&dataset, args)?;
    let tokens: Vec<Vec<Option<u32>>> = dataset
        .examples
        .iter()
        .map(|e| kmer_tokens(&e.sequence, k))
        .collect();
    // Word2Vec never sees a validation or test gene.
    let corpus: Vec<&[Option<u32>]> = runs.train.iter().map(|&i| tokens[i].as_slice()).collect();
    let settings = vec![(
        "deeplncloc".to_string(),
        format!(
            "k {k}, {s} subsequences; word2vec skip-gram on the training genes: dim {dim}, \
             window {}, {} negatives, {} epochs, lr {}, seed {}; text-CNN kernels {:?} x {} \
             filters, dense {:?}, dropout {}",
            w2v.window,
            w2v.negatives,
            w2v.epochs,
            w2v.learning_rate,
            w2v.seed,
            head.kernel_sizes,
            head.filters,
            head.dense,
            head.dropout
        ),
    )];
    let started = std::time::Instant::now();
    let embeddings = word2vec::train(&corpus, 1 << (2 * k), &w2v, |e| {
        eprintln!(
            "word2vec epoch {}: loss {:.4}, {:.1} M pairs, {:.2} M pairs/s",
            e.epoch,
            e.mean_loss,
            e.pairs as f64 / 1e6,
            e.pairs as f64 / 1e6 / e.seconds.max(1e-9)
        );
    })?;
    let mut features = Vec::with_capacity(tokens.len() * s * dim);
    for (e, t) in dataset.examples.iter().zip(&tokens) {
        features.extend(
            subsequence_vectors(t, s, &embeddings)
                .with_context(|| format!("\"{}\" has fewer than {s} k-mers", e.id))?,
        );
    }
    eprintln!(
        "word2vec and the [{}, {s}, {dim}] subsequence matrix: {:.1} s",
        tokens.len(),
        started.elapsed().as_secs_f64()
    );
    let features = features.as_slice();
    // [batch, subsequences, dim] rows of the precomputed matrix.
    let forward = |model: &TextCnnHead, batch: &[usize], device: &Device| {
        let mut x = Vec::with_capacity(batch.len() * s * dim);
        for &i in batch {
            x.extend_from_slice(&features[i * s * dim..(i + 1) * s * dim]);
        }
        model.forward(
            Tensor::from_data(TensorData::new(x, [batch.len(), s, dim]), device),
            None,
        )
    };
    let device = Device::flex();
    for &seed in &args.seeds {
        let started = std::time::Instant::now();
        device.seed(seed);
        let model = head.init(&device.clone().autodiff())?;
        runs.train_seed(
            seed,
            model,
            forward,
            &device,
            "deeplncloc",
            settings.clone(),
        )?;
        eprintln!(
            "seed {seed}: {:.1} s (training and prediction)",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Which split a training command uses.
#[derive(Args, Debug, Clone)]
pub struct SplitChoice {
    /// Use this split file (else one is made with --split-seed and written to --out-dir).
    #[arg(long)]
    pub split: Option<PathBuf>,
    /// Seed of the split made when no --split is given.
    #[arg(long, default_value_t = 0)]
    pub split_seed: u64,
}

impl SplitChoice {
    /// Reads the split file, or makes the split and writes it to `out_dir`; prints it.
    pub fn resolve(
        &self,
        dataset: &Dataset,
        out_dir: &Path,
    ) -> anyhow::Result<(SplitFile, PathBuf)> {
        let (split, path) = match &self.split {
            Some(path) => (SplitFile::read(path)?, path.clone()),
            None => {
                let split = texcnn_native::data::split_file::make_split(
                    dataset,
                    self.split_seed,
                    SplitFractions::default(),
                )?;
                let path = out_dir.join(format!("split_seed{}.json", self.split_seed));
                split.write(&path)?;
                (split, path)
            }
        };
        eprintln!("{}", describe_split(&split));
        Ok((split, path))
    }
}

/// Writes one training run's predictions (`predictions_seedN.tsv`, every gene of the split with
/// its part) and epoch log (`train_log_seedN.tsv`) to `out_dir`, and prints its test R².
/// `predictions[k]` is the prediction for example `all_idx[k]`.
#[allow(clippy::too_many_arguments)]
pub fn write_seed_run(
    dataset: &Dataset,
    parts: &[Option<Part>],
    all_idx: &[usize],
    predictions: &[f64],
    meta: Vec<(String, String)>,
    out_dir: &Path,
    seed: u64,
    log: &str,
) -> anyhow::Result<()> {
    let rows = all_idx
        .iter()
        .zip(predictions)
        .filter_map(|(&i, &p)| {
            parts[i].map(|part| Prediction {
                id: dataset.examples[i].id.clone(),
                part,
                label: dataset.examples[i].label,
                prediction: p,
            })
        })
        .collect();
    let file = PredictionFile { meta, rows };
    let out = out_dir.join(format!("predictions_seed{seed}.tsv"));
    file.write(&out)?;
    texcnn_native::files::output::write_atomic(
        &out_dir.join(format!("train_log_seed{seed}.tsv")),
        log,
    )
    .with_context(|| format!("writing the training log to {}", out_dir.display()))?;
    let (p, l) = file.part(Part::Test);
    eprintln!(
        "{}: {}, test R² {}",
        out.display(),
        file.meta("best_epoch")
            .map_or_else(String::new, |b| format!("best epoch {b}")),
        texcnn_native::eval::metrics::scores(&p, &l)
            .map_or("undefined".into(), |s| format!("{:.4}", s.r2))
    );
    Ok(())
}

/// Header of `train_log_seedN.tsv`; [`log_epoch`] writes its rows.
pub const EPOCH_LOG_HEADER: &str = "epoch\ttrain_mse\tvalid_mse\tseconds\n";

/// Prints one epoch's losses and appends them to a training log.
pub fn log_epoch(seed: u64, log: &mut String, e: &texcnn_native::train::trainer::EpochLog) {
    eprintln!(
        "seed {seed} epoch {}: train MSE {:.4}, valid MSE {:.4} (standardised), {:.1} s",
        e.epoch, e.train_loss, e.valid_loss, e.seconds
    );
    log.push_str(&format!(
        "{}\t{:.6}\t{:.6}\t{:.2}\n",
        e.epoch, e.train_loss, e.valid_loss, e.seconds
    ));
}

/// The header lines every trained model's prediction file starts with: model, data, label,
/// split, seeds, the kept epoch and the training settings.
pub fn run_meta(
    model: &str,
    dataset: &Dataset,
    (split_path, split_seed): (&Path, u64),
    seed: u64,
    report: &texcnn_native::train::trainer::TrainReport,
    config: &TrainerConfig,
) -> Vec<(String, String)> {
    vec![
        ("model".into(), model.to_string()),
        ("data".into(), dataset.source.clone()),
        ("label".into(), dataset.label_name.clone()),
        ("split".into(), split_path.display().to_string()),
        ("split_seed".into(), split_seed.to_string()),
        ("seed".into(), seed.to_string()),
        (
            "best_epoch".into(),
            format!(
                "{} of {} (valid MSE {:.4})",
                report.best_epoch,
                report.history.len(),
                report.best_valid_loss
            ),
        ),
        (
            "training".into(),
            format!(
                "Adam lr {}, batch {}, patience {}, max epochs {}",
                config.learning_rate, config.batch_size, config.patience, config.max_epochs
            ),
        ),
    ]
}
