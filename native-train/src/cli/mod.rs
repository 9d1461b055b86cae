//! The `texcnn` commands, one file per command (`commands.rs`: the data commands and the
//! baselines' runs), and what they share: the device choice, reading FASTA input.

pub mod bench;
pub mod bundle;
pub mod commands;
pub mod device;
pub mod embed;
pub mod fit;
pub mod input;
pub mod predict;
pub mod tokenize;
pub mod variants;
