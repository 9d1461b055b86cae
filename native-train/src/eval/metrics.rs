//! Evaluation metrics as the TExCNN paper reports them: Pearson r between prediction and label,
//! R² = r² (squared Pearson, not the coefficient of determination), and min / mean / max over
//! repeated runs.

/// Pearson correlation of two equally long series, in f64. `None` when fewer than two points,
/// the lengths differ, a value is not finite, or either series is constant.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len();
    if n < 2 || y.len() != n || !x.iter().chain(y).all(|v| v.is_finite()) {
        return None;
    }
    let mx = x.iter().sum::<f64>() / n as f64;
    let my = y.iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    Some((sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0))
}

/// Mean squared error. `None` for empty or unequal inputs.
pub fn mse(pred: &[f64], label: &[f64]) -> Option<f64> {
    if pred.is_empty() || pred.len() != label.len() {
        return None;
    }
    Some(
        pred.iter()
            .zip(label)
            .map(|(p, l)| (p - l) * (p - l))
            .sum::<f64>()
            / pred.len() as f64,
    )
}

/// Pearson r and R² (= r²) of predictions against labels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    pub n: usize,
    pub pearson_r: f64,
    pub r2: f64,
    pub mse: f64,
}

/// [`Scores`] of `pred` against `label`; `None` when Pearson is undefined.
pub fn scores(pred: &[f64], label: &[f64]) -> Option<Scores> {
    let r = pearson(pred, label)?;
    Some(Scores {
        n: pred.len(),
        pearson_r: r,
        r2: r * r,
        mse: mse(pred, label)?,
    })
}

/// Minimum, mean and maximum of repeated measurements.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub min: f64,
    pub mean: f64,
    pub max: f64,
}

/// [`Summary`] of `values`; `None` when empty.
pub fn summarize(values: &[f64]) -> Option<Summary> {
    if values.is_empty() {
        return None;
    }
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    Some(Summary {
        n: values.len(),
        min,
        mean,
        max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pearson_of_known_series() {
        // numpy.corrcoef([1,2,3,4,5],[2,4,5,4,5])[0,1] = 0.7745966692414834
        let r = pearson(&[1., 2., 3., 4., 5.], &[2., 4., 5., 4., 5.]).unwrap();
        assert!((r - 0.774_596_669_241_483_4).abs() < 1e-12);
        let s = scores(&[1., 2., 3., 4., 5.], &[2., 4., 5., 4., 5.]).unwrap();
        assert!((s.r2 - 0.6).abs() < 1e-12);
        assert!((s.mse - 1.8).abs() < 1e-12);
    }

    #[test]
    fn pearson_is_undefined_for_constants_and_short_series() {
        assert_eq!(pearson(&[1., 1., 1.], &[1., 2., 3.]), None);
        assert_eq!(pearson(&[1.], &[1.]), None);
        assert_eq!(pearson(&[1., 2.], &[1.]), None);
        assert_eq!(pearson(&[1., f64::NAN], &[1., 2.]), None);
        assert!((pearson(&[1., 2.], &[-3., -5.]).unwrap() + 1.0).abs() < 1e-12);
    }

    #[test]
    fn summary_min_mean_max() {
        let s = summarize(&[0.3, 0.5, 0.4]).unwrap();
        assert_eq!((s.n, s.min, s.max), (3, 0.3, 0.5));
        assert!((s.mean - 0.4).abs() < 1e-12);
        assert_eq!(summarize(&[]), None);
    }
}
