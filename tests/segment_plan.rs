//! Segment plans: how sequences of every length are cut.

use texcnn::segment::{Segment, SegmentError, SegmentPlan, TssSource, WindowPolicy};

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

/// The default predictor's plan: 2,048 bp, the TSS at bp 1,025, segments 512/256.
fn tss_plan() -> SegmentPlan {
    SegmentPlan::new(512, 256)
        .unwrap()
        .with_window(2_048, WindowPolicy::PadOrTrim)
        .unwrap()
        .with_tss(1_025)
        .unwrap()
}

/// `len` bases that differ along the sequence (so a shifted window shows).
fn bases(len: usize, seed: usize) -> String {
    (0..len)
        .map(|i| b"ACGT"[(i * 7 + i / 3 + seed) % 4] as char)
        .collect()
}

#[test]
fn a_record_with_its_tss_is_read_around_it() {
    // A 10,500 bp Xpresso window (TSS at bp 7,001) with the 2,048 bp TSS-centred promoter
    // at bases 5,977-8,024.
    let promoter = bases(2_048, 1);
    let record = format!("{}{promoter}{}", bases(5_976, 2), bases(2_476, 3));
    let plan = tss_plan();
    let (window, read) = plan.read(&record, Some(7_001)).unwrap();
    assert_eq!(window, promoter);
    assert_eq!(read.describe(), "5977-8024 of 10500, tss 7001");
    assert_eq!(read.tss_source, TssSource::Header);
    assert!(
        read.notes()
            .iter()
            .any(|n| n.contains("only bases 5977-8024"))
    );
    // The promoter alone is the window as it is.
    let (alone, read) = plan.read(&promoter, None).unwrap();
    assert_eq!(alone, promoter);
    assert_eq!(read.describe(), "1-2048 of 2048, tss 1025");
    assert_eq!(read.tss_source, TssSource::Window);
    assert!(read.notes().is_empty(), "{:?}", read.notes());
    // A TSS near the record's start: bases before the record are N.
    let (window, read) = plan.read(&promoter, Some(100)).unwrap();
    assert_eq!(&window[..925], "N".repeat(925));
    assert_eq!(&window[925..], &promoter[..1_123]);
    assert_eq!((read.pad_before, read.pad_after), (925, 0));
    assert_eq!(read.describe(), "1-1123 of 2048, tss 100");
}

#[test]
fn records_of_another_length_without_a_tss_are_read_around_their_centre_with_a_note() {
    let plan = tss_plan();
    // 30 bp: the TSS taken to be at base 16, the rest of the window N.
    let short = bases(30, 0);
    let (window, read) = plan.read(&short, None).unwrap();
    assert_eq!(window.len(), 2_048);
    assert_eq!(&window[1_024 - 15..1_024 + 15], short);
    assert_eq!(read.tss, Some(16));
    assert_eq!(read.tss_source, TssSource::Centre);
    assert_eq!(read.describe(), "1-30 of 30, tss 16 (assumed: centre)");
    let notes = read.notes().join(" | ");
    assert!(
        notes.contains("taken to be at the record's centre (base 16)"),
        "{notes}"
    );
    assert!(
        notes.contains("fills 30 of the window's 2048 bp"),
        "{notes}"
    );
    assert!(notes.contains("99% of the window is N"), "{notes}");
    // 50 kb: bases 23,977-26,024 around the centre (base 25,001), with a note.
    let long = bases(50_000, 0);
    let (window, read) = plan.read(&long, None).unwrap();
    assert_eq!(window, &long[23_976..26_024]);
    assert_eq!(
        read.describe(),
        "23977-26024 of 50000, tss 25001 (assumed: centre)"
    );
    assert!(
        read.notes()
            .iter()
            .any(|n| n.contains("only bases 23977-26024"))
    );
}

#[test]
fn bad_tss_uses_and_empty_windows_are_errors() {
    let plan = tss_plan();
    assert_eq!(
        plan.read(&"N".repeat(2_048), None).unwrap_err().to_string(),
        "no A, C, G or T in the bases read (1-2048 of 2048, tss 1025): there is nothing to predict from"
    );
    assert_eq!(
        plan.read("ACGT", Some(5)).unwrap_err(),
        SegmentError::TssOutsideRecord { tss: 5, len: 4 }
    );
    // A plan that does not know its TSS cannot place one, and keeps its 3' rule.
    let legacy = SegmentPlan::new(4, 2)
        .unwrap()
        .with_window(8, WindowPolicy::PadOrTrim)
        .unwrap();
    assert_eq!(
        legacy.read("ACGTA", Some(2)).unwrap_err(),
        SegmentError::TssUnknown
    );
    let (window, read) = legacy.read("ACGTA", None).unwrap();
    assert_eq!(window, "ACGTANNN");
    assert_eq!(read.describe(), "1-5 of 5");
    assert!(
        read.notes()
            .iter()
            .any(|n| n.contains("3 bp are N (0 before, 3 after)"))
    );
    // An exact plan with a TSS reads records that give theirs, and rejects others.
    let xpresso = SegmentPlan::texcnn_xpresso();
    assert!(xpresso.read(&bases(12_000, 0), Some(8_000)).is_ok());
    assert!(matches!(
        xpresso.read(&bases(12_000, 0), None),
        Err(SegmentError::WindowMismatch { .. })
    ));
    assert_eq!(
        SegmentPlan::new(4, 2).unwrap().with_tss(1),
        Err(SegmentError::TssWithoutWindow)
    );
    assert_eq!(
        tss_plan().with_tss(2_049),
        Err(SegmentError::TssOutsideWindow {
            tss: 2_049,
            window: 2_048
        })
    );
}

#[test]
fn segments_in_tss_relative_bp() {
    let plan = tss_plan();
    let segments = plan.segments(2_048).unwrap();
    assert_eq!(
        SegmentPlan::relative_to_tss(&segments[0], 1_024),
        (-1_024, -513)
    );
    assert_eq!(
        SegmentPlan::relative_to_tss(segments.last().unwrap(), 1_024),
        (512, 1_023)
    );
}
