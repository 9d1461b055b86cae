//! `texcnn variants` and `texcnn ism`: what edits of a record do to its prediction (variant
//! effects from a table, and saturation mutagenesis of a region), through
//! [`texcnn::variants`]: only the segments an edit changes are embedded again.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use texcnn::export::{Separator, ism_fields, ism_header, variant_fields, variant_header};
use texcnn::predict::Predictor;
use texcnn::sequence::Sequence;
use texcnn::variants::{Edit, EditScores, saturation_edits};
use texcnn_native::files::output::{AtomicFile, write_atomic};

use crate::cli::predict::ModelArgs;
use crate::pretrain::plot::escape;

#[derive(clap::Args, Debug)]
pub struct VariantsArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// FASTA with the records the variants refer to (a header word `tss=N` places the TSS).
    #[arg(long)]
    pub fasta: PathBuf,
    /// TSV with a header and columns `id pos ref alt` (VCF-like: `id` is the FASTA record,
    /// `pos` 1-based in it, alleles of A/C/G/T, indels of up to 50 bp; other columns are
    /// ignored).
    #[arg(long)]
    pub variants: PathBuf,
    /// Output TSV: `id pos ref alt`, then per model output `ref_<output> alt_<output>
    /// delta_<output>`, then `pos_tss` (the position relative to the TSS, TSS at 0, upstream
    /// negative; empty when unknown) and `inputs` (`dna+features` when the record is named by
    /// a gene the bundle has per-gene features for, as in `texcnn predict`; `dna` otherwise).
    /// One row per good variant, in input order.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct IsmArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// FASTA records to mutate (each one; a header word `tss=N` places the TSS).
    #[arg(long)]
    pub fasta: PathBuf,
    /// The region, 1-based and inclusive in each record: START..END.
    #[arg(long, value_parser = parse_region)]
    pub region: (usize, usize),
    /// Output TSV: `id pos ref alt`, then `delta_<output>` per model output, then `pos_tss`
    /// and `inputs` (as in `texcnn variants`); one row per position and each of the three other bases (positions holding N are
    /// skipped).
    #[arg(long)]
    pub out: PathBuf,
    /// Also draw the first output's deltas as a heatmap (A/C/G/T × position, axis in bp from
    /// the TSS where known), one panel per record.
    #[arg(long)]
    pub svg: Option<PathBuf>,
}

/// `START..END`, 1-based, inclusive, START ≤ END.
fn parse_region(text: &str) -> Result<(usize, usize), String> {
    let (a, b) = text
        .split_once("..")
        .ok_or_else(|| format!("region \"{text}\" is not START..END"))?;
    let number = |s: &str| {
        s.trim()
            .parse::<usize>()
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| format!("\"{s}\" is not a position (a whole number from 1)"))
    };
    let (start, end) = (number(a)?, number(b)?);
    if start > end {
        return Err(format!("region {start}..{end} ends before it starts"));
    }
    Ok((start, end))
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} segments [{elapsed}, eta {eta}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Scores `edits` of `record`, showing the encoder passes on `bar`.
fn score(
    predictor: &Predictor,
    record: &Sequence,
    edits: &[Edit],
    batch: usize,
    bar: &ProgressBar,
) -> Result<EditScores, texcnn::predict::PredictError> {
    bar.set_message(record.id.clone());
    // A record named by a gene the bundle has features for is scored as `predict` scores it.
    let features = predictor.feature_inputs(&record.id, None)?;
    predictor.score_edits(
        &record.residues,
        record.tss,
        edits,
        features.as_deref(),
        batch,
        |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    )
}

/// One row of the variants table, as read.
struct VariantRow {
    line: usize,
    id: String,
    edit: Edit,
}

/// The rows of a variants TSV; bad rows are printed on stderr with their line.
fn read_variants(path: &Path) -> anyhow::Result<(Vec<VariantRow>, usize)> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let text = String::from_utf8_lossy(&text);
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        bail!(
            "{}: the file is empty: give a header `id pos ref alt` and one variant per line",
            path.display()
        );
    };
    let names: Vec<&str> = header.split('\t').map(str::trim).collect();
    let column = |name: &str| {
        names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))
            .with_context(|| {
                format!(
                    "{}: line 1: no column \"{name}\" in the header (need id, pos, ref, alt, tab-separated)",
                    path.display()
                )
            })
    };
    let (id, pos, reference, alt) = (
        column("id")?,
        column("pos")?,
        column("ref")?,
        column("alt")?,
    );
    let mut rows = Vec::new();
    let mut errors = 0;
    for (index, line) in lines {
        let cells: Vec<&str> = line.split('\t').map(str::trim).collect();
        let cell = |i: usize| cells.get(i).copied().unwrap_or("");
        let parsed = cell(pos)
            .parse::<usize>()
            .ok()
            .filter(|&p| p >= 1)
            .ok_or_else(|| format!("pos \"{}\" is not a position (1-based)", cell(pos)))
            .and_then(|p| Edit::new(p, cell(reference), cell(alt)).map_err(|e| e.to_string()));
        match parsed {
            Ok(edit) if !cell(id).is_empty() => rows.push(VariantRow {
                line: index + 1,
                id: cell(id).to_string(),
                edit,
            }),
            Ok(_) => {
                errors += 1;
                eprintln!("{}: line {}: the id is empty", path.display(), index + 1);
            }
            Err(message) => {
                errors += 1;
                eprintln!("{}: line {}: {message}", path.display(), index + 1);
            }
        }
    }
    Ok((rows, errors))
}

pub fn run_variants(args: &VariantsArgs) -> anyhow::Result<ExitCode> {
    let predictor = args.model.load()?;
    let input = crate::cli::input::read_records(&args.fasta)?;
    let (rows, mut errors) = read_variants(&args.variants)?;
    let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, record) in input.records.iter().enumerate() {
        by_id.entry(record.id.as_str()).or_default().push(i);
    }
    // The rows of each record, in input order; a row naming no single record is an error.
    let mut per_record: Vec<Vec<usize>> = vec![Vec::new(); input.records.len()];
    let report = |row: &VariantRow, message: String| {
        eprintln!("{}: line {}: {message}", args.variants.display(), row.line);
    };
    for (r, row) in rows.iter().enumerate() {
        match by_id.get(row.id.as_str()).map(Vec::as_slice) {
            Some([one]) => per_record[*one].push(r),
            Some(many) => {
                errors += 1;
                report(
                    row,
                    format!(
                        "id \"{}\" names {} records of {}: give each record its own id",
                        row.id,
                        many.len(),
                        args.fasta.display()
                    ),
                );
            }
            None => {
                errors += 1;
                report(
                    row,
                    format!("no record \"{}\" in {}", row.id, args.fasta.display()),
                );
            }
        }
    }

    let names = predictor.output_names();
    let mut lines: Vec<Option<String>> = vec![None; rows.len()];
    let bar = progress_bar();
    for (record, row_ids) in input.records.iter().zip(&per_record) {
        if row_ids.is_empty() {
            continue;
        }
        let edits: Vec<Edit> = row_ids.iter().map(|&r| rows[r].edit.clone()).collect();
        let scores = match score(&predictor, record, &edits, args.model.batch_size, &bar) {
            Ok(scores) => scores,
            Err(err) => {
                errors += row_ids.len();
                bar.suspend(|| {
                    eprintln!(
                        "{}: {}: {err}; its {} variant(s) are not scored",
                        args.fasta.display(),
                        record.record_ref(),
                        row_ids.len()
                    )
                });
                continue;
            }
        };
        for (&r, effect) in row_ids.iter().zip(&scores.effects) {
            let row = &rows[r];
            match effect {
                Ok(effect) => {
                    let fields = variant_fields(
                        &row.id,
                        &row.edit,
                        &scores.reference,
                        effect,
                        scores.inputs,
                    );
                    let line = Separator::Tab.line(&fields);
                    lines[r] = Some(line);
                }
                Err(err) => {
                    errors += 1;
                    bar.suspend(|| report(row, err.to_string()));
                }
            }
        }
    }
    bar.finish_and_clear();

    let mut out = AtomicFile::create(&args.out)?;
    writeln!(out, "{}", Separator::Tab.line(&variant_header(&names)))?;
    for line in lines.into_iter().flatten() {
        writeln!(out, "{line}")?;
    }
    out.commit()?;
    Ok(if errors + input.errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// One record's saturation mutagenesis, for the table and the heatmap.
struct IsmPanel {
    id: String,
    edits: Vec<Edit>,
    /// First output's delta per edit (`None` where the edit failed).
    deltas: Vec<Option<f32>>,
    /// The TSS (1-based in the record), when known.
    tss: Option<usize>,
}

pub fn run_ism(args: &IsmArgs) -> anyhow::Result<ExitCode> {
    let predictor = args.model.load()?;
    let input = crate::cli::input::read_records(&args.fasta)?;
    let mut errors = input.errors;
    let names = predictor.output_names();
    let (start, end) = args.region;

    let mut out = AtomicFile::create(&args.out)?;
    writeln!(out, "{}", Separator::Tab.line(&ism_header(&names)))?;
    let bar = progress_bar();
    let mut panels = Vec::new();
    for record in &input.records {
        if end > record.len() {
            errors += 1;
            bar.suspend(|| {
                eprintln!(
                    "{}: {}: region {start}..{end} is outside its {} bp",
                    args.fasta.display(),
                    record.record_ref(),
                    record.len()
                )
            });
            continue;
        }
        let edits = saturation_edits(&record.residues, start, end);
        let scores = match score(&predictor, record, &edits, args.model.batch_size, &bar) {
            Ok(scores) => scores,
            Err(err) => {
                errors += 1;
                bar.suspend(|| {
                    eprintln!("{}: {}: {err}", args.fasta.display(), record.record_ref())
                });
                continue;
            }
        };
        let mut deltas = Vec::with_capacity(edits.len());
        for (edit, effect) in edits.iter().zip(&scores.effects) {
            match effect {
                Ok(effect) => {
                    let fields = ism_fields(&record.id, edit, effect, scores.inputs);
                    writeln!(out, "{}", Separator::Tab.line(&fields))?;
                    deltas.push(effect.delta.first().copied());
                }
                Err(err) => {
                    errors += 1;
                    deltas.push(None);
                    bar.suspend(|| {
                        eprintln!(
                            "{}: record \"{}\", pos {} {}>{}: {err}",
                            args.fasta.display(),
                            record.id,
                            edit.pos,
                            edit.reference,
                            edit.alternative
                        )
                    });
                }
            }
        }
        panels.push(IsmPanel {
            id: record.id.clone(),
            edits,
            deltas,
            tss: scores.read.tss,
        });
    }
    bar.finish_and_clear();
    out.commit()?;
    if let Some(path) = &args.svg {
        let output = names.first().map_or("output", String::as_str);
        write_atomic(path, ism_svg(&panels, (start, end), output))?;
    }
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// A heatmap per record: rows A, C, G, T; one column per position of the region; blue for a
/// lower prediction, red for a higher one, grey for the reference base (or a failed edit).
fn ism_svg(panels: &[IsmPanel], region: (usize, usize), output: &str) -> String {
    let (start, end) = region;
    let width = end + 1 - start;
    let cell_w = (900.0 / width as f64).clamp(1.0, 14.0);
    let cell_h = 14.0;
    let left = 30.0;
    let panel_h = 4.0 * cell_h + 50.0;
    let total_w = left + cell_w * width as f64 + 20.0;
    let total_h = panel_h * panels.len().max(1) as f64 + 10.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{total_w:.0}\" height=\"{total_h:.0}\" font-family=\"sans-serif\" font-size=\"10\">\n"
    );
    for (p, panel) in panels.iter().enumerate() {
        let top = p as f64 * panel_h + 16.0;
        let max = panel
            .deltas
            .iter()
            .flatten()
            .fold(1e-9f32, |m, d| m.max(d.abs()));
        let _ = writeln!(
            svg,
            "<text x=\"{left}\" y=\"{:.1}\">{}: delta {output} (saturation mutagenesis, |max| {max:.4})</text>",
            top - 4.0,
            escape(&panel.id)
        );
        for (row, base) in ["A", "C", "G", "T"].iter().enumerate() {
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\">{base}</text>",
                left - 14.0,
                top + row as f64 * cell_h + 11.0
            );
        }
        for pos in start..=end {
            let x = left + (pos - start) as f64 * cell_w;
            for (row, base) in ["A", "C", "G", "T"].iter().enumerate() {
                let delta = panel
                    .edits
                    .iter()
                    .zip(&panel.deltas)
                    .find(|(e, _)| e.pos == pos && e.alternative == *base)
                    .and_then(|(_, d)| *d);
                let fill = match delta {
                    None => "#d0d0d0".to_string(),
                    Some(d) => {
                        let t = (d / max).clamp(-1.0, 1.0);
                        let fade = (255.0 * (1.0 - t.abs())) as u8;
                        if t >= 0.0 {
                            format!("rgb(255,{fade},{fade})")
                        } else {
                            format!("rgb({fade},{fade},255)")
                        }
                    }
                };
                let title = delta.map_or(String::new(), |d| {
                    format!("<title>pos {pos} {base}: {d:.5}</title>")
                });
                let _ = writeln!(
                    svg,
                    "<rect x=\"{x:.2}\" y=\"{:.1}\" width=\"{cell_w:.2}\" height=\"{cell_h}\" fill=\"{fill}\">{title}</rect>",
                    top + row as f64 * cell_h
                );
            }
        }
        // Axis: about ten ticks, in bp from the TSS where known.
        let step = (width / 10).max(1);
        let axis_y = top + 4.0 * cell_h + 12.0;
        for pos in (start..=end).step_by(step) {
            let x = left + (pos - start) as f64 * cell_w;
            let label = match panel.tss {
                Some(tss) => (pos as i64 - tss as i64).to_string(),
                None => pos.to_string(),
            };
            let _ = writeln!(svg, "<text x=\"{x:.1}\" y=\"{axis_y:.1}\">{label}</text>");
        }
        let axis_name = if panel.tss.is_some() {
            "bp from the TSS"
        } else {
            "position in the record"
        };
        let _ = writeln!(
            svg,
            "<text x=\"{left}\" y=\"{:.1}\">{axis_name}</text>",
            axis_y + 12.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_parse_or_say_why_not() {
        assert_eq!(parse_region("10..20"), Ok((10, 20)));
        assert_eq!(parse_region("5..5"), Ok((5, 5)));
        assert!(parse_region("20..10").unwrap_err().contains("ends before"));
        assert!(parse_region("0..10").is_err());
        assert!(parse_region("10-20").unwrap_err().contains("START..END"));
    }
}
