//! Index build benchmark: `Index::from_profiles` over 10^6 parsed (owned) GlobalFiler profiles
//! simulated from the NIST 1036 allele pools. `TANDEM_BENCH_MAX` caps the size.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use tandem_benches::{profiles, simulator, sizes};
use tandem_core::Index;

fn from_profiles(c: &mut Criterion) {
    let sim = simulator();
    let mut g = c.benchmark_group("build_from_profiles");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    // Half a second per build: flat sampling (the same iteration count in every sample).
    g.sampling_mode(SamplingMode::Flat);
    for n in sizes(&[1_000_000]) {
        let ps = profiles(&sim, 0..n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &ps, |b, ps| {
            b.iter_with_large_drop(|| {
                Index::from_profiles(ps).unwrap_or_else(|e| panic!("build failed: {e}"))
            })
        });
    }
    g.finish();
}

fn main() {
    // What `criterion_group!`/`criterion_main!` expand to, without an undocumented public item.
    let mut c = Criterion::default().configure_from_args();
    from_profiles(&mut c);
    c.final_summary();
}
