//! A predictor bundle round trip, natively and in wasm: build a small predictor (random
//! encoder and head), write it as bytes, load it back, and check that the pipeline gives
//! the head's output on the encoder's segment embeddings computed directly, and that the
//! leave-one-segment-out effects are what removing each segment gives.

use burn::tensor::{Device, Tensor, TensorData};
use texcnn::bundle::{Bundle, EncoderPart, LabelSpec, ModelCard, OutputSpec, QuantPlan};
use texcnn::encoder::{Dnabert2Config, Dnabert2Encoder};
use texcnn::head::TextCnnHeadConfig;
use texcnn::predict::{Predictor, head_part};
use texcnn::segment::{SegmentPlan, WindowPolicy};
use texcnn::tokenizer::{Dnabert2Tokenizer, OFFICIAL_TOKENIZER_JSON};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const DNA: &str = include_str!("fixtures/promoters_excerpt.fa");

fn small_config() -> Dnabert2Config {
    Dnabert2Config {
        hidden_size: 16,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        intermediate_size: 32,
        ..Dnabert2Config::dnabert2_117m()
    }
}

fn build() -> (
    Vec<u8>,
    Dnabert2Encoder,
    texcnn::head::TextCnnHead,
    SegmentPlan,
) {
    let device = Device::flex();
    let config = small_config();
    let encoder = Dnabert2Encoder::init(&config, &device);
    let head_config = TextCnnHeadConfig::new(16)
        .with_filters(4)
        .with_dense(vec![8])
        .with_outputs(2);
    let head = head_config.init(&device).unwrap();
    let plan = SegmentPlan::new(300, 200)
        .unwrap()
        .with_window(1_000, WindowPolicy::PadOrTrim)
        .unwrap();
    let output = |name: &str| OutputSpec {
        name: name.into(),
        label: LabelSpec {
            name: name.into(),
            unit: "u".into(),
            transform: "none".into(),
        },
        meaning: String::new(),
        reference: vec![-1.0, 0.0, 1.0, 2.0],
    };
    let bundle = Bundle {
        card: ModelCard {
            name: "pipeline test".into(),
            description: "random weights".into(),
            outputs: vec![output("a"), output("b")],
            training: None,
            metrics: Vec::new(),
            licence: "test".into(),
            created_by: "tests/predict_pipeline.rs".into(),
        },
        segment_plan: plan,
        tokenizer_json: OFFICIAL_TOKENIZER_JSON.to_vec(),
        encoder: EncoderPart::from_encoder(
            &config,
            &encoder,
            &QuantPlan::uniform(texcnn::bundle::Codec::F32),
        )
        .unwrap(),
        head: Some(head_part(&head_config, &head).unwrap()),
        normalization: Vec::new(),
        features: None,
    };
    (bundle.to_bytes().unwrap(), encoder, head, plan)
}

fn first_promoter() -> String {
    texcnn::sequence::parse_text(DNA).records.remove(0).residues
}

fn host(t: Tensor<2>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().unwrap()
}

#[test]
fn bundle_round_trip_predicts_like_the_parts() {
    let device = Device::flex();
    let (bytes, encoder, head, plan) = build();
    let predictor = Predictor::from_bundle(&Bundle::from_bytes(&bytes).unwrap(), &device).unwrap();
    let dna = first_promoter();
    let got = predictor.predict(&dna, 3, true).unwrap();

    // The same computation by hand, from the original modules.
    let tokenizer = Dnabert2Tokenizer::official().unwrap();
    let (fitted, segments) = plan.cut(&dna).unwrap();
    assert_eq!(segments.len(), 5);
    let ids: Vec<Vec<u32>> = segments
        .iter()
        .map(|s| tokenizer.encode(&fitted[s.start..s.end]).unwrap())
        .collect();
    let emb = host(encoder.embed_segments(&ids).unwrap());
    let run = |rows: Vec<f32>, n: usize| {
        host(head.forward(
            Tensor::from_data(TensorData::new(rows, [1, n, 16]), &device),
            None,
        ))
    };
    let want = run(emb.clone(), 5);
    assert_eq!(got.outputs.len(), 2);
    for (o, w) in got.outputs.iter().zip(&want) {
        assert!((o.value - w).abs() < 1e-5, "{} vs {w}", o.value);
    }
    assert_eq!(got.outputs[0].name, "a");
    assert_eq!(got.outputs[1].name, "b");
    let pct = 100.0
        * [-1.0f32, 0.0, 1.0, 2.0]
            .iter()
            .filter(|&&r| r <= want[0])
            .count() as f32
        / 4.0;
    assert_eq!(got.outputs[0].percentile, Some(pct));

    assert_eq!(got.segments.len(), 5);
    for (k, effect) in got.segments.iter().enumerate() {
        let rest: Vec<f32> = emb
            .chunks(16)
            .enumerate()
            .filter(|&(i, _)| i != k)
            .flat_map(|(_, r)| r.to_vec())
            .collect();
        let without = run(rest, 4);
        for o in 0..2 {
            let expected = want[o] - without[o];
            assert!((effect.delta[o] - expected).abs() < 1e-5);
        }
        assert_eq!(
            (effect.start, effect.end),
            (segments[k].start, segments[k].end)
        );
    }
}

#[test]
fn bad_sequences_give_errors_not_panics() {
    let device = Device::flex();
    let (bytes, ..) = build();
    let predictor = Predictor::from_bundle(&Bundle::from_bytes(&bytes).unwrap(), &device).unwrap();
    let err = predictor.predict("", 2, false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the sequence is empty: there is nothing to segment"
    );
    // A window with no A, C, G or T has nothing to predict from: an error that says which
    // bases were read. A few N among bases still predict (each N is [UNK]).
    let err = predictor.predict(&"N".repeat(700), 2, false).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("no A, C, G or T in the bases read (1-700 of 700"),
        "{err}"
    );
    assert!(predictor.predict(&"ACGTN".repeat(140), 2, false).is_ok());
}

/// `add_output`: the joined bundle predicts the first bundle's outputs and the added one's,
/// each as its own bundle does; bundles that cannot be joined are refused.
#[test]
fn added_outputs_predict_as_their_own_bundle() {
    use texcnn::bundle::NormStats;
    use texcnn::predict::{AddOutputError, EMBEDDING_NORM, LABEL_NORM, add_output};
    let device = Device::flex();
    let (bytes, ..) = build();
    let mut first = Bundle::from_bytes(&bytes).unwrap();
    let embedding = NormStats {
        name: EMBEDDING_NORM.into(),
        mean: (0..16).map(|i| i as f32 / 40.0).collect(),
        std: (0..16).map(|i| 0.5 + i as f32 / 20.0).collect(),
    };
    let label = |mean: Vec<f32>, std: Vec<f32>| NormStats {
        name: LABEL_NORM.into(),
        mean,
        std,
    };
    first.normalization = vec![embedding.clone(), label(vec![1.0, -2.0], vec![0.5, 3.0])];
    let mut added = first.clone();
    let config = TextCnnHeadConfig::new(16)
        .with_filters(3)
        .with_dense(vec![5]);
    device.seed(7);
    added.head = Some(head_part(&config, &config.init(&device).unwrap()).unwrap());
    added.card.outputs.truncate(1);
    added.card.outputs[0].name = "c".into();
    added.normalization = vec![embedding.clone(), label(vec![4.0], vec![2.0])];

    let joined = add_output(&first, &added).unwrap();
    let dna = first_promoter();
    let predict = |bundle: &Bundle| {
        let predictor = Predictor::from_bundle(bundle, &device).unwrap();
        predictor.predict(&dna, 3, false).unwrap().outputs
    };
    let (want_first, want_added, got) = (predict(&first), predict(&added), predict(&joined));
    let names: Vec<&str> = got.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    for (g, w) in got.iter().zip(want_first.iter().chain(&want_added)) {
        assert!(
            (g.value - w.value).abs() < 1e-5,
            "{}: {} vs {}",
            g.name,
            g.value,
            w.value
        );
    }
    // Reloaded from bytes, the same.
    let reloaded = Bundle::from_bytes(&joined.to_bytes().unwrap()).unwrap();
    assert_eq!(reloaded, joined);

    // Another segment-embedding normalisation, or an output name already there: refused.
    let mut other_norm = added.clone();
    other_norm.normalization[0].mean[3] += 1.0;
    assert!(matches!(
        add_output(&first, &other_norm),
        Err(AddOutputError::EmbeddingNorm)
    ));
    let mut duplicate = added.clone();
    duplicate.card.outputs[0].name = "a".into();
    assert!(matches!(
        add_output(&first, &duplicate),
        Err(AddOutputError::Duplicate(name)) if name == "a"
    ));
}
