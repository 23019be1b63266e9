//! Property tests for the merge laws: order-independent (byte-identical), idempotent, an update
//! equal to a full rebuild, expungement propagating, national ids never in the regional file,
//! and the resolver inverting references.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use tandem_core::{Country, Genotype, Index, Kit, Locus, Profile, ProfileId, SpecimenCategory};
use tandem_regional::{National, Policy, merge, resolve};

const CATEGORIES: &[SpecimenCategory] = &[
    SpecimenCategory::ConvictedOffender,
    SpecimenCategory::ForensicUnknown,
    SpecimenCategory::MissingPerson,
    SpecimenCategory::Juvenile,
];

/// (category index, alleles per locus) for one specimen.
type Spec = (usize, Vec<(u8, u8)>);

fn specs(max: usize) -> impl Strategy<Value = Vec<Spec>> {
    prop::collection::vec(
        (
            0..CATEGORIES.len(),
            prop::collection::vec((8u8..12, 8u8..12), 6..=10),
        ),
        0..max,
    )
}

fn profile(cc: &str, i: usize, spec: &Spec) -> Profile {
    let loci = Kit::Codis13.loci();
    let mut p = Profile::new(ProfileId::new(&format!("{cc}-NAT-{i:05}")).unwrap())
        .with_category(CATEGORIES[spec.0]);
    for (l, (a, b)) in loci.iter().zip(&spec.1) {
        p.set_genotype(*l, Genotype::parse_at(*l, &format!("{a},{b}")).unwrap());
    }
    p.set_lab(Some(format!("LAB-{cc}")));
    p.set_kit(Some(
        if cc == "GT" {
            "Identifiler"
        } else {
            "GlobalFiler"
        }
        .into(),
    ));
    p
}

fn write_national(dir: &Path, cc: &str, specs: &[Spec]) -> National {
    let profiles: Vec<Profile> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| profile(cc, i, s))
        .collect();
    let path = dir.join(format!("{cc}.tdx"));
    Index::from_profiles(&profiles)
        .unwrap()
        .write(&path)
        .unwrap();
    National {
        country: cc.parse().unwrap(),
        path,
    }
}

fn countries() -> [&'static str; 3] {
    ["GT", "SV", "HN"]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn merge_is_commutative_and_idempotent(
        a in specs(12), b in specs(12), c in specs(12), rot in 0usize..3, policy in any::<bool>()
    ) {
        let dir = tempfile::tempdir().unwrap();
        let nat: Vec<National> = countries()
            .iter()
            .zip([&a, &b, &c])
            .map(|(cc, s)| write_national(dir.path(), cc, s))
            .collect();
        let policy = if policy {
            Policy::parse("[default]\nmin_loci = 7\n[HN]\nwithhold = [\"Juvenile\"]\n", "p").unwrap()
        } else {
            Policy::share_all()
        };
        let out1 = dir.path().join("r1.tdx");
        let out2 = dir.path().join("r2.tdx");
        let r1 = merge(&out1, &nat, &policy).unwrap();
        let mut rotated = nat.clone();
        rotated.rotate_left(rot);
        rotated.swap(0, 1);
        let r2 = merge(&out2, &rotated, &policy).unwrap();
        prop_assert_eq!(std::fs::read(&out1).unwrap(), std::fs::read(&out2).unwrap());
        prop_assert_eq!(&r1.countries, &r2.countries);
        // idempotent: merging again changes nothing, and leaves the file alone
        let again = merge(&out1, &nat, &policy).unwrap();
        prop_assert!(!again.changed);
        prop_assert_eq!(std::fs::read(&out1).unwrap(), std::fs::read(&out2).unwrap());
        // no national specimen id in the regional file
        let bytes = std::fs::read(&out1).unwrap();
        for cc in countries() {
            let needle = format!("{cc}-NAT-");
            prop_assert!(!bytes.windows(needle.len()).any(|w| w == needle.as_bytes()));
        }
    }

    #[test]
    fn update_equals_full_rebuild(
        a in specs(12), b in specs(12), added in specs(6), removed in prop::collection::vec(any::<prop::sample::Index>(), 0..4)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let gt = write_national(dir.path(), "GT", &a);
        let sv = write_national(dir.path(), "SV", &b);
        let out = dir.path().join("region.tdx");
        merge(&out, &[gt.clone(), sv.clone()], &Policy::share_all()).unwrap();
        // the nightly delta of GT: some removals, some additions
        let mut index = Index::open(&gt.path).unwrap();
        let ids: Vec<ProfileId> = index.profiles().map(|p| p.id().clone()).collect();
        let mut gone = Vec::new();
        if !ids.is_empty() {
            for r in &removed {
                let id = &ids[r.index(ids.len())];
                if index.remove(id).is_some() {
                    gone.push(id.clone());
                }
            }
        }
        for (i, s) in added.iter().enumerate() {
            index.add(profile("GT", 1000 + i, s)).unwrap();
        }
        index.write(&gt.path).unwrap();
        let update = merge(&out, &[sv.clone(), gt.clone()], &Policy::share_all()).unwrap();
        let fresh = dir.path().join("fresh.tdx");
        merge(&fresh, &[gt.clone(), sv.clone()], &Policy::share_all()).unwrap();
        prop_assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&fresh).unwrap());
        prop_assert_eq!(update.regional_profiles, Index::open(&out).unwrap().len());
        // removed specimens are gone: their references resolve to nothing, none is in the file
        let key = tandem_regional::CountryKey::load(&gt.path).unwrap();
        let regional = Index::open(&out).unwrap();
        for id in &gone {
            prop_assert!(!regional.contains(&key.reference(gt.country, id)));
        }
    }
}

#[test]
fn test_resolve_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let s: Vec<Spec> = (0..5)
        .map(|i| (i % 3, vec![(8 + (i as u8 % 4), 11); 8]))
        .collect();
    let gt = write_national(dir.path(), "GT", &s);
    let out = dir.path().join("r.tdx");
    merge(&out, std::slice::from_ref(&gt), &Policy::share_all()).unwrap();
    let refs: Vec<String> = Index::open(&out)
        .unwrap()
        .profiles()
        .map(|p| p.id().to_string())
        .collect();
    let resolved = resolve(&gt.path, gt.country, &refs).unwrap();
    let mut specimens: Vec<String> = resolved
        .iter()
        .map(|r| r.specimen.as_ref().unwrap().to_string())
        .collect();
    specimens.sort();
    assert_eq!(
        specimens,
        (0..5).map(|i| format!("GT-NAT-{i:05}")).collect::<Vec<_>>()
    );
    // a reference of another country is refused, a stranger's key resolves nothing
    let sv: Country = "SV".parse().unwrap();
    assert!(resolve(&gt.path, sv, &refs).is_err());
}

#[test]
fn test_expunge_is_kept_out_of_later_merges() {
    let dir = tempfile::tempdir().unwrap();
    let s: Vec<Spec> = (0..4).map(|i| (0, vec![(8 + i as u8, 11); 8])).collect();
    let gt = write_national(dir.path(), "GT", &s);
    let out = dir.path().join("r.tdx");
    merge(&out, std::slice::from_ref(&gt), &Policy::share_all()).unwrap();
    let victim = Index::open(&out)
        .unwrap()
        .profiles()
        .next()
        .unwrap()
        .id()
        .clone();
    assert_eq!(
        tandem_regional::expunge(&out, std::slice::from_ref(&victim), "court order", "admin")
            .unwrap(),
        3
    );
    let report = merge(&out, std::slice::from_ref(&gt), &Policy::share_all()).unwrap();
    assert!(!Index::open(&out).unwrap().contains(&victim));
    assert_eq!(
        report.countries[0].total.withheld.values().sum::<usize>(),
        1
    );
    let log = std::fs::read_to_string(tandem_core::index::audit::log_path(&out)).unwrap();
    assert!(log.contains(victim.as_str()) && !log.contains("GT-NAT-"));
}

fn corrupt(path: &PathBuf) {
    let mut bytes = std::fs::read(path).unwrap();
    let n = bytes.len();
    bytes[n - 3] ^= 0xff;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn test_bad_inputs_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s: Vec<Spec> = (0..4).map(|i| (0, vec![(8 + i as u8, 11); 8])).collect();
    let gt = write_national(dir.path(), "GT", &s);
    let sv = write_national(dir.path(), "SV", &s);
    let out = dir.path().join("r.tdx");
    merge(&out, &[gt.clone(), sv.clone()], &Policy::share_all()).unwrap();
    let before = std::fs::read(&out).unwrap();

    let twice = National {
        country: "GT".parse().unwrap(),
        path: sv.path.clone(),
    };
    let e = merge(&out, &[gt.clone(), twice], &Policy::share_all()).unwrap_err();
    assert!(e.to_string().contains("two national indexes for GT"), "{e}");

    corrupt(&sv.path);
    let e = merge(&out, &[gt.clone(), sv.clone()], &Policy::share_all()).unwrap_err();
    assert!(
        e.to_string()
            .contains("national index of SV fails verification"),
        "{e}"
    );

    let panel = Policy::parse("[GT]\nmin_loci = 1\npanel = [\"Penta E\"]\n", "p").unwrap();
    let e = merge(&out, std::slice::from_ref(&gt), &panel).unwrap_err();
    assert!(e.to_string().contains("panel"), "{e}");

    assert_eq!(std::fs::read(&out).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".merge-"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn test_no_common_loci_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mk = |cc: &str, locus: &str| {
        let l = Locus::lookup(locus).unwrap();
        let p = Profile::new(ProfileId::new(&format!("{cc}-1")).unwrap())
            .with(l, Genotype::parse_at(l, "10,11").unwrap());
        let path = dir.path().join(format!("{cc}.tdx"));
        Index::from_profiles(&[p]).unwrap().write(&path).unwrap();
        National {
            country: cc.parse().unwrap(),
            path,
        }
    };
    let e = merge(
        &dir.path().join("r.tdx"),
        &[mk("GT", "TH01"), mk("HN", "FGA")],
        &Policy::share_all(),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("no autosomal locus in common"),
        "{e}"
    );
    assert!(!dir.path().join("r.tdx").exists());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// The cross-border job equals a brute-force comparison of every pair from two countries
    /// with the engine's reference rules (`search::naive`).
    #[test]
    fn cross_border_hits_equal_brute_force(
        a in specs(10), b in specs(10), c in specs(10), min_loci in 4usize..8
    ) {
        let dir = tempfile::tempdir().unwrap();
        // near-duplicates across borders: copy some of GT's people into SV and HN
        let mut b = b;
        b.extend(a.iter().take(3).cloned());
        let mut c = c;
        c.extend(b.iter().rev().take(2).cloned());
        let nat: Vec<National> = countries()
            .iter()
            .zip([&a, &b, &c])
            .map(|(cc, s)| write_national(dir.path(), cc, s))
            .collect();
        let out = dir.path().join("r.tdx");
        merge(&out, &nat, &Policy::share_all()).unwrap();
        let index = Index::open(&out).unwrap();
        let opts = tandem_regional::HitOptions {
            search: tandem_core::SearchOptions { min_loci, ..Default::default() },
            same_country: false,
        };
        let fast: Vec<(String, String, usize)> = tandem_regional::cross_border_hits(&index, &opts, None)
            .into_iter()
            .map(|p| (p.a.reference.to_string(), p.b.reference.to_string(), p.loci_matched))
            .collect();
        let all: Vec<Profile> = index.profiles().collect();
        let mut slow = Vec::new();
        for (i, q) in all.iter().enumerate() {
            for c in &all[i + 1..] {
                if q.country() == c.country() {
                    continue;
                }
                let hits = tandem_core::search::naive::search(std::slice::from_ref(c), q, &opts.search);
                for h in hits {
                    let (x, y) = if q.id() < c.id() { (q.id(), c.id()) } else { (c.id(), q.id()) };
                    slow.push((x.to_string(), y.to_string(), h.loci_matched));
                }
            }
        }
        slow.sort();
        prop_assert_eq!(fast, slow);
    }
}
