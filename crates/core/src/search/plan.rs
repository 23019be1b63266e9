//! The fast search over the packed [`Index`]: query planning (postings or scan), the
//! vectorisable scan kernels and the row evaluator. Every decision is re-checked with the
//! reference rules of [`crate::search`] before a hit is reported.

use rayon::prelude::*;

use crate::genotype::Genotype;
use crate::index::{ABSENT, Column, Index, MAX_CODE, SPECIAL, UNTYPED, key};
use crate::profile::Profile;
use crate::search::{Hit, Outcome, SearchOptions, Stringency, compare_locus, evaluate, finish};

/// Rows per scan block: the per-row counters stay in L1.
const BLOCK: usize = 4096;
/// Rows per parallel task.
const TASK: usize = BLOCK * 16;
/// The planner uses postings when they name at most 1/`POSTINGS_RATIO` of the rows.
const POSTINGS_RATIO: usize = 16;

/// Most query loci the u8 per-row counters can take (CMF allows 32 loci per specimen; only
/// custom panels can exceed this).
pub(super) const MAX_FAST_LOCI: usize = 80;

/// How a query is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strategy {
    /// Candidate rows gathered from the postings of these loci, then verified.
    Postings {
        /// Names of the loci whose postings were used.
        loci: Vec<String>,
    },
    /// Every row scanned.
    Scan,
}

/// The plan of one query, for diagnostics and benchmarks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explain {
    /// The strategy chosen.
    pub strategy: Strategy,
    /// Rows the search verifies (all rows for a scan).
    pub rows_touched: usize,
    /// Rows in the index.
    pub rows: usize,
    /// Query loci compared through the vectorised code path.
    pub simple_loci: usize,
    /// Query loci compared through a lookup table (wildcards, off-ladder, mixtures).
    pub complex_loci: usize,
}

#[derive(Clone, Copy)]
pub(super) enum Mode {
    High,
    Moderate,
    Low,
    Prum,
}

pub(super) enum Kind {
    /// At most two exact alleles: codes (q1 <= q2) and the required allele's code.
    Simple { q1: u8, q2: u8, req: Option<u8> },
    /// Anything else: an entry per code pair (`x * width + y`), bit 0 valid, bit 1 pass,
    /// bits 2-3 differing alleles; and the posting keys that pass.
    Complex {
        table: Vec<u8>,
        width: usize,
        passing: Vec<u16>,
    },
}

pub(super) struct QLocus<'a> {
    pub(super) col: &'a Column,
    pub(super) genotype: Genotype,
    pub(super) kind: Kind,
}

pub(super) struct Plan<'a> {
    pub(super) loci: Vec<QLocus<'a>>,
    pub(super) mode: Mode,
}

fn mode(opts: &SearchOptions) -> Mode {
    if opts.prum {
        return Mode::Prum;
    }
    match opts.stringency {
        Stringency::High => Mode::High,
        Stringency::Moderate => Mode::Moderate,
        Stringency::Low => Mode::Low,
    }
}

fn table_entry(q: &Genotype, c: &Genotype, opts: &SearchOptions) -> u8 {
    let (outcome, diff) = compare_locus(q, c, opts);
    1 | ((outcome == Outcome::Match) as u8) << 1 | diff.min(3) << 2
}

pub(super) fn build_plan<'a>(index: &'a Index, query: &Profile, opts: &SearchOptions) -> Plan<'a> {
    let mut loci = Vec::new();
    for (locus, g) in query.genotypes() {
        if !locus.is_counted() {
            continue;
        }
        let Some(ci) = index.column(locus) else {
            continue;
        };
        let col = &index.columns[ci];
        let simple = g.len() <= 2 && g.is_exact();
        let kind = if simple {
            let code = |a| col.codebook.code(a).unwrap_or(ABSENT);
            let al = g.alleles();
            let c0 = code(al[0]);
            let c1 = if al.len() == 2 { code(al[1]) } else { c0 };
            let req = if opts.prum {
                None
            } else {
                g.required().map(code)
            };
            Kind::Simple {
                q1: c0.min(c1),
                q2: c0.max(c1),
                req,
            }
        } else {
            // one entry per code pair present in the column: (codes + 1)^2 bytes
            let width = col.codebook.alleles.len() + 1;
            let mut table = vec![0u8; width * width];
            let mut passing = Vec::new();
            for &k in col.postings.keys() {
                let (x, y) = ((k >> 8) as u8, k as u8);
                if let (Some(ax), Some(ay)) = (col.codebook.allele(x), col.codebook.allele(y))
                    && let Ok(c) = Genotype::new(&[ax, ay])
                {
                    let t = table_entry(g, &c, opts);
                    table[x as usize * width + y as usize] = t;
                    if t & 2 != 0 {
                        passing.push(k);
                    }
                }
            }
            passing.sort_unstable();
            Kind::Complex {
                table,
                width,
                passing,
            }
        };
        loci.push(QLocus {
            col,
            genotype: *g,
            kind,
        });
    }
    Plan {
        loci,
        mode: mode(opts),
    }
}

/// Per-row counters of one block.
struct Counters {
    compared: Vec<u8>,
    passed: Vec<u8>,
    diff: Vec<u8>,
}

impl Counters {
    fn new() -> Counters {
        Counters {
            compared: vec![0; BLOCK],
            passed: vec![0; BLOCK],
            diff: vec![0; BLOCK],
        }
    }
    fn clear(&mut self, n: usize) {
        self.compared[..n].fill(0);
        self.passed[..n].fill(0);
        self.diff[..n].fill(0);
    }
}

#[inline(always)]
fn valid(x: u8) -> u8 {
    (x.wrapping_sub(1) < MAX_CODE) as u8
}

/// Stringency of an exact pair of codes against a simple query (both pairs sorted).
#[inline(always)]
fn pass_codes(m: Mode, x: u8, y: u8, q1: u8, q2: u8) -> u8 {
    let xq = (x == q1) as u8 | (x == q2) as u8;
    let yq = (y == q1) as u8 | (y == q2) as u8;
    match m {
        Mode::High | Mode::Prum => (x == q1) as u8 & (y == q2) as u8,
        Mode::Moderate => {
            let sub = xq & yq;
            let sup = ((q1 == x) as u8 | (q1 == y) as u8) & ((q2 == x) as u8 | (q2 == y) as u8);
            sub | sup
        }
        Mode::Low => xq | yq,
    }
}

/// Prüm differing alleles of an exact pair of codes (both pairs sorted).
#[inline(always)]
fn diff_codes(x: u8, y: u8, q1: u8, q2: u8) -> u8 {
    let eq = (x == q1) as u8 & (y == q2) as u8;
    let share = (x == q1) as u8 | (x == q2) as u8 | (y == q1) as u8 | (y == q2) as u8;
    2 - share - eq
}

/// Adds `pass(x, y)` (and, for Prüm, the differing alleles) of every row to the counters.
/// Kept branch-free so that it vectorises over byte lanes.
#[inline(always)]
fn simple_loop(
    a: &[u8],
    b: &[u8],
    c: &mut Counters,
    pass: impl Fn(u8, u8) -> u8,
    prum: Option<(u8, u8)>,
) {
    let n = a.len().min(b.len()).min(c.compared.len());
    let (a, b) = (&a[..n], &b[..n]);
    let (cmp, pas, dif) = (&mut c.compared[..n], &mut c.passed[..n], &mut c.diff[..n]);
    match prum {
        None => {
            for i in 0..n {
                let (x, y) = (a[i], b[i]);
                let v = valid(x);
                cmp[i] += v;
                pas[i] += v & pass(x, y);
            }
        }
        Some((q1, q2)) => {
            for i in 0..n {
                let (x, y) = (a[i], b[i]);
                let v = valid(x);
                cmp[i] += v;
                pas[i] += v & pass(x, y);
                dif[i] += diff_codes(x, y, q1, q2) & v.wrapping_neg();
            }
        }
    }
}

/// Adds one simple query locus to the counters of rows `a.len()`.
///
/// Compiled for AVX-512BW, AVX2 and the x86-64 baseline, chosen at run time (`multiversion`), so
/// the same binary runs everywhere and uses the widest byte compares the CPU has.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+avx2", "x86_64+avx2"))]
fn scan_simple(a: &[u8], b: &[u8], c: &mut Counters, m: Mode, q1: u8, q2: u8, req: Option<u8>) {
    let eq = |x: u8, y: u8| (x == q1) as u8 & (y == q2) as u8;
    let has = |x: u8, y: u8, q: u8| (x == q) as u8 | (y == q) as u8;
    // One monomorphic loop per case, so that each vectorises.
    match (m, req) {
        (Mode::Prum, _) => simple_loop(a, b, c, eq, Some((q1, q2))),
        (Mode::High, None) => simple_loop(a, b, c, eq, None),
        // homozygous query: the candidate carries the allele
        (Mode::Moderate, None) if q1 == q2 => simple_loop(a, b, c, |x, y| has(x, y, q1), None),
        // heterozygous query: the same pair, or a single allele that is one of the query's
        (Mode::Moderate, None) => simple_loop(
            a,
            b,
            c,
            |x, y| eq(x, y) | ((x == y) as u8 & ((x == q1) as u8 | (x == q2) as u8)),
            None,
        ),
        (Mode::Low, None) => simple_loop(a, b, c, |x, y| has(x, y, q1) | has(x, y, q2), None),
        (m, Some(r)) => simple_loop(
            a,
            b,
            c,
            |x, y| pass_codes(m, x, y, q1, q2) & has(x, y, r),
            None,
        ),
    }
}

/// Adds one complex query locus to the counters through its lookup table.
fn scan_complex(
    a: &[u8],
    b: &[u8],
    c: &mut Counters,
    table: &[u8],
    width: usize,
    fallback: impl Fn(usize) -> u8,
) {
    for i in 0..a.len().min(b.len()) {
        let x = a[i];
        if valid(x) == 0 {
            continue;
        }
        let mut t = table
            .get(x as usize * width + b[i] as usize)
            .copied()
            .unwrap_or(0);
        if t == 0 {
            t = fallback(i);
        }
        add_entry(c, i, t);
    }
}

#[inline]
fn add_entry(c: &mut Counters, i: usize, t: u8) {
    if t & 1 == 1 {
        c.compared[i] += 1;
        c.passed[i] += (t >> 1) & 1;
        c.diff[i] += t >> 2;
    }
}

/// The table entry of one row at one query locus, through the reference rules.
fn entry_of(ql: &QLocus<'_>, row: u32, opts: &SearchOptions) -> u8 {
    match ql.col.genotype(row) {
        Some(c) => table_entry(&ql.genotype, &c, opts),
        None => 0,
    }
}

/// Fills counters for rows `start..start + n`.
fn scan_block(plan: &Plan<'_>, start: usize, n: usize, c: &mut Counters, opts: &SearchOptions) {
    c.clear(n);
    let end = start + n;
    for ql in &plan.loci {
        prefetch(&ql.col.a, end..end + BLOCK);
        prefetch(&ql.col.b, end..end + BLOCK);
        let a = &ql.col.a[start..end];
        let b = &ql.col.b[start..end];
        match &ql.kind {
            Kind::Simple { q1, q2, req } => scan_simple(a, b, c, plan.mode, *q1, *q2, *req),
            Kind::Complex { table, width, .. } => scan_complex(a, b, c, table, *width, |i| {
                entry_of(ql, (start + i) as u32, opts)
            }),
        }
        // Rows in the side table: the loops above skipped them (code 255).
        let sr = &ql.col.special_rows;
        let from = sr.partition_point(|&r| (r as usize) < start);
        for &row in sr[from..].iter().take_while(|&&r| (r as usize) < end) {
            add_entry(c, row as usize - start, entry_of(ql, row, opts));
        }
    }
}

/// Asks the CPU to start loading the next block of a column: the hardware prefetchers stop at
/// page boundaries, and a scan reads one page per column per block.
#[inline(always)]
fn prefetch(col: &[u8], range: std::ops::Range<usize>) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T1, _mm_prefetch};
        let end = range.end.min(col.len());
        let mut i = range.start;
        while i < end {
            // SAFETY: SSE is part of the x86_64 baseline, and a prefetch is a hint that never
            // faults or writes memory; the pointer is in bounds of `col` anyway.
            unsafe { _mm_prefetch::<_MM_HINT_T1>(col[i..].as_ptr().cast()) };
            i += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (col, range);
}

pub(super) fn counters_hit(compared: u8, passed: u8, diff: u8, opts: &SearchOptions) -> bool {
    if opts.prum {
        passed as usize >= opts.effective_min_loci() && diff <= 1
    } else {
        compared as usize >= opts.effective_min_loci()
            && (compared - passed) as usize <= opts.max_mismatches
    }
}

pub(super) fn make_hit(
    index: &Index,
    query: &Profile,
    row: u32,
    opts: &SearchOptions,
) -> Option<Hit> {
    if !index.live.get(row as usize).is_some_and(|b| *b) {
        return None;
    }
    let decoded: Vec<(crate::Locus, &Genotype, Genotype)> = query
        .genotypes()
        .filter_map(|(l, q)| {
            let col = &index.columns[index.column(l)?];
            Some((l, q, col.genotype(row)?))
        })
        .collect();
    evaluate(
        &index.ids.get(row),
        decoded.iter().map(|(l, q, c)| (*l, *q, c)),
        opts,
    )
}

fn scan_range(
    index: &Index,
    query: &Profile,
    plan: &Plan<'_>,
    range: std::ops::Range<usize>,
    opts: &SearchOptions,
) -> Vec<Hit> {
    let mut hits = Vec::new();
    let mut c = Counters::new();
    let mut start = range.start;
    while start < range.end {
        let n = BLOCK.min(range.end - start);
        scan_block(plan, start, n, &mut c, opts);
        for i in 0..n {
            if counters_hit(c.compared[i], c.passed[i], c.diff[i], opts)
                && let Some(h) = make_hit(index, query, (start + i) as u32, opts)
            {
                hits.push(h);
            }
        }
        start += n;
    }
    hits
}

/// Posting keys whose genotypes pass a simple query locus.
pub(super) fn passing_keys(col: &Column, m: Mode, q1: u8, q2: u8) -> Vec<u16> {
    let codes = 1..=col.codebook.alleles.len() as u8;
    let mut keys = Vec::new();
    let with = |q: u8, keys: &mut Vec<u16>| {
        if q != ABSENT {
            for c in codes.clone() {
                keys.push(key(q.min(c), q.max(c)));
            }
        }
    };
    match m {
        Mode::High | Mode::Prum => keys.push(key(q1, q2)),
        Mode::Moderate if q1 == q2 => with(q1, &mut keys),
        Mode::Moderate => keys.extend([key(q1, q1), key(q2, q2), key(q1, q2)]),
        Mode::Low => {
            with(q1, &mut keys);
            with(q2, &mut keys);
        }
    }
    keys.retain(|k| (k >> 8) as u8 != ABSENT && *k as u8 != ABSENT);
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// One selective locus: its query locus, the posting keys that pass, and its candidate count.
type CandidateSet<'p> = (&'p QLocus<'p>, Vec<u16>, usize);

/// Candidate sets of the selective loci, if postings beat a scan.
///
/// A hit fails at most K loci, so for any m chosen loci it lies in the candidate set
/// (passing genotypes, untyped rows, side-table rows) of at least m - K of them. The planner
/// takes the m = K + 2 smallest sets (K + 1 when there are no more).
fn choose_postings<'p>(
    plan: &'p Plan<'_>,
    index: &Index,
    opts: &SearchOptions,
    ratio: usize,
) -> Option<Vec<CandidateSet<'p>>> {
    if !index.has_postings {
        return None;
    }
    let k = opts.failing_loci_allowed();
    let mut sets: Vec<CandidateSet<'p>> = plan
        .loci
        .iter()
        .map(|ql| {
            let keys = match &ql.kind {
                Kind::Simple { q1, q2, .. } => passing_keys(ql.col, plan.mode, *q1, *q2),
                Kind::Complex { passing, .. } => passing.clone(),
            };
            let size = keys
                .iter()
                .map(|k| ql.col.postings.get(k).map_or(0, Vec::len))
                .sum::<usize>()
                + ql.col.untyped.len()
                + ql.col.special_rows.len();
            (ql, keys, size)
        })
        .collect();
    if sets.len() < k + 1 {
        return None;
    }
    sets.sort_by_key(|s| s.2);
    sets.truncate(k + 2);
    let total: usize = sets.iter().map(|s| s.2).sum();
    (total.saturating_mul(ratio) <= index.rows()).then_some(sets)
}

/// Rows lying in at least `sets.len() - k` of the candidate sets, ascending.
fn postings_rows(sets: &[CandidateSet<'_>], k: usize) -> Vec<u32> {
    let mut rows: Vec<u32> = Vec::with_capacity(sets.iter().map(|s| s.2).sum());
    for (ql, keys, _) in sets {
        for key in keys {
            if let Some(p) = ql.col.postings.get(key) {
                rows.extend_from_slice(p);
            }
        }
        rows.extend_from_slice(&ql.col.untyped);
        rows.extend_from_slice(&ql.col.special_rows);
    }
    radsort::sort(&mut rows);
    // a row appears at most once per set, so the length of its run counts its sets
    let need = sets.len().saturating_sub(k).max(1);
    let mut out = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let mut j = i + 1;
        while j < rows.len() && rows[j] == rows[i] {
            j += 1;
        }
        if j - i >= need {
            out.push(rows[i]);
        }
        i = j;
    }
    out
}

/// The table entry of one row at one query locus (bit 0 compared, bit 1 passed, bits 2-3
/// differing alleles): the scalar twin of one locus of [`scan_block`].
#[inline]
pub(super) fn row_entry(mode: Mode, ql: &QLocus<'_>, row: u32, opts: &SearchOptions) -> u8 {
    let r = row as usize;
    let (x, y) = (ql.col.a[r], ql.col.b[r]);
    if x == UNTYPED {
        return 0;
    }
    if x == SPECIAL {
        return entry_of(ql, row, opts);
    }
    match &ql.kind {
        Kind::Simple { q1, q2, req } => {
            let mut p = pass_codes(mode, x, y, *q1, *q2);
            if let Some(rq) = req {
                p &= (x == *rq) as u8 | (y == *rq) as u8;
            }
            1 | p << 1 | diff_codes(x, y, *q1, *q2) << 2
        }
        Kind::Complex { table, width, .. } => match table
            .get(x as usize * width + y as usize)
            .copied()
            .unwrap_or(0)
        {
            0 => entry_of(ql, row, opts),
            t => t,
        },
    }
}

/// Counters of one row (the scalar twin of [`scan_block`]).
fn row_counters(plan: &Plan<'_>, row: u32, opts: &SearchOptions) -> (u8, u8, u8) {
    let (mut cmp, mut pas, mut dif) = (0u8, 0u8, 0u8);
    for ql in &plan.loci {
        let t = row_entry(plan.mode, ql, row, opts);
        if t & 1 == 1 {
            cmp += 1;
            pas += (t >> 1) & 1;
            dif += t >> 2;
        }
    }
    (cmp, pas, dif)
}

/// Which strategy to use: the planner's choice, or one forced (tests and benchmarks).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Force {
    /// Let the planner choose.
    Auto,
    /// Always scan.
    Scan,
    /// Use postings whenever the query has enough simple loci, however many rows they name.
    Postings,
}

fn run(
    index: &Index,
    query: &Profile,
    opts: &SearchOptions,
    parallel: bool,
    force: Force,
) -> Vec<Hit> {
    let plan = build_plan(index, query, opts);
    if !opts.prum && plan.loci.len() < opts.effective_min_loci() {
        return Vec::new(); // cannot compare enough loci with anyone
    }
    if plan.loci.len() > MAX_FAST_LOCI {
        // the u8 counters could overflow: verify every row with the reference rules
        let hits = (0..index.rows() as u32)
            .filter_map(|r| make_hit(index, query, r, opts))
            .collect();
        return finish(hits, opts);
    }
    let sets = match force {
        Force::Auto => choose_postings(&plan, index, opts, POSTINGS_RATIO),
        Force::Scan => None,
        Force::Postings => choose_postings(&plan, index, opts, 0),
    };
    if let Some(sets) = sets {
        let rows = postings_rows(&sets, opts.failing_loci_allowed());
        let hits = rows
            .into_iter()
            .filter(|&r| {
                let (c, p, d) = row_counters(&plan, r, opts);
                counters_hit(c, p, d, opts)
            })
            .filter_map(|r| make_hit(index, query, r, opts))
            .collect();
        return finish(hits, opts);
    }
    let rows = index.rows();
    let tasks: Vec<usize> = (0..rows).step_by(TASK).collect();
    let hits: Vec<Hit> = if parallel {
        tasks
            .par_iter()
            .flat_map_iter(|&s| scan_range(index, query, &plan, s..(s + TASK).min(rows), opts))
            .collect()
    } else {
        tasks
            .iter()
            .flat_map(|&s| scan_range(index, query, &plan, s..(s + TASK).min(rows), opts))
            .collect()
    };
    finish(hits, opts)
}

/// Searches one query, scanning blocks in parallel.
pub(crate) fn search(index: &Index, query: &Profile, opts: &SearchOptions) -> Vec<Hit> {
    run(index, query, opts, true, Force::Auto)
}

/// Searches one query on the calling thread (batch search parallelises over queries).
pub(crate) fn search_serial(index: &Index, query: &Profile, opts: &SearchOptions) -> Vec<Hit> {
    run(index, query, opts, false, Force::Auto)
}

/// Searches with a forced strategy (for tests and benchmarks).
#[doc(hidden)]
pub fn search_forced(
    index: &Index,
    query: &Profile,
    opts: &SearchOptions,
    force: Force,
) -> Vec<Hit> {
    run(index, query, opts, true, force)
}

pub(crate) fn explain(index: &Index, query: &Profile, opts: &SearchOptions) -> Explain {
    let plan = build_plan(index, query, opts);
    let simple_loci = plan
        .loci
        .iter()
        .filter(|q| matches!(q.kind, Kind::Simple { .. }))
        .count();
    let complex_loci = plan.loci.len() - simple_loci;
    match choose_postings(&plan, index, opts, POSTINGS_RATIO) {
        Some(sets) => Explain {
            strategy: Strategy::Postings {
                loci: sets
                    .iter()
                    .map(|s| s.0.col.locus.name().to_string())
                    .collect(),
            },
            rows_touched: postings_rows(&sets, opts.failing_loci_allowed()).len(),
            rows: index.rows(),
            simple_loci,
            complex_loci,
        },
        None => Explain {
            strategy: Strategy::Scan,
            rows_touched: index.rows(),
            rows: index.rows(),
            simple_loci,
            complex_loci,
        },
    }
}
