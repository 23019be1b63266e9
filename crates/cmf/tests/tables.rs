//! Lab tables: GeneMapper ID-X tables, layout detection, BOM, quoting, strict and lenient.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use tandem_cmf::import::{self, Format, ImportError, ImportOptions};
use tandem_cmf::table::{self, Layout, TableReadError};
use tandem_core::Locus;

fn cell(p: &tandem_core::Profile, l: &str) -> Option<String> {
    p.genotype(Locus::lookup(l).unwrap())
        .map(ToString::to_string)
}

const GENEMAPPER: &str = "\u{feff}Sample File\tSample Name\tPanel\tMarker\tDye\tAllele 1\tAllele 2\tAllele 3\tSize 1\tSize 2\tHeight 1\tHeight 2\n\
    A01.fsa\tGT-001\tGlobalFiler_v2\tD3S1358\tB\t15\t16\t\t120.1\t124.2\t1500\t1400\n\
    A01.fsa\tGT-001\tGlobalFiler_v2\tvWA\tB\t17\t\t\t170.3\t\t2900\t\n\
    A01.fsa\tGT-001\tGlobalFiler_v2\tAMEL\tB\tX\tY\t\t\t\t\t\n\
    A01.fsa\tGT-001\tGlobalFiler_v2\tQS1\tB\tQ\t\t\t\t\t\t\n\
    A02.fsa\tGT-002\tGlobalFiler_v2\tTHO1\tG\t9.3\tOL\t\t\t\t\t\n\
    A02.fsa\tGT-002\tGlobalFiler_v2\tD3S1358\tG\t\t\t\t\t\t\t\n\
    A03.fsa\tLadder\tGlobalFiler_v2\tvWA\tG\t11\t12\t13\t\t\t\t\n\
    A01.fsa\tGT-001\tGlobalFiler_v2\tTPOX\tG\t8\t\t\t\t\t\t\n";

#[test]
fn test_read_genemapper_table() {
    assert_eq!(
        table::detect_layout(GENEMAPPER.as_bytes(), "gm.txt").unwrap(),
        Layout::GeneMapper
    );
    let t = table::read(
        GENEMAPPER.as_bytes(),
        "gm.txt",
        None,
        table::ReadOptions::default(),
    )
    .unwrap();
    assert!(t.rejected.is_empty(), "{:?}", t.rejected);
    assert_eq!(t.profiles.len(), 3);
    let a = &t.profiles[0];
    assert_eq!(a.id().as_str(), "GT-001");
    assert_eq!(cell(a, "D3S1358").as_deref(), Some("15,16"));
    assert_eq!(cell(a, "vWA").as_deref(), Some("17"));
    assert_eq!(cell(a, "AMEL").as_deref(), Some("X,Y"));
    assert_eq!(cell(a, "TPOX").as_deref(), Some("8"));
    assert_eq!(a.locus_count(), 4);
    let b = &t.profiles[1];
    assert_eq!(cell(b, "TH01").as_deref(), Some("9.3,OL"));
    assert_eq!(b.spelling(Locus::lookup("TH01").unwrap()), "THO1");
    assert_eq!(cell(b, "D3S1358"), None);
    assert_eq!(cell(&t.profiles[2], "vWA").as_deref(), Some("11,12,13"));
}

#[test]
fn test_genemapper_rejects_name_line_column_specimen_locus() {
    let text = "Sample Name,Marker,Allele 1,Allele 2\n\
                S1,D3S1358,15,16\n\
                S2,D3S1358,15,9..3\n\
                S2,vWA,17,18\n\
                S3,D8S1197,13,14\n\
                S4,vWA,17,\n\
                S4,VWA,18,\n\
                ,vWA,1,2\n";
    let t = table::read(
        text.as_bytes(),
        "gm.csv",
        None,
        table::ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(t.profiles.len(), 1);
    assert_eq!(t.rejected.len(), 4, "{:?}", t.rejected);
    assert!(t.rejected.contains(&"gm.csv, line 3, column 4: allele value '9..3' at D3S1358 of specimen S2: not a repeat number (microvariants have one digit after the point, e.g. 9.3)".to_string()), "{:?}", t.rejected);
    assert!(t.rejected.iter().any(|r| r.starts_with("gm.csv, line 5, column 2: marker of specimen S3: unknown locus 'D8S1197'; did you mean D8S1179")), "{:?}", t.rejected);
    assert!(
        t.rejected
            .iter()
            .any(|r| r
                .contains("line 7, column 2: marker VWA of specimen S4 already given on line 6")),
        "{:?}",
        t.rejected
    );
    assert!(
        t.rejected
            .iter()
            .any(|r| r.contains("line 8, column 1: invalid specimen id ''")),
        "{:?}",
        t.rejected
    );
    // strict import: nothing imported
    let e = import::import(text.as_bytes(), "gm.csv", None, ImportOptions::default()).unwrap_err();
    match &e {
        ImportError::Rejected { errors, .. } => assert_eq!(errors.len(), 4),
        other => panic!("{other}"),
    }
    assert!(
        e.to_string()
            .starts_with("gm.csv: 4 specimens rejected, nothing imported"),
        "{e}"
    );
    let lenient = ImportOptions {
        lenient: true,
        ..ImportOptions::default()
    };
    let i = import::import(text.as_bytes(), "gm.csv", None, lenient).unwrap();
    assert_eq!(i.specimens.len(), 1);
    assert_eq!(i.rejected.len(), 4);
}

#[test]
fn test_genemapper_missing_columns() {
    let e = table::read_genemapper(
        "Sample Name,Marker,Size 1\nS1,vWA,100\n".as_bytes(),
        "x",
        table::ReadOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            TableReadError::MissingColumn {
                column: "Allele 1",
                ..
            }
        ),
        "{e}"
    );
    let e = table::read_genemapper(
        "Marker,Allele 1\nvWA,17\n".as_bytes(),
        "x",
        table::ReadOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("no 'Sample Name' column"), "{e}");
    assert!(matches!(
        table::read_genemapper("".as_bytes(), "x", table::ReadOptions::default()),
        Err(TableReadError::NoHeader { .. })
    ));
}

#[test]
fn test_detect_formats() {
    let d = |s: &str| import::detect(s.as_bytes(), "f");
    assert_eq!(
        d("\u{feff}  <?xml version=\"1.0\"?><CODISImportFile/>").unwrap(),
        Format::Cmf
    );
    assert_eq!(
        d("id,D3S1358,vWA\nS1,15,17\n").unwrap(),
        Format::Table(Layout::Wide)
    );
    assert_eq!(
        d("sample\tPenta D_1\tPenta D_2\n").unwrap(),
        Format::Table(Layout::Wide)
    );
    assert_eq!(
        d("\n\nSample Name,Marker,Allele 1\n").unwrap(),
        Format::Table(Layout::GeneMapper)
    );
    assert_eq!(
        d("specimenId,FGA_1,FGA_2,FGA_3,FGA_4\n").unwrap(),
        Format::Table(Layout::CodisExport)
    );
    let e = d("name,age,city\nbob,3,x\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "f: cannot tell the format: it is not CMF XML (it does not start with '<') and the header line (name, age, city) has no locus column, and no 'Marker' with 'Allele 1' columns; name it with --from (cmf, csv, genemapper, codis-export)"
    );
    assert!(d("").unwrap_err().to_string().contains("the file is empty"));
    assert_eq!(
        "genemapper".parse::<Format>().unwrap(),
        Format::Table(Layout::GeneMapper)
    );
    assert_eq!(
        "TSV".parse::<Format>().unwrap(),
        Format::Table(Layout::Wide)
    );
    assert!("xls".parse::<Format>().is_err());
}

#[test]
fn test_wide_tables_through_core_strict_and_lenient() {
    let text = "id,D3S1358,vWA\nS1,\"15,16\",17\nS2,\"15,9..3\",17\nS3,14,\n";
    let e = import::import(text.as_bytes(), "w.csv", None, ImportOptions::default()).unwrap_err();
    assert!(
        e.to_string()
            .contains("w.csv, line 3, column 2: allele value '9..3' at D3S1358 of specimen S2"),
        "{e}"
    );
    let i = import::import(
        text.as_bytes(),
        "w.csv",
        None,
        ImportOptions {
            lenient: true,
            ..ImportOptions::default()
        },
    )
    .unwrap();
    assert_eq!(i.specimens.len(), 2);
    assert_eq!(i.rejected.len(), 1);
    assert!(!i.rejected[0].ends_with("row skipped"));
}

#[test]
fn test_import_cmf_example() {
    let path: std::path::PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "..",
        "testdata",
        "cmf",
        "cmf-3.2-example.xml",
    ]
    .iter()
    .collect();
    let i = import::import_path(&path, None, ImportOptions::default()).unwrap();
    assert_eq!(i.format, Format::Cmf);
    assert_eq!(i.specimens.len(), 2);
    assert!(i.header.is_some());
}

#[test]
fn test_arbitrary_bytes_never_panic() {
    let samples: [&[u8]; 8] = [
        b"\"",
        b"Sample Name,Marker,Allele 1\n\"S1,vWA,17\n",
        b"\xef\xbb",
        b"Sample Name\tMarker\tAllele 1\n\t\t\n",
        b"Sample Name,Marker,Allele 9,Allele 1\nS,AMEL,1,2\nS,AMEL,X\n",
        b"<",
        b"<CODISImportFile xmlns=\"urn:CODISImportFile-schema\"><HEADERVERSION>3.2",
        b"specimenId,vWA_1\n\xff,1\n",
    ];
    for s in samples {
        for lenient in [false, true] {
            let _ = import::import(
                s,
                "fuzz",
                None,
                ImportOptions {
                    lenient,
                    ..ImportOptions::default()
                },
            );
        }
    }
}
