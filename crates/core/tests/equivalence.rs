//! The fast search (planner, forced scan, forced postings, batch) returns exactly what the naive
//! reference search returns, for random databases, queries and options.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use proptest::prelude::*;
use tandem_core::search::join::JoinParams;
use tandem_core::search::naive;
use tandem_core::search::plan::{Force, search_forced};
use tandem_core::{Allele, Genotype, Index, Locus, Profile, ProfileId, SearchOptions, Stringency};

mod common;
use common::{LOCI, arb_genotype};

fn arb_profile(id: usize) -> impl Strategy<Value = Profile> {
    let per_locus: Vec<_> = LOCI
        .iter()
        .map(|&l| prop::option::weighted(0.85, arb_genotype(l)))
        .collect();
    (per_locus, any::<bool>()).prop_map(move |(gs, partial)| {
        let mut p =
            Profile::new(ProfileId::new(&format!("P{id:04}")).unwrap()).with_partial(partial);
        for (l, g) in LOCI.iter().zip(gs) {
            if let Some(g) = g {
                p.set_genotype(Locus::lookup(l).unwrap(), g);
            }
        }
        if p.locus_count() == 0 {
            p.set_genotype(
                Locus::lookup("TH01").unwrap(),
                Genotype::single(Allele::Repeat(90)),
            );
        }
        p
    })
}

fn arb_db() -> impl Strategy<Value = Vec<Profile>> {
    (1usize..60).prop_flat_map(|n| (0..n).map(arb_profile).collect::<Vec<_>>())
}

fn arb_options() -> impl Strategy<Value = SearchOptions> {
    (
        prop_oneof![
            Just(Stringency::High),
            Just(Stringency::Moderate),
            Just(Stringency::Low)
        ],
        0usize..5,
        0usize..3,
        prop::bool::weighted(0.25),
        prop::option::weighted(0.2, 1usize..5),
    )
        .prop_map(
            |(stringency, min_loci, max_mismatches, prum, top)| SearchOptions {
                stringency,
                min_loci,
                max_mismatches,
                prum,
                top,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn prop_fast_equals_naive(db in arb_db(), queries in prop::collection::vec(arb_profile(9999), 1..4),
                              opts in arb_options(), deletions in prop::collection::vec(0usize..60, 0..5)) {
        let mut index = Index::from_profiles(&db).unwrap();
        let mut live: Vec<Profile> = db.clone();
        for d in deletions {
            if d < db.len() {
                let id = db[d].id().clone();
                if index.remove(&id).is_some() {
                    live.retain(|p| p.id() != &id);
                }
            }
        }
        // queries from the database too: they must find themselves
        let mut queries = queries;
        queries.extend(db.iter().take(2).cloned());
        let batch = index.search_batch(&queries, &opts);
        for (qi, q) in queries.iter().enumerate() {
            let expected = naive::search(&live, q, &opts);
            prop_assert_eq!(&index.search(q, &opts), &expected, "auto");
            prop_assert_eq!(&search_forced(&index, q, &opts, Force::Scan), &expected, "scan");
            prop_assert_eq!(&search_forced(&index, q, &opts, Force::Postings), &expected, "postings");
            prop_assert_eq!(&batch[qi], &expected, "batch");
        }
    }

    #[test]
    fn prop_incremental_add_equals_build(db in arb_db(), q in arb_profile(9999), opts in arb_options()) {
        let built = Index::from_profiles(&db).unwrap();
        let mut grown = Index::new();
        for p in &db {
            grown.add(p.clone()).unwrap();
        }
        prop_assert_eq!(built.search(&q, &opts), grown.search(&q, &opts));
        for p in &db {
            prop_assert_eq!(grown.get(p.id()), Some(p.clone()));
        }
    }
}

fn arb_join_params() -> impl Strategy<Value = JoinParams> {
    (
        1usize..=3,
        1usize..=4,
        prop_oneof![Just(3usize), Just(4096usize)],
    )
        .prop_map(|(group_size, groups, max_probes)| JoinParams {
            group_size,
            groups,
            min_coverage: 0.0,
            max_probes,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// The join (group tables, side index, planner fallback) answers exactly as the naive search.
    #[test]
    fn prop_join_equals_naive(db in arb_db(), queries in prop::collection::vec(arb_profile(9999), 1..6),
                              opts in arb_options(), params in arb_join_params(),
                              deletions in prop::collection::vec(0usize..60, 0..5)) {
        let mut index = Index::from_profiles(&db).unwrap();
        let mut live: Vec<Profile> = db.clone();
        for d in deletions {
            if d < db.len() {
                let id = db[d].id().clone();
                if index.remove(&id).is_some() {
                    live.retain(|p| p.id() != &id);
                }
            }
        }
        let mut queries = queries;
        queries.extend(db.iter().take(5).cloned());
        let (joined, stats) = index.search_join_with(&queries, &opts, &params);
        prop_assert_eq!(stats.joined_queries + stats.planner_queries, queries.len());
        for (qi, q) in queries.iter().enumerate() {
            prop_assert_eq!(&joined[qi], &naive::search(&live, q, &opts), "query {}", qi);
        }
    }
}
