//! Shared fixtures of the Tandem criterion benchmarks (`benches/benches/*.rs`): synthetic
//! GlobalFiler databases drawn from the NIST 1036 allele pools, and the queries run against them.
//!
//! Dataset sizes are capped by the `TANDEM_BENCH_MAX` environment variable (default 10^7), so a
//! quick run can skip the 10^7-profile database: `TANDEM_BENCH_MAX=1000000 cargo bench -p
//! tandem-benches`.

use std::path::PathBuf;

use rand::Rng as _;
use rand::seq::SliceRandom;
use tandem_core::simulate::{AllelePools, Rng, Simulator};
use tandem_core::table::{self, TableOptions};
use tandem_core::{Genotype, Index, Kit, Locus, Profile, ProfileId};

/// Seed of every simulated database (results are reproducible across machines and threads).
pub const SEED: u64 = 1036;

/// Id prefix of simulated profiles.
pub const PREFIX: &str = "SIM";

/// Profiles simulated (and indexed) per batch when building a large database.
const BATCH: usize = 500_000;

/// The dataset sizes the benchmarks use, capped by `TANDEM_BENCH_MAX` (a cap below the smallest
/// size gives that one smaller size, for smoke runs).
pub fn sizes(wanted: &[usize]) -> Vec<usize> {
    let max = max_size();
    let mut v: Vec<usize> = wanted.iter().copied().filter(|&n| n <= max).collect();
    if v.is_empty() {
        v.push(max.max(1));
    }
    v
}

/// The `TANDEM_BENCH_MAX` cap (default 10^7).
pub fn max_size() -> usize {
    std::env::var("TANDEM_BENCH_MAX")
        .ok()
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(10_000_000)
}

/// The real NIST 1036 genotypes shipped in `testdata/`.
pub fn nist_profiles() -> Vec<Profile> {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "testdata",
        "nist1036_genotypes_wide.csv",
    ]
    .iter()
    .collect();
    match table::read_path(&path, &TableOptions::default()) {
        Ok(read) => read.profiles,
        Err(e) => panic!("cannot read {}: {e}", path.display()),
    }
}

/// The benchmark simulator: NIST 1036 allele pools and [`SEED`].
pub fn simulator() -> Simulator {
    Simulator::new(AllelePools::from_profiles(&nist_profiles()), SEED)
}

/// The GlobalFiler panel (24 loci; the NIST pools hold no Y-STR data, so DYS391 and Yindel stay
/// untyped and simulated profiles type 21 autosomal loci and Amelogenin).
pub fn loci() -> Vec<Locus> {
    Kit::GlobalFiler.loci()
}

/// Profiles `range` of the benchmark database.
pub fn profiles(sim: &Simulator, range: std::ops::Range<usize>) -> Vec<Profile> {
    match sim.unrelated_range(range, &loci(), PREFIX) {
        Ok(p) => p,
        Err(e) => panic!("simulation failed: {e}"),
    }
}

/// A synthetic database of `n` GlobalFiler profiles, simulated and indexed in batches so that the
/// owned profiles of a 10^7 database never need to be in memory at once.
pub fn database(sim: &Simulator, n: usize) -> Index {
    let first = profiles(sim, 0..n.min(BATCH));
    let mut index = match Index::from_profiles(&first) {
        Ok(i) => i,
        Err(e) => panic!("index build failed: {e}"),
    };
    drop(first);
    let mut start = BATCH;
    while start < n {
        let end = (start + BATCH).min(n);
        for p in profiles(sim, start..end) {
            if let Err(e) = index.add(p) {
                panic!("index add failed: {e}");
            }
        }
        start = end;
    }
    index
}

/// A degraded copy of a database profile, as from a partial crime-scene stain: `keep` autosomal
/// loci of the profile (Amelogenin dropped), and `singles` heterozygous loci reduced to one
/// allele (allele dropout). Deterministic in `rng`.
pub fn degraded(source: &Profile, keep: usize, singles: usize, id: &str, rng: &mut Rng) -> Profile {
    let mut loci: Vec<(Locus, Genotype)> = source
        .genotypes()
        .filter(|(l, _)| l.is_counted())
        .map(|(l, g)| (l, *g))
        .collect();
    loci.shuffle(rng);
    loci.truncate(keep);
    let mut dropped = 0;
    for (_, g) in loci.iter_mut() {
        if dropped < singles && g.len() == 2 {
            *g = Genotype::single(g.alleles()[rng.gen_range(0..2)]);
            dropped += 1;
        }
    }
    let id = ProfileId::new(id).unwrap_or_else(|e| panic!("bad id {id:?}: {e}"));
    let mut q = Profile::new(id).with_partial(dropped > 0);
    for (l, g) in loci {
        q = q.with(l, g);
    }
    q
}

/// `n` degraded queries (20 loci, two single alleles) from profiles spread over the first
/// `rows` profiles of the benchmark database.
pub fn degraded_queries(sim: &Simulator, rows: usize, n: usize) -> Vec<Profile> {
    let mut rng = sim.rng(7);
    (0..n)
        .map(|i| {
            let row = rng.gen_range(0..rows);
            let source = profiles(sim, row..row + 1).remove(0);
            degraded(&source, 20, 2, &format!("Q{i}"), &mut rng)
        })
        .collect()
}

/// The NIST 1036 frequency table shipped in `testdata/`.
pub fn nist_frequencies() -> tandem_core::freq::FreqTable {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "testdata",
        "nist1036_allele_freqs.csv",
    ]
    .iter()
    .collect();
    tandem_core::freq::FreqTable::read_path(&path, &tandem_core::freq::FreqOptions::default())
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A familial-search fixture: an indexed database and its queries, with the frequencies used.
pub struct FamilialFixture {
    /// The database.
    pub index: Index,
    /// The queries: degraded parents of database people.
    pub queries: Vec<Profile>,
    /// NIST 1036 "All" frequencies.
    pub population: tandem_core::freq::Population,
}

/// `n` GlobalFiler profiles (21 autosomal loci) with 5% of loci missing and 8% of heterozygous
/// loci reduced to one allele, and `queries` degraded parents of database people.
pub fn familial_fixture(n: usize, queries: usize) -> FamilialFixture {
    use tandem_core::simulate::degrade;
    let sim = simulator();
    let people: Vec<Profile> = profiles(&sim, 0..n)
        .into_iter()
        .enumerate()
        .map(|(i, p)| degrade(&p, 0.05, 0.08, &mut sim.rng(1_000_000 + i as u64)))
        .collect();
    let mut rng = sim.rng(8);
    let qs = (0..queries)
        .map(|i| {
            let row = rng.gen_range(0..n);
            let id = ProfileId::new(&format!("Q{i}")).unwrap_or_else(|e| panic!("{e}"));
            let parent = sim
                .parent_of(&people[row], id, 0.002, &mut rng)
                .unwrap_or_else(|e| panic!("{e}"));
            tandem_core::simulate::degrade(&parent, 0.05, 0.08, &mut rng)
        })
        .collect();
    let index = Index::from_profiles(&people).unwrap_or_else(|e| panic!("index build failed: {e}"));
    let population = match nist_frequencies().population("All") {
        Ok(p) => p.clone(),
        Err(e) => panic!("{e}"),
    };
    FamilialFixture {
        index,
        queries: qs,
        population,
    }
}

/// `n` unrelated profiles typed at the 13 CODIS core loci, indexed.
pub fn codis13_database(n: usize) -> Index {
    let sim = simulator();
    let people = sim
        .unrelated(n, &Kit::Codis13.loci(), PREFIX)
        .unwrap_or_else(|e| panic!("{e}"));
    Index::from_profiles(&people).unwrap_or_else(|e| panic!("index build failed: {e}"))
}
