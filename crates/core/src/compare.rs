//! All-pairs database comparison (the DNAtools `dbCompare` job) and the expected number of
//! matching and partially matching pairs (Weir 2004; Tvedebrink et al. 2012).
//!
//! For every pair of live profiles and every locus typed in both, the locus is a **full match**
//! (the same genotype), a **partial match** (exactly one allele shared: `aa`/`ab`, `ab`/`ac`) or a
//! mismatch. The result is the (m, p) matrix: how many pairs match fully at exactly m loci and
//! partially at exactly p loci, and the list of pairs with at least a threshold of full matches
//! (near-duplicates, relatives, twins). Genotypes that are not one or two exact alleles (wildcards,
//! off-ladder values, mixtures) are compared with the Prüm two-allele rule of
//! [`crate::search::differing_alleles`]: 0 differing alleles is a full match, 1 a partial match.
//! For exact genotypes that rule is the one above.
//!
//! [`Index::compare_all`] works on the packed code columns: for a row `i` and a tile of rows `j`,
//! branch-free byte compares over each locus column count full and partial matches per pair in
//! `u8` lanes (AVX2 when the CPU has it), and a histogram of the packed (m, p) byte pairs gives
//! the matrix. [`compare_naive`] is the reference double loop it is tested equal to.

use rayon::prelude::*;

use crate::freq::Population;
use crate::genotype::Genotype;
use crate::index::{Index, MAX_CODE, SPECIAL, UNTYPED};
use crate::kinship::Relationship;
use crate::locus::Locus;
use crate::profile::{Profile, ProfileId};
use crate::search::differing_alleles;

/// A matrix indexed by (m, p): m loci matching fully, p partially (m + p <= loci).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MatchMatrix<T> {
    loci: usize,
    cells: Vec<T>,
}

impl<T: Copy + Default + std::ops::AddAssign> MatchMatrix<T> {
    /// An all-zero matrix for `loci` loci.
    pub fn new(loci: usize) -> MatchMatrix<T> {
        MatchMatrix {
            loci,
            cells: vec![T::default(); (loci + 1) * (loci + 1)],
        }
    }

    /// The number of loci (m and p run over `0..=loci`).
    pub fn loci(&self) -> usize {
        self.loci
    }

    /// The cell (m, p); the default value outside the matrix.
    pub fn get(&self, m: usize, p: usize) -> T {
        if m > self.loci || p > self.loci {
            return T::default();
        }
        self.cells[m * (self.loci + 1) + p]
    }

    fn add(&mut self, m: usize, p: usize, v: T) {
        if m <= self.loci && p <= self.loci {
            self.cells[m * (self.loci + 1) + p] += v;
        }
    }

    /// Every cell with m + p <= loci, as (m, p, value), m then p ascending.
    pub fn cells(&self) -> impl Iterator<Item = (usize, usize, T)> + '_ {
        let l = self.loci;
        (0..=l).flat_map(move |m| (0..=l - m).map(move |p| (m, p, self.get(m, p))))
    }

    /// Sum over p of the cells with m full matches.
    pub fn row_sum(&self, m: usize) -> T {
        let mut s = T::default();
        for p in 0..=self.loci {
            s += self.get(m, p);
        }
        s
    }
}

/// A pair of profiles with many matching loci.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PairHit {
    /// One profile (the smaller id).
    pub a: ProfileId,
    /// The other profile.
    pub b: ProfileId,
    /// Loci matching fully.
    pub matching: usize,
    /// Loci matching partially.
    pub partial: usize,
}

/// Options of an all-pairs comparison.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompareOptions {
    /// List the pairs with at least this many fully matching loci (`None`: no list).
    pub hit: Option<usize>,
    /// The loci to compare (`None`: every autosomal locus of the data).
    pub loci: Option<Vec<Locus>>,
}

/// The result of an all-pairs comparison.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Comparison {
    /// The loci compared, canonical order.
    pub loci: Vec<Locus>,
    /// Pairs counted, N (N - 1) / 2 for N live profiles.
    pub pairs: u64,
    /// Pair counts by (m, p).
    pub matrix: MatchMatrix<u64>,
    /// Pairs with at least `hit` full matches: m descending, p descending, then ids.
    pub hits: Vec<PairHit>,
}

/// The outcome at one locus of a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocusMatch {
    /// The same genotype (no differing allele).
    Full,
    /// Exactly one allele differs (one shared).
    Partial,
    /// Nothing shared.
    Mismatch,
}

/// The outcome at one locus of a pair (see the module documentation).
pub fn classify(g1: &Genotype, g2: &Genotype) -> LocusMatch {
    match differing_alleles(g1, g2) {
        0 => LocusMatch::Full,
        1 => LocusMatch::Partial,
        _ => LocusMatch::Mismatch,
    }
}

fn compare_loci(profiles: &[Profile], opts: &CompareOptions) -> Vec<Locus> {
    let mut loci: Vec<Locus> = match &opts.loci {
        Some(l) => l.iter().copied().filter(|l| l.is_counted()).collect(),
        None => profiles
            .iter()
            .flat_map(|p| p.genotypes().map(|(l, _)| l))
            .filter(|l| l.is_counted())
            .collect(),
    };
    loci.sort();
    loci.dedup();
    loci
}

fn finish_hits(hits: &mut [PairHit]) {
    hits.sort_by(|x, y| {
        y.matching
            .cmp(&x.matching)
            .then(y.partial.cmp(&x.partial))
            .then_with(|| x.a.cmp(&y.a))
            .then_with(|| x.b.cmp(&y.b))
    });
}

fn pair_hit(a: ProfileId, b: ProfileId, m: usize, p: usize) -> PairHit {
    if a <= b {
        PairHit {
            a,
            b,
            matching: m,
            partial: p,
        }
    } else {
        PairHit {
            a: b,
            b: a,
            matching: m,
            partial: p,
        }
    }
}

/// The reference all-pairs comparison: every pair, every locus, [`classify`].
pub fn compare_naive(profiles: &[Profile], opts: &CompareOptions) -> Comparison {
    let loci = compare_loci(profiles, opts);
    let mut matrix = MatchMatrix::new(loci.len());
    let mut hits = Vec::new();
    let mut pairs = 0;
    for (i, x) in profiles.iter().enumerate() {
        for y in &profiles[i + 1..] {
            let (mut m, mut p) = (0, 0);
            for &l in &loci {
                if let (Some(g1), Some(g2)) = (x.genotype(l), y.genotype(l)) {
                    match classify(g1, g2) {
                        LocusMatch::Full => m += 1,
                        LocusMatch::Partial => p += 1,
                        LocusMatch::Mismatch => {}
                    }
                }
            }
            matrix.add(m, p, 1);
            pairs += 1;
            if opts.hit.is_some_and(|h| m >= h) {
                hits.push(pair_hit(x.id().clone(), y.id().clone(), m, p));
            }
        }
    }
    finish_hits(&mut hits);
    Comparison {
        loci,
        pairs,
        matrix,
        hits,
    }
}

/// Rows of `j` per tile: the tile's columns and the per-pair counters stay in L1/L2.
const TILE: usize = 2048;
/// Rows `i` per parallel task.
const IBLOCK: usize = 32;

/// Per-task accumulator.
struct Acc {
    hist: Vec<u64>,
    hits: Vec<(u32, u32, u8, u8)>,
}

/// One locus of row `i` against a tile: the tile's code windows and row `i`'s codes.
type TileLocus<'a> = (&'a [u8], &'a [u8], u8, u8);

/// Lanes per register block (one AVX2 register of bytes).
const LANES: usize = 32;

/// Counts, for every row of the tile, the loci matching row `i` fully (`m`) and partially
/// (`p`). The counters of 32 rows stay in registers across all loci; every compare is
/// branch-free so that the lanes vectorise.
#[inline(always)]
fn kernel(loci: &[TileLocus<'_>], m: &mut [u8], p: &mut [u8]) {
    let len = m.len().min(p.len());
    let blocks = len / LANES;
    for c in 0..blocks {
        let base = c * LANES;
        let mut mm = [0u8; LANES];
        let mut pp = [0u8; LANES];
        for &(a, b, xi, yi) in loci {
            let (Some(xa), Some(xb)) = (a.get(base..base + LANES), b.get(base..base + LANES))
            else {
                continue;
            };
            for k in 0..LANES {
                let (x, y) = (xa[k], xb[k]);
                let full = (x == xi) & (y == yi);
                let shared = (x == xi) | (x == yi) | (y == xi) | (y == yi);
                mm[k] += full as u8;
                pp[k] += (shared ^ full) as u8;
            }
        }
        m[base..base + LANES].copy_from_slice(&mm);
        p[base..base + LANES].copy_from_slice(&pp);
    }
    for k in blocks * LANES..len {
        let (mut mk, mut pk) = (0u8, 0u8);
        for &(a, b, xi, yi) in loci {
            let (Some(&x), Some(&y)) = (a.get(k), b.get(k)) else {
                continue;
            };
            let full = (x == xi) & (y == yi);
            let shared = (x == xi) | (x == yi) | (y == xi) | (y == yi);
            mk += full as u8;
            pk += (shared ^ full) as u8;
        }
        m[k] = mk;
        p[k] = pk;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn kernel_avx2(loci: &[TileLocus<'_>], m: &mut [u8], p: &mut [u8]) {
    kernel(loci, m, p)
}

fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[inline]
fn run_kernel(avx2: bool, loci: &[TileLocus<'_>], m: &mut [u8], p: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: `avx2` is true only when the CPU reports AVX2 (`has_avx2`).
        unsafe { kernel_avx2(loci, m, p) };
        return;
    }
    let _ = avx2;
    kernel(loci, m, p)
}

impl Index {
    /// Compares every pair of live profiles at `opts.loci` (default: every autosomal column).
    /// Equal to [`compare_naive`] over the same profiles, whatever the number of threads.
    pub fn compare_all(&self, opts: &CompareOptions) -> Comparison {
        let mut loci: Vec<Locus> = match &opts.loci {
            Some(l) => l
                .iter()
                .copied()
                .filter(|l| l.is_counted() && self.column(*l).is_some())
                .collect(),
            None => self
                .columns
                .iter()
                .map(|c| c.locus)
                .filter(|l| l.is_counted())
                .collect(),
        };
        loci.sort();
        loci.dedup();
        let cols: Vec<usize> = loci.iter().filter_map(|&l| self.column(l)).collect();
        // every requested locus counts in the matrix size, even one the data lacks
        let nloci = match &opts.loci {
            Some(l) => {
                let mut v: Vec<Locus> = l.iter().copied().filter(|l| l.is_counted()).collect();
                v.sort();
                v.dedup();
                loci = v;
                loci.len()
            }
            None => loci.len(),
        };
        // live rows, split into regular ones (exact codes only) and rows with a side-table genotype
        let mut regular: Vec<u32> = Vec::new();
        let mut special: Vec<u32> = Vec::new();
        for row in 0..self.rows() as u32 {
            if !self.live.get(row as usize).is_some_and(|b| *b) {
                continue;
            }
            // the u8 lanes count at most 255 loci: wider custom panels take the reference path
            if cols.len() > 255
                || cols
                    .iter()
                    .any(|&c| self.columns[c].a.get(row as usize) == Some(&SPECIAL))
            {
                special.push(row);
            } else {
                regular.push(row);
            }
        }
        let n = regular.len();
        let dense: Vec<(Vec<u8>, Vec<u8>)> = cols
            .iter()
            .map(|&c| {
                let col = &self.columns[c];
                (
                    regular.iter().map(|&r| col.a[r as usize]).collect(),
                    regular.iter().map(|&r| col.b[r as usize]).collect(),
                )
            })
            .collect();
        let width = nloci + 1;
        let hit = opts.hit.map(|h| h.min(255) as u8);
        let avx2 = has_avx2();
        let blocks: Vec<usize> = (0..n).step_by(IBLOCK).collect();
        let acc = blocks
            .par_iter()
            .fold(
                || Acc {
                    hist: vec![0; width * width],
                    hits: Vec::new(),
                },
                |mut acc, &i0| {
                    let mut m = vec![0u8; TILE];
                    let mut p = vec![0u8; TILE];
                    let mut local = vec![0u32; width * width];
                    let mut tile: Vec<TileLocus<'_>> = Vec::with_capacity(dense.len());
                    let i1 = (i0 + IBLOCK).min(n);
                    let mut t0 = i0 + 1;
                    while t0 < n {
                        let t1 = (t0 + TILE).min(n);
                        for i in i0..i1.min(t1) {
                            let j0 = t0.max(i + 1);
                            if j0 >= t1 {
                                continue;
                            }
                            let len = t1 - j0;
                            tile.clear();
                            tile.extend(
                                dense
                                    .iter()
                                    .filter(|(a, _)| a[i] != UNTYPED && a[i] <= MAX_CODE)
                                    .map(|(a, b)| (&a[j0..t1], &b[j0..t1], a[i], b[i])),
                            );
                            run_kernel(avx2, &tile, &mut m[..len], &mut p[..len]);
                            for k in 0..len {
                                let (mk, pk) = (m[k] as usize, p[k] as usize);
                                if let Some(c) = local.get_mut(mk * width + pk) {
                                    *c += 1;
                                }
                                if hit.is_some_and(|h| m[k] >= h) {
                                    acc.hits.push((regular[i], regular[j0 + k], m[k], p[k]));
                                }
                            }
                        }
                        t0 = t1;
                    }
                    for (h, l) in acc.hist.iter_mut().zip(&local) {
                        *h += u64::from(*l);
                    }
                    acc
                },
            )
            .reduce(
                || Acc {
                    hist: vec![0; width * width],
                    hits: Vec::new(),
                },
                |mut x, y| {
                    for (a, b) in x.hist.iter_mut().zip(&y.hist) {
                        *a += b;
                    }
                    x.hits.extend(y.hits);
                    x
                },
            );
        let mut matrix = MatchMatrix {
            loci: nloci,
            cells: acc.hist,
        };
        let mut hits: Vec<PairHit> = acc
            .hits
            .into_iter()
            .map(|(a, b, m, p)| pair_hit(self.ids.get(a), self.ids.get(b), m as usize, p as usize))
            .collect();
        // pairs with a side-table row: the reference rules, one pair at a time
        let genotype = |c: usize, row: u32| self.columns[c].genotype(row);
        let slow: Vec<(u32, u32, usize, usize)> = special
            .par_iter()
            .enumerate()
            .flat_map_iter(|(si, &s)| {
                let others = regular
                    .iter()
                    .copied()
                    .chain(special[si + 1..].iter().copied());
                others
                    .map(|o| {
                        let (mut m, mut p) = (0, 0);
                        for &c in &cols {
                            if let (Some(g1), Some(g2)) = (genotype(c, s), genotype(c, o)) {
                                match classify(&g1, &g2) {
                                    LocusMatch::Full => m += 1,
                                    LocusMatch::Partial => p += 1,
                                    LocusMatch::Mismatch => {}
                                }
                            }
                        }
                        (s, o, m, p)
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        for (s, o, m, p) in slow {
            matrix.add(m, p, 1);
            if opts.hit.is_some_and(|h| m >= h) {
                hits.push(pair_hit(self.ids.get(s), self.ids.get(o), m, p));
            }
        }
        finish_hits(&mut hits);
        let live = (n + special.len()) as u64;
        Comparison {
            loci,
            pairs: live * live.saturating_sub(1) / 2,
            matrix,
            hits,
        }
    }
}

/// Per-locus probabilities (mismatch P00, partial P01, full P10) of a random unrelated pair,
/// Weir (2004) with theta as in BRIEF section 4. `freqs` are the allele frequencies of the
/// locus (normalised here to add up to 1).
pub fn locus_probabilities(freqs: &[f64], theta: f64) -> [f64; 3] {
    let total: f64 = freqs.iter().filter(|f| **f > 0.0).sum();
    let s = |k: i32| -> f64 {
        if total <= 0.0 {
            0.0
        } else {
            freqs
                .iter()
                .filter(|f| **f > 0.0)
                .map(|f| (f / total).powi(k))
                .sum()
        }
    };
    let (s2, s3, s4) = (s(2), s(3), s(4));
    let t = theta;
    let u = 1.0 - t;
    let d = (1.0 + t) * (1.0 + 2.0 * t);
    let p00 = (t * t * u * (1.0 - s2)
        + 2.0 * t * u * u * (1.0 - 2.0 * s2 + s3)
        + u.powi(3) * (1.0 - 4.0 * s2 + 4.0 * s3 + 2.0 * s2 * s2 - 3.0 * s4))
        / d;
    let p01 = (8.0 * t * t * u * (1.0 - s2)
        + 4.0 * t * u * u * (1.0 - s3)
        + 4.0 * u.powi(3) * (s2 - s3 - s2 * s2 + s4))
        / d;
    let p10 = (6.0 * t.powi(3)
        + t * t * u * (2.0 + 9.0 * s2)
        + 2.0 * t * u * u * (2.0 * s2 + s3)
        + u.powi(3) * (2.0 * s2 * s2 - s4))
        / d;
    [p00, p01, p10]
}

/// Per-locus probabilities (mismatch, partial, full) of a pair of relatives with IBD
/// probabilities (k0, k1, k2) (BRIEF section 4): mismatch k0 P00; partial
/// k1 (1-theta)(1-S2) + k0 P01; full k2 + k1 (theta + (1-theta) S2) + k0 P10.
pub fn relative_probabilities(freqs: &[f64], theta: f64, rel: Relationship) -> [f64; 3] {
    let [p00, p01, p10] = locus_probabilities(freqs, theta);
    let total: f64 = freqs.iter().filter(|f| **f > 0.0).sum();
    let s2: f64 = if total <= 0.0 {
        0.0
    } else {
        freqs
            .iter()
            .filter(|f| **f > 0.0)
            .map(|f| (f / total).powi(2))
            .sum()
    };
    let Relationship { k0, k1, k2 } = rel;
    [
        k0 * p00,
        k1 * (1.0 - theta) * (1.0 - s2) + k0 * p01,
        k2 + k1 * (theta + (1.0 - theta) * s2) + k0 * p10,
    ]
}

/// The probability that a pair matches fully at exactly m loci and partially at exactly p: the
/// coefficient of x^m y^p in the product over loci of (P00 + P01 y + P10 x).
pub fn match_distribution(per_locus: &[[f64; 3]]) -> MatchMatrix<f64> {
    let l = per_locus.len();
    let mut cur: MatchMatrix<f64> = MatchMatrix::new(l);
    cur.cells[0] = 1.0;
    for (done, &[p00, p01, p10]) in per_locus.iter().enumerate() {
        let mut next: MatchMatrix<f64> = MatchMatrix::new(l);
        for m in 0..=done {
            for p in 0..=done - m {
                let v = cur.get(m, p);
                if v == 0.0 {
                    continue;
                }
                next.add(m, p, v * p00);
                next.add(m, p + 1, v * p01);
                next.add(m + 1, p, v * p10);
            }
        }
        cur = next;
    }
    cur
}

/// Options of an expected (m, p) matrix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExpectOptions {
    /// Theta (F_ST).
    pub theta: f64,
    /// A fraction of the pairs that are relatives, with their relationship (`None`: all unrelated).
    pub relatives: Option<(Relationship, f64)>,
}

/// The error of an expected-matrix calculation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ExpectError {
    /// A locus has no frequencies in the population.
    #[error("population '{population}' has no frequencies for locus {locus}")]
    NoFrequencies {
        /// The population.
        population: String,
        /// The locus.
        locus: Locus,
    },
    /// An option out of range.
    #[error("{0}")]
    Option(String),
}

/// The expected (m, p) matrix of a database of `n` people at `loci`: pair probabilities times
/// N (N - 1) / 2, the unrelated pairs with Weir (2004) / Tvedebrink et al. (2012) and theta, and a
/// fraction of related pairs as asked. Frequencies are the population's listed ones, normalised
/// per locus (no minimum allele frequency: only alleles that occur matter).
pub fn expected_matrix(
    pop: &Population,
    loci: &[Locus],
    n: u64,
    opts: &ExpectOptions,
) -> Result<MatchMatrix<f64>, ExpectError> {
    if !(0.0..1.0).contains(&opts.theta) {
        return Err(ExpectError::Option(format!(
            "theta {} is out of range [0, 1)",
            opts.theta
        )));
    }
    if let Some((_, f)) = opts.relatives
        && !(0.0..=1.0).contains(&f)
    {
        return Err(ExpectError::Option(format!(
            "fraction of relatives {f} is out of range [0, 1]"
        )));
    }
    let mut per_locus = Vec::new();
    for &l in loci {
        let lf = pop.locus(l).ok_or_else(|| ExpectError::NoFrequencies {
            population: pop.name().to_string(),
            locus: l,
        })?;
        let f: Vec<f64> = lf.alleles().iter().map(|a| a.1).collect();
        let un = locus_probabilities(&f, opts.theta);
        let row = match opts.relatives {
            None => un,
            Some((rel, frac)) => {
                let r = relative_probabilities(&f, opts.theta, rel);
                // a mixture of pairs: each pair is related with probability `frac`
                per_locus.push((un, Some((r, frac))));
                continue;
            }
        };
        per_locus.push((row, None));
    }
    let pairs = (n as f64) * (n.saturating_sub(1) as f64) / 2.0;
    let unrelated = match_distribution(&per_locus.iter().map(|x| x.0).collect::<Vec<_>>());
    let mut out: MatchMatrix<f64> = MatchMatrix::new(loci.len());
    match opts.relatives {
        None => {
            for (m, p, v) in unrelated.cells() {
                out.add(m, p, v * pairs);
            }
        }
        Some((_, frac)) => {
            let related = match_distribution(
                &per_locus
                    .iter()
                    .map(|x| x.1.map_or(x.0, |r| r.0))
                    .collect::<Vec<_>>(),
            );
            for (m, p, v) in unrelated.cells() {
                out.add(m, p, ((1.0 - frac) * v + frac * related.get(m, p)) * pairs);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn prof(id: &str, cells: &[(&str, &str)]) -> Profile {
        let mut p = Profile::new(ProfileId::new(id).unwrap());
        for (l, c) in cells {
            let l = Locus::lookup(l).unwrap();
            p.set_genotype(l, Genotype::parse_at(l, c).unwrap());
        }
        p
    }

    #[test]
    fn test_classify_with_dbcompare_rules() {
        let g = |s: &str| Genotype::parse_at(Locus::lookup("TH01").unwrap(), s).unwrap();
        assert_eq!(classify(&g("6,7"), &g("6,7")), LocusMatch::Full);
        assert_eq!(classify(&g("6"), &g("6")), LocusMatch::Full);
        assert_eq!(classify(&g("6"), &g("6,7")), LocusMatch::Partial);
        assert_eq!(classify(&g("6,7"), &g("6,8")), LocusMatch::Partial);
        assert_eq!(classify(&g("6,7"), &g("8,9")), LocusMatch::Mismatch);
        assert_eq!(classify(&g("6"), &g("7")), LocusMatch::Mismatch);
        assert_eq!(classify(&g("6,F"), &g("6,9")), LocusMatch::Full);
    }

    #[test]
    fn test_locus_probabilities_at_theta_zero() {
        // two equally frequent alleles: S2 = 1/2, S3 = 1/4, S4 = 1/8
        let [p00, p01, p10] = locus_probabilities(&[0.5, 0.5], 0.0);
        // full match: 2 S2^2 - S4 = 0.5 - 0.125
        assert!((p10 - 0.375).abs() < 1e-12);
        assert!((p01 - 4.0 * (0.5 - 0.25 - 0.25 + 0.125)).abs() < 1e-12);
        assert!((p00 + p01 + p10 - 1.0).abs() < 1e-12);
        // brute force over genotype pairs for three alleles
        let f = [0.2, 0.3, 0.5];
        let genos: Vec<(usize, usize, f64)> = (0..3)
            .flat_map(|a| {
                (a..3).map(move |b| {
                    (
                        a,
                        b,
                        if a == b {
                            f[a] * f[a]
                        } else {
                            2.0 * f[a] * f[b]
                        },
                    )
                })
            })
            .collect();
        let mut want = [0.0; 3];
        for &(a, b, pa) in &genos {
            for &(c, d, pb) in &genos {
                let shared = {
                    let x = [a, b];
                    let y = [c, d];
                    if (a, b) == (c, d) {
                        2
                    } else if x.iter().any(|v| y.contains(v)) {
                        1
                    } else {
                        0
                    }
                };
                want[shared] += pa * pb;
            }
        }
        let got = locus_probabilities(&f, 0.0);
        for k in 0..3 {
            assert!(
                (got[k] - want[[0, 1, 2][k]]).abs() < 1e-12,
                "{k}: {got:?} vs {want:?}"
            );
        }
    }

    #[test]
    fn test_relatives_full_match_probabilities() {
        // identical twins (0, 0, 1) always match fully
        let twin = relative_probabilities(
            &[0.1, 0.9],
            0.0,
            Relationship {
                k0: 0.0,
                k1: 0.0,
                k2: 1.0,
            },
        );
        assert_eq!(twin, [0.0, 0.0, 1.0]);
        let pc = relative_probabilities(&[0.1, 0.2, 0.7], 0.01, Relationship::PARENT_CHILD);
        assert_eq!(pc[0], 0.0, "a parent and child always share an allele");
        assert!((pc.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    proptest! {
        /// The expected matrix is a probability distribution: it sums to 1.
        #[test]
        fn prop_distribution_sums_to_one(freqs in proptest::collection::vec(proptest::collection::vec(0.001f64..1.0, 1..12), 1..25), theta in 0.0f64..0.2, k1 in 0.0f64..1.0) {
            let per: Vec<[f64; 3]> = freqs.iter().map(|f| locus_probabilities(f, theta)).collect();
            for r in &per {
                prop_assert!(r.iter().all(|&x| x >= -1e-12));
                prop_assert!((r.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            }
            let d = match_distribution(&per);
            prop_assert!((d.cells().map(|c| c.2).sum::<f64>() - 1.0).abs() < 1e-9);
            let rel = Relationship::new(1.0 - k1, k1, 0.0).unwrap();
            let per: Vec<[f64; 3]> = freqs.iter().map(|f| relative_probabilities(f, theta, rel)).collect();
            let d = match_distribution(&per);
            prop_assert!((d.cells().map(|c| c.2).sum::<f64>() - 1.0).abs() < 1e-9);
        }

        /// The fast all-pairs comparison equals the naive double loop.
        #[test]
        fn prop_compare_all_equals_naive(
            rows in proptest::collection::vec(proptest::collection::vec(proptest::option::weighted(0.85, (0u8..5, 0u8..5)), 4), 0..90),
            specials in proptest::collection::vec((0usize..90, 0usize..4, 0u8..3), 0..4),
            deleted in proptest::collection::vec(0usize..90, 0..3),
            hit in 0usize..5,
        ) {
            let loci = ["TH01", "vWA", "FGA", "D8S1179"];
            let mut profiles = Vec::new();
            for (i, r) in rows.iter().enumerate() {
                let mut p = Profile::new(ProfileId::new(&format!("P{i:03}")).unwrap());
                for (l, cell) in loci.iter().zip(r) {
                    if let Some((x, y)) = cell {
                        let l = Locus::lookup(l).unwrap();
                        p.set_genotype(l, Genotype::parse_at(l, &format!("{},{}", 10 + x, 10 + y)).unwrap());
                    }
                }
                if p.locus_count() == 0 {
                    let l = Locus::lookup("AMEL").unwrap();
                    p.set_genotype(l, Genotype::parse_at(l, "X").unwrap());
                }
                profiles.push(p);
            }
            for (i, l, kind) in specials {
                if let Some(p) = profiles.get_mut(i) {
                    let l = Locus::lookup(loci[l]).unwrap();
                    let cell = ["10,F", "10,11,12", ">12"][kind as usize];
                    p.set_genotype(l, Genotype::parse_at(l, cell).unwrap());
                }
            }
            let mut index = Index::from_profiles(&profiles).unwrap();
            let mut kept = profiles.clone();
            for d in deleted {
                if let Some(p) = profiles.get(d) {
                    index.remove(p.id());
                    kept.retain(|k| k.id() != p.id());
                }
            }
            let opts = CompareOptions { hit: Some(hit), loci: None };
            let fast = index.compare_all(&opts);
            let naive = compare_naive(&kept, &CompareOptions { loci: Some(fast.loci.clone()), ..opts.clone() });
            prop_assert_eq!(fast.pairs, naive.pairs);
            prop_assert_eq!(&fast.matrix, &naive.matrix);
            prop_assert_eq!(&fast.hits, &naive.hits);
        }
    }

    #[test]
    fn test_compare_all_counts_pairs() {
        let ps = vec![
            prof("A", &[("TH01", "6,7"), ("vWA", "16")]),
            prof("B", &[("TH01", "6,7"), ("vWA", "16,17")]),
            prof("C", &[("TH01", "8"), ("FGA", "22")]),
        ];
        let index = Index::from_profiles(&ps).unwrap();
        let c = index.compare_all(&CompareOptions {
            hit: Some(1),
            loci: None,
        });
        assert_eq!(c.pairs, 3);
        assert_eq!(c.matrix.get(1, 1), 1, "A-B: TH01 full, vWA partial");
        assert_eq!(c.matrix.get(0, 0), 2);
        assert_eq!(
            c.hits,
            vec![pair_hit(
                ProfileId::new("A").unwrap(),
                ProfileId::new("B").unwrap(),
                1,
                1
            )]
        );
    }
}
