//! Deterministic synthetic STR profiles for tests, the demo and benchmarks: unrelated people,
//! relatives (with single-step mutation), degraded copies and mixtures.
//!
//! Allele frequencies are data, never constants: an [`AllelePools`] is built from real profiles
//! ([`AllelePools::from_profiles`], e.g. the NIST 1036 genotypes) or from a frequency table
//! ([`AllelePools::from_frequencies`]). A [`Simulator`] pairs the pools with a seed; every result
//! is a function of the seed and the arguments only, whatever the number of threads.
//!
//! * [`Simulator::unrelated`]: Hardy-Weinberg genotypes, in parallel; profile `i` uses its own
//!   ChaCha8 stream, so [`Simulator::unrelated_range`] can produce any slice of the same database;
//! * [`child_of`], [`Simulator::parent_of`], [`Simulator::parents_of`], [`Simulator::sibling_of`],
//!   [`Simulator::half_sibling_of`], [`Simulator::first_cousin_of`]: relatives, drawing from a
//!   caller's [`Rng`] (get one with [`Simulator::rng`]);
//! * [`degrade`]: locus and allele dropout; [`mixture`]: the union of several profiles.
//!
//! Sex is simulated 50/50 for every person, never from the pools: Amelogenin (when asked for) is
//! `X,X` or `X,Y`. Y markers are haploid: a male gets one allele at each Y locus that has a pool,
//! a female gets none, and sons inherit their father's. X markers give a male one allele and a
//! female two. Y and X loci without a pool are skipped; an autosomal locus without one is an
//! error ([`SimulateError::NoPool`]).
//!
//! ```
//! use tandem_core::simulate::{degrade, mixture, AllelePools, Simulator};
//! use tandem_core::{Allele, Locus, ProfileId};
//!
//! let d8 = Locus::lookup("D8S1179")?;
//! let d21 = Locus::lookup("D21S11")?;
//! let amel = Locus::lookup("AMEL")?;
//! // Example weights; real use feeds a frequency table or real profiles.
//! let pools = AllelePools::from_frequencies([
//!     (d8, Allele::Repeat(130), 3.0),
//!     (d8, Allele::Repeat(140), 2.0),
//!     (d21, Allele::Repeat(280), 1.0),
//!     (d21, Allele::Repeat(312), 1.0),
//! ])?;
//! let sim = Simulator::new(pools, 42);
//! let db = sim.unrelated(100, &[d8, d21, amel], "SIM")?;
//! assert_eq!(db[0].id().as_str(), "SIM000001");
//! assert_eq!(db, sim.unrelated(100, &[d8, d21, amel], "SIM")?);
//!
//! let mut rng = sim.rng(1);
//! let stain = degrade(&db[7], 0.1, 0.3, &mut rng);
//! assert!(stain.locus_count() >= 1);
//! let mix = mixture(&[&db[1], &db[2]], ProfileId::new("MIX-1")?)?;
//! assert!(mix.genotype(d8).is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::ops::Range;

use rand::{Rng as _, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::allele::Allele;
use crate::genotype::{Genotype, MAX_ALLELES};
use crate::locus::{Locus, LocusKind};
use crate::profile::{Profile, ProfileId, ProfileIdError, SpecimenCategory};

/// The random number generator of every simulation: ChaCha8, reproducible across platforms.
pub type Rng = ChaCha8Rng;

/// Key domain of the per-profile streams of [`Simulator::unrelated`].
const DOMAIN_UNRELATED: u64 = 1;
/// Key domain of the streams handed out by [`Simulator::rng`].
const DOMAIN_USER: u64 = 2;

/// Width of the zero-padded number in simulated ids (`SIM000001`).
const ID_DIGITS: usize = 6;

/// The error of building [`AllelePools`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PoolError {
    /// A weight is negative, NaN or infinite.
    #[error("weight {weight} of allele {allele} at {locus} is not a finite non-negative number")]
    InvalidWeight {
        /// The locus of the row.
        locus: Locus,
        /// The allele of the row.
        allele: Allele,
        /// The weight as given.
        weight: f64,
    },
    /// An allele is not an exact repeat number (`<8`, `OL`, `F`, `8.x`, `X`...).
    #[error(
        "allele {allele} at {locus} is not a repeat number; pools hold exact repeat alleles only"
    )]
    NotRepeat {
        /// The locus of the row.
        locus: Locus,
        /// The allele as given.
        allele: Allele,
    },
    /// The weights of a locus add up to more than the largest finite `f64`.
    #[error("the weights at {locus} add up to more than the largest finite number")]
    TotalOverflow {
        /// The locus whose weights overflow.
        locus: Locus,
    },
}

/// The error of a simulation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SimulateError {
    /// An autosomal locus was asked for (or is typed in a profile to find relatives of) but the
    /// pools hold no allele for it.
    #[error("no allele pool for locus {locus}")]
    NoPool {
        /// The locus without a pool.
        locus: Locus,
    },
    /// The contributors of a mixture carry more distinct alleles at a locus than CMF allows.
    #[error(
        "{found} distinct alleles at {locus} in the mixture; at most {MAX_ALLELES} are allowed per locus"
    )]
    TooManyAlleles {
        /// The locus.
        locus: Locus,
        /// How many distinct alleles the contributors carry there.
        found: usize,
    },
    /// A mixture of no profile was asked for.
    #[error("a mixture needs at least one contributor")]
    NoContributors,
    /// A simulated specimen id is invalid (e.g. the id prefix has a leading space).
    #[error(transparent)]
    Id(#[from] ProfileIdError),
}

/// Pools of at most this many alleles keep a table of every genotype, so that drawing one
/// allocates and sorts nothing (128 alleles: 8,256 genotypes, about 300 kB). Larger pools, which
/// no real STR has, build each drawn genotype instead.
const GENOTYPE_TABLE_MAX_ALLELES: usize = 128;

/// The alleles of one locus with their weights, ready for sampling with Vose's alias method
/// (one table lookup and one comparison per allele, 32 random bits each).
#[derive(Debug, Clone, PartialEq)]
struct Pool {
    /// Alleles in ladder order, every weight positive.
    entries: Vec<(Allele, f64)>,
    total: f64,
    /// Alias table: column `i` yields allele `i` when the coin (32 bits) is below `threshold[i]`
    /// (a value of 2^32 always does), else allele `alias[i]`.
    threshold: Vec<u64>,
    alias: Vec<u32>,
    /// Every unordered genotype `{entries[i], entries[j]}`, `i <= j`, at `j * (j + 1) / 2 + i`;
    /// empty for pools of more than [`GENOTYPE_TABLE_MAX_ALLELES`] alleles.
    genotypes: Vec<Genotype>,
}

impl Pool {
    /// Builds a pool from positive weights; `Ok(None)` when no weight is positive.
    fn new(locus: Locus, weights: BTreeMap<Allele, f64>) -> Result<Option<Pool>, PoolError> {
        let entries: Vec<(Allele, f64)> = weights.into_iter().filter(|&(_, w)| w > 0.0).collect();
        let n = entries.len();
        if n == 0 {
            return Ok(None);
        }
        let total: f64 = entries.iter().map(|&(_, w)| w).sum();
        if !total.is_finite() {
            return Err(PoolError::TotalOverflow { locus });
        }
        // Vose (1991): scale the probabilities to mean 1, pair each column below 1 with one above.
        let mut scaled: Vec<f64> = entries.iter().map(|&(_, w)| w / total * n as f64).collect();
        let full = 1u64 << 32;
        let mut threshold = vec![full; n];
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..n).partition(|&i| scaled[i] < 1.0);
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            threshold[s] = (scaled[s] * full as f64) as u64;
            alias[s] = l as u32;
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // What is left has probability 1 up to rounding: `threshold` stays 2^32.
        let mut genotypes = Vec::new();
        if n <= GENOTYPE_TABLE_MAX_ALLELES {
            genotypes.reserve(n * (n + 1) / 2);
            for (j, &(b, _)) in entries.iter().enumerate() {
                for &(a, _) in &entries[..=j] {
                    genotypes.push(pair(a, b));
                }
            }
        }
        Ok(Some(Pool {
            entries,
            total,
            threshold,
            alias,
            genotypes,
        }))
    }

    /// The index of an allele drawn with probability weight / total, from 32 random bits: the
    /// high part of `bits * n` picks the column, the low part is the coin.
    #[inline]
    fn index(&self, bits: u32) -> usize {
        let m = u64::from(bits) * self.entries.len() as u64;
        let column = (m >> 32) as usize;
        if (m & 0xffff_ffff) < self.threshold[column] {
            column
        } else {
            self.alias[column] as usize
        }
    }

    #[inline]
    fn sample(&self, rng: &mut Rng) -> Allele {
        self.entries[self.index(rng.next_u32())].0
    }

    /// Draws a Hardy-Weinberg genotype: two independent alleles, from one 64-bit draw.
    #[inline]
    fn sample_genotype(&self, rng: &mut Rng) -> Genotype {
        let bits = rng.next_u64();
        let i = self.index(bits as u32);
        let j = self.index((bits >> 32) as u32);
        let (i, j) = if i <= j { (i, j) } else { (j, i) };
        match self.genotypes.get(j * (j + 1) / 2 + i) {
            Some(&g) => g,
            None => pair(self.entries[i].0, self.entries[j].0),
        }
    }
}

/// Per locus, the alleles to draw from and their weights: the allele frequencies of a simulation.
///
/// Weights need not add up to 1: an allele is drawn with probability weight / (sum of the
/// weights at its locus). Only exact repeat alleles are held; Amelogenin never is (sex is drawn
/// 50/50).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllelePools {
    pools: BTreeMap<Locus, Pool>,
}

impl AllelePools {
    /// Empirical allele counts of real profiles (e.g. the NIST 1036 genotypes).
    ///
    /// At an autosomal locus each exact repeat allele of a genotype counts once, and a
    /// single-allele genotype counts its allele twice (a homozygote). Genotypes with more than two
    /// alleles (tri-allelic patterns, mixtures) are skipped, as are the non-exact designations of
    /// a genotype (`F`, `OL`, `<8`, `8.x`). X loci count the same way, except in a male (Amelogenin
    /// with Y, or Y loci typed), where each allele counts once; at a Y locus each exact allele
    /// counts once. Amelogenin is ignored.
    pub fn from_profiles<'a, I>(profiles: I) -> AllelePools
    where
        I: IntoIterator<Item = &'a Profile>,
    {
        let mut counts: BTreeMap<Locus, BTreeMap<Allele, f64>> = BTreeMap::new();
        for profile in profiles {
            let male = is_male(profile) == Some(true);
            for (locus, g) in profile.genotypes() {
                let copies = match locus.kind() {
                    LocusKind::Amelogenin => continue,
                    LocusKind::YChromosome => 1.0,
                    LocusKind::XChromosome if male => 1.0,
                    LocusKind::Autosomal | LocusKind::XChromosome if g.len() > 2 => continue,
                    LocusKind::Autosomal | LocusKind::XChromosome if g.is_single() => 2.0,
                    LocusKind::Autosomal | LocusKind::XChromosome => 1.0,
                };
                let at = counts.entry(locus).or_default();
                for &a in g.alleles() {
                    if let Allele::Repeat(_) = a {
                        *at.entry(a).or_insert(0.0) += copies;
                    }
                }
            }
        }
        let mut pools = BTreeMap::new();
        for (locus, weights) in counts {
            // Counts of at most a few alleles per profile never overflow an f64.
            if let Ok(Some(pool)) = Pool::new(locus, weights) {
                pools.insert(locus, pool);
            }
        }
        AllelePools { pools }
    }

    /// Pools from frequency-table rows `(locus, allele, frequency or count)`.
    ///
    /// Rows of the same locus and allele add up; a locus whose weights are all zero gets no pool.
    /// Amelogenin rows are ignored. Errors: a weight that is negative, NaN or infinite, an allele
    /// that is not an exact repeat number, or weights adding up past the largest `f64`.
    pub fn from_frequencies<I>(rows: I) -> Result<AllelePools, PoolError>
    where
        I: IntoIterator<Item = (Locus, Allele, f64)>,
    {
        let mut weights: BTreeMap<Locus, BTreeMap<Allele, f64>> = BTreeMap::new();
        for (locus, allele, weight) in rows {
            if locus.is_amelogenin() {
                continue;
            }
            if !weight.is_finite() || weight < 0.0 {
                return Err(PoolError::InvalidWeight {
                    locus,
                    allele,
                    weight,
                });
            }
            if !matches!(allele, Allele::Repeat(_)) {
                return Err(PoolError::NotRepeat { locus, allele });
            }
            *weights
                .entry(locus)
                .or_default()
                .entry(allele)
                .or_insert(0.0) += weight;
        }
        let mut pools = BTreeMap::new();
        for (locus, w) in weights {
            if let Some(pool) = Pool::new(locus, w)? {
                pools.insert(locus, pool);
            }
        }
        Ok(AllelePools { pools })
    }

    /// True when no locus has a pool.
    pub fn is_empty(&self) -> bool {
        self.pools.is_empty()
    }

    /// The loci with a pool, in canonical order.
    pub fn loci(&self) -> impl Iterator<Item = Locus> + '_ {
        self.pools.keys().copied()
    }

    /// True when `locus` has a pool.
    pub fn contains(&self, locus: Locus) -> bool {
        self.pools.contains_key(&locus)
    }

    /// The alleles of a locus in ladder order with their (positive, unnormalised) weights; empty
    /// when the locus has no pool.
    pub fn alleles(&self, locus: Locus) -> &[(Allele, f64)] {
        self.pools.get(&locus).map_or(&[], |p| &p.entries)
    }

    /// The frequency of an allele: its weight over the sum of the weights at its locus; `Some(0.0)`
    /// for an allele not in the pool, `None` when the locus has no pool.
    pub fn frequency(&self, locus: Locus, allele: Allele) -> Option<f64> {
        let pool = self.pools.get(&locus)?;
        let w = pool
            .entries
            .iter()
            .find(|(a, _)| *a == allele)
            .map_or(0.0, |&(_, w)| w);
        Some(w / pool.total)
    }

    /// Draws one allele at a locus; `None` when the locus has no pool.
    pub fn sample(&self, locus: Locus, rng: &mut Rng) -> Option<Allele> {
        self.pools.get(&locus).map(|p| p.sample(rng))
    }

    fn pool(&self, locus: Locus) -> Result<&Pool, SimulateError> {
        self.pools
            .get(&locus)
            .ok_or(SimulateError::NoPool { locus })
    }
}

/// How one locus of a simulated person is drawn.
#[derive(Clone, Copy)]
enum Slot<'a> {
    Autosomal(Locus, &'a Pool),
    Amelogenin(Locus),
    Y(Locus, &'a Pool),
    X(Locus, &'a Pool),
}

/// A simulator: allele pools and a seed. Every output is a function of the seed and the
/// arguments only.
#[derive(Debug, Clone)]
pub struct Simulator {
    pools: AllelePools,
    seed: u64,
}

impl Simulator {
    /// A simulator drawing from `pools`, reproducible for `seed`.
    pub fn new(pools: AllelePools, seed: u64) -> Simulator {
        Simulator { pools, seed }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The allele pools.
    pub fn pools(&self) -> &AllelePools {
        &self.pools
    }

    /// An independent random stream for this seed, for relatives, degradation and the like:
    /// the same `(seed, stream)` always gives the same sequence, different streams do not overlap.
    /// The streams are separate from those of [`Simulator::unrelated`].
    pub fn rng(&self, stream: u64) -> Rng {
        stream_rng(self.seed, DOMAIN_USER, stream)
    }

    /// `n` unrelated people with Hardy-Weinberg genotypes at `loci` (duplicates ignored), with ids
    /// `{id_prefix}000001`, `{id_prefix}000002`... (six digits, more past 999,999). Generated in
    /// parallel; the result is the same for any number of threads.
    ///
    /// Autosomal loci need a pool ([`SimulateError::NoPool`] otherwise, before anything is
    /// drawn). Amelogenin is `X,X` or `X,Y` with probability 1/2 each. Y loci are drawn for males
    /// only, one allele each; X loci give males one allele and females two. Y and X loci are
    /// skipped when the pools hold none for them.
    ///
    /// Drawing is cheap (an alias table, one 64-bit random number per genotype); for large `n`
    /// the time and memory go into building the [`Profile`]s, so very large databases are best
    /// made in batches with [`Simulator::unrelated_range`].
    pub fn unrelated(
        &self,
        n: usize,
        loci: &[Locus],
        id_prefix: &str,
    ) -> Result<Vec<Profile>, SimulateError> {
        self.unrelated_range(0..n, loci, id_prefix)
    }

    /// Profiles `range` of the database [`Simulator::unrelated`] would make: for a fixed seed,
    /// loci and prefix, `unrelated_range(a..b, ..)` equals `unrelated(b, ..)[a..b]`, so a large
    /// database can be made (and indexed) in batches.
    pub fn unrelated_range(
        &self,
        range: Range<usize>,
        loci: &[Locus],
        id_prefix: &str,
    ) -> Result<Vec<Profile>, SimulateError> {
        let plan = self.plan(loci)?;
        if range.is_empty() {
            return Ok(Vec::new());
        }
        // The longest id is the last; if the first and last are valid, all are.
        ProfileId::new(&sim_id(id_prefix, range.start))?;
        ProfileId::new(&sim_id(id_prefix, range.end - 1))?;
        range
            .into_par_iter()
            .map(|i| {
                let mut rng = stream_rng(self.seed, DOMAIN_UNRELATED, i as u64);
                let id = ProfileId::new(&sim_id(id_prefix, i))?;
                let male = rng.r#gen::<bool>();
                Ok::<Profile, SimulateError>(draw_person(&plan, male, id, &mut rng))
            })
            .collect()
    }

    /// One unrelated person at `loci` (the rules of [`Simulator::unrelated`]), drawn from `rng`.
    pub fn random_profile(
        &self,
        loci: &[Locus],
        id: ProfileId,
        rng: &mut Rng,
    ) -> Result<Profile, SimulateError> {
        let plan = self.plan(loci)?;
        let male = rng.r#gen::<bool>();
        Ok(draw_person(&plan, male, id, rng))
    }

    /// A random person of the given sex at `loci`.
    fn random_of_sex(
        &self,
        loci: &[Locus],
        male: bool,
        id: ProfileId,
        rng: &mut Rng,
    ) -> Result<Profile, SimulateError> {
        let plan = self.plan(loci)?;
        Ok(draw_person(&plan, male, id, rng))
    }

    /// Resolves the pools of `loci` once, in canonical order, without duplicates.
    fn plan(&self, loci: &[Locus]) -> Result<Vec<Slot<'_>>, SimulateError> {
        let mut loci = loci.to_vec();
        loci.sort();
        loci.dedup();
        let mut plan = Vec::with_capacity(loci.len());
        for locus in loci {
            match locus.kind() {
                LocusKind::Autosomal => plan.push(Slot::Autosomal(locus, self.pools.pool(locus)?)),
                LocusKind::Amelogenin => plan.push(Slot::Amelogenin(locus)),
                LocusKind::YChromosome => {
                    if let Some(pool) = self.pools.pools.get(&locus) {
                        plan.push(Slot::Y(locus, pool));
                    }
                }
                LocusKind::XChromosome => {
                    if let Some(pool) = self.pools.pools.get(&locus) {
                        plan.push(Slot::X(locus, pool));
                    }
                }
            }
        }
        Ok(plan)
    }

    /// Both parents of `child`, `(father, mother)`, drawn given the child's genotypes.
    ///
    /// At each autosomal locus of the child one allele comes from each parent (for a single
    /// allele, from both; for more than two alleles, two distinct ones at random), and each
    /// parent's other allele is drawn from the pools ([`SimulateError::NoPool`] when a locus of
    /// the child has none). With probability `mutation_rate` the transmitted allele is one repeat
    /// away in the parent (a single-step mutation). When the child has Amelogenin the father is
    /// `X,Y` and the mother `X,X`; a male child's Y loci are copied to the father (with the same
    /// mutation rate). At an X locus with a pool, a son's allele comes from his mother and a
    /// daughter's from each parent (the father's single X allele, the mother's other one from the
    /// pool); X loci are left out when the child's sex is unknown (no Amelogenin, no Y loci).
    /// Neither parent has a specimen category.
    pub fn parents_of(
        &self,
        child: &Profile,
        father_id: ProfileId,
        mother_id: ProfileId,
        mutation_rate: f64,
        rng: &mut Rng,
    ) -> Result<(Profile, Profile), SimulateError> {
        let mut father = Profile::new(father_id);
        let mut mother = Profile::new(mother_id);
        let child_sex = is_male(child);
        for (locus, g) in child.genotypes() {
            match locus.kind() {
                LocusKind::Autosomal => {
                    let pool = self.pools.pool(locus)?;
                    let (from_father, from_mother) = two_of(g, rng);
                    let f = maybe_mutate(from_father, mutation_rate, rng);
                    let m = maybe_mutate(from_mother, mutation_rate, rng);
                    father.set_genotype(locus, pair(f, pool.sample(rng)));
                    mother.set_genotype(locus, pair(m, pool.sample(rng)));
                }
                LocusKind::Amelogenin => {
                    father.set_genotype(locus, pair(Allele::X, Allele::Y));
                    mother.set_genotype(locus, Genotype::single(Allele::X));
                }
                LocusKind::YChromosome => {
                    if child_sex == Some(true) {
                        father.set_genotype(locus, mutate_all(g, mutation_rate, rng));
                    }
                }
                LocusKind::XChromosome => {
                    let (Some(male), Some(pool)) = (child_sex, self.pools.pools.get(&locus)) else {
                        continue;
                    };
                    let (f, m) = if male {
                        (
                            pool.sample(rng),
                            maybe_mutate(pick(g, rng), mutation_rate, rng),
                        )
                    } else {
                        let (a, b) = two_of(g, rng);
                        (
                            maybe_mutate(a, mutation_rate, rng),
                            maybe_mutate(b, mutation_rate, rng),
                        )
                    };
                    father.set_genotype(locus, Genotype::single(f));
                    mother.set_genotype(locus, pair(m, pool.sample(rng)));
                }
            }
        }
        Ok((father, mother))
    }

    /// One parent of `child`, father or mother with probability 1/2 each (see
    /// [`Simulator::parents_of`] for the model). Shares an allele with the child at every
    /// autosomal locus unless a mutation happened.
    pub fn parent_of(
        &self,
        child: &Profile,
        id: ProfileId,
        mutation_rate: f64,
        rng: &mut Rng,
    ) -> Result<Profile, SimulateError> {
        let (father, mother) = self.parents_of(child, id.clone(), id, mutation_rate, rng)?;
        Ok(if rng.r#gen::<bool>() { father } else { mother })
    }

    /// A full sibling of `person`: a child of both simulated parents ([`Simulator::parents_of`],
    /// then [`child_of`]), typed at the autosomal loci of `person` and at Amelogenin if typed; Y
    /// and X loci follow the rules of those two functions.
    pub fn sibling_of(
        &self,
        person: &Profile,
        id: ProfileId,
        mutation_rate: f64,
        rng: &mut Rng,
    ) -> Result<Profile, SimulateError> {
        let (father, mother) = self.parents_of(
            person,
            tmp_id("father")?,
            tmp_id("mother")?,
            mutation_rate,
            rng,
        )?;
        Ok(child_of(&father, &mother, id, mutation_rate, rng))
    }

    /// A half sibling of `person`: a child of one simulated parent of `person` (father or mother,
    /// 1/2 each) and an unrelated partner drawn from the pools.
    pub fn half_sibling_of(
        &self,
        person: &Profile,
        id: ProfileId,
        mutation_rate: f64,
        rng: &mut Rng,
    ) -> Result<Profile, SimulateError> {
        let (father, mother) = self.parents_of(
            person,
            tmp_id("father")?,
            tmp_id("mother")?,
            mutation_rate,
            rng,
        )?;
        let shared_is_father = rng.r#gen::<bool>();
        let loci: Vec<Locus> = person.genotypes().map(|(l, _)| l).collect();
        let partner = self.random_of_sex(&loci, !shared_is_father, tmp_id("partner")?, rng)?;
        let (f, m) = if shared_is_father {
            (&father, &partner)
        } else {
            (&partner, &mother)
        };
        Ok(child_of(f, m, id, mutation_rate, rng))
    }

    /// A first cousin of `person`: a child of a full sibling of one of `person`'s simulated
    /// parents and of an unrelated partner drawn from the pools.
    pub fn first_cousin_of(
        &self,
        person: &Profile,
        id: ProfileId,
        mutation_rate: f64,
        rng: &mut Rng,
    ) -> Result<Profile, SimulateError> {
        let (father, mother) = self.parents_of(
            person,
            tmp_id("father")?,
            tmp_id("mother")?,
            mutation_rate,
            rng,
        )?;
        let linking = if rng.r#gen::<bool>() {
            &father
        } else {
            &mother
        };
        let aunt_or_uncle =
            self.sibling_of(linking, tmp_id("aunt-or-uncle")?, mutation_rate, rng)?;
        let male = match is_male(&aunt_or_uncle) {
            Some(male) => male,
            None => rng.r#gen::<bool>(),
        };
        let loci: Vec<Locus> = person.genotypes().map(|(l, _)| l).collect();
        let partner = self.random_of_sex(&loci, !male, tmp_id("partner")?, rng)?;
        let (f, m) = if male {
            (&aunt_or_uncle, &partner)
        } else {
            (&partner, &aunt_or_uncle)
        };
        Ok(child_of(f, m, id, mutation_rate, rng))
    }
}

/// A child of `p1` and `p2`: at every autosomal locus typed in both parents, one allele drawn from
/// each (a single-allele genotype is a homozygote), each transmitted allele mutated by one repeat
/// (up or down, 1/2 each) with probability `mutation_rate`.
///
/// Sex: when both parents have Amelogenin the child gets one of its alleles from each; otherwise
/// the child's sex is drawn 50/50 and no Amelogenin is written. The father is the first parent
/// whose Amelogenin has Y (or, without Amelogenin, who has Y loci typed); when there is none,
/// Y and X loci are left out. A son copies the father's Y loci; at X loci typed in both parents a
/// son gets one of his mother's alleles and a daughter one of each parent's (the same mutation
/// rate applies). The child has no specimen category. Probabilities outside `[0, 1]` act as the
/// nearest bound; NaN acts as 0.
pub fn child_of(
    p1: &Profile,
    p2: &Profile,
    id: ProfileId,
    mutation_rate: f64,
    rng: &mut Rng,
) -> Profile {
    let mut child = Profile::new(id);
    for (locus, g1) in p1.genotypes() {
        if !locus.is_counted() {
            continue;
        }
        let Some(g2) = p2.genotype(locus) else {
            continue;
        };
        let a = transmit(g1, mutation_rate, rng);
        let b = transmit(g2, mutation_rate, rng);
        child.set_genotype(locus, pair(a, b));
    }
    let male = match (amelogenin(p1), amelogenin(p2)) {
        (Some((locus, g1)), Some((_, g2))) => {
            let a = pick(g1, rng);
            let b = pick(g2, rng);
            child.set_genotype(locus, pair(a, b));
            a == Allele::Y || b == Allele::Y
        }
        _ => rng.r#gen::<bool>(),
    };
    let father_first = if is_male(p1) == Some(true) {
        Some(true)
    } else if is_male(p2) == Some(true) {
        Some(false)
    } else {
        None
    };
    let Some(father_first) = father_first else {
        return child;
    };
    let (father, mother) = if father_first { (p1, p2) } else { (p2, p1) };
    for (locus, g) in father.genotypes() {
        match locus.kind() {
            LocusKind::YChromosome if male => {
                child.set_genotype(locus, mutate_all(g, mutation_rate, rng));
            }
            LocusKind::XChromosome => {
                let Some(gm) = mother.genotype(locus) else {
                    continue;
                };
                let m = transmit(gm, mutation_rate, rng);
                let g = if male {
                    Genotype::single(m)
                } else {
                    pair(transmit(g, mutation_rate, rng), m)
                };
                child.set_genotype(locus, g);
            }
            _ => {}
        }
    }
    child
}

/// A degraded copy of `profile` (same id and metadata): each locus is removed with probability
/// `locus_dropout`, and at each remaining locus an allele drops out with probability
/// `allele_dropout` (a two-allele genotype keeps one of its alleles at random; a genotype of more
/// alleles loses each allele independently, keeping at least one).
///
/// At least one locus always remains: if every autosomal locus was drawn for removal, one of them
/// (at random) is kept, and a profile of non-autosomal loci only keeps one of them. The copy is
/// flagged partial when anything dropped out (and stays partial if it was). A required-allele flag
/// is kept when its allele remains. Probabilities outside `[0, 1]` act as the nearest bound; NaN
/// acts as 0.
pub fn degrade(
    profile: &Profile,
    locus_dropout: f64,
    allele_dropout: f64,
    rng: &mut Rng,
) -> Profile {
    let mut kept: Vec<(Locus, Genotype)> = Vec::with_capacity(profile.locus_count());
    let mut removed: Vec<(Locus, Genotype)> = Vec::new();
    for (locus, g) in profile.genotypes() {
        if chance(locus_dropout, rng) {
            removed.push((locus, *g));
        } else {
            kept.push((locus, *g));
        }
    }
    if !kept.iter().any(|(l, _)| l.is_counted()) && removed.iter().any(|(l, _)| l.is_counted()) {
        removed.retain(|(l, _)| l.is_counted());
        let i = rng.gen_range(0..removed.len());
        kept.push(removed.swap_remove(i));
    } else if kept.is_empty() && !removed.is_empty() {
        let i = rng.gen_range(0..removed.len());
        kept.push(removed.swap_remove(i));
    }

    let mut out = profile.clone();
    let mut dropped = false;
    for (locus, _) in profile.genotypes() {
        if !kept.iter().any(|(l, _)| *l == locus) {
            out.remove_locus(locus);
            dropped = true;
        }
    }
    for (locus, g) in &kept {
        let alleles = g.alleles();
        let remaining: Vec<Allele> = match alleles.len() {
            1 => continue,
            2 => {
                if !chance(allele_dropout, rng) {
                    continue;
                }
                vec![pick(g, rng)]
            }
            _ => {
                let mut left: Vec<Allele> = alleles
                    .iter()
                    .copied()
                    .filter(|_| !chance(allele_dropout, rng))
                    .collect();
                if left.len() == alleles.len() {
                    continue;
                }
                if left.is_empty() {
                    left.push(pick(g, rng));
                }
                left
            }
        };
        let mut ng = match Genotype::new(&remaining) {
            Ok(ng) => ng,
            Err(_) => continue,
        };
        if let Some(r) = g.required() {
            ng = ng.with_required(r).unwrap_or(ng);
        }
        out.set_genotype(*locus, ng);
        dropped = true;
    }
    if dropped {
        out.set_partial(true);
    }
    out
}

/// A mixture of `contributors`: at every locus typed in any of them, the union of their alleles;
/// category Forensic Mixture, flagged partial when a contributor is. Required-allele flags and
/// locus spellings are not carried over.
///
/// Errors: no contributor, or more than [`MAX_ALLELES`] distinct alleles at a locus (CMF 3.2).
pub fn mixture(contributors: &[&Profile], id: ProfileId) -> Result<Profile, SimulateError> {
    if contributors.is_empty() {
        return Err(SimulateError::NoContributors);
    }
    let mut union: BTreeMap<Locus, Vec<Allele>> = BTreeMap::new();
    for p in contributors {
        for (locus, g) in p.genotypes() {
            union
                .entry(locus)
                .or_default()
                .extend_from_slice(g.alleles());
        }
    }
    let mut out = Profile::new(id)
        .with_category(SpecimenCategory::ForensicMixture)
        .with_partial(contributors.iter().any(|p| p.is_partial()));
    for (locus, mut alleles) in union {
        alleles.sort();
        alleles.dedup();
        let found = alleles.len();
        match Genotype::new(&alleles) {
            Ok(g) if found <= MAX_ALLELES => {
                out.set_genotype(locus, g);
            }
            _ => return Err(SimulateError::TooManyAlleles { locus, found }),
        }
    }
    Ok(out)
}

/// A copy of `profile` under another id (category, lab, partial flag, genotypes and locus
/// spellings kept), e.g. to turn a degraded copy of an offender into a crime-scene stain.
pub fn renamed(profile: &Profile, id: ProfileId) -> Profile {
    let mut out = Profile::new(id).with_partial(profile.is_partial());
    out.set_category(profile.category());
    out.set_lab(profile.lab().map(str::to_string));
    for (locus, g) in profile.genotypes() {
        out.set_genotype(locus, *g);
        out.set_spelling(locus, profile.spelling(locus));
    }
    out
}

/// The generator of stream `stream` in key domain `domain` for `seed`.
fn stream_rng(seed: u64, domain: u64, stream: u64) -> Rng {
    let mut key = [0u8; 32];
    for (k, b) in key
        .iter_mut()
        .zip(seed.to_le_bytes().into_iter().chain(domain.to_le_bytes()))
    {
        *k = b;
    }
    let mut rng = Rng::from_seed(key);
    rng.set_stream(stream);
    rng
}

/// The id of simulated profile `index` (0-based): the number is `index + 1`.
fn sim_id(prefix: &str, index: usize) -> String {
    format!("{prefix}{:0width$}", index as u128 + 1, width = ID_DIGITS)
}

/// An id for an intermediate relative that is never returned.
fn tmp_id(name: &str) -> Result<ProfileId, SimulateError> {
    Ok(ProfileId::new(name)?)
}

/// Draws one person from a plan; the caller has drawn the sex.
fn draw_person(plan: &[Slot<'_>], male: bool, id: ProfileId, rng: &mut Rng) -> Profile {
    let mut p = Profile::new(id);
    for slot in plan {
        match *slot {
            Slot::Autosomal(locus, pool) => {
                p.set_genotype(locus, pool.sample_genotype(rng));
            }
            Slot::Amelogenin(locus) => {
                let g = if male {
                    pair(Allele::X, Allele::Y)
                } else {
                    Genotype::single(Allele::X)
                };
                p.set_genotype(locus, g);
            }
            Slot::Y(locus, pool) => {
                if male {
                    p.set_genotype(locus, Genotype::single(pool.sample(rng)));
                }
            }
            Slot::X(locus, pool) => {
                let g = if male {
                    Genotype::single(pool.sample(rng))
                } else {
                    pool.sample_genotype(rng)
                };
                p.set_genotype(locus, g);
            }
        }
    }
    p
}

/// Two alleles of a genotype in random order: its only allele twice, or two distinct ones.
fn two_of(g: &Genotype, rng: &mut Rng) -> (Allele, Allele) {
    let alleles = g.alleles();
    if alleles.len() == 1 {
        return (alleles[0], alleles[0]);
    }
    let i = rng.gen_range(0..alleles.len());
    let mut j = rng.gen_range(0..alleles.len() - 1);
    if j >= i {
        j += 1;
    }
    (alleles[i], alleles[j])
}

/// The genotype of two alleles (one allele when they are equal).
fn pair(a: Allele, b: Allele) -> Genotype {
    if a == b {
        Genotype::single(a)
    } else {
        Genotype::new(&[a, b]).unwrap_or(Genotype::single(a))
    }
}

/// True with probability `p` (clamped to `[0, 1]`, NaN as 0). Always draws one number.
#[inline]
fn chance(p: f64, rng: &mut Rng) -> bool {
    rng.r#gen::<f64>() < p
}

/// One allele of a genotype, uniformly.
fn pick(g: &Genotype, rng: &mut Rng) -> Allele {
    let alleles = g.alleles();
    alleles[rng.gen_range(0..alleles.len())]
}

/// The allele a parent transmits: one of its alleles, mutated with probability `rate`.
fn transmit(g: &Genotype, rate: f64, rng: &mut Rng) -> Allele {
    let a = pick(g, rng);
    maybe_mutate(a, rate, rng)
}

fn maybe_mutate(a: Allele, rate: f64, rng: &mut Rng) -> Allele {
    if chance(rate, rng) { step(a, rng) } else { a }
}

/// A single-step mutation: one repeat up or down (1/2 each) of a repeat allele, keeping the extra
/// bases of a microvariant (`9.3` becomes `8.3` or `10.3`). An allele of one complete repeat only
/// goes up, one at the top of the range only down; other designations do not mutate.
fn step(a: Allele, rng: &mut Rng) -> Allele {
    let Allele::Repeat(tenths) = a else { return a };
    let (whole, extra) = (tenths / 10, (tenths % 10) as u8);
    let up = rng.r#gen::<bool>();
    let up_allele = whole
        .checked_add(1)
        .and_then(|w| Allele::repeat(w, extra).ok());
    let down_allele = (whole > 1)
        .then(|| Allele::repeat(whole - 1, extra).ok())
        .flatten();
    match (up, up_allele, down_allele) {
        (true, Some(u), _) => u,
        (false, _, Some(d)) => d,
        (_, Some(u), None) => u,
        (_, None, Some(d)) => d,
        _ => a,
    }
}

/// Mutates every allele of a genotype (used for Y loci passed from father to son).
fn mutate_all(g: &Genotype, rate: f64, rng: &mut Rng) -> Genotype {
    let alleles: Vec<Allele> = g
        .alleles()
        .iter()
        .map(|&a| maybe_mutate(a, rate, rng))
        .collect();
    Genotype::new(&alleles).unwrap_or(*g)
}

fn amelogenin(p: &Profile) -> Option<(Locus, &Genotype)> {
    p.genotypes().find(|(l, _)| l.is_amelogenin())
}

fn has_y_loci(p: &Profile) -> bool {
    p.genotypes()
        .any(|(l, _)| l.kind() == LocusKind::YChromosome)
}

/// `Some(true)` for a male (Amelogenin with Y, or Y loci typed), `Some(false)` for Amelogenin
/// without Y, `None` when unknown.
fn is_male(p: &Profile) -> Option<bool> {
    match amelogenin(p) {
        Some((_, g)) => Some(g.alleles().contains(&Allele::Y)),
        None => has_y_loci(p).then_some(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locus::Kit;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    const NIST_GENOTYPES: &str = include_str!("../../../testdata/nist1036_genotypes_wide.csv");
    const NIST_FREQUENCIES: &str = include_str!("../../../testdata/nist1036_allele_freqs.csv");

    /// The NIST 1036 people as profiles (`None` cells are untyped).
    fn nist_profiles() -> Result<Vec<Profile>, Box<dyn std::error::Error>> {
        let mut lines = NIST_GENOTYPES.lines();
        let header: Vec<&str> = lines.next().ok_or("empty file")?.split(',').collect();
        let mut columns = Vec::new();
        for name in &header[2..] {
            let (locus, _) = name.rsplit_once('_').ok_or("no _ in column")?;
            columns.push(Locus::lookup(locus)?);
        }
        let mut profiles = Vec::new();
        for line in lines.filter(|l| !l.trim().is_empty()) {
            let cells: Vec<&str> = line.split(',').collect();
            let mut p = Profile::new(ProfileId::new(cells[0])?);
            for (k, pair) in cells[2..].chunks(2).enumerate() {
                if pair.iter().any(|c| *c == "None" || c.is_empty()) {
                    continue;
                }
                let alleles = [pair[0].parse::<Allele>()?, pair[1].parse::<Allele>()?];
                p.set_genotype(columns[2 * k], Genotype::new(&alleles)?);
            }
            profiles.push(p);
        }
        Ok(profiles)
    }

    fn nist_pools() -> Result<AllelePools, Box<dyn std::error::Error>> {
        Ok(AllelePools::from_profiles(&nist_profiles()?))
    }

    fn codis20() -> Vec<Locus> {
        Kit::Codis20.loci()
    }

    fn locus(name: &str) -> Locus {
        Locus::lookup(name).expect("built-in locus")
    }

    fn id(s: &str) -> ProfileId {
        ProfileId::new(s).expect("valid test id")
    }

    fn geno(l: Locus, s: &str) -> Genotype {
        Genotype::parse_at(l, s).expect("valid test genotype")
    }

    fn shares_allele(a: &Genotype, b: &Genotype) -> bool {
        a.alleles().iter().any(|x| b.alleles().contains(x))
    }

    #[test]
    fn test_from_profiles_with_nist1036_matches_published_frequencies() -> TestResult {
        let pools = nist_pools()?;
        let mut checked = 0;
        for line in NIST_FREQUENCIES.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            if f.len() < 6 || f[1] != "All" {
                continue;
            }
            let l = Locus::lookup(f[3])?;
            let a: Allele = f[4].parse()?;
            let published: f64 = f[5].parse()?;
            let ours = pools.frequency(l, a).ok_or("locus without pool")?;
            assert!(
                (ours - published).abs() < 1e-5,
                "{l} {a}: {ours} vs {published}"
            );
            checked += 1;
        }
        assert!(checked > 400, "only {checked} rows checked");
        assert_eq!(pools.loci().count(), 29);
        Ok(())
    }

    #[test]
    fn test_from_profiles_with_single_allele_counts_twice() {
        let d8 = locus("D8S1179");
        let amel = locus("AMEL");
        let p1 = Profile::new(id("A"))
            .with(d8, geno(d8, "13"))
            .with(amel, geno(amel, "X,Y"));
        let p2 = Profile::new(id("B")).with(d8, geno(d8, "13,14"));
        let p3 = Profile::new(id("C")).with(d8, geno(d8, "15,F"));
        let p4 = Profile::new(id("D")).with(d8, geno(d8, "10,11,12"));
        let pools = AllelePools::from_profiles(&[p1, p2, p3, p4]);
        assert_eq!(
            pools.alleles(d8),
            &[
                (Allele::Repeat(130), 3.0),
                (Allele::Repeat(140), 1.0),
                (Allele::Repeat(150), 1.0)
            ]
        );
        assert_eq!(pools.frequency(d8, Allele::Repeat(130)), Some(0.6));
        assert_eq!(pools.frequency(d8, Allele::Repeat(100)), Some(0.0));
        assert!(!pools.contains(amel));
        assert_eq!(pools.frequency(amel, Allele::X), None);
    }

    #[test]
    fn test_pool_with_nist1036_alias_table_is_exact() -> TestResult {
        let pools = nist_pools()?;
        for (&l, pool) in &pools.pools {
            let n = pool.entries.len();
            let full = (1u64 << 32) as f64;
            let mut implied = vec![0.0; n];
            for c in 0..n {
                let keep = pool.threshold[c].min(1 << 32) as f64 / full;
                implied[c] += keep / n as f64;
                implied[pool.alias[c] as usize] += (1.0 - keep) / n as f64;
            }
            for (i, &(a, _)) in pool.entries.iter().enumerate() {
                let f = pools.frequency(l, a).ok_or("no pool")?;
                assert!(
                    (implied[i] - f).abs() < 1e-8,
                    "{l} {a}: {} vs {f}",
                    implied[i]
                );
            }
            // every genotype of the table is the unordered pair it stands for
            for j in 0..n {
                for i in 0..=j {
                    let g = pool.genotypes[j * (j + 1) / 2 + i];
                    assert_eq!(g, pair(pool.entries[i].0, pool.entries[j].0));
                }
            }
        }
        Ok(())
    }

    #[test]
    fn test_pool_with_more_alleles_than_the_genotype_table() -> TestResult {
        let d8 = locus("D8S1179");
        let n = GENOTYPE_TABLE_MAX_ALLELES as u16 + 10;
        let pools =
            AllelePools::from_frequencies((1..=n).map(|k| (d8, Allele::Repeat(10 * k), 1.0)))?;
        let sim = Simulator::new(pools, 3);
        let people = sim.unrelated(2_000, &[d8], "B")?;
        let homozygotes = people
            .iter()
            .filter(|p| p.genotype(d8).is_some_and(Genotype::is_single))
            .count();
        assert!(homozygotes < 60, "{homozygotes}");
        Ok(())
    }

    #[test]
    fn test_from_frequencies_with_invalid_rows() {
        let d8 = locus("D8S1179");
        let r = AllelePools::from_frequencies([(d8, Allele::Repeat(130), -0.1)]);
        assert!(matches!(r, Err(PoolError::InvalidWeight { .. })));
        let r = AllelePools::from_frequencies([(d8, Allele::Repeat(130), f64::NAN)]);
        assert!(matches!(r, Err(PoolError::InvalidWeight { .. })));
        let r = AllelePools::from_frequencies([(d8, Allele::Wildcard, 0.1)]);
        assert!(matches!(r, Err(PoolError::NotRepeat { .. })));
        let r = AllelePools::from_frequencies([
            (d8, Allele::Repeat(130), f64::MAX),
            (d8, Allele::Repeat(140), f64::MAX),
        ]);
        assert!(matches!(r, Err(PoolError::TotalOverflow { .. })));
        // zero weights give no pool, duplicates add up, Amelogenin rows are ignored
        let pools = AllelePools::from_frequencies([
            (d8, Allele::Repeat(130), 0.0),
            (locus("TH01"), Allele::Repeat(93), 0.25),
            (locus("TH01"), Allele::Repeat(93), 0.25),
            (locus("TH01"), Allele::Repeat(60), 0.5),
            (locus("AMEL"), Allele::X, 0.5),
        ])
        .expect("valid rows");
        assert!(!pools.contains(d8));
        assert_eq!(
            pools.frequency(locus("TH01"), Allele::Repeat(93)),
            Some(0.5)
        );
        assert_eq!(pools.loci().collect::<Vec<_>>(), [locus("TH01")]);
    }

    #[test]
    fn test_unrelated_with_same_seed_is_deterministic() -> TestResult {
        let pools = nist_pools()?;
        let loci = Kit::GlobalFiler.loci();
        let a = Simulator::new(pools.clone(), 7).unrelated(300, &loci, "SIM")?;
        let b = Simulator::new(pools.clone(), 7).unrelated(300, &loci, "SIM")?;
        let c = Simulator::new(pools, 8).unrelated(300, &loci, "SIM")?;
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a[0].id().as_str(), "SIM000001");
        assert_eq!(a[299].id().as_str(), "SIM000300");
        // loci order and duplicates do not matter
        let mut shuffled = loci.clone();
        shuffled.reverse();
        shuffled.push(loci[0]);
        assert_eq!(
            a,
            Simulator::new(nist_pools()?, 7).unrelated(300, &shuffled, "SIM")?
        );
        Ok(())
    }

    #[test]
    fn test_unrelated_with_1_and_2_threads_is_identical() -> TestResult {
        let sim = Simulator::new(nist_pools()?, 11);
        let loci = codis20();
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
        let two = rayon::ThreadPoolBuilder::new().num_threads(2).build()?;
        let a = one.install(|| sim.unrelated(5_000, &loci, "T"))?;
        let b = two.install(|| sim.unrelated(5_000, &loci, "T"))?;
        assert_eq!(a, b);
        Ok(())
    }

    #[test]
    fn test_unrelated_range_with_offset_equals_slice() -> TestResult {
        let sim = Simulator::new(nist_pools()?, 3);
        let loci = Kit::Identifiler.loci();
        let all = sim.unrelated(1_000, &loci, "GT-")?;
        let part = sim.unrelated_range(250..600, &loci, "GT-")?;
        assert_eq!(&all[250..600], &part[..]);
        assert!(sim.unrelated_range(5..5, &loci, "GT-")?.is_empty());
        Ok(())
    }

    #[test]
    fn test_unrelated_with_invalid_input() -> TestResult {
        let sim = Simulator::new(nist_pools()?, 1);
        // NIST 1036 has no Amelogenin and no Y loci: Y loci are skipped, AMEL is drawn 50/50
        let profiles = sim.unrelated(2_000, &Kit::GlobalFiler.loci(), "")?;
        assert_eq!(profiles[0].id().as_str(), "000001");
        let amel = locus("AMEL");
        let males = profiles
            .iter()
            .filter(|p| {
                p.genotype(amel)
                    .is_some_and(|g| g.alleles() == [Allele::X, Allele::Y])
            })
            .count();
        let females = profiles
            .iter()
            .filter(|p| p.genotype(amel).is_some_and(|g| g.alleles() == [Allele::X]))
            .count();
        assert_eq!(males + females, 2_000);
        assert!((900..1_100).contains(&males), "{males} males");
        assert!(profiles.iter().all(|p| p.locus_count() == 22));
        // an autosomal locus without a pool is an error
        let pools = AllelePools::from_frequencies([(locus("TH01"), Allele::Repeat(93), 1.0)])?;
        let sim = Simulator::new(pools, 1);
        let e = sim
            .unrelated(10, &[locus("TH01"), locus("FGA")], "S")
            .expect_err("FGA has no pool");
        assert_eq!(
            e,
            SimulateError::NoPool {
                locus: locus("FGA")
            }
        );
        assert_eq!(e.to_string(), "no allele pool for locus FGA");
        // an id prefix that makes invalid ids is an error
        assert!(matches!(
            sim.unrelated(10, &[locus("TH01")], " S"),
            Err(SimulateError::Id(_))
        ));
        assert!(sim.unrelated(0, &[locus("TH01")], " S")?.is_empty());
        assert!(matches!(
            sim.unrelated(1, &[locus("TH01")], &"x".repeat(200)),
            Err(SimulateError::Id(_))
        ));
        Ok(())
    }

    #[test]
    fn test_unrelated_with_20000_profiles_matches_pool_frequencies() -> TestResult {
        let pools = nist_pools()?;
        let sim = Simulator::new(pools.clone(), 2024);
        let loci = codis20();
        let profiles = sim.unrelated(20_000, &loci, "F")?;
        for &l in &loci {
            let mut counts: BTreeMap<Allele, f64> = BTreeMap::new();
            let mut total = 0.0;
            for p in &profiles {
                let g = p.genotype(l).ok_or("locus missing")?;
                let copies = if g.is_single() { 2.0 } else { 1.0 };
                for &a in g.alleles() {
                    *counts.entry(a).or_insert(0.0) += copies;
                    total += copies;
                }
            }
            for &(a, _) in pools.alleles(l) {
                let expected = pools.frequency(l, a).ok_or("no pool")?;
                let seen = counts.get(&a).copied().unwrap_or(0.0) / total;
                assert!(
                    (seen - expected).abs() < 0.02,
                    "{l} {a}: {seen} vs {expected}"
                );
            }
            assert!(
                counts
                    .keys()
                    .all(|a| pools.frequency(l, *a).is_some_and(|f| f > 0.0))
            );
        }
        // Hardy-Weinberg: the homozygote rate at TH01 is close to the sum of p^2
        let th01 = locus("TH01");
        let expected: f64 = pools
            .alleles(th01)
            .iter()
            .map(|&(a, _)| pools.frequency(th01, a).unwrap_or(0.0).powi(2))
            .sum();
        let seen = profiles
            .iter()
            .filter(|p| p.genotype(th01).is_some_and(Genotype::is_single))
            .count() as f64
            / 20_000.0;
        assert!((seen - expected).abs() < 0.02, "{seen} vs {expected}");
        Ok(())
    }

    #[test]
    fn test_child_of_with_zero_mutation_shares_allele_with_each_parent() -> TestResult {
        let sim = Simulator::new(nist_pools()?, 5);
        let loci = Kit::Identifiler.loci();
        let people = sim.unrelated(400, &loci, "P")?;
        let mut rng = sim.rng(0);
        for pair in people.chunks(2) {
            let (p1, p2) = (&pair[0], &pair[1]);
            let child = child_of(p1, p2, id("C"), 0.0, &mut rng);
            assert_eq!(child.locus_count(), loci.len());
            for (l, g) in child.genotypes() {
                let g1 = p1.genotype(l).ok_or("missing")?;
                let g2 = p2.genotype(l).ok_or("missing")?;
                assert!(
                    shares_allele(g, g1) && shares_allele(g, g2),
                    "{l}: {g} from {g1} and {g2}"
                );
            }
        }
        Ok(())
    }

    #[test]
    fn test_child_of_with_sexes_and_y_loci() -> TestResult {
        let dys = locus("DYS391");
        let amel = locus("AMEL");
        let th01 = locus("TH01");
        let father = Profile::new(id("F"))
            .with(th01, geno(th01, "6,9.3"))
            .with(amel, geno(amel, "X,Y"))
            .with(dys, geno(dys, "10"));
        let mother = Profile::new(id("M"))
            .with(th01, geno(th01, "7,8"))
            .with(amel, geno(amel, "X"));
        let mut rng = Simulator::new(AllelePools::default(), 9).rng(0);
        let mut sons = 0;
        for _ in 0..400 {
            // parent order does not matter: the father is found by Amelogenin
            let c = child_of(&mother, &father, id("C"), 0.0, &mut rng);
            match c.genotype(amel).map(|g| g.to_string()).as_deref() {
                Some("X,Y") => {
                    sons += 1;
                    assert_eq!(c.genotype(dys), father.genotype(dys));
                }
                Some("X") => assert!(c.genotype(dys).is_none()),
                other => return Err(format!("unexpected Amelogenin {other:?}").into()),
            }
        }
        assert!((150..250).contains(&sons), "{sons} sons");
        Ok(())
    }

    #[test]
    fn test_child_of_with_certain_mutation_steps_one_repeat() {
        let d21 = locus("D21S11");
        let p1 = Profile::new(id("A")).with(d21, geno(d21, "31.2"));
        let p2 = Profile::new(id("B")).with(d21, geno(d21, "1"));
        let mut rng = Simulator::new(AllelePools::default(), 1).rng(0);
        for _ in 0..100 {
            let c = child_of(&p1, &p2, id("C"), 1.0, &mut rng);
            let g = c.genotype(d21).map(|g| g.to_string());
            assert!(matches!(g.as_deref(), Some("2,30.2" | "2,32.2")), "{g:?}");
        }
        assert_eq!(step(Allele::Wildcard, &mut rng), Allele::Wildcard);
        assert_eq!(step(Allele::Repeat(9999), &mut rng), Allele::Repeat(9989));
    }

    #[test]
    fn test_parent_of_with_zero_mutation_shares_allele() -> TestResult {
        let sim = Simulator::new(nist_pools()?, 21);
        let people = sim.unrelated(100, &Kit::Identifiler.loci(), "P")?;
        let mut rng = sim.rng(4);
        for child in &people {
            let parent = sim.parent_of(child, id("PAR"), 0.0, &mut rng)?;
            assert_eq!(parent.locus_count(), child.locus_count());
            for (l, g) in child.genotypes() {
                assert!(
                    shares_allele(g, parent.genotype(l).ok_or("missing")?),
                    "{l}"
                );
            }
            let (f, m) = sim.parents_of(child, id("F"), id("M"), 0.0, &mut rng)?;
            for (l, g) in child.genotypes().filter(|(l, _)| l.is_counted()) {
                let gf = f.genotype(l).ok_or("missing")?;
                let gm = m.genotype(l).ok_or("missing")?;
                let covered = g
                    .alleles()
                    .iter()
                    .all(|a| gf.alleles().contains(a) || gm.alleles().contains(a));
                assert!(covered, "{l}: {g} from {gf} and {gm}");
            }
        }
        // a locus of the child without a pool is an error
        let d8 = locus("D8S1179");
        let pools = AllelePools::from_frequencies([(locus("TH01"), Allele::Repeat(93), 1.0)])?;
        let lonely = Profile::new(id("X")).with(d8, geno(d8, "13"));
        let e = Simulator::new(pools, 1).parent_of(&lonely, id("P"), 0.0, &mut rng);
        assert_eq!(e, Err(SimulateError::NoPool { locus: d8 }));
        Ok(())
    }

    /// Mean number of alleles shared identical by state over the autosomal loci.
    fn ibs(a: &Profile, b: &Profile) -> f64 {
        let mut shared = 0;
        for (l, g) in a.genotypes().filter(|(l, _)| l.is_counted()) {
            if let Some(h) = b.genotype(l) {
                shared += g
                    .alleles()
                    .iter()
                    .filter(|x| h.alleles().contains(x))
                    .count();
            }
        }
        shared as f64
    }

    #[test]
    fn test_relatives_with_many_pairs_share_more_than_unrelated() -> TestResult {
        let sim = Simulator::new(nist_pools()?, 77);
        let loci = Kit::GlobalFiler.loci();
        let people = sim.unrelated(600, &loci, "P")?;
        let mut rng = sim.rng(5);
        let (mut unrelated, mut sib, mut half, mut cousin, mut parent) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (k, p) in people.iter().take(300).enumerate() {
            unrelated += ibs(p, &people[300 + k]);
            let s = sim.sibling_of(p, id("S"), 0.0, &mut rng)?;
            assert!(s.locus_count() >= p.counted_locus_count());
            sib += ibs(p, &s);
            half += ibs(p, &sim.half_sibling_of(p, id("H"), 0.0, &mut rng)?);
            cousin += ibs(p, &sim.first_cousin_of(p, id("K"), 0.0, &mut rng)?);
            parent += ibs(p, &sim.parent_of(p, id("PA"), 0.0, &mut rng)?);
        }
        // parent-child and full siblings share one allele IBD on average, half siblings 1/2,
        // first cousins 1/4: the mean IBS is ordered the same way
        assert!(
            parent > half && sib > half && half > cousin && cousin > unrelated,
            "parent {parent}, sibling {sib}, half {half}, cousin {cousin}, unrelated {unrelated}"
        );
        // deterministic for a stream
        let p = &people[0];
        let a = sim.first_cousin_of(p, id("K"), 0.002, &mut sim.rng(9))?;
        let b = sim.first_cousin_of(p, id("K"), 0.002, &mut sim.rng(9))?;
        assert_eq!(a, b);
        Ok(())
    }

    #[test]
    fn test_degrade_with_total_dropout_keeps_one_locus_and_sets_partial() -> TestResult {
        let sim = Simulator::new(nist_pools()?, 13);
        let people = sim.unrelated(50, &Kit::Identifiler.loci(), "P")?;
        let mut rng = sim.rng(0);
        for p in &people {
            let d = degrade(p, 1.0, 1.0, &mut rng);
            assert_eq!(d.locus_count(), 1);
            assert_eq!(d.counted_locus_count(), 1);
            assert!(d.is_partial());
            assert_eq!(d.id(), p.id());
            assert!(d.genotypes().all(|(_, g)| g.is_single()));
            let d = degrade(p, 0.3, 0.2, &mut rng);
            assert!(d.locus_count() >= 1);
            for (l, g) in d.genotypes() {
                let original = p.genotype(l).ok_or("locus appeared")?;
                assert!(g.alleles().iter().all(|a| original.alleles().contains(a)));
            }
            assert_eq!(d.is_partial(), &d != p || p.is_partial());
        }
        // only an Amelogenin locus: kept; an empty profile stays empty
        let amel = locus("AMEL");
        let only_amel = Profile::new(id("A")).with(amel, geno(amel, "X,Y"));
        assert_eq!(degrade(&only_amel, 1.0, 0.0, &mut rng), only_amel);
        let empty = Profile::new(id("E"));
        assert_eq!(degrade(&empty, 1.0, 1.0, &mut rng), empty);
        Ok(())
    }

    #[test]
    fn test_degrade_with_zero_or_odd_probabilities() -> TestResult {
        let sim = Simulator::new(nist_pools()?, 14);
        let people = sim.unrelated(20, &codis20(), "P")?;
        let mut rng = sim.rng(0);
        for p in &people {
            assert_eq!(&degrade(p, 0.0, 0.0, &mut rng), p);
            assert_eq!(&degrade(p, f64::NAN, -3.0, &mut rng), p);
            assert_eq!(degrade(p, 2.0, f64::INFINITY, &mut rng).locus_count(), 1);
        }
        // a mixture loses alleles one by one and keeps its required flag
        let d8 = locus("D8S1179");
        let g = geno(d8, "10,11,12,13,14").with_required(Allele::Repeat(120))?;
        let m = Profile::new(id("M")).with(d8, g);
        let d = degrade(&m, 0.0, 1.0, &mut rng);
        assert_eq!(d.genotype(d8).map(Genotype::len), Some(1));
        let d = degrade(&m, 0.0, 0.5, &mut sim.rng(3));
        let dg = d.genotype(d8).ok_or("missing")?;
        if dg.alleles().contains(&Allele::Repeat(120)) {
            assert_eq!(dg.required(), Some(Allele::Repeat(120)));
        }
        Ok(())
    }

    #[test]
    fn test_mixture_with_two_profiles_has_union() -> TestResult {
        let d8 = locus("D8S1179");
        let th01 = locus("TH01");
        let amel = locus("AMEL");
        let a = Profile::new(id("A"))
            .with(d8, geno(d8, "13,14"))
            .with(amel, geno(amel, "X"));
        let b = Profile::new(id("B"))
            .with(d8, geno(d8, "14,15"))
            .with(th01, geno(th01, "9.3"))
            .with(amel, geno(amel, "X,Y"))
            .with_partial(true);
        let m = mixture(&[&a, &b], id("MIX"))?;
        assert_eq!(m.id().as_str(), "MIX");
        assert_eq!(m.category(), Some(SpecimenCategory::ForensicMixture));
        assert!(m.is_partial());
        assert_eq!(
            m.genotype(d8).map(|g| g.to_string()).as_deref(),
            Some("13,14,15")
        );
        assert_eq!(
            m.genotype(th01).map(|g| g.to_string()).as_deref(),
            Some("9.3")
        );
        assert_eq!(
            m.genotype(amel).map(|g| g.to_string()).as_deref(),
            Some("X,Y")
        );
        assert_eq!(mixture(&[], id("MIX")), Err(SimulateError::NoContributors));

        let people: Vec<Profile> = (0..5)
            .map(|k| {
                Profile::new(id("P")).with(
                    d8,
                    Genotype::new(&[Allele::Repeat(100 + 20 * k), Allele::Repeat(110 + 20 * k)])
                        .expect("two alleles"),
                )
            })
            .collect();
        let refs: Vec<&Profile> = people.iter().collect();
        assert!(mixture(&refs[..4], id("M4")).is_ok());
        assert_eq!(
            mixture(&refs, id("M5")),
            Err(SimulateError::TooManyAlleles {
                locus: d8,
                found: 10
            })
        );
        Ok(())
    }

    #[test]
    fn test_renamed_with_metadata_keeps_everything_but_id() {
        let th01 = locus("TH01");
        let mut p = Profile::new(id("OFF-1"))
            .with(th01, geno(th01, "6,9.3"))
            .with_category(SpecimenCategory::ConvictedOffender)
            .with_partial(true);
        p.set_spelling(th01, "THO1");
        p.set_lab(Some("INACIF".to_string()));
        let r = renamed(&p, id("STAIN-1"));
        assert_eq!(r.id().as_str(), "STAIN-1");
        assert_eq!(r.spelling(th01), "THO1");
        assert_eq!(r.lab(), Some("INACIF"));
        assert_eq!(renamed(&r, id("OFF-1")), p);
    }

    #[test]
    fn test_unrelated_with_y_pools_types_males_only() -> TestResult {
        let dys = locus("DYS391");
        let pools = AllelePools::from_frequencies([
            (locus("TH01"), Allele::Repeat(60), 1.0),
            (dys, Allele::Repeat(100), 1.0),
            (dys, Allele::Repeat(110), 1.0),
        ])?;
        let sim = Simulator::new(pools, 4);
        let amel = locus("AMEL");
        let people = sim.unrelated(500, &[locus("TH01"), amel, dys, locus("DYS576")], "Y")?;
        for p in &people {
            let male = is_male(p) == Some(true);
            assert_eq!(p.genotype(dys).is_some(), male);
            assert!(p.genotype(locus("DYS576")).is_none());
        }
        Ok(())
    }

    #[test]
    fn test_child_of_with_x_loci() -> TestResult {
        let dxs = Locus::lookup_or_custom("DXS10135")?;
        let amel = locus("AMEL");
        let father = Profile::new(id("F"))
            .with(amel, geno(amel, "X,Y"))
            .with(dxs, geno(dxs, "20"));
        let mother = Profile::new(id("M"))
            .with(amel, geno(amel, "X"))
            .with(dxs, geno(dxs, "17,18"));
        let mut rng = Simulator::new(AllelePools::default(), 2).rng(0);
        for _ in 0..200 {
            let c = child_of(&father, &mother, id("C"), 0.0, &mut rng);
            let x = c.genotype(dxs).map(|g| g.to_string());
            if is_male(&c) == Some(true) {
                assert!(matches!(x.as_deref(), Some("17" | "18")), "{x:?}");
            } else {
                assert!(matches!(x.as_deref(), Some("17,20" | "18,20")), "{x:?}");
            }
        }
        // without a known father, X loci are left out
        let unknown = Profile::new(id("U")).with(dxs, geno(dxs, "20"));
        let c = child_of(&unknown, &mother, id("C"), 0.0, &mut rng);
        assert!(c.genotype(dxs).is_none());
        Ok(())
    }

    #[test]
    fn test_unrelated_with_x_pools_gives_males_one_allele() -> TestResult {
        let dxs = Locus::lookup_or_custom("DXS10074")?;
        let pools =
            AllelePools::from_frequencies((14..=20).map(|k| (dxs, Allele::Repeat(10 * k), 1.0)))?;
        let sim = Simulator::new(pools, 6);
        let amel = locus("AMEL");
        let people = sim.unrelated(400, &[amel, dxs], "X")?;
        let mut heterozygous_females = 0;
        for p in &people {
            let g = p.genotype(dxs).ok_or("X locus missing")?;
            if is_male(p) == Some(true) {
                assert!(g.is_single());
            } else if !g.is_single() {
                heterozygous_females += 1;
            }
        }
        assert!(heterozygous_females > 100, "{heterozygous_females}");
        // parents of a daughter: one X allele from each
        let mut rng = sim.rng(0);
        for p in people.iter().filter(|p| is_male(p) == Some(false)).take(50) {
            let (f, m) = sim.parents_of(p, id("F"), id("M"), 0.0, &mut rng)?;
            let gf = f.genotype(dxs).ok_or("missing")?;
            let gm = m.genotype(dxs).ok_or("missing")?;
            let g = p.genotype(dxs).ok_or("missing")?;
            assert!(gf.is_single() && shares_allele(g, gf) && shares_allele(g, gm));
        }
        // from_profiles counts a male's X allele once
        let male = Profile::new(id("A"))
            .with(amel, geno(amel, "X,Y"))
            .with(dxs, geno(dxs, "14"));
        let female = Profile::new(id("B"))
            .with(amel, geno(amel, "X"))
            .with(dxs, geno(dxs, "15"));
        let counted = AllelePools::from_profiles([&male, &female]);
        assert_eq!(
            counted.alleles(dxs),
            &[(Allele::Repeat(140), 1.0), (Allele::Repeat(150), 2.0)]
        );
        Ok(())
    }
}
