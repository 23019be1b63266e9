//! Round trips: `read(write(x)) == x` for CMF (both releases) and for the table writers.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use proptest::prelude::*;
use tandem_cmf::read::read_all;
use tandem_cmf::table::{self, Layout};
use tandem_cmf::{
    CmfDateTime, CmfSpecimen, Header, LocusInfo, ReadOptions, Release, SourceId, WriteOptions,
    write,
};
use tandem_core::{Allele, Genotype, Locus, Profile, ProfileId, SpecimenCategory};

fn arb_allele() -> impl Strategy<Value = Allele> {
    prop_oneof![
        8 => (10u16..400).prop_map(Allele::Repeat),
        1 => (1u16..40).prop_map(Allele::AnyMicrovariant),
        1 => (10u16..400).prop_map(Allele::Below),
        1 => (10u16..400).prop_map(Allele::Above),
        1 => Just(Allele::OffLadder),
        1 => Just(Allele::Wildcard),
        1 => Just(Allele::Rare),
    ]
}

fn arb_genotype(amel: bool) -> BoxedStrategy<Genotype> {
    let alleles = if amel {
        prop::collection::vec(prop_oneof![Just(Allele::X), Just(Allele::Y)], 1..3).boxed()
    } else {
        prop::collection::vec(arb_allele(), 1..9).boxed()
    };
    (alleles, any::<Option<prop::sample::Index>>())
        .prop_map(|(a, req)| {
            let g = Genotype::new(&a).expect("1 to 8 alleles");
            match req {
                Some(i) => g
                    .with_required(g.alleles()[i.index(g.len())])
                    .expect("present"),
                None => g,
            }
        })
        .boxed()
}

fn arb_datetime() -> impl Strategy<Value = CmfDateTime> {
    (1901u16..2078, 1u8..13, 1u8..29, 0u8..24, 0u8..60, 0u8..60)
        .prop_map(|(y, mo, d, h, mi, s)| CmfDateTime::new(y, mo, d, h, mi, s).expect("valid"))
}

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::string::string_regex(&format!("[ -~\n\u{e9}\u{f1}]{{0,{max}}}")).expect("regex")
}

fn arb_info(release: Release) -> impl Strategy<Value = LocusInfo> {
    (
        prop::option::of(text(32)),
        prop::option::of(prop::sample::select(release.kits())),
        prop::string::string_regex("[A-Za-z0-9._<>&]{1,20}").expect("regex"),
        arb_datetime(),
    )
        .prop_map(|(batch_id, kit, reading_by, reading_datetime)| LocusInfo {
            batch_id,
            kit: kit.map(str::to_string),
            // the reader always fills the two readings (the writer defaults them from the header)
            reading_by: Some(reading_by),
            reading_datetime: Some(reading_datetime),
        })
}

/// A specimen writable in `release`: loci spelled as the release lists them.
fn arb_specimen(release: Release) -> impl Strategy<Value = CmfSpecimen> {
    let names = release.locus_names();
    let loci = prop::collection::vec((prop::sample::select(names), any::<bool>()), 1..20);
    let categories: Vec<SpecimenCategory> = SpecimenCategory::ALL
        .iter()
        .copied()
        .filter(|c| release.allows_category(*c))
        .collect();
    (
        "[A-Za-z0-9_-]{1,24}",
        prop::sample::select(categories),
        any::<bool>(),
        prop::option::of(prop_oneof![
            Just(SourceId::Yes),
            Just(SourceId::No),
            Just(SourceId::NotApplicable)
        ]),
        prop::option::of(text(32)),
        prop::option::of(text(255)),
        loci,
    )
        .prop_flat_map(
            move |(id, category, partial, source_id, case_id, comment, loci)| {
                // one entry per locus, keeping the first spelling drawn
                let mut seen: Vec<(Locus, &'static str, bool)> = Vec::new();
                for (name, with_info) in loci {
                    let l = Locus::lookup(name).expect("listed loci are known");
                    if !seen.iter().any(|(m, _, _)| *m == l) {
                        seen.push((l, name, with_info));
                    }
                }
                let genotypes: Vec<BoxedStrategy<Genotype>> = seen
                    .iter()
                    .map(|(l, _, _)| arb_genotype(l.is_amelogenin()))
                    .collect();
                let infos: Vec<_> = seen.iter().map(|_| arb_info(release)).collect();
                (
                    Just((
                        id.clone(),
                        category,
                        partial,
                        source_id,
                        case_id.clone(),
                        comment.clone(),
                        seen,
                    )),
                    genotypes,
                    infos,
                )
            },
        )
        .prop_map(
            |((id, category, partial, source_id, case_id, comment, seen), genotypes, infos)| {
                let mut p = Profile::new(ProfileId::new(&id).expect("valid id"))
                    .with_category(category)
                    .with_partial(partial);
                let mut loci = Vec::new();
                for (((l, name, with_info), g), info) in seen.into_iter().zip(genotypes).zip(infos)
                {
                    p.set_genotype(l, g);
                    p.set_spelling(l, name);
                    if with_info {
                        loci.push((l, info));
                    } else {
                        // the reader always fills READINGBY and READINGDATETIME
                        loci.push((
                            l,
                            LocusInfo {
                                reading_by: Some("tandem".into()),
                                reading_datetime: Some(
                                    CmfDateTime::new(2024, 1, 2, 3, 4, 5).expect("valid"),
                                ),
                                ..info
                            },
                        ));
                    }
                }
                CmfSpecimen {
                    profile: p,
                    source_id,
                    case_id,
                    comment,
                    loci,
                }
            },
        )
}

fn header() -> Header {
    let mut h = Header::new("GT0000001", "GTLAB", "tandem");
    h.submit_datetime = CmfDateTime::new(2024, 5, 2, 10, 0, 0).expect("valid");
    h.batch_id = Some("B-1".into());
    h
}

fn unique(specimens: Vec<CmfSpecimen>) -> Vec<CmfSpecimen> {
    let mut seen = std::collections::HashSet::new();
    specimens
        .into_iter()
        .filter(|s| seen.insert(s.profile.id().clone()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn prop_cmf_round_trip_3_2(specimens in prop::collection::vec(arb_specimen(Release::V3_2), 1..6)) {
        let specimens = unique(specimens);
        let opts = WriteOptions { release: Release::V3_2 };
        let bytes = write::write_all(Vec::new(), &header(), &specimens, opts).expect("writable");
        let read = read_all(&bytes[..], "p.xml", ReadOptions { release: Release::V3_2, ..ReadOptions::default() }, false)
            .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&bytes)));
        prop_assert_eq!(read.header, header());
        prop_assert_eq!(read.specimens, specimens);
    }

    #[test]
    fn prop_cmf_round_trip_later(specimens in prop::collection::vec(arb_specimen(Release::Later), 1..4)) {
        let specimens = unique(specimens);
        let bytes = write::write_all(Vec::new(), &header(), &specimens, WriteOptions { release: Release::Later }).expect("writable");
        let read = read_all(&bytes[..], "p.xml", ReadOptions::default(), false).expect("readable");
        prop_assert_eq!(read.specimens, specimens);
    }

    #[test]
    fn prop_long_table_round_trip(specimens in prop::collection::vec(arb_specimen(Release::Later), 1..6), tab in any::<bool>()) {
        let profiles: Vec<Profile> = unique(specimens).into_iter().map(|s| {
            // tables carry no required flags
            let mut p = s.profile.clone();
            let loci: Vec<(Locus, Genotype)> = p.genotypes().map(|(l, g)| (l, g.without_required())).collect();
            for (l, g) in loci { p.set_genotype(l, g); }
            p
        }).collect();
        let delimiter = if tab { b'\t' } else { b',' };
        let mut bytes = Vec::new();
        table::write_long(&mut bytes, &profiles, delimiter).expect("written");
        let read = table::read(&bytes[..], "p.csv", None, table::ReadOptions::default()).expect("readable");
        prop_assert!(read.rejected.is_empty(), "{:?}", read.rejected);
        prop_assert_eq!(read.profiles, profiles);
        let mut wide = Vec::new();
        table::write_wide(&mut wide, &read_back_plain(&bytes), delimiter).expect("written");
        let again = table::read(&wide[..], "w.csv", Some(Layout::Wide), table::ReadOptions::default()).expect("readable");
        // a wide column keeps a spelling only when every profile agrees on it (tandem-core)
        prop_assert_eq!(plain(&again.profiles), plain(&read_back_plain(&bytes)));
    }
}

fn plain(profiles: &[Profile]) -> Vec<String> {
    profiles
        .iter()
        .map(|p| {
            format!(
                "{} {:?} {} {:?}",
                p.id(),
                p.category(),
                p.is_partial(),
                p.genotypes().collect::<Vec<_>>()
            )
        })
        .collect()
}

fn read_back_plain(long: &[u8]) -> Vec<Profile> {
    table::read(long, "p.csv", None, table::ReadOptions::default())
        .expect("readable")
        .profiles
}

#[test]
fn test_codis_export_round_trip() {
    let text = "specimenId,D3S1358_1,D3S1358_2,D3S1358_3,D3S1358_4,VWA_1,VWA_2,VWA_3,VWA_4\n\
                S1,15,16,NULL,NULL,17,NULL,NULL,NULL\n\
                S2,14,15,16,17,NULL,NULL,NULL,NULL\n";
    let read = table::read(
        text.as_bytes(),
        "x.csv",
        None,
        table::ReadOptions::default(),
    )
    .unwrap();
    assert!(read.rejected.is_empty());
    assert_eq!(read.profiles.len(), 2);
    assert_eq!(
        tandem_cmf::table::detect_layout(text.as_bytes(), "x").unwrap(),
        Layout::CodisExport
    );
    let mut out = Vec::new();
    table::write_codis_export(&mut out, &read.profiles).unwrap();
    let written = String::from_utf8(out.clone()).unwrap();
    assert!(
        written.starts_with("specimenId,vWA_1,vWA_2,vWA_3,vWA_4,D3S1358_1"),
        "{written}"
    );
    assert!(
        written.contains("S2,NULL,NULL,NULL,NULL,14,15,16,17"),
        "{written}"
    );
    let again = table::read(&out[..], "y.csv", None, table::ReadOptions::default()).unwrap();
    let strip = |ps: &[Profile]| -> Vec<String> {
        ps.iter()
            .map(|p| {
                format!(
                    "{}:{:?}",
                    p.id(),
                    p.genotypes()
                        .map(|(l, g)| format!("{l}={g}"))
                        .collect::<Vec<_>>()
                )
            })
            .collect()
    };
    assert_eq!(strip(&again.profiles), strip(&read.profiles));
    // five alleles do not fit
    let five = Profile::new(ProfileId::new("M").unwrap()).with(
        Locus::lookup("vWA").unwrap(),
        Genotype::parse_at(Locus::lookup("vWA").unwrap(), "14,15,16,17,18").unwrap(),
    );
    let e = table::write_codis_export(Vec::new(), &[five]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "vWA of specimen M: 5 alleles; a CODIS export has 4 columns per locus"
    );
}
