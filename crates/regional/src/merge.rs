//! The merge: national index files in, one regional index file out.
//!
//! [`derive()`] is the pure part (verified national indexes, policy, keys -> the regional profiles
//! in canonical order and the report); [`merge`] adds the file handling: it keeps references
//! expunged from the regional index out (its audit log), writes atomically and leaves the file
//! untouched when nothing changed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHasher};
use tandem_core::index::audit::{self, ExpungeError};
use tandem_core::index::file::{self, OpenError, WriteError};
use tandem_core::{Country, Index, IndexError, Kit, Locus, Profile, ProfileId};

use crate::key::{CountryKey, KeyError};
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
    /// The audit log of the regional index could not be read.
    #[error("cannot read the expungement log of the regional index")]
    Log(#[source] ExpungeError),
    /// The regional index could not be written (the old file is unchanged).
    #[error("cannot write the regional index")]
    Write(#[source] WriteError),
    /// Another I/O error on the output.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
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
}

/// The regional profiles and the report of a merge, before anything is written.
#[derive(Debug, Clone)]
pub struct Derived {
    /// The regional profiles, sorted by reference.
    pub profiles: Vec<Profile>,
    /// The report (`changed` is true).
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

/// Derives the regional profiles from national indexes: verifies every file (fully), applies
/// the policy, replaces specimen ids by references under each country's key (created beside
/// the national index on first use), and sorts by reference. References in `expunged` stay out.
///
/// The result depends on the inputs only, never on their order or on the time.
pub fn derive(
    nationals: &[National],
    policy: &Policy,
    expunged: &BTreeSet<ProfileId>,
) -> Result<Derived, MergeError> {
    let sorted = check_nationals(nationals)?;
    let mut opened: Vec<(&National, Index)> = Vec::with_capacity(sorted.len());
    for n in &sorted {
        let index = file::verify(&n.path).map_err(|source| MergeError::Verify {
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
    let mut profiles: Vec<Profile> = Vec::new();
    let mut countries = Vec::new();
    for (n, index) in &opened {
        let key = CountryKey::load_or_create(&n.path).map_err(|source| MergeError::Key {
            country: n.country,
            source,
        })?;
        let cp = policy.for_country(n.country);
        let referencer = key.referencer(n.country);
        let national: Vec<Profile> = index.profiles().collect();
        let mut kits: BTreeMap<String, String> = BTreeMap::new();
        for p in &national {
            if let Some(k) = p.kit()
                && !kits.contains_key(k)
            {
                kits.insert(k.to_string(), canonical_kit(k));
            }
        }
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
                    let kit = p.kit().and_then(|k| kits.get(k).cloned());
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

/// Groups of identical genotype sets among `profiles`: (groups, groups spanning countries).
fn duplicates(profiles: &[Profile]) -> (usize, usize) {
    let fingerprint = |p: &Profile| {
        let mut h = FxHasher::default();
        for (l, g) in p.genotypes().filter(|(l, _)| l.is_counted()) {
            l.hash(&mut h);
            g.hash(&mut h);
        }
        h.finish()
    };
    let mut groups: FxHashMap<u64, Vec<usize>> = FxHashMap::default();
    let prints: Vec<u64> = profiles.par_iter().map(fingerprint).collect();
    for (i, f) in prints.into_iter().enumerate() {
        groups.entry(f).or_default().push(i);
    }
    let mut n = 0;
    let mut cross = 0;
    for members in groups.values().filter(|m| m.len() > 1) {
        // a hash collision is not a duplicate: compare the genotypes
        let first = &profiles[members[0]];
        let same: Vec<&Profile> = members
            .iter()
            .map(|&i| &profiles[i])
            .filter(|p| {
                p.genotypes()
                    .filter(|(l, _)| l.is_counted())
                    .eq(first.genotypes().filter(|(l, _)| l.is_counted()))
            })
            .collect();
        if same.len() > 1 {
            n += 1;
            if same.iter().any(|p| p.country() != first.country()) {
                cross += 1;
            }
        }
    }
    (n, cross)
}

/// References removed from a regional index by `regional expunge` (its audit log).
pub fn expunged_references(regional: &Path) -> Result<BTreeSet<ProfileId>, MergeError> {
    let records = audit::read_log(regional).map_err(MergeError::Log)?;
    Ok(records
        .into_iter()
        .filter(|r| r.action == "remove")
        .filter_map(|r| ProfileId::new(&r.specimen).ok())
        .collect())
}

/// Merges national indexes into the regional index file `out`: [`derive()`] with the references
/// expunged from `out` kept out, then an atomic write. When `out` already holds exactly the
/// result, it is left untouched (`changed` is false). On any error `out` is unchanged.
pub fn merge(
    out: &Path,
    nationals: &[National],
    policy: &Policy,
) -> Result<MergeReport, MergeError> {
    let expunged = expunged_references(out)?;
    let Derived {
        profiles,
        mut report,
    } = derive(nationals, policy, &expunged)?;
    let index = Index::from_profiles(&profiles).map_err(MergeError::Index)?;
    profiles.into_par_iter().for_each(drop);
    report.changed = write_if_changed(&index, out)?;
    Ok(report)
}

/// Writes `index` to `out` atomically unless `out` already holds the same bytes. Returns whether
/// the file changed.
pub fn write_if_changed(index: &Index, out: &Path) -> Result<bool, MergeError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| MergeError::Io { path, source }
    };
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "regional".into());
    let tmp = dir.join(format!(".{name}.merge-{}", std::process::id()));
    index.write(&tmp).map_err(MergeError::Write)?;
    let same = match (std::fs::read(&tmp), std::fs::read(out)) {
        (Ok(new), Ok(old)) => new == old,
        _ => false,
    };
    if same {
        std::fs::remove_file(&tmp).map_err(io(&tmp))?;
        return Ok(false);
    }
    if let Err(e) = std::fs::rename(&tmp, out) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(out)(e));
    }
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(io(&dir))?;
    Ok(true)
}
