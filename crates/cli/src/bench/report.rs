//! The results of a benchmark run: the JSON report, the table on stdout and the Markdown report
//! with its SVG plots.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::data::{DataInfo, KIN_DROPOUT, MUTATION_RATE, QUERY_DROPOUT};
use super::machine::Machine;
use super::measure::Timing;
use super::suites::{
    BUILD_MAX, BatchSuite, CompareSuite, IndexSuite, KinshipSuite, MatchCount, Scaling, SearchSuite,
};
use super::{Args, SuiteArg, plot};
use crate::demo::{duration, thousands};
use crate::io::write_atomically;

/// Where `--report PATH` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPaths {
    /// PATH itself: the JSON report.
    pub json: PathBuf,
    /// PATH with the extension `.md`.
    pub markdown: PathBuf,
    /// `STEM-throughput.svg` beside PATH: search throughput against database size.
    pub throughput_svg: PathBuf,
    /// `STEM-matches.svg` beside PATH: observed and expected pairs by matching loci.
    pub matches_svg: PathBuf,
}

/// The files of `--report PATH`, checked before any benchmark runs.
pub fn paths(path: &Path) -> Result<ReportPaths> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if matches!(ext.as_deref(), Some("md" | "svg")) {
        bail!(
            "--report {}: give the path of the JSON report (e.g. bench.json); the Markdown report \
             and the plots are written beside it",
            path.display()
        );
    }
    let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
        bail!("--report {}: not a file name", path.display());
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        bail!(
            "--report {}: the directory {} does not exist",
            path.display(),
            dir.display()
        );
    }
    Ok(ReportPaths {
        json: path.to_path_buf(),
        markdown: path.with_extension("md"),
        throughput_svg: dir.join(format!("{stem}-throughput.svg")),
        matches_svg: dir.join(format!("{stem}-matches.svg")),
    })
}

/// The parameters of a run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Parameters {
    /// The suites run, in order.
    pub suites: Vec<&'static str>,
    /// `--profiles` (simulated data).
    pub profiles: Option<usize>,
    /// `--db`.
    pub db: Option<String>,
    /// `--loci` as given.
    pub loci: Option<String>,
    /// `--freq`.
    pub freq: Option<String>,
    /// `--population`.
    pub population: Option<String>,
    /// Threads of the "all threads" figures.
    pub threads: usize,
    /// `--seed`.
    pub seed: u64,
    /// Measured runs per benchmark.
    pub runs: usize,
    /// Warm-up runs per benchmark.
    pub warmup: usize,
    /// Queries of the search and batch suites.
    pub queries: usize,
    /// Queries of the familial search.
    pub kinship_queries: usize,
    /// Most profiles compared by the compare suite.
    pub compare_max: usize,
    /// Most profiles the index suite builds an index from.
    pub build_max: usize,
    /// The search options of the search and batch suites.
    pub search_options: String,
    /// How the single-source queries are made.
    pub queries_are: String,
    /// How the familial-search queries are made.
    pub kinship_queries_are: String,
}

impl Parameters {
    /// The parameters of `args`.
    pub fn new(args: &Args, suites: &[SuiteArg], threads: usize) -> Parameters {
        Parameters {
            suites: suites.iter().map(|s| s.name()).collect(),
            profiles: args.db.is_none().then_some(args.profiles),
            db: args.db.as_ref().map(|p| p.display().to_string()),
            loci: args.loci.clone(),
            freq: args.freq.as_ref().map(|p| p.display().to_string()),
            population: args.population.clone(),
            threads,
            seed: args.seed,
            runs: args.runs,
            warmup: args.warmup,
            queries: args.queries,
            kinship_queries: args.kinship_queries,
            compare_max: args.compare_max,
            build_max: BUILD_MAX,
            search_options: "CODIS moderate stringency, at least 8 loci compared, no mismatch"
                .to_string(),
            queries_are: format!(
                "degraded copies of random database profiles: each locus lost with probability \
                 {}, one allele of a heterozygous locus lost with probability {}",
                QUERY_DROPOUT.0, QUERY_DROPOUT.1
            ),
            kinship_queries_are: format!(
                "a simulated parent of a random database profile (mutation rate {MUTATION_RATE}), \
                 degraded ({}, {}); parent-child kinship index, top 20",
                KIN_DROPOUT.0, KIN_DROPOUT.1
            ),
        }
    }
}

/// The suites that ran.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Suites {
    /// Single queries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<SearchSuite>,
    /// Batch search.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchSuite>,
    /// Familial search.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kinship: Option<KinshipSuite>,
    /// All-pairs comparison.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compare: Option<CompareSuite>,
    /// Index files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<IndexSuite>,
}

/// Everything a run measured: what `--report` writes as JSON.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// `tandem bench`.
    pub tool: &'static str,
    /// The tandem version.
    pub tandem_version: String,
    /// Start time, RFC 3339, UTC.
    pub started_at: String,
    /// End time.
    pub finished_at: String,
    /// Wall time of the whole run.
    pub elapsed_s: f64,
    /// True when Ctrl-C stopped the run: the suites hold the results measured before it.
    pub interrupted: bool,
    /// `suite` when each suite's peak memory is its own (Linux), `process` when it is the
    /// process's peak so far.
    pub peak_rss_scope: &'static str,
    /// The arguments.
    pub parameters: Parameters,
    /// The machine.
    pub machine: Machine,
    /// The database.
    pub database: DataInfo,
    /// The results of each suite.
    pub suites: Suites,
    /// One thread against `threads` threads.
    pub scaling: Vec<Scaling>,
}

/// One line of the results table.
struct Row {
    suite: &'static str,
    what: String,
    timing: Option<Timing>,
    throughput: String,
}

/// A rate with an SI prefix: `352 M`, `12.3 k`.
fn si(x: f64) -> String {
    let (v, p) = if x >= 1e9 {
        (x / 1e9, " G")
    } else if x >= 1e6 {
        (x / 1e6, " M")
    } else if x >= 1e3 {
        (x / 1e3, " k")
    } else {
        (x, "")
    };
    if v >= 100.0 {
        format!("{v:.0}{p}")
    } else if v >= 10.0 {
        format!("{v:.1}{p}")
    } else {
        format!("{v:.2}{p}")
    }
}

/// Seconds as µs, ms or s.
fn secs(s: f64) -> String {
    duration(Duration::from_secs_f64(s.max(0.0)))
}

/// Bytes in MiB or GiB.
fn bytes(b: u64) -> String {
    let mib = b as f64 / f64::from(1u32 << 20);
    if mib >= 1024.0 {
        format!("{:.2} GiB", mib / 1024.0)
    } else {
        format!("{mib:.1} MiB")
    }
}

/// `352 M comparisons/s`; empty for `None`.
fn rate(x: Option<f64>, unit: &str) -> String {
    x.map_or_else(String::new, |x| format!("{} {unit}/s", si(x)))
}

fn threads_label(t: usize) -> String {
    if t == 1 {
        "1 thread".to_string()
    } else {
        format!("{t} threads")
    }
}

/// Pairs of a count: `12` or `1.2e-3`.
fn count(x: f64) -> String {
    if x == 0.0 {
        "0".to_string()
    } else if x >= 100.0 {
        thousands(x.round() as usize)
    } else if x >= 0.1 {
        format!("{x:.2}")
    } else {
        format!("{x:.2e}")
    }
}

impl Report {
    fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        let s = &self.suites;
        if let Some(search) = &s.search {
            for size in &search.sizes {
                let n = thousands(size.profiles);
                rows.push(Row {
                    suite: "search",
                    what: format!(
                        "forced scan, {n} profiles, {}",
                        threads_label(search.threads)
                    ),
                    timing: size.scan.clone(),
                    throughput: rate(size.comparisons_per_s, "comparisons"),
                });
                if size.scan_1_thread.is_some() {
                    rows.push(Row {
                        suite: "search",
                        what: format!("forced scan, {n} profiles, 1 thread"),
                        timing: size.scan_1_thread.clone(),
                        throughput: rate(size.comparisons_per_s_1_thread, "comparisons"),
                    });
                }
                if let Some(p) = &size.planner {
                    rows.push(Row {
                        suite: "search",
                        what: format!("{} single queries, {n} profiles", p.queries),
                        timing: Some(p.run.clone()),
                        throughput: rate(Some(p.queries_per_s), "queries"),
                    });
                }
            }
        }
        if let Some(b) = &s.batch {
            let what = |t: usize| {
                format!(
                    "batch of {} queries, {} profiles, {}",
                    b.queries,
                    thousands(b.profiles),
                    threads_label(t)
                )
            };
            rows.push(Row {
                suite: "batch",
                what: what(b.threads),
                timing: b.all_threads.clone(),
                throughput: rate(b.queries_per_s, "queries"),
            });
            if b.one_thread.is_some() {
                rows.push(Row {
                    suite: "batch",
                    what: what(1),
                    timing: b.one_thread.clone(),
                    throughput: rate(b.queries_per_s_1_thread, "queries"),
                });
            }
        }
        if let Some(k) = &s.kinship {
            let what = |t: usize| {
                format!(
                    "{} {} queries, {} profiles, {}",
                    k.queries,
                    k.relationship,
                    thousands(k.profiles),
                    threads_label(t)
                )
            };
            rows.push(Row {
                suite: "kinship",
                what: what(k.threads),
                timing: k.all_threads.clone(),
                throughput: rate(k.queries_per_s, "queries"),
            });
            if k.one_thread.is_some() {
                rows.push(Row {
                    suite: "kinship",
                    what: what(1),
                    timing: k.one_thread.clone(),
                    throughput: rate(k.queries_per_s_1_thread, "queries"),
                });
            }
        }
        if let Some(c) = &s.compare {
            let capped = if c.capped { " (capped)" } else { "" };
            let what = |t: usize| {
                format!(
                    "all pairs of {} profiles{capped}, {} loci, {}",
                    thousands(c.profiles),
                    c.loci.len(),
                    threads_label(t)
                )
            };
            rows.push(Row {
                suite: "compare",
                what: what(c.threads),
                timing: c.all_threads.clone(),
                throughput: rate(c.pairs_per_s, "pairs"),
            });
            if c.one_thread.is_some() {
                rows.push(Row {
                    suite: "compare",
                    what: what(1),
                    timing: c.one_thread.clone(),
                    throughput: rate(c.pairs_per_s_1_thread, "pairs"),
                });
            }
        }
        if let Some(i) = &s.index {
            let n = thousands(i.profiles);
            rows.push(Row {
                suite: "index",
                what: format!("build from {} profiles", thousands(i.build_profiles)),
                timing: i.build.clone(),
                throughput: rate(i.build_profiles_per_s, "profiles"),
            });
            rows.push(Row {
                suite: "index",
                what: format!("write {n} profiles ({})", bytes(i.file_bytes)),
                timing: i.write.clone(),
                throughput: String::new(),
            });
            rows.push(Row {
                suite: "index",
                what: "open".to_string(),
                timing: i.open.clone(),
                throughput: String::new(),
            });
            rows.push(Row {
                suite: "index",
                what: "first forced scan after open".to_string(),
                timing: i.first_scan.clone(),
                throughput: rate(i.first_scan_comparisons_per_s, "comparisons"),
            });
            rows.push(Row {
                suite: "index",
                what: "warm forced scan".to_string(),
                timing: i.warm_scan.clone(),
                throughput: rate(i.comparisons_per_s, "comparisons"),
            });
        }
        rows
    }

    /// Lines that do not fit the table: latency, what the searches found, caps.
    fn notes(&self) -> Vec<String> {
        let mut v = Vec::new();
        let s = &self.suites;
        if let Some(search) = &s.search
            && let Some(size) = search.sizes.last()
            && let Some(p) = &size.planner
        {
            v.push(format!(
                "search: single-query latency at {} profiles: p50 {:.3} ms, p95 {:.3} ms, p99 \
                 {:.3} ms (max {:.3} ms, {} samples); {} queries by postings, {} by scan, {} \
                 rows verified per query on average; {} of {} found their source",
                thousands(size.profiles),
                p.latency_ms_p50,
                p.latency_ms_p95,
                p.latency_ms_p99,
                p.latency_ms_max,
                p.samples,
                p.by_postings,
                p.by_scan,
                p.rows_verified_mean.round(),
                p.sources_found,
                p.queries
            ));
        }
        if let Some(b) = &s.batch {
            v.push(format!(
                "batch: {} hits, {} of {} queries found their source",
                b.hits, b.sources_found, b.queries
            ));
        }
        if let Some(k) = &s.kinship {
            v.push(format!(
                "kinship: {} query-profile pairs ranked per second; the true relative ranked \
                 first for {} of {} queries, among the top 20 for {}",
                k.comparisons_per_s.map_or_else(String::new, si),
                k.relative_ranked_first,
                k.queries,
                k.relative_in_top
            ));
        }
        if let Some(c) = &s.compare {
            v.push(format!(
                "compare: {} pairs per run = n(n-1)/2 for n = {}{}",
                thousands(c.pairs as usize),
                thousands(c.profiles),
                if c.capped {
                    format!(
                        "; the database holds {} profiles, the suite compares at most {} \
                         (--compare-max)",
                        thousands(c.database_profiles),
                        thousands(c.cap)
                    )
                } else {
                    String::new()
                }
            ));
        }
        if let Some(i) = &s.index
            && let Some(r) = i.first_over_warm
        {
            v.push(format!(
                "index: the first scan after open takes {r:.2}x the warm one (the file is in the \
                 page cache: this is the cost of mapping its pages)"
            ));
        }
        v
    }

    fn peaks(&self) -> Vec<(&'static str, u64)> {
        let s = &self.suites;
        [
            ("search", s.search.as_ref().and_then(|x| x.peak_rss_bytes)),
            ("batch", s.batch.as_ref().and_then(|x| x.peak_rss_bytes)),
            ("kinship", s.kinship.as_ref().and_then(|x| x.peak_rss_bytes)),
            ("compare", s.compare.as_ref().and_then(|x| x.peak_rss_bytes)),
            ("index", s.index.as_ref().and_then(|x| x.peak_rss_bytes)),
        ]
        .into_iter()
        .filter_map(|(n, b)| b.map(|b| (n, b)))
        .collect()
    }

    /// One line on the data.
    fn data_line(&self) -> String {
        let d = &self.database;
        let what = match &d.path {
            Some(p) => format!("{} profiles of {p}", thousands(d.profiles)),
            None => format!("{} simulated profiles", thousands(d.profiles)),
        };
        let mut s = format!(
            "{what} ({} autosomal loci); frequencies {}, population {}; seed {}",
            d.autosomal_loci, d.frequencies, d.population, d.seed
        );
        if let Some(b) = d.build_s {
            let verb = if d.path.is_some() { "opened" } else { "built" };
            s.push_str(&format!("; {verb} in {}", secs(b)));
        }
        s
    }

    /// The readable table printed on stdout.
    pub fn write_text(&self, out: &mut impl Write) -> Result<()> {
        let p = &self.parameters;
        writeln!(out, "tandem bench {}", self.tandem_version)?;
        writeln!(out, "data:    {}", self.data_line())?;
        writeln!(out, "machine: {}", self.machine.line())?;
        writeln!(
            out,
            "runs:    {} warm-up + {} measured per benchmark: median [min .. max]; {}",
            p.warmup,
            p.runs,
            threads_label(p.threads)
        )?;
        if self.interrupted {
            writeln!(out, "INTERRUPTED (Ctrl-C): the results measured before it")?;
        }
        writeln!(out)?;
        let rows = self.rows();
        let cells: Vec<[String; 5]> = rows
            .iter()
            .map(|r| {
                let (med, spread) = match &r.timing {
                    Some(t) => (
                        secs(t.median_s),
                        format!("[{} .. {}]", secs(t.min_s), secs(t.max_s)),
                    ),
                    None => ("-".to_string(), String::new()),
                };
                [
                    r.suite.to_string(),
                    r.what.clone(),
                    med,
                    spread,
                    r.throughput.clone(),
                ]
            })
            .collect();
        let header = ["suite", "benchmark", "median", "spread", "throughput"].map(String::from);
        let mut widths = header.clone().map(|h| h.chars().count());
        for c in &cells {
            for (w, x) in widths.iter_mut().zip(c) {
                *w = (*w).max(x.chars().count());
            }
        }
        for c in std::iter::once(&header).chain(&cells) {
            let line = format!(
                "{:<w0$}  {:<w1$}  {:>w2$}  {:<w3$}  {}",
                c[0],
                c[1],
                c[2],
                c[3],
                c[4],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3]
            );
            writeln!(out, "{}", line.trim_end())?;
        }
        let notes = self.notes();
        if !notes.is_empty() {
            writeln!(out)?;
            for n in notes {
                writeln!(out, "{n}")?;
            }
        }
        if !self.scaling.is_empty() {
            writeln!(out)?;
            writeln!(
                out,
                "thread scaling (1 thread -> {}):",
                threads_label(p.threads)
            )?;
            for s in &self.scaling {
                writeln!(
                    out,
                    "  {:<8} {:<18} {:>10} -> {:>10}  x{:.2}",
                    s.suite,
                    s.figure,
                    si(s.one_thread),
                    si(s.all_threads),
                    s.speedup
                )?;
            }
        }
        let peaks = self.peaks();
        if !peaks.is_empty() {
            writeln!(out)?;
            let list: Vec<String> = peaks
                .iter()
                .map(|(n, b)| format!("{n} {}", bytes(*b)))
                .collect();
            writeln!(
                out,
                "peak memory ({}): {}",
                if self.peak_rss_scope == "suite" {
                    "per suite"
                } else {
                    "process so far"
                },
                list.join(", ")
            )?;
        }
        if let Some(c) = &self.suites.compare {
            writeln!(out)?;
            writeln!(
                out,
                "observed against expected pairs ({} profiles, {} loci; expected: {})",
                thousands(c.profiles),
                c.loci.len(),
                c.expected_from
            )?;
            writeln!(
                out,
                "  loci  {:>14} {:>14}    {:>14} {:>14}",
                "full: observed", "expected", "partial: obs.", "expected"
            )?;
            for [loci, om, em, op, ep] in margin_rows(c) {
                writeln!(out, "  {loci:>4}  {om:>14} {em:>14}    {op:>14} {ep:>14}")?;
            }
        }
        Ok(())
    }

    /// The Markdown report; `plots` are the SVG files written beside it (file name, alt text).
    pub fn markdown(&self, plots: &[(String, &str)]) -> Result<String> {
        let mut md = String::new();
        let p = &self.parameters;
        writeln!(md, "# tandem bench\n")?;
        writeln!(
            md,
            "tandem {}, {} to {} ({}).{}\n",
            self.tandem_version,
            self.started_at,
            self.finished_at,
            secs(self.elapsed_s),
            if self.interrupted {
                " **Interrupted (Ctrl-C): the results measured before it.**"
            } else {
                ""
            }
        )?;
        writeln!(md, "## Machine and data\n")?;
        writeln!(md, "| | |\n|---|---|")?;
        writeln!(md, "| machine | {} |", self.machine.line())?;
        writeln!(md, "| data | {} |", self.data_line())?;
        writeln!(md, "| loci | {} |", self.database.loci.join(", "))?;
        writeln!(
            md,
            "| runs | {} warm-up + {} measured per benchmark; median, min and max |",
            p.warmup, p.runs
        )?;
        writeln!(md, "| threads | {} (and 1 for the scaling) |", p.threads)?;
        writeln!(md, "| searches | {} |", p.search_options)?;
        writeln!(md, "| queries | {}: {} |", p.queries, p.queries_are)?;
        writeln!(
            md,
            "| familial queries | {}: {} |",
            p.kinship_queries, p.kinship_queries_are
        )?;
        writeln!(md)?;
        writeln!(md, "## Results\n")?;
        writeln!(
            md,
            "| suite | benchmark | median | min | max | runs | throughput |\n|---|---|--:|--:|--:|--:|--:|"
        )?;
        for r in self.rows() {
            let (a, b, c, n) = match &r.timing {
                Some(t) => (secs(t.median_s), secs(t.min_s), secs(t.max_s), t.runs),
                None => ("-".into(), "-".into(), "-".into(), 0),
            };
            writeln!(
                md,
                "| {} | {} | {a} | {b} | {c} | {n} | {} |",
                r.suite, r.what, r.throughput
            )?;
        }
        writeln!(md)?;
        for n in self.notes() {
            writeln!(md, "* {n}")?;
        }
        if !self.scaling.is_empty() {
            writeln!(md, "\n## Thread scaling\n")?;
            writeln!(
                md,
                "| suite | figure | 1 thread | {} | speed-up |\n|---|---|--:|--:|--:|",
                threads_label(p.threads)
            )?;
            for s in &self.scaling {
                writeln!(
                    md,
                    "| {} | `{}` | {} | {} | {:.2}x |",
                    s.suite,
                    s.figure,
                    si(s.one_thread),
                    si(s.all_threads),
                    s.speedup
                )?;
            }
        }
        let peaks = self.peaks();
        if !peaks.is_empty() {
            writeln!(
                md,
                "\n## Peak memory\n\nPeak resident set size (`VmHWM`), {}.\n",
                if self.peak_rss_scope == "suite" {
                    "reset at the start of each suite"
                } else {
                    "of the process so far (it could not be reset per suite)"
                }
            )?;
            writeln!(md, "| suite | peak RSS |\n|---|--:|")?;
            for (n, b) in peaks {
                writeln!(md, "| {n} | {} |", bytes(b))?;
            }
        }
        if let Some(search) = &self.suites.search {
            writeln!(md, "\n## Search throughput against database size\n")?;
            if let Some((file, alt)) = plots.iter().find(|(f, _)| f.ends_with("-throughput.svg")) {
                writeln!(md, "![{alt}]({file})\n")?;
            }
            writeln!(
                md,
                "| profiles | forced scan | comparisons/s | single queries/s | p50 | p95 | p99 |\n|--:|--:|--:|--:|--:|--:|--:|"
            )?;
            for s in &search.sizes {
                let (q, a, b, c) = match &s.planner {
                    Some(p) => (
                        si(p.queries_per_s),
                        format!("{:.3} ms", p.latency_ms_p50),
                        format!("{:.3} ms", p.latency_ms_p95),
                        format!("{:.3} ms", p.latency_ms_p99),
                    ),
                    None => Default::default(),
                };
                writeln!(
                    md,
                    "| {} | {} | {} | {q} | {a} | {b} | {c} |",
                    thousands(s.profiles),
                    s.scan
                        .as_ref()
                        .map_or("-".to_string(), |t| secs(t.median_s)),
                    s.comparisons_per_s.map_or_else(String::new, si),
                )?;
            }
        }
        if let Some(c) = &self.suites.compare {
            writeln!(md, "\n## Observed against expected (m, p) counts\n")?;
            writeln!(
                md,
                "All {} pairs of {} profiles at {} loci. Expected: {}.\n",
                thousands(c.pairs as usize),
                thousands(c.profiles),
                c.loci.len(),
                c.expected_from
            )?;
            if let Some((file, alt)) = plots.iter().find(|(f, _)| f.ends_with("-matches.svg")) {
                writeln!(md, "![{alt}]({file})\n")?;
            }
            writeln!(
                md,
                "| loci | fully matching: observed | expected | partially matching: observed | expected |\n|--:|--:|--:|--:|--:|"
            )?;
            for [loci, om, em, op, ep] in margin_rows(c) {
                writeln!(md, "| {loci} | {om} | {em} | {op} | {ep} |")?;
            }
        }
        Ok(md)
    }

    /// Writes the JSON report, the plots and the Markdown report, each atomically.
    pub fn write_files(&self, paths: &ReportPaths) -> Result<()> {
        write_atomically(&paths.json, |out| {
            serde_json::to_writer_pretty(&mut *out, self)?;
            out.write_all(b"\n")?;
            Ok(())
        })?;
        let mut plots: Vec<(String, &str)> = Vec::new();
        let name = |p: &Path| {
            p.file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        if let Some(s) = &self.suites.search
            && s.sizes.iter().any(|x| x.comparisons_per_s.is_some())
        {
            let svg = plot::throughput(s, &self.database)?;
            write_svg(&paths.throughput_svg, &svg)?;
            plots.push((
                name(&paths.throughput_svg),
                "search throughput against database size",
            ));
        }
        if let Some(c) = &self.suites.compare {
            let svg = plot::matches(c)?;
            write_svg(&paths.matches_svg, &svg)?;
            plots.push((
                name(&paths.matches_svg),
                "observed and expected pairs by matching loci",
            ));
        }
        let md = self.markdown(&plots)?;
        write_atomically(&paths.markdown, |out| {
            out.write_all(md.as_bytes())
                .with_context(|| format!("cannot write {}", paths.markdown.display()))
        })
    }
}

fn write_svg(path: &Path, svg: &str) -> Result<()> {
    write_atomically(path, |out| {
        out.write_all(svg.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))
    })
}

/// A margin row worth a line: something observed, or at least 0.005 pairs expected.
fn shown(c: &MatchCount) -> bool {
    c.observed > 0 || c.expected.is_some_and(|e| e >= 0.005)
}

/// The lines of the observed-against-expected table, formatted: loci, then observed and
/// expected pairs with that many loci matching fully, then partially (`-` when nothing is
/// expected); rows with nothing to show are left out.
fn margin_rows(c: &CompareSuite) -> Vec<[String; 5]> {
    let e = |x: &MatchCount| x.expected.map_or("-".to_string(), count);
    c.by_matching
        .iter()
        .zip(&c.by_partial)
        .filter(|(m, p)| shown(m) || shown(p))
        .map(|(m, p)| {
            [
                m.loci.to_string(),
                thousands(m.observed as usize),
                e(m),
                thousands(p.observed as usize),
                e(p),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_paths_beside_the_json() {
        let dir = std::env::temp_dir();
        let p = paths(&dir.join("run.json")).expect("paths");
        assert_eq!(p.markdown, dir.join("run.md"));
        assert_eq!(p.throughput_svg, dir.join("run-throughput.svg"));
        assert_eq!(p.matches_svg, dir.join("run-matches.svg"));
        let bare = paths(&dir.join("run")).expect("paths");
        assert_eq!(bare.json, dir.join("run"));
        assert_eq!(bare.markdown, dir.join("run.md"));
        assert!(paths(&dir.join("run.md")).is_err());
        assert!(paths(&dir.join("no-such-dir/run.json")).is_err());
    }

    #[test]
    fn test_si_and_count() {
        assert_eq!(si(352_000_000.0), "352 M");
        assert_eq!(si(12_345.0), "12.3 k");
        assert_eq!(si(1.5), "1.50");
        assert_eq!(rate(Some(32.26), "queries"), "32.3 queries/s");
        assert_eq!(rate(Some(1.0e6), "pairs"), "1.00 M pairs/s");
        assert_eq!(rate(None, "pairs"), "");
        assert_eq!(count(0.0), "0");
        assert_eq!(count(1234.4), "1,234");
        assert_eq!(count(3.156), "3.16");
        assert_eq!(count(0.001234), "1.23e-3");
    }
}
