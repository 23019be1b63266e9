//! Cross-border hits over a regional index, and a country's search of the others.
//!
//! Matching is the engine's ([`Index::search`]): every comparison is over the loci both
//! profiles type (kit reconciliation), the minimum-loci rule applies to that overlap, and
//! Amelogenin and Y loci never count.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use rayon::prelude::*;
use tandem_core::index::{GatherRow, GatherSource};

use tandem_core::freq::FreqTable;
use tandem_core::stats::{self, RmpOptions};
use tandem_core::{
    Country, Hit, Index, Log10, Profile, ProfileId, PrumQuality, SearchOptions, SpecimenCategory,
};

use crate::key::reference_country;

/// One side of a cross-border pair.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Side {
    /// The owning country.
    pub country: Country,
    /// The pseudonymous reference (only the owning country can resolve it).
    pub reference: ProfileId,
    /// The specimen category.
    pub category: Option<SpecimenCategory>,
}

/// A pair of profiles from different countries (or the same, when asked) that match.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PairHit {
    /// The side with the smaller reference.
    pub a: Side,
    /// The other side.
    pub b: Side,
    /// Autosomal loci typed in both.
    pub loci_compared: usize,
    /// Compared loci that pass.
    pub loci_matched: usize,
    /// Compared loci that fail.
    pub loci_mismatched: usize,
    /// Prüm quality (Prüm mode only).
    pub prum: Option<PrumQuality>,
    /// The most conservative RMP of `a`'s genotypes at the matching loci, when a frequency
    /// table was given.
    pub rmp: Option<Log10>,
}

impl PairHit {
    /// The category pair, e.g. `Convicted Offender / Forensic, Unknown` (sorted, `none` for
    /// no category).
    pub fn category_pair(&self) -> (String, String) {
        let name =
            |c: Option<SpecimenCategory>| c.map_or("none", SpecimenCategory::as_str).to_string();
        let (x, y) = (name(self.a.category), name(self.b.category));
        if x <= y { (x, y) } else { (y, x) }
    }
}

/// What the cross-border job looks for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HitOptions {
    /// The matching rules (moderate stringency, 8 loci compared by default).
    pub search: SearchOptions,
    /// Report same-country pairs too (the national system's job, off by default).
    pub same_country: bool,
}

/// The country of a regional profile: its provenance, else its reference prefix.
fn country_of(p: &Profile) -> Option<Country> {
    p.country().or_else(|| reference_country(p.id()))
}

/// Every matching pair of profiles from different countries in a regional index, sorted by
/// (reference a, reference b), each pair once. With `freq`, each pair carries the conservative
/// RMP of `a` at the matching loci.
///
/// The regional profiles are split by country into one index per country; for each pair of
/// countries the profiles of the smaller are joined against the index of the larger
/// ([`Index::search_join`]: group tables on the loci both countries type, exactly the answer of
/// a search of each profile). The matching rules are symmetric, so one direction finds every
/// pair. With `same_country`, each country is also searched against itself.
pub fn cross_border_hits(
    index: &Index,
    opts: &HitOptions,
    freq: Option<(&FreqTable, &RmpOptions)>,
) -> Vec<PairHit> {
    let search = SearchOptions {
        top: None,
        ..opts.search.clone()
    };
    // rows per country, read in place
    let mut by_country: BTreeMap<Option<Country>, Vec<u32>> = BTreeMap::new();
    for r in 0..index.rows() as u32 {
        if let Some(v) = index.view(r) {
            let country = v.country().or_else(|| {
                ProfileId::new(v.id())
                    .ok()
                    .and_then(|id| reference_country(&id))
            });
            by_country.entry(country).or_default().push(r);
        }
    }
    let source = [GatherSource::new(index)];
    let parts: Vec<Part> = by_country
        .into_values()
        .map(|rows| {
            let gather: Vec<GatherRow> = rows
                .iter()
                .map(|&row| GatherRow {
                    source: 0,
                    row,
                    id: None,
                })
                .collect();
            // live rows of an index: ids are unique and every row types a locus
            let mut part = Index::gather(&source, &gather).unwrap_or_default();
            part.build_postings();
            Part {
                rows,
                index: part,
                profiles: OnceLock::new(),
            }
        })
        .collect();
    let mut pairs: Vec<PairHit> = Vec::new();
    for (i, pi) in parts.iter().enumerate() {
        if opts.same_country {
            pairs.extend(search_part(
                pi.profiles(index),
                &pi.index,
                &search,
                freq,
                true,
            ));
        }
        for pj in &parts[i + 1..] {
            let (queries, target) = if pi.rows.len() <= pj.rows.len() {
                (pi, pj)
            } else {
                (pj, pi)
            };
            pairs.extend(search_part(
                queries.profiles(index),
                &target.index,
                &search,
                freq,
                false,
            ));
        }
    }
    pairs.sort_by(|x, y| {
        x.a.reference
            .cmp(&y.a.reference)
            .then_with(|| x.b.reference.cmp(&y.b.reference))
    });
    pairs
}

/// The profiles of one country: its rows of the regional index, those rows as an index, and
/// (decoded when the country is the query side of a pair) as profiles.
struct Part {
    rows: Vec<u32>,
    index: Index,
    profiles: OnceLock<Vec<Profile>>,
}

impl Part {
    /// The country's profiles, decoded in parallel on first use.
    fn profiles(&self, regional: &Index) -> &[Profile] {
        self.profiles.get_or_init(|| {
            self.rows
                .par_iter()
                .filter_map(|&r| regional.view(r).map(|v| v.to_profile()))
                .collect()
        })
    }
}

/// `queries` against `target` as one join ([`Index::search_join`]); `same` when they are the
/// same profiles (each pair once, no self-pairs).
fn search_part(
    queries: &[Profile],
    target: &Index,
    search: &SearchOptions,
    freq: Option<(&FreqTable, &RmpOptions)>,
    same: bool,
) -> Vec<PairHit> {
    let results = target.search_join(queries, search);
    let mut out = Vec::new();
    for (q, hits) in queries.iter().zip(results) {
        for h in hits {
            if same && *q.id() >= h.candidate {
                continue;
            }
            if let Some(c) = target.get(&h.candidate) {
                out.push(pair(q, &c, &h, freq));
            }
        }
    }
    out
}

fn pair(q: &Profile, c: &Profile, h: &Hit, freq: Option<(&FreqTable, &RmpOptions)>) -> PairHit {
    let unknown = Country::UNKNOWN;
    let side = |p: &Profile| Side {
        country: country_of(p).unwrap_or(unknown),
        reference: p.id().clone(),
        category: p.category(),
    };
    // side a is the smaller reference; the RMP is of its genotypes at the matching loci
    let (a, b) = if q.id() <= c.id() { (q, c) } else { (c, q) };
    PairHit {
        a: side(a),
        b: side(b),
        loci_compared: h.loci_compared,
        loci_matched: h.loci_matched,
        loci_mismatched: h.loci_mismatched,
        prum: h.prum,
        rmp: freq.map(|(t, o)| stats::hit_statistics(a, h, t, o).conservative_rmp()),
    }
}

/// Cross-border pairs counted by category pair.
pub fn by_category_pair(pairs: &[PairHit]) -> BTreeMap<(String, String), usize> {
    let mut m = BTreeMap::new();
    for p in pairs {
        *m.entry(p.category_pair()).or_default() += 1;
    }
    m
}

/// A hit of a country's search of the others: a reference and match figures, nothing else
/// about the other country's profile.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RegionalHit {
    /// The other country.
    pub country: Country,
    /// The reference, for a follow-up request through legal channels.
    pub reference: ProfileId,
    /// Autosomal loci typed in both.
    pub loci_compared: usize,
    /// Compared loci that pass.
    pub loci_matched: usize,
    /// Compared loci that fail.
    pub loci_mismatched: usize,
    /// Prüm quality (Prüm mode only).
    pub prum: Option<PrumQuality>,
}

/// Searches `queries` of country `from` against the profiles of the other countries: hit/no-hit
/// per query with references and match figures only. One result list per query, in query order,
/// each in the engine's rank order.
pub fn search_from(
    index: &Index,
    queries: &[Profile],
    from: Country,
    opts: &SearchOptions,
) -> Vec<Vec<RegionalHit>> {
    // the top-N applies after the own country's profiles are left out
    let search = SearchOptions {
        top: None,
        ..opts.clone()
    };
    index
        .search_join(queries, &search)
        .into_iter()
        .map(|hits| {
            let mut out: Vec<RegionalHit> = hits
                .into_iter()
                .filter_map(|h| {
                    let country = reference_country(&h.candidate)
                        .or_else(|| index.get(&h.candidate).and_then(|c| c.country()))?;
                    (country != from).then_some(RegionalHit {
                        country,
                        reference: h.candidate,
                        loci_compared: h.loci_compared,
                        loci_matched: h.loci_matched,
                        loci_mismatched: h.loci_mismatched,
                        prum: h.prum,
                    })
                })
                .collect();
            if let Some(n) = opts.top {
                out.truncate(n);
            }
            out
        })
        .collect()
}
