//! Sharing policies: which profiles of each country go into the regional index.
//!
//! A policy is a small TOML file with an optional `[default]` table and one table per country
//! (ISO 3166 alpha-2 code); a country table overrides the default field by field:
//!
//! ```toml
//! [default]
//! min_loci = 8            # loci typed on the panel (autosomal, Amelogenin and Y never count)
//! panel = "CODIS 13"      # a kit or standard set, or a list of loci; default: every autosomal locus
//! mixtures = false        # share mixtures? (default true)
//!
//! [GT]
//! categories = ["Convicted Offender", "Forensic, Unknown", "Missing Person"]  # only these
//! withhold = ["Juvenile", "Elimination, Known"]                               # never these
//! uncategorised = false   # share profiles without a category? (default true)
//! ```
//!
//! A top-level `participants = ["GT", "SV", "HN"]`, when present, lists the countries that take
//! part: a merge refuses a national index of any other country.
//!
//! Without a policy every profile is shared: a policy only restricts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use tandem_core::{Country, Kit, Locus, Profile, SpecimenCategory};

/// Why a profile stays out of the regional index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Withheld {
    /// Its category is not in the country's `categories` list, or is in `withhold`.
    Category,
    /// It has no category and the policy shares only categorised profiles.
    Uncategorised,
    /// It is a mixture and the policy withholds mixtures.
    Mixture,
    /// Fewer loci typed on the panel than `min_loci`.
    TooFewLoci,
    /// Removed from the regional index by `regional expunge` (its audit log).
    Expunged,
}

impl Withheld {
    /// Every reason, in report order.
    pub const ALL: [Withheld; 5] = [
        Withheld::Category,
        Withheld::Uncategorised,
        Withheld::Mixture,
        Withheld::TooFewLoci,
        Withheld::Expunged,
    ];

    /// The reason as a word for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Withheld::Category => "category",
            Withheld::Uncategorised => "uncategorised",
            Withheld::Mixture => "mixture",
            Withheld::TooFewLoci => "too_few_loci",
            Withheld::Expunged => "expunged",
        }
    }
}

/// The policy of one country (already combined with the default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryPolicy {
    /// Only these categories are shared (`None`: every category).
    pub categories: Option<Vec<SpecimenCategory>>,
    /// These categories are never shared.
    pub withhold: Vec<SpecimenCategory>,
    /// Share profiles with no category.
    pub uncategorised: bool,
    /// Minimum loci typed on the panel.
    pub min_loci: usize,
    /// The loci `min_loci` counts (`None`: every autosomal locus).
    pub panel: Option<Vec<Locus>>,
    /// Share mixtures.
    pub mixtures: bool,
}

impl Default for CountryPolicy {
    /// Shares everything.
    fn default() -> Self {
        CountryPolicy {
            categories: None,
            withhold: Vec::new(),
            uncategorised: true,
            min_loci: 0,
            panel: None,
            mixtures: true,
        }
    }
}

/// Alleles at one locus above which a profile counts as a mixture whatever its category
/// (single-source references carry at most 3: tri-allelic patterns, BRIEF section 2).
pub const MIXTURE_ALLELES: usize = 3;

impl CountryPolicy {
    /// Loci of `profile` that count towards `min_loci`.
    pub fn panel_loci(&self, profile: &Profile) -> usize {
        profile
            .genotypes()
            .filter(|(l, _)| self.counts_locus(*l))
            .count()
    }

    /// True for a locus `min_loci` counts: autosomal, and on the panel when there is one.
    pub fn counts_locus(&self, l: Locus) -> bool {
        l.is_counted() && self.panel.as_ref().is_none_or(|p| p.contains(&l))
    }

    /// Whether `profile` is shared, or why not.
    pub fn decide(&self, profile: &Profile) -> Result<(), Withheld> {
        self.decide_counts(
            profile.category(),
            self.panel_loci(profile),
            profile.max_alleles(),
        )
    }

    /// [`CountryPolicy::decide`] from what it looks at: the category, the loci that count
    /// ([`CountryPolicy::panel_loci`]) and the most alleles at an autosomal locus (the merge
    /// reads both counts from the code columns, [`Index::typed_loci`] and
    /// [`Index::max_alleles`]).
    ///
    /// [`Index::typed_loci`]: tandem_core::Index::typed_loci
    /// [`Index::max_alleles`]: tandem_core::Index::max_alleles
    pub fn decide_counts(
        &self,
        category: Option<SpecimenCategory>,
        panel_loci: usize,
        max_alleles: usize,
    ) -> Result<(), Withheld> {
        match category {
            Some(c)
                if self.withhold.contains(&c)
                    || self.categories.as_ref().is_some_and(|cs| !cs.contains(&c)) =>
            {
                return Err(Withheld::Category);
            }
            Some(_) => {}
            None if !self.uncategorised => return Err(Withheld::Uncategorised),
            None => {}
        }
        let mixture =
            category.is_some_and(SpecimenCategory::is_mixture) || max_alleles > MIXTURE_ALLELES;
        if !self.mixtures && mixture {
            return Err(Withheld::Mixture);
        }
        if panel_loci < self.min_loci {
            return Err(Withheld::TooFewLoci);
        }
        Ok(())
    }
}

/// A mixture: category "Forensic Mixture" or more than [`MIXTURE_ALLELES`] alleles at a locus.
pub fn is_mixture(profile: &Profile) -> bool {
    profile.category().is_some_and(SpecimenCategory::is_mixture)
        || profile.max_alleles() > MIXTURE_ALLELES
}

/// A sharing policy for every country.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    default: CountryPolicy,
    countries: BTreeMap<Country, CountryPolicy>,
    participants: Option<Vec<Country>>,
}

/// The error of reading a policy.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML, or a field of the wrong type or unknown.
    #[error("{source_name}: {message}")]
    Toml {
        /// The file (or `<policy>`).
        source_name: String,
        /// What the TOML parser said.
        message: String,
    },
    /// A table name that is not an ISO 3166 alpha-2 code or `default`.
    #[error("{source_name}: [{table}] is neither [default] nor a country code (GT, SV, HN...)")]
    UnknownCountry {
        /// The file.
        source_name: String,
        /// The table name.
        table: String,
    },
    /// A category CODIS does not know.
    #[error("{source_name}: [{table}] {field}: {source}")]
    UnknownCategory {
        /// The file.
        source_name: String,
        /// The table.
        table: String,
        /// `categories` or `withhold`.
        field: &'static str,
        /// The parse error (with the closest category).
        #[source]
        source: tandem_core::profile::CategoryError,
    },
    /// A panel that is neither a known kit nor a list of known loci, or is empty.
    #[error("{source_name}: [{table}] panel: {reason}")]
    BadPanel {
        /// The file.
        source_name: String,
        /// The table.
        table: String,
        /// What is wrong.
        reason: String,
    },
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCountry {
    categories: Option<Vec<String>>,
    withhold: Option<Vec<String>>,
    uncategorised: Option<bool>,
    min_loci: Option<usize>,
    panel: Option<RawPanel>,
    mixtures: Option<bool>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum RawPanel {
    Kit(String),
    Loci(Vec<String>),
}

impl Policy {
    /// The policy that shares every profile.
    pub fn share_all() -> Policy {
        Policy::default()
    }

    /// Reads a policy file.
    pub fn read(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Policy::parse(&text, &path.display().to_string())
    }

    /// Parses a policy; `source_name` names it in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Policy, PolicyError> {
        let toml_err = |message: String| PolicyError::Toml {
            source_name: source_name.to_string(),
            message,
        };
        let mut top: toml::Table =
            toml::from_str(text).map_err(|e| toml_err(e.message().to_string()))?;
        let mut policy = Policy::default();
        if let Some(list) = top.remove("participants") {
            let names: Vec<String> = list
                .try_into()
                .map_err(|e: toml::de::Error| toml_err(format!("participants: {}", e.message())))?;
            let mut countries = Vec::with_capacity(names.len());
            for name in names {
                countries.push(Country::from_str(&name).map_err(|_| {
                    PolicyError::UnknownCountry {
                        source_name: source_name.to_string(),
                        table: format!("participants: {name}"),
                    }
                })?);
            }
            countries.sort();
            countries.dedup();
            policy.participants = Some(countries);
        }
        let raw: BTreeMap<String, RawCountry> = toml::Value::Table(top)
            .try_into()
            .map_err(|e: toml::de::Error| toml_err(e.message().to_string()))?;
        let mut tables: Vec<(Option<Country>, RawCountry)> = Vec::new();
        for (name, table) in raw {
            if name == "default" {
                tables.insert(0, (None, table));
            } else {
                let c = Country::from_str(&name).map_err(|_| PolicyError::UnknownCountry {
                    source_name: source_name.to_string(),
                    table: name.clone(),
                })?;
                tables.push((Some(c), table));
            }
        }
        for (country, raw) in tables {
            let table = country.map_or_else(|| "default".to_string(), |c| c.to_string());
            let base = policy.default.clone();
            let p = resolve(raw, base, source_name, &table)?;
            match country {
                None => policy.default = p,
                Some(c) => {
                    policy.countries.insert(c, p);
                }
            }
        }
        Ok(policy)
    }

    /// The participating countries the policy names (`participants = ["GT", "SV", "HN"]` at the
    /// top of the file), if it names them: a merge refuses a national index of any other country.
    pub fn participants(&self) -> Option<&[Country]> {
        self.participants.as_deref()
    }

    /// The policy of `country` (the default when the file names it not).
    pub fn for_country(&self, country: Country) -> &CountryPolicy {
        self.countries.get(&country).unwrap_or(&self.default)
    }
}

fn categories(
    names: Vec<String>,
    source_name: &str,
    table: &str,
    field: &'static str,
) -> Result<Vec<SpecimenCategory>, PolicyError> {
    names
        .iter()
        .map(|n| {
            SpecimenCategory::from_str(n).map_err(|source| PolicyError::UnknownCategory {
                source_name: source_name.to_string(),
                table: table.to_string(),
                field,
                source,
            })
        })
        .collect()
}

fn resolve(
    raw: RawCountry,
    mut p: CountryPolicy,
    source_name: &str,
    table: &str,
) -> Result<CountryPolicy, PolicyError> {
    if let Some(cs) = raw.categories {
        p.categories = Some(categories(cs, source_name, table, "categories")?);
    }
    if let Some(cs) = raw.withhold {
        p.withhold = categories(cs, source_name, table, "withhold")?;
    }
    if let Some(u) = raw.uncategorised {
        p.uncategorised = u;
    }
    if let Some(n) = raw.min_loci {
        p.min_loci = n;
    }
    if let Some(m) = raw.mixtures {
        p.mixtures = m;
    }
    if let Some(panel) = raw.panel {
        let bad = |reason: String| PolicyError::BadPanel {
            source_name: source_name.to_string(),
            table: table.to_string(),
            reason,
        };
        let loci: Vec<Locus> = match panel {
            RawPanel::Kit(name) => Kit::from_str(&name)
                .map_err(|e| bad(e.to_string()))?
                .counted_loci(),
            RawPanel::Loci(names) => names
                .iter()
                .map(|n| Locus::lookup(n).map_err(|e| bad(e.to_string())))
                .collect::<Result<_, _>>()?,
        };
        let loci: Vec<Locus> = loci.into_iter().filter(|l| l.is_counted()).collect();
        if loci.is_empty() {
            return Err(bad("no autosomal locus".into()));
        }
        p.panel = Some(loci);
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn test_parse_with_default_and_country() {
        let p = Policy::parse(
            "[default]\nmin_loci = 8\npanel = \"CODIS 13\"\n[GT]\nwithhold = [\"Juvenile\"]\nmixtures = false\n",
            "p.toml",
        )
        .unwrap();
        let gt = p.for_country("GT".parse().unwrap());
        assert_eq!(gt.min_loci, 8);
        assert_eq!(gt.panel.as_ref().unwrap().len(), 13);
        assert_eq!(gt.withhold, vec![SpecimenCategory::Juvenile]);
        assert!(!gt.mixtures);
        assert!(p.for_country("SV".parse().unwrap()).mixtures);
    }

    #[test]
    fn test_parse_with_unknown_category() {
        let e =
            Policy::parse("[HN]\ncategories = [\"Convicted offender\"]\n", "p.toml").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("p.toml") && msg.contains("[HN] categories"),
            "{msg}"
        );
        assert!(matches!(e, PolicyError::UnknownCategory { .. }));
    }

    #[test]
    fn test_parse_with_bad_tables() {
        assert!(matches!(
            Policy::parse("[XX1]\n", "p").unwrap_err(),
            PolicyError::UnknownCountry { .. }
        ));
        assert!(matches!(
            Policy::parse("[GT]\nminloci = 3\n", "p").unwrap_err(),
            PolicyError::Toml { .. }
        ));
        assert!(matches!(
            Policy::parse("[GT]\npanel = \"nope\"\n", "p").unwrap_err(),
            PolicyError::BadPanel { .. }
        ));
        assert!(matches!(
            Policy::parse("[GT]\npanel = [\"AMEL\"]\n", "p").unwrap_err(),
            PolicyError::BadPanel { .. }
        ));
    }
}
