//! One entry point for every input format: detection from content (and extension), reading,
//! and the strict and lenient policies.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::str::FromStr;

use crate::error::ReadError;
use crate::read as cmf_read;
use crate::specimen::{CmfSpecimen, Header};
use crate::table::{self, Layout, TableReadError};

/// A file format of profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// CODIS CMF XML.
    Cmf,
    /// A table of the given layout.
    Table(Layout),
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Format::Cmf => f.write_str("CMF"),
            Format::Table(l) => f.write_str(l.name()),
        }
    }
}

/// The error of parsing a format name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format '{0}' (expected cmf, csv, tsv, wide, long, genemapper or codis-export)")]
pub struct FormatError(pub String);

impl FromStr for Format {
    type Err = FormatError;
    /// `cmf`/`xml`, `csv`/`tsv`/`wide`, `long`/`genemapper`, `codis-export`/`codis`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "cmf" | "xml" => Ok(Format::Cmf),
            "csv" | "tsv" | "wide" => Ok(Format::Table(Layout::Wide)),
            "long" | "genemapper" => Ok(Format::Table(Layout::GeneMapper)),
            "codis-export" | "codis" => Ok(Format::Table(Layout::CodisExport)),
            _ => Err(FormatError(s.to_string())),
        }
    }
}

/// How to import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// CMF rules (release, custom loci).
    pub cmf: cmf_read::ReadOptions,
    /// Table options.
    pub table: table::ReadOptions,
    /// Lenient: import the good specimens and report the rejected ones. Strict (default): a
    /// single rejected specimen fails the import and nothing is imported.
    pub lenient: bool,
}

/// What an import returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The format read.
    pub format: Format,
    /// The CMF header (CMF input only).
    pub header: Option<Header>,
    /// The specimens, in file order.
    pub specimens: Vec<CmfSpecimen>,
    /// A population label per specimen (wide tables with a `population` column).
    pub populations: Option<Vec<String>>,
    /// One message per rejected specimen (lenient mode; empty in strict mode).
    pub rejected: Vec<String>,
    /// Other warnings (ignored columns).
    pub warnings: Vec<String>,
}

/// The error of importing a file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The file could not be read.
    #[error("{file}: cannot read")]
    Io {
        /// The file.
        file: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The format cannot be told from the content.
    #[error(
        "{file}: cannot tell the format: {reason}; name it with --from (cmf, csv, genemapper, codis-export)"
    )]
    Undecidable {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// A CMF error that stops the whole file.
    #[error(transparent)]
    Cmf(#[from] ReadError),
    /// A table error that stops the whole file.
    #[error(transparent)]
    Table(#[from] TableReadError),
    /// Strict mode: some specimens were rejected, so nothing was imported.
    #[error("{file}: {} specimen{} rejected, nothing imported (first: {})", .errors.len(), if .errors.len() == 1 { "" } else { "s" }, .errors.first().map_or("", String::as_str))]
    Rejected {
        /// The file.
        file: String,
        /// One message per rejected specimen.
        errors: Vec<String>,
    },
}

/// Tells the format of a file from its first bytes: CMF when the first thing after a byte-order
/// mark and white space is `<`, else a table whose layout [`table::detect_layout`] decides.
pub fn detect(start: &[u8], file: &str) -> Result<Format, ImportError> {
    let body = start.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(start);
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        None => Err(ImportError::Undecidable {
            file: file.to_string(),
            reason: "the file is empty".into(),
        }),
        Some(b'<') => Ok(Format::Cmf),
        Some(_) => match table::detect_layout(body, file) {
            Ok(l) => Ok(Format::Table(l)),
            Err(TableReadError::Undecidable { reason, .. }) => Err(ImportError::Undecidable {
                file: file.to_string(),
                reason: format!("it is not CMF XML (it does not start with '<') and {reason}"),
            }),
            Err(e) => Err(e.into()),
        },
    }
}

/// Imports every specimen of `reader` in `format` (detected when `None`); `file` names it.
pub fn import<R: Read>(
    reader: R,
    file: &str,
    format: Option<Format>,
    opts: ImportOptions,
) -> Result<Import, ImportError> {
    let mut input = BufReader::with_capacity(1 << 16, reader);
    let start = input.fill_buf().map_err(|source| ImportError::Io {
        file: file.to_string(),
        source,
    })?;
    let format = match format {
        Some(f) => f,
        None => detect(start, file)?,
    };
    let mut out = match format {
        Format::Cmf => {
            let read = cmf_read::read_all(input, file, opts.cmf, true)?;
            Import {
                format,
                header: Some(read.header),
                specimens: read.specimens,
                populations: None,
                rejected: read.rejected,
                warnings: Vec::new(),
            }
        }
        Format::Table(layout) => {
            let read = table::read(input, file, Some(layout), opts.table)?;
            Import {
                format,
                header: None,
                specimens: read.profiles.into_iter().map(CmfSpecimen::new).collect(),
                populations: read.populations,
                rejected: read.rejected,
                warnings: read.warnings,
            }
        }
    };
    if !opts.lenient && !out.rejected.is_empty() {
        return Err(ImportError::Rejected {
            file: file.to_string(),
            errors: std::mem::take(&mut out.rejected),
        });
    }
    Ok(out)
}

/// Imports a file (see [`import`]); errors name it by its path.
pub fn import_path(
    path: &Path,
    format: Option<Format>,
    opts: ImportOptions,
) -> Result<Import, ImportError> {
    let name = path.display().to_string();
    match File::open(path) {
        Ok(f) => import(f, &name, format, opts),
        Err(source) => Err(ImportError::Io { file: name, source }),
    }
}
