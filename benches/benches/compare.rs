//! All-pairs comparison benchmark (the DNAtools `dbCompare` job): every pair of 10^4 and 65,493
//! (the Arizona database size) simulated profiles at the 13 CODIS core loci, counting fully and
//! partially matching loci. Throughput is in pairs.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use tandem_benches::{codis13_database, sizes};
use tandem_core::compare::CompareOptions;

fn all_pairs(c: &mut Criterion) {
    let mut g = c.benchmark_group("compare_all_codis13");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    g.sampling_mode(SamplingMode::Flat);
    for n in sizes(&[10_000, 65_493]) {
        let index = codis13_database(n);
        let pairs = (n as u64) * (n as u64 - 1) / 2;
        g.throughput(Throughput::Elements(pairs));
        let opts = CompareOptions {
            hit: Some(9),
            loci: None,
        };
        g.bench_with_input(BenchmarkId::from_parameter(n), &index, |b, index| {
            b.iter(|| index.compare_all(&opts))
        });
    }
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    all_pairs(&mut c);
    c.final_summary();
}
