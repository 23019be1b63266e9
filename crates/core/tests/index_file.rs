//! The on-disk index: round trips, searches equal to the in-memory index, and every kind of
//! damage detected without a panic.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::Path;

use proptest::prelude::*;
use tandem_core::index::file::{self, OpenError};
use tandem_core::search::plan::{Force, search_forced};
use tandem_core::simulate::{AllelePools, Simulator};
use tandem_core::table::{TableOptions, read_path};
use tandem_core::{
    Allele, Genotype, Index, Kit, Locus, Profile, ProfileId, SearchOptions, SpecimenCategory,
    Stringency,
};

fn nist() -> Vec<Profile> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/nist1036_genotypes_wide.csv"
    );
    read_path(Path::new(path), &TableOptions::default())
        .unwrap()
        .profiles
}

fn small_db() -> Vec<Profile> {
    let mut db: Vec<Profile> = nist().into_iter().take(40).collect();
    for p in &mut db {
        p.clear_spellings(); // the index keeps canonical locus names only
    }
    db[0].set_category(Some(SpecimenCategory::ConvictedOffender));
    db[1].set_lab(Some("INACIF".into()));
    db[2].set_partial(true);
    let d8 = Locus::lookup("D8S1179").unwrap();
    // a mixture, a wildcard and an off-ladder allele go to the side tables
    db[3].set_genotype(d8, Genotype::parse_at(d8, "10,12,13,14").unwrap());
    db[4].set_genotype(d8, Genotype::parse_at(d8, "13,F").unwrap());
    db[5].set_genotype(d8, Genotype::parse_at(d8, ">17").unwrap());
    db[6].set_genotype(
        d8,
        Genotype::new(&[Allele::Repeat(130), Allele::Repeat(140)])
            .unwrap()
            .with_required(Allele::Repeat(140))
            .unwrap(),
    );
    db
}

#[test]
fn test_write_open_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.tandem");
    let mut db = small_db();
    // provenance, as the regional index needs it
    db[7].set_country(Some("gt".parse().unwrap()));
    db[7].set_kit(Some("GlobalFiler".into()));
    db[7].set_date(Some(
        tandem_core::profile::parse_date("2026-11-28").unwrap(),
    ));
    db[8].set_country(Some("SV".parse().unwrap()));
    let index = Index::from_profiles(&db).unwrap();
    index.write(&path).unwrap();
    let opened = Index::open(&path).unwrap();
    assert_eq!(
        opened
            .get(db[7].id())
            .unwrap()
            .country()
            .map(|c| c.to_string()),
        Some("GT".to_string())
    );
    assert!(opened.is_mapped());
    assert!(!opened.has_postings());
    assert_eq!(opened.len(), db.len());
    for p in &db {
        assert_eq!(opened.get(p.id()).as_ref(), Some(p), "{}", p.id());
    }
    let verified = file::verify(&path).unwrap();
    assert_eq!(verified.len(), db.len());
    let info = file::info(&path).unwrap();
    assert_eq!(info.profiles, 40);
    assert_eq!(info.loci.len(), 29);
}

#[test]
fn test_deleted_profiles_leave_no_trace_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.tandem");
    let db = small_db();
    let mut index = Index::from_profiles(&db).unwrap();
    index.write(&path).unwrap();
    let mut opened = Index::open(&path).unwrap();
    let gone = db[3].id().clone();
    assert!(opened.remove(&gone).is_some());
    opened.write(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let needle = gone.as_str().as_bytes();
    assert!(
        !bytes.windows(needle.len()).any(|w| w == needle),
        "id still in the file"
    );
    let reopened = file::verify(&path).unwrap();
    assert_eq!(reopened.len(), db.len() - 1);
    assert!(reopened.get(&gone).is_none());
    // the mixture's side-table genotype is gone too: no 4-allele D8S1179 left
    let d8 = Locus::lookup("D8S1179").unwrap();
    assert!(
        reopened
            .profiles()
            .all(|p| p.genotype(d8).is_none_or(|g| g.len() <= 2))
    );
    index.remove(&gone);
    for p in index.profiles() {
        assert_eq!(reopened.get(p.id()), Some(p));
    }
}

#[test]
fn test_every_flipped_byte_is_detected_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.tandem");
    let db: Vec<Profile> = small_db().into_iter().take(6).collect();
    Index::from_profiles(&db).unwrap().write(&path).unwrap();
    let good = std::fs::read(&path).unwrap();
    let bad = dir.path().join("bad.tandem");
    let q = &db[0];
    for i in 0..good.len() {
        let mut b = good.clone();
        b[i] ^= 0x5a;
        std::fs::write(&bad, &b).unwrap();
        assert!(
            file::verify(&bad).is_err(),
            "flip at byte {i} of {} not detected",
            good.len()
        );
        // open may accept damage to a column it does not check; it must never panic, and
        // searching must not panic either
        if let Ok(idx) = Index::open(&bad) {
            let _ = idx.search(q, &SearchOptions::default());
        }
    }
}

#[test]
fn test_truncated_wrong_magic_and_newer_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.tandem");
    Index::from_profiles(&small_db())
        .unwrap()
        .write(&path)
        .unwrap();
    let good = std::fs::read(&path).unwrap();
    let bad = dir.path().join("bad.tandem");
    for cut in [0, 7, 8, 63, 64, 100, good.len() / 2, good.len() - 1] {
        std::fs::write(&bad, &good[..cut]).unwrap();
        let e = Index::open(&bad).unwrap_err();
        assert!(
            matches!(
                e,
                OpenError::BadMagic { .. } | OpenError::WrongLength { .. }
            ),
            "cut {cut}: {e}"
        );
    }
    let mut b = good.clone();
    b[0] = b'X';
    std::fs::write(&bad, &b).unwrap();
    assert!(matches!(
        Index::open(&bad).unwrap_err(),
        OpenError::BadMagic { .. }
    ));
    // a newer file: bump the version fields and re-seal the header checksum
    let mut b = good.clone();
    b[8..10].copy_from_slice(&3u16.to_le_bytes());
    b[10..12].copy_from_slice(&3u16.to_le_bytes());
    let crc = crc32c::crc32c(&b[..60]);
    b[60..64].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&bad, &b).unwrap();
    let e = Index::open(&bad).unwrap_err();
    assert!(
        matches!(e, OpenError::UnsupportedVersion { found: 3, .. }),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("index format v3 is not supported; this build reads v1..=v2")
    );
    // appended bytes
    let mut b = good;
    b.extend_from_slice(b"junk");
    std::fs::write(&bad, &b).unwrap();
    assert!(matches!(
        Index::open(&bad).unwrap_err(),
        OpenError::WrongLength { .. }
    ));
}

#[test]
fn test_format_v1_fixture_still_opens() {
    // testdata/index-v1.tandem was written by format version 1 from the first 40 NIST 1036
    // profiles plus the side-table cases of `small_db` (this build writes version 2: the file is
    // never regenerated).
    let fixture = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/index-v1.tandem"
    ));
    let index = file::verify(fixture).unwrap();
    let db = small_db();
    assert_eq!(index.len(), db.len());
    for p in &db {
        assert_eq!(index.get(p.id()).as_ref(), Some(p));
    }
}

#[test]
fn test_format_v2_fixture_still_opens() {
    // testdata/index-v2.tandem: the profiles of the v1 fixture written by format version 2 with
    // the ledger head (7, bytes 0x01..=0x10) in its header; regenerate only with a version bump.
    let fixture = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/index-v2.tandem"
    ));
    if std::env::var_os("TANDEM_WRITE_FIXTURE").is_some() {
        let v1 = Index::open(&fixture.with_file_name("index-v1.tandem")).unwrap();
        let mut bytes = Vec::new();
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join("v2.tandem");
        v1.write(&tmp).unwrap();
        bytes.extend(std::fs::read(&tmp).unwrap());
        bytes[36..44].copy_from_slice(&7u64.to_le_bytes());
        for (i, b) in bytes[44..60].iter_mut().enumerate() {
            *b = i as u8 + 1;
        }
        let crc = crc32c::crc32c(&bytes[..60]);
        bytes[60..64].copy_from_slice(&crc.to_le_bytes());
        std::fs::write(fixture, bytes).unwrap();
    }
    let index = file::verify(fixture).unwrap();
    assert_eq!(index.ledger_head().seq, 7);
    assert_eq!(index.ledger_head().hash[0], 1);
    assert_eq!(index.ledger_head().hash[15], 16);
    let db = small_db();
    assert_eq!(index.len(), db.len());
    for p in &db {
        assert_eq!(index.get(p.id()).as_ref(), Some(p));
    }
    // the version-1 fixture reads with the zero head
    let v1 = file::verify(&fixture.with_file_name("index-v1.tandem")).unwrap();
    assert_eq!(v1.ledger_head(), Default::default());
}

fn sim_db(n: usize, seed: u64) -> Vec<Profile> {
    let sim = Simulator::new(AllelePools::from_profiles(&nist()), seed);
    sim.unrelated(n, &Kit::Identifiler.loci(), "S").unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn prop_opened_index_searches_like_memory(seed in 0u64..1000, n in 1usize..300, q in 0usize..300,
                                               stringency in 0usize..3, mm in 0usize..2, prum: bool) {
        let db = sim_db(n, seed);
        let index = Index::from_profiles(&db).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.tandem");
        index.write(&path).unwrap();
        let mut opened = Index::open(&path).unwrap();
        let opts = SearchOptions {
            stringency: [Stringency::High, Stringency::Moderate, Stringency::Low][stringency],
            max_mismatches: mm, min_loci: 8, prum, top: None,
        };
        let mut query = db[q % n].clone();
        query.remove_locus(Locus::lookup("TH01").unwrap());
        let query = tandem_core::simulate::renamed(&query, ProfileId::new("Q").unwrap());
        let expected = index.search(&query, &opts);
        prop_assert_eq!(&opened.search(&query, &opts), &expected);
        prop_assert_eq!(&search_forced(&opened, &query, &opts, Force::Scan), &expected);
        opened.build_postings();
        prop_assert_eq!(&opened.search(&query, &opts), &expected);
    }
}
