//! The trainer every model here uses, `texcnn fit`'s head training on cached segment
//! embeddings, untrained heads for tests, and memory accounting.

pub mod embed_cache;
pub mod fit;
pub mod memory;
pub mod trainer;
pub mod untrained;
