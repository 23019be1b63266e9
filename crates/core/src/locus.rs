//! STR loci: the registry of canonical loci, their aliases and the kit panels.
//!
//! Locus names are normalised (case-insensitive; spaces, `_`, `-` and `/` ignored) and then looked
//! up *exactly* in an alias table (BRIEF section 2). There is no substring matching: `DYS389I` never
//! matches inside `DYS389II`.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{OnceLock, RwLock};

/// What kind of marker a locus is; only autosomal loci are counted in matching and statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LocusKind {
    /// An autosomal STR: counted in matches and random-match statistics.
    Autosomal,
    /// Amelogenin, the sex marker: never counted as a matching locus.
    Amelogenin,
    /// A Y-chromosome marker (Y-STR or Yindel): a lineage marker, never counted in autosomal matches.
    YChromosome,
    /// An X-chromosome marker (X-STRs such as `DXS...`, `HPRTB`): inherited differently from
    /// autosomal loci, so never counted in autosomal matches or statistics.
    XChromosome,
}

/// One entry of the built-in locus registry.
struct Known {
    name: &'static str,
    kind: LocusKind,
    aliases: &'static [&'static str],
}

use LocusKind::{Amelogenin as Am, Autosomal as Au, YChromosome as Yc};

/// The built-in registry. Order matters: it is the canonical column order (CODIS 13, the 7 loci
/// added in 2017, other autosomal loci, Amelogenin, Y markers).
const KNOWN: &[Known] = &[
    // CODIS core 13 (FBI, 1998)
    Known {
        name: "CSF1PO",
        kind: Au,
        aliases: &["CSF1P0"],
    },
    Known {
        name: "FGA",
        kind: Au,
        aliases: &[],
    },
    Known {
        name: "TH01",
        kind: Au,
        aliases: &["THO1"],
    },
    Known {
        name: "TPOX",
        kind: Au,
        aliases: &["TP0X"],
    },
    Known {
        name: "vWA",
        kind: Au,
        aliases: &[],
    },
    Known {
        name: "D3S1358",
        kind: Au,
        aliases: &[],
    },
    Known {
        name: "D5S818",
        kind: Au,
        aliases: &[],
    },
    Known {
        name: "D7S820",
        kind: Au,
        aliases: &[],
    },
    Known {
        name: "D8S1179",
        kind: Au,
        aliases: &[],
    },
    Known {
        name: "D13S317",
        kind: Au,
        aliases: &[],
    },
    Known {
        name: "D16S539",
        kind: Au,
        aliases: &[],
    },
    Known {
        name: "D18S51",
        kind: Au,
        aliases: &[],
    },
    Known {
        name: "D21S11",
        kind: Au,
        aliases: &[],
    },
    // added to the CODIS core on 2017-01-01
    Known {
        name: "D1S1656",
        kind: Au,
        aliases: &[],
    },
    Known {
        name: "D2S441",
        kind: Au,
        aliases: &[],
    },
    Known {
        name: "D2S1338",
        kind: Au,
        aliases: &[],
    },
    Known {
        name: "D10S1248",
        kind: Au,
        aliases: &[],
    },
    Known {
        name: "D12S391",
        kind: Au,
        aliases: &[],
    },
    Known {
        name: "D19S433",
        kind: Au,
        aliases: &[],
    },
    Known {
        name: "D22S1045",
        kind: Au,
        aliases: &[],
    },
    // other autosomal loci found in commercial kits and in NIST 1036
    Known {
        name: "Penta D",
        kind: Au,
        aliases: &[],
    },
    Known {
        name: "Penta E",
        kind: Au,
        aliases: &[],
    },
    Known {
        name: "SE33",
        kind: Au,
        aliases: &["ACTBP2"],
    },
    Known {
        name: "D6S1043",
        kind: Au,
        aliases: &[],
    },
    Known {
        name: "FES",
        kind: Au,
        aliases: &["FESFPS"],
    },
    Known {
        name: "F13A01",
        kind: Au,
        aliases: &["F13A1"],
    },
    Known {
        name: "F13B",
        kind: Au,
        aliases: &[],
    },
    Known {
        name: "LPL",
        kind: Au,
        aliases: &[],
    },
    Known {
        name: "Penta C",
        kind: Au,
        aliases: &[],
    },
    // sex marker
    Known {
        name: "AMEL",
        kind: Am,
        aliases: &["Amelogenin", "AM"],
    },
    // Y markers of GlobalFiler, Fusion (6C), Yfiler, Yfiler Plus and PowerPlex Y23
    Known {
        name: "DYS391",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "DYS576",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "DYS570",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "Yindel",
        kind: Yc,
        aliases: &["Y indel"],
    },
    Known {
        name: "DYS19",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "DYS385",
        kind: Yc,
        aliases: &["DYS385 a/b", "DYS385ab"],
    },
    Known {
        name: "DYS389I",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "DYS389II",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "DYS390",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "DYS392",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "DYS393",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "DYS437",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "DYS438",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "DYS439",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "DYS448",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "DYS456",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "DYS458",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "DYS635",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "YGATAH4",
        kind: Yc,
        aliases: &["Y GATA H4", "GATA H4"],
    },
    Known {
        name: "DYS449",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "DYS460",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "DYS481",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "DYS518",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "DYS533",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "DYS549",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "DYS627",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "DYS643",
        kind: Yc,
        aliases: &[],
    },
    Known {
        name: "DYF387S1",
        kind: Yc,
        aliases: &[],
    },
];

/// CMF 3.2 and later: a locus element carries at most this many characters of name.
const MAX_CUSTOM_NAME: usize = 32;

/// A locus: a built-in locus of the registry or a custom one the caller allowed.
///
/// `Locus` is a small copyable handle. Built-in loci sort in registry order (CODIS 13 first);
/// custom loci sort after them in the order they were first registered.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Locus(u16);

/// The error of looking up a locus name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LocusError {
    /// The name is not a known locus or alias.
    #[error("unknown locus '{name}'{}", suggest(.closest))]
    Unknown {
        /// The name as given.
        name: String,
        /// The closest known locus names, best first (may be empty).
        closest: Vec<&'static str>,
    },
    /// The name is empty or is not a usable custom locus name.
    #[error("invalid locus name '{name}': {reason}")]
    Invalid {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

fn suggest(closest: &[&str]) -> String {
    if closest.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", closest.join(", "))
    }
}

/// Normalises a locus name for lookup: upper case, with spaces, `_`, `-` and `/` removed
/// (BRIEF section 2).
pub fn normalize_name(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '/' | '\t'))
        .flat_map(char::to_uppercase)
        .collect()
}

struct Registry {
    by_norm: HashMap<String, Locus>,
    custom: Vec<(&'static str, LocusKind)>,
}

fn registry() -> &'static RwLock<Registry> {
    static REG: OnceLock<RwLock<Registry>> = OnceLock::new();
    REG.get_or_init(|| {
        let mut by_norm = HashMap::new();
        for (i, k) in KNOWN.iter().enumerate() {
            let id = Locus(i as u16);
            by_norm.insert(normalize_name(k.name), id);
            for a in k.aliases {
                by_norm.insert(normalize_name(a), id);
            }
        }
        RwLock::new(Registry {
            by_norm,
            custom: Vec::new(),
        })
    })
}

impl Locus {
    /// Looks up a built-in locus by any of its spellings (exact after normalisation).
    ///
    /// On failure the error names the closest known loci.
    pub fn lookup(name: &str) -> Result<Locus, LocusError> {
        let norm = normalize_name(name);
        if norm.is_empty() {
            return Err(LocusError::Invalid {
                name: name.to_string(),
                reason: "empty name",
            });
        }
        let reg = registry().read().unwrap_or_else(|e| e.into_inner());
        if let Some(&l) = reg.by_norm.get(&norm) {
            return Ok(l);
        }
        drop(reg);
        Err(LocusError::Unknown {
            name: name.to_string(),
            closest: closest_known(&norm),
        })
    }

    /// Looks up a locus, registering it as a custom locus when it is not known.
    ///
    /// A custom locus whose normalised name starts with `DYS` or `DYF` is a Y marker, one that
    /// starts with `DXS` (or is `HPRTB`) an X marker; any other custom locus is autosomal.
    /// Custom loci are process-wide and live for the whole process.
    pub fn lookup_or_custom(name: &str) -> Result<Locus, LocusError> {
        match Locus::lookup(name) {
            Ok(l) => Ok(l),
            Err(LocusError::Unknown { .. }) => {
                let norm = normalize_name(name);
                let trimmed = name.trim();
                if trimmed.chars().count() > MAX_CUSTOM_NAME {
                    return Err(LocusError::Invalid {
                        name: name.to_string(),
                        reason: "custom locus names are at most 32 characters",
                    });
                }
                if trimmed
                    .chars()
                    .any(|c| c.is_control() || c == ',' || c == '|' || c == ';')
                {
                    return Err(LocusError::Invalid {
                        name: name.to_string(),
                        reason: "control characters, ',', '|' and ';' are not allowed",
                    });
                }
                let kind = if norm.starts_with("DYS") || norm.starts_with("DYF") {
                    LocusKind::YChromosome
                } else if norm.starts_with("DXS") || norm == "HPRTB" {
                    LocusKind::XChromosome
                } else {
                    LocusKind::Autosomal
                };
                let mut reg = registry().write().unwrap_or_else(|e| e.into_inner());
                if let Some(&l) = reg.by_norm.get(&norm) {
                    return Ok(l);
                }
                let idx = KNOWN.len() + reg.custom.len();
                let id = u16::try_from(idx).map_err(|_| LocusError::Invalid {
                    name: name.to_string(),
                    reason: "too many custom loci",
                })?;
                let leaked: &'static str = Box::leak(trimmed.to_string().into_boxed_str());
                reg.custom.push((leaked, kind));
                reg.by_norm.insert(norm, Locus(id));
                Ok(Locus(id))
            }
            Err(e) => Err(e),
        }
    }

    /// Looks up a locus, allowing custom loci only when `allow_custom` is true.
    pub fn parse_with(name: &str, allow_custom: bool) -> Result<Locus, LocusError> {
        if allow_custom {
            Locus::lookup_or_custom(name)
        } else {
            Locus::lookup(name)
        }
    }

    /// The canonical name (e.g. `vWA`, `Penta E`, `TH01`).
    pub fn name(self) -> &'static str {
        match KNOWN.get(self.0 as usize) {
            Some(k) => k.name,
            None => {
                let reg = registry().read().unwrap_or_else(|e| e.into_inner());
                reg.custom
                    .get(self.0 as usize - KNOWN.len())
                    .map_or("?", |c| c.0)
            }
        }
    }

    /// The kind of marker.
    pub fn kind(self) -> LocusKind {
        match KNOWN.get(self.0 as usize) {
            Some(k) => k.kind,
            None => {
                let reg = registry().read().unwrap_or_else(|e| e.into_inner());
                reg.custom
                    .get(self.0 as usize - KNOWN.len())
                    .map_or(LocusKind::Autosomal, |c| c.1)
            }
        }
    }

    /// True for autosomal loci: the only ones counted in matching and statistics.
    pub fn is_counted(self) -> bool {
        self.kind() == LocusKind::Autosomal
    }

    /// True for loci of the built-in registry.
    pub fn is_builtin(self) -> bool {
        (self.0 as usize) < KNOWN.len()
    }

    /// True for Amelogenin.
    pub fn is_amelogenin(self) -> bool {
        self.kind() == LocusKind::Amelogenin
    }

    /// Every built-in locus, in canonical order.
    pub fn builtin() -> impl Iterator<Item = Locus> {
        (0..KNOWN.len() as u16).map(Locus)
    }

    /// The stable numeric id of this locus within this process (built-ins are stable across
    /// processes; custom loci are not and must be stored by name).
    pub fn id(self) -> u16 {
        self.0
    }

    /// Shorthand used by the panel constants: panics only on a misspelt built-in name, which the
    /// unit tests cover.
    fn known(name: &str) -> Locus {
        match KNOWN.iter().position(|k| k.name == name) {
            Some(i) => Locus(i as u16),
            None => panic!("built-in locus {name} missing from the registry"),
        }
    }
}

fn closest_known(norm: &str) -> Vec<&'static str> {
    let mut scored: Vec<(f64, &'static str)> = Vec::new();
    for k in KNOWN {
        let mut best = strsim::jaro_winkler(norm, &normalize_name(k.name));
        for a in k.aliases {
            best = best.max(strsim::jaro_winkler(norm, &normalize_name(a)));
        }
        scored.push((best, k.name));
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored
        .into_iter()
        .filter(|s| s.0 >= 0.75)
        .take(3)
        .map(|s| s.1)
        .collect()
}

impl fmt::Display for Locus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Debug for Locus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Locus({})", self.name())
    }
}

impl FromStr for Locus {
    type Err = LocusError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Locus::lookup(s)
    }
}

impl serde::Serialize for Locus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Locus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Locus::lookup_or_custom(&s).map_err(serde::de::Error::custom)
    }
}

/// A named locus panel: the loci a kit types or a standard set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kit {
    /// CODIS core 13 (FBI, 1998).
    Codis13,
    /// CODIS core 20 (FBI, since 2017-01-01).
    Codis20,
    /// European Standard Set (12 loci).
    Ess,
    /// AmpFlSTR Identifiler / Identifiler Plus.
    Identifiler,
    /// PowerPlex 16.
    PowerPlex16,
    /// PowerPlex 21.
    PowerPlex21,
    /// GlobalFiler.
    GlobalFiler,
    /// PowerPlex Fusion.
    PowerPlexFusion,
    /// PowerPlex Fusion 6C.
    PowerPlexFusion6C,
    /// Investigator 24plex (QS1/QS2 quality sensors are not loci).
    Investigator24plex,
    /// VeriFiler Plus.
    VeriFilerPlus,
    /// AmpFlSTR NGM.
    Ngm,
    /// AmpFlSTR NGM SElect.
    NgmSelect,
}

const CODIS13: &[&str] = &[
    "CSF1PO", "FGA", "TH01", "TPOX", "vWA", "D3S1358", "D5S818", "D7S820", "D8S1179", "D13S317",
    "D16S539", "D18S51", "D21S11",
];
const CODIS20_EXTRA: &[&str] = &[
    "D1S1656", "D2S441", "D2S1338", "D10S1248", "D12S391", "D19S433", "D22S1045",
];
const ESS: &[&str] = &[
    "FGA", "TH01", "vWA", "D1S1656", "D2S441", "D3S1358", "D8S1179", "D10S1248", "D12S391",
    "D18S51", "D21S11", "D22S1045",
];

impl Kit {
    /// Every kit and standard panel.
    pub const ALL: &'static [Kit] = &[
        Kit::Codis13,
        Kit::Codis20,
        Kit::Ess,
        Kit::Identifiler,
        Kit::PowerPlex16,
        Kit::PowerPlex21,
        Kit::GlobalFiler,
        Kit::PowerPlexFusion,
        Kit::PowerPlexFusion6C,
        Kit::Investigator24plex,
        Kit::VeriFilerPlus,
        Kit::Ngm,
        Kit::NgmSelect,
    ];

    /// The kit's usual name.
    pub fn name(self) -> &'static str {
        match self {
            Kit::Codis13 => "CODIS 13",
            Kit::Codis20 => "CODIS 20",
            Kit::Ess => "ESS",
            Kit::Identifiler => "Identifiler",
            Kit::PowerPlex16 => "PowerPlex 16",
            Kit::PowerPlex21 => "PowerPlex 21",
            Kit::GlobalFiler => "GlobalFiler",
            Kit::PowerPlexFusion => "PowerPlex Fusion",
            Kit::PowerPlexFusion6C => "PowerPlex Fusion 6C",
            Kit::Investigator24plex => "Investigator 24plex",
            Kit::VeriFilerPlus => "VeriFiler Plus",
            Kit::Ngm => "NGM",
            Kit::NgmSelect => "NGM SElect",
        }
    }

    /// The loci the kit types, in canonical order (BRIEF section 2, kit table).
    pub fn loci(self) -> Vec<Locus> {
        let mut names: Vec<&str> = Vec::new();
        let codis20 = || CODIS13.iter().chain(CODIS20_EXTRA).copied();
        match self {
            Kit::Codis13 => names.extend(CODIS13),
            Kit::Codis20 => names.extend(codis20()),
            Kit::Ess => names.extend(ESS),
            Kit::Identifiler => {
                names.extend(CODIS13);
                names.extend(["D2S1338", "D19S433", "AMEL"]);
            }
            Kit::PowerPlex16 => {
                names.extend(CODIS13);
                names.extend(["Penta D", "Penta E", "AMEL"]);
            }
            Kit::PowerPlex21 => {
                names.extend(CODIS13);
                names.extend([
                    "D1S1656", "D2S1338", "D12S391", "D19S433", "D6S1043", "Penta D", "Penta E",
                    "AMEL",
                ]);
            }
            Kit::GlobalFiler => {
                names.extend(codis20());
                names.extend(["SE33", "DYS391", "Yindel", "AMEL"]);
            }
            Kit::PowerPlexFusion => {
                names.extend(codis20());
                names.extend(["Penta D", "Penta E", "DYS391", "AMEL"]);
            }
            Kit::PowerPlexFusion6C => {
                names.extend(codis20());
                names.extend([
                    "Penta D", "Penta E", "DYS391", "AMEL", "SE33", "DYS576", "DYS570",
                ]);
            }
            Kit::Investigator24plex => {
                names.extend(codis20());
                names.extend(["SE33", "DYS391", "AMEL"]);
            }
            Kit::VeriFilerPlus => {
                names.extend(codis20());
                names.extend(["Penta D", "Penta E", "D6S1043", "Yindel", "AMEL"]);
            }
            Kit::Ngm => {
                names.extend(ESS);
                names.extend(["D16S539", "D2S1338", "D19S433", "AMEL"]);
            }
            Kit::NgmSelect => {
                names.extend(ESS);
                names.extend(["D16S539", "D2S1338", "D19S433", "SE33", "AMEL"]);
            }
        }
        let mut loci: Vec<Locus> = names.into_iter().map(Locus::known).collect();
        loci.sort();
        loci.dedup();
        loci
    }

    /// The autosomal loci of the kit (what counts in matching).
    pub fn counted_loci(self) -> Vec<Locus> {
        self.loci().into_iter().filter(|l| l.is_counted()).collect()
    }
}

impl fmt::Display for Kit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a kit name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown kit or panel '{0}' (known: CODIS 13, CODIS 20, ESS, Identifiler, PowerPlex 16, PowerPlex 21, GlobalFiler, PowerPlex Fusion, PowerPlex Fusion 6C, Investigator 24plex, VeriFiler Plus, NGM, NGM SElect)"
)]
pub struct KitError(pub String);

impl FromStr for Kit {
    type Err = KitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n = normalize_name(s);
        let n = n.trim_start_matches("AMPFLSTR");
        let kit = match n {
            "CODIS13" | "CORE13" => Kit::Codis13,
            "CODIS20" | "CORE20" | "CODIS" => Kit::Codis20,
            "ESS" => Kit::Ess,
            "IDENTIFILER" | "IDENTIFILERPLUS" | "IDENTIFILERDIRECT" => Kit::Identifiler,
            "POWERPLEX16" | "PP16" | "POWERPLEX16HS" => Kit::PowerPlex16,
            "POWERPLEX21" | "PP21" => Kit::PowerPlex21,
            "GLOBALFILER" | "GLOBALFILEREXPRESS" => Kit::GlobalFiler,
            "POWERPLEXFUSION" | "FUSION" => Kit::PowerPlexFusion,
            "POWERPLEXFUSION6C" | "FUSION6C" => Kit::PowerPlexFusion6C,
            "INVESTIGATOR24PLEX"
            | "INVESTIGATOR24PLEXQSKIT"
            | "INVESTIGATOR24PLEXGO!KIT"
            | "24PLEX" => Kit::Investigator24plex,
            "VERIFILERPLUS" | "VERIFILER" => Kit::VeriFilerPlus,
            "NGM" => Kit::Ngm,
            "NGMSELECT" => Kit::NgmSelect,
            _ => return Err(KitError(s.to_string())),
        };
        Ok(kit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_lookup_with_aliases() {
        let cases = [
            ("vwa", "vWA"),
            ("VWA", "vWA"),
            ("THO1", "TH01"),
            ("TP0X", "TPOX"),
            ("CSF1P0", "CSF1PO"),
            ("PentaE", "Penta E"),
            ("PENTA_E", "Penta E"),
            ("penta e", "Penta E"),
            ("Penta-D", "Penta D"),
            ("FESFPS", "FES"),
            ("FES_FPS", "FES"),
            ("FES/FPS", "FES"),
            ("F13A1", "F13A01"),
            ("Amelogenin", "AMEL"),
            ("AM", "AMEL"),
            ("Amel", "AMEL"),
            ("DYS389 I", "DYS389I"),
            ("DYS389 II", "DYS389II"),
            ("Y indel", "Yindel"),
            ("DYS385 a/b", "DYS385"),
        ];
        for (given, canonical) in cases {
            assert_eq!(
                Locus::lookup(given).map(|l| l.name()),
                Ok(canonical),
                "{given}"
            );
        }
    }

    #[test]
    fn test_lookup_with_prefix_is_not_substring_match() {
        assert_ne!(Locus::lookup("DYS389I"), Locus::lookup("DYS389II"));
        assert!(Locus::lookup("DYS389").is_err());
        assert!(Locus::lookup("D8S117").is_err());
    }

    #[test]
    fn test_lookup_with_unknown_names_closest() {
        let err = Locus::lookup("D8S1197").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("D8S1179"), "{msg}");
    }

    #[test]
    fn test_kinds() {
        assert!(Locus::lookup("D3S1358").unwrap().is_counted());
        assert!(!Locus::lookup("AMEL").unwrap().is_counted());
        assert!(!Locus::lookup("DYS391").unwrap().is_counted());
        assert!(!Locus::lookup("Yindel").unwrap().is_counted());
    }

    #[test]
    fn test_kits_sizes() {
        assert_eq!(Kit::Codis13.loci().len(), 13);
        assert_eq!(Kit::Codis20.loci().len(), 20);
        assert_eq!(Kit::Ess.loci().len(), 12);
        assert_eq!(Kit::Identifiler.counted_loci().len(), 15);
        assert_eq!(Kit::PowerPlex16.counted_loci().len(), 15);
        assert_eq!(Kit::PowerPlex21.counted_loci().len(), 20);
        assert_eq!(Kit::GlobalFiler.counted_loci().len(), 21);
        assert_eq!(Kit::GlobalFiler.loci().len(), 24);
        assert_eq!(Kit::PowerPlexFusion.counted_loci().len(), 22);
        assert_eq!(Kit::PowerPlexFusion6C.counted_loci().len(), 23);
        assert_eq!(Kit::Investigator24plex.counted_loci().len(), 21);
        assert_eq!(Kit::VeriFilerPlus.counted_loci().len(), 23);
        assert_eq!(Kit::Ngm.counted_loci().len(), 15);
        assert_eq!(Kit::NgmSelect.counted_loci().len(), 16);
        for k in Kit::ALL {
            assert_eq!(k.name().parse::<Kit>(), Ok(*k));
        }
    }

    #[test]
    fn test_custom_loci() {
        assert!(Locus::lookup("D99S999").is_err());
        let l = Locus::lookup_or_custom("D99S999").unwrap();
        assert_eq!(l.name(), "D99S999");
        assert!(l.is_counted());
        assert_eq!(Locus::lookup("d99s999"), Ok(l));
        let y = Locus::lookup_or_custom("DYS999").unwrap();
        assert!(!y.is_counted());
        let x = Locus::lookup_or_custom("DXS10135").unwrap();
        assert_eq!(x.kind(), LocusKind::XChromosome);
        assert!(!x.is_counted());
    }
}
