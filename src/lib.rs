//! texcnn: predict a gene's expression from its promoter DNA, the TExCNN way (Dong et al.,
//! Genes 2024): cut the sequence into overlapping segments ([`segment`]), tokenize each with the
//! DNABERT-2 BPE tokenizer ([`tokenizer`]), embed it with a DNABERT-2 encoder, and regress
//! expression with a text-CNN over the segment axis.
//!
//! The crate knows nothing about files, terminals or the DOM: it takes bytes and strings and
//! returns values and typed errors. It compiles natively and for `wasm32-unknown-unknown`.

pub mod bundle;
#[cfg(not(target_arch = "wasm32"))]
pub mod device;
pub mod encoder;
pub mod export;
pub mod features;
pub mod head;
pub mod pipeline;
pub mod predict;
pub mod rng;
pub mod segment;
pub mod sequence;
pub mod tokenizer;
pub mod variants;
#[cfg(target_arch = "wasm32")]
pub mod web;
