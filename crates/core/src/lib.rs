//! Tandem core: forensic STR profiles in a compact bit-packed index, searched in parallel with
//! the CODIS and Prüm matching rules.
//!
//! Data takes this path:
//!
//! ```text
//! table / CMF file ──► Profile ──► Index (codebooks, packed columns, postings)
//!                                     │
//!   query Profile + SearchOptions ────┴──► search (postings or parallel scan) ──► Vec<Hit>
//! ```
//!
//! * [`locus`]: the locus registry, aliases (`THO1` = `TH01`) and kit panels;
//! * [`allele`]: allele designations stored exactly (`9.3` is 93 tenths), off-ladder intervals and
//!   wildcards;
//! * [`genotype`] and [`profile`]: the owned profile model;
//! * [`index`]: the packed, structure-of-arrays index with per-locus codebooks and postings;
//! * [`search`]: the matching rules, the fast search and the naive reference ([`search::naive`]);
//! * [`table`]: a reader for wide lab tables (one row per specimen);
//! * [`simulate`]: deterministic synthetic profiles, degraded copies, mixtures and relatives;
//! * [`freq`], [`stats`]: allele-frequency tables, RMP/LR (Hardy-Weinberg, NRC II 4.1 and 4.10),
//!   CPI/CPE and eligibility rules, in log space ([`stats::Log10`]);
//! * [`durable`]: atomic file replacement and the one-writer lock; [`index::update`] is the one
//!   read-modify-write path of index files;
//! * [`kinship`]: kinship indices for any (k0, k1, k2) with theta, dropout and mutation, and the
//!   familial search over the index; [`compare`]: all-pairs (m, p) comparison and its expectation.
//!
//! ```
//! use tandem_core::{Genotype, Index, Locus, Profile, ProfileId, SearchOptions, Stringency};
//!
//! let d8 = Locus::lookup("D8S1179")?;
//! let d21 = Locus::lookup("D21S11")?;
//! let offender = Profile::new(ProfileId::new("OFF-1")?)
//!     .with(d8, Genotype::parse_at(d8, "13,14")?)
//!     .with(d21, Genotype::parse_at(d21, "28,31.2")?);
//! let mut index = Index::new();
//! index.add(offender)?;
//!
//! // SWGDAM worked example: D8S1179 `13` against `13,14` is a moderate match.
//! let stain = Profile::new(ProfileId::new("STAIN-1")?)
//!     .with(d8, Genotype::parse_at(d8, "13")?)
//!     .with(d21, Genotype::parse_at(d21, "28,31.2")?);
//! let options = SearchOptions { stringency: Stringency::Moderate, min_loci: 2, ..SearchOptions::default() };
//! let hits = index.search(&stain, &options);
//! assert_eq!(hits.len(), 1);
//! assert_eq!(hits[0].candidate.as_str(), "OFF-1");
//! assert_eq!(hits[0].loci_matched, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod allele;
pub mod compare;
pub mod durable;
pub mod freq;
pub mod genotype;
pub mod index;
pub mod kinship;
pub mod locus;
pub mod profile;
pub mod search;
pub mod simulate;
pub mod stats;
pub mod table;

pub use allele::Allele;
pub use freq::FreqTable;
pub use genotype::Genotype;
pub use index::{Index, IndexError};
pub use kinship::Relationship;
pub use locus::{Kit, Locus, LocusKind};
pub use profile::{Country, Profile, ProfileId, SpecimenCategory};
pub use search::{Hit, LocusResult, PrumQuality, SearchOptions, Stringency};
pub use stats::Log10;
