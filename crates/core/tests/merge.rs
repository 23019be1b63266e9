//! `Index::merged` (and `Index::gather` under it) equals a rebuild: for random profiles, random
//! removals and additions, the merged index written to a file is byte-identical to
//! `Index::from_profiles` of the remaining and added profiles sorted by id, whether the index
//! was built in memory, in any row order, with deleted rows, or opened from a file.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::Path;

use proptest::prelude::*;
use tandem_core::index::{GatherRow, GatherSource};
use tandem_core::profile::parse_date;
use tandem_core::{
    Allele, Genotype, Index, IndexError, Locus, Profile, ProfileId, SpecimenCategory,
};

mod common;
use common::{LOCI, arb_genotype};

/// A profile with metadata; `id` is its number (ids of different lengths sort as text).
fn arb_profile(id: usize) -> impl Strategy<Value = Profile> {
    let per_locus: Vec<_> = LOCI
        .iter()
        .map(|&l| prop::option::weighted(0.8, arb_genotype(l)))
        .collect();
    (
        per_locus,
        any::<bool>(),
        prop::option::of(0usize..4),
        prop::option::of(0usize..3),
        prop::option::of(0usize..3),
        prop::option::of(0usize..3),
        prop::option::weighted(0.5, 0u32..3000),
    )
        .prop_map(move |(gs, partial, cat, lab, country, kit, day)| {
            let mut p =
                Profile::new(ProfileId::new(&format!("P{id}")).unwrap()).with_partial(partial);
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
            let cats = [
                SpecimenCategory::ConvictedOffender,
                SpecimenCategory::ForensicUnknown,
                SpecimenCategory::MissingPerson,
                SpecimenCategory::Juvenile,
            ];
            p.set_category(cat.map(|c| cats[c]));
            p.set_lab(lab.map(|l| ["INACIF", "IML", "DGME"][l].to_string()));
            p.set_country(country.map(|c| ["GT", "SV", "HN"][c].parse().unwrap()));
            p.set_kit(
                kit.map(|k| ["GlobalFiler", "Identifiler", "PowerPlex Fusion"][k].to_string()),
            );
            p.set_date(
                day.map(|d| parse_date("2018-01-01").unwrap() + time::Duration::days(i64::from(d))),
            );
            p
        })
}

/// Profiles with ids `P{first}..` in a shuffled order.
fn arb_profiles(first: usize, max: usize) -> impl Strategy<Value = Vec<Profile>> {
    (0usize..max)
        .prop_flat_map(move |n| (first..first + n).map(arb_profile).collect::<Vec<_>>())
        .prop_shuffle()
}

/// `p` under another id, every other field kept.
fn with_id(p: &Profile, id: ProfileId) -> Profile {
    let mut out = Profile::new(id).with_partial(p.is_partial());
    out.set_category(p.category());
    out.set_lab(p.lab().map(str::to_string));
    out.set_country(p.country());
    out.set_kit(p.kit().map(str::to_string));
    out.set_date(p.date());
    for (l, g) in p.genotypes() {
        out.set_genotype(l, *g);
    }
    out
}

fn bytes_of(index: &Index, dir: &Path, name: &str) -> Vec<u8> {
    let path = dir.join(name);
    index.write(&path).unwrap();
    std::fs::read(&path).unwrap()
}

/// How the starting index is made.
#[derive(Debug, Clone, Copy)]
enum Start {
    /// `from_profiles` in the given (shuffled) order.
    Built,
    /// `from_profiles` sorted by id.
    Sorted,
    /// Added one by one, with some profiles added and removed again (deleted rows).
    WithDeletedRows,
    /// Written and opened (columns mapped).
    Opened,
}

fn start(kind: Start, db: &[Profile], dir: &Path) -> Index {
    match kind {
        Start::Built => Index::from_profiles(db).unwrap(),
        Start::Sorted => {
            let mut sorted = db.to_vec();
            sorted.sort_by(|a, b| a.id().cmp(b.id()));
            Index::from_profiles(&sorted).unwrap()
        }
        Start::WithDeletedRows => {
            let mut index = Index::new();
            for (i, p) in db.iter().enumerate() {
                if i % 3 == 1 {
                    let mut ghost = p.clone();
                    ghost.set_lab(Some("GHOST-LAB".into()));
                    let tmp = ProfileId::new(&format!("GHOST{i}")).unwrap();
                    let ghost = with_id(&ghost, tmp.clone());
                    index.add(ghost).unwrap();
                    index.remove(&tmp);
                }
                index.add(p.clone()).unwrap();
            }
            index
        }
        Start::Opened => {
            let path = dir.join("start.tdx");
            Index::from_profiles(db).unwrap().write(&path).unwrap();
            Index::open(&path).unwrap()
        }
    }
}

fn arb_start() -> impl Strategy<Value = Start> {
    prop_oneof![
        Just(Start::Built),
        Just(Start::Sorted),
        Just(Start::WithDeletedRows),
        Just(Start::Opened)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn prop_merged_equals_rebuild(
        db in arb_profiles(0, 40),
        added in arb_profiles(30, 15),
        removed in prop::collection::vec(0usize..50, 0..12),
        kind in arb_start(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let index = start(kind, &db, dir.path());
        let removed: Vec<ProfileId> =
            removed.iter().map(|i| ProfileId::new(&format!("P{i}")).unwrap()).collect();
        let mut expected: Vec<Profile> = db
            .iter()
            .filter(|p| !removed.contains(p.id()))
            .cloned()
            .chain(added.iter().cloned())
            .collect();
        expected.sort_by(|a, b| a.id().cmp(b.id()));
        let merged = index.merged(&removed, &added);
        match Index::from_profiles(&expected) {
            Ok(rebuilt) => {
                let merged = merged.unwrap();
                prop_assert_eq!(merged.len(), expected.len());
                prop_assert_eq!(
                    bytes_of(&merged, dir.path(), "merged.tdx"),
                    bytes_of(&rebuilt, dir.path(), "rebuilt.tdx")
                );
                for p in &expected {
                    let got = merged.get(p.id());
                    prop_assert_eq!(got.as_ref(), Some(p));
                }
                // merging nothing into the canonical form changes nothing
                let again = Index::open(&dir.path().join("merged.tdx")).unwrap().merged(&[], &[]).unwrap();
                prop_assert_eq!(
                    bytes_of(&again, dir.path(), "again.tdx"),
                    bytes_of(&rebuilt, dir.path(), "rebuilt.tdx")
                );
            }
            Err(e) => {
                // an added id still live: the same error as the rebuild
                prop_assert!(matches!(e, IndexError::DuplicateId(_)), "{e}");
                prop_assert_eq!(merged.unwrap_err(), e);
            }
        }
    }

    #[test]
    fn prop_gather_equals_rebuild_of_rows(
        a in arb_profiles(0, 30),
        b in arb_profiles(100, 30),
        picks in prop::collection::vec((any::<bool>(), any::<prop::sample::Index>()), 0..40),
    ) {
        // rows of two indexes in any order, with new ids, a country and renamed kits
        let dir = tempfile::tempdir().unwrap();
        let ia = Index::from_profiles(&a).unwrap();
        let ib = start(Start::Opened, &b, dir.path());
        let sv: tandem_core::Country = "SV".parse().unwrap();
        let upper = |k: &str| k.to_uppercase();
        let sources = [
            GatherSource::new(&ia),
            GatherSource { index: &ib, country: Some(sv), kit: Some(&upper) },
        ];
        let mut rows = Vec::new();
        let mut expected = Vec::new();
        let mut used = std::collections::HashSet::new();
        for (from_b, i) in picks {
            let (src, list) = if from_b { (1, &b) } else { (0, &a) };
            if list.is_empty() {
                continue;
            }
            let row = i.index(list.len()) as u32;
            if !used.insert((src, row)) {
                continue;
            }
            let id = ProfileId::new(&format!("NEW-{}", rows.len())).unwrap();
            let mut p = with_id(&list[row as usize], id.clone());
            if from_b {
                p.set_country(Some(sv));
                p.set_kit(p.kit().map(upper));
            }
            rows.push(GatherRow { source: src, row, id: Some(id) });
            expected.push(p);
        }
        let gathered = Index::gather(&sources, &rows).unwrap();
        let rebuilt = Index::from_profiles(&expected).unwrap();
        prop_assert_eq!(
            bytes_of(&gathered, dir.path(), "g.tdx"),
            bytes_of(&rebuilt, dir.path(), "r.tdx")
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]

    /// `same_rows` says exactly whether gathering the source row would give the target row.
    #[test]
    fn prop_same_rows_equals_decoded_comparison(
        a in arb_profiles(0, 30),
        b in arb_profiles(100, 30),
        picks in prop::collection::vec(
            (any::<prop::sample::Index>(), any::<prop::sample::Index>(), 0usize..4), 0..40),
        rewrite in any::<bool>(),
        opened in any::<bool>(),
    ) {
        prop_assume!(!a.is_empty());
        let dir = tempfile::tempdir().unwrap();
        let source = if opened { start(Start::Opened, &a, dir.path()) } else { Index::from_profiles(&a).unwrap() };
        let sv: tandem_core::Country = "SV".parse().unwrap();
        let upper = |k: &str| k.to_uppercase();
        let gs = if rewrite {
            GatherSource { index: &source, country: Some(sv), kit: Some(&upper) }
        } else {
            GatherSource::new(&source)
        };
        let gathered = |p: &Profile, id: ProfileId| {
            let mut q = with_id(p, id);
            if rewrite {
                q.set_country(Some(sv));
                q.set_kit(p.kit().map(upper));
            }
            q
        };
        let mut pairs = Vec::new();
        let mut targets = Vec::new();
        for (k, (i, j, how)) in picks.iter().enumerate() {
            let i = i.index(a.len());
            let id = ProfileId::new(&format!("T{k}")).unwrap();
            let mut t = gathered(&a[i], id.clone());
            match how {
                0 => {} // an exact copy
                1 if !b.is_empty() => t = with_id(&b[j.index(b.len())], id), // another profile
                2 => t.set_partial(!t.is_partial()),
                _ => {
                    // one locus changed or dropped
                    let loci: Vec<Locus> = t.genotypes().map(|(l, _)| l).collect();
                    let l = loci[j.index(loci.len())];
                    if loci.len() > 1 {
                        t.remove_locus(l);
                    } else {
                        t.set_genotype(l, Genotype::single(Allele::Repeat(137)));
                    }
                }
            }
            pairs.push((i as u32, k as u32));
            targets.push(t);
        }
        let target = Index::from_profiles(&targets).unwrap();
        let same = target.same_rows(&gs, &pairs);
        for (k, &(i, _)) in pairs.iter().enumerate() {
            let expected = gathered(&a[i as usize], targets[k].id().clone()) == targets[k];
            prop_assert_eq!(same[k], expected, "pair {} ({} vs {:?})", k, a[i as usize].id(), targets[k]);
        }
    }
}

#[test]
fn test_merged_with_codebook_overflow() {
    // 300 distinct alleles at one locus: more than the 253 codes, so the side table holds the
    // rest; removals and additions move the boundary
    let d8 = Locus::lookup("D8S1179").unwrap();
    let th01 = Locus::lookup("TH01").unwrap();
    let profile = |i: usize| {
        Profile::new(ProfileId::new(&format!("S{:03}", (i * 7919) % 1000)).unwrap())
            .with(
                d8,
                Genotype::new(&[
                    Allele::Repeat(10 + i as u16),
                    Allele::Repeat(5000 - i as u16),
                ])
                .unwrap(),
            )
            .with(
                th01,
                Genotype::single(Allele::Repeat(60 + (i % 5) as u16 * 10)),
            )
    };
    let db: Vec<Profile> = (0..300).map(profile).collect();
    let added: Vec<Profile> = (300..340).map(profile).collect();
    let removed: Vec<ProfileId> = db.iter().step_by(4).map(|p| p.id().clone()).collect();
    let dir = tempfile::tempdir().unwrap();
    for kind in [Start::Built, Start::Opened] {
        let index = start(kind, &db, dir.path());
        let merged = index.merged(&removed, &added).unwrap();
        let mut expected: Vec<Profile> = db
            .iter()
            .filter(|p| !removed.contains(p.id()))
            .chain(&added)
            .cloned()
            .collect();
        expected.sort_by(|a, b| a.id().cmp(b.id()));
        let rebuilt = Index::from_profiles(&expected).unwrap();
        assert_eq!(
            bytes_of(&merged, dir.path(), "m.tdx"),
            bytes_of(&rebuilt, dir.path(), "r.tdx")
        );
    }
}

#[test]
fn test_merged_with_long_runs() {
    // thousands of rows, so that long runs of unchanged rows are copied as they are; added
    // profiles bring new alleles early in id order (every later code is renumbered) or late
    let loci: Vec<Locus> = ["D3S1358", "vWA", "FGA", "D8S1179", "TH01", "AMEL"]
        .iter()
        .map(|l| Locus::lookup(l).unwrap())
        .collect();
    let profile = |i: usize, extra: u16| {
        let mut p = Profile::new(ProfileId::new(&format!("R{i:05}")).unwrap());
        let mut x = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        for &l in &loci {
            x ^= x >> 29;
            x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
            let g = if l.is_amelogenin() {
                Genotype::new(&[Allele::X, if x & 1 == 0 { Allele::X } else { Allele::Y }])
            } else if x.is_multiple_of(97) {
                Genotype::new(&[Allele::Repeat(100), Allele::Wildcard])
            } else {
                let a = 60 + (x >> 8) as u16 % 12 * 10 + extra;
                let b = 60 + (x >> 16) as u16 % 12 * 10 + extra;
                Genotype::new(&[Allele::Repeat(a), Allele::Repeat(b)])
            };
            p.set_genotype(l, g.unwrap());
        }
        p
    };
    let db: Vec<Profile> = (0..3000).map(|i| profile(2 * i, 0)).collect();
    let dir = tempfile::tempdir().unwrap();
    for (early, kind) in [
        (true, Start::Opened),
        (false, Start::Opened),
        (true, Start::Sorted),
    ] {
        let index = start(kind, &db, dir.path());
        let at = if early { 1 } else { 5001 };
        let added: Vec<Profile> = (0..20).map(|k| profile(at + 2 * k, 3)).collect();
        let removed: Vec<ProfileId> = db.iter().step_by(500).map(|p| p.id().clone()).collect();
        let merged = index.merged(&removed, &added).unwrap();
        let mut expected: Vec<Profile> = db
            .iter()
            .filter(|p| !removed.contains(p.id()))
            .chain(&added)
            .cloned()
            .collect();
        expected.sort_by(|a, b| a.id().cmp(b.id()));
        let rebuilt = Index::from_profiles(&expected).unwrap();
        assert_eq!(
            bytes_of(&merged, dir.path(), "m.tdx"),
            bytes_of(&rebuilt, dir.path(), "r.tdx"),
            "early {early}, {kind:?}"
        );
    }
}

#[test]
fn test_gather_errors() {
    let d8 = Locus::lookup("D8S1179").unwrap();
    let p = |id: &str| {
        Profile::new(ProfileId::new(id).unwrap()).with(d8, Genotype::parse_at(d8, "13,14").unwrap())
    };
    let mut index = Index::from_profiles(&[p("A"), p("B")]).unwrap();
    index.remove(&ProfileId::new("B").unwrap());
    let src = [GatherSource::new(&index)];
    assert_eq!(
        Index::gather(&src, &[GatherRow::new(0, 1)]).unwrap_err(),
        IndexError::NoSuchRow { index: 0, row: 1 }
    );
    assert_eq!(
        Index::gather(&src, &[GatherRow::new(1, 0)]).unwrap_err(),
        IndexError::NoSuchRow { index: 1, row: 0 }
    );
    assert!(matches!(
        Index::gather(&src, &[GatherRow::new(0, 0), GatherRow::new(0, 0)]),
        Err(IndexError::DuplicateId(_))
    ));
    let empty = Index::gather(&src, &[]).unwrap();
    assert!(empty.is_empty());
}
