//! `texcnn`: the native command-line tool.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod embed;
mod standin;

#[derive(Parser, Debug)]
#[command(
    name = "texcnn",
    version,
    about = "TExCNN: gene expression from promoter DNA"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Embed every FASTA record with a DNABERT-2 encoder (mean of the last hidden layer).
    Embed(embed::EmbedArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Embed(args) => embed::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
