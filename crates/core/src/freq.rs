//! Allele-frequency tables: one or more populations, each with per-locus allele frequencies and
//! the sample size they were estimated from, and the NRC II minimum allele frequency.
//!
//! Two layouts are read (BRIEF section 5), recognised from the header:
//!
//! * **long**: `population,locus,allele,frequency[,count,n_alleles]` in any column order, extra
//!   columns ignored (`source`, `locus_std` ...; when `locus_std` is present it is preferred to
//!   `locus`). Several populations per file. `n_alleles` is 2N (N individuals); without it a
//!   column `n` or `n_individuals` gives N. Without a `frequency` column, `count / n_alleles`.
//! * **wide** (STRmix- and EuroForMix-style): a first column `Allele`, then one column per locus;
//!   an empty cell means the allele is not listed at that locus; an optional last row whose
//!   first cell is `N` gives the number of individuals per locus. One population per file, named
//!   after the file (its stem).
//!
//! Frequencies are never compiled into the code: the shipped tables are in `testdata/`
//! (NIST 1036 and FBI 2015; provenance in `testdata/README.md`).
//!
//! **Minimum allele frequency** (NRC II 1996): 5/(2N), N individuals in the sample; it
//! replaces any smaller frequency and is the frequency of an allele the table does not list.
//! When N is unknown (no `n_alleles` column, no `N` row), N is bounded from the smallest
//! frequency p_min listed at the locus: an allele listed was seen at least once, so
//! 2N >= 1/p_min and 5 p_min >= 5/(2N). The floor is then 5 p_min, never smaller than the true
//! 5/(2N) (conservative). [`MinFrequency`] makes the rule configurable.
//!
//! ```
//! use tandem_core::freq::{FreqOptions, FreqTable};
//! use tandem_core::{Allele, Locus};
//!
//! let csv = "population,locus,allele,frequency,count,n_alleles\n\
//!            Hisp,TH01,6,0.25,151,604\nHisp,TH01,9.3,0.75,453,604\n";
//! let table = FreqTable::read(csv.as_bytes(), "hisp.csv", &FreqOptions::default())?;
//! let th01 = table.population("Hisp")?.locus(Locus::lookup("TH01")?).expect("TH01 listed");
//! assert_eq!(th01.frequency(Allele::Repeat(93)), Some(0.75));
//! // NRC II: an unseen allele gets 5/(2N) with N = 604 / 2 = 302
//! assert!((th01.frequency(Allele::Repeat(80)).unwrap() - 0.008278).abs() < 1e-6);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use crate::allele::{Allele, AlleleError};
use crate::genotype::Genotype;
use crate::locus::{Locus, LocusError, normalize_name};
use crate::profile::Profile;

/// How the minimum allele frequency is set.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum MinFrequency {
    /// NRC II (1996): 5/(2N), N individuals in the sample; 5 p_min when N is unknown (see the
    /// module documentation). The default.
    Nrc2,
    /// A fixed floor for every locus.
    Fixed(f64),
    /// No floor: frequencies as listed; an allele the table does not list has frequency 0.
    None,
}

/// Options of reading or estimating a frequency table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FreqOptions {
    /// The minimum allele frequency rule.
    pub min_frequency: MinFrequency,
}

impl Default for FreqOptions {
    /// The NRC II minimum allele frequency.
    fn default() -> Self {
        FreqOptions {
            min_frequency: MinFrequency::Nrc2,
        }
    }
}

/// The allele frequencies of one locus in one population.
#[derive(Debug, Clone, PartialEq)]
pub struct LocusFreqs {
    /// Listed alleles in ladder order with their frequency as listed.
    alleles: Vec<(Allele, f64)>,
    /// Individuals in the sample, if known.
    individuals: Option<f64>,
    /// The minimum allele frequency in force.
    floor: f64,
}

impl LocusFreqs {
    /// Frequencies as listed (any order; duplicates add up), with the sample size if known.
    /// Frequencies must be finite and in `[0, 1]`; the caller checks that.
    pub fn new(
        alleles: Vec<(Allele, f64)>,
        individuals: Option<f64>,
        rule: MinFrequency,
    ) -> LocusFreqs {
        let mut alleles = alleles;
        alleles.sort_by_key(|a| a.0);
        let mut merged: Vec<(Allele, f64)> = Vec::with_capacity(alleles.len());
        for (a, f) in alleles {
            match merged.last_mut() {
                Some(last) if last.0 == a => last.1 += f,
                _ => merged.push((a, f)),
            }
        }
        let mut lf = LocusFreqs {
            alleles: merged,
            individuals,
            floor: 0.0,
        };
        lf.set_rule(rule);
        lf
    }

    /// Recomputes the minimum allele frequency under `rule`.
    pub fn set_rule(&mut self, rule: MinFrequency) {
        self.floor = match rule {
            MinFrequency::None => 0.0,
            MinFrequency::Fixed(f) => f.clamp(0.0, 1.0),
            MinFrequency::Nrc2 => match self.individuals {
                Some(n) if n > 0.0 => (5.0 / (2.0 * n)).min(1.0),
                _ => {
                    let p_min = self
                        .alleles
                        .iter()
                        .map(|a| a.1)
                        .filter(|&f| f > 0.0)
                        .fold(f64::INFINITY, f64::min);
                    if p_min.is_finite() {
                        (5.0 * p_min).min(1.0)
                    } else {
                        0.0
                    }
                }
            },
        };
    }

    /// The listed alleles in ladder order with their frequencies as listed (before the floor).
    pub fn alleles(&self) -> &[(Allele, f64)] {
        &self.alleles
    }

    /// Individuals in the sample (N), if known.
    pub fn individuals(&self) -> Option<f64> {
        self.individuals
    }

    /// The minimum allele frequency in force at this locus.
    pub fn min_frequency(&self) -> f64 {
        self.floor
    }

    /// The frequency used for an allele in statistics:
    ///
    /// * a listed designation (including a listed off-ladder value such as `>27`): its listed
    ///   frequency, raised to the minimum allele frequency;
    /// * an exact repeat number not listed: the minimum allele frequency;
    /// * an interval not listed (`<8`, `>15`, `8.x`): the sum of the (floored) frequencies of the
    ///   listed alleles it may stand for, at least the minimum, at most 1 (the conservative
    ///   reading of an interval);
    /// * `OL` and `R` (rare, outside the ladder): the minimum allele frequency;
    /// * `F`/`*` wildcards and the Amelogenin `X`/`Y`: `None` (no frequency; the caller decides).
    pub fn frequency(&self, allele: Allele) -> Option<f64> {
        if let Some(&(_, f)) = self.alleles.iter().find(|(a, _)| *a == allele) {
            return Some(f.max(self.floor).min(1.0));
        }
        match allele {
            Allele::Wildcard | Allele::X | Allele::Y => None,
            Allele::Repeat(_) | Allele::OffLadder | Allele::Rare => Some(self.floor),
            Allele::Below(_) | Allele::Above(_) | Allele::AnyMicrovariant(_) => {
                let sum: f64 = self
                    .alleles
                    .iter()
                    .filter(|(a, _)| a.is_exact() && allele.is_consistent_with(*a))
                    .map(|&(_, f)| f.max(self.floor))
                    .sum();
                Some(sum.max(self.floor).min(1.0))
            }
        }
    }

    /// Sum of the listed frequencies (before the floor); about 1 for a complete table.
    pub fn total(&self) -> f64 {
        self.alleles.iter().map(|a| a.1).sum()
    }
}

/// The allele frequencies of one population.
#[derive(Debug, Clone, PartialEq)]
pub struct Population {
    name: String,
    loci: BTreeMap<Locus, LocusFreqs>,
}

impl Population {
    /// A population from per-locus frequencies.
    pub fn new(name: &str, loci: BTreeMap<Locus, LocusFreqs>) -> Population {
        Population {
            name: name.to_string(),
            loci,
        }
    }

    /// The population's name as written in the table.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The frequencies at a locus, if the table lists it.
    pub fn locus(&self, locus: Locus) -> Option<&LocusFreqs> {
        self.loci.get(&locus)
    }

    /// Every listed locus, in canonical order.
    pub fn loci(&self) -> impl Iterator<Item = (Locus, &LocusFreqs)> + '_ {
        self.loci.iter().map(|(l, f)| (*l, f))
    }

    /// Rows `(locus, allele, frequency)` of the exact repeat alleles, for
    /// [`crate::simulate::AllelePools::from_frequencies`] (off-ladder rows such as `>27` are left
    /// out: a simulator draws exact alleles only).
    pub fn pool_rows(&self) -> Vec<(Locus, Allele, f64)> {
        let mut rows = Vec::new();
        for (&l, f) in &self.loci {
            for &(a, p) in &f.alleles {
                if matches!(a, Allele::Repeat(_)) && p > 0.0 {
                    rows.push((l, a, p));
                }
            }
        }
        rows
    }
}

/// A frequency table: one or more populations.
#[derive(Debug, Clone, PartialEq)]
pub struct FreqTable {
    populations: Vec<Population>,
}

/// The error of reading a frequency table. Row errors name the file, the 1-based line and
/// column.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FreqError {
    /// The file could not be opened or read.
    #[error("{file}: cannot read")]
    Io {
        /// The file.
        file: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The CSV structure is broken, or the file is not UTF-8.
    #[error("{file}, line {line}: malformed table: {reason}")]
    Malformed {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// The header is neither the long nor the wide layout.
    #[error("{file}, line 1: not a frequency table: {reason}")]
    Header {
        /// The file.
        file: String,
        /// What is missing.
        reason: String,
    },
    /// A locus name is not known.
    #[error("{file}, line {line}, column {column}: {source}")]
    Locus {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// The lookup error (with the closest names).
        #[source]
        source: LocusError,
    },
    /// An allele designation does not parse.
    #[error("{file}, line {line}, column {column}: {source}")]
    Allele {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// The parse error.
        #[source]
        source: AlleleError,
    },
    /// A frequency, count or sample size is not a number in range.
    #[error("{file}, line {line}, column {column}: {what} '{value}': {reason}")]
    Number {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// Which field.
        what: &'static str,
        /// The value as written.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The same population, locus and allele appear twice.
    #[error(
        "{file}, line {line}: population '{population}', locus {locus}, allele {allele} listed twice"
    )]
    Duplicate {
        /// The file.
        file: String,
        /// 1-based line of the second occurrence.
        line: u64,
        /// The population.
        population: String,
        /// The locus.
        locus: Locus,
        /// The allele.
        allele: Allele,
    },
    /// The table lists no frequency at all.
    #[error("{file}: no allele frequency in the table")]
    Empty {
        /// The file.
        file: String,
    },
}

/// The error of choosing a population.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PopulationError {
    /// No population has this name.
    #[error("no population '{name}' in the frequency table (known: {})", .known.join(", "))]
    Unknown {
        /// The name asked for.
        name: String,
        /// The populations of the table.
        known: Vec<String>,
    },
    /// The table has several populations and none was named.
    #[error("the frequency table has {} populations; name one (known: {})", .known.len(), .known.join(", "))]
    Ambiguous {
        /// The populations of the table.
        known: Vec<String>,
    },
}

/// Raw rows of one population while reading: locus -> (alleles, individuals).
type RawPop = BTreeMap<Locus, (Vec<(Allele, f64)>, Option<f64>)>;

impl FreqTable {
    /// A table from populations (e.g. built in code by a LIMS).
    pub fn new(populations: Vec<Population>) -> FreqTable {
        FreqTable { populations }
    }

    /// Reads a table from a file, long or wide layout; errors name the file by its path.
    pub fn read_path(path: &Path, opts: &FreqOptions) -> Result<FreqTable, FreqError> {
        let name = path.display().to_string();
        let f = File::open(path).map_err(|source| FreqError::Io {
            file: name.clone(),
            source,
        })?;
        FreqTable::read(f, &name, opts)
    }

    /// Reads a table; `source_name` names the input in errors and (its file stem) names the
    /// population of a wide table or of a long table without a `population` column.
    pub fn read<R: Read>(
        mut reader: R,
        source_name: &str,
        opts: &FreqOptions,
    ) -> Result<FreqTable, FreqError> {
        let file = || source_name.to_string();
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .map_err(|source| FreqError::Io {
                file: file(),
                source,
            })?;
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                let line = 1 + upto.iter().filter(|&&b| b == b'\n').count() as u64;
                return Err(FreqError::Malformed {
                    file: file(),
                    line,
                    reason: "not valid UTF-8".into(),
                });
            }
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let first = text.lines().next().unwrap_or("");
        let delimiter = if first.matches('\t').count() > first.matches(',').count() {
            b'\t'
        } else {
            b','
        };
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        let mut rows: Vec<(u64, Vec<String>)> = Vec::new();
        for rec in csv.records() {
            let rec = rec.map_err(|e| FreqError::Malformed {
                file: file(),
                line: e.position().map_or(0, |p| p.line()),
                reason: e.to_string(),
            })?;
            let line = rec.position().map_or(0, |p| p.line());
            if rec.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            rows.push((line, rec.iter().map(|c| c.trim().to_string()).collect()));
        }
        let Some((_, header)) = rows.first() else {
            return Err(FreqError::Header {
                file: file(),
                reason: "empty file".into(),
            });
        };
        let stem = Path::new(source_name)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or(source_name)
            .to_string();
        let norm: Vec<String> = header.iter().map(|h| normalize_name(h)).collect();
        let raw = if norm.iter().any(|h| h == "ALLELE")
            && norm.iter().any(|h| h == "FREQUENCY" || h == "COUNT")
        {
            read_long(&rows, &norm, source_name, &stem)?
        } else if norm.first().is_some_and(|h| h == "ALLELE") {
            read_wide(&rows, source_name, &stem)?
        } else {
            return Err(FreqError::Header {
                file: file(),
                reason: "expected columns 'population, locus, allele, frequency' (long) or a first column 'Allele' followed by loci (wide)".into(),
            });
        };
        let populations: Vec<Population> = raw
            .into_iter()
            .map(|(name, loci)| {
                let loci = loci
                    .into_iter()
                    .map(|(l, (alleles, n))| (l, LocusFreqs::new(alleles, n, opts.min_frequency)))
                    .collect();
                Population { name, loci }
            })
            .collect();
        if populations
            .iter()
            .all(|p| p.loci.values().all(|l| l.alleles.is_empty()))
        {
            return Err(FreqError::Empty { file: file() });
        }
        Ok(FreqTable { populations })
    }

    /// Allele frequencies estimated from a profile database, for when no table is given.
    ///
    /// Estimator (documented in `docs/STATISTICS.md`): at each autosomal locus, allele counts over
    /// the profiles typed there with one or two exact alleles (a single allele counts twice, as a
    /// homozygote; mixtures, tri-allelic genotypes and genotypes with wildcards or off-ladder
    /// values are left out of that locus). Frequency = count / 2N, N = profiles counted at the
    /// locus; the minimum allele frequency follows `opts` with that N.
    pub fn estimate(profiles: &[Profile], name: &str, opts: &FreqOptions) -> FreqTable {
        let mut counts: BTreeMap<Locus, (BTreeMap<Allele, f64>, f64)> = BTreeMap::new();
        for p in profiles {
            for (l, g) in p.genotypes() {
                if !l.is_counted() || g.len() > 2 || !g.is_exact() {
                    continue;
                }
                let entry = counts.entry(l).or_default();
                entry.1 += 1.0;
                let copies = if g.is_single() { 2.0 } else { 1.0 };
                for &a in g.alleles() {
                    *entry.0.entry(a).or_insert(0.0) += copies;
                }
            }
        }
        let loci = counts
            .into_iter()
            .map(|(l, (c, n))| {
                let alleles = c.into_iter().map(|(a, k)| (a, k / (2.0 * n))).collect();
                (l, LocusFreqs::new(alleles, Some(n), opts.min_frequency))
            })
            .collect();
        FreqTable {
            populations: vec![Population {
                name: name.to_string(),
                loci,
            }],
        }
    }

    /// Every population, in the order of the file.
    pub fn populations(&self) -> &[Population] {
        &self.populations
    }

    /// The population with this name (exact, then case-insensitive).
    pub fn population(&self, name: &str) -> Result<&Population, PopulationError> {
        self.populations
            .iter()
            .find(|p| p.name == name)
            .or_else(|| {
                self.populations
                    .iter()
                    .find(|p| p.name.eq_ignore_ascii_case(name))
            })
            .ok_or_else(|| PopulationError::Unknown {
                name: name.to_string(),
                known: self.names(),
            })
    }

    /// The named population, or the only one when `name` is `None`.
    pub fn select(&self, name: Option<&str>) -> Result<&Population, PopulationError> {
        match name {
            Some(n) => self.population(n),
            None => match self.populations.as_slice() {
                [only] => Ok(only),
                _ => Err(PopulationError::Ambiguous {
                    known: self.names(),
                }),
            },
        }
    }

    /// The names of the populations.
    pub fn names(&self) -> Vec<String> {
        self.populations.iter().map(|p| p.name.clone()).collect()
    }

    /// Applies another minimum-frequency rule to every locus.
    pub fn set_rule(&mut self, rule: MinFrequency) {
        for p in &mut self.populations {
            for l in p.loci.values_mut() {
                l.set_rule(rule);
            }
        }
    }
}

/// Parses a number that must be finite and within `[lo, hi]`.
fn number(
    s: &str,
    what: &'static str,
    lo: f64,
    hi: f64,
    at: (&str, u64, usize),
) -> Result<f64, FreqError> {
    let err = |reason| FreqError::Number {
        file: at.0.to_string(),
        line: at.1,
        column: at.2,
        what,
        value: s.to_string(),
        reason,
    };
    let v: f64 = s.parse().map_err(|_| err("not a number"))?;
    if !v.is_finite() {
        return Err(err("not a finite number"));
    }
    if v < lo || v > hi {
        return Err(err(if hi <= 1.0 {
            "out of range [0, 1]"
        } else {
            "negative"
        }));
    }
    Ok(v)
}

fn lookup_locus(name: &str, at: (&str, u64, usize)) -> Result<Locus, FreqError> {
    Locus::lookup(name).map_err(|source| FreqError::Locus {
        file: at.0.to_string(),
        line: at.1,
        column: at.2,
        source,
    })
}

fn parse_allele(s: &str, at: (&str, u64, usize)) -> Result<Allele, FreqError> {
    s.parse::<Allele>().map_err(|source| FreqError::Allele {
        file: at.0.to_string(),
        line: at.1,
        column: at.2,
        source,
    })
}

fn read_long(
    rows: &[(u64, Vec<String>)],
    norm: &[String],
    file: &str,
    stem: &str,
) -> Result<Vec<(String, RawPop)>, FreqError> {
    let col = |names: &[&str]| names.iter().find_map(|n| norm.iter().position(|h| h == n));
    let population = col(&["POPULATION", "POP"]);
    let locus = col(&["LOCUSSTD", "LOCUS", "MARKER"]).ok_or_else(|| FreqError::Header {
        file: file.to_string(),
        reason: "no 'locus' column".into(),
    })?;
    let allele = col(&["ALLELE"]).unwrap_or(0);
    let frequency = col(&["FREQUENCY", "FREQ"]);
    let count = col(&["COUNT"]);
    let n_alleles = col(&["NALLELES", "2N"]);
    let n_individuals = col(&["N", "NINDIVIDUALS"]);
    if frequency.is_none() && (count.is_none() || n_alleles.is_none()) {
        return Err(FreqError::Header {
            file: file.to_string(),
            reason: "no 'frequency' column (or 'count' and 'n_alleles')".into(),
        });
    }
    let mut pops: Vec<(String, RawPop)> = Vec::new();
    let mut seen: BTreeMap<(usize, Locus, Allele), u64> = BTreeMap::new();
    for (line, cells) in rows.iter().skip(1) {
        let line = *line;
        let cell = |c: usize| cells.get(c).map_or("", String::as_str);
        let at = |c: usize| (file, line, c + 1);
        let pop_name = population.map_or(stem, |c| cell(c));
        let l = lookup_locus(cell(locus), at(locus))?;
        let a = parse_allele(cell(allele), at(allele))?;
        let na = match n_alleles {
            Some(c) if !cell(c).is_empty() => {
                Some(number(cell(c), "n_alleles", 0.0, f64::MAX, at(c))?)
            }
            _ => None,
        };
        let n = match (na, n_individuals) {
            (Some(na), _) => Some(na / 2.0),
            (None, Some(c)) if !cell(c).is_empty() => {
                Some(number(cell(c), "n", 0.0, f64::MAX, at(c))?)
            }
            _ => None,
        };
        let f = match frequency {
            Some(c) => number(cell(c), "frequency", 0.0, 1.0, at(c))?,
            None => {
                let (Some(cc), Some(nc)) = (count, n_alleles) else {
                    continue;
                };
                let k = number(cell(cc), "count", 0.0, f64::MAX, at(cc))?;
                let na = number(cell(nc), "n_alleles", 0.0, f64::MAX, at(nc))?;
                if na <= 0.0 {
                    return Err(FreqError::Number {
                        file: file.to_string(),
                        line,
                        column: nc + 1,
                        what: "n_alleles",
                        value: cell(nc).to_string(),
                        reason: "must be positive",
                    });
                }
                (k / na).min(1.0)
            }
        };
        let pi = match pops.iter().position(|p| p.0 == pop_name) {
            Some(i) => i,
            None => {
                pops.push((pop_name.to_string(), BTreeMap::new()));
                pops.len() - 1
            }
        };
        if seen.insert((pi, l, a), line).is_some() {
            return Err(FreqError::Duplicate {
                file: file.to_string(),
                line,
                population: pop_name.to_string(),
                locus: l,
                allele: a,
            });
        }
        let entry = pops[pi].1.entry(l).or_default();
        entry.0.push((a, f));
        // rows of one locus may disagree on N (NIST 1036): keep the smallest (largest floor)
        if let Some(n) = n {
            entry.1 = Some(entry.1.map_or(n, |m: f64| m.min(n)));
        }
    }
    Ok(pops)
}

fn read_wide(
    rows: &[(u64, Vec<String>)],
    file: &str,
    stem: &str,
) -> Result<Vec<(String, RawPop)>, FreqError> {
    let header = &rows[0].1;
    let mut loci = Vec::new();
    for (c, h) in header.iter().enumerate().skip(1) {
        if h.is_empty() {
            loci.push(None);
            continue;
        }
        loci.push(Some(lookup_locus(h, (file, rows[0].0, c + 1))?));
    }
    let mut pop: RawPop = BTreeMap::new();
    let mut seen: BTreeMap<(Locus, Allele), u64> = BTreeMap::new();
    for (line, cells) in rows.iter().skip(1) {
        let line = *line;
        let first = cells.first().map_or("", String::as_str);
        let is_n = first.eq_ignore_ascii_case("n");
        let allele = if is_n {
            None
        } else {
            Some(parse_allele(first, (file, line, 1))?)
        };
        for (i, cellv) in cells.iter().enumerate().skip(1) {
            if cellv.is_empty() || cellv.eq_ignore_ascii_case("na") {
                continue;
            }
            let Some(Some(l)) = loci.get(i - 1) else {
                return Err(FreqError::Malformed {
                    file: file.to_string(),
                    line,
                    reason: format!("value '{cellv}' in column {} without a locus header", i + 1),
                });
            };
            let at = (file, line, i + 1);
            let entry = pop.entry(*l).or_default();
            match allele {
                None => entry.1 = Some(number(cellv, "N", 0.0, f64::MAX, at)?),
                Some(a) => {
                    let f = number(cellv, "frequency", 0.0, 1.0, at)?;
                    if f == 0.0 {
                        continue;
                    }
                    if seen.insert((*l, a), line).is_some() {
                        return Err(FreqError::Duplicate {
                            file: file.to_string(),
                            line,
                            population: stem.to_string(),
                            locus: *l,
                            allele: a,
                        });
                    }
                    entry.0.push((a, f));
                }
            }
        }
    }
    Ok(vec![(stem.to_string(), pop)])
}

/// Frequencies of a genotype's alleles at a locus, for callers that need them all: `None` when
/// an allele has no frequency (a wildcard).
pub fn genotype_frequencies(freqs: &LocusFreqs, g: &Genotype) -> Option<Vec<f64>> {
    g.alleles().iter().map(|&a| freqs.frequency(a)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testdata(name: &str) -> std::path::PathBuf {
        [env!("CARGO_MANIFEST_DIR"), "..", "..", "testdata", name]
            .iter()
            .collect()
    }

    #[test]
    fn test_read_with_shipped_tables() {
        let nist = FreqTable::read_path(
            &testdata("nist1036_allele_freqs.csv"),
            &FreqOptions::default(),
        )
        .unwrap();
        for name in ["AfAm", "Cauc", "Hisp", "Asian"] {
            assert!(nist.names().iter().any(|n| n == name), "{name}");
        }
        let cauc = nist.population("Cauc").unwrap();
        let th01 = cauc.locus(Locus::lookup("TH01").unwrap()).unwrap();
        assert_eq!(th01.individuals(), Some(361.0));
        assert!((th01.min_frequency() - 5.0 / 722.0).abs() < 1e-12);
        assert!((th01.total() - 1.0).abs() < 1e-3);
        let fbi = FreqTable::read_path(
            &testdata("fbi2015_allele_freqs.csv"),
            &FreqOptions::default(),
        )
        .unwrap();
        assert_eq!(fbi.populations().len(), 12);
        let se = fbi.population("se hispanic").unwrap();
        let d18 = se.locus(Locus::lookup("D18S51").unwrap()).unwrap();
        // the listed off-ladder designation `>27` keeps its own frequency
        assert_eq!(
            d18.frequency(Allele::Above(270)),
            Some(0.001901f64.max(d18.min_frequency()))
        );
        assert!(fbi.population("Penta").is_err());
        assert!(
            fbi.population("Caucasian")
                .unwrap()
                .locus(Locus::lookup("Penta E").unwrap())
                .is_some()
        );
    }

    #[test]
    fn test_min_frequency_with_nrc2_example() {
        // NRC II: N = 302 individuals gives 5/604 = 0.00828
        let lf = LocusFreqs::new(
            vec![(Allele::Repeat(100), 0.5), (Allele::Repeat(110), 0.5)],
            Some(302.0),
            MinFrequency::Nrc2,
        );
        assert!((lf.min_frequency() - 0.008278).abs() < 1e-6);
        assert_eq!(lf.frequency(Allele::Repeat(120)), Some(lf.min_frequency()));
        assert_eq!(lf.frequency(Allele::Wildcard), None);
        // unknown N: 5 p_min
        let lf = LocusFreqs::new(
            vec![(Allele::Repeat(100), 0.99), (Allele::Repeat(110), 0.01)],
            None,
            MinFrequency::Nrc2,
        );
        assert!((lf.min_frequency() - 0.05).abs() < 1e-12);
        // intervals sum what they may stand for
        let lf = LocusFreqs::new(
            vec![
                (Allele::Repeat(150), 0.5),
                (Allele::Repeat(160), 0.3),
                (Allele::Repeat(170), 0.2),
            ],
            Some(1000.0),
            MinFrequency::Nrc2,
        );
        assert!((lf.frequency(Allele::Above(150)).unwrap() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn test_read_wide_and_errors() {
        let wide = "Allele,TH01,vWA\n6,0.2,\n9.3,0.8,\n16,,0.6\n17,,0.4\nN,100,50\n";
        let t =
            FreqTable::read(wide.as_bytes(), "dir/mytable.csv", &FreqOptions::default()).unwrap();
        let p = t.select(None).unwrap();
        assert_eq!(p.name(), "mytable");
        let vwa = p.locus(Locus::lookup("vWA").unwrap()).unwrap();
        assert_eq!(vwa.individuals(), Some(50.0));
        assert_eq!(vwa.alleles().len(), 2);
        let bad = "Allele,TH01\n6,abc\n";
        let e = FreqTable::read(bad.as_bytes(), "t.csv", &FreqOptions::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv, line 2, column 2: frequency 'abc': not a number"
        );
        let bad = "population,locus,allele,frequency\nX,D8S1197,13,0.5\n";
        let e = FreqTable::read(bad.as_bytes(), "t.csv", &FreqOptions::default()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("t.csv, line 2, column 2: unknown locus 'D8S1197'"),
            "{e}"
        );
        let bad = "population,locus,allele,frequency\nX,TH01,6,1.5\n";
        assert!(FreqTable::read(bad.as_bytes(), "t.csv", &FreqOptions::default()).is_err());
        let dup = "population,locus,allele,frequency\nX,TH01,6,0.5\nX,TH01,6.0,0.5\n";
        let e = FreqTable::read(dup.as_bytes(), "t.csv", &FreqOptions::default()).unwrap_err();
        assert!(matches!(e, FreqError::Duplicate { line: 3, .. }), "{e}");
        assert!(FreqTable::read("".as_bytes(), "t.csv", &FreqOptions::default()).is_err());
        assert!(
            FreqTable::read(
                "\u{feff}a,b\n1,2\n".as_bytes(),
                "t.csv",
                &FreqOptions::default()
            )
            .is_err()
        );
        assert!(
            FreqTable::read(
                &b"Allele,TH01\n6,\xff\n"[..],
                "t.csv",
                &FreqOptions::default()
            )
            .is_err()
        );
    }

    #[test]
    fn test_estimate_from_profiles() {
        let th01 = Locus::lookup("TH01").unwrap();
        let mk = |id: &str, cell: &str| {
            Profile::new(crate::ProfileId::new(id).unwrap())
                .with(th01, Genotype::parse_at(th01, cell).unwrap())
        };
        let profiles = vec![
            mk("a", "6,7"),
            mk("b", "6"),
            mk("c", "6,F"),
            mk("d", "7,8,9"),
        ];
        let t = FreqTable::estimate(&profiles, "db", &FreqOptions::default());
        let lf = t.select(None).unwrap().locus(th01).unwrap();
        assert_eq!(lf.individuals(), Some(2.0));
        assert_eq!(
            lf.alleles(),
            &[(Allele::Repeat(60), 0.75), (Allele::Repeat(70), 0.25)]
        );
    }
}
