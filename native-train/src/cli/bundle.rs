//! `texcnn import` and `texcnn inspect`.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use texcnn::bundle::{Bundle, Encoding, ModelCard, Precision};
use texcnn::segment::SegmentPlan;
use texcnn_native::files::import::import_hf_folder;

/// Storage precision of the encoder weights.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Quantize {
    /// Per-row int8 for Linear weights and the word embedding, f32 elsewhere.
    Int8,
    /// Every tensor half precision.
    F16,
    /// Every tensor f32 (the source weights exactly).
    F32,
}

impl From<Quantize> for Precision {
    fn from(q: Quantize) -> Self {
        match q {
            Quantize::Int8 => Precision::Int8,
            Quantize::F16 => Precision::F16,
            Quantize::F32 => Precision::F32,
        }
    }
}

/// Imports a Hugging Face DNABERT-2 folder as an encoder-only bundle.
pub fn import(
    hf_dir: &Path,
    out: &Path,
    quantize: Quantize,
    name: Option<String>,
    segment_plan: SegmentPlan,
) -> anyhow::Result<ExitCode> {
    segment_plan.validate().context("segment plan")?;
    let source = hf_dir.display().to_string();
    let name = name.unwrap_or_else(|| {
        hf_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "dnabert2".into())
    });
    let start = Instant::now();
    eprintln!("reading {source} and checking it against its config.json ...");
    let plan = Precision::from(quantize).plan();
    let bundle = import_hf_folder(
        hf_dir,
        ModelCard::imported_encoder(&name, &source),
        segment_plan,
        &plan,
    )
    .with_context(|| format!("importing {source}"))?;
    let bytes = bundle.to_bytes().context("writing the bundle")?;
    texcnn_native::files::output::write_atomic(out, &bytes)?;
    eprintln!(
        "wrote {} ({} bytes, {:.1} MB, {:?}) in {:.1} s",
        out.display(),
        bytes.len(),
        bytes.len() as f64 / 1e6,
        quantize,
        start.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// Prints the model card and the sizes of a bundle.
/// `texcnn add-output`: `base` with the outputs of `added` ([`texcnn::predict::add_output`]).
pub fn add_output(base: &Path, added: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let load = |file: &Path| -> anyhow::Result<Bundle> {
        let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        Bundle::from_bytes(&bytes).with_context(|| format!("loading {}", file.display()))
    };
    let merged = texcnn::predict::add_output(&load(base)?, &load(added)?).with_context(|| {
        format!(
            "adding the outputs of {} to {}",
            added.display(),
            base.display()
        )
    })?;
    let bytes = merged.to_bytes()?;
    texcnn_native::files::output::write_atomic(out, &bytes)?;
    let names: Vec<&str> = merged
        .card
        .outputs
        .iter()
        .map(|o| o.name.as_str())
        .collect();
    eprintln!(
        "{}: outputs {}, {:.2} MB",
        out.display(),
        names.join(", "),
        bytes.len() as f64 / 1e6
    );
    Ok(ExitCode::SUCCESS)
}

pub fn inspect(file: &Path) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let bundle =
        Bundle::from_bytes(&bytes).with_context(|| format!("loading {}", file.display()))?;
    print!("{}", render(&bundle, bytes.len()));
    Ok(ExitCode::SUCCESS)
}

fn mb(bytes: usize) -> String {
    format!("{bytes} bytes ({:.2} MB)", bytes as f64 / 1e6)
}

/// The text `inspect` prints.
pub fn render(bundle: &Bundle, file_len: usize) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "texcnn bundle, format version {}, {}",
        texcnn::bundle::FORMAT_VERSION,
        mb(file_len)
    );
    let _ = write!(out, "{}", bundle.card);
    let plan = &bundle.segment_plan;
    let _ = writeln!(
        out,
        "segments:    {} bp, stride {} bp, window {}",
        plan.segment_len,
        plan.stride,
        plan.window.map_or("any length".to_string(), |w| format!(
            "{w} bp ({:?}){}",
            plan.window_policy,
            plan.tss
                .map_or(String::new(), |t| format!(", TSS at bp {t}"))
        ))
    );
    let (tokenizer, encoder, head) = bundle.part_sizes();
    let _ = writeln!(out, "tokenizer:   {}", mb(tokenizer));
    let c = &bundle.encoder.config;
    let _ = writeln!(
        out,
        "encoder:     DNABERT-2, hidden {}, {} layers, {} heads, intermediate {}, vocab {}; {} parameters in {} tensors, {}",
        c.hidden_size,
        c.num_hidden_layers,
        c.num_attention_heads,
        c.intermediate_size,
        c.vocab_size,
        bundle.encoder.parameter_count(),
        bundle.encoder.tensors.len(),
        mb(encoder)
    );
    let mut by_encoding: std::collections::BTreeMap<String, (usize, usize, usize)> =
        Default::default();
    for t in &bundle.encoder.tensors {
        let key = match t.encoding {
            Encoding::Int8 { block } if Some(&block) == t.shape.last() => "int8 per row".into(),
            other => other.label(),
        };
        let e = by_encoding.entry(key).or_default();
        e.0 += 1;
        e.1 += t.element_count();
        e.2 += t.bytes.len();
    }
    for (encoding, (count, params, bytes)) in by_encoding {
        let _ = writeln!(
            out,
            "  {encoding:<14} {count:>4} tensors, {params:>11} parameters, {}",
            mb(bytes)
        );
    }
    match &bundle.head {
        Some(h) => {
            let _ = writeln!(
                out,
                "head:        {} version {}, {} tensors, {}",
                h.kind.as_str(),
                h.version,
                h.tensors.len(),
                mb(head)
            );
        }
        None => {
            let _ = writeln!(out, "head:        none (encoder-only bundle)");
        }
    }
    for stats in &bundle.normalization {
        let _ = writeln!(
            out,
            "normalise:   {} ({} dimensions)",
            stats.name,
            stats.mean.len()
        );
    }
    if let Some(f) = &bundle.features {
        let (values, head) = bundle.feature_sizes();
        let bits = f
            .store
            .columns
            .iter()
            .filter(|c| matches!(c.values, texcnn::features::ColumnValues::Bits { .. }))
            .count();
        let _ = writeln!(
            out,
            "features:    {} genes × {} columns ({} stored as bits) + {} missing-value indicators, {}; head {} tensors, {}",
            f.store.genes.len(),
            f.spec.columns.len(),
            bits,
            f.spec.indicators.len(),
            mb(values),
            f.head.tensors.len(),
            mb(head)
        );
        let _ = writeln!(
            out,
            "  records named by one of these genes (Ensembl id) use them; others the DNA-only head"
        );
        for s in &f.sources {
            let _ = writeln!(
                out,
                "  {}: {} columns; {}",
                s.file,
                s.columns.len(),
                s.licence
            );
        }
    }
    out
}
