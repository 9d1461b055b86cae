//! The native side of texcnn: files, data, training, baselines and evaluation. The `texcnn`
//! binary (`main.rs`, commands in `cli/`) is a thin command line over these modules.
//!
//! - [`files`]: Hugging Face model folders, `texcnn import`, atomic output files.
//! - [`data`]: data tables, FASTA + labels, h5, per-gene feature tables, splits and split files.
//! - [`train`]: the shared trainer, `texcnn fit`'s head training and embedding cache, untrained
//!   heads for tests, memory accounting.
//! - [`baselines`]: k-mers and ridge regression, the one-hot CNN, DeepLncLoc with Word2Vec.
//! - [`eval`]: metrics, prediction files, `texcnn evaluate`.

pub mod baselines;
pub mod data;
pub mod eval;
pub mod files;
pub mod train;
