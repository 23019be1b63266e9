//! The regional index (issue 6): three simulated national indexes (GT GlobalFiler, SV PowerPlex
//! Fusion, HN Identifiler; 10^6, 5 x 10^5 and 3 x 10^5 profiles at `TANDEM_REGIONAL_SCALE=1`,
//! default 0.01) with planted cross-border duplicates.
//!
//! First one timed pass that prints the figures of `docs/REGIONAL.md` (merge, idempotent
//! re-merge, cross-border hits with recall of the planted duplicates, nightly update of 10^4
//! changed profiles checked byte-identical to a full rebuild), then criterion groups for the
//! merge and the hit job. `TANDEM_REGIONAL_FIGURES_ONLY=1` stops after the figures;
//! `TANDEM_REGIONAL_SKIP_HITS=1` leaves the hit job out of them.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode};
use tandem_benches::simulator;
use tandem_core::{Index, Kit, Profile, SpecimenCategory};
use tandem_regional::hits::{self, HitOptions};
use tandem_regional::scenario::{self, CountrySpec};
use tandem_regional::{CountryKey, National, Policy, merge};

fn scale() -> f64 {
    std::env::var("TANDEM_REGIONAL_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.01)
}

fn specs(scale: f64) -> Vec<CountrySpec> {
    [
        ("GT", 1_000_000.0, Kit::GlobalFiler),
        ("SV", 500_000.0, Kit::PowerPlexFusion),
        ("HN", 300_000.0, Kit::Identifiler),
    ]
    .into_iter()
    .map(|(c, n, kit)| CountrySpec {
        country: c.parse().expect("country code"),
        profiles: ((n * scale) as usize).max(100),
        kit,
    })
    .collect()
}

struct Setup {
    _dir: tempfile::TempDir,
    nationals: Vec<National>,
    planted: Vec<scenario::Planted>,
    relatives: Vec<scenario::Planted>,
    total: usize,
    next_person: usize,
}

fn setup(scale: f64) -> Setup {
    let sim = simulator();
    let specs = specs(scale);
    let dupes = ((2_000.0 * scale) as usize).max(20);
    let t = Instant::now();
    let s = scenario::simulate(&sim, &specs, dupes).expect("simulate");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut nationals = Vec::new();
    let mut total = 0;
    for (c, profiles) in &s.nationals {
        total += profiles.len();
        let path = dir.path().join(format!("{c}.tdx"));
        Index::from_profiles(profiles)
            .expect("index")
            .write(&path)
            .expect("write");
        nationals.push(National { country: *c, path });
    }
    eprintln!(
        "simulated and wrote {total} national profiles ({} planted duplicates, {} planted siblings) in {:.2?}",
        s.planted.len(),
        s.relatives.len(),
        t.elapsed()
    );
    Setup {
        _dir: dir,
        nationals,
        planted: s.planted,
        relatives: s.relatives,
        total,
        next_person: specs.iter().map(|s| s.profiles).sum(),
    }
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let r = f();
    let d = t.elapsed();
    eprintln!("{what}: {d:.2?}");
    (r, d)
}

fn out_path(s: &Setup, name: &str) -> PathBuf {
    s.nationals[0].path.with_file_name(name)
}

fn hit_figures(s: &Setup, out: &std::path::Path) {
    let pairs = timed("cross-border hits (open, split by country, join)", || {
        let index = Index::open(out).expect("open");
        hits::cross_border_hits(&index, &HitOptions::default(), None)
    })
    .0;
    let found: std::collections::HashSet<(String, String)> = pairs
        .iter()
        .map(|p| (p.a.reference.to_string(), p.b.reference.to_string()))
        .collect();
    let key = |n: &National| CountryKey::load(&n.path).expect("key");
    let keys: Vec<(tandem_core::Country, CountryKey)> =
        s.nationals.iter().map(|n| (n.country, key(n))).collect();
    let k = |c| &keys.iter().find(|(cc, _)| *cc == c).expect("key").1;
    let reported = |p: &&scenario::Planted| {
        let a = k(p.from).reference(p.from, &p.from_id).to_string();
        let b = k(p.to).reference(p.to, &p.to_id).to_string();
        found.contains(&(a.clone(), b.clone())) || found.contains(&(b, a))
    };
    let recalled = s.planted.iter().filter(reported).count();
    let relatives = s.relatives.iter().filter(reported).count();
    eprintln!(
        "cross-border pairs: {}; planted duplicates recalled: {recalled}/{} ({:.1}%); \
         planted siblings reported: {relatives}/{}",
        pairs.len(),
        s.planted.len(),
        100.0 * recalled as f64 / s.planted.len() as f64,
        s.relatives.len(),
    );
    assert_eq!(recalled, s.planted.len(), "a planted duplicate was missed");
}

fn figures(s: &mut Setup) {
    let policy = Policy::share_all();
    let out = out_path(s, "region.tdx");
    let (report, _) = timed(&format!("merge of {} profiles", s.total), || {
        merge(&out, &s.nationals, &policy).expect("merge")
    });
    let (again, _) = timed("merge again (idempotent)", || {
        merge(&out, &s.nationals, &policy).expect("merge")
    });
    assert!(report.changed && !again.changed);
    if let Ok(n) = std::env::var("TANDEM_REGIONAL_SAMPLE") {
        // the dominant part of the hit job: SV profiles searched against the GT index
        let n: usize = n.parse().expect("sample size");
        let all: Vec<Profile> = Index::open(&out).expect("open").profiles().collect();
        let gt: Vec<Profile> = all
            .iter()
            .filter(|p| p.id().as_str().starts_with("GT-"))
            .cloned()
            .collect();
        let sv: Vec<Profile> = all
            .iter()
            .filter(|p| p.id().as_str().starts_with("SV-"))
            .cloned()
            .collect();
        drop(all);
        let index = timed("GT index", || Index::from_profiles(&gt).expect("index")).0;
        let sample: Vec<Profile> = sv.iter().step_by(sv.len() / n).cloned().collect();
        let opts = tandem_core::SearchOptions::default();
        let (r, d) = timed(
            &format!("join of {} SV profiles against GT", sample.len()),
            || index.search_join_with(&sample, &opts, &Default::default()),
        );
        eprintln!("per query {:.1?}; {:?}", d / sample.len() as u32, r.1);
        return;
    }
    if std::env::var_os("TANDEM_REGIONAL_SKIP_HITS").is_none() {
        hit_figures(s, &out);
    }
    // the nightly delta: 10^4 changed profiles of GT (5,000 removed, 5,000 added)
    let changed = 10_000.min(s.total / 10);
    let gt = s.nationals[0].path.clone();
    let mut national = Index::open(&gt).expect("open");
    let ids: Vec<_> = national
        .profiles()
        .skip(1000)
        .take(changed / 2)
        .map(|p| p.id().clone())
        .collect();
    for id in &ids {
        national.remove(id);
    }
    let sim = simulator();
    let loci: Vec<_> = Kit::GlobalFiler
        .loci()
        .into_iter()
        .filter(|l| l.is_amelogenin() || sim.pools().contains(*l))
        .collect();
    let added: Vec<Profile> = sim
        .unrelated_range(s.next_person..s.next_person + changed / 2, &loci, "GT-NEW-")
        .expect("simulate");
    s.next_person += changed / 2;
    for mut p in added {
        p.set_category(Some(SpecimenCategory::ConvictedOffender));
        national.add(p).expect("add");
    }
    national.write(&gt).expect("write");
    // `out` exists: the incremental update (rows copied from it unless their national row changed)
    let (update, _) = timed(
        &format!("nightly update ({changed} changed profiles)"),
        || merge(&out, &s.nationals, &policy).expect("update"),
    );
    eprintln!(
        "update copied {} of {} regional profiles from the previous regional index",
        update.reused, update.regional_profiles
    );
    assert!(
        update.reused > 0,
        "the update did not take the incremental path"
    );
    let fresh = out_path(s, "fresh.tdx");
    timed("full rebuild for comparison", || {
        merge(&fresh, &s.nationals, &policy).expect("rebuild")
    });
    assert_eq!(
        profiles_bytes(&out),
        profiles_bytes(&fresh),
        "update differs from a full rebuild"
    );
    eprintln!("update == full rebuild: byte-identical");
}

fn criterion_groups(c: &mut Criterion, s: &Setup) {
    let policy = Policy::share_all();
    let mut g = c.benchmark_group("regional");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    g.sampling_mode(SamplingMode::Flat);
    let out = out_path(s, "bench.tdx");
    g.bench_function(BenchmarkId::new("merge", s.total), |b| {
        b.iter(|| {
            let _ = std::fs::remove_file(&out);
            merge(&out, &s.nationals, &policy).expect("merge")
        })
    });
    let mut index = Index::open(&out).expect("open");
    index.build_postings();
    g.bench_function(BenchmarkId::new("cross_border_hits", s.total), |b| {
        b.iter(|| hits::cross_border_hits(&index, &HitOptions::default(), None))
    });
    g.finish();
}

fn main() {
    let mut s = setup(scale());
    figures(&mut s);
    if std::env::var_os("TANDEM_REGIONAL_FIGURES_ONLY").is_some() {
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    criterion_groups(&mut c, &s);
    c.final_summary();
}

/// The bytes of an index file with the ledger head (header bytes 36..60) and the header checksum
/// zeroed: an update and a full rebuild hold the same profiles byte for byte, but each file
/// records the ledger record it was written after.
fn profiles_bytes(path: &std::path::Path) -> Vec<u8> {
    let mut b = std::fs::read(path).expect("read");
    b[36..64].fill(0);
    b
}
