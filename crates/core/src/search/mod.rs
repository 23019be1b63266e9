//! Matching rules (CODIS stringency, required alleles, Prüm full/near matches), search options
//! and hits. The fast search lives on [`crate::Index`]; [`naive`] is the readable reference it is
//! tested against. `docs/MATCHING.md` explains every rule and special case.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::genotype::Genotype;
use crate::locus::Locus;
use crate::profile::ProfileId;

pub mod join;
pub mod naive;
pub mod plan;

/// CODIS per-locus stringency (FBI/NIJ; SWGDAM 2009).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Stringency {
    /// The same alleles and the same number of alleles.
    High,
    /// Every allele of one profile is present in the other (subset either way).
    #[default]
    Moderate,
    /// At least one allele shared.
    Low,
}

impl FromStr for Stringency {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "high" => Ok(Stringency::High),
            "moderate" | "medium" => Ok(Stringency::Moderate),
            "low" => Ok(Stringency::Low),
            _ => Err(format!(
                "unknown stringency '{s}' (expected high, moderate or low)"
            )),
        }
    }
}

impl fmt::Display for Stringency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stringency::High => "high",
            Stringency::Moderate => "moderate",
            Stringency::Low => "low",
        })
    }
}

/// What a search looks for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SearchOptions {
    /// Per-locus stringency (CODIS mode; ignored in Prüm mode).
    pub stringency: Stringency,
    /// CODIS mode: minimum loci compared. Prüm mode: minimum loci fully matching.
    /// Values below 1 are treated as 1.
    pub min_loci: usize,
    /// CODIS mode: most loci allowed to fail the stringency (0, 1, ...). Ignored in Prüm mode,
    /// where a near match allows exactly one differing allele.
    pub max_mismatches: usize,
    /// Prüm mode (Council Decisions 2008/615/JHA and 2008/616/JHA): full and near matches.
    pub prum: bool,
    /// Keep only the best N hits per query.
    pub top: Option<usize>,
}

impl Default for SearchOptions {
    /// Moderate stringency, at least 8 loci compared, no mismatch allowed, CODIS mode.
    fn default() -> Self {
        SearchOptions {
            stringency: Stringency::Moderate,
            min_loci: 8,
            max_mismatches: 0,
            prum: false,
            top: None,
        }
    }
}

impl SearchOptions {
    /// Prüm defaults: at least 6 fully matching loci, full or near matches.
    pub fn prum() -> SearchOptions {
        SearchOptions {
            min_loci: 6,
            prum: true,
            ..SearchOptions::default()
        }
    }

    pub(crate) fn effective_min_loci(&self) -> usize {
        self.min_loci.max(1)
    }

    /// Most loci that may fail in a hit (K of the query planner).
    pub(crate) fn failing_loci_allowed(&self) -> usize {
        if self.prum { 1 } else { self.max_mismatches }
    }
}

/// Prüm match quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrumQuality {
    /// Every allele at every compared locus equal.
    Full,
    /// Exactly one allele differs.
    Near,
}

impl fmt::Display for PrumQuality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PrumQuality::Full => "full",
            PrumQuality::Near => "near",
        })
    }
}

/// The outcome at one compared locus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The locus passes (stringency and required allele; in Prüm mode, no differing allele).
    Match,
    /// The locus fails the stringency (in Prüm mode: at least one allele differs).
    Mismatch,
    /// The stringency passes but the query's required allele is absent from the candidate.
    RequiredMissing,
}

/// Per-locus detail of a hit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LocusResult {
    /// The locus.
    pub locus: Locus,
    /// The outcome.
    pub outcome: Outcome,
    /// Alleles that differ (Prüm two-allele comparison; reported in both modes).
    pub differing_alleles: u8,
    /// The query's genotype, as text.
    pub query: String,
    /// The candidate's genotype, as text.
    pub candidate: String,
}

/// A candidate match.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Hit {
    /// The candidate's specimen id.
    pub candidate: ProfileId,
    /// Autosomal loci typed in both profiles.
    pub loci_compared: usize,
    /// Compared loci that pass.
    pub loci_matched: usize,
    /// Compared loci that fail.
    pub loci_mismatched: usize,
    /// Prüm quality (Prüm mode only).
    pub prum: Option<PrumQuality>,
    /// Per-locus detail, in canonical locus order.
    pub loci: Vec<LocusResult>,
}

impl Hit {
    /// The deterministic result order: loci matched (desc), loci mismatched (asc), id (asc).
    pub fn rank_cmp(&self, other: &Hit) -> Ordering {
        other
            .loci_matched
            .cmp(&self.loci_matched)
            .then(self.loci_mismatched.cmp(&other.loci_mismatched))
            .then_with(|| self.candidate.cmp(&other.candidate))
    }
}

/// Sorts hits in result order and applies top-N.
pub(crate) fn finish(mut hits: Vec<Hit>, opts: &SearchOptions) -> Vec<Hit> {
    hits.sort_by(Hit::rank_cmp);
    if let Some(n) = opts.top {
        hits.truncate(n);
    }
    hits
}

/// A ⊆ B: every allele of A is consistent with at least one allele of B.
pub fn is_subset(a: &Genotype, b: &Genotype) -> bool {
    a.alleles()
        .iter()
        .all(|&x| b.alleles().iter().any(|&y| x.is_consistent_with(y)))
}

/// The CODIS stringency test at one locus (without the required-allele rule).
pub fn passes_stringency(q: &Genotype, c: &Genotype, s: Stringency) -> bool {
    match s {
        Stringency::High => q.len() == c.len() && is_subset(q, c) && is_subset(c, q),
        Stringency::Moderate => is_subset(q, c) || is_subset(c, q),
        Stringency::Low => q
            .alleles()
            .iter()
            .any(|&x| c.alleles().iter().any(|&y| x.is_consistent_with(y))),
    }
}

/// The required-allele rule: the candidate carries an allele consistent with the query's
/// required allele (true when none is flagged).
pub fn has_required(q: &Genotype, c: &Genotype) -> bool {
    match q.required() {
        Some(r) => c.alleles().iter().any(|&y| r.is_consistent_with(y)),
        None => true,
    }
}

/// Prüm differing alleles at one locus: genotypes are two-allele lists (a single allele counts
/// twice); the count is max(|Q|, |C|) minus the size of a maximum matching of consistent alleles.
pub fn differing_alleles(q: &Genotype, c: &Genotype) -> u8 {
    let expand = |g: &Genotype| -> Vec<crate::Allele> {
        if g.is_single() {
            vec![g.alleles()[0]; 2]
        } else {
            g.alleles().to_vec()
        }
    };
    let qa = expand(q);
    let ca = expand(c);
    // Kuhn's augmenting paths: at most 8 x 8.
    let mut owner: Vec<Option<usize>> = vec![None; ca.len()];
    fn augment(
        i: usize,
        qa: &[crate::Allele],
        ca: &[crate::Allele],
        seen: &mut [bool],
        owner: &mut [Option<usize>],
    ) -> bool {
        for j in 0..ca.len() {
            if !seen[j] && qa[i].is_consistent_with(ca[j]) {
                seen[j] = true;
                let free = match owner[j] {
                    None => true,
                    Some(k) => augment(k, qa, ca, seen, owner),
                };
                if free {
                    owner[j] = Some(i);
                    return true;
                }
            }
        }
        false
    }
    let mut matched = 0;
    for i in 0..qa.len() {
        let mut seen = vec![false; ca.len()];
        if augment(i, &qa, &ca, &mut seen, &mut owner) {
            matched += 1;
        }
    }
    (qa.len().max(ca.len()) - matched) as u8
}

/// The full per-locus comparison: outcome and Prüm differing alleles.
pub fn compare_locus(q: &Genotype, c: &Genotype, opts: &SearchOptions) -> (Outcome, u8) {
    let diff = differing_alleles(q, c);
    let outcome = if opts.prum {
        if diff == 0 {
            Outcome::Match
        } else {
            Outcome::Mismatch
        }
    } else if !passes_stringency(q, c, opts.stringency) {
        Outcome::Mismatch
    } else if !has_required(q, c) {
        Outcome::RequiredMissing
    } else {
        Outcome::Match
    };
    (outcome, diff)
}

/// Builds a hit from per-locus comparisons if it meets the options (shared by the naive and the
/// fast search, so both report the same detail).
pub(crate) fn evaluate<'a>(
    candidate: &ProfileId,
    pairs: impl Iterator<Item = (Locus, &'a Genotype, &'a Genotype)>,
    opts: &SearchOptions,
) -> Option<Hit> {
    let mut loci = Vec::new();
    let (mut matched, mut mismatched, mut diff_total) = (0usize, 0usize, 0usize);
    for (locus, q, c) in pairs {
        if !locus.is_counted() {
            continue;
        }
        let (outcome, diff) = compare_locus(q, c, opts);
        if outcome == Outcome::Match {
            matched += 1;
        } else {
            mismatched += 1;
        }
        diff_total += diff as usize;
        loci.push(LocusResult {
            locus,
            outcome,
            differing_alleles: diff,
            query: q.to_string(),
            candidate: c.to_string(),
        });
    }
    let compared = matched + mismatched;
    let (ok, prum) = if opts.prum {
        let ok = matched >= opts.effective_min_loci() && diff_total <= 1;
        (
            ok,
            Some(if diff_total == 0 {
                PrumQuality::Full
            } else {
                PrumQuality::Near
            }),
        )
    } else {
        (
            compared >= opts.effective_min_loci() && mismatched <= opts.max_mismatches,
            None,
        )
    };
    ok.then(|| Hit {
        candidate: candidate.clone(),
        loci_compared: compared,
        loci_matched: matched,
        loci_mismatched: mismatched,
        prum,
        loci,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Locus;

    fn g(s: &str) -> Genotype {
        Genotype::parse_at(Locus::lookup("D8S1179").unwrap(), s).unwrap()
    }

    #[test]
    fn test_stringency_with_swgdam_examples() {
        // SWGDAM 2009: forensic unknown D8S1179 13 vs offender 13,14 is a moderate match.
        assert!(passes_stringency(
            &g("13"),
            &g("13,14"),
            Stringency::Moderate
        ));
        assert!(!passes_stringency(&g("13"), &g("13,14"), Stringency::High));
        // D21S11 28,31.2 vs 28,31.2 is a high match.
        assert!(passes_stringency(
            &g("28,31.2"),
            &g("28,31.2"),
            Stringency::High
        ));
        assert!(!passes_stringency(
            &g("13,14"),
            &g("13,15"),
            Stringency::Moderate
        ));
        assert!(passes_stringency(&g("13,14"), &g("13,15"), Stringency::Low));
        assert!(!passes_stringency(
            &g("13,14"),
            &g("15,16"),
            Stringency::Low
        ));
        // a single-source profile against a mixture
        assert!(passes_stringency(
            &g("13,15"),
            &g("12,13,15,16"),
            Stringency::Moderate
        ));
        assert!(!passes_stringency(
            &g("13,15"),
            &g("12,13,15,16"),
            Stringency::High
        ));
    }

    #[test]
    fn test_stringency_with_wildcards_and_off_ladder() {
        assert!(passes_stringency(&g("13,F"), &g("13,14"), Stringency::High));
        assert!(passes_stringency(&g(">15"), &g("16"), Stringency::High));
        assert!(!passes_stringency(
            &g(">15"),
            &g("15"),
            Stringency::Moderate
        ));
    }

    #[test]
    fn test_required_allele() {
        let q = g("13,14")
            .with_required(crate::Allele::Repeat(140))
            .unwrap();
        assert!(has_required(&q, &g("14")));
        assert!(!has_required(&q, &g("13")));
        let opts = SearchOptions::default();
        assert_eq!(
            compare_locus(&q, &g("13"), &opts).0,
            Outcome::RequiredMissing
        );
    }

    #[test]
    fn test_differing_alleles_prum() {
        assert_eq!(differing_alleles(&g("13,14"), &g("13,14")), 0);
        assert_eq!(differing_alleles(&g("13"), &g("13")), 0);
        assert_eq!(differing_alleles(&g("13"), &g("13,14")), 1);
        assert_eq!(differing_alleles(&g("13,14"), &g("13,15")), 1);
        assert_eq!(differing_alleles(&g("13,14"), &g("15,16")), 2);
        assert_eq!(differing_alleles(&g("13,F"), &g("13,22")), 0);
        assert_eq!(differing_alleles(&g("F"), &g("13,22")), 0);
        assert_eq!(differing_alleles(&g("12,13,14"), &g("13,14")), 1);
    }
}
