//! The native side of texcnn: data loading, splits, baselines and evaluation. The `texcnn`
//! binary (`main.rs`) is a thin CLI over these modules.

pub mod data;
pub mod deeplncloc;
pub mod embed_cache;
pub mod evaluate;
pub mod fit;
pub mod hf_folder;
pub mod import;
pub mod kmer;
pub mod kmer_ridge;
pub mod memory;
pub mod metrics;
pub mod onehot_cnn;
pub mod output;
pub mod predictions;
pub mod ridge;
pub mod split;
pub mod split_file;
pub mod trainer;
pub mod untrained;
pub mod word2vec;
