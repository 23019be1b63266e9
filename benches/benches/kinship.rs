//! Familial search benchmark: 40 queries (parents of database people, degraded) ranked by
//! parent-child kinship index against 10^5 and 5 x 10^5 GlobalFiler profiles (21 autosomal loci,
//! 5% of loci missing, 8% of heterozygous loci showing one allele), NIST 1036 "All" frequencies.
//! The time is the ranking alone; the index is built beforehand.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use tandem_benches::{familial_fixture, sizes};
use tandem_core::kinship::{FamilialOptions, KinshipOptions, Relationship};

fn familial(c: &mut Criterion) {
    let mut g = c.benchmark_group("familial_search_40_queries");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(15));
    g.sampling_mode(SamplingMode::Flat);
    for n in sizes(&[100_000, 500_000]) {
        let fx = familial_fixture(n, 40);
        for (name, rel) in [
            ("parent-child", Relationship::PARENT_CHILD),
            ("full-sibling", Relationship::FULL_SIBLINGS),
        ] {
            let opts = FamilialOptions {
                kinship: KinshipOptions {
                    relationship: rel,
                    ..KinshipOptions::default()
                },
                top: 20,
                ..FamilialOptions::default()
            };
            g.throughput(Throughput::Elements((n * fx.queries.len()) as u64));
            g.bench_with_input(BenchmarkId::new(name, n), &fx, |b, fx| {
                b.iter(|| {
                    fx.index
                        .familial_search(&fx.queries, &fx.population, &opts)
                        .unwrap_or_else(|e| panic!("{e}"))
                })
            });
        }
    }
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    familial(&mut c);
    c.final_summary();
}
