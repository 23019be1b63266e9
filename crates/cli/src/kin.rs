//! `tandem kin`: familial search. Every profile of a database is ranked for each query by the
//! kinship index of a relationship; direct matches are listed apart.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use tandem_core::Index;
use tandem_core::freq::{FreqOptions, FreqTable};
use tandem_core::kinship::{FamilialOptions, FamilialResult, KinshipOptions, Relationship};

use crate::Outcome;
use crate::db;
use crate::io::{self, ReadFlags};
use crate::rmp::{Format, FreqArgs, load_freq, parse_unit, population};

/// Arguments of `tandem kin`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Exit status: 0 when candidates were ranked, 1 when none was, 2 on error.")]
pub struct Args {
    /// The database (a lab table, CMF file or index file).
    #[arg(long, value_name = "PATH")]
    pub db: PathBuf,
    /// The queries (relatives of the people sought, or unknowns).
    #[arg(long, value_name = "PATH")]
    pub query: PathBuf,
    /// The relationship: parent-child, full-sibling, half-sibling (= grandparent, avuncular),
    /// first-cousin, or IBD probabilities k0,k1,k2.
    #[arg(long, default_value = "parent-child", value_parser = |s: &str| s.parse::<Relationship>())]
    pub relationship: Relationship,
    /// Allele frequency table; without it, frequencies are estimated from the database.
    #[arg(long, value_name = "PATH")]
    pub freq: Option<PathBuf>,
    /// The population of the frequency table (needed when it has several).
    #[arg(long, value_name = "NAME", requires = "freq")]
    pub population: Option<String>,
    /// Theta (F_ST).
    #[arg(long, default_value_t = 0.01, value_parser = parse_unit)]
    pub theta: f64,
    /// Single-step mutation rate per transmitted allele.
    #[arg(long, default_value_t = 0.002, value_parser = parse_unit)]
    pub mutation_rate: f64,
    /// Allele dropout probability at single-allele loci.
    #[arg(long, default_value_t = 0.05, value_parser = parse_unit)]
    pub dropout: f64,
    /// Loci compared (informative in both) for a candidate to be ranked, and for a direct match.
    #[arg(long, default_value_t = 8)]
    pub min_loci: usize,
    /// Candidates reported per query.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Prior probability that a given database profile is the relative (default 1 / database
    /// size).
    #[arg(long, value_parser = parse_unit)]
    pub prior: Option<f64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Tsv)]
    pub format: Format,
    #[command(flatten)]
    pub freq_args: FreqArgs,
    #[command(flatten)]
    pub read: ReadFlags,
}

/// Runs `tandem kin`.
pub fn run(args: &Args) -> Result<Outcome> {
    let t0 = Instant::now();
    let profiles = db::load_profiles(&args.db, args.read)?;
    let index = Index::from_profiles(&profiles)
        .with_context(|| format!("cannot index {}", args.db.display()))?;
    let queries = db::load_profiles(&args.query, args.read)?;
    let estimated;
    let table = match &args.freq {
        Some(path) => load_freq(path, &args.freq_args)?,
        None => {
            estimated = FreqTable::estimate(
                &profiles,
                "database",
                &FreqOptions {
                    min_frequency: args.freq_args.min_freq.0,
                },
            );
            estimated
        }
    };
    drop(profiles);
    let pop = population(
        &table,
        args.population.as_deref(),
        args.freq.as_deref().unwrap_or(&args.db),
    )?;
    let loaded = t0.elapsed();
    let opts = FamilialOptions {
        kinship: KinshipOptions {
            relationship: args.relationship,
            theta: args.theta,
            mutation_rate: args.mutation_rate,
            dropout: args.dropout,
        },
        min_loci: args.min_loci,
        top: args.top,
        prior: args.prior,
    };
    let t1 = Instant::now();
    let results = index.familial_search(&queries, pop, &opts)?;
    if std::io::stderr().is_terminal() {
        eprintln!(
            "tandem: {} queries against {} profiles: loaded in {:.2} s, ranked in {:.3} s",
            queries.len(),
            index.len(),
            loaded.as_secs_f64(),
            t1.elapsed().as_secs_f64()
        );
    }
    let found = results
        .iter()
        .any(|r| !r.candidates.is_empty() || !r.direct_matches.is_empty());
    match write(&mut io::stdout(), args, &results) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        w => w?,
    }
    Ok(if found {
        Outcome::Success
    } else {
        Outcome::NoHits
    })
}

/// The TSV columns.
pub const TSV_HEADER: &str = "query\trank\tcandidate\tlog10_lr\tlr\tposterior\tconsistent_loci\tmutation_loci\tinconclusive_loci\texcluded_loci";

fn write(out: &mut impl Write, args: &Args, results: &[FamilialResult]) -> std::io::Result<()> {
    if args.format == Format::Tsv {
        writeln!(out, "{TSV_HEADER}")?;
    }
    for r in results {
        match args.format {
            Format::Tsv => {
                // direct matches first, apart: rank `direct`, no kinship index
                for h in &r.direct_matches {
                    writeln!(
                        out,
                        "{}\tdirect\t{}\t-\t-\t-\t{}\t0\t0\t0",
                        r.query, h.candidate, h.loci_matched
                    )?;
                }
                for c in &r.candidates {
                    let d = &c.detail;
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{:.6}\t{}\t{:.6e}\t{}\t{}\t{}\t{}",
                        r.query,
                        c.rank,
                        c.candidate,
                        c.lr.log10(),
                        c.lr.sci(4),
                        c.posterior,
                        d.consistent,
                        d.mutation,
                        d.inconclusive,
                        d.excluded
                    )?;
                }
            }
            Format::Json => {
                let record = serde_json::json!({
                    "query": r.query,
                    "relationship": args.relationship,
                    "prior": r.prior,
                    "direct_matches": r.direct_matches.iter().map(|h| serde_json::json!({
                        "candidate": h.candidate, "loci_compared": h.loci_compared, "loci_matched": h.loci_matched,
                    })).collect::<Vec<_>>(),
                    "candidates": r.candidates.iter().map(|c| serde_json::json!({
                        "rank": c.rank, "candidate": c.candidate, "log10_lr": c.lr.log10(), "lr": c.lr.sci(4),
                        "posterior": c.posterior, "consistent_loci": c.detail.consistent,
                        "mutation_loci": c.detail.mutation, "inconclusive_loci": c.detail.inconclusive,
                        "excluded_loci": c.detail.excluded, "loci": c.detail.loci,
                    })).collect::<Vec<_>>(),
                });
                serde_json::to_writer(&mut *out, &record)?;
                out.write_all(b"\n")?;
            }
        }
    }
    out.flush()
}
