//! Segment plans: how sequences of every length are cut.

use texcnn::segment::{Segment, SegmentError, SegmentPlan, WindowPolicy};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn starts(segments: &[Segment]) -> Vec<usize> {
    segments.iter().map(|s| s.start).collect()
}

#[test]
fn texcnn_xpresso_plan_gives_18_segments() {
    let plan = SegmentPlan::texcnn_xpresso();
    let dna = "A".repeat(10_500);
    let (fitted, segments) = plan.cut(&dna).unwrap();
    assert_eq!(fitted.len(), 10_500);
    assert_eq!(segments.len(), 18);
    assert_eq!(
        starts(&segments),
        (0..18).map(|i| i * 500).collect::<Vec<_>>()
    );
    assert!(segments.iter().all(|s| s.len() == 2_000));
    assert_eq!(segments.last().unwrap().end, 10_500);
    assert!(segments.iter().enumerate().all(|(i, s)| s.index == i));
}

#[test]
fn texcnn_plan_rejects_other_lengths_by_default() {
    let plan = SegmentPlan::texcnn_xpresso();
    let err = plan.cut(&"A".repeat(10_000)).unwrap_err();
    assert_eq!(
        err,
        SegmentError::WindowMismatch {
            expected: 10_500,
            found: 10_000
        }
    );
    assert_eq!(
        err.to_string(),
        "the sequence is 10000 bp but this model needs exactly 10500 bp"
    );
}

#[test]
fn pad_or_trim_window_pads_with_n_and_trims_the_3_prime_end() {
    let plan = SegmentPlan::new(4, 2)
        .unwrap()
        .with_window(8, WindowPolicy::PadOrTrim)
        .unwrap();
    assert_eq!(plan.fit("ACGTA").unwrap(), "ACGTANNN");
    assert_eq!(plan.fit("ACGTACGTTT").unwrap(), "ACGTACGT");
    assert_eq!(plan.fit("ACGTACGT").unwrap(), "ACGTACGT");
    let (_, segments) = plan.cut("ACG").unwrap();
    assert_eq!(starts(&segments), [0, 2, 4]);
}

#[test]
fn shorter_than_one_segment_is_one_whole_segment() {
    let plan = SegmentPlan::new(2_000, 500).unwrap();
    assert_eq!(
        plan.segments(1_234).unwrap(),
        [Segment {
            index: 0,
            start: 0,
            end: 1_234
        }]
    );
    assert_eq!(plan.segments(2_000).unwrap().len(), 1);
}

#[test]
fn a_ragged_tail_gets_one_end_aligned_segment() {
    let plan = SegmentPlan::new(2_000, 500).unwrap();
    let segments = plan.segments(2_700).unwrap();
    assert_eq!(starts(&segments), [0, 500, 700]);
    assert!(segments.iter().all(|s| s.len() == 2_000));
    assert_eq!(segments.last().unwrap().end, 2_700);
    // Non-overlapping plan: stride equal to the length.
    let plan = SegmentPlan::new(500, 500).unwrap();
    assert_eq!(
        starts(&plan.segments(2_048).unwrap()),
        [0, 500, 1_000, 1_500, 1_548]
    );
    // Stride longer than the segment skips bases between segments, by design.
    let plan = SegmentPlan::new(100, 300).unwrap();
    assert_eq!(starts(&plan.segments(1_000).unwrap()), [0, 300, 600, 900]);
}

#[test]
fn every_base_is_covered_and_segments_are_ordered() {
    for (len, stride) in [(7, 3), (100, 1), (50, 50), (64, 17)] {
        let plan = SegmentPlan::new(len, stride).unwrap();
        for seq_len in 1..400 {
            let segments = plan.segments(seq_len).unwrap();
            let mut covered = vec![false; seq_len];
            for s in &segments {
                assert!(s.end <= seq_len && s.start < s.end);
                assert_eq!(s.len(), len.min(seq_len));
                covered[s.start..s.end].iter_mut().for_each(|c| *c = true);
            }
            if stride <= len {
                assert!(
                    covered.iter().all(|&c| c),
                    "gap for {len}/{stride} on {seq_len}"
                );
            }
            assert!(segments.windows(2).all(|w| w[0].start < w[1].start));
            assert_eq!(segments.last().unwrap().end, seq_len);
        }
    }
}

#[test]
fn invalid_plans_and_empty_sequences_are_errors() {
    assert_eq!(SegmentPlan::new(0, 5), Err(SegmentError::ZeroSegmentLen));
    assert_eq!(SegmentPlan::new(5, 0), Err(SegmentError::ZeroStride));
    assert_eq!(
        SegmentPlan::new(5, 5)
            .unwrap()
            .with_window(0, WindowPolicy::Exact),
        Err(SegmentError::ZeroWindow)
    );
    let plan = SegmentPlan::new(5, 5).unwrap();
    assert_eq!(plan.segments(0), Err(SegmentError::EmptySequence));
    assert_eq!(plan.fit(""), Err(SegmentError::EmptySequence));
}

#[test]
fn plan_round_trips_through_json() {
    let plan = SegmentPlan::texcnn_xpresso();
    let json = serde_json::to_string(&plan).unwrap();
    assert_eq!(serde_json::from_str::<SegmentPlan>(&json).unwrap(), plan);
    // A plan written before windows existed still reads.
    let old: SegmentPlan = serde_json::from_str(r#"{"segment_len":10,"stride":5}"#).unwrap();
    assert_eq!(old, SegmentPlan::new(10, 5).unwrap());
}
