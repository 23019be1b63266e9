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
    /// Allele frequency table: each hit then carries the random match probability of the
    /// query's genotypes at the matching loci (NRC II 4.1, theta 0.01, 2p rule at partial
    /// profiles), in the named population or, without --population, the most conservative one.
    #[arg(long, value_name = "PATH")]
    pub freq: Option<PathBuf>,
    /// The population of --freq to use (default: the most conservative, as CODIS reports).
    #[arg(long, value_name = "NAME", requires = "freq")]
    pub population: Option<String>,
    /// How leniently input files are read.
    #[command(flatten)]
    pub read: ReadFlags,
}

/// The RMP of a hit: population and value.
#[derive(Debug, Clone, serde::Serialize)]
struct HitRmp {
    population: String,
    rmp: String,
    log10_rmp: f64,
}

/// Computes the RMP of every hit when a frequency table is given.
fn hit_rmps(
    args: &Args,
    queries: &[Profile],
    results: &[Vec<Hit>],
) -> Result<Option<Vec<Vec<HitRmp>>>> {
    let Some(path) = &args.freq else {
        return Ok(None);
    };
    let table =
        tandem_core::freq::FreqTable::read_path(path, &tandem_core::freq::FreqOptions::default())?;
    if let Some(name) = &args.population {
        table
            .select(Some(name))
            .with_context(|| format!("{}", path.display()))?;
    }
    let opts = tandem_core::stats::RmpOptions::default();
    let rmps = queries
        .iter()
        .zip(results)
        .map(|(q, hits)| {
            hits.iter()
                .map(|h| {
                    let report = tandem_core::stats::hit_statistics(q, h, &table, &opts);
                    let chosen = match &args.population {
                        Some(name) => report.populations.iter().find(|p| &p.population == name),
                        None => report.conservative.and_then(|i| report.populations.get(i)),
                    };
                    match chosen {
                        Some(p) => HitRmp {
                            population: p.population.clone(),
                            rmp: p.combined.sci(3),
                            log10_rmp: p.combined.log10(),
                        },
                        None => HitRmp {
                            population: String::new(),
                            rmp: "1".into(),
                            log10_rmp: 0.0,
                        },
                    }
                })
                .collect()
        })
        .collect();
    Ok(Some(rmps))
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

    let rmps = hit_rmps(args, &queries, &results)?;
    let hits: usize = results.iter().map(Vec::len).sum();
    match write_hits(
        &mut io::stdout(),
        args.format,
        &queries,
        &results,
        rmps.as_deref(),
    ) {
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
    rmps: Option<&[Vec<HitRmp>]>,
) -> std::io::Result<()> {
    if format == OutputFormat::Tsv {
        if rmps.is_some() {
            writeln!(out, "{TSV_HEADER}\trmp\tpopulation")?;
        } else {
            writeln!(out, "{TSV_HEADER}")?;
        }
    }
    for (qi, (query, found)) in queries.iter().zip(results).enumerate() {
        for (hi, hit) in found.iter().enumerate() {
            let rmp = rmps.and_then(|r| r.get(qi)).and_then(|r| r.get(hi));
            match format {
                OutputFormat::Tsv => write_tsv(out, query.id(), hit, rmp)?,
                OutputFormat::Json => write_json(out, query.id(), hit, rmp)?,
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
fn write_tsv(
    out: &mut impl Write,
    query: &ProfileId,
    hit: &Hit,
    rmp: Option<&HitRmp>,
) -> std::io::Result<()> {
    let prum = hit.prum.map(|p| p.to_string()).unwrap_or_default();
    write!(
        out,
        "{query}\t{}\t{}\t{}\t{}\t{prum}\t{}",
        hit.candidate,
        hit.loci_compared,
        hit.loci_matched,
        hit.loci_mismatched,
        mismatched_loci(hit)
    )?;
    if let Some(r) = rmp {
        write!(out, "\t{}\t{}", r.rmp, r.population)?;
    }
    writeln!(out)
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
    #[serde(skip_serializing_if = "Option::is_none")]
    rmp: Option<&'a HitRmp>,
    loci: &'a [LocusResult],
}

/// Writes one JSON line.
fn write_json(
    out: &mut impl Write,
    query: &ProfileId,
    hit: &Hit,
    rmp: Option<&HitRmp>,
) -> std::io::Result<()> {
    let record = JsonHit {
        query,
        candidate: &hit.candidate,
        loci_compared: hit.loci_compared,
        loci_matched: hit.loci_matched,
        loci_mismatched: hit.loci_mismatched,
        prum: hit.prum,
        rmp,
        loci: &hit.loci,
    };
    serde_json::to_writer(&mut *out, &record).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}
