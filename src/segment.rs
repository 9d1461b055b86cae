//! Cutting a sequence into the ordered, overlapping segments that TExCNN embeds one by one.
//!
//! A [`SegmentPlan`] has a segment length, a stride and an optional fixed window:
//! - **Window** (optional): the length the model reads, e.g. 10,500 bp for TExCNN on Xpresso
//!   (TSS at bp 7,001: −7,000…+3,499 around it) or 2,048 bp for our default predictor (TSS at
//!   bp 1,025). The plan records where the TSS sits in its window ([`SegmentPlan::tss`]).
//!   [`SegmentPlan::read`] places the window on a record, and says in a [`ReadWindow`] which
//!   bases it read:
//!   - a record that gives its TSS (a FASTA header attribute `tss=N`, 1-based in the record)
//!     is read around it: record base N lands on the window's TSS, bases beyond the record are
//!     `N`;
//!   - a record without `tss=` that is exactly the window's length is the window;
//!   - any other record without `tss=` follows the plan's [`WindowPolicy`]: an error
//!     ([`WindowPolicy::Exact`], the default), or ([`WindowPolicy::PadOrTrim`]) its TSS is
//!     taken to be at its centre (base ⌊length / 2⌋ + 1) and it is read around that, the
//!     assumption stated in the [`ReadWindow`]'s notes. A plan that does not know its TSS
//!     (bundles written before plans recorded it) pads with `N` or trims at the 3′ end, the
//!     rule such bundles were trained with, and cannot use `tss=`.
//!
//!   A record filling less than the window, a record longer than it, and a window more than
//!   [`N_SHARE_NOTE`] `N` each get a note; a window with no `A`, `C`, `G` or `T` is an error.
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
    /// What happens to inputs of another length than `window` that do not give their TSS.
    #[serde(default)]
    pub window_policy: WindowPolicy,
    /// 1-based position of the TSS in the window (needs `window`); `None` in plans written
    /// before plans recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tss: Option<usize>,
}

/// A window more than this share `N` (the record's own `N` and the padding) gets a note.
pub const N_SHARE_NOTE: f64 = 0.25;

/// How the TSS of a record was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TssSource {
    /// The record's header says where (`tss=N`).
    Header,
    /// The record is exactly the window, whose TSS the plan knows.
    Window,
    /// Assumed at the record's centre (no `tss=`, another length than the window).
    Centre,
    /// The plan does not know its TSS, or has no window.
    Unknown,
}

/// Which bases of a record a window read, and where its TSS was taken to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadWindow {
    /// Length of the record, in bp.
    pub record_len: usize,
    /// First and last base read, 1-based and inclusive, in the record's coordinates.
    pub first: usize,
    pub last: usize,
    /// Length of the window (the sequence the segments are cut from), in bp.
    pub window_len: usize,
    /// The TSS, 1-based in the record (`None` when the plan does not know it).
    pub tss: Option<usize>,
    pub tss_source: TssSource,
    /// 0-based position of the TSS in the window, when known.
    pub tss_in_window: Option<usize>,
    /// `N` added before and after the record's bases to fill the window.
    pub pad_before: usize,
    pub pad_after: usize,
    /// `N` in the window: the record's own and the padding.
    pub n_bases: usize,
}

impl ReadWindow {
    /// `5977-8024 of 10500, tss 7001`: what a result's `read` column says.
    pub fn describe(&self) -> String {
        let mut text = format!("{}-{} of {}", self.first, self.last, self.record_len);
        if let Some(tss) = self.tss {
            text.push_str(&format!(", tss {tss}"));
            if self.tss_source == TssSource::Centre {
                text.push_str(" (assumed: centre)");
            }
        }
        text
    }

    /// What the user should know about this read, each a sentence (empty for a record that
    /// is exactly the window or gives its TSS and fills the window).
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.tss_source == TssSource::Centre {
            notes.push(format!(
                "no tss= in the header and {} bp is not the model's {} bp window: the TSS was taken to be at the record's centre (base {}); give tss=N to place it",
                self.record_len,
                self.window_len,
                self.tss.unwrap_or(0)
            ));
        }
        let read = self.last + 1 - self.first;
        if read < self.record_len {
            notes.push(format!(
                "only bases {}-{} of the record's {} bp were read (the window is {} bp)",
                self.first, self.last, self.record_len, self.window_len
            ));
        }
        let pad = self.pad_before + self.pad_after;
        if pad > 0 {
            notes.push(format!(
                "the record fills {read} of the window's {} bp: {pad} bp are N ({} before, {} after)",
                self.window_len, self.pad_before, self.pad_after
            ));
        }
        let share = self.n_bases as f64 / self.window_len.max(1) as f64;
        if share > N_SHARE_NOTE {
            notes.push(format!(
                "{:.0}% of the window is N (more than {:.0}%): the prediction rests on few bases",
                share * 100.0,
                N_SHARE_NOTE * 100.0
            ));
        }
        notes
    }
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
    #[error("invalid segment plan: the TSS at bp {tss} is outside the {window} bp window")]
    TssOutsideWindow { tss: usize, window: usize },
    #[error("invalid segment plan: a TSS position needs a window")]
    TssWithoutWindow,
    #[error("tss={tss} is outside the record (1-{len})")]
    TssOutsideRecord { tss: usize, len: usize },
    #[error(
        "this model's segment plan does not record where the TSS sits in its window, so tss= cannot be used; remove it (the record is then padded or trimmed at its 3' end)"
    )]
    TssUnknown,
    #[error("no A, C, G or T in the bases read ({0}): there is nothing to predict from")]
    NoBases(String),
}

impl SegmentPlan {
    /// A plan without a fixed window.
    pub fn new(segment_len: usize, stride: usize) -> Result<Self, SegmentError> {
        let plan = Self {
            segment_len,
            stride,
            window: None,
            window_policy: WindowPolicy::Exact,
            tss: None,
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

    /// The same plan with the TSS at bp `tss` (1-based) of its window.
    pub fn with_tss(mut self, tss: usize) -> Result<Self, SegmentError> {
        self.tss = Some(tss);
        self.validate()?;
        Ok(self)
    }

    /// TExCNN's plan on the Xpresso window: 10,500 bp with the TSS at bp 7,001, 2,000 bp
    /// segments, stride 500 (18 segments).
    pub fn texcnn_xpresso() -> Self {
        Self {
            segment_len: 2_000,
            stride: 500,
            window: Some(10_500),
            window_policy: WindowPolicy::Exact,
            tss: Some(7_001),
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
        match (self.tss, self.window) {
            (Some(_), None) => return Err(SegmentError::TssWithoutWindow),
            (Some(tss), Some(window)) if tss == 0 || tss > window => {
                return Err(SegmentError::TssOutsideWindow { tss, window });
            }
            _ => {}
        }
        Ok(())
    }

    /// Applies the window (if any) to normalised residues (`ACGTN`) of a record that does
    /// not give its TSS: [`Self::read`] without `tss=`, the window only.
    pub fn fit<'a>(&self, residues: &'a str) -> Result<Cow<'a, str>, SegmentError> {
        Ok(self.read(residues, None)?.0)
    }

    /// Places the window on a record (normalised residues, `ACGTN`) whose TSS is at base
    /// `tss` (1-based, from its header) if given: the window's bases and what was read (see
    /// the module docs for the rules).
    pub fn read<'a>(
        &self,
        residues: &'a str,
        tss: Option<usize>,
    ) -> Result<(Cow<'a, str>, ReadWindow), SegmentError> {
        self.validate()?;
        let len = residues.len();
        if len == 0 {
            return Err(SegmentError::EmptySequence);
        }
        if let Some(tss) = tss
            && (tss == 0 || tss > len)
        {
            return Err(SegmentError::TssOutsideRecord { tss, len });
        }
        let (window, read) = match (self.window, self.tss) {
            (None, _) => (
                Cow::Borrowed(residues),
                ReadWindow {
                    record_len: len,
                    first: 1,
                    last: len,
                    window_len: len,
                    tss,
                    tss_source: if tss.is_some() {
                        TssSource::Header
                    } else {
                        TssSource::Unknown
                    },
                    tss_in_window: tss.map(|t| t - 1),
                    pad_before: 0,
                    pad_after: 0,
                    n_bases: 0,
                },
            ),
            (Some(window), Some(window_tss)) => {
                let (record_tss, source) = match tss {
                    Some(t) => (t, TssSource::Header),
                    None if len == window => (window_tss, TssSource::Window),
                    None if self.window_policy == WindowPolicy::Exact => {
                        return Err(SegmentError::WindowMismatch {
                            expected: window,
                            found: len,
                        });
                    }
                    None => (len / 2 + 1, TssSource::Centre),
                };
                around_tss(residues, window, window_tss, record_tss, source)
            }
            (Some(_), None) if tss.is_some() => return Err(SegmentError::TssUnknown),
            (Some(window), None) => self.legacy_fit(residues, window)?,
        };
        let n_bases = window.bytes().filter(|&b| b == b'N').count();
        let read = ReadWindow { n_bases, ..read };
        if n_bases == window.len() {
            return Err(SegmentError::NoBases(read.describe()));
        }
        Ok((window, read))
    }

    /// The rule of plans that do not know their TSS: [`WindowPolicy::Exact`] or padding /
    /// trimming at the 3′ end.
    fn legacy_fit<'a>(
        &self,
        residues: &'a str,
        window: usize,
    ) -> Result<(Cow<'a, str>, ReadWindow), SegmentError> {
        let found = residues.len();
        let read = ReadWindow {
            record_len: found,
            first: 1,
            last: found.min(window),
            window_len: window,
            tss: None,
            tss_source: TssSource::Unknown,
            tss_in_window: None,
            pad_before: 0,
            pad_after: window.saturating_sub(found),
            n_bases: 0,
        };
        let fitted = match (found.cmp(&window), self.window_policy) {
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
        }?;
        Ok((fitted, read))
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

    /// Segment `segment` in TSS-relative bp (`[first, last]`, the TSS at 0, upstream
    /// negative) for a window whose TSS is at 0-based `tss_in_window`.
    pub fn relative_to_tss(segment: &Segment, tss_in_window: usize) -> (i64, i64) {
        let tss = tss_in_window as i64;
        (segment.start as i64 - tss, segment.end as i64 - 1 - tss)
    }

    /// Fits `residues` to the window and cuts it: the fitted sequence and its segments.
    pub fn cut<'a>(&self, residues: &'a str) -> Result<(Cow<'a, str>, Vec<Segment>), SegmentError> {
        let fitted = self.fit(residues)?;
        let segments = self.segments(fitted.len())?;
        Ok((fitted, segments))
    }
}

/// The window of `window` bp whose base `window_tss` (1-based) is record base `record_tss`
/// (1-based): record bases where they exist, `N` elsewhere.
fn around_tss<'a>(
    residues: &'a str,
    window: usize,
    window_tss: usize,
    record_tss: usize,
    source: TssSource,
) -> (Cow<'a, str>, ReadWindow) {
    let len = residues.len();
    // Record index (0-based) of the window's first base; may be negative or past the end.
    let start = record_tss as i64 - window_tss as i64;
    let end = start + window as i64;
    let from = start.clamp(0, len as i64) as usize;
    let to = end.clamp(0, len as i64) as usize;
    let pad_before = (from as i64 - start) as usize;
    let pad_after = (end - to as i64) as usize;
    let bases = if pad_before == 0 && pad_after == 0 {
        Cow::Borrowed(&residues[from..to])
    } else {
        let mut padded = String::with_capacity(window);
        padded.extend(std::iter::repeat_n('N', pad_before));
        padded.push_str(&residues[from..to]);
        padded.extend(std::iter::repeat_n('N', pad_after));
        Cow::Owned(padded)
    };
    let read = ReadWindow {
        record_len: len,
        first: from + 1,
        last: to,
        window_len: window,
        tss: Some(record_tss),
        tss_source: source,
        tss_in_window: Some(window_tss - 1),
        pad_before,
        pad_after,
        n_bases: 0,
    };
    (bases, read)
}
