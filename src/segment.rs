//! Cutting a sequence into the ordered, overlapping segments that TExCNN embeds one by one.
//!
//! A [`SegmentPlan`] has a segment length, a stride and an optional fixed window:
//! - **Window** (optional): the length every input must have, e.g. 10,500 bp for TExCNN on
//!   Xpresso (TSS −7,000…+3,500) or 2,048 bp for our default predictor (TSS ±1,024). What
//!   happens to an input of another length is the plan's [`WindowPolicy`]: an error
//!   ([`WindowPolicy::Exact`], the default) or padding with `N` / trimming at the 3′ end
//!   ([`WindowPolicy::PadOrTrim`]). The window is applied by [`SegmentPlan::fit`].
//! - **Segments**: starts at 0, `stride`, `2·stride`, … as long as a whole segment fits. If the
//!   last full segment stops short of the end, one more segment is aligned to the end, so
//!   every base is covered. A sequence shorter than one segment gives a single segment: the
//!   whole sequence. An empty sequence gives no segment (an error).
//!
//! TExCNN's plan on 10,500 bp, 2,000 bp segments at stride 500 gives
//! (10,500 − 2,000) / 500 + 1 = 18 segments.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// What to do with an input whose length differs from the plan's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowPolicy {
    /// Reject it with [`SegmentError::WindowMismatch`].
    #[default]
    Exact,
    /// Trim a longer input at the 3′ end, pad a shorter one with `N` at the 3′ end.
    PadOrTrim,
}

/// How a sequence is cut into segments. Travels inside the model bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentPlan {
    /// Length of one segment, in bp (> 0).
    pub segment_len: usize,
    /// Distance between consecutive segment starts, in bp (> 0).
    pub stride: usize,
    /// Required input length in bp, if any.
    #[serde(default)]
    pub window: Option<usize>,
    /// What happens to inputs of another length than `window`.
    #[serde(default)]
    pub window_policy: WindowPolicy,
}

/// One segment: bases `start..end` of the (window-fitted) sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// 0-based position of the segment in the sequence's segment list.
    pub index: usize,
    /// First base, 0-based.
    pub start: usize,
    /// One past the last base.
    pub end: usize,
}

impl Segment {
    /// Length in bp.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// True for a zero-length segment (never produced by a plan).
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// Invalid plans and inputs that do not fit a plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SegmentError {
    #[error("invalid segment plan: the segment length must be at least 1 bp")]
    ZeroSegmentLen,
    #[error("invalid segment plan: the stride must be at least 1 bp")]
    ZeroStride,
    #[error("invalid segment plan: the window must be at least 1 bp")]
    ZeroWindow,
    #[error("the sequence is empty: there is nothing to segment")]
    EmptySequence,
    #[error("the sequence is {found} bp but this model needs exactly {expected} bp")]
    WindowMismatch { expected: usize, found: usize },
}

impl SegmentPlan {
    /// A plan without a fixed window.
    pub fn new(segment_len: usize, stride: usize) -> Result<Self, SegmentError> {
        let plan = Self {
            segment_len,
            stride,
            window: None,
            window_policy: WindowPolicy::Exact,
        };
        plan.validate()?;
        Ok(plan)
    }

    /// The same plan with a fixed input window and what to do on a mismatch.
    pub fn with_window(
        mut self,
        window: usize,
        policy: WindowPolicy,
    ) -> Result<Self, SegmentError> {
        self.window = Some(window);
        self.window_policy = policy;
        self.validate()?;
        Ok(self)
    }

    /// TExCNN's plan on the Xpresso window: 10,500 bp, 2,000 bp segments, stride 500 (18 segments).
    pub fn texcnn_xpresso() -> Self {
        Self {
            segment_len: 2_000,
            stride: 500,
            window: Some(10_500),
            window_policy: WindowPolicy::Exact,
        }
    }

    /// Checks the invariants (useful after deserialising a plan from a bundle).
    pub fn validate(&self) -> Result<(), SegmentError> {
        if self.segment_len == 0 {
            return Err(SegmentError::ZeroSegmentLen);
        }
        if self.stride == 0 {
            return Err(SegmentError::ZeroStride);
        }
        if self.window == Some(0) {
            return Err(SegmentError::ZeroWindow);
        }
        Ok(())
    }

    /// Applies the window (if any) to normalised residues (`ACGTN`).
    pub fn fit<'a>(&self, residues: &'a str) -> Result<Cow<'a, str>, SegmentError> {
        self.validate()?;
        if residues.is_empty() {
            return Err(SegmentError::EmptySequence);
        }
        let Some(window) = self.window else {
            return Ok(Cow::Borrowed(residues));
        };
        let found = residues.len();
        match (found.cmp(&window), self.window_policy) {
            (std::cmp::Ordering::Equal, _) => Ok(Cow::Borrowed(residues)),
            (_, WindowPolicy::Exact) => Err(SegmentError::WindowMismatch {
                expected: window,
                found,
            }),
            (std::cmp::Ordering::Greater, WindowPolicy::PadOrTrim) => {
                // Residues are ASCII, so any byte index is a char boundary.
                Ok(Cow::Borrowed(&residues[..window]))
            }
            (std::cmp::Ordering::Less, WindowPolicy::PadOrTrim) => {
                let mut padded = String::with_capacity(window);
                padded.push_str(residues);
                padded.extend(std::iter::repeat_n('N', window - found));
                Ok(Cow::Owned(padded))
            }
        }
    }

    /// The segments of a sequence of `seq_len` bp (already fitted to the window).
    pub fn segments(&self, seq_len: usize) -> Result<Vec<Segment>, SegmentError> {
        self.validate()?;
        if seq_len == 0 {
            return Err(SegmentError::EmptySequence);
        }
        if seq_len <= self.segment_len {
            return Ok(vec![Segment {
                index: 0,
                start: 0,
                end: seq_len,
            }]);
        }
        let full = (seq_len - self.segment_len) / self.stride + 1;
        let mut segments: Vec<Segment> = (0..full)
            .map(|index| Segment {
                index,
                start: index * self.stride,
                end: index * self.stride + self.segment_len,
            })
            .collect();
        if segments.last().is_some_and(|last| last.end < seq_len) {
            segments.push(Segment {
                index: full,
                start: seq_len - self.segment_len,
                end: seq_len,
            });
        }
        Ok(segments)
    }

    /// Fits `residues` to the window and cuts it: the fitted sequence and its segments.
    pub fn cut<'a>(&self, residues: &'a str) -> Result<(Cow<'a, str>, Vec<Segment>), SegmentError> {
        let fitted = self.fit(residues)?;
        let segments = self.segments(fitted.len())?;
        Ok((fitted, segments))
    }
}
