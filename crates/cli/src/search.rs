//! `tandem search`: every profile of a query file against a database file, hits as TSV or JSON
//! lines on stdout.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use tandem_core::search::Outcome as LocusOutcome;
use tandem_core::{Hit, LocusResult, Profile, ProfileId, PrumQuality, SearchOptions, Stringency};

use crate::Outcome;
use crate::io::{self, ReadFlags};

/// Arguments of `tandem search`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 when at least one hit was found, 1 when none was, 2 on error."
)]
pub struct Args {
    /// The database: profiles to search in (a lab table, CSV or TSV).
    #[arg(long, value_name = "PATH")]
    pub db: PathBuf,
    /// The queries: profiles to search for (a lab table, CSV or TSV); each is searched on its own.
    #[arg(long, value_name = "PATH")]
    pub query: PathBuf,
    /// CODIS per-locus stringency: high (same alleles), moderate (one allele set contains the
    /// other), low (at least one shared allele).
    #[arg(long, value_enum, default_value_t = StringencyArg::Moderate, conflicts_with = "prum")]
    pub stringency: StringencyArg,
    /// Minimum loci compared (CODIS mode, default 8) or fully matching (Prüm mode, default 6).
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub min_loci: Option<usize>,
    /// Most loci allowed to fail the stringency in a hit (CODIS mode).
    #[arg(long, value_name = "K", default_value_t = 0, conflicts_with = "prum")]
    pub max_mismatches: usize,
    /// Prüm mode (Council Decision 2008/616/JHA): full matches and near matches (exactly one
    /// allele differs), at least 6 matching loci unless --min-loci says otherwise.
    #[arg(long)]
    pub prum: bool,
    /// Report only the best N hits of each query.
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub top: Option<usize>,
    /// Output format: a TSV table with a header row, or one JSON object per hit and line (with
    /// the per-locus detail).
    #[arg(long, value_enum, default_value_t = OutputFormat::Tsv)]
    pub format: OutputFormat,
    /// Worker threads (default: one per CPU).
    #[arg(long, value_name = "T", value_parser = at_least_one)]
    pub threads: Option<usize>,
    /// How leniently input files are read.
    #[command(flatten)]
    pub read: ReadFlags,
}

/// The `--stringency` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StringencyArg {
    /// The same alleles and the same number of alleles.
    High,
    /// Every allele of one profile is present in the other.
    Moderate,
    /// At least one allele shared.
    Low,
}

impl From<StringencyArg> for Stringency {
    fn from(s: StringencyArg) -> Stringency {
        match s {
            StringencyArg::High => Stringency::High,
            StringencyArg::Moderate => Stringency::Moderate,
            StringencyArg::Low => Stringency::Low,
        }
    }
}

/// The `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Tab-separated values with a header row.
    Tsv,
    /// One JSON object per hit and line.
    Json,
}

/// Parses a count that must be at least 1.
fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// The search options the arguments ask for.
pub fn options(args: &Args) -> SearchOptions {
    let mut opts = if args.prum {
        SearchOptions::prum()
    } else {
        SearchOptions {
            stringency: args.stringency.into(),
            max_mismatches: args.max_mismatches,
            ..SearchOptions::default()
        }
    };
    if let Some(n) = args.min_loci {
        opts.min_loci = n;
    }
    opts.top = args.top;
    opts
}

/// The TSV columns, in order.
pub const TSV_HEADER: &str =
    "query\tcandidate\tloci_compared\tloci_matched\tloci_mismatched\tprum_quality\tmismatched_loci";

/// Runs `tandem search`.
pub fn run(args: &Args) -> Result<Outcome> {
    if let Some(t) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()
            .context("cannot start the worker threads")?;
    }
    let queries = crate::db::load_profiles(&args.query, args.read)?;
    if queries.is_empty() {
        io::warn_all(&[format!("{}: no query profile", args.query.display())]);
    }
    let index = crate::db::load_index(&args.db, args.read, queries.len())?;

    let opts = options(args);
    let results = index.search_batch(&queries, &opts);

    let hits: usize = results.iter().map(Vec::len).sum();
    match write_hits(&mut io::stdout(), args.format, &queries, &results) {
        // A closed pipe (`| head`): the reader has what it wanted; the exit status still tells
        // whether anything was found.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        written => written?,
    }
    Ok(if hits == 0 {
        Outcome::NoHits
    } else {
        Outcome::Success
    })
}

/// Writes the hits of every query, in query order, in `format` (TSV with its header row).
fn write_hits(
    out: &mut impl Write,
    format: OutputFormat,
    queries: &[Profile],
    results: &[Vec<Hit>],
) -> std::io::Result<()> {
    if format == OutputFormat::Tsv {
        writeln!(out, "{TSV_HEADER}")?;
    }
    for (query, found) in queries.iter().zip(results) {
        for hit in found {
            match format {
                OutputFormat::Tsv => write_tsv(out, query.id(), hit)?,
                OutputFormat::Json => write_json(out, query.id(), hit)?,
            }
        }
    }
    out.flush()
}

/// Loci of a hit that did not pass, comma-separated, or `-` when every compared locus passed.
pub fn mismatched_loci(hit: &Hit) -> String {
    let failed: Vec<&str> = hit
        .loci
        .iter()
        .filter(|l| l.outcome != LocusOutcome::Match)
        .map(|l| l.locus.name())
        .collect();
    if failed.is_empty() {
        "-".to_string()
    } else {
        failed.join(",")
    }
}

/// Writes one TSV row. Specimen ids and locus names hold no control characters, so no cell
/// needs quoting.
fn write_tsv(out: &mut impl Write, query: &ProfileId, hit: &Hit) -> std::io::Result<()> {
    let prum = hit.prum.map(|p| p.to_string()).unwrap_or_default();
    writeln!(
        out,
        "{query}\t{}\t{}\t{}\t{}\t{prum}\t{}",
        hit.candidate,
        hit.loci_compared,
        hit.loci_matched,
        hit.loci_mismatched,
        mismatched_loci(hit)
    )
}

/// One JSON line: the TSV columns (with the Prüm quality as `full`, `near` or null) plus the
/// per-locus detail of the hit.
#[derive(serde::Serialize)]
struct JsonHit<'a> {
    query: &'a ProfileId,
    candidate: &'a ProfileId,
    loci_compared: usize,
    loci_matched: usize,
    loci_mismatched: usize,
    prum: Option<PrumQuality>,
    loci: &'a [LocusResult],
}

/// Writes one JSON line.
fn write_json(out: &mut impl Write, query: &ProfileId, hit: &Hit) -> std::io::Result<()> {
    let record = JsonHit {
        query,
        candidate: &hit.candidate,
        loci_compared: hit.loci_compared,
        loci_matched: hit.loci_matched,
        loci_mismatched: hit.loci_mismatched,
        prum: hit.prum,
        loci: &hit.loci,
    };
    serde_json::to_writer(&mut *out, &record).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}
