//! End-to-end tests of the `tandem` binary: output, exit statuses and error messages.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

mod common;
use common::{stderr, stdout, tandem};

fn nist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/nist1036_genotypes_wide.csv")
}

/// The header and the rows of the NIST file whose sample id is in `ids`.
fn nist_rows(ids: &[&str]) -> String {
    let text = std::fs::read_to_string(nist()).expect("NIST fixture");
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().expect("header"));
    for line in lines {
        if ids.iter().any(|id| line.split(',').next() == Some(id)) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write fixture");
    path
}

fn search(query: &Path, extra: &[&str]) -> Output {
    tandem()
        .arg("search")
        .arg("--db")
        .arg(nist())
        .arg("--query")
        .arg(query)
        .args(extra)
        .output()
        .expect("run tandem")
}

const HEADER: &str =
    "query\tcandidate\tloci_compared\tloci_matched\tloci_mismatched\tprum_quality\tmismatched_loci";

#[test]
fn test_search_finds_known_profile() {
    let dir = tempfile::tempdir().expect("tempdir");
    let q = write(&dir, "q.csv", &nist_rows(&["GT37019"]));
    let o = search(&q, &[]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], HEADER);
    assert_eq!(lines[1], "GT37019\tGT37019\t29\t29\t0\t\t-");
    assert_eq!(lines.len(), 2, "{out}");
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn test_search_several_queries_in_file_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let q = write(&dir, "q.csv", &nist_rows(&["GT37019", "GT37020"]));
    let o = search(&q, &["--stringency", "high", "--threads", "1"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let out = stdout(&o);
    let queries: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split('\t').next().unwrap_or(""))
        .collect();
    assert_eq!(queries, ["GT37019", "GT37020"]);
    // the same output on any number of threads
    let o2 = search(&q, &["--stringency", "high", "--threads", "2"]);
    assert_eq!(stdout(&o2), out);
}

#[test]
fn test_search_mismatched_loci_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    // GT37019 with TH01 changed from 6,7 to 9,9.3: one failing locus.
    let rows = nist_rows(&["GT37019"]);
    let mut lines = rows.lines();
    let header = lines.next().expect("header");
    let th01 = header
        .split(',')
        .position(|h| h == "TH01_1")
        .expect("TH01 column");
    let mut cells: Vec<String> = lines
        .next()
        .expect("row")
        .split(',')
        .map(str::to_string)
        .collect();
    cells[th01] = "9".into();
    cells[th01 + 1] = "9.3".into();
    cells[0] = "STAIN".into();
    let q = write(&dir, "q.csv", &format!("{header}\n{}\n", cells.join(",")));
    let o = search(&q, &["--max-mismatches", "1"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert_eq!(
        stdout(&o).lines().nth(1),
        Some("STAIN\tGT37019\t29\t28\t1\t\tTH01")
    );
    // without the allowance: no hit
    let o = search(&q, &[]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn test_search_without_hits_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let q = write(
        &dir,
        "q.csv",
        "sample,CSF1PO,FGA,TH01,TPOX,vWA,D3S1358,D5S818,D7S820,D8S1179\nNOBODY,50,50,50,50,50,50,50,50,50\n",
    );
    let o = search(&q, &[]);
    assert_eq!(o.status.code(), Some(1), "stderr: {}", stderr(&o));
    assert_eq!(stdout(&o), format!("{HEADER}\n"));
    assert!(stderr(&o).is_empty());
}

#[test]
fn test_bad_allele_exits_2_naming_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let q = write(&dir, "bad.csv", "sample,CSF1PO,FGA\nQ1,10,21\nQ2,abc,22\n");
    let o = search(&q, &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("tandem: error: "), "{err}");
    assert!(err.contains("bad.csv"), "{err}");
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("column 2"), "{err}");
    assert!(err.contains("abc"), "{err}");
    assert!(stdout(&o).is_empty());
}

#[test]
fn test_missing_file_exits_2() {
    let o = search(Path::new("/nonexistent/query.csv"), &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("tandem: error: /nonexistent/query.csv"),
        "{err}"
    );
    // the cause is chained on the same line
    assert!(err.contains("No such file"), "{err}");
}

#[test]
fn test_usage_errors_exit_2() {
    let o = tandem()
        .args(["search", "--no-such-option"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    let o = tandem().args(["frobnicate"]).output().expect("run");
    assert_eq!(o.status.code(), Some(2));
    let o = tandem().output().expect("run");
    assert_eq!(o.status.code(), Some(2));
    let dir = tempfile::tempdir().expect("tempdir");
    let q = write(&dir, "q.csv", &nist_rows(&["GT37019"]));
    for bad in [
        &["--stringency", "extreme"][..],
        &["--min-loci", "0"],
        &["--top", "x"],
        &["--format", "xml"],
        &["--prum", "--stringency", "high"],
    ] {
        let o = search(&q, bad);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        assert!(o.stdout.is_empty(), "{bad:?}");
    }
}

#[test]
fn test_help_and_version_exit_0() {
    let o = tandem().arg("--help").output().expect("run");
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("search"));
    let o = tandem().args(["search", "--help"]).output().expect("run");
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("--stringency"));
    let o = tandem().arg("--version").output().expect("run");
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn test_json_lines_parse() {
    let dir = tempfile::tempdir().expect("tempdir");
    let q = write(&dir, "q.csv", &nist_rows(&["GT37019", "GT37020"]));
    let o = search(&q, &["--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let out = stdout(&o);
    let records: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    assert_eq!(records.len(), 2);
    let r = &records[0];
    assert_eq!(r["query"], "GT37019");
    assert_eq!(r["candidate"], "GT37019");
    assert_eq!(r["loci_compared"], 29);
    assert_eq!(r["loci_matched"], 29);
    assert_eq!(r["loci_mismatched"], 0);
    assert!(r["prum"].is_null());
    let loci = r["loci"].as_array().expect("loci array");
    assert_eq!(loci.len(), 29);
    assert!(loci.iter().all(|l| l["outcome"] == "match"));
    assert!(
        loci.iter()
            .any(|l| l["locus"] == "D21S11" && l["query"] == "28,30")
    );
}

#[test]
fn test_prum_search() {
    let dir = tempfile::tempdir().expect("tempdir");
    let q = write(&dir, "q.csv", &nist_rows(&["GT37019"]));
    let o = search(&q, &["--prum"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert_eq!(
        stdout(&o).lines().nth(1),
        Some("GT37019\tGT37019\t29\t29\t0\tfull\t-")
    );
    let o = search(&q, &["--prum", "--format", "json", "--min-loci", "29"]);
    assert_eq!(o.status.code(), Some(0));
    let r: serde_json::Value =
        serde_json::from_str(stdout(&o).lines().next().expect("a line")).expect("JSON");
    assert_eq!(r["prum"], "full");
}

#[test]
fn test_top_limits_hits_per_query() {
    let dir = tempfile::tempdir().expect("tempdir");
    let q = write(&dir, "q.csv", "sample,TH01,FGA\nQ,\"6,7\",\"23,24\"\n");
    let o = search(&q, &["--stringency", "low", "--min-loci", "2"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert!(stdout(&o).lines().count() > 3);
    let o = search(
        &q,
        &["--stringency", "low", "--min-loci", "2", "--top", "2"],
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o).lines().count(), 3);
}

#[test]
fn test_unknown_column_fails_unless_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rows = nist_rows(&["GT37019"]);
    let lines: Vec<&str> = rows.lines().collect();
    let q = write(
        &dir,
        "q.csv",
        &format!("{},notes\n{},seen twice\n", lines[0], lines[1]),
    );
    let o = search(&q, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("notes"), "{}", stderr(&o));
    let o = search(&q, &["--ignore-unknown-columns"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert!(
        stderr(&o).starts_with("tandem: warning: "),
        "{}",
        stderr(&o)
    );
}

#[test]
fn test_closed_pipe_is_not_an_error() {
    // Every NIST person against every other at low stringency: far more output than a pipe holds.
    let mut child = tandem()
        .arg("search")
        .arg("--db")
        .arg(nist())
        .arg("--query")
        .arg(nist())
        .args(["--stringency", "low", "--min-loci", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let out = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(out)
        .read_line(&mut first)
        .expect("first line");
    assert_eq!(first.trim_end(), HEADER);
    // the reader is dropped here: the pipe is closed
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert!(err.is_empty(), "{err}");
}

#[test]
fn test_demo_quick() {
    let o = tandem().args(["demo", "--quick"]).output().expect("run");
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("1,036 people"), "{out}");
    assert!(out.contains("<- the source"), "{out}");
    assert!(out.contains("<- a contributor"), "{out}");
    assert!(out.contains("<- the parent"), "{out}");
    assert!(out.contains("full match"), "{out}");
}

#[test]
fn test_demo_with_data_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = write(
        &dir,
        "people.csv",
        &nist_rows(&["GT37019", "GT37020", "GT37026", "GT37027", "GT37032"]),
    );
    let o = tandem()
        .arg("demo")
        .arg("--data")
        .arg(&data)
        .args(["--simulated", "2000"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert!(stdout(&o).contains("Scaling up"));
}

#[test]
fn test_search_with_frequency_table_reports_rmp() {
    let dir = tempfile::tempdir().unwrap();
    let q = write(&dir, "q.csv", &nist_rows(&["GT37019"]));
    let freq = nist().with_file_name("fbi2015_allele_freqs.csv");
    let o = search(
        &q,
        &[
            "--freq",
            freq.to_str().unwrap(),
            "--population",
            "SW Hispanic",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let mut lines = out.lines();
    assert!(lines.next().unwrap().ends_with("\trmp\tpopulation"));
    let row: Vec<&str> = lines.next().unwrap().split('\t').collect();
    assert_eq!(row[1], "GT37019");
    assert_eq!(row[8], "SW Hispanic");
    let rmp: f64 = row[7].parse().unwrap();
    assert!(rmp > 0.0 && rmp < 1e-20, "{rmp}");
    // an unknown population is an error naming it
    let o = search(
        &q,
        &["--freq", freq.to_str().unwrap(), "--population", "Martian"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("Martian"), "{}", stderr(&o));
}
