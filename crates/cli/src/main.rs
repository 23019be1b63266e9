//! `tandem`: search forensic STR profile tables from the command line, and a demo of the engine
//! on built-in data.
//!
//! Exit status: 0 when the command succeeded (for `search`: at least one hit), 1 when a search
//! found nothing, 2 on any error (including usage errors). A closed stdout pipe
//! (`tandem search ... | head -1`) is not an error.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod convert;
mod db;
mod demo;
mod export;
mod index;
mod io;
mod regional;
mod search;
// statistics commands (issue 3)
mod compare;
mod expect;
mod kin;
mod rmp;
mod simulate;

/// Forensic DNA STR matching: CODIS and Prüm searches over a packed index.
#[derive(Debug, Parser)]
#[command(name = "tandem", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Search every profile of a query table against a database table.
    Search(search::Args),
    /// Show the engine at work on the NIST 1036 population data.
    ///
    /// Searches for a degraded stain, a two-person mixture and a relative derived from real
    /// people, a Prüm search, then the same searches over ~200,000 simulated profiles. Every
    /// number printed is measured.
    Demo(demo::Args),
    /// Build, grow, expunge from, verify and describe index files.
    Index(index::Args),
    /// Convert profiles between CODIS CMF XML and lab tables (wide, long/GeneMapper, CODIS
    /// export).
    Convert(convert::Args),
    /// Export a database as a CODIS CMF batch for upload.
    Export(export::Args),
    /// Familial search: rank database profiles by kinship index for each query.
    Kin(kin::Args),
    /// Random match probability per locus and combined (or CPI/CPE for mixtures).
    Rmp(rmp::Args),
    /// All-pairs database comparison: pairs by loci matching fully and partially.
    Compare(compare::Args),
    /// Expected (m, p) matrix of a database of N people (Weir 2004).
    Expect(expect::Args),
    /// Simulate a database from a frequency table: people, relatives, mixtures, dropout.
    Simulate(simulate::Args),
    /// The regional index (GT, SV, HN...): merge national indexes, cross-border hits, search the
    /// other countries, resolve references in the owning country, expunge.
    Regional(regional::Args),
    /// Benchmark matching on this machine: search, batch, familial search, all-pairs comparison
    /// (with observed against expected match counts) and index files, on simulated data or an
    /// index.
    Bench(bench::Args),
}

/// What a command that ran to completion reports, mapped to the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done; for a search, at least one hit (exit 0).
    Success,
    /// A search that found nothing (exit 1).
    NoHits,
}

/// Exit status of an error, usage errors included.
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap formats usage errors, --help and --version itself; its exit code is 2 for
            // usage errors and 0 for help and version. A failed print (closed pipe) changes nothing.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(EXIT_ERROR));
        }
    };
    io::install_interrupt_handler();
    let result = match cli.command {
        Command::Search(args) => search::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Index(args) => index::run(&args),
        Command::Convert(args) => convert::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Kin(args) => kin::run(&args),
        Command::Rmp(args) => rmp::run(&args),
        Command::Compare(args) => compare::run(&args),
        Command::Expect(args) => expect::run(&args),
        Command::Simulate(args) => simulate::run(&args),
        Command::Regional(args) => regional::run(&args),
        Command::Bench(args) => bench::run(&args),
    };
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::NoHits) => ExitCode::from(1),
        Err(e) if io::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tandem: error: {}", io::error_chain(&e));
            ExitCode::from(EXIT_ERROR)
        }
    }
}
