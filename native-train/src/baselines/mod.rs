//! The baselines TExCNN is compared with: k-mer frequencies and ridge regression, the
//! one-hot CNN, DeepLncLoc (Word2Vec k-mer embeddings and a text-CNN).

pub mod deeplncloc;
pub mod kmer;
pub mod kmer_ridge;
pub mod onehot_cnn;
pub mod ridge;
pub mod word2vec;
