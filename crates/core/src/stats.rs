//! Match statistics: random match probability (RMP) and likelihood ratios under Hardy-Weinberg,
//! NRC II recommendation 4.1 and NRC II equation 4.10 (Balding-Nichols), the 2p rule, the most
//! conservative population, the combined probability of inclusion (CPI/CPE) for mixtures, and
//! NDIS-style eligibility rules. Formulas and sources: `docs/STATISTICS.md` and BRIEF section 4.
//!
//! Products over loci are kept in log space ([`Log10`]): 30 loci of 10^-3 each are 10^-90 and
//! never underflow, and an LR of 10^90 never overflows.
//!
//! ```
//! use tandem_core::freq::{FreqOptions, FreqTable};
//! use tandem_core::stats::{profile_rmp, Model, RmpOptions};
//! use tandem_core::{Genotype, Locus, Profile, ProfileId};
//!
//! let csv = "population,locus,allele,frequency,n_alleles\n\
//!            P,TH01,6,0.2,200\nP,TH01,9.3,0.3,200\nP,TH01,7,0.5,200\n";
//! let table = FreqTable::read(csv.as_bytes(), "p.csv", &FreqOptions::default())?;
//! let th01 = Locus::lookup("TH01")?;
//! let stain = Profile::new(ProfileId::new("S1")?).with(th01, Genotype::parse_at(th01, "6,9.3")?);
//! let opts = RmpOptions { model: Model::HardyWeinberg, ..RmpOptions::default() };
//! let rmp = profile_rmp(&stain, table.population("P")?, &opts);
//! assert!((rmp.combined.value() - 2.0 * 0.2 * 0.3).abs() < 1e-12); // 2pq
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::ops::{Div, Mul};
use std::str::FromStr;

use crate::freq::{FreqTable, LocusFreqs, Population};
use crate::genotype::Genotype;
use crate::locus::{Kit, Locus};
use crate::profile::Profile;
use crate::search::{Hit, Outcome};

/// A non-negative number held as its base-10 logarithm: products of many small probabilities
/// (and their reciprocals, likelihood ratios) without underflow or overflow. Zero is `-inf`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, serde::Serialize)]
pub struct Log10(f64);

impl Log10 {
    /// The number 1.
    pub const ONE: Log10 = Log10(0.0);
    /// The number 0 (an exclusion).
    pub const ZERO: Log10 = Log10(f64::NEG_INFINITY);

    /// The log of a non-negative number (NaN and negative numbers give zero).
    pub fn from_value(x: f64) -> Log10 {
        if x > 0.0 {
            Log10(x.log10())
        } else {
            Log10::ZERO
        }
    }

    /// Wraps a base-10 logarithm (NaN gives zero).
    pub fn from_log10(l: f64) -> Log10 {
        if l.is_nan() { Log10::ZERO } else { Log10(l) }
    }

    /// The base-10 logarithm (`-inf` for zero).
    pub fn log10(self) -> f64 {
        self.0
    }

    /// The plain value; 0 or infinity when it does not fit an `f64` (use [`Log10::log10`] or the
    /// `Display` form, which never lose it).
    pub fn value(self) -> f64 {
        10f64.powf(self.0)
    }

    /// 1 / x.
    pub fn recip(self) -> Log10 {
        Log10(-self.0)
    }

    /// True for zero.
    pub fn is_zero(self) -> bool {
        self.0 == f64::NEG_INFINITY
    }

    /// Scientific notation with `digits` digits after the point (`1.23e-25`), exact at any
    /// magnitude: the mantissa and exponent come from the logarithm.
    pub fn sci(self, digits: usize) -> String {
        if self.is_zero() {
            return "0".to_string();
        }
        if self.0.is_infinite() {
            return "inf".to_string();
        }
        let mut e = self.0.floor();
        let mut m = 10f64.powf(self.0 - e);
        let scale = 10f64.powi(digits as i32);
        if (m * scale).round() / scale >= 10.0 {
            m /= 10.0;
            e += 1.0;
        }
        format!("{m:.digits$}e{}", e as i64)
    }
}

impl Mul for Log10 {
    type Output = Log10;
    fn mul(self, o: Log10) -> Log10 {
        // 0 * inf is taken as 0
        if self.is_zero() || o.is_zero() {
            Log10::ZERO
        } else {
            Log10(self.0 + o.0)
        }
    }
}

impl Div for Log10 {
    type Output = Log10;
    fn div(self, o: Log10) -> Log10 {
        Log10::mul(self, o.recip())
    }
}

impl std::iter::Product for Log10 {
    fn product<I: Iterator<Item = Log10>>(iter: I) -> Log10 {
        iter.fold(Log10::ONE, |a, b| a * b)
    }
}

impl fmt::Display for Log10 {
    /// Scientific notation, 3 digits after the point unless a precision is given.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sci(f.precision().unwrap_or(3)))
    }
}

/// The genotype-probability model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[non_exhaustive]
pub enum Model {
    /// Hardy-Weinberg: p^2, 2pq.
    HardyWeinberg,
    /// NRC II (1996) recommendation 4.1, as CODIS Match Estimation uses it:
    /// p^2 + p(1-p)theta, 2pq.
    Nrc2Rec41,
    /// NRC II (1996) equation 4.10 (Balding and Nichols 1994), the conditional match
    /// probability.
    Nrc2Eq410,
}

impl FromStr for Model {
    type Err = String;
    fn from_str(s: &str) -> Result<Model, String> {
        match s.to_ascii_lowercase().replace(['_', ' '], "").as_str() {
            "hw" | "hardyweinberg" => Ok(Model::HardyWeinberg),
            "nrc4.1" | "4.1" | "nrc2-4.1" | "nrcii4.1" => Ok(Model::Nrc2Rec41),
            "nrc4.10" | "4.10" | "nrc2-4.10" | "nrcii4.10" | "balding-nichols" | "bn" => {
                Ok(Model::Nrc2Eq410)
            }
            _ => Err(format!(
                "unknown model '{s}' (expected hw, nrc4.1 or nrc4.10)"
            )),
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Model::HardyWeinberg => "hw",
            Model::Nrc2Rec41 => "nrc4.1",
            Model::Nrc2Eq410 => "nrc4.10",
        })
    }
}

/// When a single allele is taken as possibly a heterozygote with a dropped-out allele (the NRC II
/// "2p" rule: frequency 2p instead of the homozygote's p^2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[non_exhaustive]
pub enum TwoPRule {
    /// At single-allele loci of profiles flagged partial (the default).
    #[default]
    Partial,
    /// At every single-allele locus.
    Always,
    /// Never: a single allele is a homozygote.
    Never,
}

/// Options of an RMP calculation.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct RmpOptions {
    /// The genotype-probability model.
    pub model: Model,
    /// Theta (F_ST) for the NRC II models; ignored by Hardy-Weinberg.
    pub theta: f64,
    /// When the 2p rule applies.
    pub two_p: TwoPRule,
}

impl Default for RmpOptions {
    /// NRC II recommendation 4.1 with theta = 0.01 (CODIS Match Estimation), 2p at partial
    /// profiles.
    fn default() -> Self {
        RmpOptions {
            model: Model::Nrc2Rec41,
            theta: 0.01,
            two_p: TwoPRule::Partial,
        }
    }
}

/// How a locus entered an RMP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LocusRule {
    /// Homozygote formula.
    Homozygote,
    /// Heterozygote formula.
    Heterozygote,
    /// The 2p rule (a single allele that may hide a dropped-out allele, or an allele with `F`).
    TwoP,
    /// Not used (RMP 1): no frequencies for the locus.
    NoFrequencies,
    /// Not used (RMP 1): more than two alleles (a mixture or tri-allelic pattern; use the CPI).
    TooManyAlleles,
    /// Not used (RMP 1): no allele with a frequency (only a wildcard).
    NoInformation,
}

/// The RMP at one locus.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LocusRmp {
    /// The locus.
    pub locus: Locus,
    /// The genotype, as text.
    pub genotype: String,
    /// The allele frequencies used, in the genotype's order.
    pub frequencies: Vec<f64>,
    /// The genotype probability (1 when the locus is not used).
    pub rmp: f64,
    /// How it was computed.
    pub rule: LocusRule,
}

/// The RMP of a profile in one population.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProfileRmp {
    /// The population.
    pub population: String,
    /// Per autosomal locus, in canonical order.
    pub loci: Vec<LocusRmp>,
    /// The product over loci.
    pub combined: Log10,
}

impl ProfileRmp {
    /// The likelihood ratio of a single-source match, 1 / RMP.
    pub fn lr(&self) -> Log10 {
        self.combined.recip()
    }

    /// Loci that entered the product.
    pub fn loci_used(&self) -> usize {
        self.loci
            .iter()
            .filter(|l| {
                matches!(
                    l.rule,
                    LocusRule::Homozygote | LocusRule::Heterozygote | LocusRule::TwoP
                )
            })
            .count()
    }
}

/// Homozygote probability under a model (BRIEF section 4).
pub fn homozygote(p: f64, model: Model, theta: f64) -> f64 {
    match model {
        Model::HardyWeinberg => p * p,
        Model::Nrc2Rec41 => p * p + p * (1.0 - p) * theta,
        Model::Nrc2Eq410 => {
            (2.0 * theta + (1.0 - theta) * p) * (3.0 * theta + (1.0 - theta) * p)
                / ((1.0 + theta) * (1.0 + 2.0 * theta))
        }
    }
}

/// Heterozygote probability under a model (BRIEF section 4).
pub fn heterozygote(p: f64, q: f64, model: Model, theta: f64) -> f64 {
    match model {
        Model::HardyWeinberg | Model::Nrc2Rec41 => 2.0 * p * q,
        Model::Nrc2Eq410 => {
            2.0 * (theta + (1.0 - theta) * p) * (theta + (1.0 - theta) * q)
                / ((1.0 + theta) * (1.0 + 2.0 * theta))
        }
    }
}

/// The RMP of one genotype: see [`LocusRule`] for the cases. `partial` is the profile's partial
/// flag (for the 2p rule).
pub fn locus_rmp(
    locus: Locus,
    g: &Genotype,
    freqs: Option<&LocusFreqs>,
    partial: bool,
    opts: &RmpOptions,
) -> LocusRmp {
    let mut out = LocusRmp {
        locus,
        genotype: g.to_string(),
        frequencies: Vec::new(),
        rmp: 1.0,
        rule: LocusRule::NoFrequencies,
    };
    let Some(freqs) = freqs else { return out };
    if g.len() > 2 {
        out.rule = LocusRule::TooManyAlleles;
        return out;
    }
    let known: Vec<f64> = g
        .alleles()
        .iter()
        .filter_map(|&a| freqs.frequency(a))
        .collect();
    let wildcard = known.len() < g.len();
    out.frequencies = known.clone();
    let two_p_single = match opts.two_p {
        TwoPRule::Always => true,
        TwoPRule::Partial => partial,
        TwoPRule::Never => false,
    };
    let (rmp, rule) = match known.as_slice() {
        [] => (1.0, LocusRule::NoInformation),
        [p] if wildcard || two_p_single => ((2.0 * p).min(1.0), LocusRule::TwoP),
        [p] => (
            homozygote(*p, opts.model, opts.theta),
            LocusRule::Homozygote,
        ),
        [p, q, ..] => (
            heterozygote(*p, *q, opts.model, opts.theta),
            LocusRule::Heterozygote,
        ),
    };
    out.rmp = rmp.min(1.0);
    out.rule = rule;
    out
}

/// The RMP of a profile's autosomal loci in one population.
pub fn profile_rmp(profile: &Profile, pop: &Population, opts: &RmpOptions) -> ProfileRmp {
    loci_rmp(profile, pop, opts, |_| true)
}

/// The RMP over the autosomal loci of a profile that `keep` accepts.
pub fn loci_rmp(
    profile: &Profile,
    pop: &Population,
    opts: &RmpOptions,
    keep: impl Fn(Locus) -> bool,
) -> ProfileRmp {
    let loci: Vec<LocusRmp> = profile
        .genotypes()
        .filter(|(l, _)| l.is_counted() && keep(*l))
        .map(|(l, g)| locus_rmp(l, g, pop.locus(l), profile.is_partial(), opts))
        .collect();
    let combined = loci.iter().map(|l| Log10::from_value(l.rmp)).product();
    ProfileRmp {
        population: pop.name().to_string(),
        loci,
        combined,
    }
}

/// The RMP in every population of a table, and the most conservative (largest RMP), as CODIS
/// Match Estimation reports it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RmpReport {
    /// One entry per population, in table order.
    pub populations: Vec<ProfileRmp>,
    /// Index into `populations` of the largest combined RMP (the first on ties); `None` for a
    /// table without populations.
    pub conservative: Option<usize>,
}

impl RmpReport {
    /// The most conservative (largest) combined RMP; 1 when there is none.
    pub fn conservative_rmp(&self) -> Log10 {
        self.conservative
            .and_then(|i| self.populations.get(i))
            .map_or(Log10::ONE, |p| p.combined)
    }
}

/// RMPs of `profile` over the autosomal loci `keep` accepts, in every population.
pub fn rmp_report(
    profile: &Profile,
    table: &FreqTable,
    opts: &RmpOptions,
    keep: impl Fn(Locus) -> bool + Copy,
) -> RmpReport {
    let populations: Vec<ProfileRmp> = table
        .populations()
        .iter()
        .map(|p| loci_rmp(profile, p, opts, keep))
        .collect();
    let mut conservative = None;
    for (i, p) in populations.iter().enumerate() {
        if conservative.is_none_or(|c: usize| p.combined > populations[c].combined) {
            conservative = Some(i);
        }
    }
    RmpReport {
        populations,
        conservative,
    }
}

/// The statistics of a search hit: the RMP of the query's genotypes at the loci that matched,
/// in every population, and the most conservative one (LR = 1 / RMP).
pub fn hit_statistics(
    query: &Profile,
    hit: &Hit,
    table: &FreqTable,
    opts: &RmpOptions,
) -> RmpReport {
    let matched: Vec<Locus> = hit
        .loci
        .iter()
        .filter(|l| l.outcome == Outcome::Match)
        .map(|l| l.locus)
        .collect();
    rmp_report(query, table, opts, |l| matched.contains(&l))
}

/// The probability of inclusion at one mixture locus.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LocusCpi {
    /// The locus.
    pub locus: Locus,
    /// The alleles seen, as text.
    pub genotype: String,
    /// P: the sum of the frequencies of the alleles seen (at most 1).
    pub p: f64,
    /// PI = P^2 + theta P (1 - P); 1 when the locus is not used.
    pub pi: f64,
    /// False when the locus was left out (a wildcard, no frequencies).
    pub used: bool,
}

/// The combined probability of inclusion of a mixture and its complement, the CPE.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Cpi {
    /// The population.
    pub population: String,
    /// Per autosomal locus.
    pub loci: Vec<LocusCpi>,
    /// CPI, the product of the per-locus PI.
    pub cpi: Log10,
    /// CPE = 1 - CPI.
    pub cpe: f64,
}

/// The CPI/CPE of a mixture profile in one population (BRIEF section 4): per locus
/// PI = P^2 + theta P(1-P), P the summed frequency of the alleles seen; theta = 0 gives P^2.
/// A locus with a wildcard (possible dropout) or without frequencies is left out, as SWGDAM
/// (2017) disqualifies loci with possible dropout from the CPI.
pub fn cpi(profile: &Profile, pop: &Population, theta: f64) -> Cpi {
    let mut loci = Vec::new();
    let mut product = Log10::ONE;
    for (l, g) in profile.genotypes().filter(|(l, _)| l.is_counted()) {
        let freqs = pop.locus(l);
        let fs: Option<Vec<f64>> =
            freqs.and_then(|f| g.alleles().iter().map(|&a| f.frequency(a)).collect());
        let entry = match fs {
            Some(fs) => {
                let p = fs.iter().sum::<f64>().min(1.0);
                let pi = (p * p + theta * p * (1.0 - p)).min(1.0);
                product = product * Log10::from_value(pi);
                LocusCpi {
                    locus: l,
                    genotype: g.to_string(),
                    p,
                    pi,
                    used: true,
                }
            }
            None => LocusCpi {
                locus: l,
                genotype: g.to_string(),
                p: 1.0,
                pi: 1.0,
                used: false,
            },
        };
        loci.push(entry);
    }
    // CPE = 1 - CPI without cancellation when CPI is tiny
    let cpe = -(product.log10() * std::f64::consts::LN_10).exp_m1();
    Cpi {
        population: pop.name().to_string(),
        loci,
        cpi: product,
        cpe,
    }
}

/// An eligibility rule for searching or uploading a profile (NDIS-style): enough of a set of
/// core loci typed, and a match rarity (most conservative RMP) at most a threshold. Rules are data,
/// not constants (BRIEF section 3).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EligibilityRule {
    /// A name for reports.
    pub name: String,
    /// The core loci.
    pub core: Vec<Locus>,
    /// Core loci that must be typed.
    pub min_core: usize,
    /// Largest RMP allowed (`None`: no rarity requirement).
    pub max_rmp: Option<f64>,
    /// How the rarity is computed.
    pub rmp: RmpOptions,
}

impl EligibilityRule {
    /// NDIS forensic profiles since 2016-05-01: at least 8 of the original CODIS 13 core loci
    /// and a match rarity of at most 1 in 10 million (BRIEF section 3), with NRC II 4.1 and
    /// theta = 0.01.
    pub fn ndis_forensic() -> EligibilityRule {
        EligibilityRule {
            name: "NDIS forensic".to_string(),
            core: Kit::Codis13.loci(),
            min_core: 8,
            max_rmp: Some(1e-7),
            rmp: RmpOptions::default(),
        }
    }

    /// Checks a profile against the rule with a frequency table (all its populations).
    pub fn check(&self, profile: &Profile, table: &FreqTable) -> Eligibility {
        let core_typed = self
            .core
            .iter()
            .filter(|&&l| profile.genotype(l).is_some())
            .count();
        let report = rmp_report(profile, table, &self.rmp, |_| true);
        let rarity = report.conservative_rmp();
        let mut reasons = Vec::new();
        if core_typed < self.min_core {
            reasons.push(format!(
                "{core_typed} core loci typed, {} required",
                self.min_core
            ));
        }
        if let Some(max) = self.max_rmp
            && rarity > Log10::from_value(max)
        {
            reasons.push(format!(
                "match rarity {rarity} is above {}",
                Log10::from_value(max)
            ));
        }
        Eligibility {
            eligible: reasons.is_empty(),
            core_loci_typed: core_typed,
            rarity,
            reasons,
        }
    }
}

/// The outcome of an eligibility check.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Eligibility {
    /// True when every requirement holds.
    pub eligible: bool,
    /// Core loci typed.
    pub core_loci_typed: usize,
    /// The most conservative RMP over the table's populations.
    pub rarity: Log10,
    /// What failed, one line each.
    pub reasons: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freq::{FreqOptions, MinFrequency};
    use crate::{Allele, ProfileId};
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-300)
    }

    #[test]
    fn test_log10_with_30_loci_never_underflows() {
        let p: Log10 = (0..40).map(|_| Log10::from_value(1e-9)).product();
        assert_eq!(p.log10(), -360.0);
        assert_eq!(p.value(), 0.0, "the plain value underflows");
        assert_eq!(p.to_string(), "1.000e-360");
        assert_eq!(p.recip().to_string(), "1.000e360");
        assert_eq!(Log10::from_value(9.9996).to_string(), "1.000e1");
        assert_eq!(format!("{:.2}", Log10::from_value(0.000123)), "1.23e-4");
        assert!((Log10::ZERO * Log10::from_value(5.0)).is_zero());
        assert_eq!(Log10::ZERO.to_string(), "0");
    }

    #[test]
    fn test_genotype_formulas_with_brief_examples() {
        // NRC II rec. 4.1: homozygote p^2 + p(1-p)theta
        assert!(close(
            homozygote(0.1, Model::Nrc2Rec41, 0.01),
            0.01 + 0.1 * 0.9 * 0.01
        ));
        assert!(close(heterozygote(0.1, 0.2, Model::Nrc2Rec41, 0.01), 0.04));
        // NRC II eq. 4.10 with theta = 0.03, p = 0.1 (hand arithmetic):
        // (0.06 + 0.097)(0.09 + 0.097) / (1.03 * 1.06) = 0.029359 / 1.0918
        assert!(close(
            homozygote(0.1, Model::Nrc2Eq410, 0.03),
            0.157 * 0.187 / (1.03 * 1.06)
        ));
        // 2 (0.03 + 0.097)(0.03 + 0.194) / (1.03 * 1.06)
        assert!(close(
            heterozygote(0.1, 0.2, Model::Nrc2Eq410, 0.03),
            2.0 * 0.127 * 0.224 / (1.03 * 1.06)
        ));
        // theta = 0 reduces every model to Hardy-Weinberg
        for m in [Model::Nrc2Rec41, Model::Nrc2Eq410] {
            assert!(close(homozygote(0.3, m, 0.0), 0.09));
            assert!(close(heterozygote(0.3, 0.2, m, 0.0), 0.12));
        }
    }

    fn pop() -> Population {
        let csv = "population,locus,allele,frequency,n_alleles\n\
                   P,TH01,6,0.2,604\nP,TH01,7,0.5,604\nP,TH01,9.3,0.3,604\n\
                   P,vWA,16,0.25,604\nP,vWA,17,0.75,604\n";
        let t = FreqTable::read(csv.as_bytes(), "p.csv", &FreqOptions::default()).unwrap();
        t.population("P").unwrap().clone()
    }

    fn profile(cells: &[(&str, &str)], partial: bool) -> Profile {
        let mut p = Profile::new(ProfileId::new("S").unwrap()).with_partial(partial);
        for (l, c) in cells {
            let l = Locus::lookup(l).unwrap();
            p.set_genotype(l, Genotype::parse_at(l, c).unwrap());
        }
        p
    }

    #[test]
    fn test_profile_rmp_with_rules() {
        let hw = RmpOptions {
            model: Model::HardyWeinberg,
            theta: 0.0,
            two_p: TwoPRule::Partial,
        };
        let pop = pop();
        let r = profile_rmp(
            &profile(&[("TH01", "6,9.3"), ("vWA", "16"), ("AMEL", "X,Y")], false),
            &pop,
            &hw,
        );
        assert_eq!(r.loci.len(), 2, "Amelogenin is never used");
        assert!(close(r.combined.value(), 0.12 * 0.0625));
        // partial profile: the single allele takes 2p
        let r = profile_rmp(&profile(&[("vWA", "16")], true), &pop, &hw);
        assert_eq!(r.loci[0].rule, LocusRule::TwoP);
        assert!(close(r.combined.value(), 0.5));
        // a wildcard beside an allele is a 2p locus, a lone wildcard is not used
        let r = profile_rmp(
            &profile(&[("vWA", "16,F"), ("TH01", "F")], false),
            &pop,
            &hw,
        );
        assert_eq!(r.loci[0].rule, LocusRule::NoInformation, "TH01 comes first");
        assert_eq!(r.loci[1].rule, LocusRule::TwoP);
        // unseen allele: 5/(2N), N = 302
        let r = profile_rmp(&profile(&[("TH01", "8,6")], false), &pop, &hw);
        assert!(close(r.combined.value(), 2.0 * 0.2 * 5.0 / 604.0));
        // a locus without frequencies and a mixture locus are not used
        let r = profile_rmp(
            &profile(&[("FGA", "22,23"), ("TH01", "6,7,9.3")], false),
            &pop,
            &hw,
        );
        assert_eq!(r.combined, Log10::ONE);
        assert_eq!(r.loci_used(), 0);
    }

    #[test]
    fn test_most_conservative_population() {
        let csv = "population,locus,allele,frequency,n_alleles\n\
                   A,TH01,6,0.1,1000\nA,TH01,7,0.9,1000\nB,TH01,6,0.4,1000\nB,TH01,7,0.6,1000\n";
        let t = FreqTable::read(csv.as_bytes(), "t.csv", &FreqOptions::default()).unwrap();
        let r = rmp_report(
            &profile(&[("TH01", "6")], false),
            &t,
            &RmpOptions::default(),
            |_| true,
        );
        assert_eq!(r.conservative, Some(1));
        assert!(close(
            r.conservative_rmp().value(),
            homozygote(0.4, Model::Nrc2Rec41, 0.01)
        ));
    }

    #[test]
    fn test_cpi_with_and_without_theta() {
        let pop = pop();
        let mix = profile(&[("TH01", "6,7,9.3"), ("vWA", "16")], false);
        let c = cpi(&mix, &pop, 0.0);
        // TH01: P = 1 -> PI = 1; vWA: P = 0.25 -> PI = 0.0625
        assert!(close(c.cpi.value(), 0.0625));
        assert!(close(c.cpe, 0.9375));
        let c = cpi(&mix, &pop, 0.01);
        assert!(close(c.cpi.value(), 0.0625 + 0.01 * 0.25 * 0.75));
        let c = cpi(&profile(&[("vWA", "16,F")], false), &pop, 0.0);
        assert!(!c.loci[0].used);
        assert_eq!(c.cpi, Log10::ONE);
        assert_eq!(c.cpe, 0.0);
    }

    #[test]
    fn test_ndis_eligibility() {
        let csv: String =
            std::iter::once("population,locus,allele,frequency,n_alleles\n".to_string())
                .chain(Kit::Codis13.loci().iter().flat_map(|l| {
                    [
                        format!("P,{l},10,0.1,1000\n"),
                        format!("P,{l},11,0.9,1000\n"),
                    ]
                }))
                .collect();
        let t = FreqTable::read(
            csv.as_bytes(),
            "t.csv",
            &FreqOptions {
                min_frequency: MinFrequency::None,
            },
        )
        .unwrap();
        let rule = EligibilityRule::ndis_forensic();
        let names: Vec<String> = Kit::Codis13
            .loci()
            .iter()
            .map(|l| l.name().to_string())
            .collect();
        let cells: Vec<(&str, &str)> = names.iter().take(8).map(|n| (n.as_str(), "10")).collect();
        let e = rule.check(&profile(&cells, false), &t);
        // 8 core loci of 0.01 + 0.1 * 0.9 * 0.01 = 0.0109 each: 0.0109^8 = 2e-16
        assert!(e.eligible, "{:?}", e.reasons);
        let e = rule.check(&profile(&cells[..7], false), &t);
        assert!(!e.eligible);
        let common: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "11")).collect();
        let e = rule.check(&profile(&common, false), &t);
        assert!(!e.eligible, "common alleles are not rare enough");
        assert_eq!(e.reasons.len(), 1);
    }

    proptest! {
        #[test]
        fn prop_rmp_never_underflows(n in 1usize..60, p in 1e-6f64..1.0) {
            let l: Log10 = (0..n).map(|_| Log10::from_value(homozygote(p, Model::Nrc2Eq410, 0.03))).product();
            prop_assert!(l.log10().is_finite());
            prop_assert!(l.log10() <= 0.0);
        }

        #[test]
        fn prop_theta_is_conservative(p in 0.001f64..0.5, q in 0.001f64..0.5, theta in 0.0f64..0.1) {
            prop_assert!(homozygote(p, Model::Nrc2Eq410, theta) >= homozygote(p, Model::HardyWeinberg, 0.0) - 1e-15);
            prop_assert!(homozygote(p, Model::Nrc2Rec41, theta) >= p * p - 1e-15);
            prop_assert!(heterozygote(p, q, Model::Nrc2Rec41, theta) == 2.0 * p * q);
        }
    }

    #[test]
    fn test_interval_allele_frequency_in_rmp() {
        let pop = pop();
        let r = profile_rmp(
            &profile(&[("TH01", "<7,9.3")], false),
            &pop,
            &RmpOptions {
                model: Model::HardyWeinberg,
                ..RmpOptions::default()
            },
        );
        // `<7` may be 6 (0.2)
        assert!(close(r.combined.value(), 2.0 * 0.2 * 0.3));
        let _ = Allele::Wildcard;
    }
}
