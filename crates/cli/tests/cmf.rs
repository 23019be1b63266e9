//! `tandem convert` and `tandem export`, and CMF and every table layout as `--db`/`--query`.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{stderr, tandem};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/cmf/cmf-3.2-example.xml")
}

fn run(args: &[&str]) -> Output {
    tandem().args(args).output().expect("tandem runs")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

const HEADER: [&str; 6] = [
    "--source-lab",
    "GTLAB01",
    "--destination-ori",
    "GT0000001",
    "--submit-by",
    "tester",
];

#[test]
fn test_convert_cmf_to_tables_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let ex = example();
    for (name, extra) in [
        ("w.csv", None),
        ("w.tsv", None),
        ("l.csv", Some("long")),
        ("g.txt", Some("genemapper")),
        ("c.csv", Some("codis-export")),
    ] {
        let out = dir.path().join(name);
        let mut args = vec!["convert", "--input", s(&ex), "--output", s(&out)];
        if let Some(to) = extra {
            args.extend(["--to", to]);
        }
        let o = run(&args);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("2 specimens converted"),
            "{}",
            stderr(&o)
        );
        // and back to CMF, which validates
        let back = dir.path().join(format!("{name}.xml"));
        let mut args = vec![
            "convert",
            "--input",
            s(&out),
            "--output",
            s(&back),
            "--default-category",
            "Forensic, Unknown",
        ];
        args.extend(HEADER);
        let o = run(&args);
        assert!(o.status.success(), "{name} back: {}", stderr(&o));
        let text = std::fs::read_to_string(&back).unwrap();
        assert!(
            text.contains("<SPECIMENID>IMP_0001B</SPECIMENID>"),
            "{text}"
        );
        assert!(text.contains("<ALLELEVALUE>&lt;6</ALLELEVALUE>"), "{text}");
    }
    // CMF to CMF keeps the header and every CMF field
    let out = dir.path().join("same.xml");
    let o = run(&["convert", "--input", s(&ex), "--output", s(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("<SOURCELAB>IADCI0000</SOURCELAB>"));
    assert!(text.contains("CASEID=\"FL2004_10_04_ABC\""));
    assert!(text.contains("<LOCUS BATCHID=\"GEL2004_10_05_67\" KIT=\"PowerPlex 1.2\">"));
    assert!(text.contains("<ALLELE ALLELEREQUIRED=\"true\">"));
}

#[test]
fn test_convert_strict_writes_nothing_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bad.csv");
    std::fs::write(&input, "id,D3S1358\nIMP_0001A,15\nIMP_0002,\"15,9..3\"\n").unwrap();
    let out = dir.path().join("out.xml");
    std::fs::write(&out, "old").unwrap();
    let mut args = vec![
        "convert",
        "--input",
        s(&input),
        "--output",
        s(&out),
        "--default-category",
        "Arrestee",
    ];
    args.extend(HEADER);
    let o = run(&args);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("bad.csv, line 3, column 2: allele value '9..3' at D3S1358 of specimen IMP_0002: not a repeat number"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old");
    // lenient: the good one is converted, the bad one reported
    args.push("--lenient");
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("specimen skipped"));
    assert!(std::fs::read_to_string(&out).unwrap().contains("IMP_0001A"));
    // no temporary files left behind
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
}

#[test]
fn test_convert_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let ex = example();
    let o = run(&[
        "convert",
        "--input",
        s(&ex),
        "--output",
        s(&dir.path().join("x.dat")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot tell the output format"),
        "{}",
        stderr(&o)
    );
    let csv = dir.path().join("t.csv");
    std::fs::write(&csv, "id,vWA\nS1,17\n").unwrap();
    let o = run(&[
        "convert",
        "--input",
        s(&csv),
        "--output",
        s(&dir.path().join("x.xml")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("CMF output needs --destination-ori"),
        "{}",
        stderr(&o)
    );
    let odd = dir.path().join("odd.csv");
    std::fs::write(&odd, "name,age\nbob,3\n").unwrap();
    let o = run(&[
        "convert",
        "--input",
        s(&odd),
        "--output",
        s(&dir.path().join("x.csv")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot tell the format"),
        "{}",
        stderr(&o)
    );
    // a locus CMF 3.2 cannot carry: refused, with the way out
    let gf = dir.path().join("gf.csv");
    std::fs::write(&gf, "id,category,D1S1656,vWA\nS1,Arrestee,12,17\n").unwrap();
    let gf_out = dir.path().join("gf.xml");
    let mut args = vec!["convert", "--input", s(&gf), "--output", s(&gf_out)];
    args.extend(HEADER);
    let o = run(&args);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not a locus of CMF 3.2; write with the later release"),
        "{}",
        stderr(&o)
    );
    args.extend(["--release", "later"]);
    assert!(run(&args).status.success());
}

#[test]
fn test_search_accepts_cmf_and_tables() {
    let dir = tempfile::tempdir().unwrap();
    let ex = example();
    let gm = dir.path().join("q.txt");
    let o = run(&[
        "convert",
        "--input",
        s(&ex),
        "--output",
        s(&gm),
        "--to",
        "genemapper",
    ]);
    assert!(o.status.success());
    let o = run(&[
        "search",
        "--db",
        s(&ex),
        "--query",
        s(&gm),
        "--min-loci",
        "5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("IMP_0001A\tIMP_0001A\t13\t13\t0"), "{out}");
}

#[test]
fn test_export_cmf_with_categories() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.csv");
    std::fs::write(&db, "id,category,D3S1358,vWA\nO1,Convicted Offender,15,17\nA1,Arrestee,\"14,15\",18\nF1,\"Forensic, Unknown\",15,17\n").unwrap();
    let out = dir.path().join("batch.xml");
    let mut args = vec![
        "export",
        "--db",
        s(&db),
        "--to",
        "cmf",
        "--output",
        s(&out),
        "--category",
        "Convicted Offender",
        "--category",
        "arrestee",
        "--batch-id",
        "NIGHTLY-1",
    ];
    args.extend(HEADER);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("2 of 3 specimens exported"),
        "{}",
        stderr(&o)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("<BATCHID>NIGHTLY-1</BATCHID>")
            && text.contains("O1")
            && text.contains("A1")
            && !text.contains("F1"),
        "{text}"
    );
    let o = run(&[
        "export",
        "--db",
        s(&db),
        "--output",
        s(&out),
        "--category",
        "Missing Person",
        "--source-lab",
        "L",
        "--destination-ori",
        "D",
        "--submit-by",
        "u",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no specimen to export"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn test_convert_drops_loci_the_release_does_not_list_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let nist =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/nist1036_genotypes_wide.csv");
    let out = dir.path().join("nist.xml");
    let base = [
        "convert",
        "--input",
        s(&nist),
        "--output",
        s(&out),
        "--to",
        "cmf",
        "--destination-ori",
        "GT0000001",
        "--source-lab",
        "GT0000001",
        "--submit-by",
        "ana",
        "--default-category",
        "Population",
        "--release",
        "later",
    ];
    // without the flag, NIST's D6S1043, Penta C, F13A01, ... refuse the specimen: exit 2, no file
    let o = run(&base);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!out.exists());
    let mut args = base.to_vec();
    args.push("--drop-unlisted-loci");
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("D6S1043 (1036)"), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.matches("</SPECIMEN>").count(), 1036);
    assert!(!text.contains("D6S1043") && !text.contains("Penta C"));
    assert!(text.contains("D1S1656") && text.contains("SE33"));
    if let Ok(v) = Command::new("xmllint").arg("--version").output()
        && v.status.success()
    {
        let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/cmf/cmf-2017.xsd");
        let check = Command::new("xmllint")
            .args(["--noout", "--schema", s(&xsd), s(&out)])
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
}
