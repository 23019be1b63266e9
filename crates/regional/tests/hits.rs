//! Cross-border hits through the join equal a search of every profile of the smaller country
//! against the other (`Index::search_batch`, itself property-tested against the naive search),
//! on three simulated countries large enough for the join's group tables (more than
//! `JOIN_MIN_QUERIES` queries per pair of countries).

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::collections::BTreeMap;

use tandem_core::freq::{FreqOptions, FreqTable};
use tandem_core::search::join::JOIN_MIN_QUERIES;
use tandem_core::simulate::{AllelePools, Simulator};
use tandem_core::{Country, Index, Kit, Profile, SearchOptions, Stringency};
use tandem_regional::hits::{HitOptions, cross_border_hits};
use tandem_regional::scenario::{self, CountrySpec};

fn world() -> (Vec<(Country, Vec<Profile>)>, scenario::Scenario) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/nist1036_allele_freqs.csv");
    let table = FreqTable::read_path(&path, &FreqOptions::default()).unwrap();
    let pools = AllelePools::from_frequencies(table.populations()[0].pool_rows()).unwrap();
    let sim = Simulator::new(pools, 77);
    // the smaller country of each pair has more than JOIN_MIN_QUERIES profiles
    let specs = [
        ("GT", 1_000, Kit::GlobalFiler),
        ("SV", JOIN_MIN_QUERIES + 100, Kit::PowerPlexFusion),
        ("HN", JOIN_MIN_QUERIES + 50, Kit::Identifiler),
    ]
    .map(|(c, n, kit)| CountrySpec {
        country: c.parse().unwrap(),
        profiles: n,
        kit,
    });
    let s = scenario::simulate(&sim, &specs, 30).unwrap();
    (s.nationals.clone(), s)
}

/// (reference a, reference b) -> (loci compared, loci matched), one search per profile.
fn searched_pairs(
    nationals: &[(Country, Vec<Profile>)],
    opts: &SearchOptions,
) -> BTreeMap<(String, String), (usize, usize)> {
    let mut by_country: Vec<&(Country, Vec<Profile>)> = nationals.iter().collect();
    by_country.sort_by_key(|(c, _)| *c);
    let mut out = BTreeMap::new();
    for (i, (_, a)) in by_country.iter().enumerate() {
        for (_, b) in &by_country[i + 1..] {
            let (queries, target) = if a.len() <= b.len() { (a, b) } else { (b, a) };
            let target_index = Index::from_profiles(target).unwrap();
            let results = target_index.search_batch(queries, opts);
            for (q, hits) in queries.iter().zip(results) {
                for h in hits {
                    let (x, y) = (q.id().to_string(), h.candidate.to_string());
                    let key = if x <= y { (x, y) } else { (y, x) };
                    out.insert(key, (h.loci_compared, h.loci_matched));
                }
            }
        }
    }
    out
}

#[test]
fn test_cross_border_hits_equal_the_naive_search() {
    let (nationals, s) = world();
    let all: Vec<Profile> = nationals.iter().flat_map(|(_, p)| p.clone()).collect();
    let index = Index::from_profiles(&all).unwrap();
    for search in [
        SearchOptions::default(),
        SearchOptions {
            stringency: Stringency::High,
            min_loci: 6,
            max_mismatches: 1,
            ..SearchOptions::default()
        },
        SearchOptions {
            prum: true,
            min_loci: 6,
            ..SearchOptions::default()
        },
    ] {
        let opts = HitOptions {
            search: search.clone(),
            same_country: false,
        };
        let got: BTreeMap<(String, String), (usize, usize)> =
            cross_border_hits(&index, &opts, None)
                .into_iter()
                .map(|p| {
                    assert_ne!(p.a.country, p.b.country);
                    (
                        (p.a.reference.to_string(), p.b.reference.to_string()),
                        (p.loci_compared, p.loci_matched),
                    )
                })
                .collect();
        assert_eq!(got, searched_pairs(&nationals, &search), "{search:?}");
        if search == SearchOptions::default() {
            // every planted duplicate is a cross-border hit at the default rules
            for p in &s.planted {
                let (x, y) = (p.from_id.to_string(), p.to_id.to_string());
                let key = if x <= y { (x, y) } else { (y, x) };
                assert!(got.contains_key(&key), "planted {key:?} missed");
            }
        }
    }
}
