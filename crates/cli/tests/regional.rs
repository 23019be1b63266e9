//! End-to-end tests of `tandem regional` with three simulated countries (GT GlobalFiler, SV
//! PowerPlex Fusion, HN Identifiler) and planted cross-border duplicates.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Output;

use tandem_core::freq::{FreqOptions, FreqTable};
use tandem_core::simulate::{AllelePools, Simulator};
use tandem_core::{Index, Kit};
use tandem_regional::CountryKey;
use tandem_regional::scenario::{self, CountrySpec, Planted};

mod common;
use common::{stderr, stdout, tandem};

fn freqs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/nist1036_allele_freqs.csv")
}

struct World {
    dir: tempfile::TempDir,
    nationals: Vec<(String, PathBuf)>,
    planted: Vec<Planted>,
}

fn world() -> World {
    let table = FreqTable::read_path(&freqs(), &FreqOptions::default()).unwrap();
    let pools = AllelePools::from_frequencies(table.populations()[0].pool_rows()).unwrap();
    let sim = Simulator::new(pools, 2026);
    let specs = [
        ("GT", 300, Kit::GlobalFiler),
        ("SV", 200, Kit::PowerPlexFusion),
        ("HN", 200, Kit::Identifiler),
    ]
    .map(|(c, n, kit)| CountrySpec {
        country: c.parse().unwrap(),
        profiles: n,
        kit,
    });
    let s = scenario::simulate(&sim, &specs, 20).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let nationals = s
        .nationals
        .iter()
        .map(|(c, profiles)| {
            let path = dir.path().join(format!("{c}.tdx"));
            Index::from_profiles(profiles)
                .unwrap()
                .write(&path)
                .unwrap();
            (c.to_string(), path)
        })
        .collect();
    World {
        dir,
        nationals,
        planted: s.planted,
    }
}

fn national_args(w: &World, order: &[usize]) -> Vec<String> {
    order
        .iter()
        .flat_map(|&i| {
            let (c, p) = &w.nationals[i];
            ["--national".to_string(), format!("{c}={}", p.display())]
        })
        .collect()
}

fn run(args: &[&str], extra: &[String]) -> Output {
    tandem().args(args).args(extra).output().unwrap()
}

#[test]
fn test_regional_end_to_end() {
    let w = world();
    let out = w.dir.path().join("region.tdx");
    let out_s = out.to_str().unwrap();
    let o = run(
        &["regional", "merge", "--out", out_s, "--with-hits"],
        &national_args(&w, &[0, 1, 2]),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report = stdout(&o);
    assert!(report.starts_with("section\tcountry\tcategory\treason\tcount\n"));
    assert!(report.contains("regional\t*\t*\t\t700\n"), "{report}");
    assert!(
        report.contains("hits\t*\tConvicted Offender / Forensic, Unknown\t\t"),
        "{report}"
    );

    // nothing national in the file, and the order of the inputs changes nothing
    let bytes = std::fs::read(&out).unwrap();
    assert!(!bytes.windows(5).any(|x| x == b"-NAT-"));
    let out2 = w.dir.path().join("region2.tdx");
    let o = run(
        &["regional", "merge", "--out", out2.to_str().unwrap()],
        &national_args(&w, &[2, 0, 1]),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // the same profiles byte for byte; only the ledger head each file records (header bytes
    // 36..60, and the header checksum) may differ
    let mut b2 = std::fs::read(&out2).unwrap();
    let mut b1 = bytes.clone();
    b1[36..64].fill(0);
    b2[36..64].fill(0);
    assert_eq!(b2, b1);

    // every planted duplicate is a cross-border hit
    let o = run(&["regional", "hits", "--regional", out_s], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let hits = stdout(&o);
    assert!(hits.starts_with("country_a\treference_a\t"));
    let key = |c: &str| {
        let (_, p) = w.nationals.iter().find(|(cc, _)| cc == c).unwrap();
        CountryKey::load(p).unwrap()
    };
    let pairs: Vec<(String, String)> = hits
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[1].to_string(), f[4].to_string())
        })
        .collect();
    for p in &w.planted {
        let a = key(p.from.as_str())
            .reference(p.from, &p.from_id)
            .to_string();
        let b = key(p.to.as_str()).reference(p.to, &p.to_id).to_string();
        let (a, b) = if a < b { (a, b) } else { (b, a) };
        assert!(pairs.contains(&(a, b)), "planted pair {p:?} not found");
    }

    // with a frequency table, each pair carries its RMP; JSON lines too
    let f = freqs();
    let o = run(
        &[
            "regional",
            "hits",
            "--regional",
            out_s,
            "--freq",
            f.to_str().unwrap(),
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let first: serde_json::Value =
        serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert!(first["log10_rmp"].as_f64().unwrap() < -5.0, "{first}");
    assert_ne!(first["a"]["country"], first["b"]["country"]);

    // GT searching the others: references of SV/HN only, never a national id
    let gt = w.nationals[0].1.to_str().unwrap();
    let o = run(
        &[
            "regional",
            "search",
            "--regional",
            out_s,
            "--query",
            gt,
            "--from",
            "GT",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let hit_rows: Vec<&str> = text.lines().filter(|l| l.contains("\thit\t")).collect();
    assert_eq!(hit_rows.len(), 20, "{text}");
    assert!(hit_rows.iter().all(|l| l.split('\t').nth(2) == Some("SV")));
    assert!(
        hit_rows
            .iter()
            .all(|l| !l.split('\t').nth(3).unwrap().contains("NAT"))
    );

    // SV resolves its own reference; GT cannot
    let first = &w.planted[0];
    let sv_ref = key("SV").reference(first.to, &first.to_id).to_string();
    let sv_nat = format!("SV={}", w.nationals[1].1.display());
    let o = run(
        &[
            "regional",
            "resolve",
            "--national",
            &sv_nat,
            "--reference",
            &sv_ref,
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!("reference\tspecimen\n{sv_ref}\t{}\n", first.to_id)
    );
    let gt_nat = format!("GT={gt}");
    let o = run(
        &[
            "regional",
            "resolve",
            "--national",
            &gt_nat,
            "--reference",
            &sv_ref,
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("only SV can resolve it"),
        "{}",
        stderr(&o)
    );

    // expunge: gone now, gone after the next merge, and the audit log has no genetic data
    let o = run(
        &[
            "regional",
            "expunge",
            "--regional",
            out_s,
            "--reference",
            &sv_ref,
            "--reason",
            "court order",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        !Index::open(&out)
            .unwrap()
            .contains(&sv_ref.parse().unwrap())
    );
    let o = run(
        &["regional", "merge", "--out", out_s],
        &national_args(&w, &[0, 1, 2]),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("withheld\tSV\t*\texpunged\t1\n"),
        "{}",
        stdout(&o)
    );
    assert!(
        !Index::open(&out)
            .unwrap()
            .contains(&sv_ref.parse().unwrap())
    );
    let log = std::fs::read_to_string(tandem_core::index::ledger::log_path(&out)).unwrap();
    assert!(log.contains(&sv_ref) && !log.contains("NAT") && !log.contains("allele"));
    let ledger = || std::fs::read_to_string(tandem_core::index::ledger::log_path(&out)).unwrap();

    // SV's key lost: the merge refuses to mint new references (file and ledger untouched) ...
    let (_, sv_path) = w.nationals.iter().find(|(c, _)| c == "SV").unwrap();
    let sv_key = tandem_regional::key::key_path(sv_path);
    std::fs::rename(&sv_key, sv_key.with_extension("lost")).unwrap();
    let (before, ledger_before) = (std::fs::read(&out).unwrap(), ledger());
    let o = run(
        &["regional", "merge", "--out", out_s],
        &national_args(&w, &[0, 1, 2]),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the key of SV is missing") && stderr(&o).contains("--new-key-for"),
        "{}",
        stderr(&o)
    );
    assert!(!sv_key.exists(), "a key was minted");
    assert_eq!(std::fs::read(&out).unwrap(), before);
    assert_eq!(ledger(), ledger_before);
    // ... unless told, on the record; the expunged SV profile stays out under its new reference
    let o = run(
        &["regional", "merge", "--out", out_s, "--new-key-for", "SV"],
        &national_args(&w, &[0, 1, 2]),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("withheld\tSV\t*\texpunged\t1\n"),
        "{}",
        stdout(&o)
    );
    let regional = Index::open(&out).unwrap();
    assert_eq!(regional.len(), 699);
    assert!(!regional.contains(&sv_ref.parse().unwrap()));
    let log = ledger();
    assert!(log.contains("\"action\":\"new_key\"") && log.contains("carried to the references"));
    assert!(
        tandem_core::index::ledger::verify(&regional, &out).is_ok(),
        "the regional ledger verifies"
    );

    // HN left out: refused (file untouched) unless dropped on the record
    let before = std::fs::read(&out).unwrap();
    let o = run(
        &["regional", "merge", "--out", out_s],
        &national_args(&w, &[0, 1]),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("HN is in the regional index"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&out).unwrap(), before);
    let o = run(
        &["regional", "merge", "--out", out_s, "--drop-country", "HN"],
        &national_args(&w, &[0, 1]),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let regional = Index::open(&out).unwrap();
    assert!(
        regional
            .profiles()
            .all(|p| !p.id().as_str().starts_with("HN-"))
    );
    assert!(
        ledger().contains("\"action\":\"drop_country\",\"countries\":[\"HN\"]")
            || ledger().contains("drop_country")
    );
    // and a made-up country code is no country
    let o = run(
        &["regional", "merge", "--out", out_s, "--national"],
        &[format!("XX={}", sv_path.display())],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn test_regional_bad_inputs() {
    let w = world();
    let out = w.dir.path().join("region.tdx");
    let out_s = out.to_str().unwrap();
    let o = run(
        &["regional", "merge", "--out", out_s],
        &national_args(&w, &[0, 1]),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let before = std::fs::read(&out).unwrap();

    // the same country twice
    let mut args = national_args(&w, &[0, 1]);
    args.push("--national".into());
    args.push(format!("GT={}", w.nationals[2].1.display()));
    let o = run(&["regional", "merge", "--out", out_s], &args);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("two national indexes for GT"),
        "{}",
        stderr(&o)
    );

    // a policy naming an unknown category
    let policy = w.dir.path().join("policy.toml");
    std::fs::write(&policy, "[SV]\nwithhold = [\"Juvenil\"]\n").unwrap();
    let o = run(
        &[
            "regional",
            "merge",
            "--out",
            out_s,
            "--policy",
            policy.to_str().unwrap(),
        ],
        &national_args(&w, &[0, 1]),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown specimen category 'Juvenil'"),
        "{}",
        stderr(&o)
    );

    // a corrupt national input: error, the regional index untouched
    let sv = &w.nationals[1].1;
    let mut bytes = std::fs::read(sv).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0x5a;
    std::fs::write(sv, bytes).unwrap();
    let o = run(
        &["regional", "merge", "--out", out_s],
        &national_args(&w, &[0, 1]),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("national index of SV fails verification"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&out).unwrap(), before);

    // a malformed --national
    let o = run(
        &[
            "regional",
            "merge",
            "--out",
            out_s,
            "--national",
            "Guatemala",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn test_regional_policy_withholds() {
    let w = world();
    let out = w.dir.path().join("region.tdx");
    let policy = w.dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[default]\nmin_loci = 8\npanel = \"CODIS 13\"\n[SV]\ncategories = [\"Convicted Offender\"]\n",
    )
    .unwrap();
    let o = run(
        &[
            "regional",
            "merge",
            "--out",
            out.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
            "--format",
            "json",
        ],
        &national_args(&w, &[0, 1, 2]),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let sv = &v["report"]["countries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["country"] == "SV")
        .unwrap()["total"];
    assert_eq!(sv["withheld"]["category"], 20, "{sv}");
    assert_eq!(v["report"]["regional_profiles"], 680);
}
