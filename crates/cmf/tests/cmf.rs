//! CMF reading and writing: the specification's example, schema validation of what Tandem
//! writes (xmllint), and one negative test per rule of the specification.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use tandem_cmf::read::read_all;
use tandem_cmf::{
    CmfReader, CmfSpecimen, Header, Problem, ReadError, ReadOptions, Release, SourceId,
    WriteOptions, write,
};
use tandem_core::{Allele, Locus, SpecimenCategory};

fn testdata(name: &str) -> PathBuf {
    [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "..",
        "testdata",
        "cmf",
        name,
    ]
    .iter()
    .collect()
}

fn locus(name: &str) -> Locus {
    Locus::lookup(name).unwrap()
}

fn read_example() -> tandem_cmf::read::CmfFile {
    tandem_cmf::read::read_path(
        &testdata("cmf-3.2-example.xml"),
        ReadOptions {
            release: Release::V3_2,
            ..ReadOptions::default()
        },
        false,
    )
    .unwrap()
}

#[test]
fn test_example_reads_into_its_specimens() {
    let f = read_example();
    let h = &f.header;
    assert_eq!(h.version, "3.2");
    assert_eq!(h.destination_ori, "IADCI0000");
    assert_eq!(h.source_lab, "IADCI0000");
    assert_eq!(h.submit_by, "KEllis");
    assert_eq!(h.submit_datetime.to_string(), "2002-02-14T21:51:44");
    assert_eq!(h.batch_id.as_deref(), Some("GEL2004_10_04_101"));
    assert_eq!(h.kit.as_deref(), Some("PowerPlex 16"));
    assert_eq!(f.specimens.len(), 2);

    let a = &f.specimens[0];
    assert_eq!(a.profile.id().as_str(), "IMP_0001A");
    assert_eq!(
        a.profile.category(),
        Some(SpecimenCategory::ForensicUnknown)
    );
    assert!(a.profile.is_partial());
    assert_eq!(a.source_id, Some(SourceId::Yes));
    assert_eq!(a.case_id.as_deref(), Some("FL2004_10_04_ABC"));
    assert_eq!(
        a.comment.as_deref(),
        Some("Off-ladder allele value observed for FGA.")
    );
    assert_eq!(a.profile.locus_count(), 13);
    let csf = a.profile.genotype(locus("CSF1PO")).unwrap();
    assert_eq!(csf.to_string(), "10,11");
    assert_eq!(csf.required(), Some(Allele::Repeat(100)));
    assert_eq!(
        a.profile.genotype(locus("D13S317")).unwrap().required(),
        Some(Allele::Repeat(90))
    );
    assert_eq!(
        a.profile.genotype(locus("D21S11")).unwrap().required(),
        Some(Allele::Repeat(290))
    );
    let info = a.locus_info(locus("D13S317")).unwrap();
    assert_eq!(info.batch_id.as_deref(), Some("GEL2004_10_05_67"));
    assert_eq!(info.kit.as_deref(), Some("PowerPlex 1.2"));
    assert_eq!(info.reading_by.as_deref(), Some("KELLIS"));
    assert_eq!(
        info.reading_datetime.unwrap().to_string(),
        "2002-02-13T21:50:42"
    );
    assert_eq!(a.loci.len(), 13);
    assert_eq!(a.loci[0].0, locus("CSF1PO"));
    assert_eq!(a.loci[12].0, locus("vWA"));

    let b = &f.specimens[1];
    assert_eq!(b.profile.id().as_str(), "IMP_0001B");
    assert_eq!(b.source_id, Some(SourceId::No));
    assert_eq!(b.profile.locus_count(), 16);
    assert!(
        b.comment
            .as_deref()
            .unwrap()
            .contains("not called due to\nminumum peak threshold.")
    );
    let cell = |l: &str| b.profile.genotype(locus(l)).unwrap().to_string();
    assert_eq!(cell("CSF1PO"), "<6,8.2");
    assert_eq!(
        b.profile.genotype(locus("CSF1PO")).unwrap().required(),
        Some(Allele::Below(60))
    );
    assert_eq!(cell("D13S317"), "13,>15");
    assert_eq!(cell("D16S539"), "6,7,13.1,14.2");
    assert_eq!(cell("D18S51"), "11");
    assert_eq!(cell("D21S11"), "<25,28,29");
    assert_eq!(cell("AMEL"), "X,Y");
    assert_eq!(b.profile.spelling(locus("AMEL")), "Amelogenin");
    assert_eq!(cell("Penta D"), "7.3,>17");
    assert_eq!(cell("Penta E"), "15,16");
    assert_eq!(
        b.locus_info(locus("D16S539"))
            .unwrap()
            .reading_by
            .as_deref(),
        Some("CLEE")
    );
    assert_eq!(
        b.locus_info(locus("FGA")).unwrap().kit.as_deref(),
        Some("PowerPlex 1.2")
    );
}

#[test]
fn test_example_with_bom_and_crlf() {
    let text = std::fs::read(testdata("cmf-3.2-example.xml")).unwrap();
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend(text.iter().flat_map(|&b| {
        if b == b'\n' {
            vec![b'\r', b'\n']
        } else {
            vec![b]
        }
    }));
    let f = read_all(&with_bom[..], "bom.xml", ReadOptions::default(), false).unwrap();
    assert_eq!(f.specimens.len(), 2);
    assert_eq!(f.specimens[0], read_example().specimens[0]);
}

fn xmllint() -> Option<PathBuf> {
    let out = Command::new("sh")
        .arg("-c")
        .arg("command -v xmllint")
        .output()
        .ok()?;
    let path = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!path.is_empty()).then(|| PathBuf::from(path))
}

/// Validates `xml` against a schema with xmllint; panics with its output when invalid. Skips
/// (with a note) when xmllint is not installed, except on CI, where `.ci/run` installs it.
fn validate(xml: &[u8], schema: &Path) {
    let Some(lint) = xmllint() else {
        assert!(std::env::var_os("CI").is_none(), "xmllint missing on CI");
        eprintln!("xmllint not installed: schema validation skipped");
        return;
    };
    let mut file = tempfile_in_target();
    file.1.write_all(xml).unwrap();
    drop(file.1);
    let out = Command::new(lint)
        .arg("--noout")
        .arg("--schema")
        .arg(schema)
        .arg(&file.0)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file.0);
    assert!(
        out.status.success(),
        "xmllint rejects the output:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn tempfile_in_target() -> (PathBuf, std::fs::File) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir();
    let path = dir.join(format!(
        "tandem-cmf-test-{}-{}.xml",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let f = std::fs::File::create(&path).unwrap();
    (path, f)
}

#[test]
fn test_example_validates_with_xmllint() {
    // the validator itself: the specification's example is valid, a broken copy is not
    let text = std::fs::read(testdata("cmf-3.2-example.xml")).unwrap();
    validate(&text, &testdata("cmf-3.2.xsd"));
    if xmllint().is_some() {
        let broken = String::from_utf8(text)
            .unwrap()
            .replace("<SOURCELAB>IADCI0000", "<SOURCELAB>IADCI0000000");
        let mut f = tempfile_in_target();
        f.1.write_all(broken.as_bytes()).unwrap();
        let out = Command::new(xmllint().unwrap())
            .args(["--noout", "--schema"])
            .arg(testdata("cmf-3.2.xsd"))
            .arg(&f.0)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&f.0);
        assert!(!out.status.success());
    }
}

#[test]
fn test_write_example_validates_and_reads_back() {
    let f = read_example();
    for (release, xsd) in [
        (Release::V3_2, "cmf-3.2.xsd"),
        (Release::Later, "cmf-2017.xsd"),
    ] {
        let bytes = write::write_all(
            Vec::new(),
            &f.header,
            &f.specimens,
            WriteOptions { release },
        )
        .unwrap();
        validate(&bytes, &testdata(xsd));
        let again = read_all(
            &bytes[..],
            "out.xml",
            ReadOptions {
                release,
                ..ReadOptions::default()
            },
            false,
        )
        .unwrap();
        assert_eq!(again.header, f.header);
        assert_eq!(again.specimens, f.specimens);
    }
}

#[test]
fn test_write_nist_profiles_validate_with_later_release() {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "..",
        "testdata",
        "nist1036_genotypes_wide.csv",
    ]
    .iter()
    .collect();
    let t =
        tandem_core::table::read_path(&path, &tandem_core::table::TableOptions::default()).unwrap();
    let header = Header::new("GT0000000", "GTINACIF", "tandem");
    let release = Release::Later;
    let specimens: Vec<CmfSpecimen> = t
        .profiles
        .iter()
        .take(50)
        .map(|p| {
            let mut p = p.clone();
            p.set_category(Some(SpecimenCategory::ConvictedOffender));
            // keep the loci the later schema lists
            let loci: Vec<Locus> = p.genotypes().map(|(l, _)| l).collect();
            for l in loci {
                if release.locus_spelling(l, p.spelling(l)).is_none() {
                    p.remove_locus(l);
                }
            }
            CmfSpecimen::new(p)
        })
        .collect();
    let bytes =
        write::write_all(Vec::new(), &header, &specimens, WriteOptions { release }).unwrap();
    validate(&bytes, &testdata("cmf-2017.xsd"));
    let again = read_all(&bytes[..], "nist.xml", ReadOptions::default(), false).unwrap();
    assert_eq!(again.specimens.len(), 50);
    for (a, b) in again.specimens.iter().zip(&specimens) {
        assert_eq!(a.profile, b.profile);
    }
    // CMF 3.2 has no D1S1656: refused with a message that says what to do
    let e = write::write_all(
        Vec::new(),
        &header,
        &specimens,
        WriteOptions {
            release: Release::V3_2,
        },
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("not a locus of CMF 3.2; write with the later release"),
        "{e}"
    );
}

// ---- negative tests: one per rule ----

const HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CODISImportFile xmlns=\"urn:CODISImportFile-schema\">\n<HEADERVERSION>3.2</HEADERVERSION>\n<MESSAGETYPE>Import</MESSAGETYPE>\n<DESTINATIONORI>GT0000001</DESTINATIONORI>\n<SOURCELAB>GTLAB01</SOURCELAB>\n<SUBMITBYUSERID>analyst</SUBMITBYUSERID>\n<SUBMITDATETIME>2024-05-02T10:00:00</SUBMITDATETIME>\n";

fn locus_xml(name: &str, alleles: &[&str]) -> String {
    let mut s = format!(
        "<LOCUS><LOCUSNAME>{name}</LOCUSNAME><READINGBY>a</READINGBY><READINGDATETIME>2024-05-01T09:00:00</READINGDATETIME>"
    );
    for a in alleles {
        s.push_str(&format!("<ALLELE><ALLELEVALUE>{a}</ALLELEVALUE></ALLELE>"));
    }
    s.push_str("</LOCUS>\n");
    s
}

fn specimen_xml(id: &str, loci: &str) -> String {
    format!(
        "<SPECIMEN>\n<SPECIMENID>{id}</SPECIMENID>\n<SPECIMENCATEGORY>Convicted Offender</SPECIMENCATEGORY>\n{loci}</SPECIMEN>\n"
    )
}

fn doc(body: &str) -> String {
    format!("{HEAD}{body}</CODISImportFile>\n")
}

fn good_specimen(id: &str) -> String {
    specimen_xml(id, &locus_xml("D3S1358", &["15", "16"]))
}

fn read_err(xml: &str) -> ReadError {
    match read_all(xml.as_bytes(), "t.xml", ReadOptions::default(), false) {
        Ok(f) => panic!("accepted: {f:?}\n{xml}"),
        Err(e) => e,
    }
}

fn problem(xml: &str) -> (Problem, String) {
    let e = read_err(xml);
    let msg = e.to_string();
    match e {
        ReadError::Invalid { problem, .. } => (problem, msg),
        other => panic!("not an Invalid error: {other}"),
    }
}

#[test]
fn test_good_document_reads() {
    let f = read_all(
        doc(&good_specimen("S1")).as_bytes(),
        "t.xml",
        ReadOptions::default(),
        false,
    )
    .unwrap();
    assert_eq!(f.specimens.len(), 1);
}

#[test]
fn test_error_names_line_column_path_specimen_locus() {
    let xml = doc(&specimen_xml(
        "IMP_0001A",
        &(locus_xml("vWA", &["17"]) + &locus_xml("D3S1358", &["15", "9..3"])),
    ));
    let msg = read_err(&xml).to_string();
    // line 13 holds the D3S1358 locus; `9..3` starts at its byte column
    let line = xml.lines().nth(12).unwrap();
    let column = line.find("9..3").unwrap() + 1;
    assert_eq!(
        msg,
        format!(
            "t.xml, line 13, column {column} (/CODISImportFile/SPECIMEN[1]/LOCUS[2]/ALLELE[2]/ALLELEVALUE): \
             allele value '9..3' at D3S1358 of specimen IMP_0001A: not a repeat number (microvariants have one digit after the point, e.g. 9.3)"
        )
    );
}

#[test]
fn test_header_rules() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "<HEADERVERSION>3.2</HEADERVERSION>",
            "<HEADERVERSION>3.25</HEADERVERSION>",
            "not a version number",
        ),
        (
            "<MESSAGETYPE>Import</MESSAGETYPE>",
            "<MESSAGETYPE>Export</MESSAGETYPE>",
            "expected 'Import'",
        ),
        (
            "<DESTINATIONORI>GT0000001</DESTINATIONORI>",
            "<DESTINATIONORI>GT000000123</DESTINATIONORI>",
            "longer than 10 characters (11)",
        ),
        (
            "<DESTINATIONORI>GT0000001</DESTINATIONORI>",
            "<DESTINATIONORI></DESTINATIONORI>",
            "DESTINATIONORI: empty",
        ),
        (
            "<SOURCELAB>GTLAB01</SOURCELAB>",
            "<SOURCELAB>GTLAB01GTLAB01</SOURCELAB>",
            "longer than 10",
        ),
        (
            "<SUBMITBYUSERID>analyst</SUBMITBYUSERID>",
            "<SUBMITBYUSERID>analyst_with_a_long_name</SUBMITBYUSERID>",
            "longer than 20",
        ),
        (
            "<SUBMITDATETIME>2024-05-02T10:00:00</SUBMITDATETIME>",
            "<SUBMITDATETIME>2024-05-02 10:00:00</SUBMITDATETIME>",
            "not of the form",
        ),
        (
            "<SUBMITDATETIME>2024-05-02T10:00:00</SUBMITDATETIME>",
            "<SUBMITDATETIME>2080-01-01T00:00:00</SUBMITDATETIME>",
            "outside the range",
        ),
        (
            "<MESSAGETYPE>Import</MESSAGETYPE>\n",
            "",
            "element <DESTINATIONORI>: expected <MESSAGETYPE>",
        ),
        ("xmlns=\"urn:CODISImportFile-schema\"", "", "namespace"),
        (
            "xmlns=\"urn:CODISImportFile-schema\"",
            "xmlns=\"urn:other\"",
            "namespace",
        ),
        (
            "<SUBMITDATETIME>",
            "<SUBMITDATETIME FOO=\"1\">",
            "attribute FOO: not an attribute",
        ),
    ];
    for (from, to, expect) in cases {
        let xml = doc(&good_specimen("S1")).replacen(from, to, 1);
        let msg = read_err(&xml).to_string();
        assert!(msg.contains(expect), "{to}: {msg}");
    }
    // optional BATCHID and KIT, in this order, with their limits
    let with = |extra: &str| doc(&(extra.to_string() + &good_specimen("S1")));
    assert!(
        read_all(
            with("<BATCHID>B1</BATCHID><KIT>Identifiler</KIT>").as_bytes(),
            "t",
            ReadOptions::default(),
            false
        )
        .is_ok()
    );
    assert!(
        read_err(&with("<KIT>Identifiler</KIT><BATCHID>B1</BATCHID>"))
            .to_string()
            .contains("expected <SPECIMEN>")
    );
    assert!(
        read_err(&with(&format!("<BATCHID>{}</BATCHID>", "B".repeat(33))))
            .to_string()
            .contains("longer than 32")
    );
    assert!(matches!(
        problem(&with("<KIT>SuperKit 9000</KIT>")).0,
        Problem::KitNotInRelease { .. }
    ));
    let v32 = ReadOptions {
        release: Release::V3_2,
        ..ReadOptions::default()
    };
    let e = read_all(with("<KIT>GlobalFiler</KIT>").as_bytes(), "t", v32, false).unwrap_err();
    assert!(e.to_string().contains("not a kit of CMF 3.2"), "{e}");
    // no specimen
    assert!(matches!(problem(&doc("")).0, Problem::NoSpecimen));
}

#[test]
fn test_specimen_rules() {
    let p = |body: &str| problem(&doc(body));
    // SPECIMENID: 1-24 characters, unique
    assert!(matches!(
        p(&good_specimen(&"X".repeat(25))).0,
        Problem::TooLong { max: 24, found: 25 }
    ));
    assert!(matches!(p(&good_specimen("")).0, Problem::Empty));
    let (pr, msg) = p(&(good_specimen("S1") + &good_specimen("S2") + &good_specimen("S1")));
    assert!(
        matches!(pr, Problem::DuplicateSpecimen { first_line: 10 }),
        "{msg}"
    );
    assert!(
        msg.contains("specimen id 'S1' of specimen S1: already used on line 10"),
        "{msg}"
    );
    // category: exact spelling, in the release's list, length
    let cat = |c: &str| good_specimen("S1").replace("Convicted Offender", c);
    let (pr, msg) = p(&cat("convicted offender"));
    assert!(
        matches!(
            pr,
            Problem::BadCategory {
                closest: Some("Convicted Offender")
            }
        ),
        "{msg}"
    );
    assert!(matches!(p(&cat("")).0, Problem::Empty));
    let v32 = ReadOptions {
        release: Release::V3_2,
        ..ReadOptions::default()
    };
    let e = read_all(
        doc(&cat("Multi-allelic Offender")).as_bytes(),
        "t",
        v32,
        false,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("longer than 21 characters (22)"),
        "{e}"
    );
    let e = read_all(doc(&cat("Forensic Partial")).as_bytes(), "t", v32, false).unwrap_err();
    assert!(
        e.to_string().contains("not a specimen category of CMF 3.2"),
        "{e}"
    );
    assert!(
        read_all(
            doc(&cat("Multi-allelic Offender")).as_bytes(),
            "t",
            ReadOptions::default(),
            false
        )
        .is_ok()
    );
    // attributes
    let attr = |a: &str| good_specimen("S1").replace("<SPECIMEN>", &format!("<SPECIMEN {a}>"));
    assert!(matches!(
        p(&attr("SOURCEID=\"yes\"")).0,
        Problem::BadSourceId
    ));
    assert!(matches!(
        p(&attr("PARTIAL=\"maybe\"")).0,
        Problem::BadBoolean
    ));
    assert!(matches!(
        p(&attr(&format!("CASEID=\"{}\"", "C".repeat(33)))).0,
        Problem::TooLong { max: 32, .. }
    ));
    assert!(matches!(
        p(&attr("COLOR=\"red\"")).0,
        Problem::UnknownAttribute
    ));
    // comment: at most 255 characters; order of elements
    let comment = |c: &str| {
        good_specimen("S1").replace(
            "</SPECIMENCATEGORY>\n",
            &format!("</SPECIMENCATEGORY>\n<SPECIMENCOMMENT>{c}</SPECIMENCOMMENT>"),
        )
    };
    assert!(
        read_all(
            doc(&comment(&"c".repeat(255))).as_bytes(),
            "t",
            ReadOptions::default(),
            false
        )
        .is_ok()
    );
    assert!(matches!(
        p(&comment(&"c".repeat(256))).0,
        Problem::TooLong {
            max: 255,
            found: 256
        }
    ));
    let swapped = specimen_xml("S1", &locus_xml("vWA", &["17"])).replace(
        "<SPECIMENID>S1</SPECIMENID>\n<SPECIMENCATEGORY>Convicted Offender</SPECIMENCATEGORY>",
        "<SPECIMENCATEGORY>Convicted Offender</SPECIMENCATEGORY><SPECIMENID>S1</SPECIMENID>",
    );
    assert!(p(&swapped).1.contains("expected <SPECIMENID>"));
    // 1 to 32 loci (3.2), 64 later
    assert!(matches!(p(&specimen_xml("S1", "")).0, Problem::NoLocus));
    let names: Vec<String> = (0..33).map(|i| format!("ZZL{i}")).collect();
    let many: String = names.iter().map(|n| locus_xml(n, &["10"])).collect();
    let custom = ReadOptions {
        allow_custom_loci: true,
        release: Release::V3_2,
    };
    let e = read_all(
        doc(&specimen_xml("S1", &many)).as_bytes(),
        "t",
        custom,
        false,
    )
    .unwrap_err();
    assert!(e.to_string().contains("more than 32 loci (CMF 3.2)"), "{e}");
    let later = ReadOptions {
        allow_custom_loci: true,
        release: Release::Later,
    };
    assert!(
        read_all(
            doc(&specimen_xml("S1", &many)).as_bytes(),
            "t",
            later,
            false
        )
        .is_ok()
    );
    // a locus given twice (UNIQUE_LOCI), also through an alias
    let twice = locus_xml("TH01", &["6"]) + &locus_xml("THO1", &["7"]);
    assert!(matches!(
        p(&specimen_xml("S1", &twice)).0,
        Problem::DuplicateLocus { .. }
    ));
}

#[test]
fn test_locus_and_allele_rules() {
    let p = |loci: &str| problem(&doc(&specimen_xml("S1", loci)));
    // locus names: alias rules, unknown names with suggestions, at most 10 characters
    let (pr, msg) = p(&locus_xml("D8S1197", &["13"]));
    assert!(
        matches!(pr, Problem::BadLocus(_)) && msg.contains("did you mean D8S1179"),
        "{msg}"
    );
    assert!(matches!(
        p(&locus_xml("DYS389 II X", &["13"])).0,
        Problem::TooLong { max: 10, .. }
    ));
    assert!(matches!(p(&locus_xml("", &["13"])).0, Problem::Empty));
    // 1 to 8 alleles
    assert!(matches!(p(&locus_xml("vWA", &[])).0, Problem::NoAllele));
    let nine = ["10", "11", "12", "13", "14", "15", "16", "17", "18"];
    assert!(matches!(
        p(&locus_xml("vWA", &nine)).0,
        Problem::TooManyAlleles { max: 8 }
    ));
    assert!(
        read_all(
            doc(&specimen_xml("S1", &locus_xml("vWA", &nine[..8]))).as_bytes(),
            "t",
            ReadOptions::default(),
            false
        )
        .is_ok()
    );
    // values: at most 10 characters, designations, escaping, order, homozygotes once
    assert!(matches!(
        p(&locus_xml("vWA", &["12345678901"])).0,
        Problem::TooLong { max: 10, found: 11 }
    ));
    assert!(matches!(p(&locus_xml("vWA", &[""])).0, Problem::Empty));
    assert!(matches!(
        p(&locus_xml("vWA", &["13|14"])).0,
        Problem::BadAllele(_)
    ));
    assert!(matches!(
        p(&locus_xml("vWA", &["13;14"])).0,
        Problem::BadAllele(_)
    ));
    assert!(matches!(
        p(&locus_xml("vWA", &["14", "13"])).0,
        Problem::NotLadderOrder { .. }
    ));
    assert!(matches!(
        p(&locus_xml("vWA", &["&gt;10", "10"])).0,
        Problem::NotLadderOrder { .. }
    ));
    assert!(matches!(
        p(&locus_xml("vWA", &["13", "13"])).0,
        Problem::RepeatedAllele
    ));
    assert!(matches!(
        p(&locus_xml("AMEL", &["X", "Z"])).0,
        Problem::BadAllele(_)
    ));
    assert!(
        read_all(
            doc(&specimen_xml(
                "S1",
                &locus_xml("vWA", &["&lt;9", "9", "9.1", "9.3", "10", "&gt;10"])
            ))
            .as_bytes(),
            "t",
            ReadOptions::default(),
            false
        )
        .is_ok()
    );
    // an unescaped '<' in a value is broken XML
    let e = read_err(&doc(&specimen_xml("S1", &locus_xml("vWA", &["<8"]))));
    assert!(matches!(e, ReadError::Malformed { .. }), "{e}");
    // at most one required allele
    let req = "<LOCUS><LOCUSNAME>vWA</LOCUSNAME><READINGBY>a</READINGBY><READINGDATETIME>2024-05-01T09:00:00</READINGDATETIME><ALLELE ALLELEREQUIRED=\"true\"><ALLELEVALUE>13</ALLELEVALUE></ALLELE><ALLELE ALLELEREQUIRED=\"1\"><ALLELEVALUE>14</ALLELEVALUE></ALLELE></LOCUS>";
    assert!(matches!(p(req).0, Problem::TwoRequired { .. }));
    assert!(matches!(
        p(&req.replace("\"1\"", "\"yes\"")).0,
        Problem::BadBoolean
    ));
    let one = read_all(
        doc(&specimen_xml("S1", &req.replace("\"1\"", "\"false\""))).as_bytes(),
        "t",
        ReadOptions::default(),
        false,
    )
    .unwrap();
    assert_eq!(
        one.specimens[0]
            .profile
            .genotype(locus("vWA"))
            .unwrap()
            .required(),
        Some(Allele::Repeat(130))
    );
    // locus attributes and readings
    let l = locus_xml("vWA", &["13"]);
    assert!(matches!(
        p(&l.replace(
            "<LOCUS>",
            &format!("<LOCUS BATCHID=\"{}\">", "b".repeat(33))
        ))
        .0,
        Problem::TooLong { max: 32, .. }
    ));
    assert!(matches!(
        p(&l.replace("<LOCUS>", "<LOCUS KIT=\"NoSuchKit\">")).0,
        Problem::KitNotInRelease { .. }
    ));
    assert!(matches!(
        p(&l.replace("<READINGBY>a</READINGBY>", "<READINGBY></READINGBY>")).0,
        Problem::Empty
    ));
    assert!(matches!(
        p(&l.replace(
            "<READINGBY>a</READINGBY>",
            &format!("<READINGBY>{}</READINGBY>", "r".repeat(21))
        ))
        .0,
        Problem::TooLong { max: 20, .. }
    ));
    assert!(matches!(
        p(&l.replace("2024-05-01T09:00:00", "2024-02-30T09:00:00")).0,
        Problem::BadDateTime(_)
    ));
    assert!(
        p(&l.replace("<READINGBY>a</READINGBY>", ""))
            .1
            .contains("expected <READINGBY>")
    );
    assert!(
        p(&l.replace("<ALLELE>", "<ALLELE>x"))
            .1
            .contains("text is not allowed here")
    );
}

#[test]
fn test_xml_level_rules() {
    let good = doc(&good_specimen("S1"));
    // DOCTYPE (entity expansion) refused; unknown entities refused; other encodings refused
    let e = read_err(&good.replacen(
        "<CODISImportFile",
        "<!DOCTYPE x [<!ENTITY a \"b\">]>\n<CODISImportFile",
        1,
    ));
    assert!(
        e.to_string()
            .contains("document type declarations are not allowed"),
        "{e}"
    );
    let e = read_err(&good.replace(">15<", ">&a;<"));
    assert!(e.to_string().contains("entity '&a;'"), "{e}");
    let e = read_err(&good.replace("UTF-8", "ISO-8859-1"));
    assert!(e.to_string().contains("only UTF-8"), "{e}");
    // character references and CDATA are text like any other
    let f = read_all(
        good.replace(">15<", ">&#49;5<")
            .replace(">16<", "><![CDATA[16]]><")
            .as_bytes(),
        "t",
        ReadOptions::default(),
        false,
    )
    .unwrap();
    assert_eq!(
        f.specimens[0]
            .profile
            .genotype(locus("D3S1358"))
            .unwrap()
            .to_string(),
        "15,16"
    );
    // truncated files and trailing content
    for cut in [10, 100, good.len() / 2, good.len() - 3] {
        let _ = read_err(&good[..cut]);
    }
    assert!(
        read_err(&(good.clone() + "<X/>"))
            .to_string()
            .contains("nothing after </CODISImportFile>")
    );
    // comments and processing instructions are ignored
    assert!(
        read_all(
            good.replace("<SPECIMEN>", "<!-- c --><?pi x?><SPECIMEN>")
                .as_bytes(),
            "t",
            ReadOptions::default(),
            false
        )
        .is_ok()
    );
}

#[test]
fn test_lenient_reading_reports_each_rejected_specimen() {
    let body = good_specimen("S1")
        + &specimen_xml("S2", &locus_xml("vWA", &["9..3"]))
        + &good_specimen("S3")
        + &specimen_xml("S4", &locus_xml("NOPE", &["1"]))
        + &good_specimen("S1")
        + &good_specimen("S5");
    let xml = doc(&body);
    let strict = read_all(xml.as_bytes(), "t.xml", ReadOptions::default(), false).unwrap_err();
    assert_eq!(strict.specimen(), Some("S2"));
    let f = read_all(xml.as_bytes(), "t.xml", ReadOptions::default(), true).unwrap();
    let ids: Vec<&str> = f
        .specimens
        .iter()
        .map(|s| s.profile.id().as_str())
        .collect();
    assert_eq!(ids, ["S1", "S3", "S5"]);
    assert_eq!(f.rejected.len(), 3, "{:?}", f.rejected);
    assert!(f.rejected[0].contains("of specimen S2"));
    assert!(f.rejected[1].contains("LOCUSNAME 'NOPE' of specimen S4"));
    assert!(f.rejected[2].contains("specimen id 'S1'"));
}

#[test]
fn test_reader_streams_one_specimen_at_a_time() {
    let body: String = (0..100).map(|i| good_specimen(&format!("S{i}"))).collect();
    let xml = doc(&body);
    let mut r = CmfReader::new(xml.as_bytes(), "t.xml", ReadOptions::default()).unwrap();
    assert_eq!(r.header().source_lab, "GTLAB01");
    let mut n = 0;
    for s in r.by_ref() {
        s.unwrap();
        n += 1;
    }
    assert_eq!(n, 100);
    assert!(r.next_specimen().is_none());
}

#[test]
fn test_writer_rules() {
    let f = read_example();
    let header = f.header.clone();
    let w = |h: &Header, s: &[CmfSpecimen], release| {
        write::write_all(Vec::new(), h, s, WriteOptions { release })
    };
    // header limits
    let mut h = header.clone();
    h.source_lab = "X".repeat(11);
    assert!(
        w(&h, &f.specimens, Release::V3_2)
            .unwrap_err()
            .to_string()
            .contains("SOURCELAB")
    );
    let mut h = header.clone();
    h.kit = Some("GlobalFiler".into());
    assert!(w(&h, &f.specimens, Release::V3_2).is_err());
    assert!(w(&h, &f.specimens, Release::Later).is_ok());
    // no specimen, no category, duplicate ids, too long fields
    assert!(matches!(
        w(&header, &[], Release::V3_2).unwrap_err(),
        tandem_cmf::WriteError::Invalid {
            problem: Problem::NoSpecimen,
            ..
        }
    ));
    let mut s = f.specimens[0].clone();
    s.profile.set_category(None);
    assert!(
        w(&header, &[s], Release::V3_2)
            .unwrap_err()
            .to_string()
            .contains("CMF requires one")
    );
    let e = w(
        &header,
        &[f.specimens[0].clone(), f.specimens[0].clone()],
        Release::V3_2,
    )
    .unwrap_err();
    assert!(e.to_string().contains("written twice"), "{e}");
    let mut s = f.specimens[0].clone();
    s.comment = Some("c".repeat(256));
    assert!(w(&header, &[s], Release::V3_2).is_err());
    let mut s = f.specimens[0].clone();
    s.comment = Some("bell \u{7}".into());
    assert!(
        w(&header, &[s], Release::V3_2)
            .unwrap_err()
            .to_string()
            .contains("XML 1.0 cannot carry")
    );
    let mut s = f.specimens[0].clone();
    s.profile
        .set_category(Some(SpecimenCategory::ForensicPartial));
    assert!(w(&header, &[s.clone()], Release::V3_2).is_err());
    assert!(w(&header, &[s], Release::Later).is_ok());
    // a refused specimen leaves nothing behind: the writer goes on with the next
    let mut writer =
        tandem_cmf::CmfWriter::new(Vec::new(), &header, WriteOptions::default()).unwrap();
    let mut bad = f.specimens[1].clone();
    bad.case_id = Some("x".repeat(40));
    assert!(writer.write(&bad).is_err());
    writer.write(&f.specimens[0]).unwrap();
    let bytes = writer.finish().unwrap();
    validate(&bytes, &testdata("cmf-3.2.xsd"));
    let back = read_all(&bytes[..], "t", ReadOptions::default(), false).unwrap();
    assert_eq!(back.specimens, vec![f.specimens[0].clone()]);
}

#[test]
fn test_escaping_round_trip() {
    let f = read_example();
    let mut s = f.specimens[0].clone();
    s.comment = Some("a < b & c > d \"q\" 'a'\r\nline".into());
    s.case_id = Some("C&<\">\t".into());
    let bytes =
        write::write_all(Vec::new(), &f.header, &[s.clone()], WriteOptions::default()).unwrap();
    validate(&bytes, &testdata("cmf-3.2.xsd"));
    let back = read_all(&bytes[..], "t", ReadOptions::default(), false).unwrap();
    assert_eq!(back.specimens[0], s);
}
