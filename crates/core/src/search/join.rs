//! Many queries against one index as a join: the answer of [`Index::search_batch`], found
//! without a scan or a large postings intersection per query.
//!
//! A batch of profiles searched against a large index (a country's whole database against
//! another's, see `tandem-regional`) costs `queries x rows x P(one locus passes)` with
//! per-query postings: each query sorts the candidate rows of its two most selective loci.
//! The join keys the index instead on groups of loci:
//!
//! * **Anchors.** Up to `groups x group_size` counted loci that most rows of the index and most
//!   queries type with an exact genotype, the most discriminating (lowest genotype
//!   homozygosity) first, dealt round-robin into disjoint groups.
//! * **Complete rows** (typed with an exact genotype of at most two alleles at every anchor) go
//!   into one hash table per group, keyed by their code pairs at the group's loci. Every other
//!   live row goes into a small side index with postings, searched per query by the planner.
//! * **A query** enumerates, for a group, every key that passes the stringency at each of its
//!   loci (the posting keys of the planner) and takes the rows under those keys. A hit fails at
//!   most K loci (K = allowed mismatches; 1 in Prüm mode, one differing allele), so it fails at
//!   most K of the disjoint groups: the rows of any K + 1 groups contain every complete hit. The
//!   query takes the K + 1 groups with the fewest expected rows.
//! * **Verification** runs the planner's per-locus entries with an early exit at the first
//!   locus too many that fails, then the reference rules (those of [`crate::search::naive`]) for
//!   every hit reported.
//!
//! A query that cannot use K + 1 groups (untyped or mixed at the anchors, or so many keys that
//! the probes cost more than they save) is answered by the planner over the whole index. The
//! result is always exactly [`Index::search_batch`]'s (property-tested in
//! `tests/equivalence.rs`).

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::plan::{
    Kind, MAX_FAST_LOCI, Plan, build_plan, counters_hit, make_hit, passing_keys, row_entry,
    search_serial,
};
use super::{Hit, SearchOptions, finish};
use crate::index::{Index, MAX_CODE, key};
use crate::profile::Profile;

/// Loci of a group resolved by its directory.
const DIR_LOCI: usize = 3;

/// Fewest queries for which [`Index::search_join`] builds group tables.
pub const JOIN_MIN_QUERIES: usize = 512;

/// How the join is laid out (defaults suit national databases typed with 15-24 loci).
#[derive(Debug, Clone, PartialEq)]
pub struct JoinParams {
    /// Loci per group (1 to 4).
    pub group_size: usize,
    /// Groups to build (raised to K + 1 when the options allow K failing loci).
    pub groups: usize,
    /// A locus is an anchor only when at least this fraction of the index rows and of the
    /// queries type it with an exact genotype of at most two alleles.
    pub min_coverage: f64,
    /// Most keys a query may probe in one group; a group needing more is not used.
    pub max_probes: usize,
}

impl Default for JoinParams {
    fn default() -> Self {
        JoinParams {
            group_size: 4,
            groups: 3,
            min_coverage: 0.5,
            max_probes: 4096,
        }
    }
}

/// What a join did, for diagnostics and benchmarks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JoinStats {
    /// The anchor loci, group by group (empty when the join was not set up).
    pub groups: Vec<Vec<String>>,
    /// Index rows in the group tables.
    pub complete_rows: usize,
    /// Live index rows in the side index (not typed exactly at every anchor).
    pub side_rows: usize,
    /// Queries answered through the group tables.
    pub joined_queries: usize,
    /// Queries answered by the planner over the whole index.
    pub planner_queries: usize,
    /// Candidate rows verified for the joined queries.
    pub candidates: u64,
    /// Time spent choosing anchors and building the group tables and the side index.
    pub prepare: std::time::Duration,
}

/// One group: its anchor columns and the complete rows sorted by key. A key packs the code
/// pairs of the group's loci, the first locus in the most significant 16 bits, so that the rows
/// sharing the genotypes of the first `i` loci are one contiguous range.
struct Group {
    /// Column indexes of the anchors.
    cols: Vec<usize>,
    /// The keys of the complete rows, ascending.
    keys: Vec<u64>,
    /// The rows, in key order.
    rows: Vec<u32>,
    /// The range of keys of each combination of genotypes at the first [`DIR_LOCI`] loci: one
    /// lookup per combination instead of binary searches over the whole group.
    dir: FxHashMap<u64, (u32, u32)>,
}

impl Group {
    /// Loci resolved through [`Group::dir`].
    fn dir_loci(&self) -> usize {
        self.cols.len().min(DIR_LOCI)
    }

    /// The group over `keys` (sorted) and their rows.
    fn new(cols: Vec<usize>, keys: Vec<u64>, rows: Vec<u32>) -> Group {
        let shift = 16 * (cols.len() - cols.len().min(DIR_LOCI));
        let mut dir: FxHashMap<u64, (u32, u32)> = FxHashMap::default();
        let mut i = 0;
        while i < keys.len() {
            let prefix = keys[i] >> shift;
            let j = i + keys[i..].partition_point(|&k| k >> shift == prefix);
            dir.insert(prefix, (i as u32, j as u32));
            i = j;
        }
        Group {
            cols,
            keys,
            rows,
            dir,
        }
    }

    /// Appends the rows whose genotype at every locus is one of `options[locus]`: every
    /// combination of the first loci's options is looked up in the directory, the rest are
    /// searched inside the range found.
    fn collect_all(&self, options: &[Vec<u16>], out: &mut Vec<u32>) {
        self.probe(options, 0, 0, out);
    }

    fn probe(&self, options: &[Vec<u16>], i: usize, prefix: u64, out: &mut Vec<u32>) {
        if i == self.dir_loci() {
            if let Some(&(s, e)) = self.dir.get(&prefix) {
                self.collect(options, i, (s as usize, e as usize), out);
            }
            return;
        }
        for &k in &options[i] {
            self.probe(options, i + 1, prefix << 16 | k as u64, out);
        }
    }

    /// Appends the rows whose genotype at every locus `i..` of the group is one of
    /// `options[i]` (ascending), within `range` of rows sharing the loci before `i`.
    fn collect(&self, options: &[Vec<u16>], i: usize, range: (usize, usize), out: &mut Vec<u32>) {
        let Some(opts) = options.get(i) else {
            out.extend_from_slice(&self.rows[range.0..range.1]);
            return;
        };
        let shift = 16 * (self.cols.len() - 1 - i);
        let part = |x: u64| (x >> shift) as u16;
        let (mut lo, hi) = range;
        for &k in opts {
            lo += self.keys[lo..hi].partition_point(|&x| part(x) < k);
            let end = lo + self.keys[lo..hi].partition_point(|&x| part(x) <= k);
            if lo < end {
                self.collect(options, i + 1, (lo, end), out);
            }
            lo = end;
            if lo == hi {
                break;
            }
        }
    }
}

/// Genotype counts of one column over the complete rows, indexed by posting key.
type KeyCounts = Vec<u32>;

/// Counts of every posting key (`a << 8 | b`) of a column over `rows`.
fn key_counts(col: &crate::index::Column, rows: impl Iterator<Item = usize>) -> KeyCounts {
    let mut counts = vec![0u32; 1 << 16];
    for r in rows {
        counts[key(col.a[r], col.b[r]) as usize] += 1;
    }
    counts
}

/// The group tables of an index, ready for queries.
struct Prepared {
    groups: Vec<Group>,
    /// Per anchor column, its genotype counts among complete rows.
    counts: FxHashMap<usize, KeyCounts>,
    complete: usize,
    side: Option<Index>,
    side_rows: usize,
}

fn exact_simple(g: &crate::Genotype) -> bool {
    g.len() <= 2 && g.is_exact()
}

#[inline]
fn valid(x: u8) -> bool {
    x.wrapping_sub(1) < MAX_CODE
}

impl Prepared {
    /// Chooses anchors and builds the group tables; `None` when too few loci qualify.
    fn new(
        index: &Index,
        queries: &[Profile],
        opts: &SearchOptions,
        params: &JoinParams,
    ) -> Option<Prepared> {
        let k = opts.failing_loci_allowed();
        let size = params.group_size.clamp(1, 4);
        let ngroups = params.groups.max(k + 1);
        let rows = index.rows();
        let live = index.len();
        if live == 0 || queries.is_empty() {
            return None;
        }
        // per counted column: coverage in the index and the queries, and homozygosity
        let mut ranked: Vec<(f64, usize)> = index
            .columns
            .par_iter()
            .enumerate()
            .filter(|(_, c)| c.locus.is_counted())
            .filter_map(|(ci, c)| {
                let counts = key_counts(c, (0..rows).filter(|&r| valid(c.a[r]) && index.live[r]));
                let typed: usize = counts.iter().map(|&v| v as usize).sum();
                let q = queries
                    .iter()
                    .filter(|p| p.genotype(c.locus).is_some_and(exact_simple))
                    .count();
                let cover = params.min_coverage;
                if (typed as f64) < cover * live as f64 || (q as f64) < cover * queries.len() as f64
                {
                    return None;
                }
                let n = typed.max(1) as f64;
                let homozygosity: f64 = counts.iter().map(|&v| (v as f64 / n).powi(2)).sum();
                Some((homozygosity, ci))
            })
            .collect();
        ranked.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        let ngroups = ngroups.min(ranked.len() / size);
        if ngroups < k + 1 {
            return None;
        }
        let anchors: Vec<usize> = ranked[..ngroups * size].iter().map(|r| r.1).collect();
        let mut group_cols: Vec<Vec<usize>> = vec![Vec::new(); ngroups];
        for (i, &c) in anchors.iter().enumerate() {
            group_cols[i % ngroups].push(c);
        }
        let complete: Vec<bool> = (0..rows)
            .into_par_iter()
            .map(|r| index.live[r] && anchors.iter().all(|&c| valid(index.columns[c].a[r])))
            .collect();
        let complete_rows: Vec<u32> = (0..rows as u32).filter(|&r| complete[r as usize]).collect();
        let groups: Vec<Group> = group_cols
            .into_par_iter()
            .map(|cols| {
                let last = cols.len() - 1;
                let mut keyed: Vec<(u64, u32)> = complete_rows
                    .iter()
                    .map(|&r| {
                        let key = cols.iter().enumerate().fold(0u64, |acc, (i, &c)| {
                            let col = &index.columns[c];
                            let r = r as usize;
                            acc | (key(col.a[r], col.b[r]) as u64) << (16 * (last - i))
                        });
                        (key, r)
                    })
                    .collect();
                keyed.sort_unstable();
                let (keys, rows) = keyed.into_iter().unzip();
                Group::new(cols, keys, rows)
            })
            .collect();
        let counts: FxHashMap<usize, KeyCounts> = anchors
            .par_iter()
            .map(|&c| {
                let rows = complete_rows.iter().map(|&r| r as usize);
                (c, key_counts(&index.columns[c], rows))
            })
            .collect();
        let side_profiles: Vec<Profile> = (0..rows as u32)
            .filter(|&r| !complete[r as usize])
            .filter_map(|r| index.profile_at(r))
            .collect();
        let side_rows = side_profiles.len();
        // the rows come from an index (unique ids, every profile types a locus), so this cannot
        // fail; if it did, every query would go to the planner rather than miss these rows
        let side = match side_profiles.is_empty() {
            true => None,
            false => Some(Index::from_profiles(&side_profiles).ok()?),
        };
        Some(Prepared {
            groups,
            counts,
            complete: complete_rows.len(),
            side,
            side_rows,
        })
    }

    /// Answers one query through the group tables, or `None` when it cannot use enough groups.
    fn query(
        &self,
        index: &Index,
        q: &Profile,
        opts: &SearchOptions,
        params: &JoinParams,
    ) -> Option<(Vec<Hit>, u64)> {
        let plan = build_plan(index, q, opts);
        if !opts.prum && plan.loci.len() < opts.effective_min_loci() {
            return Some((Vec::new(), 0));
        }
        if plan.loci.len() > MAX_FAST_LOCI {
            return None;
        }
        let k = opts.failing_loci_allowed();
        // per usable group: expected candidate rows, and the keys per locus
        let mut usable: Vec<(f64, usize, Vec<Vec<u16>>)> = Vec::new();
        for (gi, g) in self.groups.iter().enumerate() {
            let mut keys = Vec::with_capacity(g.cols.len());
            let mut probes = 1usize;
            let mut expected = self.complete as f64;
            for &c in &g.cols {
                let col = &index.columns[c];
                let Some(ql) = plan.loci.iter().find(|ql| std::ptr::eq(ql.col, col)) else {
                    break;
                };
                let Kind::Simple { q1, q2, .. } = ql.kind else {
                    break;
                };
                let ks = passing_keys(col, plan.mode, q1, q2);
                let counts = self.counts.get(&c);
                let n: u32 = ks
                    .iter()
                    .map(|&k| counts.map_or(0, |m| m[k as usize]))
                    .sum();
                expected *= n as f64 / self.complete.max(1) as f64;
                probes = probes.saturating_mul(ks.len());
                keys.push(ks);
            }
            if keys.len() == g.cols.len() && probes <= params.max_probes {
                usable.push((expected + probes as f64 / 8.0, gi, keys));
            }
        }
        if usable.len() < k + 1 {
            return None;
        }
        usable.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        usable.truncate(k + 1);
        let mut candidates: Vec<u32> = Vec::new();
        for (_, gi, keys) in &usable {
            let g = &self.groups[*gi];
            g.collect_all(keys, &mut candidates);
        }
        if usable.len() > 1 {
            candidates.sort_unstable();
            candidates.dedup();
        }
        let verified = candidates.len() as u64;
        let probed: Vec<&Group> = usable.iter().map(|u| &self.groups[u.1]).collect();
        let order = verify_order(&plan, &probed, index);
        let mut hits: Vec<Hit> = candidates
            .into_iter()
            .filter(|&r| passes(&plan, &order, r, opts))
            .filter_map(|r| make_hit(index, q, r, opts))
            .collect();
        if let Some(side) = &self.side {
            hits.extend(search_serial(side, q, opts));
        }
        Some((finish(hits, opts), verified))
    }
}

/// Plan loci in verification order: those outside the probed groups first (they decide most
/// rejections), then the probed ones.
fn verify_order(plan: &Plan<'_>, probed: &[&Group], index: &Index) -> Vec<usize> {
    let in_probed = |i: usize| {
        probed.iter().any(|g| {
            g.cols
                .iter()
                .any(|&c| std::ptr::eq(&index.columns[c], plan.loci[i].col))
        })
    };
    let (mut order, rest): (Vec<usize>, Vec<usize>) =
        (0..plan.loci.len()).partition(|&i| !in_probed(i));
    order.extend(rest);
    order
}

/// The counters of one row, stopping at the first locus that makes a hit impossible.
fn passes(plan: &Plan<'_>, order: &[usize], row: u32, opts: &SearchOptions) -> bool {
    let (mut cmp, mut pas, mut dif) = (0u8, 0u8, 0u8);
    for &i in order {
        let t = row_entry(plan.mode, &plan.loci[i], row, opts);
        if t & 1 == 1 {
            cmp += 1;
            pas += (t >> 1) & 1;
            dif += t >> 2;
            let out = if opts.prum {
                dif > 1
            } else {
                (cmp - pas) as usize > opts.max_mismatches
            };
            if out {
                return false;
            }
        }
    }
    counters_hit(cmp, pas, dif, opts)
}

impl Index {
    /// Searches many queries at once as a join (see [`crate::search::join`]): the result is
    /// exactly [`Index::search_batch`]'s, and much faster when hundreds of thousands of
    /// queries meet a large index.
    ///
    /// Below [`JOIN_MIN_QUERIES`] queries the group tables cost more than they save, and this is
    /// [`Index::search_batch`].
    pub fn search_join(&self, queries: &[Profile], opts: &SearchOptions) -> Vec<Vec<Hit>> {
        if queries.len() < JOIN_MIN_QUERIES {
            return self.search_batch(queries, opts);
        }
        self.search_join_with(queries, opts, &JoinParams::default())
            .0
    }

    /// [`Index::search_join`] with its layout given, and what it did.
    pub fn search_join_with(
        &self,
        queries: &[Profile],
        opts: &SearchOptions,
        params: &JoinParams,
    ) -> (Vec<Vec<Hit>>, JoinStats) {
        let started = std::time::Instant::now();
        let Some(prepared) = Prepared::new(self, queries, opts, params) else {
            let stats = JoinStats {
                planner_queries: queries.len(),
                side_rows: self.len(),
                ..JoinStats::default()
            };
            return (self.search_batch(queries, opts), stats);
        };
        let prepare = started.elapsed();
        let answers: Vec<(Vec<Hit>, Option<u64>)> = queries
            .par_iter()
            .map(|q| match prepared.query(self, q, opts, params) {
                Some((hits, n)) => (hits, Some(n)),
                None => (search_serial(self, q, opts), None),
            })
            .collect();
        let mut stats = JoinStats {
            groups: prepared
                .groups
                .iter()
                .map(|g| {
                    g.cols
                        .iter()
                        .map(|&c| self.columns[c].locus.name().to_string())
                        .collect()
                })
                .collect(),
            prepare,
            complete_rows: prepared.complete,
            side_rows: prepared.side_rows,
            ..JoinStats::default()
        };
        let hits = answers
            .into_iter()
            .map(|(hits, n)| {
                match n {
                    Some(n) => {
                        stats.joined_queries += 1;
                        stats.candidates += n;
                    }
                    None => stats.planner_queries += 1,
                }
                hits
            })
            .collect();
        (hits, stats)
    }
}
