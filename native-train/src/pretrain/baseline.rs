//! Trivial baselines for masked-token accuracy, fitted on training examples and scored on
//! the same held-out examples as the model:
//! - **unigram**: always the most frequent target token;
//! - **context**: the most frequent target given the (possibly corrupted) left and right
//!   neighbours the model also sees, falling back to the left neighbour alone, then to the
//!   unigram: a token-level 2-context n-gram model.

use std::collections::HashMap;

use super::masking::Masked;

#[derive(Default)]
pub struct Baselines {
    unigram: HashMap<u32, u64>,
    left: HashMap<u32, HashMap<u32, u64>>,
    both: HashMap<(u32, u32), HashMap<u32, u64>>,
}

fn neighbours(m: &Masked, i: usize) -> (u32, u32) {
    let left = if i > 0 { m.input[i - 1] } else { u32::MAX };
    let right = m.input.get(i + 1).copied().unwrap_or(u32::MAX);
    (left, right)
}

fn argmax(counts: &HashMap<u32, u64>) -> Option<u32> {
    // Ties go to the smaller id, so results never depend on hash order.
    counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(&id, _)| id)
}

impl Baselines {
    pub fn observe(&mut self, m: &Masked) {
        for &(i, target) in &m.targets {
            let (l, r) = neighbours(m, i);
            *self.unigram.entry(target).or_default() += 1;
            *self.left.entry(l).or_default().entry(target).or_default() += 1;
            *self
                .both
                .entry((l, r))
                .or_default()
                .entry(target)
                .or_default() += 1;
        }
    }

    /// (unigram correct, context correct, total) over the targets of `m`.
    pub fn score(&self, m: &Masked) -> (usize, usize, usize) {
        let top = argmax(&self.unigram);
        let (mut uni, mut ctx) = (0, 0);
        for &(i, target) in &m.targets {
            let (l, r) = neighbours(m, i);
            uni += usize::from(top == Some(target));
            let guess = self
                .both
                .get(&(l, r))
                .and_then(argmax)
                .or_else(|| self.left.get(&l).and_then(argmax))
                .or(top);
            ctx += usize::from(guess == Some(target));
        }
        (uni, ctx, m.targets.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_beats_unigram_on_a_predictable_pattern() {
        let mut b = Baselines::default();
        // Token 9 always follows 7; token 8 is the most frequent overall.
        for _ in 0..10 {
            b.observe(&Masked {
                input: vec![1, 7, 4, 2],
                targets: vec![(2, 9)],
            });
            b.observe(&Masked {
                input: vec![1, 5, 4, 2],
                targets: vec![(2, 8)],
            });
            b.observe(&Masked {
                input: vec![1, 6, 4, 2],
                targets: vec![(2, 8)],
            });
        }
        let test = Masked {
            input: vec![1, 7, 4, 2],
            targets: vec![(2, 9)],
        };
        assert_eq!(b.score(&test), (0, 1, 1));
    }
}
