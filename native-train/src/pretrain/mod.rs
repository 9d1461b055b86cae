//! `texcnn pretrain`: masked-language-model pre-training of a DNABERT-2-architecture encoder
//! on promoter DNA, the way DNABERT-2 was made (BPE tokens, 15 % masking with 80/10/10,
//! AdamW with warm-up and decay, gradient clipping).
//!
//! The output folder is a Hugging Face-style model folder that `texcnn embed --model DIR`
//! and `texcnn import` read like the real DNABERT-2 (`config.json`, `tokenizer.json`,
//! `model.safetensors` with `bert.*` and `cls.predictions.*`), plus what resuming needs
//! (`train_state/`), the loss log (`log.tsv`), the loss curve (`loss.svg`) and a model card
//! (`model_card.json`).

pub mod baseline;
pub mod data;
pub mod masking;
pub mod plot;
pub mod schedule;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::{Device, Int, Tensor, TensorData};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::cli::device::DeviceChoice;
use texcnn::encoder::mlm::MlmHead;
use texcnn::encoder::{Checkpoint, Dnabert2Config, Dnabert2Encoder};
use texcnn::tokenizer::{Dnabert2Tokenizer, OFFICIAL_TOKENIZER_JSON};

use baseline::Baselines;
use masking::{Masked, SplitMix64, mask_tokens};

/// Settings of one pre-training run (saved with the checkpoint; a resumed run keeps them).
#[derive(clap::Args, Debug, Clone, Serialize, Deserialize)]
pub struct PretrainArgs {
    /// FASTA file of unlabeled sequences (plain or .gz).
    #[arg(long)]
    pub fasta: PathBuf,
    /// Output model folder (created; resumed from if it holds a checkpoint).
    #[arg(long)]
    pub out: PathBuf,
    /// Hidden size of the encoder.
    #[arg(long, default_value_t = 256, value_parser = positive)]
    pub hidden: usize,
    /// Number of encoder layers.
    #[arg(long, default_value_t = 4, value_parser = positive)]
    pub layers: usize,
    /// Attention heads.
    #[arg(long, default_value_t = 4, value_parser = positive)]
    pub heads: usize,
    /// Intermediate (gated MLP) size; defaults to 4 × hidden.
    #[arg(long)]
    pub intermediate: Option<usize>,
    /// Crop length in bp (about 4.5 bp per BPE token).
    #[arg(long, default_value_t = 512, value_parser = positive)]
    pub crop_bp: usize,
    /// Crops per optimisation step.
    #[arg(long, default_value_t = 16, value_parser = positive)]
    pub batch: usize,
    /// Total optimisation steps.
    #[arg(long, default_value_t = 2000, value_parser = positive)]
    pub steps: usize,
    /// Warm-up steps.
    #[arg(long, default_value_t = 100)]
    pub warmup: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// AdamW weight decay.
    #[arg(long, default_value_t = 0.01)]
    pub weight_decay: f64,
    /// Gradient clipping (global L2 norm).
    #[arg(long, default_value_t = 1.0)]
    pub clip: f64,
    /// Held-out share of the sequences, per mille (chosen by a hash of the sequence).
    #[arg(long, default_value_t = 20)]
    pub heldout_per_mille: u64,
    /// Held-out crops scored at each evaluation.
    #[arg(long, default_value_t = 256, value_parser = positive)]
    pub eval_crops: usize,
    /// Evaluate and checkpoint every this many steps.
    #[arg(long, default_value_t = 200, value_parser = positive)]
    pub checkpoint_every: usize,
    /// Random seed (crops, masks, initialisation).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Compute device: `cpu` (burn Flex) or `wgpu` (GPU through Vulkan/Metal/DX12).
    #[arg(long, value_enum, default_value_t = DeviceChoice::Cpu)]
    pub device: DeviceChoice,
    /// Stop after this many seconds (a checkpoint is written first); resume later.
    #[arg(long)]
    pub max_seconds: Option<u64>,
    /// Start from the weights of a model folder that `texcnn pretrain` wrote (config.json,
    /// model.safetensors with the MLM head), e.g. models/encoder, instead of a random
    /// initialisation: pre-training continues with a new schedule (warm-up included) and a
    /// fresh optimiser. Its sizes must be this run's. Ignored when --out already holds a
    /// checkpoint (that run resumes).
    #[arg(long)]
    #[serde(default)]
    pub init_from: Option<PathBuf>,
}

/// A whole number of at least 1.
fn positive(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// What resuming needs beyond the weights and the optimiser.
#[derive(Debug, Serialize, Deserialize)]
struct TrainState {
    args: PretrainArgs,
    step: usize,
    tokens_seen: u64,
    wall_seconds: f64,
    hardware: Vec<String>,
    /// (step, train loss averaged since the previous row)
    train_log: Vec<(usize, f64)>,
    /// (step, held-out loss, held-out masked accuracy)
    eval_log: Vec<(usize, f64, f64)>,
}

/// The model being trained: the encoder (`bert.*`) and its MLM head (`cls.predictions.*`).
#[derive(Module, Debug)]
pub struct MaskedLm {
    pub bert: Dnabert2Encoder,
    pub cls: MlmHead,
}

/// One batch of masked crops, as tensors.
struct Batch {
    ids: Tensor<2, Int>,
    mask: Tensor<2, burn::tensor::Bool>,
    /// Flat positions (row·tokens + column) of the targets.
    positions: Tensor<1, Int>,
    targets: Tensor<1, Int>,
    tokens: u64,
}

fn make_batch(examples: &[Masked], device: &Device) -> Batch {
    let longest = examples.iter().map(|m| m.input.len()).max().unwrap_or(2);
    let mut ids = Vec::with_capacity(examples.len() * longest);
    let mut mask = Vec::with_capacity(examples.len() * longest);
    let mut positions = Vec::new();
    let mut targets = Vec::new();
    let mut tokens = 0u64;
    for (row, m) in examples.iter().enumerate() {
        tokens += m.input.len() as u64;
        for col in 0..longest {
            ids.push(i64::from(
                m.input
                    .get(col)
                    .copied()
                    .unwrap_or(texcnn::tokenizer::special::PAD),
            ));
            mask.push(col < m.input.len());
        }
        for &(col, target) in &m.targets {
            positions.push((row * longest + col) as i64);
            targets.push(i64::from(target));
        }
    }
    let n = positions.len();
    Batch {
        ids: Tensor::from_data(TensorData::new(ids, [examples.len(), longest]), device),
        mask: Tensor::from_data(TensorData::new(mask, [examples.len(), longest]), device),
        positions: Tensor::from_data(TensorData::new(positions, [n]), device),
        targets: Tensor::from_data(TensorData::new(targets, [n]), device),
        tokens,
    }
}

impl MaskedLm {
    /// Logits at the target positions → [targets, vocab].
    fn logits(&self, batch: &Batch) -> Tensor<2> {
        let hidden = self.bert.forward(batch.ids.clone(), batch.mask.clone());
        let [b, t, h] = hidden.dims();
        let picked = hidden
            .reshape([b * t, h])
            .select(0, batch.positions.clone());
        self.cls
            .forward(picked, self.bert.embeddings.word_embeddings.weight.val())
    }
}

fn masked_examples(
    seqs: &[String],
    total_bp: u64,
    count: usize,
    args: &PretrainArgs,
    tokenizer: &Dnabert2Tokenizer,
    vocab: usize,
    rng: &mut SplitMix64,
) -> anyhow::Result<Vec<Masked>> {
    (0..count)
        .map(|_| {
            let crop = data::random_crop(seqs, total_bp, args.crop_bp, rng);
            let ids = tokenizer.encode(crop)?;
            Ok(mask_tokens(&ids, vocab, rng))
        })
        .collect()
}

/// Held-out evaluation: (loss, masked accuracy) over fixed crops and masks.
fn evaluate(model: &MaskedLm, heldout: &[Masked], device: &Device, batch: usize) -> (f64, f64) {
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let (mut loss_sum, mut correct, mut total) = (0.0, 0usize, 0usize);
    for chunk in heldout.chunks(batch) {
        let b = make_batch(chunk, device);
        let n = chunk.iter().map(|m| m.targets.len()).sum::<usize>();
        let logits = model.logits(&b);
        let loss = f64::from(
            loss_fn
                .forward(logits.clone(), b.targets.clone())
                .into_scalar::<f32>(),
        );
        let hits = logits
            .argmax(1)
            .reshape([n])
            .equal(b.targets)
            .int()
            .sum()
            .into_scalar::<i64>();
        loss_sum += loss * n as f64;
        correct += hits as usize;
        total += n;
    }
    (
        loss_sum / total.max(1) as f64,
        correct as f64 / total.max(1) as f64,
    )
}

pub fn run(args: PretrainArgs) -> anyhow::Result<()> {
    let state_dir = args.out.join("train_state");
    let resumed: Option<TrainState> = match std::fs::read_to_string(state_dir.join("state.json")) {
        Ok(text) => Some(serde_json::from_str(&text).context("reading train_state/state.json")?),
        Err(_) => None,
    };
    let mut args = args;
    if let Some(state) = &resumed {
        eprintln!(
            "resuming {} at step {} of {} (settings of the original run)",
            args.out.display(),
            state.step,
            state.args.steps
        );
        let (steps, max_seconds, device) = (args.steps, args.max_seconds, args.device);
        args = state.args.clone();
        // A resumed run may extend the schedule, change its time budget or move device.
        args.steps = steps.max(args.steps);
        args.max_seconds = max_seconds;
        args.device = device;
    }

    let tokenizer = Dnabert2Tokenizer::official()?;
    let vocab = tokenizer.vocab_size();
    let config = Dnabert2Config {
        vocab_size: vocab,
        hidden_size: args.hidden,
        num_hidden_layers: args.layers,
        num_attention_heads: args.heads,
        intermediate_size: args.intermediate.unwrap_or(4 * args.hidden),
        ..Dnabert2Config::dnabert2_117m()
    };
    config.validate()?;

    eprintln!("reading {}", args.fasta.display());
    let corpus = data::load_corpus(&args.fasta, args.heldout_per_mille)?;
    let train_bp: u64 = corpus.train.iter().map(|s| s.len() as u64).sum();
    let heldout_bp: u64 = corpus.heldout.iter().map(|s| s.len() as u64).sum();
    eprintln!(
        "{} training sequences ({:.1} Mbp), {} held out ({:.2} Mbp)",
        corpus.train.len(),
        train_bp as f64 / 1e6,
        corpus.heldout.len(),
        heldout_bp as f64 / 1e6
    );

    std::fs::create_dir_all(&state_dir)
        .with_context(|| format!("creating {}", state_dir.display()))?;

    // Fixed held-out examples and baselines fitted on as many training examples.
    let mut eval_rng = SplitMix64::new(0x5EED_0000 ^ args.seed);
    let heldout = masked_examples(
        &corpus.heldout,
        heldout_bp,
        args.eval_crops,
        &args,
        &tokenizer,
        vocab,
        &mut eval_rng,
    )?;
    let mut baselines = Baselines::default();
    for m in masked_examples(
        &corpus.train,
        train_bp,
        20 * args.eval_crops,
        &args,
        &tokenizer,
        vocab,
        &mut eval_rng,
    )? {
        baselines.observe(&m);
    }
    let (mut uni, mut ctx, mut n) = (0, 0, 0);
    for m in &heldout {
        let (u, c, t) = baselines.score(m);
        uni += u;
        ctx += c;
        n += t;
    }
    let unigram_acc = uni as f64 / n.max(1) as f64;
    let context_acc = ctx as f64 / n.max(1) as f64;
    eprintln!(
        "held-out masked-token accuracy of baselines: most frequent token {:.4}, neighbour-context model {:.4} ({n} targets)",
        unigram_acc, context_acc
    );

    let base_device = args.device.device()?;
    base_device.seed(args.seed);
    let device = base_device.clone().autodiff();
    let mut model = match (&args.init_from, &resumed) {
        (Some(dir), None) => {
            eprintln!("starting from the weights of {}", dir.display());
            load_init(dir, &config, &device)?
        }
        _ => MaskedLm {
            bert: Dnabert2Encoder::init(&config, &device),
            cls: MlmHead::init(&config, &device),
        },
    };
    let mut optim = AdamWConfig::new()
        .with_weight_decay(args.weight_decay as f32)
        .with_grad_clipping(Some(GradientClippingConfig::Norm(args.clip as f32)))
        .init();
    let mut state = resumed.unwrap_or(TrainState {
        args: args.clone(),
        step: 0,
        tokens_seen: 0,
        wall_seconds: 0.0,
        hardware: Vec::new(),
        train_log: Vec::new(),
        eval_log: Vec::new(),
    });
    state.args = args.clone();
    if state.step > 0 {
        let mut store = BurnpackStore::from_file(state_dir.join("model.bpk"));
        model
            .load_from(&mut store)
            .map_err(|e| anyhow::anyhow!("loading train_state/model.bpk: {e:?}"))?;
        optim = optim
            .load(state_dir.join("optim.bpk"))
            .map_err(|e| anyhow::anyhow!("loading train_state/optim.bpk: {e:?}"))?;
    }
    let hardware = format!(
        "{} ({} threads)",
        args.device,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    if !state.hardware.contains(&hardware) {
        state.hardware.push(hardware);
    }

    let params = model.num_params();
    eprintln!(
        "model: hidden {}, {} layers, {} heads, intermediate {}: {:.2} M parameters",
        config.hidden_size,
        config.num_hidden_layers,
        config.num_attention_heads,
        config.intermediate_size,
        params as f64 / 1e6
    );

    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let bar = ProgressBar::new(args.steps as u64).with_position(state.step as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {pos}/{len} steps {msg} [{elapsed_precise}, eta {eta}]",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let wall_before = state.wall_seconds;
    let (mut window_loss, mut window_steps, mut window_tokens) = (0.0, 0usize, 0u64);
    let mut window_start = Instant::now();
    while state.step < args.steps {
        // Crops and masks of step k depend only on (seed, k): a resumed run sees the same data.
        let mut rng = SplitMix64::new(
            args.seed
                .wrapping_mul(0x9E37_79B9)
                .wrapping_add(state.step as u64),
        );
        let examples = masked_examples(
            &corpus.train,
            train_bp,
            args.batch,
            &args,
            &tokenizer,
            vocab,
            &mut rng,
        )?;
        let batch = make_batch(&examples, &device);
        let loss = loss_fn.forward(model.logits(&batch), batch.targets.clone());
        let loss_value = f64::from(loss.clone().into_scalar::<f32>());
        anyhow::ensure!(
            loss_value.is_finite(),
            "the loss became {loss_value} at step {}",
            state.step
        );
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let lr = schedule::learning_rate(state.step, args.steps, args.warmup, args.lr);
        model = optim.step(lr, model, grads);
        state.step += 1;
        state.tokens_seen += batch.tokens;
        window_loss += loss_value;
        window_steps += 1;
        window_tokens += batch.tokens;
        bar.set_position(state.step as u64);
        let rate = window_tokens as f64 / window_start.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!(
            "loss {:.3}  {:.0} tokens/s",
            window_loss / window_steps as f64,
            rate
        ));

        let out_of_time = args
            .max_seconds
            .is_some_and(|limit| started.elapsed().as_secs() >= limit);
        if state.step.is_multiple_of(args.checkpoint_every)
            || state.step == args.steps
            || out_of_time
        {
            state
                .train_log
                .push((state.step, window_loss / window_steps as f64));
            let (eval_loss, eval_acc) =
                evaluate(&model.valid(), &heldout, &base_device, args.batch);
            state.eval_log.push((state.step, eval_loss, eval_acc));
            state.wall_seconds = wall_before + started.elapsed().as_secs_f64();
            bar.suspend(|| eprintln!(
                "step {}: train loss {:.4}, held-out loss {:.4}, held-out masked accuracy {:.4}, {:.0} tokens/s",
                state.step,
                window_loss / window_steps as f64,
                eval_loss,
                eval_acc,
                rate
            ));
            save(
                &args.out,
                &state_dir,
                &model,
                &optim,
                &config,
                &state,
                (unigram_acc, context_acc),
            )?;
            (window_loss, window_steps, window_tokens) = (0.0, 0, 0);
            window_start = Instant::now();
            if out_of_time {
                bar.abandon_with_message(
                    "time budget reached: run the same command again to resume",
                );
                return Ok(());
            }
        }
    }
    bar.finish_with_message("done");
    Ok(())
}

#[allow(clippy::too_many_arguments)]
/// The encoder and MLM head of the model folder `dir` (`--init-from`), which must have the
/// sizes of `config`.
fn load_init(dir: &Path, config: &Dnabert2Config, device: &Device) -> anyhow::Result<MaskedLm> {
    let config_path = dir.join("config.json");
    let text = std::fs::read_to_string(&config_path)
        .with_context(|| format!("--init-from: reading {}", config_path.display()))?;
    let found = Dnabert2Config::from_json_str(&text)
        .with_context(|| format!("--init-from: {}", config_path.display()))?;
    let sizes = |c: &Dnabert2Config| {
        (
            c.vocab_size,
            c.hidden_size,
            c.num_hidden_layers,
            c.num_attention_heads,
            c.intermediate_size,
        )
    };
    if sizes(&found) != sizes(config) {
        anyhow::bail!(
            "--init-from {}: its sizes (vocabulary, hidden, layers, heads, intermediate) are \
             {:?}, this run's {:?}: give --hidden, --layers, --heads and --intermediate as it \
             was trained",
            dir.display(),
            sizes(&found),
            sizes(config)
        );
    }
    let weights_path = dir.join("model.safetensors");
    let bytes = std::fs::read(&weights_path)
        .with_context(|| format!("--init-from: reading {}", weights_path.display()))?;
    let checkpoint = Checkpoint::from_safetensors(bytes)
        .map_err(|e| anyhow::anyhow!("--init-from {}: {e}", weights_path.display()))?;
    let bert = Dnabert2Encoder::from_checkpoint(config, &checkpoint, device)
        .map_err(|e| anyhow::anyhow!("--init-from {}: the encoder: {e}", weights_path.display()))?;
    let cls = MlmHead::from_checkpoint(config, &checkpoint, device).map_err(|e| {
        anyhow::anyhow!(
            "--init-from {}: the MLM head (cls.predictions.*, which texcnn pretrain writes): {e}",
            weights_path.display()
        )
    })?;
    Ok(MaskedLm { bert, cls })
}

fn save(
    out: &Path,
    state_dir: &Path,
    model: &MaskedLm,
    optim: &burn::optim::ModuleOptimizer,
    config: &Dnabert2Config,
    state: &TrainState,
    baselines: (f64, f64),
) -> anyhow::Result<()> {
    // Write next to the target, then rename: an interrupted save never corrupts a checkpoint.
    let write = |name: &Path, bytes: &[u8]| texcnn_native::files::output::write_atomic(name, bytes);
    let mut store = BurnpackStore::from_file(state_dir.join("model.partial.bpk")).overwrite(true);
    model
        .save_into(&mut store)
        .map_err(|e| anyhow::anyhow!("saving the training state: {e:?}"))?;
    std::fs::rename(
        state_dir.join("model.partial.bpk"),
        state_dir.join("model.bpk"),
    )?;
    optim
        .save(state_dir.join("optim.partial.bpk"))
        .map_err(|e| anyhow::anyhow!("saving the optimiser state: {e:?}"))?;
    std::fs::rename(
        state_dir.join("optim.partial.bpk"),
        state_dir.join("optim.bpk"),
    )?;
    write(
        &state_dir.join("state.json"),
        serde_json::to_string_pretty(state)?.as_bytes(),
    )?;

    // The official layout.
    let mut checkpoint = model.bert.to_checkpoint()?;
    model.cls.write_checkpoint(
        &mut checkpoint,
        &model.bert.embeddings.word_embeddings.weight.val(),
    )?;
    write(
        &out.join("model.safetensors"),
        &checkpoint.to_safetensors().map_err(anyhow::Error::msg)?,
    )?;
    write(&out.join("config.json"), config.to_json_string().as_bytes())?;
    write(&out.join("tokenizer.json"), OFFICIAL_TOKENIZER_JSON)?;

    let train: Vec<(f64, f64)> = state
        .train_log
        .iter()
        .map(|&(s, l)| (s as f64, l))
        .collect();
    let eval: Vec<(f64, f64)> = state
        .eval_log
        .iter()
        .map(|&(s, l, _)| (s as f64, l))
        .collect();
    let svg = plot::line_chart_svg(
        "Masked-language-model loss",
        "step",
        "cross-entropy (nats)",
        &[
            plot::Series {
                name: "train",
                colour: "#1f77b4",
                points: &train,
            },
            plot::Series {
                name: "held out",
                colour: "#d62728",
                points: &eval,
            },
        ],
    );
    write(&out.join("loss.svg"), svg.as_bytes())?;
    let mut log = String::from("step\ttrain_loss\theldout_loss\theldout_masked_accuracy\n");
    for &(step, eval_loss, acc) in &state.eval_log {
        let train_loss = state
            .train_log
            .iter()
            .find(|&&(s, _)| s == step)
            .map_or(f64::NAN, |&(_, l)| l);
        log.push_str(&format!(
            "{step}\t{train_loss:.5}\t{eval_loss:.5}\t{acc:.5}\n"
        ));
    }
    write(&out.join("log.tsv"), log.as_bytes())?;
    let last = state
        .eval_log
        .last()
        .copied()
        .unwrap_or((0, f64::NAN, f64::NAN));
    let card = serde_json::json!({
        "name": "texcnn promoter encoder (DNABERT-2 architecture, pre-trained here)",
        "architecture": {
            "hidden_size": config.hidden_size,
            "num_hidden_layers": config.num_hidden_layers,
            "num_attention_heads": config.num_attention_heads,
            "intermediate_size": config.intermediate_size,
            "vocab_size": config.vocab_size,
            "parameters": model.num_params(),
        },
        "training": {
            "objective": "masked language modelling, 15 % of tokens, 80/10/10",
            "data": state.args.fasta.file_name().map_or_else(
                || state.args.fasta.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            "heldout": format!("sequences whose FNV-1a hash mod 1000 < {} (fixed)", state.args.heldout_per_mille),
            "crop_bp": state.args.crop_bp,
            "batch": state.args.batch,
            "steps": state.step,
            "tokens_seen": state.tokens_seen,
            "wall_seconds": state.wall_seconds,
            "hardware": state.hardware,
            "seed": state.args.seed,
            // --init-from: the steps above continue that folder's pre-training.
            "initialised_from": state.args.init_from.as_ref().map_or_else(
                || "random (BERT initialisation)".to_string(),
                |d| d.display().to_string(),
            ),
            "optimizer": format!("AdamW lr {} (warm-up {}, linear decay to 10 %), weight decay {}, clip {}", state.args.lr, state.args.warmup, state.args.weight_decay, state.args.clip),
        },
        "heldout_metrics": {
            "mlm_loss": last.1,
            "masked_accuracy": last.2,
            "baseline_most_frequent_token_accuracy": baselines.0,
            "baseline_neighbour_context_accuracy": baselines.1,
        },
        "tokenizer": "DNABERT-2-117M tokenizer.json (Apache-2.0)",
    });
    write(
        &out.join("model_card.json"),
        serde_json::to_string_pretty(&card)?.as_bytes(),
    )?;
    Ok(())
}
