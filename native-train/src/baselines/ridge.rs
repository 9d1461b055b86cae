//! Ridge regression (L2-penalised least squares) in f64, for the k-mer baseline.
//!
//! Features are standardised with the training mean and standard deviation (a constant feature
//! keeps scale 1, so it gets weight 0), the label is centred, and the intercept is not
//! penalised. The normal equations are solved by Cholesky: in the primal form
//! `(XᵀX + αI) w = Xᵀy` when there are no more features than examples, otherwise in the dual
//! form `(XXᵀ + αI) c = y`, `w = Xᵀc` (same solution, smaller system). The Gram matrix is built
//! once and reused for every α of a grid.

/// A dense row-major matrix of f64.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

/// What went wrong in a fit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RidgeError {
    #[error("matrix data has {found} values, expected {rows} × {cols}")]
    Shape {
        rows: usize,
        cols: usize,
        found: usize,
    },
    #[error("{rows} feature rows but {labels} labels")]
    LabelCount { rows: usize, labels: usize },
    #[error("no training example")]
    Empty,
    #[error("ridge penalty α must be finite and > 0, got {0}")]
    BadAlpha(f64),
    #[error("a feature or label is not finite")]
    NotFinite,
    #[error("the system is not positive definite (α too small?)")]
    NotPositiveDefinite,
    #[error("{found} features given to a model fitted on {expected}")]
    FeatureCount { expected: usize, found: usize },
}

impl Matrix {
    /// A `rows × cols` matrix from row-major values.
    pub fn new(rows: usize, cols: usize, data: Vec<f64>) -> Result<Self, RidgeError> {
        if data.len() != rows * cols {
            return Err(RidgeError::Shape {
                rows,
                cols,
                found: data.len(),
            });
        }
        Ok(Self { rows, cols, data })
    }

    /// Stacks equally long rows.
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Self, RidgeError> {
        let cols = rows.first().map_or(0, Vec::len);
        let mut data = Vec::with_capacity(rows.len() * cols);
        for r in rows {
            if r.len() != cols {
                return Err(RidgeError::Shape {
                    rows: rows.len(),
                    cols,
                    found: r.len(),
                });
            }
            data.extend_from_slice(r);
        }
        Ok(Self {
            rows: rows.len(),
            cols,
            data,
        })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }
}

/// A fitted ridge model: `y = intercept + Σ weights[j] · (x[j] − mean[j]) / scale[j]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RidgeModel {
    pub alpha: f64,
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
    pub weights: Vec<f64>,
    pub intercept: f64,
}

impl RidgeModel {
    /// Prediction for one feature row.
    pub fn predict_row(&self, x: &[f64]) -> Result<f64, RidgeError> {
        if x.len() != self.weights.len() {
            return Err(RidgeError::FeatureCount {
                expected: self.weights.len(),
                found: x.len(),
            });
        }
        let mut y = self.intercept;
        for (((w, v), m), s) in self.weights.iter().zip(x).zip(&self.mean).zip(&self.scale) {
            y += w * (v - m) / s;
        }
        Ok(y)
    }

    /// Predictions for every row.
    pub fn predict(&self, x: &Matrix) -> Result<Vec<f64>, RidgeError> {
        (0..x.rows()).map(|i| self.predict_row(x.row(i))).collect()
    }
}

/// Standardised training data and its Gram matrix, ready to solve for any α.
#[derive(Debug, Clone)]
pub struct RidgeProblem {
    mean: Vec<f64>,
    scale: Vec<f64>,
    /// Standardised features, row-major [n, p].
    z: Vec<f64>,
    /// Centred labels.
    yc: Vec<f64>,
    y_mean: f64,
    n: usize,
    p: usize,
    /// `ZᵀZ` [p, p] (primal) or `ZZᵀ` [n, n] (dual).
    gram: Vec<f64>,
    dual: bool,
}

impl RidgeProblem {
    /// Prepares a fit of `y` on the rows of `x`.
    pub fn new(x: &Matrix, y: &[f64]) -> Result<Self, RidgeError> {
        let (n, p) = (x.rows(), x.cols());
        if n != y.len() {
            return Err(RidgeError::LabelCount {
                rows: n,
                labels: y.len(),
            });
        }
        if n == 0 {
            return Err(RidgeError::Empty);
        }
        if !x.data.iter().chain(y).all(|v| v.is_finite()) {
            return Err(RidgeError::NotFinite);
        }
        let mut mean = vec![0.0; p];
        for i in 0..n {
            for (m, v) in mean.iter_mut().zip(x.row(i)) {
                *m += v;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut var = vec![0.0; p];
        for i in 0..n {
            for ((s, v), m) in var.iter_mut().zip(x.row(i)).zip(&mean) {
                *s += (v - m) * (v - m);
            }
        }
        let scale: Vec<f64> = var
            .iter()
            .map(|s| {
                let sd = (s / n as f64).sqrt();
                if sd > 1e-12 { sd } else { 1.0 }
            })
            .collect();
        let mut z = Vec::with_capacity(n * p);
        for i in 0..n {
            for j in 0..p {
                z.push((x.row(i)[j] - mean[j]) / scale[j]);
            }
        }
        let y_mean = y.iter().sum::<f64>() / n as f64;
        let yc: Vec<f64> = y.iter().map(|v| v - y_mean).collect();
        let dual = p > n;
        let gram = if dual {
            let mut g = vec![0.0; n * n];
            for a in 0..n {
                for b in a..n {
                    let v: f64 = (0..p).map(|j| z[a * p + j] * z[b * p + j]).sum();
                    g[a * n + b] = v;
                    g[b * n + a] = v;
                }
            }
            g
        } else {
            let mut g = vec![0.0; p * p];
            for i in 0..n {
                let row = &z[i * p..(i + 1) * p];
                for a in 0..p {
                    let ra = row[a];
                    if ra == 0.0 {
                        continue;
                    }
                    for b in a..p {
                        g[a * p + b] += ra * row[b];
                    }
                }
            }
            for a in 0..p {
                for b in 0..a {
                    g[a * p + b] = g[b * p + a];
                }
            }
            g
        };
        Ok(Self {
            mean,
            scale,
            z,
            yc,
            y_mean,
            n,
            p,
            gram,
            dual,
        })
    }

    /// The ridge solution for penalty `alpha`.
    pub fn solve(&self, alpha: f64) -> Result<RidgeModel, RidgeError> {
        if !(alpha.is_finite() && alpha > 0.0) {
            return Err(RidgeError::BadAlpha(alpha));
        }
        let (n, p) = (self.n, self.p);
        let weights = if self.dual {
            let mut a = self.gram.clone();
            for i in 0..n {
                a[i * n + i] += alpha;
            }
            let c = cholesky_solve(a, n, self.yc.clone())?;
            let mut w = vec![0.0; p];
            for (row, ci) in self.z.chunks_exact(p).zip(&c) {
                for (wj, zj) in w.iter_mut().zip(row) {
                    *wj += zj * ci;
                }
            }
            w
        } else {
            let mut a = self.gram.clone();
            for j in 0..p {
                a[j * p + j] += alpha;
            }
            let mut zty = vec![0.0; p];
            for (row, yi) in self.z.chunks_exact(p).zip(&self.yc) {
                for (acc, zj) in zty.iter_mut().zip(row) {
                    *acc += zj * yi;
                }
            }
            cholesky_solve(a, p, zty)?
        };
        Ok(RidgeModel {
            alpha,
            mean: self.mean.clone(),
            scale: self.scale.clone(),
            weights,
            intercept: self.y_mean,
        })
    }
}

/// Solves `A x = b` for a symmetric positive definite `A` [n, n] (row-major, consumed).
fn cholesky_solve(mut a: Vec<f64>, n: usize, mut b: Vec<f64>) -> Result<Vec<f64>, RidgeError> {
    // In place: the lower triangle of `a` becomes L with A = L Lᵀ.
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if !(d > 0.0 && d.is_finite()) {
            return Err(RidgeError::NotPositiveDefinite);
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i * n + k] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= a[k * n + i] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    Ok(b)
}

/// The α grid the baseline searches: 10^-2, 10^-1.5, …, 10^6 (17 values).
pub fn default_alpha_grid() -> Vec<f64> {
    (-4..=12).map(|i| 10f64.powf(i as f64 / 2.0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn tiny_alpha_recovers_a_linear_function() {
        // y = 3 + 2·x0 − x1 exactly.
        let rows: Vec<Vec<f64>> = (0..20)
            .map(|i| vec![i as f64, ((i * 7) % 5) as f64])
            .collect();
        let y: Vec<f64> = rows.iter().map(|r| 3.0 + 2.0 * r[0] - r[1]).collect();
        let x = Matrix::from_rows(&rows).unwrap();
        let model = RidgeProblem::new(&x, &y).unwrap().solve(1e-9).unwrap();
        for (r, t) in rows.iter().zip(&y) {
            assert!(close(model.predict_row(r).unwrap(), *t, 1e-6));
        }
    }

    #[test]
    fn matches_a_closed_form_one_feature_fit() {
        // One feature, standardised z: w = Σ z·yc / (Σ z² + α).
        let xs = [1.0, 2.0, 4.0, 7.0];
        let y = [1.0, 3.0, 2.0, 6.0];
        let x = Matrix::new(4, 1, xs.to_vec()).unwrap();
        let alpha = 2.0;
        let model = RidgeProblem::new(&x, &y).unwrap().solve(alpha).unwrap();
        let mx = 3.5;
        let sd = (xs.iter().map(|v| (v - mx) * (v - mx)).sum::<f64>() / 4.0).sqrt();
        let my = 3.0;
        let z: Vec<f64> = xs.iter().map(|v| (v - mx) / sd).collect();
        let w = z.iter().zip(&y).map(|(a, b)| a * (b - my)).sum::<f64>()
            / (z.iter().map(|a| a * a).sum::<f64>() + alpha);
        assert!(close(model.weights[0], w, 1e-12));
        assert!(close(model.intercept, my, 1e-12));
    }

    #[test]
    fn primal_and_dual_agree() {
        // 6 examples, 4 features (primal) versus the same data with 8 features (dual),
        // where the extra 4 features are copies scaled by 2 (standardisation makes them equal).
        let mut g = texcnn::rng::SplitMix64::new(5);
        let rows: Vec<Vec<f64>> = (0..6)
            .map(|_| (0..4).map(|_| g.next_f64()).collect())
            .collect();
        let y: Vec<f64> = (0..6).map(|_| g.next_f64()).collect();
        let x = Matrix::from_rows(&rows).unwrap();
        let primal = RidgeProblem::new(&x, &y).unwrap();
        assert!(!primal.dual);
        let wide_rows: Vec<Vec<f64>> = rows
            .iter()
            .map(|r| {
                let mut w = r.clone();
                w.extend(r.iter().map(|v| 2.0 * v));
                w
            })
            .collect();
        let wide = Matrix::from_rows(&wide_rows).unwrap();
        let dual = RidgeProblem::new(&wide, &y).unwrap();
        assert!(dual.dual);
        // Duplicated standardised columns with penalty 2α give the same fit as one column with α.
        let a = primal.solve(0.5).unwrap();
        let b = dual.solve(1.0).unwrap();
        for (r, wr) in rows.iter().zip(&wide_rows) {
            assert!(close(
                a.predict_row(r).unwrap(),
                b.predict_row(wr).unwrap(),
                1e-9
            ));
        }
    }

    #[test]
    fn constant_features_get_no_weight_and_errors_are_typed() {
        let x = Matrix::new(3, 2, vec![1.0, 5.0, 2.0, 5.0, 3.0, 5.0]).unwrap();
        let model = RidgeProblem::new(&x, &[1.0, 2.0, 3.0])
            .unwrap()
            .solve(1.0)
            .unwrap();
        assert_eq!(model.weights[1], 0.0);
        assert_eq!(
            RidgeProblem::new(&x, &[1.0]).unwrap_err(),
            RidgeError::LabelCount { rows: 3, labels: 1 }
        );
        assert!(matches!(
            RidgeProblem::new(&x, &[1.0, 2.0, 3.0]).unwrap().solve(0.0),
            Err(RidgeError::BadAlpha(_))
        ));
        assert!(matches!(
            model.predict_row(&[1.0]),
            Err(RidgeError::FeatureCount { .. })
        ));
    }
}
