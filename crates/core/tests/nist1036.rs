//! Searches on the real NIST U.S. Population Dataset 1036 genotypes (testdata/).

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use tandem_core::search::naive;
use tandem_core::simulate::{self, AllelePools, Simulator};
use tandem_core::table::{TableOptions, read_path};
use tandem_core::{Index, Kit, Profile, ProfileId, SearchOptions, Stringency};

fn nist() -> Vec<Profile> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/nist1036_genotypes_wide.csv"
    );
    read_path(std::path::Path::new(path), &TableOptions::default())
        .expect("NIST 1036 reads")
        .profiles
}

#[test]
fn test_every_profile_finds_itself_at_high_stringency() {
    let db = nist();
    assert_eq!(db.len(), 1036);
    let index = Index::from_profiles(&db).unwrap();
    let opts = SearchOptions {
        stringency: Stringency::High,
        min_loci: 13,
        ..SearchOptions::default()
    };
    let results = index.search_batch(&db, &opts);
    for (p, hits) in db.iter().zip(&results) {
        // unrelated people never match at 13+ loci at high stringency; the profile itself does
        assert_eq!(hits.len(), 1, "{} has {} hits", p.id(), hits.len());
        assert_eq!(&hits[0].candidate, p.id());
        assert_eq!(hits[0].loci_mismatched, 0);
        assert_eq!(hits[0].loci_compared, p.counted_locus_count());
    }
}

#[test]
fn test_degraded_profiles_find_their_source_at_moderate_stringency() {
    let db = nist();
    let index = Index::from_profiles(&db).unwrap();
    let sim = Simulator::new(AllelePools::from_profiles(&db), 7);
    let mut rng = sim.rng(1);
    let opts = SearchOptions {
        min_loci: 8,
        ..SearchOptions::default()
    };
    for p in db.iter().step_by(7) {
        let degraded = simulate::degrade(p, 0.5, 0.3, &mut rng);
        let q = simulate::renamed(&degraded, ProfileId::new("QUERY").unwrap());
        let hits = index.search(&q, &opts);
        if q.counted_locus_count() >= 8 {
            assert!(
                hits.iter().any(|h| h.candidate == *p.id()),
                "{} not found",
                p.id()
            );
        }
        assert_eq!(hits, naive::search(&db, &q, &opts));
    }
}

#[test]
fn test_codis13_queries_against_the_full_panel() {
    // a lab's old Identifiler-era profile against the 29-locus database: only common loci count
    let db = nist();
    let index = Index::from_profiles(&db).unwrap();
    let core: Vec<_> = Kit::Codis13.loci();
    let mut q = Profile::new(ProfileId::new("OLD").unwrap());
    for (l, g) in db[100].genotypes() {
        if core.contains(&l) {
            q.set_genotype(l, *g);
        }
    }
    let opts = SearchOptions {
        stringency: Stringency::High,
        min_loci: 13,
        ..SearchOptions::default()
    };
    let hits = index.search(&q, &opts);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].loci_compared, 13);
    // Prüm: full match on the source
    let hits = index.search(&q, &SearchOptions::prum());
    assert_eq!(hits[0].candidate, *db[100].id());
    assert_eq!(hits[0].prum, Some(tandem_core::PrumQuality::Full));
}

/// The join answers a whole database of degraded copies exactly as the batch search, through its
/// group tables (NIST 1036, 29 loci; moderate, high and Prüm rules).
#[test]
fn test_join_equals_batch_on_real_genotypes() {
    let db = nist();
    let index = Index::from_profiles(&db).unwrap();
    let sim = Simulator::new(AllelePools::from_profiles(&db), 11);
    let mut rng = sim.rng(3);
    let queries: Vec<Profile> = db
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let d = simulate::degrade(p, 0.1, 0.1, &mut rng);
            simulate::renamed(&d, ProfileId::new(&format!("Q{i}")).unwrap())
        })
        .collect();
    for opts in [
        SearchOptions::default(),
        SearchOptions {
            stringency: Stringency::High,
            min_loci: 10,
            ..SearchOptions::default()
        },
        SearchOptions {
            max_mismatches: 1,
            ..SearchOptions::default()
        },
        SearchOptions {
            prum: true,
            min_loci: 6,
            ..SearchOptions::default()
        },
    ] {
        let (joined, stats) = index.search_join_with(&queries, &opts, &Default::default());
        assert!(
            stats.joined_queries > queries.len() / 2,
            "{opts:?}: {stats:?}"
        );
        assert_eq!(joined, index.search_batch(&queries, &opts), "{opts:?}");
        // degraded copies find their source
        let found = joined
            .iter()
            .zip(&db)
            .filter(|(hits, p)| hits.iter().any(|h| h.candidate == *p.id()))
            .count();
        assert!(found > 0, "{opts:?}");
    }
}
