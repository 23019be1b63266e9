//! Tandem CMF: CODIS CMF 3.2 XML (and its later releases) and lab tables, read into and written
//! from [`tandem_core::Profile`]s, streaming, with every limit of the specification enforced and
//! errors that name file, line, column (or XML path), specimen and locus.
//!
//! Data takes this path:
//!
//! ```text
//! CMF XML ──► CmfReader ──► Header + CmfSpecimen* ──► CmfWriter ──► CMF XML
//!                               │  (Profile + case id, source id, comment,
//!                               │   per-locus kit, batch, reading by/at)
//! lab table ──► table::read ────┴──► Profile* ──► table::write_wide / write_long / write_codis_export
//! ```
//!
//! * [`read`](mod@read): the streaming CMF reader ([`CmfReader`]), one specimen at a time, flat memory;
//! * [`write`](mod@write): the streaming CMF writer ([`CmfWriter`]), checked against the target
//!   [`Release`]'s schema before a byte of a specimen is written;
//! * [`specimen`]: the model ([`Header`], [`CmfSpecimen`], [`LocusInfo`], [`CmfDateTime`]);
//! * [`release`]: CMF 3.2 and the later releases: limits and value lists;
//! * [`table`]: wide, two-column, GeneMapper ID-X and CODIS-export tables;
//! * [`import`]: format detection and the strict / lenient import of any of them;
//! * [`error`]: [`ReadError`], [`WriteError`] and the [`Problem`] they report.
//!
//! ```
//! use tandem_cmf::{CmfReader, CmfWriter, ReadOptions, Release, WriteOptions};
//!
//! let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
//! <CODISImportFile xmlns="urn:CODISImportFile-schema">
//!   <HEADERVERSION>3.2</HEADERVERSION>
//!   <MESSAGETYPE>Import</MESSAGETYPE>
//!   <DESTINATIONORI>GT0000001</DESTINATIONORI>
//!   <SOURCELAB>GTINACIF1</SOURCELAB>
//!   <SUBMITBYUSERID>analyst1</SUBMITBYUSERID>
//!   <SUBMITDATETIME>2024-05-02T10:00:00</SUBMITDATETIME>
//!   <SPECIMEN CASEID="C-77" PARTIAL="true">
//!     <SPECIMENID>STAIN-1</SPECIMENID>
//!     <SPECIMENCATEGORY>Forensic, Unknown</SPECIMENCATEGORY>
//!     <LOCUS>
//!       <LOCUSNAME>THO1</LOCUSNAME>
//!       <READINGBY>analyst1</READINGBY>
//!       <READINGDATETIME>2024-05-01T09:00:00</READINGDATETIME>
//!       <ALLELE><ALLELEVALUE>&lt;6</ALLELEVALUE></ALLELE>
//!       <ALLELE ALLELEREQUIRED="true"><ALLELEVALUE>9.3</ALLELEVALUE></ALLELE>
//!     </LOCUS>
//!   </SPECIMEN>
//! </CODISImportFile>"#;
//! let mut reader = CmfReader::new(xml.as_bytes(), "stain.xml", ReadOptions::default())?;
//! let specimen = reader.next_specimen().expect("one specimen")?;
//! let th01 = tandem_core::Locus::lookup("TH01")?;
//! assert_eq!(specimen.profile.genotype(th01).map(|g| g.to_string()), Some("<6,9.3".into()));
//! assert_eq!(specimen.profile.spelling(th01), "THO1");
//! assert_eq!(specimen.case_id.as_deref(), Some("C-77"));
//!
//! // write it back as CMF 3.2: the same specimen reads back
//! let header = reader.header().clone();
//! let mut writer = CmfWriter::new(Vec::new(), &header, WriteOptions { release: Release::V3_2 })?;
//! writer.write(&specimen)?;
//! let bytes = writer.finish()?;
//! let again = CmfReader::new(&bytes[..], "out.xml", ReadOptions::default())?
//!     .next_specimen()
//!     .expect("one specimen")?;
//! assert_eq!(again, specimen);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod error;
pub mod import;
pub mod read;
pub mod release;
pub mod specimen;
pub mod synth;
pub mod table;
pub mod write;

pub use error::{Location, Problem, ReadError, WriteError};
pub use import::{Format, Import, ImportError, ImportOptions};
pub use read::{CmfReader, ReadOptions};
pub use release::Release;
pub use specimen::{CmfDateTime, CmfSpecimen, Header, LocusInfo, SourceId};
pub use table::Layout;
pub use write::{CmfWriter, WriteOptions};
