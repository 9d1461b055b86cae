//! Files in and out: Hugging Face model folders, `texcnn import`, atomic output files.

pub mod hf_folder;
pub mod import;
pub mod output;
