//! `texcnn predict`: expression predictions for FASTA records from a predictor bundle.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use texcnn::bundle::Bundle;
use texcnn::export::{PredictionColumns, Separator, prediction_fields, prediction_header};
use texcnn::predict::Predictor;
use texcnn_native::data::features::{FeatureTables, describe};
use texcnn_native::files::output::AtomicFile;

use crate::cli::device::{ComputeChoice, DeviceChoice};

#[derive(clap::Args, Debug)]
pub struct PredictArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// FASTA file (or raw DNA; "-" for standard input).
    #[arg(long)]
    pub fasta: PathBuf,
    /// Output TSV: a header line, then per record `id`, one column per model output,
    /// `inputs` (`dna+features` when the record's gene had per-gene features, from the bundle
    /// or --features, and the bundle's features head predicted it; `dna` otherwise), `read`
    /// (which bases of the record were read and where its TSS was taken to be, e.g.
    /// `5977-8024 of 10500, tss 7001`) and `notes` (padding, trimming, an assumed TSS, many
    /// N, a duplicate id; empty when there is nothing to say). Rows are in input order, one
    /// per good record, also when two records share an id. A record gives its TSS with a
    /// header word `tss=N` (1-based). Written to a temporary file and renamed when complete.
    #[arg(long)]
    pub out: PathBuf,
    /// Per-gene feature tables (TSV/CSV, first column the Ensembl gene id) for genes the
    /// bundle does not carry, or to replace its values: a gene's known values here take the
    /// place of the bundle's, column by column (matched by name). Needs a bundle with a
    /// features head.
    #[arg(long, value_delimiter = ',')]
    pub features: Vec<PathBuf>,
}

/// The predictor bundle and how to run it (`predict`, `variants`, `ism`).
#[derive(clap::Args, Debug)]
pub struct ModelArgs {
    /// The predictor bundle (.texcnn).
    #[arg(long)]
    pub bundle: PathBuf,
    /// Segments per encoder pass.
    #[arg(long, default_value_t = 8)]
    pub batch_size: usize,
    /// Where the encoder runs (the head always runs on the CPU).
    #[arg(long, value_enum, default_value_t = DeviceChoice::Cpu)]
    pub device: DeviceChoice,
    /// How the encoder's Linear layers compute on the CPU: f32, or int8 (faster; segment
    /// embeddings within cosine 0.999 of f32). Ignored with --device wgpu.
    #[arg(long, value_enum, default_value_t = ComputeChoice::F32)]
    pub compute: ComputeChoice,
}

impl ModelArgs {
    /// The bundle's predictor on the chosen device.
    pub fn load(&self) -> anyhow::Result<Predictor> {
        load_predictor(&self.bundle, self.device, self.compute)
    }
}

/// The predictor of the bundle file `path`, on `device`.
fn load_predictor(
    path: &Path,
    device: DeviceChoice,
    compute: ComputeChoice,
) -> anyhow::Result<Predictor> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let bundle = Bundle::from_bytes(&bytes)
        .with_context(|| format!("loading the bundle {}", path.display()))?;
    let device = device.device()?;
    texcnn::bundle::set_default_compute(compute.compute());
    Predictor::from_bundle(&bundle, &device)
        .with_context(|| format!("loading the model of {}", path.display()))
}

/// The user's feature tables, as raw values in the bundle spec's column order.
struct Supplied {
    tables: FeatureTables,
    /// For each spec column, its column in `tables`.
    columns: Vec<Option<usize>>,
}

impl Supplied {
    fn read(paths: &[PathBuf], predictor: &Predictor) -> anyhow::Result<Option<Self>> {
        if paths.is_empty() {
            return Ok(None);
        }
        let Some(spec) = predictor.feature_spec() else {
            bail!(
                "--features: this bundle has no per-gene features head, so it predicts from the DNA alone (texcnn inspect shows what a bundle holds)"
            );
        };
        let tables = FeatureTables::read(paths, &[])?;
        for err in &tables.malformed {
            eprintln!("{err}");
        }
        let columns: Vec<Option<usize>> = spec
            .columns
            .iter()
            .map(|c| tables.columns.iter().position(|n| *n == c.name))
            .collect();
        if columns.iter().all(Option::is_none) {
            let names: Vec<&str> = spec.columns.iter().map(|c| c.name.as_str()).collect();
            bail!(
                "--features {}: none of its columns is one the model reads ({}{})",
                describe(paths),
                names[..names.len().min(8)].join(", "),
                if names.len() > 8 { ", …" } else { "" }
            );
        }
        let used = columns.iter().flatten().count();
        eprintln!(
            "features: {used} of the model's {} columns from {} ({} genes)",
            spec.columns.len(),
            describe(paths),
            tables.genes()
        );
        Ok(Some(Self { tables, columns }))
    }

    /// The table's raw values of a record's gene; `None` when no table has the gene.
    fn raw(&self, id: &str) -> Option<Vec<Option<f32>>> {
        let row = self.tables.known_row(id)?;
        Some(
            self.columns
                .iter()
                .map(|c| c.and_then(|k| Some(row[k]).filter(|v| !v.is_nan())))
                .collect(),
        )
    }
}

pub fn run(args: &PredictArgs) -> anyhow::Result<ExitCode> {
    let predictor = args.model.load()?;
    let supplied = Supplied::read(&args.features, &predictor)?;
    let input = crate::cli::input::read_records(&args.fasta)?;
    let mut errors = input.errors;

    let mut out = AtomicFile::create(&args.out)?;
    let columns = PredictionColumns::CLI;
    let header = prediction_header(&predictor.output_names(), columns);
    writeln!(out, "{}", Separator::Tab.line(&header))?;
    let bar = ProgressBar::new(input.records.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} records [{elapsed}, eta {eta}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    for record in &input.records {
        let given = supplied.as_ref().and_then(|s| s.raw(&record.id));
        let predicted = predictor
            .feature_inputs(&record.id, given.as_deref())
            .and_then(|features| {
                predictor.predict_with(
                    &record.residues,
                    record.tss,
                    features.as_deref(),
                    args.model.batch_size,
                    false,
                )
            });
        match predicted {
            Ok(prediction) => {
                let notes = input.notes_for(record.index);
                let fields =
                    prediction_fields(&record.id, record.len(), &prediction, &notes, columns);
                writeln!(out, "{}", Separator::Tab.line(&fields))?;
            }
            Err(err) => {
                errors += 1;
                bar.suspend(|| {
                    eprintln!(
                        "{}: {}, line {}: {err}",
                        args.fasta.display(),
                        record.record_ref(),
                        record.line
                    )
                });
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    out.commit()?;
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
