//! texcnn core

pub mod encoder;
