//! End-to-end tests of the statistics commands: `rmp`, `kin`, `compare`, `expect`, `simulate`.

use std::path::{Path, PathBuf};

mod common;
use common::{run as tandem, stderr, stdout, testdata};

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).expect("write");
    p
}

const FREQ: &str = "population,locus,allele,frequency,n_alleles\n\
    A,TH01,6,0.2,1000\nA,TH01,7,0.5,1000\nA,TH01,9.3,0.3,1000\n\
    A,vWA,16,0.25,1000\nA,vWA,17,0.75,1000\n\
    B,TH01,6,0.4,1000\nB,TH01,7,0.3,1000\nB,TH01,9.3,0.3,1000\n\
    B,vWA,16,0.5,1000\nB,vWA,17,0.5,1000\n";

#[test]
fn test_rmp_tsv_per_locus_and_combined() {
    let dir = tempfile::tempdir().expect("tempdir");
    let freq = write(&dir, "f.csv", FREQ);
    let prof = write(&dir, "p.csv", "id,TH01,vWA\nS1,\"6,9.3\",16\n");
    let o = tandem(&[
        "rmp",
        "--profile",
        p(&prof),
        "--freq",
        p(&freq),
        "--population",
        "A",
        "--model",
        "hw",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "profile\tpopulation\tlocus\tgenotype\trule\trmp\tlog10_rmp"
    );
    assert!(
        lines[1].starts_with("S1\tA\tTH01\t6,9.3\theterozygote\t1.2000e-1\t"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("S1\tA\tvWA\t16\thomozygote\t6.2500e-2\t"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with("S1\tA\tcombined\t-\t2 loci\t7.5000e-3\t"),
        "{}",
        lines[3]
    );
    // every population, then the most conservative (largest RMP)
    let o = tandem(&[
        "rmp",
        "--profile",
        p(&prof),
        "--freq",
        p(&freq),
        "--model",
        "hw",
    ]);
    let out = stdout(&o);
    assert!(
        out.lines()
            .any(|l| l.starts_with("S1\tconservative:B\tcombined")),
        "{out}"
    );
}

#[test]
fn test_rmp_errors_exit_2_with_location() {
    let dir = tempfile::tempdir().expect("tempdir");
    let freq = write(&dir, "f.csv", FREQ);
    let prof = write(&dir, "p.csv", "id,TH01\nS1,6\n");
    let o = tandem(&[
        "rmp",
        "--profile",
        p(&prof),
        "--freq",
        p(&freq),
        "--population",
        "Martian",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no population 'Martian'"),
        "{}",
        stderr(&o)
    );
    let bad = write(
        &dir,
        "bad.csv",
        "population,locus,allele,frequency\nA,TH01,6,zero\n",
    );
    let o = tandem(&["rmp", "--profile", p(&prof), "--freq", p(&bad)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bad.csv, line 2, column 4: frequency 'zero': not a number"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn test_kin_lists_direct_matches_apart_and_textbook_lr() {
    let dir = tempfile::tempdir().expect("tempdir");
    let freq = write(&dir, "f.csv", FREQ);
    // Q is 6,7 / 16,17; C1 is the same person; P1 is a parent (6,9.3 / 16); U1 shares nothing at TH01
    let db = write(
        &dir,
        "db.csv",
        "id,TH01,vWA\nC1,\"6,7\",\"16,17\"\nP1,\"6,9.3\",16\nU1,9.3,17\n",
    );
    let q = write(&dir, "q.csv", "id,TH01,vWA\nQ,\"6,7\",\"16,17\"\n");
    let o = tandem(&[
        "kin",
        "--db",
        p(&db),
        "--query",
        p(&q),
        "--freq",
        p(&freq),
        "--population",
        "A",
        "--relationship",
        "parent-child",
        "--theta",
        "0",
        "--mutation-rate",
        "0",
        "--dropout",
        "0",
        "--min-loci",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "query\trank\tcandidate\tlog10_lr\tlr\tposterior\tconsistent_loci\tmutation_loci\tinconclusive_loci\texcluded_loci"
    );
    assert!(lines[1].starts_with("Q\tdirect\tC1\t"), "{out}");
    let p1: Vec<&str> = lines[2].split('\t').collect();
    assert_eq!(&p1[..3], &["Q", "1", "P1"]);
    // textbook parent-child: ab/ac = 1/(4 pa) at TH01 (pa = 0.2), aa/ab = 1/(2 pa) at vWA (pa = 0.25)
    let want = (1.0f64 / (4.0 * 0.2) * 1.0 / (2.0 * 0.25)).log10();
    let got: f64 = p1[3].parse().expect("log10_lr");
    assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    assert_eq!(&p1[6..], &["2", "0", "0", "0"]);
    // U1 is excluded at TH01 without mutation: LR 0, ranked last
    assert!(lines[3].starts_with("Q\t2\tU1\t-inf"), "{out}");
}

#[test]
fn test_compare_and_expect() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = write(
        &dir,
        "db.csv",
        "id,TH01,vWA\nA,\"6,7\",16\nB,\"6,7\",\"16,17\"\nC,8,\n",
    );
    let o = tandem(&["compare", "--db", p(&db), "--hit", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("matching\tpartial\tpairs\n0\t0\t2\n"),
        "{out}"
    );
    assert!(out.contains("\n1\t1\t1\n"), "{out}");
    assert!(
        out.contains("a\tb\tmatching\tpartial\nA\tB\t1\t1\n"),
        "{out}"
    );
    let o = tandem(&[
        "expect",
        "--freq",
        &testdata("fbi2015_allele_freqs.csv"),
        "--population",
        "Caucasian",
        "--loci",
        "CODIS 13",
        "--n",
        "65493",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let total: f64 = stdout(&o)
        .lines()
        .skip(1)
        .map(|l| {
            l.split('\t')
                .nth(2)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        })
        .sum();
    assert!((total - 2_144_633_778.0).abs() < 10.0, "{total}");
    let o = tandem(&[
        "expect",
        "--freq",
        &testdata("fbi2015_allele_freqs.csv"),
        "--loci",
        "CODIS 13",
        "--n",
        "10",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "several populations need --population"
    );
}

#[test]
fn test_simulate_is_deterministic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |out: &Path, truth: &Path| {
        tandem(&[
            "simulate",
            "--freq",
            &testdata("nist1036_allele_freqs.csv"),
            "--population",
            "Hisp",
            "--count",
            "50",
            "--seed",
            "9",
            "--loci",
            "CODIS 20",
            "--relatives",
            "parent-child:3,full-sibling:2",
            "--mixtures",
            "2:2",
            "--dropout",
            "0.05,0.08",
            "--out",
            p(out),
            "--truth",
            p(truth),
        ])
    };
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    let (ta, tb) = (dir.path().join("a.tsv"), dir.path().join("b.tsv"));
    assert!(run(&a, &ta).status.success());
    assert!(run(&b, &tb).status.success());
    let text = std::fs::read_to_string(&a).expect("read");
    assert_eq!(text, std::fs::read_to_string(&b).expect("read"));
    assert_eq!(text.lines().count(), 1 + 50 + 5 + 2);
    let truth = std::fs::read_to_string(&ta).expect("truth");
    assert!(
        truth
            .lines()
            .filter(|l| l.ends_with("\tparent-child"))
            .count()
            == 3,
        "{truth}"
    );
}

fn p(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}
