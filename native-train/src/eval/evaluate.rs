//! Evaluation over repeated runs, as the paper reports it: Pearson r and R² (= r²) on the test
//! genes of each run, then min / mean / max over runs; and a prediction-versus-label scatter
//! plot written as a standalone SVG.

use std::fmt::Write as _;

use crate::data::split::Part;
use crate::eval::metrics::{Scores, Summary, scores, summarize};

use crate::eval::predictions::PredictionFile;

/// The scores of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunScores {
    pub name: String,
    pub seed: Option<String>,
    pub scores: Scores,
}

/// Why runs cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvaluateError {
    #[error("{0}: Pearson r is undefined on the {1} part (fewer than 2 examples or a constant)")]
    Undefined(String, &'static str),
    #[error("no run to evaluate")]
    NoRun,
}

/// Scores of each run on `part`.
pub fn score_runs(
    runs: &[(String, PredictionFile)],
    part: Part,
) -> Result<Vec<RunScores>, EvaluateError> {
    if runs.is_empty() {
        return Err(EvaluateError::NoRun);
    }
    runs.iter()
        .map(|(name, file)| {
            let (pred, label) = file.part(part);
            let s = scores(&pred, &label)
                .ok_or_else(|| EvaluateError::Undefined(name.clone(), part.name()))?;
            Ok(RunScores {
                name: name.clone(),
                seed: file.meta("seed").map(str::to_string),
                scores: s,
            })
        })
        .collect()
}

/// Min / mean / max of R² and of Pearson r over runs.
pub fn summarize_runs(runs: &[RunScores]) -> Option<(Summary, Summary)> {
    let r2: Vec<f64> = runs.iter().map(|r| r.scores.r2).collect();
    let r: Vec<f64> = runs.iter().map(|r| r.scores.pearson_r).collect();
    Some((summarize(&r2)?, summarize(&r)?))
}

/// A "nice" tick step (1, 2 or 5 × 10^k) for about `target` ticks over `span`.
fn tick_step(span: f64, target: f64) -> f64 {
    let raw = span / target;
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A scatter plot of predictions (y) against labels (x) with the y = x diagonal, as SVG text.
pub fn scatter_svg(labels: &[f64], predictions: &[f64], title: &str, x_name: &str) -> String {
    const W: f64 = 520.0;
    const H: f64 = 520.0;
    const L: f64 = 70.0; // left margin
    const R: f64 = 20.0;
    const T: f64 = 50.0;
    const B: f64 = 60.0;
    let all = labels.iter().chain(predictions).copied();
    let (mut lo, mut hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !lo.is_finite() || !hi.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if hi - lo < 1e-9 {
        lo -= 0.5;
        hi += 0.5;
    }
    let pad = (hi - lo) * 0.05;
    let (lo, hi) = (lo - pad, hi + pad);
    let sx = |v: f64| L + (v - lo) / (hi - lo) * (W - L - R);
    let sy = |v: f64| H - B - (v - lo) / (hi - lo) * (H - T - B);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="28" text-anchor="middle" font-size="14">{}</text>"#,
        W / 2.0,
        xml_escape(title)
    );
    // Axes frame and ticks.
    let _ = writeln!(
        s,
        r##"<rect x="{L}" y="{T}" width="{}" height="{}" fill="none" stroke="#333"/>"##,
        W - L - R,
        H - T - B
    );
    let step = tick_step(hi - lo, 6.0);
    let mut t = (lo / step).ceil() * step;
    while t <= hi + 1e-12 {
        let label = format!(
            "{:.*}",
            if step >= 1.0 {
                0
            } else {
                (-step.log10().floor()) as usize
            },
            t
        );
        let (x, y) = (sx(t), sy(t));
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{}" stroke="#333"/><text x="{x:.1}" y="{}" text-anchor="middle">{label}</text>"##,
            H - B,
            H - B + 5.0,
            H - B + 18.0
        );
        let _ = writeln!(
            s,
            r##"<line x1="{}" y1="{y:.1}" x2="{L}" y2="{y:.1}" stroke="#333"/><text x="{}" y="{:.1}" text-anchor="end">{label}</text>"##,
            L - 5.0,
            L - 8.0,
            y + 4.0
        );
        t += step;
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        (L + W - R) / 2.0,
        H - 18.0,
        xml_escape(&format!("label ({x_name})"))
    );
    let _ = writeln!(
        s,
        r#"<text x="18" y="{}" text-anchor="middle" transform="rotate(-90 18 {})">prediction</text>"#,
        (T + H - B) / 2.0,
        (T + H - B) / 2.0
    );
    // y = x.
    let _ = writeln!(
        s,
        r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#999" stroke-dasharray="4 4"/>"##,
        sx(lo),
        sy(lo),
        sx(hi),
        sy(hi)
    );
    for (x, y) in labels.iter().zip(predictions) {
        let _ = writeln!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="#1f77b4" fill-opacity="0.6"/>"##,
            sx(*x),
            sy(*y)
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_steps_are_nice() {
        assert_eq!(tick_step(10.0, 5.0), 2.0);
        assert_eq!(tick_step(1.0, 6.0), 0.2);
        assert_eq!(tick_step(7.0, 6.0), 2.0);
    }

    #[test]
    fn svg_has_one_circle_per_point_and_escapes_text() {
        let svg = scatter_svg(&[0.0, 1.0, 2.0], &[0.1, 0.9, 2.2], "R² <0.9>", "a&b");
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("R² &lt;0.9&gt;"));
        assert!(svg.contains("label (a&amp;b)"));
    }
}
