//! Search benchmarks on synthetic GlobalFiler databases of 10^6 and 10^7 profiles (NIST 1036
//! allele pools): a forced scan, the planner on a degraded query, a high-stringency query through
//! postings, and a batch of 1,000 queries on 1 and 2 threads. `TANDEM_BENCH_MAX` caps the sizes.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use tandem_benches::{database, degraded_queries, profiles, simulator, sizes};
use tandem_core::search::plan::{Force, Strategy, search_forced};
use tandem_core::simulate::Simulator;
use tandem_core::{Index, Profile, SearchOptions, Stringency};

/// A database with its queries.
struct Dataset {
    index: Index,
    /// A full database profile (row 4,242), the source of queries (a) and (c).
    full: Profile,
    /// A degraded copy of a database profile: 20 loci, two single alleles.
    degraded: Profile,
}

fn sim() -> &'static Simulator {
    static SIM: OnceLock<Simulator> = OnceLock::new();
    SIM.get_or_init(simulator)
}

/// The database of `n` profiles, built once per process and shared by every benchmark.
fn dataset(n: usize) -> &'static Dataset {
    static SETS: OnceLock<Mutex<Vec<(usize, &'static Dataset)>>> = OnceLock::new();
    let sets = SETS.get_or_init(Default::default);
    let mut sets = sets.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, d)) = sets.iter().find(|(m, _)| *m == n) {
        return d;
    }
    let t = std::time::Instant::now();
    let index = database(sim(), n);
    let row = 4_242 % n;
    let full = profiles(sim(), row..row + 1).remove(0);
    let degraded = degraded_queries(sim(), n, 1).remove(0);
    eprintln!(
        "dataset {n}: built in {:.1?}; genotype bytes {}, posting bytes {}",
        t.elapsed(),
        index.genotype_bytes(),
        index.posting_bytes()
    );
    let d: &'static Dataset = Box::leak(Box::new(Dataset {
        index,
        full,
        degraded,
    }));
    sets.push((n, d));
    d
}

fn moderate() -> SearchOptions {
    SearchOptions {
        stringency: Stringency::Moderate,
        ..SearchOptions::default()
    }
}

/// Prints `line()` once per `key` (bench closures run several times; datasets are built only for
/// the benchmarks a filter selects, so the diagnostics are printed there too).
fn note(key: String, line: impl FnOnce() -> String) {
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if seen.insert(key) {
        eprintln!("{}", line());
    }
}

/// A one-line account of how the planner answers `q`.
fn explain(d: &Dataset, q: &Profile, opts: &SearchOptions) -> String {
    let ex = d.index.explain(q, opts);
    format!(
        "{:?}, rows touched {} of {} ({} simple, {} complex query loci), {} hits",
        ex.strategy,
        ex.rows_touched,
        ex.rows,
        ex.simple_loci,
        ex.complex_loci,
        d.index.search(q, opts).len()
    )
}

/// (a) One moderate-stringency query, scan forced: throughput in profiles compared.
fn scan(c: &mut Criterion) {
    let mut g = c.benchmark_group("scan_moderate");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    let opts = moderate();
    for n in sizes(&[1_000_000, 10_000_000]) {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            let d = dataset(n);
            note(format!("scan/{n}"), || {
                format!("scan_moderate/{n}: {}", explain(d, &d.full, &opts))
            });
            b.iter(|| search_forced(&d.index, &d.full, &opts, Force::Scan))
        });
    }
    g.finish();
}

/// (b) A degraded query (20 loci, two single alleles) through the planner.
fn planner_degraded(c: &mut Criterion) {
    let mut g = c.benchmark_group("planner_degraded");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    let opts = moderate();
    for n in sizes(&[1_000_000, 10_000_000]) {
        // One query per iteration: throughput in queries per second.
        g.throughput(Throughput::Elements(1));
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            let d = dataset(n);
            note(format!("degraded/{n}"), || {
                format!("planner_degraded/{n}: {}", explain(d, &d.degraded, &opts))
            });
            b.iter(|| d.index.search(&d.degraded, &opts))
        });
    }
    g.finish();
}

/// (c) A high-stringency full-profile query, answered through postings.
fn postings_high(c: &mut Criterion) {
    let mut g = c.benchmark_group("postings_high");
    g.sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let opts = SearchOptions {
        stringency: Stringency::High,
        ..SearchOptions::default()
    };
    for n in sizes(&[1_000_000, 10_000_000]) {
        g.throughput(Throughput::Elements(1));
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            let d = dataset(n);
            note(format!("high/{n}"), || {
                let mut line = format!("postings_high/{n}: {}", explain(d, &d.full, &opts));
                if !matches!(
                    d.index.explain(&d.full, &opts).strategy,
                    Strategy::Postings { .. }
                ) {
                    line.push_str(" -- WARNING: the planner did not choose postings");
                }
                line
            });
            b.iter(|| d.index.search(&d.full, &opts))
        });
    }
    g.finish();
}

/// (d) 1,000 degraded queries against 10^6 profiles, on 1 and on 2 threads.
fn batch(c: &mut Criterion) {
    let n = sizes(&[1_000_000])[0];
    let opts = moderate();
    static QUERIES: OnceLock<Vec<Profile>> = OnceLock::new();
    let mut g = c.benchmark_group(format!("batch_1000_queries/{n}"));
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(15));
    // Around a second per batch: flat sampling (the same iteration count in every sample).
    g.sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Elements(1_000));
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap_or_else(|e| panic!("thread pool: {e}"));
        g.bench_function(BenchmarkId::new("threads", threads), |b| {
            let d = dataset(n);
            let queries = QUERIES.get_or_init(|| degraded_queries(sim(), n, 1_000));
            note(format!("batch/{n}"), || {
                let scans = queries
                    .iter()
                    .filter(|q| d.index.explain(q, &opts).strategy == Strategy::Scan)
                    .count();
                format!(
                    "batch/{n}: {scans} of {} queries scan, the rest use postings",
                    queries.len()
                )
            });
            b.iter(|| pool.install(|| d.index.search_batch(queries, &opts)))
        });
    }
    g.finish();
}

fn main() {
    // What `criterion_group!`/`criterion_main!` expand to, without an undocumented public item.
    let mut c = Criterion::default().configure_from_args();
    scan(&mut c);
    planner_degraded(&mut c);
    postings_high(&mut c);
    batch(&mut c);
    c.final_summary();
}
