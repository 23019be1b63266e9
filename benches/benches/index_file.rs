//! The on-disk index: building and writing 10^6 profiles, opening 10^7, the first search after
//! open against a warm one, and the file size against the in-memory data. The 10^7 file is made
//! once and kept in `target/bench-data/` (about 0.7 GB); `TANDEM_BENCH_MAX` caps the sizes.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use tandem_benches::{database, degraded_queries, profiles, simulator, sizes};
use tandem_core::search::plan::{Force, search_forced};
use tandem_core::{Index, SearchOptions};

fn data_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-data"));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("cannot create {}: {e}", dir.display());
    }
    dir
}

/// The index file of `n` simulated profiles, written once and reused.
fn index_file(n: usize) -> PathBuf {
    let path = data_dir().join(format!("globalfiler-{n}.tandem"));
    if Index::open(&path).is_ok_and(|i| i.len() == n) {
        return path;
    }
    let index = database(&simulator(), n);
    if let Err(e) = index.write(&path) {
        panic!("cannot write {}: {e}", path.display());
    }
    path
}

fn build_and_write(c: &mut Criterion) {
    let sim = simulator();
    let mut g = c.benchmark_group("index_build_write");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    g.sampling_mode(SamplingMode::Flat);
    for n in sizes(&[1_000_000]) {
        let ps = profiles(&sim, 0..n);
        let path = data_dir().join("build-bench.tandem");
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &ps, |b, ps| {
            b.iter(|| {
                let index = Index::from_profiles(ps).unwrap_or_else(|e| panic!("{e}"));
                index.write(&path).unwrap_or_else(|e| panic!("{e}"));
            })
        });
        // file size against the in-memory genotype data plus ids
        let index = Index::from_profiles(&ps).unwrap_or_else(|e| panic!("{e}"));
        let file = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let ids: usize = ps.iter().map(|p| p.id().as_str().len()).sum();
        let genotype = index.genotype_bytes();
        eprintln!(
            "size at {n}: file {file} bytes; genotype data {genotype} + id text {ids} = {} (file / that = {:.3}); \
             with 16-byte id handles {} (file / that = {:.3})",
            genotype + ids,
            file as f64 / (genotype + ids) as f64,
            genotype + ids + 16 * n,
            file as f64 / (genotype + ids + 16 * n) as f64
        );
    }
    g.finish();
}

fn open_and_first_search(c: &mut Criterion) {
    let mut g = c.benchmark_group("index_open");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    for n in sizes(&[1_000_000, 10_000_000]) {
        let path = index_file(n);
        g.bench_with_input(BenchmarkId::new("open", n), &path, |b, path| {
            b.iter(|| Index::open(path).unwrap_or_else(|e| panic!("{e}")))
        });
        let queries = degraded_queries(&simulator(), n, 4);
        let opts = SearchOptions::default();
        // the first scan after open (pages mapped on demand) against a warm scan
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(
            BenchmarkId::new("first_scan_after_open", n),
            &path,
            |b, path| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for i in 0..iters {
                        let index = Index::open(path).unwrap_or_else(|e| panic!("{e}"));
                        let t = Instant::now();
                        let hits = search_forced(
                            &index,
                            &queries[i as usize % queries.len()],
                            &opts,
                            Force::Scan,
                        );
                        total += t.elapsed();
                        std::hint::black_box(hits);
                    }
                    total
                })
            },
        );
        let index = Index::open(&path).unwrap_or_else(|e| panic!("{e}"));
        g.bench_with_input(BenchmarkId::new("warm_scan", n), &index, |b, index| {
            let mut i = 0;
            b.iter(|| {
                i += 1;
                search_forced(index, &queries[i % queries.len()], &opts, Force::Scan)
            })
        });
    }
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    build_and_write(&mut c);
    open_and_first_search(&mut c);
    c.final_summary();
}
