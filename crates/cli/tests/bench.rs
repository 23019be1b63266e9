//! End-to-end tests of `tandem bench`: a tiny run of every suite checked for the report's fields
//! and the consistency of its numbers (never a timing threshold), a run on an index file, bad
//! input, and Ctrl-C.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod common;
use common::{run as tandem, stderr, stdout, testdata};

fn p(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("read the JSON report");
    serde_json::from_str(&text).expect("the report is JSON")
}

/// A number of the report (fails with the field's path when it is missing).
fn num(v: &Value, path: &str) -> f64 {
    let mut cur = v;
    for key in path.split('.') {
        cur = match key.parse::<usize>() {
            Ok(i) => &cur[i],
            Err(_) => &cur[key],
        };
    }
    cur.as_f64()
        .unwrap_or_else(|| panic!("{path} is not a number: {cur}"))
}

fn positive(v: &Value, path: &str) -> f64 {
    let x = num(v, path);
    assert!(x > 0.0 && x.is_finite(), "{path} = {x}, expected > 0");
    x
}

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()),
        "{what}: {a} != {b}"
    );
}

/// A timing object: runs, min <= median <= max, all positive.
fn timing(v: &Value, path: &str, runs: f64) -> f64 {
    let min = positive(v, &format!("{path}.min_s"));
    let med = positive(v, &format!("{path}.median_s"));
    let max = positive(v, &format!("{path}.max_s"));
    assert!(min <= med && med <= max, "{path}: {min} {med} {max}");
    assert_eq!(num(v, &format!("{path}.runs")), runs, "{path}.runs");
    let samples = v
        .pointer(&format!("/{}/samples_s", path.replace('.', "/")))
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{path}.samples_s"));
    assert_eq!(samples.len() as f64, runs);
    med
}

fn svg_ok(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let head = text.trim_start();
    assert!(
        head.starts_with("<svg") || head.starts_with("<?xml"),
        "{} does not start like SVG",
        path.display()
    );
    assert!(text.trim_end().ends_with("</svg>"), "{}", path.display());
    assert!(text.contains("<text"), "{} has no text", path.display());
}

#[test]
fn test_bench_all_suites_report_fields_are_consistent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("run.json");
    let o = tandem(&[
        "bench",
        "--profiles",
        "2000",
        "--runs",
        "2",
        "--warmup",
        "1",
        "--queries",
        "30",
        "--kinship-queries",
        "4",
        "--compare-max",
        "1000",
        "--threads",
        "2",
        "--suite",
        "all",
        "--report",
        p(&report),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for word in [
        "suite",
        "forced scan",
        "queries/s",
        "pairs/s",
        "thread scaling",
        "observed against expected",
    ] {
        assert!(out.contains(word), "stdout lacks {word:?}:\n{out}");
    }

    let r = read_json(&report);
    assert_eq!(r["tool"], "tandem bench");
    assert_eq!(r["interrupted"], false);
    assert_eq!(r["tandem_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(num(&r, "parameters.runs"), 2.0);
    assert_eq!(num(&r, "parameters.threads"), 2.0);
    assert!(num(&r, "machine.logical_cores") >= 1.0);
    assert!(r["machine"]["os"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(r["database"]["source"], "simulated");
    assert_eq!(num(&r, "database.profiles"), 2000.0);
    assert_eq!(num(&r, "database.autosomal_loci"), 21.0);
    positive(&r, "database.build_s");

    // search: sizes N/10 and N (N/100 = 20 is below the smallest size)
    let s = &r["suites"]["search"];
    assert_eq!(s["complete"], true);
    let sizes = s["sizes"].as_array().expect("sizes");
    assert_eq!(
        sizes.iter().map(|x| num(x, "profiles")).collect::<Vec<_>>(),
        vec![200.0, 2000.0]
    );
    for size in sizes {
        let n = num(size, "profiles");
        let med = timing(size, "scan", 2.0);
        close(num(size, "comparisons_per_s"), n / med, "comparisons_per_s");
        assert!(num(size, "scan_hits") >= 1.0);
        let pl = &size["planner"];
        let run = timing(pl, "run", 2.0);
        close(num(pl, "queries_per_s"), 30.0 / run, "queries_per_s");
        let (p50, p95, p99) = (
            positive(pl, "latency_ms_p50"),
            positive(pl, "latency_ms_p95"),
            positive(pl, "latency_ms_p99"),
        );
        assert!(positive(pl, "latency_ms_min") <= p50);
        assert!(p50 <= p95 && p95 <= p99 && p99 <= num(pl, "latency_ms_max"));
        assert_eq!(num(pl, "samples"), 60.0);
        assert_eq!(num(pl, "by_postings") + num(pl, "by_scan"), 30.0);
        assert_eq!(
            num(pl, "sources_found"),
            30.0,
            "every query finds its source"
        );
    }
    let largest = &sizes[1];
    let one = timing(largest, "scan_1_thread", 2.0);
    close(
        num(largest, "comparisons_per_s_1_thread"),
        2000.0 / one,
        "1 thread",
    );
    close(
        positive(s, "comparisons_per_s"),
        num(largest, "comparisons_per_s"),
        "headline scan",
    );
    close(
        positive(s, "latency_ms_p99"),
        num(largest, "planner.latency_ms_p99"),
        "headline p99",
    );
    positive(s, "queries_per_s");
    positive(s, "peak_rss_bytes");

    // batch: queries_per_s = queries / median time
    let b = &r["suites"]["batch"];
    let all = timing(b, "all_threads", 2.0);
    let one = timing(b, "one_thread", 2.0);
    close(
        positive(b, "queries_per_s"),
        30.0 / all,
        "batch queries_per_s",
    );
    close(
        num(b, "queries_per_s_1_thread"),
        30.0 / one,
        "batch 1 thread",
    );
    close(
        num(b, "speedup"),
        all.recip() / one.recip(),
        "batch speedup",
    );
    assert_eq!(num(b, "sources_found"), 30.0);
    assert!(num(b, "hits") >= 30.0);
    positive(b, "peak_rss_bytes");

    // kinship
    let k = &r["suites"]["kinship"];
    let med = timing(k, "all_threads", 2.0);
    timing(k, "one_thread", 2.0);
    close(
        positive(k, "queries_per_s"),
        4.0 / med,
        "kinship queries_per_s",
    );
    close(
        positive(k, "comparisons_per_s"),
        4.0 * 2000.0 / med,
        "kinship comparisons_per_s",
    );
    assert_eq!(k["relationship"], "parent-child");
    assert!(num(k, "relative_in_top") >= num(k, "relative_ranked_first"));
    assert!(num(k, "relative_in_top") <= 4.0);

    // compare: capped at 1,000 of 2,000; every pair counted once
    let c = &r["suites"]["compare"];
    assert_eq!(num(c, "profiles"), 1000.0);
    assert_eq!(num(c, "database_profiles"), 2000.0);
    assert_eq!(c["capped"], true);
    let pairs = num(c, "pairs");
    assert_eq!(pairs, 1000.0 * 999.0 / 2.0);
    assert_eq!(num(c, "observed_pairs"), pairs);
    let matrix = c["matrix"].as_array().expect("matrix");
    let observed: f64 = matrix.iter().map(|x| num(x, "observed")).sum();
    let expected: f64 = matrix.iter().map(|x| num(x, "expected")).sum();
    assert_eq!(observed, pairs);
    assert!(
        (expected - pairs).abs() < 1e-6 * pairs,
        "expected {expected}"
    );
    close(num(c, "expected_pairs"), expected, "expected_pairs");
    for margin in ["by_matching", "by_partial"] {
        let rows = c[margin].as_array().expect("margin");
        assert_eq!(rows.len(), 22, "{margin}: 0..=21 loci");
        let o: f64 = rows.iter().map(|x| num(x, "observed")).sum();
        let e: f64 = rows.iter().map(|x| num(x, "expected")).sum();
        assert_eq!(o, pairs, "{margin}");
        assert!((e - pairs).abs() < 1e-6 * pairs, "{margin}: {e}");
    }
    let med = timing(c, "all_threads", 2.0);
    close(positive(c, "pairs_per_s"), pairs / med, "pairs_per_s");
    assert_eq!(c["loci"].as_array().map(Vec::len), Some(21));

    // index files
    let i = &r["suites"]["index"];
    let build = timing(i, "build", 2.0);
    close(
        positive(i, "build_profiles_per_s"),
        2000.0 / build,
        "build rate",
    );
    timing(i, "write", 2.0);
    timing(i, "open", 2.0);
    timing(i, "first_scan", 2.0);
    let warm = timing(i, "warm_scan", 2.0);
    close(positive(i, "comparisons_per_s"), 2000.0 / warm, "warm scan");
    positive(i, "first_scan_comparisons_per_s");
    positive(i, "file_bytes");

    // scaling: one entry per suite with a 1-thread figure, speedup = all / one
    let scaling = r["scaling"].as_array().expect("scaling");
    assert_eq!(scaling.len(), 4);
    for x in scaling {
        close(
            num(x, "speedup"),
            positive(x, "all_threads") / positive(x, "one_thread"),
            "speedup",
        );
    }

    // the Markdown report and its plots
    let md = std::fs::read_to_string(dir.path().join("run.md")).expect("markdown report");
    assert!(md.starts_with("# tandem bench"));
    assert!(md.contains("](run-throughput.svg)"), "{md}");
    assert!(md.contains("](run-matches.svg)"), "{md}");
    svg_ok(&dir.path().join("run-throughput.svg"));
    svg_ok(&dir.path().join("run-matches.svg"));
}

/// An index file of the NIST 1036 genotypes.
fn nist_index(dir: &Path) -> PathBuf {
    let path = dir.join("nist.tandem");
    let o = tandem(&[
        "index",
        "build",
        "--input",
        &testdata("nist1036_genotypes_wide.csv"),
        "--out",
        p(&path),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    path
}

#[test]
fn test_bench_on_an_index_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = nist_index(dir.path());
    let report = dir.path().join("db.json");
    let o = tandem(&[
        "bench",
        "--db",
        p(&db),
        "--runs",
        "1",
        "--warmup",
        "0",
        "--queries",
        "20",
        "--kinship-queries",
        "2",
        "--threads",
        "1",
        "--report",
        p(&report),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = read_json(&report);
    assert_eq!(r["database"]["source"], "index");
    assert_eq!(num(&r, "database.profiles"), 1036.0);
    // one size: the index's own
    let sizes = r["suites"]["search"]["sizes"].as_array().expect("sizes");
    assert_eq!(sizes.len(), 1);
    assert_eq!(num(&sizes[0], "profiles"), 1036.0);
    assert_eq!(num(&sizes[0], "planner.sources_found"), 20.0);
    // one thread: no scaling figures
    assert!(r["scaling"].as_array().is_some_and(Vec::is_empty));
    assert!(r["suites"]["batch"]["one_thread"].is_null());
    // observed counts, no expected ones without --freq
    let c = &r["suites"]["compare"];
    let pairs = num(c, "pairs");
    assert_eq!(pairs, 1036.0 * 1035.0 / 2.0);
    assert_eq!(c["capped"], false);
    assert!(c["expected_pairs"].is_null());
    assert!(
        c["expected_from"]
            .as_str()
            .is_some_and(|s| s.starts_with("none"))
    );
    let observed: f64 = c["matrix"]
        .as_array()
        .expect("matrix")
        .iter()
        .map(|x| num(x, "observed"))
        .sum();
    assert_eq!(observed, pairs);
    assert_eq!(num(&r, "suites.index.profiles"), 1036.0);
    svg_ok(&dir.path().join("db-matches.svg"));

    // with a frequency table, expected counts too
    let report = dir.path().join("freq.json");
    let o = tandem(&[
        "bench",
        "--db",
        p(&db),
        "--suite",
        "compare",
        "--runs",
        "1",
        "--warmup",
        "0",
        "--freq",
        &testdata("nist1036_allele_freqs.csv"),
        "--population",
        "All",
        "--report",
        p(&report),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = read_json(&report);
    assert!(r["suites"]["search"].is_null());
    let c = &r["suites"]["compare"];
    let e = num(c, "expected_pairs");
    assert!((e - 1036.0 * 1035.0 / 2.0).abs() < 1.0, "{e}");
}

#[test]
fn test_bench_bad_input_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let md = dir.path().join("x.md");
    for (args, needle) in [
        (vec!["bench", "--profiles", "0"], "at least 10"),
        (vec!["bench", "--runs", "0"], "at least 1"),
        (vec!["bench", "--suite", "fast"], "invalid value"),
        (vec!["bench", "--report", p(&md)], "path of the JSON report"),
        (
            vec!["bench", "--report", "/no/such/dir/r.json"],
            "does not exist",
        ),
        (
            vec!["bench", "--db", "/no/such/file.tandem"],
            "no/such/file",
        ),
        (
            vec![
                "bench",
                "--freq",
                &testdata("nist1036_allele_freqs.csv"),
                "--population",
                "Martian",
                "--profiles",
                "10",
            ],
            "Martian",
        ),
        (
            vec!["bench", "--loci", "NOT_A_LOCUS", "--profiles", "10"],
            "NOT_A_LOCUS",
        ),
        (
            vec!["bench", "--db", "x.tandem", "--profiles", "100"],
            "cannot be used with",
        ),
    ] {
        let o = tandem(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(needle),
            "{args:?}: {needle:?} not in {}",
            stderr(&o)
        );
    }
}

#[cfg(unix)]
#[test]
fn test_bench_ctrl_c_reports_the_results_so_far() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("stopped.json");
    // far more runs than can finish: only Ctrl-C ends this
    let child = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args([
            "bench",
            "--profiles",
            "1000",
            "--suite",
            "search,batch",
            "--runs",
            "100000000",
            "--warmup",
            "0",
            "--report",
            p(&report),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn tandem");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(stdout(&o).contains("INTERRUPTED"), "{}", stdout(&o));
    let r = read_json(&report);
    assert_eq!(r["interrupted"], true);
    // stopped during the first suite: it is there, incomplete; the batch suite never started
    assert_eq!(r["suites"]["search"]["complete"], false);
    assert!(r["suites"]["batch"].is_null());
}
