//! The merge: national index files in, one regional index file out.
//!
//! [`merge`] reads the national indexes in place. Each file is verified, the sharing policy
//! decides every row from counts read off its code columns
//! ([`CountryPolicy::decide_counts`](crate::policy::CountryPolicy::decide_counts)) and each shared row
//! gets its reference (HMAC, in parallel). The regional index is then assembled from the code
//! columns by [`Index::gather`], without decoding a profile:
//!
//! * **update** (the regional file exists): its rows are matched to the shared national rows by
//!   reference, and a row whose content (genotypes, category, lab, date, partial flag, kit,
//!   country) is what the national row gives now is copied from the regional file; new and
//!   changed rows come from the national indexes, regional rows no national row gives any more
//!   are dropped;
//! * **full build** (no regional file, or not one a merge wrote): every row comes from the
//!   national indexes.
//!
//! Both give the same bytes, those of [`derive()`] (the readable reference: it decodes every
//! profile and sorts them by reference) fed to [`Index::from_profiles`]; the tests check it. The
//! regional file is written atomically and left untouched when nothing changed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use tandem_core::durable::LockHolder;
use tandem_core::index::file::{self, OpenError};
use tandem_core::index::ledger::{Action, Event, InputDigest, LedgerError};
use tandem_core::index::update::{Existing, Update, UpdateError, UpdateOptions};
use tandem_core::index::{GatherRow, GatherSource};
use tandem_core::{
    Country, Genotype, Index, IndexError, Kit, Locus, Profile, ProfileId, SpecimenCategory,
};

use crate::key::{CountryKey, KeyError, REFERENCE_BYTES, parse_reference, reference_of};
use crate::policy::{Policy, Withheld};

/// One national input: a country code and its index file (`GT=PATH` on the command line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct National {
    /// The country (ISO 3166 alpha-2).
    pub country: Country,
    /// The national index file.
    pub path: PathBuf,
}

/// The error of parsing `CC=PATH`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not COUNTRY=PATH with an ISO 3166 alpha-2 country code (GT=gt.tdx)")]
pub struct NationalParseError(pub String);

impl FromStr for National {
    type Err = NationalParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (cc, path) = s
            .split_once('=')
            .ok_or_else(|| NationalParseError(s.to_string()))?;
        let country = cc
            .trim()
            .parse()
            .map_err(|_| NationalParseError(s.to_string()))?;
        if path.is_empty() {
            return Err(NationalParseError(s.to_string()));
        }
        Ok(National {
            country,
            path: PathBuf::from(path),
        })
    }
}

/// The error of a merge. Nothing is written when one occurs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// No national index was given.
    #[error("no national index given")]
    NoNationals,
    /// Two national indexes claim the same country.
    #[error("two national indexes for {country}: {first} and {second}")]
    DuplicateCountry {
        /// The country.
        country: Country,
        /// The first file.
        first: PathBuf,
        /// The second file.
        second: PathBuf,
    },
    /// A national index fails verification (or cannot be read).
    #[error("national index of {country} fails verification")]
    Verify {
        /// The country.
        country: Country,
        /// The cause (names the file and what is wrong).
        #[source]
        source: OpenError,
    },
    /// A profile of a national index names another country.
    #[error(
        "{path}: specimen {specimen} is from {found}, but the file was given as the national index of {expected}"
    )]
    CountryMismatch {
        /// The national index.
        path: PathBuf,
        /// The specimen.
        specimen: ProfileId,
        /// The country given.
        expected: Country,
        /// The profile's country.
        found: Country,
    },
    /// The country key could not be read or created.
    #[error("country key of {country}")]
    Key {
        /// The country.
        country: Country,
        /// The cause.
        #[source]
        source: KeyError,
    },
    /// The policy's panel has no locus the national index types.
    #[error(
        "{path}: the sharing policy of {country} counts loci on a panel ({panel}) of which this national index types none"
    )]
    PanelNoOverlap {
        /// The country.
        country: Country,
        /// The national index.
        path: PathBuf,
        /// The panel's loci.
        panel: String,
    },
    /// Two national indexes share no autosomal locus: no profile of one can match the other.
    #[error(
        "national indexes {a} ({a_path}) and {b} ({b_path}) have no autosomal locus in common: kits cannot be reconciled"
    )]
    NoCommonLoci {
        /// A country.
        a: Country,
        /// Its file.
        a_path: PathBuf,
        /// The other.
        b: Country,
        /// Its file.
        b_path: PathBuf,
    },
    /// The regional profiles could not be indexed (e.g. two specimens with the same reference).
    #[error("cannot build the regional index")]
    Index(#[source] IndexError),
    /// A country of the regional index has no national index in this merge: merging would drop
    /// all its profiles.
    #[error(
        "{country} is in the regional index but no national index of {country} was given: merging would drop all its profiles; nothing was written"
    )]
    WouldDropCountry {
        /// The country.
        country: Country,
    },
    /// A national index of a country the policy does not list as a participant.
    #[error(
        "{country} is not a participant of the sharing policy ({participants}); nothing was written"
    )]
    NotParticipant {
        /// The country.
        country: Country,
        /// The participants the policy lists, comma-separated.
        participants: String,
    },
    /// A country to drop was also given a national index.
    #[error("{country} was both given a national index and named to be dropped")]
    DropGiven {
        /// The country.
        country: Country,
    },
    /// The key of a country already in the regional index is missing: new references would be
    /// minted, every reference of the country would change and its regional expungements would
    /// no longer match.
    #[error(
        "{path}: the key of {country} is missing, but {country} is already in the regional index: every {country} reference would change; restore the key from its backup; nothing was written"
    )]
    KeyMissing {
        /// The country.
        country: Country,
        /// Where the key should be.
        path: PathBuf,
    },
    /// A new key was asked for a country whose key is there.
    #[error("{path}: a new key was asked for {country}, but its key is there; nothing was written")]
    KeyPresent {
        /// The country.
        country: Country,
        /// The key file.
        path: PathBuf,
    },
    /// No user identity to record the merge under.
    #[error(transparent)]
    Ledger(LedgerError),
    /// The regional index could not be written: another writer held its lock, the change was
    /// refused (an empty result over a regional index, a target that is not an index) or the
    /// file system failed. The old file is unchanged.
    #[error("cannot write the regional index")]
    Update(#[source] UpdateError),
}

/// Shared and withheld profiles of one country and category.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CategoryCounts {
    /// Profiles in the national index.
    pub national: usize,
    /// Profiles shared.
    pub shared: usize,
    /// Profiles withheld, by reason.
    pub withheld: BTreeMap<Withheld, usize>,
}

/// The merge report of one country.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CountryReport {
    /// The country.
    pub country: Country,
    /// Totals over every category.
    pub total: CategoryCounts,
    /// Per specimen category (`none` for profiles without one).
    pub categories: BTreeMap<String, CategoryCounts>,
}

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MergeReport {
    /// Per country, in code order.
    pub countries: Vec<CountryReport>,
    /// Profiles in the regional index.
    pub regional_profiles: usize,
    /// Groups of two or more shared profiles with identical genotypes (the same person, or
    /// identical twins, typed twice), and how many of those groups span countries.
    pub duplicate_groups: usize,
    /// Duplicate groups whose profiles come from more than one country.
    pub cross_border_duplicate_groups: usize,
    /// False when the regional index already held exactly this content (the file was left
    /// untouched).
    pub changed: bool,
    /// Regional profiles copied unchanged from the previous regional index by an incremental
    /// update; 0 for a full build. The other fields are the same either way.
    pub reused: usize,
}

/// The regional profiles and the report of a merge, before anything is written.
#[derive(Debug, Clone)]
pub struct Derived {
    /// The regional profiles, sorted by reference.
    pub profiles: Vec<Profile>,
    /// The report (`changed` is true, `reused` 0).
    pub report: MergeReport,
}

/// Checks the inputs: at least one, no country twice.
fn check_nationals(nationals: &[National]) -> Result<Vec<&National>, MergeError> {
    if nationals.is_empty() {
        return Err(MergeError::NoNationals);
    }
    let mut sorted: Vec<&National> = nationals.iter().collect();
    sorted.sort_by(|a, b| a.country.cmp(&b.country).then_with(|| a.path.cmp(&b.path)));
    for w in sorted.windows(2) {
        if w[0].country == w[1].country {
            return Err(MergeError::DuplicateCountry {
                country: w[0].country,
                first: w[0].path.clone(),
                second: w[1].path.clone(),
            });
        }
    }
    Ok(sorted)
}

/// The canonical kit name when the profile's kit is a known one (`identifiler plus` and
/// `Identifiler` both become `Identifiler`); other names are kept as written.
fn canonical_kit(kit: &str) -> String {
    Kit::from_str(kit).map_or_else(|_| kit.to_string(), |k| k.name().to_string())
}

/// The national indexes in country order, each verified (every checksum and invariant; the
/// files are verified in parallel, errors reported in country order), with the checks that
/// the policy's panel and the kits can be reconciled.
fn open_nationals<'a>(
    nationals: &'a [National],
    policy: &Policy,
) -> Result<Vec<(&'a National, Index)>, MergeError> {
    let sorted = check_nationals(nationals)?;
    let verified: Vec<Result<Index, OpenError>> =
        sorted.par_iter().map(|n| file::verify(&n.path)).collect();
    let mut opened: Vec<(&National, Index)> = Vec::with_capacity(sorted.len());
    for (n, index) in sorted.into_iter().zip(verified) {
        let index = index.map_err(|source| MergeError::Verify {
            country: n.country,
            source,
        })?;
        let cp = policy.for_country(n.country);
        if let (Some(panel), true) = (&cp.panel, cp.min_loci > 0) {
            let loci = index.loci();
            if !panel.iter().any(|l| loci.contains(l)) && !index.is_empty() {
                return Err(MergeError::PanelNoOverlap {
                    country: n.country,
                    path: n.path.clone(),
                    panel: panel
                        .iter()
                        .map(|l| l.name())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        opened.push((n, index));
    }
    let autosomal =
        |i: &Index| -> Vec<Locus> { i.loci().into_iter().filter(|l| l.is_counted()).collect() };
    for (i, (a, ia)) in opened.iter().enumerate() {
        let la = autosomal(ia);
        for (b, ib) in &opened[i + 1..] {
            if ia.is_empty() || ib.is_empty() {
                continue;
            }
            if !autosomal(ib).iter().any(|l| la.contains(l)) {
                return Err(MergeError::NoCommonLoci {
                    a: a.country,
                    a_path: a.path.clone(),
                    b: b.country,
                    b_path: b.path.clone(),
                });
            }
        }
    }
    Ok(opened)
}

fn load_key(n: &National) -> Result<CountryKey, MergeError> {
    CountryKey::load_or_create(&n.path).map_err(|source| MergeError::Key {
        country: n.country,
        source,
    })
}

/// Derives the regional profiles from national indexes: verifies every file (fully), applies
/// the policy, replaces specimen ids by references under each country's key (created beside
/// the national index on first use), and sorts by reference. References in `expunged` stay out.
///
/// This is the readable reference of the merge: it decodes every national profile. [`merge`]
/// gives the same regional index (and report) from the code columns, and is tested equal to
/// [`Index::from_profiles`] of these profiles. The result depends on the inputs only, never on
/// their order or on the time.
pub fn derive(
    nationals: &[National],
    policy: &Policy,
    expunged: &BTreeSet<ProfileId>,
) -> Result<Derived, MergeError> {
    let opened = open_nationals(nationals, policy)?;
    let mut profiles: Vec<Profile> = Vec::new();
    let mut countries = Vec::new();
    for (n, index) in &opened {
        let key = load_key(n)?;
        let cp = policy.for_country(n.country);
        let referencer = key.referencer(n.country);
        let national: Vec<Profile> = index.profiles().collect();
        if let Some(p) = national
            .iter()
            .find(|p| p.country().is_some_and(|c| c != n.country))
        {
            return Err(MergeError::CountryMismatch {
                path: n.path.clone(),
                specimen: p.id().clone(),
                expected: n.country,
                found: p.country().unwrap_or(n.country),
            });
        }
        let decided: Vec<(Option<String>, Result<Profile, Withheld>)> = national
            .into_par_iter()
            .map(|p| {
                let cat = p.category().map(|c| c.as_str().to_string());
                let outcome = cp.decide(&p).and_then(|()| {
                    let r = referencer.reference(p.id());
                    if expunged.contains(&r) {
                        return Err(Withheld::Expunged);
                    }
                    let kit = p.kit().map(canonical_kit);
                    Ok(regional_profile(&p, r, n.country, kit))
                });
                (cat, outcome)
            })
            .collect();
        let mut report = CountryReport {
            country: n.country,
            total: CategoryCounts::default(),
            categories: BTreeMap::new(),
        };
        for (cat, outcome) in decided {
            let counts = report
                .categories
                .entry(cat.unwrap_or_else(|| "none".into()))
                .or_default();
            for c in [&mut *counts, &mut report.total] {
                c.national += 1;
                match &outcome {
                    Ok(_) => c.shared += 1,
                    Err(w) => *c.withheld.entry(*w).or_default() += 1,
                }
            }
            if let Ok(p) = outcome {
                profiles.push(p);
            }
        }
        countries.push(report);
    }
    profiles.par_sort_unstable_by(|a, b| a.id().cmp(b.id()));
    if let Some(w) = profiles.windows(2).find(|w| w[0].id() == w[1].id()) {
        return Err(MergeError::Index(IndexError::DuplicateId(
            w[0].id().clone(),
        )));
    }
    let (duplicate_groups, cross_border_duplicate_groups) = duplicates(&profiles);
    Ok(Derived {
        report: MergeReport {
            countries,
            regional_profiles: profiles.len(),
            duplicate_groups,
            cross_border_duplicate_groups,
            changed: true,
            reused: 0,
        },
        profiles,
    })
}

/// The regional copy of a national profile: the reference as id, the country set, the kit name
/// canonical; lab, category, date, partial flag and genotypes kept; original locus spellings
/// dropped (loci are unified under their canonical names).
fn regional_profile(
    p: &Profile,
    reference: ProfileId,
    country: Country,
    kit: Option<String>,
) -> Profile {
    let mut r = Profile::new(reference).with_partial(p.is_partial());
    r.set_category(p.category());
    r.set_lab(p.lab().map(str::to_string));
    r.set_country(Some(country));
    r.set_kit(kit);
    r.set_date(p.date());
    for (l, g) in p.genotypes() {
        r.set_genotype(l, *g);
    }
    r
}

/// Groups of profiles with identical autosomal genotypes: (groups, groups spanning countries).
fn duplicates(profiles: &[Profile]) -> (usize, usize) {
    let mut groups: FxHashMap<Vec<(Locus, Genotype)>, Vec<Option<Country>>> = FxHashMap::default();
    for p in profiles {
        let key = p
            .genotypes()
            .filter(|(l, _)| l.is_counted())
            .map(|(l, g)| (l, *g))
            .collect();
        groups.entry(key).or_default().push(p.country());
    }
    let groups: Vec<&Vec<Option<Country>>> = groups.values().filter(|g| g.len() > 1).collect();
    let cross = groups
        .iter()
        .filter(|g| g.iter().any(|c| *c != g[0]))
        .count();
    (groups.len(), cross)
}

/// Groups of regional rows with identical autosomal genotypes, read from the code columns:
/// (groups, groups spanning countries).
fn duplicate_groups(index: &Index) -> (usize, usize) {
    let groups = index.identical_genotypes(Locus::is_counted);
    let country = |r: u32| index.view(r).and_then(|v| v.country());
    let cross = groups
        .iter()
        .filter(|g| g.iter().any(|&r| country(r) != country(g[0])))
        .count();
    (groups.len(), cross)
}

/// A verified national index and what the policy makes of its rows.
struct Prepared<'a> {
    national: &'a National,
    index: Index,
    /// The shared rows as (tag of the reference, row), sorted by tag: their regional order.
    shared: Vec<([u8; REFERENCE_BYTES], u32)>,
    report: CountryReport,
}

/// Counts of one category: shared, then withheld per [`Withheld::ALL`] reason.
type Tally = [usize; 1 + Withheld::ALL.len()];

fn withheld_slot(w: Withheld) -> usize {
    1 + Withheld::ALL.iter().position(|&x| x == w).unwrap_or(0)
}

/// The report of one country from its tallies (`tallies[i]` for `SpecimenCategory::ALL[i]`,
/// the last for profiles without a category).
fn country_report(country: Country, tallies: &[Tally]) -> CountryReport {
    let counts = |t: &Tally| CategoryCounts {
        national: t.iter().sum(),
        shared: t[0],
        withheld: Withheld::ALL
            .iter()
            .zip(&t[1..])
            .filter(|(_, n)| **n > 0)
            .map(|(w, n)| (*w, *n))
            .collect(),
    };
    let mut total: Tally = [0; 1 + Withheld::ALL.len()];
    let mut categories = BTreeMap::new();
    for (i, t) in tallies.iter().enumerate() {
        if t.iter().sum::<usize>() == 0 {
            continue;
        }
        for (s, n) in total.iter_mut().zip(t) {
            *s += n;
        }
        let name = SpecimenCategory::ALL
            .get(i)
            .map_or("none", |c| c.as_str())
            .to_string();
        categories.insert(name, counts(t));
    }
    CountryReport {
        country,
        total: counts(&total),
        categories,
    }
}

/// Opens and checks the national indexes ([`open_nationals`]), then decides every row in
/// place: the policy from the packed columns, the reference tag of each shared row (HMAC in
/// parallel), references in `expunged` kept out.
fn prepare<'a>(
    nationals: &'a [National],
    policy: &Policy,
    expunged: &BTreeSet<ProfileId>,
) -> Result<Vec<Prepared<'a>>, MergeError> {
    let opened = open_nationals(nationals, policy)?;
    let expunged: FxHashSet<(Country, [u8; REFERENCE_BYTES])> = expunged
        .iter()
        .filter_map(|r| parse_reference(r.as_str()))
        .collect();
    let mut prepared: Vec<Prepared<'a>> = Vec::with_capacity(opened.len());
    for (n, index) in opened {
        let key = load_key(n)?;
        let cp = policy.for_country(n.country);
        let referencer = key.referencer(n.country);
        let rows = index.rows() as u32;
        if let Some(v) = (0..rows)
            .into_par_iter()
            .filter_map(|r| index.view(r))
            .find_first(|v| v.country().is_some_and(|c| c != n.country))
        {
            return Err(MergeError::CountryMismatch {
                path: n.path.clone(),
                specimen: v.to_profile().id().clone(),
                expected: n.country,
                found: v.country().unwrap_or(n.country),
            });
        }
        let none = SpecimenCategory::ALL.len();
        let panel_loci = index.typed_loci(|l| cp.counts_locus(l));
        let max_alleles = if cp.mixtures {
            Vec::new() // not looked at
        } else {
            index.max_alleles(Locus::is_counted)
        };
        let decided: Vec<(u8, u32, Result<[u8; REFERENCE_BYTES], Withheld>)> = (0..rows)
            .into_par_iter()
            .with_min_len(1 << 12)
            .filter_map(|r| {
                let v = index.view(r)?;
                let category = v
                    .category()
                    .and_then(|c| SpecimenCategory::ALL.iter().position(|&x| x == c))
                    .unwrap_or(none);
                let (panel, max) = (
                    panel_loci.get(r as usize).copied().unwrap_or(0),
                    max_alleles.get(r as usize).copied().unwrap_or(0),
                );
                let outcome = cp
                    .decide_counts(v.category(), panel.into(), max.into())
                    .and_then(|()| {
                        let tag = referencer.tag(v.id());
                        if expunged.contains(&(n.country, tag)) {
                            return Err(Withheld::Expunged);
                        }
                        Ok(tag)
                    });
                Some((category as u8, r, outcome))
            })
            .collect();
        let mut tallies: Vec<Tally> = vec![[0; 1 + Withheld::ALL.len()]; none + 1];
        let mut shared = Vec::with_capacity(decided.len());
        for (category, row, outcome) in decided {
            let t = &mut tallies[category as usize];
            match outcome {
                Ok(tag) => {
                    t[0] += 1;
                    shared.push((tag, row));
                }
                Err(w) => t[withheld_slot(w)] += 1,
            }
        }
        shared.par_sort_unstable();
        prepared.push(Prepared {
            national: n,
            report: country_report(n.country, &tallies),
            index,
            shared,
        });
    }
    // two specimens with the same reference (a 96-bit collision) are an error, never merged
    for p in &prepared {
        if let Some(w) = p.shared.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(MergeError::Index(IndexError::DuplicateId(reference_of(
                p.national.country,
                &w[0].0,
            ))));
        }
    }
    Ok(prepared)
}

/// A national index as the source of regional rows: country set, kit names canonical.
fn national_source<'a>(p: &'a Prepared<'_>) -> GatherSource<'a> {
    GatherSource {
        index: &p.index,
        country: Some(p.national.country),
        kit: Some(&canonical_kit),
    }
}

/// The national indexes as sources of regional rows, in country order.
fn national_sources<'a>(prepared: &'a [Prepared<'_>]) -> Vec<GatherSource<'a>> {
    prepared.iter().map(national_source).collect()
}

/// The regional row of a shared national row: source `source`, id its reference.
fn national_row(p: &Prepared<'_>, source: usize, i: usize) -> GatherRow {
    let (tag, row) = p.shared[i];
    GatherRow {
        source: source as u32,
        row,
        id: Some(reference_of(p.national.country, &tag)),
    }
}

/// The regional index built from the national indexes alone.
fn build_full(prepared: &[Prepared<'_>]) -> Result<Index, MergeError> {
    let rows: Vec<GatherRow> = prepared
        .iter()
        .enumerate()
        .flat_map(|(s, p)| {
            (0..p.shared.len())
                .into_par_iter()
                .map(|i| national_row(p, s, i))
                .collect::<Vec<_>>()
        })
        .collect();
    Index::gather(&national_sources(prepared), &rows).map_err(MergeError::Index)
}

/// The regional index built by updating the one at `out`, with the number of rows copied from
/// it; `None` when there is no usable regional index there (no file, not an index, or a
/// reference twice).
///
/// The regional rows are matched to the shared national rows by reference; a matched row is
/// copied when its content equals the national row's (else the national row replaces it), a
/// national row without match is added, and a regional row without match is dropped. The row
/// order is the reference order either way, and [`Index::gather`] renumbers codes and
/// dictionaries as a full build would.
fn build_update(out: &Path, prepared: &[Prepared<'_>]) -> Option<(Index, usize)> {
    let old = Index::open(out).ok()?;
    let mut keyed: Vec<(Country, [u8; REFERENCE_BYTES], u32)> = (0..old.rows() as u32)
        .into_par_iter()
        .with_min_len(1 << 12)
        .filter_map(|r| {
            let (c, tag) = parse_reference(old.view(r)?.id())?;
            Some((c, tag, r))
        })
        .collect();
    let ascending = |k: &[(Country, [u8; REFERENCE_BYTES], u32)]| {
        k.par_windows(2)
            .all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1))
    };
    if !ascending(&keyed) {
        keyed.par_sort_unstable();
        if !ascending(&keyed) {
            return None; // a reference twice: not a regional index this merge wrote
        }
    }
    let mut rows: Vec<GatherRow> = Vec::new();
    let mut reused = 0;
    for (s, p) in prepared.iter().enumerate() {
        let c = p.national.country;
        let theirs =
            &keyed[keyed.partition_point(|k| k.0 < c)..keyed.partition_point(|k| k.0 <= c)];
        // join by tag: (shared index, regional row) for each match
        let mut matched: Vec<(usize, u32)> = Vec::new();
        let mut at = 0;
        for (i, (tag, _)) in p.shared.iter().enumerate() {
            while theirs.get(at).is_some_and(|k| k.1 < *tag) {
                at += 1;
            }
            if theirs.get(at).is_some_and(|k| k.1 == *tag) {
                matched.push((i, theirs[at].2));
                at += 1;
            }
        }
        let pairs: Vec<(u32, u32)> = matched.iter().map(|&(i, r)| (p.shared[i].1, r)).collect();
        let unchanged = old.same_rows(&national_source(p), &pairs);
        let mut next = matched.iter().zip(&unchanged).peekable();
        for i in 0..p.shared.len() {
            match next.peek() {
                Some(&(&(j, r), &keep)) if j == i => {
                    next.next();
                    if keep {
                        reused += 1;
                        rows.push(GatherRow::new(0, r));
                        continue;
                    }
                }
                _ => {}
            }
            rows.push(national_row(p, s + 1, i));
        }
    }
    let mut sources = vec![GatherSource::new(&old)];
    sources.extend(national_sources(prepared));
    // an error here can only come from a damaged regional file: the full build decides
    let index = Index::gather(&sources, &rows).ok()?;
    Some((index, reused))
}

/// References removed from a regional index by `regional expunge` and still in force (its
/// ledger, [`tandem_core::index::ledger`]).
pub fn expunged_references(regional: &Path) -> Result<BTreeSet<ProfileId>, MergeError> {
    let ledger = tandem_core::index::ledger::Ledger::read(regional).map_err(MergeError::Ledger)?;
    Ok(references_in_force(&ledger))
}

fn references_in_force(ledger: &tandem_core::index::ledger::Ledger) -> BTreeSet<ProfileId> {
    ledger
        .removed()
        .keys()
        .filter_map(|r| ProfileId::new(r).ok())
        .collect()
}

/// What a merge may do beyond the ordinary, and under whose name it is recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeOptions {
    /// The writer lock's wait and the refusals of [`Update`].
    pub update: UpdateOptions,
    /// Who merges (default: [`tandem_core::index::ledger::identity`]).
    pub user: Option<String>,
    /// Countries of the regional index to drop on purpose (their profiles leave it; recorded).
    pub drop_countries: Vec<Country>,
    /// Countries whose lost key is to be replaced by a new one (every reference of the country
    /// changes; recorded).
    pub new_key_for: Vec<Country>,
}

/// The countries of the regional index: those its last merge recorded (its rows can only hold
/// fewer: expungements remove rows), else, for a file no recorded merge wrote, those of its rows.
fn countries_in(out: &Path, ledger: &tandem_core::index::ledger::Ledger) -> BTreeSet<Country> {
    if let Some(last) = ledger
        .records()
        .iter()
        .rev()
        .find(|r| r.action == Action::Merge)
    {
        return last
            .countries
            .iter()
            .filter_map(|c| c.parse::<Country>().ok())
            .collect();
    }
    match Index::open(out) {
        Ok(index) => (0..index.rows() as u32)
            .into_par_iter()
            .filter_map(|r| index.view(r).and_then(|v| v.country()))
            .collect::<FxHashSet<Country>>()
            .into_iter()
            .collect(),
        Err(_) => BTreeSet::new(),
    }
}

/// Merges national indexes into the regional index file `out`, keeping the references expunged
/// from `out` out (its audit log): an incremental update of `out` when it exists, else a full
/// build (see the [module documentation](self)); the same bytes either way, and the same as
/// [`derive()`] gives. The file is written atomically; when it already holds exactly the
/// result it is left untouched (`changed` is false). On any error `out` is unchanged. Uses the
/// default [`UpdateOptions`] ([`merge_with`] sets them).
pub fn merge(
    out: &Path,
    nationals: &[National],
    policy: &Policy,
) -> Result<MergeReport, MergeError> {
    merge_with(
        out,
        nationals,
        policy,
        &MergeOptions::default(),
        &mut |_| {},
    )
}

/// [`merge`] as one [`Update`] of `out`: the writer lock is taken first (waiting up to
/// `options.update.wait`, calling `on_wait` as [`Update::begin_with`] does), and the ledger,
/// the current regional file and the write all happen under it, so a concurrent `expunge` is
/// never undone and two merges never interleave. Refused, with `out` unchanged:
/// * a result of no profile over a regional index that has some (unless
///   `options.update.allow_empty`), an `out` that is not a Tandem index (unless
///   `options.update.force`);
/// * a country of the regional index with no national index (unless named in
///   `options.drop_countries`);
/// * a country of the regional index whose key file is missing (unless named in
///   `options.new_key_for`); a new key for a country whose key is there.
///
/// A merge that changes the file appends a [`Action::Merge`] record to the regional ledger
/// (with the SHA-256 of every national index), preceded by one [`Action::DropCountry`] or
/// [`Action::NewKey`] record per country dropped or re-keyed.
pub fn merge_with(
    out: &Path,
    nationals: &[National],
    policy: &Policy,
    options: &MergeOptions,
    on_wait: &mut dyn FnMut(Option<&LockHolder>),
) -> Result<MergeReport, MergeError> {
    check_nationals(nationals)?;
    if let Some(list) = policy.participants()
        && let Some(n) = nationals.iter().find(|n| !list.contains(&n.country))
    {
        return Err(MergeError::NotParticipant {
            country: n.country,
            participants: list
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let user = tandem_core::index::ledger::identity(options.user.as_deref())
        .map_err(MergeError::Ledger)?;
    let mut update =
        Update::begin_with(out, &options.update, on_wait).map_err(MergeError::Update)?;
    // refuse a target that is not an index before the work, not after it
    if matches!(update.existing(), Existing::Other | Existing::Damaged) {
        update.check(1).map_err(MergeError::Update)?;
    }
    let mut events: Vec<Event> = Vec::new();
    let mut rekeyed: Vec<Country> = Vec::new();
    let present = countries_in(out, update.ledger());
    for c in &options.drop_countries {
        if nationals.iter().any(|n| n.country == *c) {
            return Err(MergeError::DropGiven { country: *c });
        }
    }
    for c in &present {
        if !nationals.iter().any(|n| n.country == *c) {
            if !options.drop_countries.contains(c) {
                return Err(MergeError::WouldDropCountry { country: *c });
            }
            let mut e = Event::new(Action::DropCountry, &user);
            e.countries = vec![c.to_string()];
            events.push(e);
        }
    }
    for n in nationals {
        let key = crate::key::key_path(&n.path);
        let exists = key.exists();
        let renew = options.new_key_for.contains(&n.country);
        if renew && exists {
            return Err(MergeError::KeyPresent {
                country: n.country,
                path: key,
            });
        }
        if !exists && present.contains(&n.country) {
            if !renew {
                return Err(MergeError::KeyMissing {
                    country: n.country,
                    path: key,
                });
            }
            let mut e = Event::new(Action::NewKey, &user);
            e.countries = vec![n.country.to_string()];
            events.push(e);
            rekeyed.push(n.country);
        }
    }
    let mut expunged = references_in_force(update.ledger());
    let mut prepared = prepare(nationals, policy, &expunged)?;
    if !rekeyed.is_empty() {
        // the new keys exist now: the regional expungements of those countries follow their
        // profiles to their new references (`crate::expunge`)
        let (refs, fingerprints) = crate::expunge::carry(update.ledger(), nationals, &rekeyed)?;
        if !refs.is_empty() {
            expunged.extend(refs.iter().cloned());
            prepared = prepare(nationals, policy, &expunged)?;
            let mut e = Event::new(Action::Expunge, &user);
            e.specimens = refs.iter().map(ToString::to_string).collect();
            e.fingerprints = fingerprints;
            e.countries = rekeyed.iter().map(ToString::to_string).collect();
            e.reason = Some(
                "regional expungements in force, carried to the references of the new key".into(),
            );
            events.push(e);
        }
    }
    let (index, reused) = match build_update(out, &prepared) {
        Some(updated) => updated,
        None => (build_full(&prepared)?, 0),
    };
    let (duplicate_groups, cross_border_duplicate_groups) = duplicate_groups(&index);
    let mut report = MergeReport {
        regional_profiles: index.len(),
        duplicate_groups,
        cross_border_duplicate_groups,
        changed: true,
        reused,
        countries: prepared.into_iter().map(|p| p.report).collect(),
    };
    let mut merged = Event::new(Action::Merge, &user);
    let mut sorted: Vec<&National> = nationals.iter().collect();
    sorted.sort_by_key(|n| n.country);
    merged.countries = sorted.iter().map(|n| n.country.to_string()).collect();
    merged.inputs = sorted
        .par_iter()
        .map(|n| InputDigest::of(&n.path))
        .collect::<Result<_, _>>()
        .map_err(MergeError::Ledger)?;
    events.push(merged);
    report.changed = update
        .commit_if_changed(&index, &events)
        .map_err(MergeError::Update)?;
    Ok(report)
}
