//! `tandem bench`: reproducible match benchmarks for users (the criterion benches in `benches/`
//! serve developers).
//!
//! On simulated data (the shipped NIST 1036 frequencies by default, or `--freq`) or on the user's
//! own database (`--db`), each suite runs its benchmarks with warm-up and repeated runs and reports
//! the median and spread, throughput, single-query latency percentiles, peak memory and the
//! speed-up of `--threads` threads over one:
//!
//! * `search`: a forced scan of a full profile (profiles compared per second) at N/100, N/10 and
//!   N profiles, and realistic degraded queries one at a time through the planner (latency p50,
//!   p95, p99);
//! * `batch`: the same queries in one batch search (queries per second);
//! * `kinship`: familial search of simulated, degraded parents of database people;
//! * `compare`: all pairs of up to `--compare-max` profiles (pairs per second), with the observed
//!   (m, p) counts against the expected ones, so the benchmark doubles as a check of the
//!   statistics;
//! * `index`: building an index, writing and opening the file, the first scan after open against
//!   a warm one.
//!
//! A table goes to stdout; `--report PATH` also writes PATH as JSON, a Markdown report beside it
//! and SVG plots. Ctrl-C stops after the current run and reports the results so far (exit 130).

mod data;
mod machine;
mod measure;
mod plot;
mod report;
mod suites;

use std::io::Write;
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use anyhow::{Context, Result};
use rayon::ThreadPoolBuilder;

use crate::Outcome;
use crate::io::{self, ReadFlags};
use crate::rmp::FreqArgs;
use data::Data;
use machine::Machine;
use measure::{Runner, stopped};
use report::{Parameters, Report, Suites};
use suites::Ctx;

/// The `--suite` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum SuiteArg {
    /// Single queries: forced scan throughput against database size, planner latency.
    Search,
    /// A batch of queries, on all threads and on one.
    Batch,
    /// Familial search (parent-child kinship index).
    Kinship,
    /// All-pairs comparison: pairs per second, observed against expected (m, p) counts.
    Compare,
    /// Index files: build, write, open, first scan after open against a warm scan.
    Index,
    /// Every suite.
    All,
}

impl SuiteArg {
    /// The suites, in the order they run.
    const ORDER: [SuiteArg; 5] = [
        SuiteArg::Search,
        SuiteArg::Batch,
        SuiteArg::Kinship,
        SuiteArg::Compare,
        SuiteArg::Index,
    ];

    /// The name used in the report.
    fn name(self) -> &'static str {
        match self {
            SuiteArg::Search => "search",
            SuiteArg::Batch => "batch",
            SuiteArg::Kinship => "kinship",
            SuiteArg::Compare => "compare",
            SuiteArg::Index => "index",
            SuiteArg::All => "all",
        }
    }
}

/// Arguments of `tandem bench`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Without --db, the database is simulated: --profiles people drawn from --freq (default: the \
built-in NIST 1036 table, population All) at --loci (default: GlobalFiler). The search suite also \
runs at 1/100 and 1/10 of --profiles; the compare suite compares at most --compare-max profiles.

--report PATH writes PATH (JSON), the Markdown report PATH with the extension .md, and the plots \
STEM-throughput.svg and STEM-matches.svg beside it.

Exit status: 0 when done, 2 on error, 130 when Ctrl-C stopped the run (the results so far are \
printed and written).")]
pub struct Args {
    /// Suites to run, separated by commas.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "all")]
    pub suite: Vec<SuiteArg>,
    /// Profiles in the simulated database.
    #[arg(long, value_name = "N", default_value_t = 100_000, value_parser = at_least::<10>, conflicts_with = "db")]
    pub profiles: usize,
    /// Loci of the simulated profiles: a kit or panel name (`GlobalFiler`, `CODIS 13`) or loci
    /// separated by commas (default: the GlobalFiler loci the frequency table has).
    #[arg(long, value_name = "PANEL", conflicts_with = "db")]
    pub loci: Option<String>,
    /// Allele frequency table to simulate from (default: the built-in NIST 1036 table). With
    /// --db: the frequencies of the familial search and of the expected (m, p) counts (default:
    /// estimated from the database, and no expected counts).
    #[arg(long, value_name = "PATH")]
    pub freq: Option<PathBuf>,
    /// The population of --freq (needed when the table has several).
    #[arg(long, value_name = "NAME", requires = "freq")]
    pub population: Option<String>,
    /// Threads of the "all threads" figures (default: one per logical core); the scaling figures
    /// compare them with one thread.
    #[arg(long, value_name = "T", value_parser = at_least::<1>)]
    pub threads: Option<usize>,
    /// Seed of the simulation and of the queries: the same seed gives the same data.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// Benchmark this database (an index file, or a table or CMF file indexed in memory) instead
    /// of simulated profiles; queries are drawn from its own profiles.
    #[arg(long, value_name = "INDEX")]
    pub db: Option<PathBuf>,
    /// Write the results as JSON to PATH, with a Markdown report and SVG plots beside it.
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
    /// Measured runs of each benchmark.
    #[arg(long, value_name = "R", default_value_t = 5, value_parser = at_least::<1>)]
    pub runs: usize,
    /// Warm-up runs before the measured ones.
    #[arg(long, value_name = "W", default_value_t = 1)]
    pub warmup: usize,
    /// Queries of the search and batch suites.
    #[arg(long, value_name = "Q", default_value_t = 200, value_parser = at_least::<1>)]
    pub queries: usize,
    /// Queries of the familial search suite.
    #[arg(long, value_name = "Q", default_value_t = 40, value_parser = at_least::<1>)]
    pub kinship_queries: usize,
    /// Most profiles the compare suite compares (all pairs grow as N^2): a larger database is
    /// compared on its first this many profiles.
    #[arg(long, value_name = "N", default_value_t = 50_000, value_parser = at_least::<2>)]
    pub compare_max: usize,
    #[command(flatten)]
    pub freq_args: FreqArgs,
    #[command(flatten)]
    pub read: ReadFlags,
}

/// Parses a count of at least `MIN`.
fn at_least<const MIN: usize>(s: &str) -> Result<usize, String> {
    match s.replace('_', "").parse::<usize>() {
        Ok(n) if n >= MIN => Ok(n),
        Ok(_) => Err(format!("must be at least {MIN}")),
        Err(e) => Err(e.to_string()),
    }
}

/// Runs `tandem bench`.
pub fn run(args: &Args) -> Result<Outcome> {
    let paths = args.report.as_deref().map(report::paths).transpose()?;
    measure::install_ctrl_c();
    let started = SystemTime::now();
    let clock = Instant::now();
    let mut machine = Machine::describe();
    let threads = args.threads.unwrap_or(machine.logical_cores);
    let pool = ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start the worker threads")?;
    let single = if threads > 1 {
        Some(
            ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .context("cannot start a worker thread")?,
        )
    } else {
        None
    };
    let selected: Vec<SuiteArg> = SuiteArg::ORDER
        .into_iter()
        .filter(|s| args.suite.contains(s) || args.suite.contains(&SuiteArg::All))
        .collect();
    let wants = |s: SuiteArg| selected.contains(&s);

    let loading = measure::spinner("loading the data");
    let mut data = pool.install(|| Data::load(args))?;
    loading.finish_and_clear();
    let n = data.info.profiles;

    // The benchmark database: the user's, or simulated once and shared by the suites.
    let needs_main = wants(SuiteArg::Search)
        || wants(SuiteArg::Batch)
        || wants(SuiteArg::Kinship)
        || wants(SuiteArg::Index)
        || (wants(SuiteArg::Compare) && n <= args.compare_max);
    let mut built = None;
    if needs_main && data.is_simulated() {
        let bar = measure::bar("database", n as u64);
        bar.set_message("profiles simulated and indexed");
        let t = Instant::now();
        built = pool.install(|| data.database(n, &bar))?;
        bar.finish_and_clear();
        if let Some(index) = &built {
            data.info.build_s = Some(t.elapsed().as_secs_f64());
            data.info.genotype_bytes = Some(index.genotype_bytes());
            data.info.posting_bytes = Some(index.posting_bytes());
        }
    }
    let main = data.file_index().or(built.as_ref());

    let mut ctx = Ctx {
        runner: Runner {
            warmup: args.warmup,
            runs: args.runs,
            bar: indicatif::ProgressBar::hidden(),
        },
        pool: &pool,
        single: single.as_ref(),
        threads,
        data: &data,
        queries: args.queries,
        kinship_queries: args.kinship_queries,
        compare_max: args.compare_max,
    };
    let per = ctx.runner.per_benchmark();
    let scaled = u64::from(single.is_some());
    let mut found = Suites::default();
    let mut scoped = true;
    for suite in selected.iter().copied() {
        if stopped() {
            break;
        }
        scoped &= machine::reset_peak_rss();
        match (suite, main) {
            (SuiteArg::Search, Some(index)) => {
                let sizes = if data.is_simulated() {
                    suites::search_sizes(index.len()).len()
                } else {
                    1
                };
                ctx.runner.bar = measure::bar(
                    "search",
                    suites::search_benchmarks(sizes, single.is_some()) * per,
                );
                let mut s = suites::search(&ctx, index)?;
                s.peak_rss_bytes = suites::peak_rss();
                found.search = Some(s);
            }
            (SuiteArg::Batch, Some(index)) => {
                ctx.runner.bar = measure::bar("batch", (1 + scaled) * per);
                let mut s = suites::batch(&ctx, index)?;
                s.peak_rss_bytes = suites::peak_rss();
                found.batch = Some(s);
            }
            (SuiteArg::Kinship, Some(index)) => {
                ctx.runner.bar = measure::bar("kinship", (1 + scaled) * per);
                let mut s = suites::kinship(&ctx, index)?;
                s.peak_rss_bytes = suites::peak_rss();
                found.kinship = Some(s);
            }
            (SuiteArg::Compare, _) => {
                ctx.runner.bar = measure::bar("compare", (1 + scaled) * per);
                if let Some(mut s) = suites::compare(&ctx, main, n)? {
                    s.peak_rss_bytes = suites::peak_rss();
                    found.compare = Some(s);
                }
            }
            (SuiteArg::Index, Some(index)) => {
                ctx.runner.bar = measure::bar("index", suites::INDEX_BENCHMARKS * per);
                let mut s = suites::index_files(&ctx, index)?;
                s.peak_rss_bytes = suites::peak_rss();
                found.index = Some(s);
            }
            // no database: Ctrl-C stopped its simulation
            _ => {}
        }
        ctx.runner.bar.finish_and_clear();
    }
    machine.load_average_end = machine::load_average();
    let interrupted = stopped();
    let scaling = suites::scaling(
        found.search.as_ref(),
        found.batch.as_ref(),
        found.kinship.as_ref(),
        found.compare.as_ref(),
        threads,
    );
    let report = Report {
        tool: "tandem bench",
        tandem_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at: humantime::format_rfc3339_seconds(started).to_string(),
        finished_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        elapsed_s: clock.elapsed().as_secs_f64(),
        interrupted,
        peak_rss_scope: if scoped { "suite" } else { "process" },
        parameters: Parameters::new(args, &selected, threads),
        machine,
        database: data.info.clone(),
        suites: found,
        scaling,
    };
    let mut out = io::stdout();
    report.write_text(&mut out)?;
    out.flush()?;
    if let Some(paths) = &paths {
        report.write_files(paths)?;
        eprintln!(
            "tandem: wrote {}, {} and the plots beside them",
            paths.json.display(),
            paths.markdown.display()
        );
    }
    if interrupted {
        drop(out);
        eprintln!("tandem: interrupted; the results above are those measured before Ctrl-C");
        std::process::exit(crate::io::EXIT_INTERRUPTED);
    }
    Ok(Outcome::Success)
}
