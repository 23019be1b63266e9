//! Kinship indices and familial search.
//!
//! The kinship index (KI) of two profiles for a relationship with IBD probabilities
//! (k0, k1, k2) is, per locus, `P(G1, G2 | related) / P(G1, G2 | unrelated)`, multiplied across
//! loci (BRIEF section 4; Weir, Anderson and Hepler 2006; Buckleton, Bright and Taylor 2016,
//! ch. 4). Genotype probabilities follow Balding and Nichols (1994) with theta, so theta = 0 is
//! Hardy-Weinberg and the textbook table of BRIEF section 4 comes out of one general formula:
//!
//! ```text
//! KI = sum_{G1',G2'} w1 w2 P(G1') [k0 P0(G2'|G1') + k1 P1(G2'|G1') + k2 P2(G2'|G1')]
//!    / sum_{G1',G2'} w1 w2 P(G1') P0(G2'|G1')
//! ```
//!
//! where G1', G2' run over the true genotypes consistent with what was observed (weights w from
//! the dropout model), P0 draws both alleles of G2' given G1' (Balding-Nichols sampling), P1
//! passes one allele of G1' (1/2 each) to G2' through the mutation kernel and draws the other, and
//! P2 passes both. Without dropout every observation has one true genotype and the sums collapse
//! to the textbook `k0 + k1 P1/P0 + k2 P2/P0`.
//!
//! **Evidence model** (configurable, documented in `docs/STATISTICS.md`):
//! * *dropout* `d`: a single observed allele `a` is the homozygote `aa` (weight 1 - d^2) or a
//!   heterozygote `az` whose `z` dropped out (weight d(1 - d)) for every allele `z` of the
//!   frequency table (and any other allele the two profiles show); two observed alleles are that
//!   heterozygote. A missing locus, a locus without frequencies and a genotype that is not one or
//!   two exact alleles (a mixture, a wildcard, an off-ladder value) are *inconclusive*: KI 1.
//! * *mutation* `mu`: an allele passed IBD arrives unchanged with probability 1 - mu and one repeat
//!   up or down with probability mu/2 each (single-step stepwise model); with mu > 0, a
//!   parent-child locus that shares no allele but differs by one step is not an exclusion: parent
//!   `ab` and child `cd` with b, c one step apart give mu (p_b + p_c) / (16 p_b p_c) at theta 0
//!   (about mu / 8p). A mutating transmission has a direction, so the related likelihood is the
//!   average of both directions (either profile may be the one passing the allele): KI stays
//!   symmetric, and parent-child is tested both ways at once.
//!
//! Familial search ([`Index::familial_search`]) ranks every profile of the packed index for each
//! query: per query locus it precomputes log10 KI for every code pair of the column (like the
//! lookup tables of complex loci in `search::plan`) and sums one table entry per row. Direct
//! matches (moderate stringency at every compared locus) are listed apart and never ranked.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use rayon::prelude::*;

use crate::allele::Allele;
use crate::freq::{LocusFreqs, Population};
use crate::genotype::Genotype;
use crate::index::{Column, Index, SPECIAL, UNTYPED};
use crate::locus::Locus;
use crate::profile::{Profile, ProfileId};
use crate::search::{Hit, SearchOptions, Stringency};
use crate::stats::Log10;

/// A relationship as IBD probabilities (k0, k1, k2): the chance two relatives share 0, 1 or 2
/// alleles identical by descent at a locus.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Relationship {
    /// P(no allele IBD).
    pub k0: f64,
    /// P(one allele IBD).
    pub k1: f64,
    /// P(two alleles IBD).
    pub k2: f64,
}

/// The error of a kinship calculation's inputs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum KinshipError {
    /// IBD probabilities out of range or not adding up to 1.
    #[error(
        "invalid IBD probabilities ({k0}, {k1}, {k2}): each must be in [0, 1] and they must add up to 1"
    )]
    Ibd {
        /// k0 as given.
        k0: f64,
        /// k1 as given.
        k1: f64,
        /// k2 as given.
        k2: f64,
    },
    /// A rate or probability option out of range.
    #[error("{name} {value} is out of range [0, {max})")]
    Option {
        /// Which option.
        name: &'static str,
        /// Its value.
        value: f64,
        /// The (exclusive) upper bound.
        max: f64,
    },
    /// A relationship name not understood.
    #[error(
        "unknown relationship '{0}' (expected parent-child, full-sibling, half-sibling, first-cousin or k0,k1,k2)"
    )]
    UnknownRelationship(String),
}

impl Relationship {
    /// Parent and child: (0, 1, 0).
    pub const PARENT_CHILD: Relationship = Relationship {
        k0: 0.0,
        k1: 1.0,
        k2: 0.0,
    };
    /// Full siblings: (1/4, 1/2, 1/4).
    pub const FULL_SIBLINGS: Relationship = Relationship {
        k0: 0.25,
        k1: 0.5,
        k2: 0.25,
    };
    /// Half siblings, grandparent-grandchild, avuncular: (1/2, 1/2, 0).
    pub const HALF_SIBLINGS: Relationship = Relationship {
        k0: 0.5,
        k1: 0.5,
        k2: 0.0,
    };
    /// First cousins: (3/4, 1/4, 0).
    pub const FIRST_COUSINS: Relationship = Relationship {
        k0: 0.75,
        k1: 0.25,
        k2: 0.0,
    };
    /// Unrelated: (1, 0, 0); every KI is 1.
    pub const UNRELATED: Relationship = Relationship {
        k0: 1.0,
        k1: 0.0,
        k2: 0.0,
    };

    /// Any relationship; the probabilities must be in `[0, 1]` and add up to 1 (within 1e-9).
    pub fn new(k0: f64, k1: f64, k2: f64) -> Result<Relationship, KinshipError> {
        let ok = [k0, k1, k2].iter().all(|k| (0.0..=1.0).contains(k))
            && (k0 + k1 + k2 - 1.0).abs() <= 1e-9;
        if ok {
            Ok(Relationship { k0, k1, k2 })
        } else {
            Err(KinshipError::Ibd { k0, k1, k2 })
        }
    }
}

impl FromStr for Relationship {
    type Err = KinshipError;
    fn from_str(s: &str) -> Result<Relationship, KinshipError> {
        let n = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        Ok(match n.as_str() {
            "parent-child" | "pc" | "parent" | "child" => Relationship::PARENT_CHILD,
            "full-sibling" | "full-siblings" | "sibling" | "siblings" | "fs" => {
                Relationship::FULL_SIBLINGS
            }
            "half-sibling" | "half-siblings" | "hs" | "grandparent" | "avuncular" | "uncle"
            | "aunt" => Relationship::HALF_SIBLINGS,
            "first-cousin" | "first-cousins" | "cousin" | "cousins" | "fc" => {
                Relationship::FIRST_COUSINS
            }
            _ => {
                let parts: Vec<&str> = n.split([',', '-', '/']).filter(|p| !p.is_empty()).collect();
                let nums: Option<Vec<f64>> = parts.iter().map(|p| p.parse().ok()).collect();
                match nums.as_deref() {
                    Some(&[k0, k1, k2]) => Relationship::new(k0, k1, k2)?,
                    _ => return Err(KinshipError::UnknownRelationship(s.to_string())),
                }
            }
        })
    }
}

impl fmt::Display for Relationship {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {}, {})", self.k0, self.k1, self.k2)
    }
}

/// Options of a kinship calculation.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct KinshipOptions {
    /// The relationship tested against "unrelated".
    pub relationship: Relationship,
    /// Theta (F_ST), in `[0, 1)`.
    pub theta: f64,
    /// Single-step mutation rate per allele passed IBD, in `[0, 1)`.
    pub mutation_rate: f64,
    /// Allele dropout probability at single-allele loci, in `[0, 1)`.
    pub dropout: f64,
}

impl Default for KinshipOptions {
    /// Parent-child, theta 0.01, mutation rate 0.002, dropout 0.05.
    fn default() -> Self {
        KinshipOptions {
            relationship: Relationship::PARENT_CHILD,
            theta: 0.01,
            mutation_rate: 0.002,
            dropout: 0.05,
        }
    }
}

impl KinshipOptions {
    /// Checks the ranges of the options.
    pub fn validate(&self) -> Result<(), KinshipError> {
        let r = self.relationship;
        Relationship::new(r.k0, r.k1, r.k2)?;
        for (name, value) in [
            ("theta", self.theta),
            ("mutation rate", self.mutation_rate),
            ("dropout", self.dropout),
        ] {
            if !(0.0..1.0).contains(&value) {
                return Err(KinshipError::Option {
                    name,
                    value,
                    max: 1.0,
                });
            }
        }
        Ok(())
    }
}

/// What a locus says about a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LocusClass {
    /// Consistent with the relationship without a mutation.
    Consistent,
    /// Consistent only through a mutation (KI > 0 only because mutation_rate > 0).
    Mutation,
    /// Inconsistent even with a single-step mutation (KI 0).
    Excluded,
    /// No information (KI 1): untyped in either profile, no frequencies, or a genotype that is not
    /// one or two exact alleles.
    Inconclusive,
}

/// The KI at one locus.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LocusKi {
    /// The locus.
    pub locus: Locus,
    /// KI at the locus.
    pub ki: f64,
    /// What the locus says.
    pub class: LocusClass,
}

/// The KI of a pair of profiles.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PairKi {
    /// Per autosomal locus typed in either profile, canonical order.
    pub loci: Vec<LocusKi>,
    /// The combined KI (product over loci).
    pub combined: Log10,
    /// Loci consistent without mutation.
    pub consistent: usize,
    /// Loci needing a mutation.
    pub mutation: usize,
    /// Loci excluding the relationship.
    pub excluded: usize,
    /// Loci without information (missing, no frequencies, unusable genotype).
    pub inconclusive: usize,
}

impl PairKi {
    /// Loci that carried information (consistent + mutation + excluded).
    pub fn compared(&self) -> usize {
        self.consistent + self.mutation + self.excluded
    }
}

/// One locus of the model: allele frequencies by allele id (the table's alleles first, in ladder
/// order, then others that profiles show), repeat values for the mutation kernel.
#[derive(Debug, Clone)]
struct LocusModel {
    alleles: Vec<Allele>,
    p: Vec<f64>,
    /// Repeat value in tenths, or a sentinel for alleles that never mutate.
    tenths: Vec<i32>,
    /// Alleles listed by the table (ids `0..n_table`).
    n_table: usize,
}

const NO_STEP: i32 = i32::MIN / 2;

impl LocusModel {
    fn new(freqs: &LocusFreqs) -> LocusModel {
        let mut m = LocusModel {
            alleles: Vec::new(),
            p: Vec::new(),
            tenths: Vec::new(),
            n_table: 0,
        };
        for &(a, _) in freqs.alleles() {
            if let Some(f) = freqs.frequency(a) {
                m.push(a, f);
            }
        }
        m.n_table = m.alleles.len();
        m
    }

    fn push(&mut self, a: Allele, f: f64) -> usize {
        self.alleles.push(a);
        self.p.push(f);
        self.tenths.push(a.tenths().map_or(NO_STEP, i32::from));
        self.alleles.len() - 1
    }

    /// The id of an exact allele, adding it (at the locus's frequency rule) when the table does
    /// not list it.
    fn id(&mut self, a: Allele, freqs: &LocusFreqs) -> Option<usize> {
        if let Some(i) = self.alleles.iter().position(|&x| x == a) {
            return Some(i);
        }
        let f = freqs.frequency(a)?;
        Some(self.push(a, f))
    }
}

/// True genotypes (x, y, weight) of the two observations, reused across calls.
type Buffers = (Vec<(usize, usize, f64)>, Vec<(usize, usize, f64)>);

/// An observed genotype as allele ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Obs {
    Pair(usize, usize),
    Single(usize),
}

/// The parameters of the per-locus formula.
#[derive(Debug, Clone, Copy)]
struct Params {
    k: Relationship,
    theta: f64,
    mu: f64,
    d: f64,
}

impl Params {
    fn of(opts: &KinshipOptions) -> Params {
        Params {
            k: opts.relationship,
            theta: opts.theta,
            mu: opts.mutation_rate,
            d: opts.dropout,
        }
    }
}

/// Balding-Nichols: the probability that the next allele is `x` after `n` alleles of which `m`
/// are `x` (n >= 1).
#[inline]
fn draw(p: f64, m: u32, n: u32, theta: f64) -> f64 {
    (m as f64 * theta + (1.0 - theta) * p) / (1.0 + (n as f64 - 1.0) * theta)
}

impl LocusModel {
    /// The mutation kernel: probability that allele `s` passed IBD is seen as `t`.
    #[inline]
    fn kernel(&self, s: usize, t: usize, mu: f64) -> f64 {
        if s == t {
            1.0 - mu
        } else if mu > 0.0 && (self.tenths[s] - self.tenths[t]).abs() == 10 {
            mu / 2.0
        } else {
            0.0
        }
    }

    /// (related, unrelated) joint probabilities of true genotypes {x,y} and {u,v}.
    fn joint(&self, x: usize, y: usize, u: usize, v: usize, q: &Params) -> (f64, f64) {
        let th = q.theta;
        let p = &self.p;
        let eq = |a: usize, b: usize| (a == b) as u32;
        let pg1 = if x == y {
            p[x] * draw(p[x], 1, 1, th)
        } else {
            2.0 * p[x] * draw(p[y], 0, 1, th)
        };
        let het2 = if u == v { 1.0 } else { 2.0 };
        let p0 = het2
            * draw(p[u], eq(u, x) + eq(u, y), 2, th)
            * draw(p[v], eq(v, x) + eq(v, y) + eq(v, u), 3, th);
        let mut rel = q.k.k0 * p0;
        if q.k.k1 > 0.0 {
            let other = |o: usize| draw(p[o], eq(o, x) + eq(o, y), 2, th);
            let mut p1 = 0.0;
            for s in [x, y] {
                p1 += 0.5 * self.kernel(s, u, q.mu) * other(v);
                if u != v {
                    p1 += 0.5 * self.kernel(s, v, q.mu) * other(u);
                }
            }
            rel += q.k.k1 * p1;
        }
        if q.k.k2 > 0.0 {
            let mut p2 = self.kernel(x, u, q.mu) * self.kernel(y, v, q.mu);
            if u != v {
                p2 += self.kernel(x, v, q.mu) * self.kernel(y, u, q.mu);
            }
            rel += q.k.k2 * p2;
        }
        (pg1 * rel, pg1 * p0)
    }

    /// True genotypes (x, y, weight) consistent with an observation under dropout `d`; `extra`
    /// are the non-table alleles the two observations show (candidates for a dropped allele).
    fn expand(&self, o: Obs, d: f64, extra: &[usize], out: &mut Vec<(usize, usize, f64)>) {
        out.clear();
        match o {
            Obs::Pair(a, b) => out.push((a, b, 1.0)),
            Obs::Single(a) => {
                out.push((a, a, 1.0 - d * d));
                if d > 0.0 {
                    let w = d * (1.0 - d);
                    for z in (0..self.n_table).chain(extra.iter().copied()) {
                        if z != a {
                            out.push((a, z, w));
                        }
                    }
                }
            }
        }
    }

    /// The KI at a locus for two observations.
    fn ki(&self, o1: Obs, o2: Obs, q: &Params, buf: &mut Buffers) -> f64 {
        let mut extra: Vec<usize> = Vec::new();
        for o in [o1, o2] {
            let (a, b) = match o {
                Obs::Pair(a, b) => (a, b),
                Obs::Single(a) => (a, a),
            };
            for z in [a, b] {
                if z >= self.n_table && !extra.contains(&z) {
                    extra.push(z);
                }
            }
        }
        // a canonical order, whatever order the ids were assigned in
        extra.sort_by(|&i, &j| self.alleles[i].cmp(&self.alleles[j]));
        self.expand(o1, q.d, &extra, &mut buf.0);
        self.expand(o2, q.d, &extra, &mut buf.1);
        let (mut num, mut den) = (0.0, 0.0);
        for &(x, y, w1) in &buf.0 {
            for &(u, v, w2) in &buf.1 {
                let (mut r, n) = self.joint(x, y, u, v, q);
                if q.mu > 0.0 {
                    // a mutating transmission has a direction: average over both (either
                    // profile may be the one passing the allele), which keeps KI symmetric
                    r = 0.5 * (r + self.joint(u, v, x, y, q).0);
                }
                num += w1 * w2 * r;
                den += w1 * w2 * n;
            }
        }
        if den > 0.0 { num / den } else { 1.0 }
    }
}

/// An observation of a genotype, or `None` when it is not one or two exact alleles (the required
/// flag is ignored).
fn observe(model: &mut LocusModel, freqs: &LocusFreqs, g: &Genotype) -> Option<Obs> {
    if g.len() > 2 || !g.is_exact() {
        return None;
    }
    let al = g.alleles();
    let a = model.id(al[0], freqs)?;
    if al.len() == 1 {
        Some(Obs::Single(a))
    } else {
        Some(Obs::Pair(a, model.id(al[1], freqs)?))
    }
}

/// The KI at one locus and what it says (see [`LocusClass`]).
pub fn locus_ki(
    locus: Locus,
    g1: Option<&Genotype>,
    g2: Option<&Genotype>,
    freqs: Option<&LocusFreqs>,
    opts: &KinshipOptions,
) -> LocusKi {
    let inconclusive = LocusKi {
        locus,
        ki: 1.0,
        class: LocusClass::Inconclusive,
    };
    let (Some(g1), Some(g2), Some(freqs)) = (g1, g2, freqs) else {
        return inconclusive;
    };
    let mut model = LocusModel::new(freqs);
    let (Some(o1), Some(o2)) = (
        observe(&mut model, freqs, g1),
        observe(&mut model, freqs, g2),
    ) else {
        return inconclusive;
    };
    let q = Params::of(opts);
    let mut buf = (Vec::new(), Vec::new());
    let ki = model.ki(o1, o2, &q, &mut buf);
    LocusKi {
        locus,
        ki,
        class: classify(&model, o1, o2, &q, ki, &mut buf),
    }
}

fn classify(
    model: &LocusModel,
    o1: Obs,
    o2: Obs,
    q: &Params,
    ki: f64,
    buf: &mut Buffers,
) -> LocusClass {
    if ki <= 0.0 {
        return LocusClass::Excluded;
    }
    // Without k0 an observation pair can be consistent only through a mutation.
    if q.mu > 0.0 && q.k.k0 == 0.0 {
        let no_mut = Params { mu: 0.0, ..*q };
        if model.ki(o1, o2, &no_mut, buf) <= 0.0 {
            return LocusClass::Mutation;
        }
    }
    LocusClass::Consistent
}

/// The KI of two profiles over their autosomal loci (the union of their typed loci; a locus typed
/// in one only is inconclusive).
pub fn pair_ki(p1: &Profile, p2: &Profile, pop: &Population, opts: &KinshipOptions) -> PairKi {
    let mut loci: Vec<Locus> = p1
        .genotypes()
        .chain(p2.genotypes())
        .map(|(l, _)| l)
        .filter(|l| l.is_counted())
        .collect();
    loci.sort();
    loci.dedup();
    let mut out = PairKi {
        loci: Vec::new(),
        combined: Log10::ONE,
        consistent: 0,
        mutation: 0,
        excluded: 0,
        inconclusive: 0,
    };
    let mut sum = 0.0f64;
    for l in loci {
        let k = locus_ki(l, p1.genotype(l), p2.genotype(l), pop.locus(l), opts);
        match k.class {
            LocusClass::Consistent => out.consistent += 1,
            LocusClass::Mutation => out.mutation += 1,
            LocusClass::Excluded => out.excluded += 1,
            LocusClass::Inconclusive => {}
        }
        if k.class == LocusClass::Inconclusive {
            out.inconclusive += 1;
        } else {
            sum += log_ki(k.ki);
        }
        out.loci.push(k);
    }
    out.combined = Log10::from_log10(sum);
    out
}

#[inline]
fn log_ki(ki: f64) -> f64 {
    if ki > 0.0 {
        ki.log10()
    } else {
        f64::NEG_INFINITY
    }
}

/// Options of a familial search.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct FamilialOptions {
    /// The kinship model.
    pub kinship: KinshipOptions,
    /// Loci compared (informative in both profiles) for a candidate to be ranked, and for a direct
    /// match (moderate stringency, every compared locus passing).
    pub min_loci: usize,
    /// Candidates reported per query.
    pub top: usize,
    /// The prior probability that a given database profile is the relative; `None` for 1 / (live
    /// profiles in the database), an equal prior over the database.
    pub prior: Option<f64>,
}

impl Default for FamilialOptions {
    /// Default kinship options, 8 loci, top 20, equal prior.
    fn default() -> Self {
        FamilialOptions {
            kinship: KinshipOptions::default(),
            min_loci: 8,
            top: 20,
            prior: None,
        }
    }
}

/// A ranked candidate relative.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Candidate {
    /// 1-based rank.
    pub rank: usize,
    /// The candidate's specimen id.
    pub candidate: ProfileId,
    /// The combined KI (the likelihood ratio).
    pub lr: Log10,
    /// Posterior probability of the relationship with the stated prior.
    pub posterior: f64,
    /// Per-locus detail and counts.
    pub detail: PairKi,
}

/// The answer to one familial query.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FamilialResult {
    /// The query's specimen id.
    pub query: ProfileId,
    /// Direct matches (same source, second sample, identical twin): listed apart, never ranked.
    pub direct_matches: Vec<Hit>,
    /// Ranked candidates, best first (LR descending, then specimen id).
    pub candidates: Vec<Candidate>,
    /// The prior used for the posteriors.
    pub prior: f64,
}

/// Posterior probability from a log10 LR and a prior.
pub fn posterior(lr: Log10, prior: f64) -> f64 {
    if prior <= 0.0 || lr.is_zero() {
        return 0.0;
    }
    if prior >= 1.0 {
        return 1.0;
    }
    let log_odds = lr.log10() + (prior / (1.0 - prior)).log10();
    1.0 / (1.0 + 10f64.powf(-log_odds))
}

fn direct_options(opts: &FamilialOptions) -> SearchOptions {
    SearchOptions {
        stringency: Stringency::Moderate,
        min_loci: opts.min_loci,
        max_mismatches: 0,
        prum: false,
        top: None,
    }
}

fn rank_order(a: &(f64, &str), b: &(f64, &str)) -> Ordering {
    b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1))
}

fn candidates_from(
    mut scored: Vec<(f64, ProfileId, PairKi)>,
    top: usize,
    prior: f64,
) -> Vec<Candidate> {
    scored.sort_by(|a, b| rank_order(&(a.0, a.1.as_str()), &(b.0, b.1.as_str())));
    scored.truncate(top);
    scored
        .into_iter()
        .enumerate()
        .map(|(i, (_, id, detail))| Candidate {
            rank: i + 1,
            candidate: id,
            lr: detail.combined,
            posterior: posterior(detail.combined, prior),
            detail,
        })
        .collect()
}

/// The readable reference familial search over owned profiles: every candidate's [`pair_ki`].
/// [`Index::familial_search`] is tested equal to it.
pub fn familial_search_naive(
    db: &[Profile],
    queries: &[Profile],
    pop: &Population,
    opts: &FamilialOptions,
) -> Result<Vec<FamilialResult>, KinshipError> {
    opts.kinship.validate()?;
    let prior = opts.prior.unwrap_or(1.0 / db.len().max(1) as f64);
    let sopts = direct_options(opts);
    Ok(queries
        .iter()
        .map(|q| {
            let direct = crate::search::naive::search(db, q, &sopts);
            let scored: Vec<(f64, ProfileId, PairKi)> = db
                .iter()
                .filter(|c| !direct.iter().any(|h| &h.candidate == c.id()))
                .filter_map(|c| {
                    let k = pair_ki(q, c, pop, &opts.kinship);
                    (k.compared() >= opts.min_loci.max(1))
                        .then(|| (k.combined.log10(), c.id().clone(), k))
                })
                .collect();
            FamilialResult {
                query: q.id().clone(),
                direct_matches: direct,
                candidates: candidates_from(scored, opts.top, prior),
                prior,
            }
        })
        .collect())
}

/// One query locus of the fast path: a table of log10 KI over the column's code pairs.
struct KinLocus<'a> {
    col: &'a Column,
    /// Codes `1..=width-2` are alleles; index `width-1` stands for the side table (entry 0).
    width: usize,
    table: Vec<f64>,
}

struct KinQuery<'a> {
    query: &'a Profile,
    loci: Vec<KinLocus<'a>>,
    /// Direct matches: never ranked.
    direct: Vec<Hit>,
}

/// Rows per scan block.
const BLOCK: usize = 4096;
/// Rows per parallel task.
const TASK: usize = BLOCK * 8;

impl Index {
    /// Familial search: ranks every live profile for each query by the combined KI of
    /// `opts.kinship`, with frequencies from `pop`. Results are in query order, candidates best
    /// first (LR descending, then specimen id), the same for any thread count, and equal to
    /// [`familial_search_naive`] over the same profiles.
    pub fn familial_search(
        &self,
        queries: &[Profile],
        pop: &Population,
        opts: &FamilialOptions,
    ) -> Result<Vec<FamilialResult>, KinshipError> {
        opts.kinship.validate()?;
        let prior = opts.prior.unwrap_or(1.0 / self.len().max(1) as f64);
        let sopts = direct_options(opts);
        let plans: Vec<KinQuery<'_>> = queries
            .par_iter()
            .map(|q| {
                let direct = self.search(q, &sopts);
                KinQuery {
                    query: q,
                    loci: self.kin_loci(q, pop, &opts.kinship),
                    direct,
                }
            })
            .collect();
        let rows = self.rows();
        let top = opts.top;
        let min_loci = opts.min_loci.max(1);
        let tasks: Vec<usize> = (0..rows).step_by(TASK).collect();
        let partial: Vec<Vec<Vec<(f64, u32)>>> = tasks
            .par_iter()
            .map(|&start| {
                self.kin_scan(
                    &plans,
                    start..(start + TASK).min(rows),
                    top,
                    min_loci,
                    pop,
                    &opts.kinship,
                )
            })
            .collect();
        let results = plans
            .into_iter()
            .enumerate()
            .map(|(qi, plan)| {
                let mut best: Vec<(f64, u32)> =
                    partial.iter().flat_map(|t| t[qi].iter().copied()).collect();
                self.prune(&mut best, top);
                let scored = best
                    .into_iter()
                    .filter_map(|(s, row)| {
                        let c = self.profile_at(row)?;
                        let detail = pair_ki(plan.query, &c, pop, &opts.kinship);
                        Some((s, c.id().clone(), detail))
                    })
                    .collect();
                FamilialResult {
                    query: plan.query.id().clone(),
                    direct_matches: plan.direct,
                    candidates: candidates_from(scored, top, prior),
                    prior,
                }
            })
            .collect();
        Ok(results)
    }

    /// Sorts by (score desc, id asc) and keeps the best `top`.
    fn prune(&self, v: &mut Vec<(f64, u32)>, top: usize) {
        v.sort_by(|a, b| rank_order(&(a.0, self.ids.str(a.1)), &(b.0, self.ids.str(b.1))));
        v.truncate(top);
    }

    /// The lookup tables of a query.
    fn kin_loci<'a>(
        &'a self,
        q: &Profile,
        pop: &Population,
        opts: &KinshipOptions,
    ) -> Vec<KinLocus<'a>> {
        let params = Params::of(opts);
        let mut out = Vec::new();
        for (l, g) in q.genotypes() {
            if !l.is_counted() {
                continue;
            }
            let (Some(ci), Some(freqs)) = (self.column(l), pop.locus(l)) else {
                continue;
            };
            let col = &self.columns[ci];
            let mut model = LocusModel::new(freqs);
            let Some(oq) = observe(&mut model, freqs, g) else {
                continue;
            };
            let n = col.codebook.alleles.len();
            let width = n + 2;
            let mut table = vec![0.0f64; width * width];
            let ids: Vec<Option<usize>> = col
                .codebook
                .alleles
                .iter()
                .map(|&a| model.id(a, freqs))
                .collect();
            let mut buf = (Vec::new(), Vec::new());
            // every code pair x <= y (a stored genotype always has a <= b)
            for (xi, ix) in ids.iter().enumerate() {
                for (yi, iy) in ids.iter().enumerate().skip(xi) {
                    let (Some(ix), Some(iy)) = (*ix, *iy) else {
                        continue;
                    };
                    let oc = if ix == iy {
                        Obs::Single(ix)
                    } else {
                        Obs::Pair(ix, iy)
                    };
                    table[(xi + 1) * width + yi + 1] = log_ki(model.ki(oq, oc, &params, &mut buf));
                }
            }
            out.push(KinLocus { col, width, table });
        }
        out
    }

    /// Scores rows `range` for every query; returns the best `top` (score, row) per query.
    fn kin_scan(
        &self,
        plans: &[KinQuery<'_>],
        range: std::ops::Range<usize>,
        top: usize,
        min_loci: usize,
        pop: &Population,
        opts: &KinshipOptions,
    ) -> Vec<Vec<(f64, u32)>> {
        let mut best: Vec<Vec<(f64, u32)>> = vec![Vec::new(); plans.len()];
        let mut threshold = vec![f64::NEG_INFINITY; plans.len()];
        let mut score = vec![0.0f64; BLOCK];
        // rows with a side-table genotype at a query locus: (block offset, loci compared)
        let mut exact: Vec<(usize, usize)> = Vec::new();
        let mut start = range.start;
        let keep = (2 * top).max(64);
        while start < range.end {
            let n = BLOCK.min(range.end - start);
            let end = start + n;
            for (qi, plan) in plans.iter().enumerate() {
                let score = &mut score[..n];
                score.fill(0.0);
                for kl in &plan.loci {
                    let (a, b) = (&kl.col.a[start..end], &kl.col.b[start..end]);
                    let (w, last) = (kl.width, kl.width - 1);
                    let table = &kl.table[..];
                    for ((s, &x), &y) in score.iter_mut().zip(a).zip(b) {
                        let (x, y) = ((x as usize).min(last), (y as usize).min(last));
                        *s += table.get(x * w + y).copied().unwrap_or(0.0);
                    }
                }
                // side-table rows: the exact slow path
                exact.clear();
                for kl in &plan.loci {
                    let sr = &kl.col.special_rows;
                    let from = sr.partition_point(|&r| (r as usize) < start);
                    for &row in sr[from..].iter().take_while(|&&r| (r as usize) < end) {
                        let i = row as usize - start;
                        if kl.col.a[row as usize] != SPECIAL || exact.iter().any(|e| e.0 == i) {
                            continue;
                        }
                        let (s, c) = match self.profile_at(row) {
                            Some(c) => {
                                let k = pair_ki(plan.query, &c, pop, opts);
                                (k.combined.log10(), k.compared())
                            }
                            None => (f64::NEG_INFINITY, 0),
                        };
                        score[i] = s;
                        exact.push((i, c));
                    }
                }
                let th = &mut threshold[qi];
                let list = &mut best[qi];
                for (i, &s) in score.iter().enumerate() {
                    if s < *th {
                        continue;
                    }
                    let row = (start + i) as u32;
                    // loci compared, counted only for the few rows that reach the threshold
                    let compared = match exact.iter().find(|e| e.0 == i) {
                        Some(e) => e.1,
                        None => plan
                            .loci
                            .iter()
                            .filter(|kl| kl.col.a[row as usize] != UNTYPED)
                            .count(),
                    };
                    if compared < min_loci
                        || !self.live.get(row as usize).is_some_and(|b| *b)
                        || plan
                            .direct
                            .iter()
                            .any(|h| h.candidate.as_str() == self.ids.str(row))
                    {
                        continue;
                    }
                    list.push((s, row));
                    if list.len() >= keep {
                        self.prune(list, top);
                        if let Some(last) = top.checked_sub(1).and_then(|k| list.get(k)) {
                            *th = last.0;
                        }
                    }
                }
            }
            start = end;
        }
        for list in &mut best {
            self.prune(list, top);
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freq::{FreqOptions, FreqTable, MinFrequency};
    use proptest::prelude::*;

    const PA: f64 = 0.1;
    const PB: f64 = 0.2;
    const PC: f64 = 0.3;
    const PD: f64 = 0.15;

    fn freqs() -> LocusFreqs {
        LocusFreqs::new(
            vec![
                (Allele::Repeat(100), PA),
                (Allele::Repeat(110), PB),
                (Allele::Repeat(120), PC),
                (Allele::Repeat(130), PD),
                (Allele::Repeat(140), 1.0 - PA - PB - PC - PD),
            ],
            Some(1000.0),
            MinFrequency::None,
        )
    }

    fn g(s: &str) -> Genotype {
        Genotype::parse_at(Locus::lookup("TH01").unwrap(), s).unwrap()
    }

    fn ki(r: Relationship, theta: f64, g1: &str, g2: &str) -> f64 {
        let opts = KinshipOptions {
            relationship: r,
            theta,
            mutation_rate: 0.0,
            dropout: 0.0,
        };
        locus_ki(
            Locus::lookup("TH01").unwrap(),
            Some(&g(g1)),
            Some(&g(g2)),
            Some(&freqs()),
            &opts,
        )
        .ki
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
    }

    /// BRIEF section 4, the table at theta = 0, every cell (a = 10, b = 11, c = 12, d = 13).
    #[test]
    fn test_brief_kinship_table_at_theta_zero() {
        let (pa, pb) = (PA, PB);
        let cells: [(&str, &str, [f64; 3]); 5] = [
            (
                "10",
                "10",
                [
                    1.0 / pa,
                    (1.0 + pa).powi(2) / (4.0 * pa * pa),
                    (1.0 + pa) / (2.0 * pa),
                ],
            ),
            (
                "10",
                "10,11",
                [
                    1.0 / (2.0 * pa),
                    (1.0 + pa) / (4.0 * pa),
                    (1.0 + 2.0 * pa) / (4.0 * pa),
                ],
            ),
            (
                "10,11",
                "10,11",
                [
                    (pa + pb) / (4.0 * pa * pb),
                    (1.0 + pa + pb + 2.0 * pa * pb) / (8.0 * pa * pb),
                    (pa + pb + 4.0 * pa * pb) / (8.0 * pa * pb),
                ],
            ),
            (
                "10,11",
                "10,12",
                [
                    1.0 / (4.0 * pa),
                    (1.0 + 2.0 * pa) / (8.0 * pa),
                    (1.0 + 4.0 * pa) / (8.0 * pa),
                ],
            ),
            ("10,11", "12,13", [0.0, 0.25, 0.5]),
        ];
        let rels = [
            Relationship::PARENT_CHILD,
            Relationship::FULL_SIBLINGS,
            Relationship::HALF_SIBLINGS,
        ];
        for (g1, g2, want) in cells {
            for (r, w) in rels.iter().zip(want) {
                let got = ki(*r, 0.0, g1, g2);
                assert!(close(got, w), "{g1} / {g2} {r}: got {got}, want {w}");
                assert!(close(ki(*r, 0.0, g2, g1), w), "symmetry {g1} / {g2}");
            }
        }
        // first cousins (3/4, 1/4, 0): aa/aa = 3/4 + 1/(4 pa)
        assert!(close(
            ki(Relationship::FIRST_COUSINS, 0.0, "10", "10"),
            0.75 + 0.25 / PA
        ));
    }

    /// BRIEF section 4, the theta formulas, for any (k0, k1, k2).
    #[test]
    fn test_brief_kinship_formulas_with_theta() {
        let th = 0.03;
        let d = |m: f64, p: f64| (m * th + (1.0 - th) * p) / (1.0 + 2.0 * th);
        let e = |m: f64, p: f64| (m * th + (1.0 - th) * p) / (1.0 + th);
        for r in [
            Relationship::PARENT_CHILD,
            Relationship::FULL_SIBLINGS,
            Relationship::HALF_SIBLINGS,
            Relationship::FIRST_COUSINS,
            Relationship {
                k0: 0.1,
                k1: 0.6,
                k2: 0.3,
            },
        ] {
            let Relationship { k0, k1, k2 } = r;
            let cases = [
                (
                    "10",
                    "10",
                    k0 + k1 / d(3.0, PA) + k2 / (e(2.0, PA) * d(3.0, PA)),
                ),
                ("10", "10,13", k0 + k1 / (2.0 * d(2.0, PA))),
                (
                    "10,11",
                    "10,11",
                    k0 + (k1 / 4.0) * (1.0 / d(1.0, PA) + 1.0 / d(1.0, PB))
                        + k2 / (2.0 * e(1.0, PA) * d(1.0, PB)),
                ),
                ("10,11", "10,12", k0 + k1 / (4.0 * d(1.0, PA))),
                ("10,11", "12,13", k0),
            ];
            for (g1, g2, want) in cases {
                let got = ki(r, th, g1, g2);
                assert!(close(got, want), "{g1} / {g2} {r}: got {got}, want {want}");
            }
        }
    }

    #[test]
    fn test_mutation_and_dropout_model() {
        let f = freqs();
        let l = Locus::lookup("TH01").unwrap();
        let pc = KinshipOptions {
            relationship: Relationship::PARENT_CHILD,
            theta: 0.0,
            mutation_rate: 0.002,
            dropout: 0.0,
        };
        // parent 10,11 / child 12,13: 11 -> 12 is one step: KI = mu (p11 + p12) / (16 p11 p12)
        // (docs/STATISTICS.md; BRIEF: "about mu / allele frequency")
        let k = locus_ki(l, Some(&g("10,11")), Some(&g("12,13")), Some(&f), &pc);
        assert_eq!(k.class, LocusClass::Mutation);
        assert!(
            close(k.ki, 0.002 * (PB + PC) / (16.0 * PB * PC)),
            "{}",
            k.ki
        );
        // two steps apart: excluded
        let k = locus_ki(l, Some(&g("10")), Some(&g("12,13")), Some(&f), &pc);
        assert_eq!(k.class, LocusClass::Excluded);
        // with dropout a single allele may hide any allele: 11 may be 11,12, a parent of 12,13
        let drop = KinshipOptions {
            dropout: 0.1,
            mutation_rate: 0.0,
            ..pc
        };
        let k = locus_ki(l, Some(&g("11")), Some(&g("12,13")), Some(&f), &drop);
        assert_eq!(k.class, LocusClass::Consistent, "a dropout never excludes");
        assert!(
            k.ki < 1.0,
            "but it counts against the relationship: {}",
            k.ki
        );
        let nodrop = KinshipOptions {
            dropout: 0.0,
            mutation_rate: 0.0,
            ..pc
        };
        assert_eq!(
            locus_ki(l, Some(&g("11")), Some(&g("12,13")), Some(&f), &nodrop).class,
            LocusClass::Excluded
        );
        let k = locus_ki(l, Some(&g("12")), Some(&g("11,13")), Some(&f), &drop);
        assert_eq!(k.class, LocusClass::Consistent);
        let k = locus_ki(l, Some(&g("11")), Some(&g("12")), Some(&f), &drop);
        assert_eq!(k.class, LocusClass::Consistent, "11,z / 12,z share z");
        // missing locus and wildcard are inconclusive
        assert_eq!(
            locus_ki(l, None, Some(&g("10")), Some(&f), &pc).class,
            LocusClass::Inconclusive
        );
        assert_eq!(
            locus_ki(l, Some(&g("10,F")), Some(&g("10")), Some(&f), &pc).class,
            LocusClass::Inconclusive
        );
        // dropout 0 and mutation 0: exactly the textbook
        let none = KinshipOptions {
            dropout: 0.0,
            mutation_rate: 0.0,
            ..pc
        };
        assert!(close(
            locus_ki(l, Some(&g("10")), Some(&g("10")), Some(&f), &none).ki,
            1.0 / PA
        ));
    }

    #[test]
    fn test_relationship_parse() {
        assert_eq!(
            "parent-child".parse::<Relationship>().unwrap(),
            Relationship::PARENT_CHILD
        );
        assert_eq!(
            "full_sibling".parse::<Relationship>().unwrap(),
            Relationship::FULL_SIBLINGS
        );
        assert_eq!(
            "0.5,0.5,0".parse::<Relationship>().unwrap(),
            Relationship::HALF_SIBLINGS
        );
        assert!("0.5,0.6,0".parse::<Relationship>().is_err());
        assert!("uncle-bob".parse::<Relationship>().is_err());
        let bad = KinshipOptions {
            dropout: 1.0,
            ..KinshipOptions::default()
        };
        assert!(bad.validate().is_err());
        assert!((posterior(Log10::from_value(1e6), 1e-6) - 0.5).abs() < 1e-6);
    }

    fn arb_obs() -> impl Strategy<Value = String> {
        prop_oneof![
            (10u16..16).prop_map(|a| a.to_string()),
            (10u16..16, 10u16..16).prop_map(|(a, b)| format!("{a},{b}")),
        ]
    }

    proptest! {
        /// KI is symmetric in the two profiles, for any relationship, theta, mutation and dropout.
        #[test]
        fn prop_ki_symmetric(g1 in arb_obs(), g2 in arb_obs(), k1 in 0.0f64..1.0, k2f in 0.0f64..1.0, theta in 0.0f64..0.1, mu in 0.0f64..0.01, d in 0.0f64..0.5) {
            let k2 = (1.0 - k1) * k2f;
            let r = Relationship::new(1.0 - k1 - k2, k1, k2).unwrap();
            let opts = KinshipOptions { relationship: r, theta, mutation_rate: mu, dropout: d };
            let l = Locus::lookup("TH01").unwrap();
            let f = freqs();
            let a = locus_ki(l, Some(&g(&g1)), Some(&g(&g2)), Some(&f), &opts).ki;
            let b = locus_ki(l, Some(&g(&g2)), Some(&g(&g1)), Some(&f), &opts).ki;
            prop_assert!((a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-12), "{} vs {}", a, b);
            prop_assert!(a >= 0.0 && a.is_finite());
        }

        /// Unrelated (1, 0, 0) gives KI 1 at every locus.
        #[test]
        fn prop_unrelated_ki_is_one(g1 in arb_obs(), g2 in arb_obs(), theta in 0.0f64..0.1, d in 0.0f64..0.5) {
            let opts = KinshipOptions { relationship: Relationship::UNRELATED, theta, mutation_rate: 0.0, dropout: d };
            let k = locus_ki(Locus::lookup("TH01").unwrap(), Some(&g(&g1)), Some(&g(&g2)), Some(&freqs()), &opts).ki;
            prop_assert!((k - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn test_familial_fast_equals_naive_on_simulated_families() {
        use crate::simulate::{AllelePools, Simulator, degrade};
        let path: std::path::PathBuf = [
            env!("CARGO_MANIFEST_DIR"),
            "..",
            "..",
            "testdata",
            "nist1036_allele_freqs.csv",
        ]
        .iter()
        .collect();
        let table = FreqTable::read_path(&path, &FreqOptions::default()).unwrap();
        let pop = table.population("Hisp").unwrap();
        let sim = Simulator::new(AllelePools::from_frequencies(pop.pool_rows()).unwrap(), 7);
        let loci = crate::Kit::Codis20.loci();
        let mut db = sim.unrelated(400, &loci, "U").unwrap();
        let mut rng = sim.rng(1);
        let mut queries = Vec::new();
        for i in 0..6 {
            let person = db[i * 10].clone();
            let id = ProfileId::new(&format!("Q{i}")).unwrap();
            let rel = match i % 3 {
                0 => sim.parent_of(&person, id, 0.002, &mut rng).unwrap(),
                1 => sim.sibling_of(&person, id, 0.002, &mut rng).unwrap(),
                _ => sim.half_sibling_of(&person, id, 0.002, &mut rng).unwrap(),
            };
            queries.push(degrade(&rel, 0.05, 0.08, &mut rng));
        }
        // a second sample of a database person is a direct match
        queries.push(crate::simulate::renamed(
            &degrade(&db[3], 0.0, 0.1, &mut rng),
            ProfileId::new("DUP").unwrap(),
        ));
        // side-table genotypes in the database
        let d8 = Locus::lookup("D8S1179").unwrap();
        db[5].set_genotype(d8, Genotype::parse_at(d8, "12,13,F").unwrap());
        let index = Index::from_profiles(&db).unwrap();
        for rel in [
            Relationship::PARENT_CHILD,
            Relationship::FULL_SIBLINGS,
            Relationship::HALF_SIBLINGS,
        ] {
            let opts = FamilialOptions {
                kinship: KinshipOptions {
                    relationship: rel,
                    ..KinshipOptions::default()
                },
                top: 15,
                ..FamilialOptions::default()
            };
            let fast = index.familial_search(&queries, pop, &opts).unwrap();
            let naive = familial_search_naive(&db, &queries, pop, &opts).unwrap();
            assert_eq!(fast, naive);
        }
        let opts = FamilialOptions {
            kinship: KinshipOptions {
                relationship: Relationship::FULL_SIBLINGS,
                ..KinshipOptions::default()
            },
            ..FamilialOptions::default()
        };
        let res = index.familial_search(&queries, pop, &opts).unwrap();
        // the sibling query ranks its sibling first; the duplicate is a direct match, not ranked
        assert_eq!(res[1].candidates[0].candidate.as_str(), "U000011");
        assert_eq!(res[6].direct_matches.len(), 1);
        assert!(
            res[6]
                .candidates
                .iter()
                .all(|c| c.candidate.as_str() != "U000004")
        );
        let pc = FamilialOptions {
            kinship: KinshipOptions::default(),
            ..FamilialOptions::default()
        };
        let res = index.familial_search(&queries, pop, &pc).unwrap();
        assert_eq!(res[0].candidates[0].candidate.as_str(), "U000001");
        assert_eq!(res[3].candidates[0].candidate.as_str(), "U000031");
    }
}
