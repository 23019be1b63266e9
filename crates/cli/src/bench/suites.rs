//! The five suites: single-query search (scan throughput against database size, planner latency),
//! batch search, familial search, all-pairs comparison (observed against expected (m, p) counts)
//! and index files. Each runs its benchmarks with warm-up and repeated runs in a thread pool of
//! `--threads` threads, and again in a 1-thread pool for the thread scaling.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use rayon::ThreadPool;
use tandem_core::compare::{CompareOptions, ExpectOptions, expected_matrix};
use tandem_core::kinship::FamilialOptions;
use tandem_core::search::plan::{Force, Strategy, search_forced};
use tandem_core::{Index, SearchOptions};

use super::data::{Data, Query};
use super::machine;
use super::measure::{Runner, Timing, percentile, stopped};

/// The smallest database the search suite runs at when it scales `--profiles` down.
const MIN_SIZE: usize = 100;
/// Profiles the index suite builds an index from (at most), so that the owned profiles fit in
/// memory at any `--profiles`.
pub const BUILD_MAX: usize = 1_000_000;

/// What every suite needs: the runs, the thread pools and the data.
pub struct Ctx<'a> {
    /// Warm-up and measured runs, and the progress bar.
    pub runner: Runner,
    /// The pool of `--threads` threads.
    pub pool: &'a ThreadPool,
    /// A 1-thread pool for the scaling figures; `None` when `--threads` is 1.
    pub single: Option<&'a ThreadPool>,
    /// `--threads`.
    pub threads: usize,
    /// The data.
    pub data: &'a Data,
    /// Single queries of the search suite and queries of the batch suite (`--queries`).
    pub queries: usize,
    /// Queries of the familial search (`--kinship-queries`).
    pub kinship_queries: usize,
    /// The largest database of the all-pairs comparison (`--compare-max`).
    pub compare_max: usize,
}

impl Ctx<'_> {
    /// Runs `f` in the `--threads` pool.
    fn all<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.pool.install(f)
    }
}

/// The search options of every search benchmark: the defaults (moderate stringency, at least 8
/// loci compared, no mismatch).
fn search_options() -> SearchOptions {
    SearchOptions::default()
}

/// One thread against `--threads` threads.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Scaling {
    /// The suite.
    pub suite: &'static str,
    /// The figure compared.
    pub figure: &'static str,
    /// Threads of the "all" figure.
    pub threads: usize,
    /// The figure with one thread.
    pub one_thread: f64,
    /// The figure with `threads` threads.
    pub all_threads: f64,
    /// `all_threads / one_thread`.
    pub speedup: f64,
}

impl Scaling {
    fn new(suite: &'static str, figure: &'static str, threads: usize, one: f64, all: f64) -> Self {
        Scaling {
            suite,
            figure,
            threads,
            one_thread: one,
            all_threads: all,
            speedup: all / one.max(f64::MIN_POSITIVE),
        }
    }
}

/// Single queries at one database size.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchSize {
    /// Profiles in the database.
    pub profiles: usize,
    /// The forced scan of one full profile (every row compared), `--threads` threads.
    pub scan: Option<Timing>,
    /// Profiles compared per second by that scan.
    pub comparisons_per_s: Option<f64>,
    /// Hits of the scan query (its source, and any identical profile).
    pub scan_hits: usize,
    /// The same scan on one thread (largest size only).
    pub scan_1_thread: Option<Timing>,
    /// Profiles compared per second on one thread.
    pub comparisons_per_s_1_thread: Option<f64>,
    /// Degraded queries through the query planner, one at a time.
    pub planner: Option<Latency>,
}

/// Latency of single queries through the planner.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Latency {
    /// Queries per run.
    pub queries: usize,
    /// Query latencies measured (queries x measured runs).
    pub samples: usize,
    /// Median latency.
    pub latency_ms_p50: f64,
    /// 95th percentile.
    pub latency_ms_p95: f64,
    /// 99th percentile.
    pub latency_ms_p99: f64,
    /// Fastest query.
    pub latency_ms_min: f64,
    /// Slowest query.
    pub latency_ms_max: f64,
    /// Mean latency.
    pub latency_ms_mean: f64,
    /// Time of a whole run (every query once).
    pub run: Timing,
    /// `queries / run.median_s`.
    pub queries_per_s: f64,
    /// Queries the planner answers from the postings.
    pub by_postings: usize,
    /// Queries the planner answers by a scan.
    pub by_scan: usize,
    /// Mean rows verified per query.
    pub rows_verified_mean: f64,
    /// Queries whose hits include the profile they were derived from.
    pub sources_found: usize,
}

/// The search suite.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchSuite {
    /// Profiles of the largest database.
    pub profiles: usize,
    /// Threads of the figures.
    pub threads: usize,
    /// Profiles compared per second by a forced scan of the largest database.
    pub comparisons_per_s: Option<f64>,
    /// Single queries per second through the planner, largest database.
    pub queries_per_s: Option<f64>,
    /// Single-query latency, largest database: median.
    pub latency_ms_p50: Option<f64>,
    /// 95th percentile.
    pub latency_ms_p95: Option<f64>,
    /// 99th percentile.
    pub latency_ms_p99: Option<f64>,
    /// Peak resident memory during the suite.
    pub peak_rss_bytes: Option<u64>,
    /// Every size run, smallest first.
    pub sizes: Vec<SearchSize>,
    /// False when Ctrl-C cut the suite short.
    pub complete: bool,
}

/// The database sizes of the search suite: N/100, N/10 and N (those of at least [`MIN_SIZE`]).
pub fn search_sizes(n: usize) -> Vec<usize> {
    let mut v: Vec<usize> = [n / 100, n / 10]
        .into_iter()
        .filter(|&s| s >= MIN_SIZE && s < n)
        .collect();
    v.push(n);
    v.dedup();
    v
}

/// Benchmarks run per size by the search suite (for the progress bar).
pub fn search_benchmarks(sizes: usize, single: bool) -> u64 {
    2 * sizes as u64 + u64::from(single)
}

/// The search suite: at each size, a forced scan of a full profile and the degraded queries one
/// at a time through the planner; at the largest size (`main`) the scan on one thread too.
pub fn search(ctx: &Ctx<'_>, main: &Index) -> Result<SearchSuite> {
    let opts = search_options();
    let n = main.len();
    let sizes = if ctx.data.is_simulated() {
        search_sizes(n)
    } else {
        vec![n]
    };
    let mut out = SearchSuite {
        profiles: n,
        threads: ctx.threads,
        comparisons_per_s: None,
        queries_per_s: None,
        latency_ms_p50: None,
        latency_ms_p95: None,
        latency_ms_p99: None,
        peak_rss_bytes: None,
        sizes: Vec::new(),
        complete: false,
    };
    for &size in &sizes {
        if stopped() {
            return Ok(out);
        }
        let owned;
        let index = if size == n {
            main
        } else {
            ctx.runner
                .bar
                .set_message(format!("building the database of {size}"));
            match ctx.all(|| ctx.data.database(size, &indicatif::ProgressBar::hidden()))? {
                Some(i) => {
                    owned = i;
                    &owned
                }
                None => return Ok(out),
            }
        };
        let full = ctx.data.full_query(size)?;
        let scan_hits = ctx.all(|| search_forced(index, &full, &opts, Force::Scan).len());
        let label = format!("scan {size}");
        let scan = ctx.all(|| {
            ctx.runner
                .time(&label, || search_forced(index, &full, &opts, Force::Scan))
        });
        let (scan_1, rate_1) = match (size == n, ctx.single) {
            (true, Some(single)) => {
                let t = single.install(|| {
                    ctx.runner.time(&format!("scan {size}, 1 thread"), || {
                        search_forced(index, &full, &opts, Force::Scan)
                    })
                });
                let r = t.as_ref().map(|t| t.rate(size as f64));
                (t, r)
            }
            _ => (None, None),
        };
        let queries = ctx.data.degraded_queries(size, ctx.queries)?;
        let planner = latency(ctx, index, &queries, &opts, size);
        let row = SearchSize {
            profiles: size,
            comparisons_per_s: scan.as_ref().map(|t| t.rate(size as f64)),
            scan,
            scan_hits,
            scan_1_thread: scan_1,
            comparisons_per_s_1_thread: rate_1,
            planner,
        };
        if size == n {
            out.comparisons_per_s = row.comparisons_per_s;
            if let Some(p) = &row.planner {
                out.queries_per_s = Some(p.queries_per_s);
                out.latency_ms_p50 = Some(p.latency_ms_p50);
                out.latency_ms_p95 = Some(p.latency_ms_p95);
                out.latency_ms_p99 = Some(p.latency_ms_p99);
            }
        }
        let done = row.scan.is_some() && row.planner.is_some();
        out.sizes.push(row);
        if !done {
            return Ok(out);
        }
    }
    out.complete = !stopped();
    Ok(out)
}

/// The degraded queries one at a time through the planner: per-query latencies of every
/// measured run, and how the planner answers them.
fn latency(
    ctx: &Ctx<'_>,
    index: &Index,
    queries: &[Query],
    opts: &SearchOptions,
    size: usize,
) -> Option<Latency> {
    let runs = ctx.all(|| {
        ctx.runner.repeat(&format!("single queries {size}"), || {
            queries
                .iter()
                .map(|q| {
                    let t = Instant::now();
                    let hits = index.search(&q.profile, opts);
                    let took = t.elapsed().as_secs_f64();
                    (took, hits.iter().any(|h| h.candidate == q.source))
                })
                .collect::<Vec<_>>()
        })
    });
    let run = Timing::from_samples(runs.iter().map(|(t, _)| *t).collect())?;
    let mut ms: Vec<f64> = runs
        .iter()
        .flat_map(|(_, r)| r.iter().map(|(t, _)| t * 1e3))
        .collect();
    ms.sort_by(f64::total_cmp);
    let sources_found = runs
        .first()
        .map_or(0, |(_, r)| r.iter().filter(|(_, found)| *found).count());
    let mut by_postings = 0;
    let mut rows_verified = 0usize;
    for q in queries {
        let ex = index.explain(&q.profile, opts);
        if matches!(ex.strategy, Strategy::Postings { .. }) {
            by_postings += 1;
        }
        rows_verified += ex.rows_touched;
    }
    Some(Latency {
        queries: queries.len(),
        samples: ms.len(),
        latency_ms_p50: percentile(&ms, 50.0),
        latency_ms_p95: percentile(&ms, 95.0),
        latency_ms_p99: percentile(&ms, 99.0),
        latency_ms_min: ms.first().copied().unwrap_or(0.0),
        latency_ms_max: ms.last().copied().unwrap_or(0.0),
        latency_ms_mean: ms.iter().sum::<f64>() / ms.len().max(1) as f64,
        queries_per_s: run.rate(queries.len() as f64),
        run,
        by_postings,
        by_scan: queries.len() - by_postings,
        rows_verified_mean: rows_verified as f64 / queries.len().max(1) as f64,
        sources_found,
    })
}

/// The batch suite.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BatchSuite {
    /// Profiles in the database.
    pub profiles: usize,
    /// Queries per batch.
    pub queries: usize,
    /// Threads of the "all threads" figures.
    pub threads: usize,
    /// Queries per second, `threads` threads: `queries / all_threads.median_s`.
    pub queries_per_s: Option<f64>,
    /// Queries per second on one thread.
    pub queries_per_s_1_thread: Option<f64>,
    /// `queries_per_s / queries_per_s_1_thread`.
    pub speedup: Option<f64>,
    /// The batch on `threads` threads.
    pub all_threads: Option<Timing>,
    /// The batch on one thread.
    pub one_thread: Option<Timing>,
    /// Hits of one batch, every query together.
    pub hits: usize,
    /// Queries whose hits include the profile they were derived from.
    pub sources_found: usize,
    /// Peak resident memory during the suite.
    pub peak_rss_bytes: Option<u64>,
    /// False when Ctrl-C cut the suite short.
    pub complete: bool,
}

/// The batch suite: the degraded queries of the search suite in one `search_batch`, on
/// `--threads` threads and on one.
pub fn batch(ctx: &Ctx<'_>, index: &Index) -> Result<BatchSuite> {
    let opts = search_options();
    let n = index.len();
    let queries = ctx.data.degraded_queries(n, ctx.queries)?;
    let profiles: Vec<_> = queries.iter().map(|q| q.profile.clone()).collect();
    let (all, first) = ctx.all(|| {
        ctx.runner
            .first(&format!("batch, {} threads", ctx.threads), || {
                index.search_batch(&profiles, &opts)
            })
    });
    let (hits, sources_found) = first.map_or((0, 0), |r| {
        let found = r
            .iter()
            .zip(&queries)
            .filter(|(h, q)| h.iter().any(|h| h.candidate == q.source))
            .count();
        (r.iter().map(Vec::len).sum(), found)
    });
    let one = ctx.single.and_then(|p| {
        p.install(|| {
            ctx.runner
                .time("batch, 1 thread", || index.search_batch(&profiles, &opts))
        })
    });
    let q = queries.len() as f64;
    let qps = all.as_ref().map(|t| t.rate(q));
    let qps1 = one.as_ref().map(|t| t.rate(q));
    Ok(BatchSuite {
        profiles: n,
        queries: queries.len(),
        threads: ctx.threads,
        queries_per_s: qps,
        queries_per_s_1_thread: qps1,
        speedup: qps.zip(qps1).map(|(a, b)| a / b),
        complete: all.is_some() && (one.is_some() || ctx.single.is_none()) && !stopped(),
        all_threads: all,
        one_thread: one,
        hits,
        sources_found,
        peak_rss_bytes: None,
    })
}

/// The familial search suite.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct KinshipSuite {
    /// Profiles in the database.
    pub profiles: usize,
    /// Queries ranked per run.
    pub queries: usize,
    /// The relationship ranked for.
    pub relationship: String,
    /// The population of the frequencies.
    pub population: String,
    /// Threads of the "all threads" figures.
    pub threads: usize,
    /// Queries per second, `threads` threads.
    pub queries_per_s: Option<f64>,
    /// Query-profile pairs ranked per second (`queries x profiles / median time`).
    pub comparisons_per_s: Option<f64>,
    /// Queries per second on one thread.
    pub queries_per_s_1_thread: Option<f64>,
    /// `queries_per_s / queries_per_s_1_thread`.
    pub speedup: Option<f64>,
    /// The queries on `threads` threads.
    pub all_threads: Option<Timing>,
    /// The queries on one thread.
    pub one_thread: Option<Timing>,
    /// Queries whose true relative (the database profile they were simulated from) is ranked
    /// first.
    pub relative_ranked_first: usize,
    /// Queries whose true relative is among the reported candidates (top 20).
    pub relative_in_top: usize,
    /// Peak resident memory during the suite.
    pub peak_rss_bytes: Option<u64>,
    /// False when Ctrl-C cut the suite short.
    pub complete: bool,
}

/// The familial search suite: simulated parents of database profiles, degraded, ranked by
/// parent-child kinship index against the whole database.
pub fn kinship(ctx: &Ctx<'_>, index: &Index) -> Result<KinshipSuite> {
    let n = index.len();
    let queries = ctx.data.kinship_queries(n, ctx.kinship_queries)?;
    let profiles: Vec<_> = queries.iter().map(|q| q.profile.clone()).collect();
    let pop = &ctx.data.population;
    let opts = FamilialOptions::default();
    // errors (bad options) surface here, not inside the timed runs
    let first = ctx
        .all(|| index.familial_search(&profiles[..profiles.len().min(1)], pop, &opts))
        .context("familial search")?;
    drop(first);
    let (all, first) = ctx.all(|| {
        ctx.runner
            .first(&format!("familial, {} threads", ctx.threads), || {
                index.familial_search(&profiles, pop, &opts)
            })
    });
    let (mut first_rank, mut in_top) = (0, 0);
    if let Some(Ok(results)) = &first {
        for (r, q) in results.iter().zip(&queries) {
            if let Some(pos) = r.candidates.iter().position(|c| c.candidate == q.source) {
                in_top += 1;
                if pos == 0 {
                    first_rank += 1;
                }
            }
        }
    }
    let one = ctx.single.and_then(|p| {
        p.install(|| {
            ctx.runner.time("familial, 1 thread", || {
                index.familial_search(&profiles, pop, &opts)
            })
        })
    });
    let q = queries.len() as f64;
    let qps = all.as_ref().map(|t| t.rate(q));
    let qps1 = one.as_ref().map(|t| t.rate(q));
    Ok(KinshipSuite {
        profiles: n,
        queries: queries.len(),
        relationship: "parent-child".to_string(),
        population: pop.name().to_string(),
        threads: ctx.threads,
        queries_per_s: qps,
        comparisons_per_s: all.as_ref().map(|t| t.rate(q * n as f64)),
        queries_per_s_1_thread: qps1,
        speedup: qps.zip(qps1).map(|(a, b)| a / b),
        complete: all.is_some() && (one.is_some() || ctx.single.is_none()) && !stopped(),
        all_threads: all,
        one_thread: one,
        relative_ranked_first: first_rank,
        relative_in_top: in_top,
        peak_rss_bytes: None,
    })
}

/// One cell of the (m, p) matrix.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MatchCell {
    /// Loci matching fully.
    pub matching: usize,
    /// Loci matching partially.
    pub partial: usize,
    /// Pairs observed.
    pub observed: u64,
    /// Pairs expected (unrelated people, theta 0), when frequencies are known.
    pub expected: Option<f64>,
}

/// Observed and expected pairs by one margin of the matrix.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MatchCount {
    /// Loci (matching fully for `by_matching`, partially for `by_partial`).
    pub loci: usize,
    /// Pairs observed.
    pub observed: u64,
    /// Pairs expected.
    pub expected: Option<f64>,
}

/// The all-pairs comparison suite.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CompareSuite {
    /// Profiles compared (every pair of them).
    pub profiles: usize,
    /// Profiles of the benchmark database (`--profiles`, or the `--db` size).
    pub database_profiles: usize,
    /// The cap on profiles compared (`--compare-max`).
    pub cap: usize,
    /// True when the database was larger than the cap and only its first `profiles` profiles
    /// were compared.
    pub capped: bool,
    /// Loci compared.
    pub loci: Vec<String>,
    /// Pairs compared per run: `profiles (profiles - 1) / 2`.
    pub pairs: u64,
    /// Pairs per second, `threads` threads.
    pub pairs_per_s: Option<f64>,
    /// Pairs per second on one thread.
    pub pairs_per_s_1_thread: Option<f64>,
    /// `pairs_per_s / pairs_per_s_1_thread`.
    pub speedup: Option<f64>,
    /// Threads of the "all threads" figures.
    pub threads: usize,
    /// The comparison on `threads` threads.
    pub all_threads: Option<Timing>,
    /// The comparison on one thread.
    pub one_thread: Option<Timing>,
    /// Sum of the observed cells (equals `pairs`).
    pub observed_pairs: u64,
    /// Sum of the expected cells, when computed (equals `pairs` up to rounding).
    pub expected_pairs: Option<f64>,
    /// Where the expected counts come from, or why there are none.
    pub expected_from: String,
    /// Every cell (m + p <= loci).
    pub matrix: Vec<MatchCell>,
    /// Pairs by loci matching fully (summed over partial matches).
    pub by_matching: Vec<MatchCount>,
    /// Pairs by loci matching partially (summed over full matches).
    pub by_partial: Vec<MatchCount>,
    /// Peak resident memory during the suite.
    pub peak_rss_bytes: Option<u64>,
    /// False when Ctrl-C cut the suite short.
    pub complete: bool,
}

/// The all-pairs comparison suite: every pair of the first `min(N, --compare-max)` profiles,
/// with the observed (m, p) counts against the expected ones of the frequencies the people were
/// drawn from. `main` is the benchmark database when it is already built.
pub fn compare(ctx: &Ctx<'_>, main: Option<&Index>, n: usize) -> Result<Option<CompareSuite>> {
    let cap = ctx.compare_max;
    let m = n.min(cap);
    let owned;
    let index = match main {
        Some(i) if i.len() <= cap => i,
        _ => {
            ctx.runner
                .bar
                .set_message(format!("building the database of {m}"));
            match ctx.all(|| ctx.data.database(m, &indicatif::ProgressBar::hidden()))? {
                Some(i) => {
                    owned = i;
                    &owned
                }
                None => return Ok(None),
            }
        }
    };
    let m = index.len();
    let opts = CompareOptions::default();
    let (all, first) = ctx.all(|| {
        ctx.runner.first(
            &format!("all pairs of {m}, {} threads", ctx.threads),
            || index.compare_all(&opts),
        )
    });
    let Some(c) = first else {
        return Ok(None);
    };
    let one = ctx.single.and_then(|p| {
        p.install(|| {
            ctx.runner.time(&format!("all pairs of {m}, 1 thread"), || {
                index.compare_all(&opts)
            })
        })
    });
    let (expected, expected_from) = match &ctx.data.expected {
        None => (
            None,
            "none: no frequency table given (--freq) for the database".to_string(),
        ),
        Some(pop) => match expected_matrix(
            pop,
            &c.loci,
            m as u64,
            &ExpectOptions {
                theta: 0.0,
                relatives: None,
            },
        ) {
            Ok(e) => (
                Some(e),
                format!(
                    "population {} of {}, unrelated pairs, theta 0 (Weir 2004)",
                    pop.name(),
                    ctx.data.info.frequencies
                ),
            ),
            Err(e) => (None, format!("none: {e}")),
        },
    };
    let loci = c.matrix.loci();
    let matrix: Vec<MatchCell> = c
        .matrix
        .cells()
        .map(|(mm, p, v)| MatchCell {
            matching: mm,
            partial: p,
            observed: v,
            expected: expected.as_ref().map(|e| e.get(mm, p)),
        })
        .collect();
    let margin = |by_m: bool| -> Vec<MatchCount> {
        (0..=loci)
            .map(|k| {
                let cells = matrix.iter().filter(|c| {
                    if by_m {
                        c.matching == k
                    } else {
                        c.partial == k
                    }
                });
                MatchCount {
                    loci: k,
                    observed: cells.clone().map(|c| c.observed).sum(),
                    expected: expected
                        .as_ref()
                        .map(|_| cells.filter_map(|c| c.expected).sum()),
                }
            })
            .collect()
    };
    let by_matching = margin(true);
    let by_partial = margin(false);
    let observed_pairs: u64 = matrix.iter().map(|c| c.observed).sum();
    if observed_pairs != c.pairs {
        bail!(
            "internal error: the (m, p) matrix counts {observed_pairs} pairs, not {}",
            c.pairs
        );
    }
    let expected_pairs = expected
        .as_ref()
        .map(|_| matrix.iter().filter_map(|c| c.expected).sum());
    let pairs = c.pairs as f64;
    let pps = all.as_ref().map(|t| t.rate(pairs));
    let pps1 = one.as_ref().map(|t| t.rate(pairs));
    Ok(Some(CompareSuite {
        profiles: m,
        database_profiles: n,
        cap,
        capped: n > cap,
        loci: c.loci.iter().map(|l| l.name().to_string()).collect(),
        pairs: c.pairs,
        pairs_per_s: pps,
        pairs_per_s_1_thread: pps1,
        speedup: pps.zip(pps1).map(|(a, b)| a / b),
        threads: ctx.threads,
        complete: all.is_some() && (one.is_some() || ctx.single.is_none()) && !stopped(),
        all_threads: all,
        one_thread: one,
        observed_pairs,
        expected_pairs,
        expected_from,
        matrix,
        by_matching,
        by_partial,
        peak_rss_bytes: None,
    }))
}

/// The index file suite.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct IndexSuite {
    /// Profiles in the database written and opened.
    pub profiles: usize,
    /// Profiles `Index::from_profiles` indexes per run (at most [`BUILD_MAX`]).
    pub build_profiles: usize,
    /// Building an index from owned profiles.
    pub build: Option<Timing>,
    /// Profiles indexed per second.
    pub build_profiles_per_s: Option<f64>,
    /// Writing the database to an index file (temporary file, fsync, rename).
    pub write: Option<Timing>,
    /// Bytes of the file.
    pub file_bytes: u64,
    /// Opening the file (header, checksums of the small sections, map).
    pub open: Option<Timing>,
    /// A fresh open followed by its first forced scan: the scan alone.
    pub first_scan: Option<Timing>,
    /// The same scan on an index already opened and scanned.
    pub warm_scan: Option<Timing>,
    /// Profiles compared per second by the first scan after open.
    pub first_scan_comparisons_per_s: Option<f64>,
    /// Profiles compared per second by the warm scan.
    pub comparisons_per_s: Option<f64>,
    /// Median first scan over median warm scan.
    pub first_over_warm: Option<f64>,
    /// Peak resident memory during the suite.
    pub peak_rss_bytes: Option<u64>,
    /// False when Ctrl-C cut the suite short.
    pub complete: bool,
}

/// Benchmarks of the index suite (for the progress bar).
pub const INDEX_BENCHMARKS: u64 = 5;

/// The index file suite: `from_profiles` over up to [`BUILD_MAX`] profiles; writing the database
/// to a file in a temporary directory, opening it, the first scan after a fresh open (the file is
/// in the page cache: this measures mapping, not the disk) and a warm scan.
pub fn index_files(ctx: &Ctx<'_>, main: &Index) -> Result<IndexSuite> {
    let n = main.len();
    let build_n = n.min(BUILD_MAX);
    let profiles = ctx.all(|| ctx.data.profiles(build_n))?;
    let mut failed = None;
    let build = ctx.all(|| {
        ctx.runner.time(&format!("build {build_n}"), || {
            // the index is dropped after the clock stopped
            Index::from_profiles(&profiles)
                .map_err(|e| {
                    failed.get_or_insert(e);
                })
                .ok()
        })
    });
    if let Some(e) = failed {
        bail!("cannot index the profiles: {e}");
    }
    drop(profiles);
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let path = dir.path().join("bench.tandem");
    let mut failed = None;
    let write = ctx.all(|| {
        ctx.runner.time("write", || {
            if let Err(e) = main.write(&path) {
                failed.get_or_insert(e);
            }
        })
    });
    if let Some(e) = failed {
        bail!("cannot write the index file: {e}");
    }
    let file_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let mut out = IndexSuite {
        profiles: n,
        build_profiles: build_n,
        build_profiles_per_s: build.as_ref().map(|t| t.rate(build_n as f64)),
        build,
        write,
        file_bytes,
        open: None,
        first_scan: None,
        warm_scan: None,
        first_scan_comparisons_per_s: None,
        comparisons_per_s: None,
        first_over_warm: None,
        peak_rss_bytes: None,
        complete: false,
    };
    if out.write.is_none() {
        return Ok(out);
    }
    let opened = Index::open(&path).context("cannot open the index file just written")?;
    drop(opened);
    out.open = ctx.runner.time("open", || Index::open(&path));
    let full = ctx.data.full_query(n)?;
    let opts = search_options();
    let first = ctx.all(|| {
        ctx.runner.repeat("first scan after open", || {
            let index = Index::open(&path).ok()?;
            let t = Instant::now();
            let hits = search_forced(&index, &full, &opts, Force::Scan);
            Some((t.elapsed().as_secs_f64(), hits.len()))
        })
    });
    out.first_scan = Timing::from_samples(
        first
            .iter()
            .filter_map(|(_, r)| r.map(|(t, _)| t))
            .collect(),
    );
    let index = Index::open(&path).context("cannot open the index file just written")?;
    out.warm_scan = ctx.all(|| {
        ctx.runner.time("warm scan", || {
            search_forced(&index, &full, &opts, Force::Scan)
        })
    });
    out.first_scan_comparisons_per_s = out.first_scan.as_ref().map(|t| t.rate(n as f64));
    out.comparisons_per_s = out.warm_scan.as_ref().map(|t| t.rate(n as f64));
    out.first_over_warm = out
        .first_scan
        .as_ref()
        .zip(out.warm_scan.as_ref())
        .map(|(f, w)| f.median_s / w.median_s.max(1e-12));
    out.complete = out.first_scan.is_some() && out.warm_scan.is_some() && !stopped();
    Ok(out)
}

/// The thread-scaling figures of the suites that ran.
pub fn scaling(
    search: Option<&SearchSuite>,
    batch: Option<&BatchSuite>,
    kinship: Option<&KinshipSuite>,
    compare: Option<&CompareSuite>,
    threads: usize,
) -> Vec<Scaling> {
    let mut v = Vec::new();
    if let Some(row) = search.and_then(|s| s.sizes.last())
        && let (Some(one), Some(all)) = (row.comparisons_per_s_1_thread, row.comparisons_per_s)
    {
        v.push(Scaling::new(
            "search",
            "comparisons_per_s",
            threads,
            one,
            all,
        ));
    }
    if let Some(b) = batch
        && let (Some(one), Some(all)) = (b.queries_per_s_1_thread, b.queries_per_s)
    {
        v.push(Scaling::new("batch", "queries_per_s", threads, one, all));
    }
    if let Some(k) = kinship
        && let (Some(one), Some(all)) = (k.queries_per_s_1_thread, k.queries_per_s)
    {
        v.push(Scaling::new("kinship", "queries_per_s", threads, one, all));
    }
    if let Some(c) = compare
        && let (Some(one), Some(all)) = (c.pairs_per_s_1_thread, c.pairs_per_s)
    {
        v.push(Scaling::new("compare", "pairs_per_s", threads, one, all));
    }
    v
}

/// Peak resident memory since the last [`machine::reset_peak_rss`].
pub fn peak_rss() -> Option<u64> {
    machine::peak_rss_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_search_sizes_scale_down_by_ten() {
        assert_eq!(search_sizes(1_000_000), vec![10_000, 100_000, 1_000_000]);
        assert_eq!(search_sizes(2_000), vec![200, 2_000]);
        assert_eq!(search_sizes(50), vec![50]);
    }

    #[test]
    fn test_scaling_speedup() {
        let s = Scaling::new("batch", "queries_per_s", 2, 100.0, 190.0);
        assert!((s.speedup - 1.9).abs() < 1e-12);
    }
}
