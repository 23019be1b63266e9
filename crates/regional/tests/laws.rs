//! Property tests for the merge laws: order-independent (byte-identical), idempotent, an
//! incremental update equal to a full rebuild (after additions, removals and changed profiles, a
//! changed policy, an expungement), both equal to the readable reference `derive`, expungement
//! propagating, national ids never in the regional file, and the resolver inverting references.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use tandem_core::{Country, Genotype, Index, Kit, Locus, Profile, ProfileId, SpecimenCategory};
use tandem_regional::merge::{CountryReport, MergeReport, derive, expunged_references};
use tandem_regional::{MergeError, MergeOptions, National, Policy, resolve};

/// [`tandem_regional::merge`] allowing an empty result: the laws hold for a nightly delta that
/// removes every profile too (the refusal of an empty result is tested on its own).
fn merge(out: &Path, nationals: &[National], policy: &Policy) -> Result<MergeReport, MergeError> {
    let mut options = MergeOptions::default();
    options.update.allow_empty = true;
    tandem_regional::merge_with(out, nationals, policy, &options, &mut |_| {})
}

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

/// The bytes of an index file with its ledger head (and the header checksum over it) zeroed:
/// two merges of the same inputs hold the same profiles byte for byte, but each file records
/// the ledger record it was written after.
fn content(path: &Path) -> Vec<u8> {
    let mut b = std::fs::read(path).unwrap();
    b[36..64].fill(0);
    b
}

fn countries() -> [&'static str; 3] {
    ["GT", "SV", "HN"]
}

/// Policies the tests switch between.
fn policy(i: usize) -> Policy {
    let text = [
        "",
        "[default]\nmin_loci = 7\n[HN]\nwithhold = [\"Juvenile\"]\n",
        "[GT]\ncategories = [\"Convicted Offender\", \"Missing Person\"]\nmixtures = false\n[SV]\nmin_loci = 9\npanel = \"CODIS 13\"\n",
    ][i];
    Policy::parse(text, "p").unwrap()
}

/// What a report counts (`changed` and `reused` tell how the file was made, not what it holds).
fn counts(r: &MergeReport) -> (Vec<CountryReport>, usize, usize, usize) {
    (
        r.countries.clone(),
        r.regional_profiles,
        r.duplicate_groups,
        r.cross_border_duplicate_groups,
    )
}

/// The regional file and report the readable reference gives for the same inputs.
fn reference(
    nationals: &[National],
    policy: &Policy,
    expunged: &BTreeSet<ProfileId>,
    dir: &Path,
) -> (Vec<u8>, MergeReport) {
    let derived = derive(nationals, policy, expunged).unwrap();
    let path = dir.join("reference.tdx");
    Index::from_profiles(&derived.profiles)
        .unwrap()
        .write(&path)
        .unwrap();
    (content(&path), derived.report)
}

/// A nightly delta of a national index: removals, additions, and profiles changed under the
/// same specimen id (new genotypes, another category).
fn apply_delta(
    national: &National,
    removed: &[prop::sample::Index],
    changed: &[(prop::sample::Index, Spec)],
    added: &[Spec],
) -> Vec<ProfileId> {
    let cc = national.country.as_str();
    let mut index = Index::open(&national.path).unwrap();
    let ids: Vec<ProfileId> = index.profiles().map(|p| p.id().clone()).collect();
    let mut gone = Vec::new();
    if !ids.is_empty() {
        for r in removed {
            let id = &ids[r.index(ids.len())];
            if index.remove(id).is_some() {
                gone.push(id.clone());
            }
        }
        for (r, spec) in changed {
            let id = &ids[r.index(ids.len())];
            if !gone.contains(id) {
                let number: usize = id.as_str().rsplit('-').next().unwrap().parse().unwrap();
                index.upsert(profile(cc, number, spec)).unwrap();
            }
        }
    }
    for (i, s) in added.iter().enumerate() {
        index.add(profile(cc, 1000 + i, s)).unwrap();
    }
    index.write(&national.path).unwrap();
    gone
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

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
        prop_assert_eq!(content(&out1), content(&out2));
        prop_assert_eq!(&r1.countries, &r2.countries);
        // idempotent: merging again changes nothing, and leaves the file alone
        let again = merge(&out1, &nat, &policy).unwrap();
        prop_assert!(!again.changed);
        prop_assert_eq!(content(&out1), content(&out2));
        // no national specimen id in the regional file
        let bytes = std::fs::read(&out1).unwrap();
        for cc in countries() {
            let needle = format!("{cc}-NAT-");
            prop_assert!(!bytes.windows(needle.len()).any(|w| w == needle.as_bytes()));
        }
    }

    #[test]
    fn update_equals_full_rebuild(
        a in specs(12), b in specs(12), c in specs(8), added in specs(6),
        removed in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        changed in prop::collection::vec((any::<prop::sample::Index>(), (0..CATEGORIES.len(), prop::collection::vec((8u8..12, 8u8..12), 6..=10))), 0..4),
        p in 0usize..3,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let nat: Vec<National> = countries()
            .iter()
            .zip([&a, &b, &c])
            .map(|(cc, s)| write_national(dir.path(), cc, s))
            .collect();
        let policy = policy(p);
        let out = dir.path().join("region.tdx");
        merge(&out, &nat, &policy).unwrap();
        // the nightly delta of GT: removals, changed profiles, additions
        let gone = apply_delta(&nat[0], &removed, &changed, &added);
        let update = merge(&out, &[nat[1].clone(), nat[0].clone(), nat[2].clone()], &policy).unwrap();
        let fresh_path = dir.path().join("fresh.tdx");
        let fresh = merge(&fresh_path, &nat, &policy).unwrap();
        let bytes = content(&out);
        prop_assert_eq!(&bytes, &content(&fresh_path));
        prop_assert_eq!(counts(&update), counts(&fresh));
        prop_assert_eq!(fresh.reused, 0);
        // the update copied SV's and HN's rows (unchanged) from the regional file
        let untouched: usize = update
            .countries
            .iter()
            .filter(|c| c.country != nat[0].country)
            .map(|c| c.total.shared)
            .sum();
        prop_assert!(update.reused >= untouched, "{} < {}", update.reused, untouched);
        // both equal the readable reference
        let (expected, report) = reference(&nat, &policy, &BTreeSet::new(), dir.path());
        prop_assert_eq!(&bytes, &expected);
        prop_assert_eq!(counts(&update), counts(&report));
        prop_assert_eq!(update.regional_profiles, Index::open(&out).unwrap().len());
        // removed specimens are gone: their references resolve to nothing, none is in the file
        let key = tandem_regional::CountryKey::load(&nat[0].path).unwrap();
        let regional = Index::open(&out).unwrap();
        for id in &gone {
            prop_assert!(!regional.contains(&key.reference(nat[0].country, id)));
        }
        // and an update of an unchanged input changes nothing
        let again = merge(&out, &nat, &policy).unwrap();
        prop_assert!(!again.changed);
        prop_assert_eq!(again.reused, again.regional_profiles);
    }

    #[test]
    fn update_with_another_policy_equals_full_rebuild(
        a in specs(12), b in specs(12), c in specs(8), before in 0usize..3, after in 0usize..3,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let nat: Vec<National> = countries()
            .iter()
            .zip([&a, &b, &c])
            .map(|(cc, s)| write_national(dir.path(), cc, s))
            .collect();
        let out = dir.path().join("region.tdx");
        merge(&out, &nat, &policy(before)).unwrap();
        let update = merge(&out, &nat, &policy(after)).unwrap();
        let fresh_path = dir.path().join("fresh.tdx");
        let fresh = merge(&fresh_path, &nat, &policy(after)).unwrap();
        prop_assert_eq!(content(&out), content(&fresh_path));
        prop_assert_eq!(counts(&update), counts(&fresh));
        if before == after {
            prop_assert!(!update.changed);
        }
    }

    #[test]
    fn expunged_references_stay_out_of_updates(
        a in specs(12), b in specs(8), added in specs(4), victims in prop::collection::vec(any::<prop::sample::Index>(), 1..3),
    ) {
        prop_assume!(!a.is_empty());
        let dir = tempfile::tempdir().unwrap();
        let nat: Vec<National> = countries()[..2]
            .iter()
            .zip([&a, &b])
            .map(|(cc, s)| write_national(dir.path(), cc, s))
            .collect();
        let policy = Policy::share_all();
        let out = dir.path().join("region.tdx");
        merge(&out, &nat, &policy).unwrap();
        let refs: Vec<ProfileId> = Index::open(&out).unwrap().profiles().map(|p| p.id().clone()).collect();
        let mut chosen: Vec<ProfileId> = victims.iter().map(|v| refs[v.index(refs.len())].clone()).collect();
        chosen.sort();
        chosen.dedup();
        tandem_regional::expunge(&out, &chosen, "court order", "admin").unwrap();
        // a nightly delta, then the update
        apply_delta(&nat[0], &[], &[], &added);
        let update = merge(&out, &nat, &policy).unwrap();
        let regional = Index::open(&out).unwrap();
        for v in &chosen {
            prop_assert!(!regional.contains(v));
        }
        let expunged = expunged_references(&out).unwrap();
        prop_assert_eq!(expunged.len(), chosen.len());
        let (expected, report) = reference(&nat, &policy, &expunged, dir.path());
        prop_assert_eq!(content(&out), expected);
        prop_assert_eq!(counts(&update), counts(&report));
        let withheld: usize = update.countries.iter().map(|c| c.total.withheld.values().sum::<usize>()).sum();
        prop_assert_eq!(withheld, chosen.len());
    }
}

#[test]
fn test_update_over_a_file_no_merge_wrote() {
    use tandem_core::index::update::{UpdateError, UpdateOptions};
    // a national index, or bytes that are no index at all, where the regional index should be:
    // the merge builds the regional index from the inputs alone
    let dir = tempfile::tempdir().unwrap();
    let s: Vec<Spec> = (0..6)
        .map(|i| (i % 3, vec![(8 + (i as u8 % 4), 11); 8]))
        .collect();
    let gt = write_national(dir.path(), "GT", &s);
    let fresh = dir.path().join("fresh.tdx");
    merge(&fresh, std::slice::from_ref(&gt), &Policy::share_all()).unwrap();
    let out = dir.path().join("r.tdx");
    // bytes that are no index are refused unless forced (an operator's typo in --out), and left
    std::fs::write(&out, b"not an index").unwrap();
    let refused = merge(&out, std::slice::from_ref(&gt), &Policy::share_all());
    assert!(
        matches!(
            refused,
            Err(tandem_regional::MergeError::Update(
                UpdateError::NotAnIndex { .. }
            ))
        ),
        "{refused:?}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"not an index");
    let force = tandem_regional::MergeOptions {
        update: UpdateOptions {
            force: true,
            ..UpdateOptions::default()
        },
        ..Default::default()
    };
    for junk in [std::fs::read(&gt.path).unwrap(), b"not an index".to_vec()] {
        std::fs::write(&out, junk).unwrap();
        let report = tandem_regional::merge_with(
            &out,
            std::slice::from_ref(&gt),
            &Policy::share_all(),
            &force,
            &mut |_| {},
        )
        .unwrap();
        assert!(report.changed);
        assert_eq!(report.reused, 0);
        assert_eq!(content(&out), content(&fresh));
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
    let log = std::fs::read_to_string(tandem_core::index::ledger::log_path(&out)).unwrap();
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
    let e = merge(
        &dir.path().join("new.tdx"),
        std::slice::from_ref(&gt),
        &panel,
    )
    .unwrap_err();
    assert!(e.to_string().contains("panel"), "{e}");
    assert!(!dir.path().join("new.tdx").exists());

    // a country the policy does not list as a participant, and a code that is no country
    let only_gt = Policy::parse("participants = [\"GT\", \"HN\"]\n", "p").unwrap();
    let e = merge(&out, &[gt.clone(), sv.clone()], &only_gt).unwrap_err();
    assert!(
        matches!(e, MergeError::NotParticipant { .. }) && e.to_string().contains("SV"),
        "{e}"
    );
    assert!(Policy::parse("participants = [\"GT\", \"XX\"]\n", "p").is_err());
    assert!(Policy::parse("[XX]\nmin_loci = 8\n", "p").is_err());

    // a country of the regional index left out is not dropped silently
    let e = merge(&out, std::slice::from_ref(&gt), &Policy::share_all()).unwrap_err();
    assert!(
        matches!(e, tandem_regional::MergeError::WouldDropCountry { .. }),
        "{e}"
    );

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
