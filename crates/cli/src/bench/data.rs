//! What a benchmark runs on: profiles simulated from a frequency table (the shipped NIST 1036
//! table by default), or the user's own database (`--db`); and the queries drawn from either.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use indicatif::ProgressBar;
use rand::Rng as _;
use tandem_core::freq::{FreqOptions, FreqTable, Population};
use tandem_core::simulate::{AllelePools, Simulator, degrade, renamed};
use tandem_core::{Index, Kit, Locus, LocusKind, Profile, ProfileId};

use super::Args;
use super::measure::stopped;
use crate::db;
use crate::demo::thousands;
use crate::rmp::{load_freq, parse_loci, population};

/// The NIST 1036 allele frequencies, compiled in so that `tandem bench` runs from any directory.
const NIST_FREQS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/nist1036_allele_freqs.csv"
));
/// The population of the built-in table used by default: all 1,036 people.
const DEFAULT_POPULATION: &str = "All";
/// Specimen id prefix of simulated profiles.
const PREFIX: &str = "SIM";
/// Simulated profiles generated (and indexed) per batch: the owned profiles of a 10^7 database
/// are never all in memory at once.
const SIM_BATCH: usize = 100_000;
/// With `--db` and no `--freq`, the frequencies are estimated from this many first profiles of
/// the database.
pub const ESTIMATE_FROM: usize = 100_000;
/// Locus dropout and allele dropout of the realistic single-source queries.
pub const QUERY_DROPOUT: (f64, f64) = (0.05, 0.10);
/// Locus dropout and allele dropout of the familial-search queries (after the relative is drawn).
pub const KIN_DROPOUT: (f64, f64) = (0.05, 0.08);
/// Single-step mutation rate per transmitted allele of simulated relatives.
pub const MUTATION_RATE: f64 = 0.002;
/// The row whose profile is the full query of the forced scans (as in the criterion benches).
const FULL_QUERY_ROW: usize = 4_242;

/// Random streams of the simulator (separate from those of the simulated people).
const STREAM_QUERIES: u64 = 7;
const STREAM_KIN: u64 = 8;

/// Where the profiles come from.
pub enum Source {
    /// Simulated people at these loci (the database of `n` profiles is rows `0..n`).
    Simulated {
        /// The loci drawn.
        loci: Vec<Locus>,
    },
    /// The user's database, opened (with postings); queries are drawn from its rows.
    File {
        /// The database.
        index: Box<Index>,
    },
}

/// A query with the specimen it was derived from (its source, or the relative to find).
#[derive(Debug, Clone)]
pub struct Query {
    /// The query profile.
    pub profile: Profile,
    /// The database profile it comes from.
    pub source: ProfileId,
}

/// The data of a benchmark run.
pub struct Data {
    /// The source of profiles.
    pub source: Source,
    /// Draws people, relatives and degraded copies (from `population` with `--db`).
    pub sim: Simulator,
    /// The frequencies of the familial search.
    pub population: Population,
    /// The frequencies of the expected (m, p) matrix: those the people were drawn from, or those
    /// given with `--freq` for `--db`; `None` for `--db` without `--freq`.
    pub expected: Option<Population>,
    /// For the report.
    pub info: DataInfo,
}

/// The data, as the report describes it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DataInfo {
    /// `simulated` or `index` (the user's database).
    pub source: &'static str,
    /// The database file, for `--db`.
    pub path: Option<String>,
    /// Profiles in the (largest) database.
    pub profiles: usize,
    /// Loci of the database (simulated: the loci drawn that the table has frequencies for).
    pub loci: Vec<String>,
    /// How many of them are autosomal (the loci searched and compared).
    pub autosomal_loci: usize,
    /// The frequency table (`built in` for the shipped NIST 1036 table; `estimated from the
    /// database` for `--db` without `--freq`).
    pub frequencies: String,
    /// The population of the table.
    pub population: String,
    /// Seed of every random choice.
    pub seed: u64,
    /// Seconds to simulate and index the database, or to open it and build its postings.
    pub build_s: Option<f64>,
    /// Bytes of packed genotype codes of the database.
    pub genotype_bytes: Option<usize>,
    /// Bytes of its posting lists.
    pub posting_bytes: Option<usize>,
}

/// The loci of `--loci`: a kit or panel (all its loci, Amelogenin included) or a list.
fn simulated_loci(spec: Option<&str>, pools: &AllelePools) -> Result<Vec<Locus>> {
    match spec {
        Some(s) => match s.parse::<Kit>() {
            Ok(kit) => Ok(kit.loci()),
            Err(_) => parse_loci(s),
        },
        // GlobalFiler where the table has it (non-autosomal loci are skipped without a pool)
        None => {
            let loci: Vec<Locus> = Kit::GlobalFiler
                .loci()
                .into_iter()
                .filter(|l| !l.is_counted() || pools.contains(*l))
                .collect();
            if loci.iter().any(|l| l.is_counted()) {
                Ok(loci)
            } else {
                Ok(pools.loci().collect())
            }
        }
    }
}

impl Data {
    /// The data `args` ask for: a simulator of the table (or the built-in one), or the database
    /// of `--db` opened with its postings.
    pub fn load(args: &Args) -> Result<Data> {
        let table = match &args.freq {
            Some(path) => Some(load_freq(path, &args.freq_args)?),
            None => None,
        };
        match &args.db {
            None => Self::simulated(args, table),
            Some(path) => Self::file(args, path, table),
        }
    }

    fn simulated(args: &Args, table: Option<FreqTable>) -> Result<Data> {
        let (table, name, frequencies) = match table {
            Some(t) => (
                t,
                args.population.as_deref(),
                args.freq
                    .as_ref()
                    .map_or(String::new(), |p| p.display().to_string()),
            ),
            None => (
                FreqTable::read(
                    NIST_FREQS.as_bytes(),
                    "nist1036_allele_freqs.csv",
                    &FreqOptions {
                        min_frequency: args.freq_args.min_freq.0,
                    },
                )
                .context("the built-in NIST 1036 frequency table")?,
                Some(DEFAULT_POPULATION),
                "nist1036_allele_freqs.csv (built in)".to_string(),
            ),
        };
        let path = args
            .freq
            .clone()
            .unwrap_or_else(|| PathBuf::from(&frequencies));
        let pop = population(&table, name, &path)?.clone();
        let pools = AllelePools::from_frequencies(pop.pool_rows())
            .with_context(|| format!("{frequencies}, population {}", pop.name()))?;
        let loci = simulated_loci(args.loci.as_deref(), &pools)?;
        let sim = Simulator::new(pools, args.seed);
        // fail now, not after minutes of other suites, if a locus has no frequencies
        sim.unrelated_range(0..1, &loci, PREFIX)
            .with_context(|| format!("{frequencies}, population {}", pop.name()))?;
        let drawn: Vec<Locus> = loci
            .iter()
            .copied()
            .filter(|l| sim.pools().contains(*l) || l.kind() == LocusKind::Amelogenin)
            .collect();
        let info = DataInfo {
            source: "simulated",
            path: None,
            profiles: args.profiles,
            loci: drawn.iter().map(|l| l.name().to_string()).collect(),
            autosomal_loci: drawn.iter().filter(|l| l.is_counted()).count(),
            frequencies,
            population: pop.name().to_string(),
            seed: args.seed,
            build_s: None,
            genotype_bytes: None,
            posting_bytes: None,
        };
        Ok(Data {
            source: Source::Simulated { loci },
            sim,
            expected: Some(pop.clone()),
            population: pop,
            info,
        })
    }

    fn file(args: &Args, path: &Path, table: Option<FreqTable>) -> Result<Data> {
        let t = Instant::now();
        let index = if db::is_index_file(path) {
            let mut index = Index::open(path)?;
            index.build_postings();
            index
        } else {
            db::load_index(path, args.read, 0)?
        };
        let build_s = t.elapsed().as_secs_f64();
        if index.len() < 2 {
            bail!(
                "{}: a benchmark needs at least 2 profiles, the database holds {}",
                path.display(),
                index.len()
            );
        }
        let (pop, expected, frequencies) = match &table {
            Some(t) => {
                let pop = population(t, args.population.as_deref(), path)?.clone();
                let desc = args
                    .freq
                    .as_ref()
                    .map_or(String::new(), |p| p.display().to_string());
                (pop.clone(), Some(pop), desc)
            }
            None => {
                let sample: Vec<Profile> = index.profiles().take(ESTIMATE_FROM).collect();
                let est = FreqTable::estimate(
                    &sample,
                    "database",
                    &FreqOptions {
                        min_frequency: args.freq_args.min_freq.0,
                    },
                );
                let pop = population(&est, None, path)?.clone();
                (
                    pop,
                    None,
                    format!(
                        "estimated from the first {} profiles of the database",
                        thousands(sample.len())
                    ),
                )
            }
        };
        let pools = AllelePools::from_frequencies(pop.pool_rows())
            .with_context(|| format!("{frequencies}, population {}", pop.name()))?;
        let info = DataInfo {
            source: "index",
            path: Some(path.display().to_string()),
            profiles: index.len(),
            loci: index.loci().iter().map(|l| l.name().to_string()).collect(),
            autosomal_loci: index.loci().iter().filter(|l| l.is_counted()).count(),
            frequencies,
            population: pop.name().to_string(),
            seed: args.seed,
            build_s: Some(build_s),
            genotype_bytes: Some(index.genotype_bytes()),
            posting_bytes: Some(index.posting_bytes()),
        };
        Ok(Data {
            source: Source::File {
                index: Box::new(index),
            },
            sim: Simulator::new(pools, args.seed),
            population: pop,
            expected,
            info,
        })
    }

    /// True for simulated data.
    pub fn is_simulated(&self) -> bool {
        matches!(self.source, Source::Simulated { .. })
    }

    /// The user's database, for `--db`.
    pub fn file_index(&self) -> Option<&Index> {
        match &self.source {
            Source::File { index, .. } => Some(index),
            Source::Simulated { .. } => None,
        }
    }

    /// A database of `n` simulated profiles (rows `0..n` of the simulation), built in batches;
    /// `None` when Ctrl-C stopped it. For `--db`, the first `n` profiles of the database
    /// re-indexed in memory.
    pub fn database(&self, n: usize, bar: &ProgressBar) -> Result<Option<Index>> {
        let loci = match &self.source {
            Source::Simulated { loci } => loci,
            Source::File { index, .. } => {
                let profiles: Vec<Profile> = index.profiles().take(n).collect();
                return Ok(Some(Index::from_profiles(&profiles)?));
            }
        };
        let first = self
            .sim
            .unrelated_range(0..n.min(SIM_BATCH), loci, PREFIX)?;
        let mut index = Index::from_profiles(&first)?;
        drop(first);
        bar.inc(n.min(SIM_BATCH) as u64);
        let mut start = SIM_BATCH;
        while start < n {
            if stopped() {
                return Ok(None);
            }
            let end = (start + SIM_BATCH).min(n);
            for p in self.sim.unrelated_range(start..end, loci, PREFIX)? {
                index.add(p)?;
            }
            bar.inc((end - start) as u64);
            start = end;
        }
        Ok(Some(index))
    }

    /// The profiles of rows `0..n` (owned), for the index build benchmark.
    pub fn profiles(&self, n: usize) -> Result<Vec<Profile>> {
        match &self.source {
            Source::Simulated { loci } => Ok(self.sim.unrelated_range(0..n, loci, PREFIX)?),
            Source::File { index, .. } => Ok(index.profiles().take(n).collect()),
        }
    }

    /// How many rows queries may be drawn from in a database of `n` profiles.
    fn rows(&self, n: usize) -> usize {
        match &self.source {
            Source::Simulated { .. } => n,
            Source::File { index } => index.rows(),
        }
    }

    /// The profile of row `row` (for `--db`, of the first live row from `row` on).
    fn profile(&self, row: usize) -> Result<Profile> {
        match &self.source {
            Source::Simulated { loci } => self
                .sim
                .unrelated_range(row..row + 1, loci, PREFIX)?
                .pop()
                .context("simulation gave no profile"),
            Source::File { index } => {
                let rows = index.rows();
                (0..rows)
                    .filter_map(|k| u32::try_from((row + k) % rows).ok())
                    .find_map(|r| index.view(r))
                    .map(|v| v.to_profile())
                    .context("the database has no live profile")
            }
        }
    }

    /// The full (unchanged) profile the forced scans search for, in a database of `n` profiles.
    pub fn full_query(&self, n: usize) -> Result<Profile> {
        self.profile(FULL_QUERY_ROW % self.rows(n).max(1))
    }

    /// `count` realistic single-source queries for a database of `n` profiles: degraded copies
    /// of random database profiles ([`QUERY_DROPOUT`]), the same for a seed.
    pub fn degraded_queries(&self, n: usize, count: usize) -> Result<Vec<Query>> {
        let rows = self.rows(n);
        let mut rng = self.sim.rng(STREAM_QUERIES);
        let (locus, allele) = QUERY_DROPOUT;
        (0..count)
            .map(|i| {
                let person = self.profile(rng.gen_range(0..rows))?;
                let copy = degrade(&person, locus, allele, &mut rng);
                let id = ProfileId::new(&format!("BENCH-Q{:06}", i + 1))?;
                Ok(Query {
                    profile: renamed(&copy, id),
                    source: person.id().clone(),
                })
            })
            .collect()
    }

    /// `count` familial-search queries for a database of `n` profiles: a parent of a random
    /// database profile (with mutation), degraded ([`KIN_DROPOUT`]); the source is the child
    /// in the database.
    pub fn kinship_queries(&self, n: usize, count: usize) -> Result<Vec<Query>> {
        let rows = self.rows(n);
        let mut rng = self.sim.rng(STREAM_KIN);
        let (locus, allele) = KIN_DROPOUT;
        (0..count)
            .map(|i| {
                let child = self.profile(rng.gen_range(0..rows))?;
                let id = ProfileId::new(&format!("BENCH-K{:06}", i + 1))?;
                let parent = self
                    .sim
                    .parent_of(&child, id, MUTATION_RATE, &mut rng)
                    .with_context(|| format!("cannot simulate a parent of {}", child.id()))?;
                Ok(Query {
                    profile: degrade(&parent, locus, allele, &mut rng),
                    source: child.id().clone(),
                })
            })
            .collect()
    }
}
