//! texcnn core
