//! One writer at a time: concurrent `tandem index add` and `remove` processes on one index lose
//! nothing, a writer killed at any point (SIGKILL or SIGTERM) leaves the old file or the new one
//! and a free lock, and destructive mistakes are refused with exit code 2 and the target
//! byte-identical (`docs/FORMAT.md`, "Writers").

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tandem_core::durable::WriterLock;
use tandem_core::index::file;
use tandem_core::simulate::{AllelePools, Simulator};
use tandem_core::table::{TableOptions, read_path, write_wide};
use tandem_core::{Index, Kit, Profile};

mod common;
use common::{stderr, tandem, testdata};

fn simulator(seed: u64) -> Simulator {
    let nist = read_path(
        Path::new(&testdata("nist1036_genotypes_wide.csv")),
        &TableOptions::default(),
    )
    .unwrap()
    .profiles;
    Simulator::new(AllelePools::from_profiles(&nist), seed)
}

fn people(sim: &Simulator, n: usize, prefix: &str) -> Vec<Profile> {
    sim.unrelated_range(0..n, &Kit::GlobalFiler.loci(), prefix)
        .unwrap()
}

fn write_csv(path: &Path, profiles: &[Profile]) {
    write_wide(std::fs::File::create(path).unwrap(), profiles).unwrap();
}

fn ids(path: &Path) -> BTreeSet<String> {
    file::verify(path)
        .unwrap_or_else(|e| panic!("{e}"))
        .profiles()
        .map(|p| p.id().to_string())
        .collect()
}

/// xorshift64: reproducible "random" choices without a dependency.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// Temporary files a write left in `dir` (`.tandem-*.tmp`).
fn temporaries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(".tandem-") && n.ends_with(".tmp"))
        })
        .collect()
}

#[derive(Debug, Clone)]
enum Op {
    Add(Vec<String>, PathBuf),
    Remove(String),
}

#[test]
fn test_concurrent_writers_keep_exactly_the_successful_writes() {
    const WRITERS: usize = 8;
    const OPS: usize = 6;
    let dir = tempfile::tempdir().unwrap();
    let sim = simulator(18);
    let base = people(&sim, 2_000, "BASE");
    let path = dir.path().join("db.tandem");
    Index::from_profiles(&base).unwrap().write(&path).unwrap();

    // each writer's operations, decided up front: adds of fresh batches and removals of base
    // profiles of its own (so the effect of every success is known whatever the order)
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let plans: Vec<Vec<Op>> = (0..WRITERS)
        .map(|w| {
            (0..OPS)
                .map(|j| {
                    if next(&mut seed).is_multiple_of(2) {
                        let batch = people(&sim, 40, &format!("W{w}-{j}"));
                        let csv = dir.path().join(format!("w{w}-{j}.csv"));
                        write_csv(&csv, &batch);
                        Op::Add(batch.iter().map(|p| p.id().to_string()).collect(), csv)
                    } else {
                        Op::Remove(base[w * OPS + j].id().to_string())
                    }
                })
                .collect()
        })
        .collect();

    let results: Vec<Vec<(Op, bool, String)>> = std::thread::scope(|s| {
        let handles: Vec<_> = plans
            .iter()
            .map(|plan| {
                let path = &path;
                s.spawn(move || {
                    plan.iter()
                        .map(|op| {
                            let mut cmd = tandem();
                            match op {
                                Op::Add(_, csv) => {
                                    cmd.args(["index", "add", "--index"])
                                        .arg(path)
                                        .arg("--input")
                                        .arg(csv);
                                }
                                Op::Remove(id) => {
                                    cmd.args(["index", "remove", "--index"])
                                        .arg(path)
                                        .args(["--id", id, "--reason", "stress test"])
                                        .args(["--user", "ana"]);
                                }
                            }
                            let out = cmd.args(["--wait", "120"]).output().unwrap();
                            (op.clone(), out.status.success(), stderr(&out))
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let mut expected: BTreeSet<String> = base.iter().map(|p| p.id().to_string()).collect();
    let (mut adds, mut removes, mut failed, mut waited) = (0, 0, 0, 0);
    for (op, ok, err) in results.iter().flatten() {
        if err.contains("being changed by another writer") {
            waited += 1;
        }
        if !ok {
            failed += 1;
            eprintln!("failed: {op:?}: {err}");
            continue;
        }
        match op {
            Op::Add(ids, _) => {
                adds += 1;
                expected.extend(ids.iter().cloned());
            }
            Op::Remove(id) => {
                removes += 1;
                expected.remove(id);
            }
        }
    }
    let found = ids(&path);
    eprintln!(
        "{WRITERS} writers: {adds} adds and {removes} removals succeeded, {failed} failed, {waited} waited for the lock; {} profiles",
        found.len()
    );
    assert_eq!(failed, 0, "with a long wait every writer gets its turn");
    assert_eq!(adds + removes, WRITERS * OPS);
    assert!(adds > 0 && removes > 0);
    assert_eq!(
        found.len(),
        expected.len(),
        "the index holds exactly the effect of the successful writes"
    );
    assert_eq!(found, expected);
    // every reported removal is in the audit log, and the lock is free
    let log = std::fs::read_to_string(dir.path().join("db.tandem.audit.jsonl")).unwrap();
    for (op, _, _) in results.iter().flatten() {
        if let Op::Remove(id) = op {
            assert!(log.contains(&format!("\"specimens\":[\"{id}\"]")));
        }
    }
    assert!(WriterLock::try_acquire(&path).is_ok());
    assert!(temporaries(dir.path()).is_empty());
}

/// Runs `cmd` (after `reset`) and ends it with SIGKILL or SIGTERM (in turn) at a random point
/// between half and 1.1 times an uninterrupted run's duration, `rounds` times; `count` reads the target's profile count, which must be
/// `old` or `new` every time, with the lock free afterwards. After SIGTERM no temporary file is
/// left either. Returns how often the old and the new file were found.
fn kill_at_random_points(
    dir: &Path,
    target: &Path,
    reset: &dyn Fn(),
    cmd: &dyn Fn() -> Command,
    count: &dyn Fn() -> usize,
    (old, new): (usize, usize),
    rounds: usize,
) -> [usize; 2] {
    reset();
    let t = Instant::now();
    let out = cmd().output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let full = t.elapsed().as_micros().max(1000) as u64;
    assert_eq!(count(), new);

    let mut seed = 0x2545_f491_4f6c_dd1du64 ^ full;
    let mut outcomes = [0usize; 2];
    for round in 0..rounds {
        reset();
        assert_eq!(count(), old);
        // the second half of the run and a little beyond: where the temporary file is written
        // and renamed (before that, only inputs are read)
        let delay = full / 2 + next(&mut seed) % (full * 3 / 5);
        let mut child = cmd().stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(Duration::from_micros(delay));
        let sigterm = round % 2 == 1;
        if sigterm {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        } else {
            let _ = child.kill(); // SIGKILL: no destructor, no cleanup
        }
        let _ = child.wait();
        let what = if sigterm { "SIGTERM" } else { "SIGKILL" };
        match count() {
            n if n == old => outcomes[0] += 1,
            n if n == new => outcomes[1] += 1,
            n => panic!("after {what} at {delay} us the file holds {n} profiles"),
        }
        assert!(
            WriterLock::try_acquire(target).is_ok(),
            "the lock is held after {what} at {delay} us"
        );
        if sigterm {
            assert_eq!(
                temporaries(dir),
                Vec::<PathBuf>::new(),
                "temporary files left after SIGTERM at {delay} us"
            );
        }
        for t in temporaries(dir) {
            std::fs::remove_file(t).unwrap();
        }
    }
    outcomes
}

#[test]
fn test_killed_writers_leave_old_or_new_file_and_a_free_lock() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sim = simulator(11);
    let base = people(&sim, 20_000, "BASE");
    let more = people(&sim, 20_000, "MORE");
    let base_path = d.join("base.keep");
    Index::from_profiles(&base)
        .unwrap()
        .write(&base_path)
        .unwrap();
    let add_csv = d.join("more.csv");
    write_csv(&add_csv, &more);
    let ids_file = d.join("remove.txt");
    std::fs::write(
        &ids_file,
        base[..2_000]
            .iter()
            .map(|p| format!("{}\n", p.id()))
            .collect::<String>(),
    )
    .unwrap();
    let path = d.join("db.tandem");
    let reset = || {
        std::fs::copy(&base_path, &path).unwrap();
    };
    let count = || file::verify(&path).unwrap_or_else(|e| panic!("{e}")).len();

    let add = || {
        let mut c = tandem();
        c.args(["index", "add", "--index"])
            .arg(&path)
            .arg("--input")
            .arg(&add_csv);
        c
    };
    let o = kill_at_random_points(d, &path, &reset, &add, &count, (20_000, 40_000), 10);
    eprintln!("add: old index {} times, new index {} times", o[0], o[1]);

    let remove = || {
        let mut c = tandem();
        c.args(["index", "remove", "--index"])
            .arg(&path)
            .arg("--ids-file")
            .arg(&ids_file)
            .args(["--reason", "court order", "--user", "ana"]);
        c
    };
    let o = kill_at_random_points(d, &path, &reset, &remove, &count, (20_000, 18_000), 8);
    eprintln!("remove: old index {} times, new index {} times", o[0], o[1]);

    // merge: the regional index of GT (20,000) and SV, then GT grows to 40,000
    let gt = d.join("gt.tdx");
    let sv = d.join("sv.tdx");
    Index::from_profiles(&people(&sim, 5_000, "SVP"))
        .unwrap()
        .write(&sv)
        .unwrap();
    let regional = d.join("region.tdx");
    let regional_v1 = d.join("region.keep");
    let merge = || {
        let mut c = tandem();
        c.args(["regional", "merge", "--out"])
            .arg(&regional)
            .arg("--national")
            .arg(format!("GT={}", gt.display()))
            .arg("--national")
            .arg(format!("SV={}", sv.display()))
            .stdout(Stdio::null());
        c
    };
    std::fs::copy(&base_path, &gt).unwrap();
    assert!(merge().status().unwrap().success());
    std::fs::copy(&regional, &regional_v1).unwrap();
    let mut grown = base.clone();
    grown.extend(more.iter().cloned());
    Index::from_profiles(&grown).unwrap().write(&gt).unwrap();
    let reset_regional = || {
        std::fs::copy(&regional_v1, &regional).unwrap();
    };
    let count_regional = || {
        file::verify(&regional)
            .unwrap_or_else(|e| panic!("{e}"))
            .len()
    };
    let o = kill_at_random_points(
        d,
        &regional,
        &reset_regional,
        &merge,
        &count_regional,
        (25_000, 45_000),
        8,
    );
    eprintln!("merge: old index {} times, new index {} times", o[0], o[1]);
}

#[test]
fn test_destructive_mistakes_are_refused_and_leave_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let nist = testdata("nist1036_genotypes_wide.csv");
    let idx = d.join("db.tandem");
    let st = tandem()
        .args(["index", "build", "--input", &nist, "--out"])
        .arg(&idx)
        .status()
        .unwrap();
    assert!(st.success());
    let before = std::fs::read(&idx).unwrap();

    // a header-only export over an index of 1036 profiles
    let header = std::fs::read_to_string(&nist)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let empty = d.join("empty.csv");
    std::fs::write(&empty, format!("{header}\n")).unwrap();
    let out = tandem()
        .args(["index", "build", "--input"])
        .arg(&empty)
        .arg("--out")
        .arg(&idx)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("1036 profiles"), "{}", stderr(&out));
    assert!(stderr(&out).contains("--allow-empty"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&idx).unwrap(), before);

    // --out over a file that is not an index
    let table = d.join("table.csv");
    std::fs::copy(&nist, &table).unwrap();
    let table_before = std::fs::read(&table).unwrap();
    let out = tandem()
        .args(["index", "build", "--input", &nist, "--out"])
        .arg(&table)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a tandem index") && stderr(&out).contains("--force"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&table).unwrap(), table_before);

    // a regional merge whose output is a table, and one that would empty a regional index
    // (an index copied with its ledger, as a backup is restored)
    let gt = d.join("gt.tdx");
    std::fs::copy(&idx, &gt).unwrap();
    std::fs::copy(
        d.join("db.tandem.audit.jsonl"),
        d.join("gt.tdx.audit.jsonl"),
    )
    .unwrap();
    let national = format!("GT={}", gt.display());
    let out = tandem()
        .args(["regional", "merge", "--national", &national, "--out"])
        .arg(&table)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(std::fs::read(&table).unwrap(), table_before);
    let regional = d.join("region.tdx");
    let out = tandem()
        .args(["regional", "merge", "--national", &national, "--out"])
        .arg(&regional)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let regional_before = std::fs::read(&regional).unwrap();
    let st = tandem()
        .args(["index", "build", "--allow-empty", "--input"])
        .arg(&empty)
        .arg("--out")
        .arg(&gt)
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(file::verify(&gt).unwrap().len(), 0);
    let out = tandem()
        .args(["regional", "merge", "--national", &national, "--out"])
        .arg(&regional)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--allow-empty"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&regional).unwrap(), regional_before);

    // a held lock: the writer waits, names the holder, gives up with exit 2 and changes nothing
    let ledger_before = std::fs::read(d.join("db.tandem.audit.jsonl")).unwrap();
    let held = WriterLock::try_acquire(&idx).unwrap();
    let t = Instant::now();
    let out = tandem()
        .args(["index", "remove", "--index"])
        .arg(&idx)
        .args([
            "--id",
            "GT37019",
            "--reason",
            "court order",
            "--wait",
            "0.5",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(t.elapsed() >= Duration::from_millis(500));
    let err = stderr(&out);
    let pid = format!("pid {}", std::process::id());
    assert!(
        err.contains("being changed by another writer") && err.contains(&pid),
        "{err}"
    );
    assert!(err.contains("gave up after waiting"), "{err}");
    assert_eq!(std::fs::read(&idx).unwrap(), before);
    assert_eq!(
        std::fs::read(d.join("db.tandem.audit.jsonl")).unwrap(),
        ledger_before
    );
    for args in [
        vec![
            "index",
            "add",
            "--input",
            nist.as_str(),
            "--replace",
            "--wait",
            "0",
        ],
        vec!["index", "build", "--input", nist.as_str(), "--wait", "0"],
    ] {
        let flag = if args[1] == "add" { "--index" } else { "--out" };
        let out = tandem().args(&args).arg(flag).arg(&idx).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(&pid), "{}", stderr(&out));
        assert_eq!(std::fs::read(&idx).unwrap(), before);
    }
    drop(held);

    // the overrides do what they say
    let out = tandem()
        .args(["index", "build", "--allow-empty", "--input"])
        .arg(&empty)
        .arg("--out")
        .arg(&idx)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(file::verify(&idx).unwrap().len(), 0);
    let out = tandem()
        .args(["index", "build", "--force", "--input", &nist, "--out"])
        .arg(&table)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(file::verify(&table).unwrap().len(), 1036);
    assert!(temporaries(d).is_empty());
}
