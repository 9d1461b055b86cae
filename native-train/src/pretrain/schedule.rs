//! Learning-rate schedule: linear warm-up to the peak, then linear decay to 10 % of it.

/// Learning rate at `step` (0-based) of `total` steps.
pub fn learning_rate(step: usize, total: usize, warmup: usize, peak: f64) -> f64 {
    if warmup > 0 && step < warmup {
        return peak * (step + 1) as f64 / warmup as f64;
    }
    let decay_steps = total.saturating_sub(warmup).max(1);
    let progress = (step.saturating_sub(warmup) as f64 / decay_steps as f64).min(1.0);
    peak * (1.0 - 0.9 * progress)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warms_up_then_decays() {
        assert!((learning_rate(0, 100, 10, 1.0) - 0.1).abs() < 1e-12);
        assert!((learning_rate(9, 100, 10, 1.0) - 1.0).abs() < 1e-12);
        assert!((learning_rate(10, 100, 10, 1.0) - 1.0).abs() < 1e-12);
        assert!((learning_rate(55, 100, 10, 1.0) - 0.55).abs() < 1e-12);
        assert!((learning_rate(100, 100, 10, 1.0) - 0.1).abs() < 1e-12);
        assert!((learning_rate(500, 100, 10, 1.0) - 0.1).abs() < 1e-12);
    }
}
