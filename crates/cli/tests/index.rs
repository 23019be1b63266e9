//! `tandem index`: crash safety (a writer killed at random points leaves a valid index, old or
//! new), expungement and the CLI conventions.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tandem_core::index::file;
use tandem_core::simulate::{AllelePools, Simulator};
use tandem_core::table::{TableOptions, read_path, write_wide};
use tandem_core::{Index, Kit};

mod common;
use common::tandem;

fn nist_path() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/nist1036_genotypes_wide.csv"
    ))
}

#[test]
fn test_killed_writer_leaves_old_or_new_index() {
    let dir = tempfile::tempdir().unwrap();
    let nist = read_path(nist_path(), &TableOptions::default())
        .unwrap()
        .profiles;
    let sim = Simulator::new(AllelePools::from_profiles(&nist), 11);
    let loci = Kit::GlobalFiler.loci();
    let base = sim.unrelated_range(0..20_000, &loci, "BASE").unwrap();
    let more = sim.unrelated_range(0..20_000, &loci, "MORE").unwrap();
    let base_path = dir.path().join("base.tandem");
    Index::from_profiles(&base)
        .unwrap()
        .write(&base_path)
        .unwrap();
    let add_csv = dir.path().join("more.csv");
    write_wide(std::fs::File::create(&add_csv).unwrap(), &more).unwrap();
    let path = dir.path().join("db.tandem");

    // how long an uninterrupted add takes
    std::fs::copy(&base_path, &path).unwrap();
    let t = Instant::now();
    let st = tandem()
        .args(["index", "add", "--index"])
        .arg(&path)
        .arg("--input")
        .arg(&add_csv)
        .status()
        .unwrap();
    assert!(st.success());
    let full = t.elapsed().as_micros().max(1000) as u64;
    assert_eq!(file::verify(&path).unwrap().len(), 40_000);

    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut outcomes = [0usize; 2];
    for _ in 0..12 {
        std::fs::copy(&base_path, &path).unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = seed % (full + full / 4);
        let mut child = tandem()
            .args(["index", "add", "--index"])
            .arg(&path)
            .arg("--input")
            .arg(&add_csv)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(delay));
        let _ = child.kill(); // SIGKILL: no destructor, no cleanup
        let _ = child.wait();
        let index =
            file::verify(&path).unwrap_or_else(|e| panic!("after a kill at {delay} us: {e}"));
        match index.len() {
            20_000 => outcomes[0] += 1,
            40_000 => outcomes[1] += 1,
            n => panic!("after a kill at {delay} us the index holds {n} profiles"),
        }
    }
    eprintln!(
        "old index {} times, new index {} times",
        outcomes[0], outcomes[1]
    );
}

#[test]
fn test_index_cli_round_trip_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let idx = dir.path().join("db.tandem");
    let st = tandem()
        .args(["index", "build", "--input"])
        .arg(nist_path())
        .arg("--out")
        .arg(&idx)
        .status()
        .unwrap();
    assert!(st.success());
    let out = tandem()
        .args(["index", "info", "--format", "json"])
        .arg(&idx)
        .output()
        .unwrap();
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["profiles"], 1036);
    assert_eq!(info["format_version"], 1);
    let out = tandem()
        .args(["index", "verify"])
        .arg(&idx)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // a search through the index file gives what a search of the table gives
    let q = dir.path().join("q.csv");
    let text = std::fs::read_to_string(nist_path()).unwrap();
    std::fs::write(&q, text.lines().take(4).collect::<Vec<_>>().join("\n")).unwrap();
    let from_index = tandem()
        .args(["search", "--db"])
        .arg(&idx)
        .arg("--query")
        .arg(&q)
        .output()
        .unwrap();
    let from_table = tandem()
        .args(["search", "--db"])
        .arg(nist_path())
        .arg("--query")
        .arg(&q)
        .output()
        .unwrap();
    assert!(from_index.status.success());
    assert_eq!(from_index.stdout, from_table.stdout);

    // expunge: the specimen is gone, the log has a record, unknown ids change nothing
    let out = tandem()
        .args(["index", "remove", "--index"])
        .arg(&idx)
        .args(["--id", "NOPE", "--reason", "test"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("NOPE"));
    let out = tandem()
        .args(["index", "remove", "--index"])
        .arg(&idx)
        .args([
            "--id",
            "GT37019",
            "--reason",
            "court order",
            "--user",
            "ana",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let index = file::verify(&idx).unwrap();
    assert_eq!(index.len(), 1035);
    let log = std::fs::read_to_string(dir.path().join("db.tandem.audit.jsonl")).unwrap();
    assert!(log.contains("\"specimen\":\"GT37019\"") && log.contains("\"user\":\"ana\""));
    let bytes = std::fs::read(&idx).unwrap();
    assert!(!bytes.windows(7).any(|w| w == b"GT37019"));

    // duplicates on add: error, nothing written; --replace works
    let before = std::fs::read(&idx).unwrap();
    let out = tandem()
        .args(["index", "add", "--index"])
        .arg(&idx)
        .arg("--input")
        .arg(&q)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read(&idx).unwrap(),
        before,
        "a failed add changed the file"
    );
    let out = tandem()
        .args(["index", "add", "--replace", "--index"])
        .arg(&idx)
        .arg("--input")
        .arg(&q)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(file::verify(&idx).unwrap().len(), 1036);

    // damage: a flipped byte makes verify fail with exit 2 and a message naming the section
    let mut b = std::fs::read(&idx).unwrap();
    let n = b.len();
    b[n / 2] ^= 0xff;
    std::fs::write(&idx, &b).unwrap();
    let out = tandem()
        .args(["index", "verify"])
        .arg(&idx)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("checksum mismatch"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = tandem()
        .args(["index", "info"])
        .arg(dir.path().join("q.csv"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a tandem index"));
}
