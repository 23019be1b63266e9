//! CMF throughput: streaming write and read of synthetic CODIS 20 batches, per batch size.
//! (The 10^6-specimen run with its memory profile is `crates/cmf/examples/cmf_stream.rs`.)

use criterion::{BenchmarkId, Criterion, Throughput};
use tandem_cmf::{CmfReader, CmfWriter, ReadOptions, Release, WriteOptions, synth};

fn write_batch(n: u64) -> Vec<u8> {
    let mut w = CmfWriter::new(
        Vec::with_capacity(n as usize * 6000),
        &synth::header(),
        WriteOptions {
            release: Release::Later,
        },
    )
    .expect("header");
    for i in 0..n {
        w.write(&synth::specimen(i)).expect("specimen");
    }
    w.finish().expect("finish")
}

fn bench_cmf(c: &mut Criterion) {
    let mut group = c.benchmark_group("cmf");
    group.sample_size(10);
    for n in tandem_benches::sizes(&[1_000, 10_000]) {
        let n = n as u64;
        let bytes = write_batch(n);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::new("write", n), &n, |b, &n| {
            b.iter(|| write_batch(n).len())
        });
        group.bench_with_input(BenchmarkId::new("read", n), &bytes, |b, bytes| {
            b.iter(|| {
                let r = CmfReader::new(&bytes[..], "bench.xml", ReadOptions::default())
                    .expect("header");
                r.map(|s| s.expect("specimen").profile.locus_count())
                    .sum::<usize>()
            })
        });
    }
    group.finish();
}

fn main() {
    // What `criterion_group!`/`criterion_main!` expand to, without an undocumented public item.
    let mut c = Criterion::default().configure_from_args();
    bench_cmf(&mut c);
    c.final_summary();
}
