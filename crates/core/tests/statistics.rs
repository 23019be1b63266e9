//! Statistics on the shipped frequency tables and on simulated databases: the Arizona sanity
//! check (Weir 2004), observed against expected (m, p) matrices, and relatives ranked by the
//! familial search. The 65,493-profile checks are `#[ignore]`d (run with `--ignored`).

use std::path::PathBuf;

use tandem_core::compare::{CompareOptions, ExpectOptions, compare_naive, expected_matrix};
use tandem_core::freq::{FreqOptions, FreqTable, Population};
use tandem_core::kinship::{FamilialOptions, KinshipOptions, Relationship};
use tandem_core::simulate::{AllelePools, Simulator, degrade};
use tandem_core::stats::{self, Model, RmpOptions};
use tandem_core::{Index, Kit, ProfileId};

fn table(name: &str) -> FreqTable {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "..", "testdata", name]
        .iter()
        .collect();
    FreqTable::read_path(&path, &FreqOptions::default()).expect("shipped table")
}

fn simulator(pop: &Population, seed: u64) -> Simulator {
    Simulator::new(
        AllelePools::from_frequencies(pop.pool_rows()).expect("pools"),
        seed,
    )
}

/// Weir (2004): the Arizona offender database (65,493 profiles, 13 CODIS loci) held 122 pairs
/// matching at 9 loci, 20 at 10, 1 at 11, 1 at 12; with U.S. Caucasian frequencies and theta = 0
/// the expectation at 9 loci is about 116 (FBI 1999 frequencies). With the FBI 2015 Caucasian
/// table the expectation comes out within the same order; the observed excess at 10-12 loci
/// points to relatives (BRIEF section 4). A sanity check, not an exact reproduction: the
/// frequencies differ from Weir's.
#[test]
fn test_arizona_expected_matches_sanity() {
    let fbi = table("fbi2015_allele_freqs.csv");
    let cauc = fbi.population("Caucasian").expect("Caucasian");
    let loci = Kit::Codis13.loci();
    let m = expected_matrix(
        cauc,
        &loci,
        65_493,
        &ExpectOptions {
            theta: 0.0,
            relatives: None,
        },
    )
    .expect("expected");
    let total: f64 = m.cells().map(|c| c.2).sum();
    assert!((total - 2_144_633_778.0).abs() < 1.0, "pairs {total}");
    let at = |k: usize| m.row_sum(k);
    eprintln!(
        "Arizona expectation (FBI 2015 Caucasian, theta 0): 9 loci {:.1}, 10 {:.2}, 11 {:.3}, 12 {:.4}, 13 {:.6}",
        at(9),
        at(10),
        at(11),
        at(12),
        at(13)
    );
    assert!((40.0..300.0).contains(&at(9)), "9 loci: {}", at(9));
    assert!(
        at(10) < 20.0,
        "10 loci: observed 20 is an excess, expected {}",
        at(10)
    );
    assert!(at(11) < 1.0 && at(12) < 0.05);
    // theta raises the expectation of matches
    let t = expected_matrix(
        cauc,
        &loci,
        65_493,
        &ExpectOptions {
            theta: 0.03,
            relatives: None,
        },
    )
    .expect("expected");
    assert!(t.row_sum(9) > at(9));
    // relatives raise the high-match cells
    let rel = expected_matrix(
        cauc,
        &loci,
        65_493,
        &ExpectOptions {
            theta: 0.0,
            relatives: Some((Relationship::FULL_SIBLINGS, 1e-5)),
        },
    )
    .expect("expected");
    assert!(rel.row_sum(12) > 10.0 * at(12));
}

#[test]
fn test_rmp_of_nist_person_in_every_population() {
    let nist = table("nist1036_allele_freqs.csv");
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "..",
        "testdata",
        "nist1036_genotypes_wide.csv",
    ]
    .iter()
    .collect();
    let people = tandem_core::table::read_path(&path, &Default::default())
        .expect("NIST genotypes")
        .profiles;
    let opts = RmpOptions::default();
    let r = stats::rmp_report(&people[0], &nist, &opts, |l| {
        Kit::Codis20.loci().contains(&l)
    });
    assert_eq!(r.populations.len(), 5);
    for p in &r.populations {
        assert_eq!(p.loci.len(), 20);
        assert!(
            p.combined.log10() < -15.0,
            "{} {}",
            p.population,
            p.combined
        );
    }
    // 29 loci: no underflow, product kept in log space
    let all = stats::profile_rmp(
        &people[0],
        nist.population("AfAm").expect("AfAm"),
        &RmpOptions {
            model: Model::Nrc2Eq410,
            theta: 0.03,
            ..opts
        },
    );
    assert_eq!(all.loci.len(), 29);
    assert!(all.combined.log10().is_finite() && all.combined.log10() < -25.0);
    let c = r.conservative.expect("conservative");
    assert!(
        r.populations
            .iter()
            .all(|p| p.combined <= r.populations[c].combined)
    );
}

/// The observed (m, p) matrix of a simulated database agrees with the expected one within
/// sampling error (pairs sharing a person are not independent, so the bound is loose).
fn observed_vs_expected(n: usize) {
    let nist = table("nist1036_allele_freqs.csv");
    let pop = nist.population("Hisp").expect("Hisp");
    let loci = Kit::Codis13.loci();
    let db = simulator(pop, 11)
        .unrelated(n, &loci, "P")
        .expect("simulate");
    let index = Index::from_profiles(&db).expect("index");
    let obs = index.compare_all(&CompareOptions::default());
    let exp = expected_matrix(
        pop,
        &loci,
        n as u64,
        &ExpectOptions {
            theta: 0.0,
            relatives: None,
        },
    )
    .expect("expected");
    for m in 0..=13 {
        let (o, e) = (obs.matrix.row_sum(m) as f64, exp.row_sum(m));
        if e >= 5.0 {
            let tol = 6.0 * e.sqrt() + 0.03 * e;
            assert!(
                (o - e).abs() <= tol,
                "m = {m}: observed {o}, expected {e:.1}"
            );
        }
    }
    for (m, p, e) in exp.cells() {
        if e >= 50.0 {
            let o = obs.matrix.get(m, p) as f64;
            assert!(
                (o - e).abs() <= 6.0 * e.sqrt() + 0.03 * e,
                "({m}, {p}): observed {o}, expected {e:.1}"
            );
        }
    }
}

#[test]
fn test_observed_matrix_agrees_with_expected_on_3000_profiles() {
    observed_vs_expected(3000);
}

#[test]
#[ignore = "65,493 profiles: 2.1e9 pairs; run with --ignored --release"]
fn test_observed_matrix_agrees_with_expected_at_arizona_scale() {
    observed_vs_expected(65_493);
}

#[test]
fn test_fast_compare_equals_naive_on_simulated_database() {
    let nist = table("nist1036_allele_freqs.csv");
    let pop = nist.population("AfAm").expect("AfAm");
    let sim = simulator(pop, 5);
    let loci = Kit::Codis20.loci();
    let mut db = sim.unrelated(700, &loci, "P").expect("simulate");
    let mut rng = sim.rng(3);
    for i in 0..30 {
        let sib = sim
            .sibling_of(
                &db[i],
                ProfileId::new(&format!("S{i}")).expect("id"),
                0.002,
                &mut rng,
            )
            .expect("sibling");
        db.push(degrade(&sib, 0.05, 0.08, &mut rng));
    }
    let index = Index::from_profiles(&db).expect("index");
    let opts = CompareOptions {
        hit: Some(10),
        loci: None,
    };
    let fast = index.compare_all(&opts);
    let naive = compare_naive(&db, &opts);
    assert_eq!(fast, naive);
    assert!(!fast.hits.is_empty(), "siblings share many loci");
}

/// Simulated siblings rank above unrelated people: the true relative is ranked first for most
/// queries (a handful of misses is the expected power of a 21-locus sibling search).
#[test]
fn test_simulated_relatives_rank_first() {
    let nist = table("nist1036_allele_freqs.csv");
    let pop = nist.population("Cauc").expect("Cauc");
    let sim = simulator(pop, 21);
    let loci = Kit::GlobalFiler.loci();
    let db: Vec<_> = sim
        .unrelated(3000, &loci, "P")
        .expect("simulate")
        .into_iter()
        .enumerate()
        .map(|(i, p)| degrade(&p, 0.05, 0.08, &mut sim.rng(1000 + i as u64)))
        .collect();
    let index = Index::from_profiles(&db).expect("index");
    let mut rng = sim.rng(2);
    for (rel, name, want) in [
        (Relationship::PARENT_CHILD, "parent-child", 18),
        (Relationship::FULL_SIBLINGS, "full siblings", 15),
    ] {
        let queries: Vec<_> = (0..20)
            .map(|i| {
                let id = ProfileId::new(&format!("Q{i}")).expect("id");
                let r = if rel == Relationship::PARENT_CHILD {
                    sim.parent_of(&db[i * 100], id, 0.002, &mut rng)
                } else {
                    sim.sibling_of(&db[i * 100], id, 0.002, &mut rng)
                };
                degrade(&r.expect("relative"), 0.05, 0.08, &mut rng)
            })
            .collect();
        let opts = FamilialOptions {
            kinship: KinshipOptions {
                relationship: rel,
                ..KinshipOptions::default()
            },
            top: 5,
            ..FamilialOptions::default()
        };
        let res = index.familial_search(&queries, pop, &opts).expect("search");
        let first = res
            .iter()
            .enumerate()
            .filter(|(i, r)| {
                r.candidates
                    .first()
                    .is_some_and(|c| c.candidate == *db[i * 100].id())
            })
            .count();
        assert!(
            first >= want,
            "{name}: true relative first for {first} of 20 queries"
        );
        for r in &res {
            assert!(
                r.direct_matches.is_empty(),
                "a relative is not a direct match"
            );
        }
    }
}
