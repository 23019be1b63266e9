//! `tandem index`: the round trip, expungement and the CLI conventions (crash safety and the
//! writer lock are in `writers.rs`).

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::Path;

use tandem_core::index::file;

mod common;
use common::tandem;

fn nist_path() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/nist1036_genotypes_wide.csv"
    ))
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
    assert_eq!(info["format_version"], 2);
    assert_eq!(info["ledger_head_seq"], 1);
    assert_eq!(info["removals_in_force"], 0);
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
    assert!(log.contains("\"specimens\":[\"GT37019\"]") && log.contains("\"user\":\"ana\""));
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
    // the removal is final: a re-import of the removed specimen (add --replace, add, build over
    // the index) is refused, naming it and its removal, and nothing is written
    let again = dir.path().join("again.csv");
    std::fs::write(
        &again,
        text.lines()
            .take(1)
            .chain(text.lines().filter(|l| l.starts_with("GT37019")))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    for args in [
        vec!["index", "add", "--replace", "--index"],
        vec!["index", "add", "--index"],
        vec![
            "index",
            "build",
            "--input",
            nist_path().to_str().unwrap(),
            "--out",
        ],
    ] {
        let mut cmd = tandem();
        cmd.args(&args).arg(&idx);
        if args[1] == "add" {
            cmd.arg("--input")
                .arg(if args[2] == "--replace" { &q } else { &again });
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("specimen GT37019 was removed by ledger record 2")
                && err.contains("--readmit"),
            "{args:?}: {err}"
        );
        assert_eq!(
            std::fs::read(&idx).unwrap(),
            before,
            "{args:?} changed the file"
        );
    }
    // re-admitted explicitly: done, and on the record
    let out = tandem()
        .args(["index", "add", "--replace", "--index"])
        .arg(&idx)
        .arg("--input")
        .arg(&q)
        .args([
            "--readmit",
            "GT37019",
            "--reason",
            "conviction reinstated 4/2027",
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
    assert_eq!(file::verify(&idx).unwrap().len(), 1036);
    let log = std::fs::read_to_string(dir.path().join("db.tandem.audit.jsonl")).unwrap();
    assert!(log.contains("\"action\":\"readmit\"") && log.contains("conviction reinstated"));
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
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("4 records, head 4, 0 removals in force")
    );

    // a tampered ledger fails verify (exit 2) naming the first bad record, and blocks writers
    let ledger = dir.path().join("db.tandem.audit.jsonl");
    let good = std::fs::read_to_string(&ledger).unwrap();
    std::fs::write(&ledger, good.replacen("court order", "court ordex", 1)).unwrap();
    let out = tandem()
        .args(["index", "verify"])
        .arg(&idx)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line 3: record 3 breaks the chain"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = std::fs::read(&idx).unwrap();
    let out = tandem()
        .args(["index", "remove", "--index"])
        .arg(&idx)
        .args(["--id", "GT37019", "--reason", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&idx).unwrap(), before);
    std::fs::remove_file(&ledger).unwrap();
    let out = tandem()
        .args(["index", "verify"])
        .arg(&idx)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the ledger has 0 records"));
    std::fs::write(&ledger, &good).unwrap();

    // no $USER or $LOGNAME (cron): the user id's passwd name is recorded, never "unknown"
    let out = tandem()
        .args(["index", "remove", "--index"])
        .arg(&idx)
        .args(["--id", "GT37019", "--reason", "court order 2"])
        .env_remove("USER")
        .env_remove("LOGNAME")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = std::fs::read_to_string(&ledger).unwrap();
    let last = last.lines().last().unwrap().to_string();
    assert!(
        !last.contains("\"user\":\"unknown\"") && !last.contains("\"user\":\"\""),
        "{last}"
    );

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
