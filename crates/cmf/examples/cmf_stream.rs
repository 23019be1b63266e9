//! Streams N synthetic specimens to a CMF file and reads them back, reporting throughput and
//! peak memory: `cargo run --release -p tandem-cmf --example cmf_stream -- 1000000 /tmp/big.xml`
//! (N = 0 reads an existing file alone, to see the reader's own peak memory).

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::time::Instant;

use tandem_cmf::{CmfReader, CmfWriter, ReadOptions, Release, WriteOptions, synth};

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().map_or(Ok(1_000_000), |s| s.parse())?;
    let path = args
        .next()
        .unwrap_or_else(|| "/tmp/tandem-cmf-stream.xml".to_string());

    if n > 0 {
        write(n, &path)?;
    }
    read(n, &path)
}

fn write(n: u64, path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut w = CmfWriter::new(
        out,
        &synth::header(),
        WriteOptions {
            release: Release::Later,
        },
    )?;
    for i in 0..n {
        w.write(&synth::specimen(i))?;
        if i == n / 10 {
            eprintln!(
                "write: peak RSS after {} specimens: {:.1} MiB",
                i,
                peak_rss_mib()
            );
        }
    }
    w.finish()?;
    let secs = start.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(path)?.len() as f64;
    println!(
        "write: {n} specimens, {:.1} MB in {secs:.2} s = {:.0} MB/s, {:.0} specimens/s, peak RSS {:.1} MiB",
        bytes / 1e6,
        bytes / 1e6 / secs,
        n as f64 / secs,
        peak_rss_mib()
    );
    Ok(())
}

/// Reads the file back (run with N = 0 to read an existing file alone and see the reader's own
/// peak memory).
fn read(n: u64, path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let bytes = std::fs::metadata(path)?.len() as f64;
    let start = Instant::now();
    let r = CmfReader::new(
        BufReader::with_capacity(1 << 20, File::open(path)?),
        path,
        ReadOptions::default(),
    )?;
    let mut count = 0u64;
    let mut alleles = 0usize;
    for s in r {
        let s = s?;
        alleles += s.profile.genotypes().map(|(_, g)| g.len()).sum::<usize>();
        count += 1;
        if count == n.max(1_000_000) / 10 {
            eprintln!(
                "read: peak RSS after {} specimens: {:.1} MiB",
                count,
                peak_rss_mib()
            );
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "read:  {count} specimens ({alleles} alleles), {:.1} MB in {secs:.2} s = {:.0} MB/s, {:.0} specimens/s, peak RSS {:.1} MiB",
        bytes / 1e6,
        bytes / 1e6 / secs,
        count as f64 / secs,
        peak_rss_mib()
    );
    Ok(())
}
