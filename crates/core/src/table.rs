//! Wide lab tables: one row per specimen, read into [`Profile`]s and written back.
//!
//! Two column layouts are read, and may be mixed in one file (BRIEF section 5):
//!
//! * **one column per locus** (layout A): a header that is a locus name (`D3S1358`, `THO1`,
//!   `Amelogenin`, ...) and cells `13,14`, `13`, `9.3/10`, `X,Y` (at Amelogenin `1` = X, `2` = Y);
//! * **several columns per locus** (layout B, as in the NIST 1036 table): headers
//!   `<LOCUS>_1` ... `<LOCUS>_8` whose prefix is a locus name (`Penta D_1`, `FESFPS_2`); the cells of
//!   one locus are combined into one genotype, so `13` and `13` is the homozygote `13`.
//!
//! A cell that is empty, `-`, `None`, `NULL`, `NA` or `N/A` (any case) is untyped; in layout B a
//! locus is untyped when all its cells are. Locus names are looked up with [`Locus::lookup`]
//! (aliases, exact after normalisation) and the spelling of the file is kept with
//! [`Profile::set_spelling`].
//!
//! Other columns, recognised by name (case-insensitive; spaces, `_` and `-` ignored):
//!
//! | column | meaning |
//! |---|---|
//! | `id`, `sample`, `sample name`, `sample_id`, `specimen`, `specimen_id` | the specimen id (else the first column) |
//! | `category`, `specimen category` | CODIS specimen category, any case (`forensic, unknown`) |
//! | `lab`, `source lab` | submitting lab |
//! | `partial` | `true`/`false`/`yes`/`no`/`1`/`0` (any case); empty is `false` |
//! | `population` | a population label (NIST 1036): returned in [`TableRead::populations`] |
//!
//! Any other column is an error that names it (with the closest locus names), unless
//! [`TableOptions::ignore_unknown_columns`] turns it into a warning or
//! [`TableOptions::allow_custom_loci`] makes it a custom locus. A column with an empty header
//! (spreadsheets add them) must have only empty cells, unless unknown columns are ignored.
//!
//! Every row must have as many fields as the header (extra empty fields are allowed), a valid
//! specimen id, unique in the file, and at least one typed locus; [`TableOptions::lenient`] skips
//! the rows that break these rules (except the duplicate ids) with a warning. Entirely empty rows
//! are skipped silently.
//!
//! The delimiter is `,` or a tab, whichever the header line uses more; cells may be quoted; the
//! file is UTF-8 with or without a byte-order mark.
//!
//! ```
//! use tandem_core::Locus;
//! use tandem_core::table::{self, TableOptions};
//!
//! let csv = "sample,D3S1358,vWA_1,vWA_2,Amelogenin\nS1,\"15,16\",17,17,\"1,2\"\n";
//! let read = table::read(csv.as_bytes(), "lab.csv", &TableOptions::default())?;
//! let s1 = &read.profiles[0];
//! assert_eq!(s1.genotype(Locus::lookup("vWA")?).map(|g| g.to_string()), Some("17".into()));
//! assert_eq!(s1.genotype(Locus::lookup("AMEL")?).map(|g| g.to_string()), Some("X,Y".into()));
//! assert_eq!(s1.spelling(Locus::lookup("AMEL")?), "Amelogenin");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::hash_map::Entry;
use std::fmt;
use std::fs::File;
use std::hash::BuildHasher;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;

use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::allele::{Allele, AlleleError};
use crate::genotype::{Genotype, GenotypeError, MAX_ALLELES};
use crate::locus::{Locus, LocusError};
use crate::profile::{Profile, ProfileId, SpecimenCategory};

/// How strictly to read a table. The default is the strictest reading.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableOptions {
    /// Register columns that are not known loci as custom loci (see [`Locus::lookup_or_custom`])
    /// instead of rejecting them.
    pub allow_custom_loci: bool,
    /// Skip columns that are neither a locus nor a known field, with a warning, instead of failing.
    pub ignore_unknown_columns: bool,
    /// Skip rows that cannot be read (a bad allele, id, category or partial flag, a wrong number
    /// of fields, no typed locus), with a warning, instead of failing. Header errors and duplicate
    /// specimen ids are errors in every mode.
    pub lenient: bool,
}

/// What [`read`] returns: the profiles in file order and the warnings to show the user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableRead {
    /// One profile per row, in file order.
    pub profiles: Vec<Profile>,
    /// The `population` cell of each profile (same order as `profiles`; empty when the cell is),
    /// or `None` when the table has no `population` column.
    pub populations: Option<Vec<String>>,
    /// Ignored columns and skipped rows, one message each (lowercase, no trailing period).
    pub warnings: Vec<String>,
}

/// A column that is neither a locus nor a known field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownColumn {
    /// 1-based column number.
    pub column: usize,
    /// The header as written.
    pub header: String,
    /// Why the header is not a locus (with the closest locus names).
    pub error: LocusError,
}

impl fmt::Display for UnknownColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {} '{}'", self.column, self.header)?;
        match &self.error {
            LocusError::Unknown { closest, .. } if !closest.is_empty() => {
                write!(f, " (did you mean {}?)", closest.join(", "))
            }
            LocusError::Invalid { reason, .. } => write!(f, " ({reason})"),
            _ => Ok(()),
        }
    }
}

fn list_columns(columns: &[UnknownColumn]) -> String {
    let list: Vec<String> = columns.iter().map(ToString::to_string).collect();
    list.join(", ")
}

fn suggest_category(closest: &Option<&'static str>) -> String {
    closest
        .map(|c| format!("; did you mean '{c}'?"))
        .unwrap_or_default()
}

/// The error of reading a lab table. Every variant names the file; row errors name the 1-based
/// line (of the start of the record) and column, the specimen and the locus where they apply.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    /// The file could not be opened or read.
    #[error("{file}: cannot read")]
    Io {
        /// The file (source name).
        file: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The CSV structure itself is broken.
    #[error("{file}, line {line}: malformed table: {reason}")]
    Malformed {
        /// The file (source name).
        file: String,
        /// 1-based line.
        line: u64,
        /// What the CSV parser reported.
        reason: String,
    },
    /// The file has no header line.
    #[error("{file}: empty file, expected a header line")]
    NoHeader {
        /// The file (source name).
        file: String,
    },
    /// No column holds the specimen id.
    #[error(
        "{file}, line {line}: no specimen id column (a header 'id', 'sample' or 'specimen_id', or a first column that is not a locus)"
    )]
    NoIdColumn {
        /// The file (source name).
        file: String,
        /// 1-based line of the header.
        line: u64,
    },
    /// The header has no locus column.
    #[error("{file}, line {line}: no locus column")]
    NoLocusColumn {
        /// The file (source name).
        file: String,
        /// 1-based line of the header.
        line: u64,
    },
    /// Two columns give the same field, locus or allele slot.
    #[error(
        "{file}, line {line}, column {column}: '{header}' gives {meaning}, as column {first_column} '{first_header}' does"
    )]
    DuplicateColumn {
        /// The file (source name).
        file: String,
        /// 1-based line of the header.
        line: u64,
        /// 1-based column of the second occurrence.
        column: usize,
        /// Its header.
        header: String,
        /// 1-based column of the first occurrence.
        first_column: usize,
        /// Its header.
        first_header: String,
        /// What both columns give (`locus TH01`, `the specimen id`).
        meaning: String,
    },
    /// Columns that are neither loci nor known fields.
    #[error("{file}, line {line}: unknown columns, neither loci nor known fields: {}", list_columns(.columns))]
    UnknownColumns {
        /// The file (source name).
        file: String,
        /// 1-based line of the header.
        line: u64,
        /// Every unknown column, in header order.
        columns: Vec<UnknownColumn>,
    },
    /// A value in a column that has no header.
    #[error("{file}, line {line}, column {column}: value '{value}' in a column without a header")]
    ValueWithoutHeader {
        /// The file (source name).
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// The value.
        value: String,
    },
    /// A row has a different number of fields than the header.
    #[error("{file}, line {line}: {found} fields, the header has {expected}")]
    FieldCount {
        /// The file (source name).
        file: String,
        /// 1-based line.
        line: u64,
        /// Fields in the row.
        found: usize,
        /// Fields in the header.
        expected: usize,
    },
    /// A cell is not valid UTF-8.
    #[error("{file}, line {line}, column {column}: not valid UTF-8")]
    NotUtf8 {
        /// The file (source name).
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
    },
    /// The specimen id cell is empty or not a valid id.
    #[error("{file}, line {line}, column {column}: invalid specimen id '{id}': {reason}")]
    BadId {
        /// The file (source name).
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// The id as written.
        id: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A specimen id occurs twice in the file.
    #[error(
        "{file}, line {line}, column {column}: specimen id '{specimen}' already used on line {first_line}"
    )]
    DuplicateId {
        /// The file (source name).
        file: String,
        /// 1-based line of the second occurrence.
        line: u64,
        /// 1-based column of the id.
        column: usize,
        /// The specimen id.
        specimen: String,
        /// 1-based line of the first occurrence.
        first_line: u64,
    },
    /// An allele value does not parse.
    #[error(
        "{file}, line {line}, column {column}: allele value '{value}' at {locus} of specimen {specimen}: {reason}"
    )]
    BadAllele {
        /// The file (source name).
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// The specimen id.
        specimen: String,
        /// The locus.
        locus: Locus,
        /// The allele value as written.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The alleles of a locus do not make a genotype (e.g. more than 8).
    #[error("{file}, line {line}, column {column}: genotype at {locus} of specimen {specimen}")]
    BadGenotype {
        /// The file (source name).
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column (the first column of the locus).
        column: usize,
        /// The specimen id.
        specimen: String,
        /// The locus.
        locus: Locus,
        /// Why the alleles do not make a genotype.
        #[source]
        source: GenotypeError,
    },
    /// The specimen category is not a CODIS category.
    #[error("{file}, line {line}, column {column}: unknown specimen category '{value}' of specimen {specimen}{}", suggest_category(.closest))]
    BadCategory {
        /// The file (source name).
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// The specimen id.
        specimen: String,
        /// The category as written.
        value: String,
        /// The closest CODIS category, if one is close.
        closest: Option<&'static str>,
    },
    /// The partial flag is not a boolean.
    #[error(
        "{file}, line {line}, column {column}: partial flag '{value}' of specimen {specimen} is not true, false, yes, no, 1 or 0"
    )]
    BadPartial {
        /// The file (source name).
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// The specimen id.
        specimen: String,
        /// The flag as written.
        value: String,
    },
    /// A row types no locus at all.
    #[error("{file}, line {line}: specimen {specimen} has no typed locus")]
    NoTypedLocus {
        /// The file (source name).
        file: String,
        /// 1-based line.
        line: u64,
        /// The specimen id.
        specimen: String,
    },
}

impl TableError {
    /// Errors confined to one row: lenient reading skips the row with a warning.
    fn is_row_error(&self) -> bool {
        matches!(
            self,
            TableError::FieldCount { .. }
                | TableError::NotUtf8 { .. }
                | TableError::BadId { .. }
                | TableError::BadAllele { .. }
                | TableError::BadGenotype { .. }
                | TableError::BadCategory { .. }
                | TableError::BadPartial { .. }
                | TableError::NoTypedLocus { .. }
        )
    }
}

/// Reads a lab table from a file; errors name the file by its path.
pub fn read_path(path: &Path, opts: &TableOptions) -> Result<TableRead, TableError> {
    let name = path.display().to_string();
    match File::open(path) {
        Ok(f) => read(f, &name, opts),
        Err(source) => Err(TableError::Io { file: name, source }),
    }
}

/// Reads a lab table; `source_name` names the input in errors and warnings.
pub fn read<R: Read>(
    reader: R,
    source_name: &str,
    opts: &TableOptions,
) -> Result<TableRead, TableError> {
    let file = || source_name.to_string();
    let io_err = |source| TableError::Io {
        file: file(),
        source,
    };

    // Read the first line (or the first 64 KiB) to strip a BOM and pick the delimiter, then hand
    // that prefix and the rest of the input to the CSV reader.
    let mut input = BufReader::with_capacity(1 << 16, reader);
    let mut prefix = Vec::new();
    loop {
        let buf = input.fill_buf().map_err(io_err)?;
        if buf.is_empty() {
            break;
        }
        let n = buf.len();
        let newline = buf.iter().position(|&b| b == b'\n');
        let take = newline.map_or(n, |i| i + 1);
        prefix.extend_from_slice(&buf[..take]);
        input.consume(take);
        if newline.is_some() || prefix.len() >= 1 << 16 {
            break;
        }
    }
    let start = if prefix.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let delimiter = detect_delimiter(&prefix[start..]);
    let mut source = io::Cursor::new(prefix).chain(input);
    if start > 0 {
        // skip the byte-order mark
        let mut bom = [0u8; 3];
        source.read_exact(&mut bom).map_err(io_err)?;
    }

    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .buffer_capacity(1 << 16)
        .from_reader(source);
    let mut record = csv::ByteRecord::new();
    let csv_err = |e: csv::Error, line: u64| {
        let line = e.position().map_or(line, |p| p.line());
        let reason = e.to_string();
        match e.into_kind() {
            csv::ErrorKind::Io(source) => TableError::Io {
                file: file(),
                source,
            },
            _ => TableError::Malformed {
                file: file(),
                line,
                reason,
            },
        }
    };
    // skip blank lines before the header (the CSV reader already skips truly empty ones)
    loop {
        if !csv
            .read_byte_record(&mut record)
            .map_err(|e| csv_err(e, 1))?
        {
            return Err(TableError::NoHeader { file: file() });
        }
        if !record.iter().all(|c| c.trim_ascii().is_empty()) {
            break;
        }
    }
    let header_line = line_of(&record, 1);
    let mut headers = Vec::with_capacity(record.len());
    for (i, cell) in record.iter().enumerate() {
        match std::str::from_utf8(cell) {
            Ok(s) => headers.push(s.trim().to_string()),
            Err(_) => {
                return Err(TableError::NotUtf8 {
                    file: file(),
                    line: header_line,
                    column: i + 1,
                });
            }
        }
    }

    let mut out = TableRead::default();
    let plan = Plan::new(&headers, header_line, source_name, opts, &mut out.warnings)?;
    if plan.population.is_some() {
        out.populations = Some(Vec::new());
    }
    let mut rows = Rows {
        plan: &plan,
        file: source_name,
        scratch: Vec::with_capacity(MAX_ALLELES),
        blank_with_values: vec![false; plan.blank.len()],
        ignore_unknown: opts.ignore_unknown_columns,
    };
    let mut seen = SeenIds::default();
    let mut last_line = header_line;
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_err(e, last_line + 1)),
        }
        let line = line_of(&record, last_line + 1);
        last_line = line;
        match rows.parse(&record, line) {
            Ok(None) => {}
            Ok(Some((profile, population))) => {
                if let Some(first_line) = seen.insert(&profile, line, &out.profiles) {
                    return Err(TableError::DuplicateId {
                        file: file(),
                        line,
                        column: plan.id + 1,
                        specimen: profile.id().to_string(),
                        first_line,
                    });
                }
                if let (Some(pops), Some(p)) = (out.populations.as_mut(), population) {
                    pops.push(p);
                }
                out.profiles.push(profile);
            }
            Err(e) if opts.lenient && e.is_row_error() => {
                out.warnings.push(format!("{e}; row skipped"));
            }
            Err(e) => return Err(e),
        }
    }
    for (i, had_values) in rows.blank_with_values.iter().enumerate() {
        if *had_values && let Some(&col) = plan.blank.get(i) {
            out.warnings.push(format!(
                    "{source_name}, line {header_line}, column {}: column without a header ignored, with its values",
                    col + 1
                ));
        }
    }
    Ok(out)
}

/// The specimen ids read so far, keyed by a hash of the id so that no id is copied; the rare id
/// whose hash collides with that of a different id is kept in full.
#[derive(Default)]
struct SeenIds {
    /// id hash -> (index in the profiles, line)
    by_hash: FxHashMap<u64, (usize, u64)>,
    collided: FxHashMap<ProfileId, u64>,
}

impl SeenIds {
    /// Records the id of `profile`, read at `line` and about to be pushed onto `profiles`;
    /// returns the line of an earlier profile with the same id.
    fn insert(&mut self, profile: &Profile, line: u64, profiles: &[Profile]) -> Option<u64> {
        let id = profile.id();
        let hash = FxBuildHasher.hash_one(id.as_str());
        match self.by_hash.entry(hash) {
            Entry::Vacant(v) => {
                v.insert((profiles.len(), line));
                None
            }
            Entry::Occupied(o) => {
                let (index, first_line) = *o.get();
                if profiles.get(index).is_some_and(|p| p.id() == id) {
                    return Some(first_line);
                }
                match self.collided.entry(id.clone()) {
                    Entry::Occupied(o) => Some(*o.get()),
                    Entry::Vacant(v) => {
                        v.insert(line);
                        None
                    }
                }
            }
        }
    }
}

fn line_of(record: &csv::ByteRecord, fallback: u64) -> u64 {
    record.position().map_or(fallback, |p| p.line())
}

/// `\t` when the header line has more tabs than commas outside quotes, else `,`.
fn detect_delimiter(first_line: &[u8]) -> u8 {
    let (mut commas, mut tabs, mut quoted) = (0usize, 0usize, false);
    for &b in first_line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => commas += 1,
            b'\t' if !quoted => tabs += 1,
            b'\n' if !quoted => break,
            _ => {}
        }
    }
    if tabs > commas { b'\t' } else { b',' }
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Id,
    Category,
    Lab,
    Partial,
    Population,
}

impl Field {
    fn from_header(header: &str) -> Option<Field> {
        let norm: String = header
            .chars()
            .filter(|c| !matches!(c, ' ' | '_' | '-'))
            .flat_map(char::to_lowercase)
            .collect();
        match norm.as_str() {
            "id" | "sample" | "samplename" | "sampleid" | "specimen" | "specimenid" => {
                Some(Field::Id)
            }
            "category" | "specimencategory" => Some(Field::Category),
            "lab" | "sourcelab" => Some(Field::Lab),
            "partial" => Some(Field::Partial),
            "population" => Some(Field::Population),
            _ => None,
        }
    }

    fn meaning(self) -> &'static str {
        match self {
            Field::Id => "the specimen id",
            Field::Category => "the specimen category",
            Field::Lab => "the lab",
            Field::Partial => "the partial flag",
            Field::Population => "the population",
        }
    }
}

/// The loci of the table: each with the columns that hold its alleles.
#[derive(Debug)]
struct Slot {
    locus: Locus,
    /// The name as the file spells it (without the `_n` suffix).
    spelling: String,
    /// 0-based columns: one in layout A, one per allele in layout B.
    columns: Vec<usize>,
    /// Layout B: the suffix number of each column, parallel to `columns`.
    suffixes: Vec<u8>,
    /// True for a single column holding the whole genotype.
    whole: bool,
}

/// The meaning of every column, decided from the header line.
#[derive(Debug)]
struct Plan {
    width: usize,
    id: usize,
    category: Option<usize>,
    lab: Option<usize>,
    partial: Option<usize>,
    population: Option<usize>,
    slots: Vec<Slot>,
    /// Columns without a header (0-based).
    blank: Vec<usize>,
}

/// Splits `Penta D_2` into (`Penta D`, 2) for suffixes `_1` to `_8`.
fn split_suffix(header: &str) -> Option<(&str, u8)> {
    let bytes = header.as_bytes();
    match bytes {
        [.., b'_', d @ b'1'..=b'8'] if bytes.len() > 2 => {
            let prefix = header.get(..header.len() - 2)?.trim_end();
            (!prefix.is_empty()).then_some((prefix, d - b'0'))
        }
        _ => None,
    }
}

/// True when the header names a locus (built-in or already registered), in either layout.
fn is_locus_header(header: &str) -> bool {
    Locus::lookup(header).is_ok()
        || split_suffix(header).is_some_and(|(p, _)| Locus::lookup(p).is_ok())
}

impl Plan {
    /// Decides what every column holds from the header line (read at `line`).
    fn new(
        headers: &[String],
        line: u64,
        file: &str,
        opts: &TableOptions,
        warnings: &mut Vec<String>,
    ) -> Result<Plan, TableError> {
        let duplicate =
            |column: usize, first_column: usize, meaning: String| TableError::DuplicateColumn {
                file: file.to_string(),
                line,
                column: column + 1,
                header: headers[column].clone(),
                first_column: first_column + 1,
                first_header: headers[first_column].clone(),
                meaning,
            };
        let fields: Vec<Option<Field>> = headers.iter().map(|h| Field::from_header(h)).collect();

        // The id column: the one named so, else the first column if it is not a locus or field.
        let id = match fields.iter().position(|f| *f == Some(Field::Id)) {
            Some(i) => i,
            None => match headers.first() {
                Some(h) if !is_locus_header(h) && fields.first() == Some(&None) => 0,
                _ => {
                    return Err(TableError::NoIdColumn {
                        file: file.to_string(),
                        line,
                    });
                }
            },
        };
        let mut plan = Plan {
            width: headers.len(),
            id,
            category: None,
            lab: None,
            partial: None,
            population: None,
            slots: Vec::new(),
            blank: Vec::new(),
        };
        let mut unknown = Vec::new();
        for (i, header) in headers.iter().enumerate() {
            if i == id {
                continue;
            }
            if let Some(field) = fields[i] {
                let target = match field {
                    Field::Id => return Err(duplicate(i, id, field.meaning().to_string())),
                    Field::Category => &mut plan.category,
                    Field::Lab => &mut plan.lab,
                    Field::Partial => &mut plan.partial,
                    Field::Population => &mut plan.population,
                };
                if let Some(first) = *target {
                    return Err(duplicate(i, first, field.meaning().to_string()));
                }
                *target = Some(i);
                continue;
            }
            if header.is_empty() {
                plan.blank.push(i);
                continue;
            }
            let split = split_suffix(header);
            let by_prefix = split
                .and_then(|(prefix, n)| Locus::lookup(prefix).ok().map(|l| (l, prefix, Some(n))));
            let found = match by_prefix {
                Some(f) => Ok(f),
                None => Locus::lookup(header).map(|l| (l, header.as_str(), None)),
            };
            let found = match found {
                Ok(f) => Ok(f),
                Err(_) if opts.allow_custom_loci => {
                    // `X_1` is a custom locus in layout B when another column is `X_<m>`.
                    let grouped = split.filter(|&(prefix, n)| {
                        headers
                            .iter()
                            .any(|h| split_suffix(h).is_some_and(|(p, m)| p == prefix && m != n))
                    });
                    match grouped {
                        Some((prefix, n)) => {
                            Locus::lookup_or_custom(prefix).map(|l| (l, prefix, Some(n)))
                        }
                        None => Locus::lookup_or_custom(header).map(|l| (l, header.as_str(), None)),
                    }
                }
                Err(e) => Err(match split {
                    // the prefix's error names closer loci than that of `D8S1197_1`
                    Some((prefix, _)) => Locus::lookup(prefix).err().unwrap_or(e),
                    None => e,
                }),
            };
            let (locus, spelling, suffix) = match found {
                Ok(f) => f,
                Err(error) => {
                    unknown.push(UnknownColumn {
                        column: i + 1,
                        header: header.clone(),
                        error,
                    });
                    continue;
                }
            };
            match plan.slots.iter_mut().find(|s| s.locus == locus) {
                None => plan.slots.push(Slot {
                    locus,
                    spelling: spelling.to_string(),
                    columns: vec![i],
                    suffixes: suffix.into_iter().collect(),
                    whole: suffix.is_none(),
                }),
                Some(slot) => {
                    let first = match suffix {
                        None => slot.columns[0],
                        Some(_) if slot.whole => slot.columns[0],
                        Some(n) => match slot.suffixes.iter().position(|&m| m == n) {
                            Some(k) => slot.columns[k],
                            None => {
                                slot.columns.push(i);
                                slot.suffixes.push(n);
                                continue;
                            }
                        },
                    };
                    let meaning = match suffix {
                        Some(n) if !slot.whole => format!("allele {n} of locus {locus}"),
                        _ => format!("locus {locus}"),
                    };
                    return Err(duplicate(i, first, meaning));
                }
            }
        }
        if !unknown.is_empty() {
            if !opts.ignore_unknown_columns {
                return Err(TableError::UnknownColumns {
                    file: file.to_string(),
                    line,
                    columns: unknown,
                });
            }
            for u in &unknown {
                warnings.push(format!("{file}, line {line}: unknown {u} ignored"));
            }
        }
        if plan.slots.is_empty() {
            return Err(TableError::NoLocusColumn {
                file: file.to_string(),
                line,
            });
        }
        Ok(plan)
    }
}

/// Per-row state of the reader.
struct Rows<'a> {
    plan: &'a Plan,
    file: &'a str,
    /// Reused allele buffer (no allocation per cell).
    scratch: Vec<Allele>,
    /// Columns without a header that held a value (ignore mode).
    blank_with_values: Vec<bool>,
    ignore_unknown: bool,
}

/// Cells (trimmed) that mean "not typed".
fn is_untyped(cell: &[u8]) -> bool {
    cell.is_empty()
        || cell == b"-"
        || cell.eq_ignore_ascii_case(b"none")
        || cell.eq_ignore_ascii_case(b"null")
        || cell.eq_ignore_ascii_case(b"na")
        || cell.eq_ignore_ascii_case(b"n/a")
}

impl Rows<'_> {
    fn cell<'r>(
        &self,
        record: &'r csv::ByteRecord,
        column: usize,
        line: u64,
    ) -> Result<&'r str, TableError> {
        let bytes = record.get(column).unwrap_or_default();
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.trim()),
            Err(_) => Err(TableError::NotUtf8 {
                file: self.file.to_string(),
                line,
                column: column + 1,
            }),
        }
    }

    /// Reads one row: `None` for an entirely empty row.
    fn parse(
        &mut self,
        record: &csv::ByteRecord,
        line: u64,
    ) -> Result<Option<(Profile, Option<String>)>, TableError> {
        let plan = self.plan;
        let file = || self.file.to_string();
        if record.len() != plan.width {
            let extra_empty = record
                .iter()
                .skip(plan.width)
                .all(|c| c.trim_ascii().is_empty());
            if record.iter().all(|c| c.trim_ascii().is_empty()) {
                return Ok(None);
            }
            if record.len() < plan.width || !extra_empty {
                return Err(TableError::FieldCount {
                    file: file(),
                    line,
                    found: record.len(),
                    expected: plan.width,
                });
            }
        }
        for (k, &column) in plan.blank.iter().enumerate() {
            let value = record.get(column).unwrap_or_default().trim_ascii();
            if !value.is_empty() {
                if !self.ignore_unknown {
                    return Err(TableError::ValueWithoutHeader {
                        file: file(),
                        line,
                        column: column + 1,
                        value: String::from_utf8_lossy(value).into_owned(),
                    });
                }
                if let Some(flag) = self.blank_with_values.get_mut(k) {
                    *flag = true;
                }
            }
        }

        let id_cell = self.cell(record, plan.id, line)?;
        let id = match ProfileId::new(id_cell) {
            Ok(id) => id,
            Err(e) => {
                if id_cell.is_empty() && record.iter().all(|c| c.trim_ascii().is_empty()) {
                    return Ok(None);
                }
                return Err(TableError::BadId {
                    file: file(),
                    line,
                    column: plan.id + 1,
                    id: e.id,
                    reason: e.reason,
                });
            }
        };
        let mut profile = Profile::new(id);
        let specimen = |p: &Profile| p.id().to_string();

        if let Some(column) = plan.category {
            let value = self.cell(record, column, line)?;
            if !value.is_empty() {
                let category = value
                    .parse::<SpecimenCategory>()
                    .or_else(|_| SpecimenCategory::parse_lenient(value));
                match category {
                    Ok(c) => profile.set_category(Some(c)),
                    Err(e) => {
                        return Err(TableError::BadCategory {
                            file: file(),
                            line,
                            column: column + 1,
                            specimen: specimen(&profile),
                            value: e.found,
                            closest: e.closest,
                        });
                    }
                }
            }
        }
        if let Some(column) = plan.lab {
            let value = self.cell(record, column, line)?;
            if !value.is_empty() {
                profile.set_lab(Some(value.to_string()));
            }
        }
        if let Some(column) = plan.partial {
            let value = self.cell(record, column, line)?;
            let partial = match value.to_ascii_lowercase().as_str() {
                "" | "false" | "no" | "0" => false,
                "true" | "yes" | "1" => true,
                _ => {
                    return Err(TableError::BadPartial {
                        file: file(),
                        line,
                        column: column + 1,
                        specimen: specimen(&profile),
                        value: value.to_string(),
                    });
                }
            };
            profile.set_partial(partial);
        }
        let population = match plan.population {
            Some(column) => Some(self.cell(record, column, line)?.to_string()),
            None => None,
        };

        for slot in &plan.slots {
            self.scratch.clear();
            let amel = slot.locus.is_amelogenin();
            for &column in &slot.columns {
                // Work on bytes: most cells are ASCII repeat numbers, parsed without allocating or
                // validating UTF-8; anything else goes through `Allele::parse`.
                let cell = record.get(column).unwrap_or_default().trim_ascii();
                if is_untyped(cell) {
                    continue;
                }
                for part in cell.split(|b| matches!(b, b',' | b'/' | b' ' | b'\t')) {
                    let parsed = match Allele::parse_repeat_bytes(part) {
                        _ if part.is_empty() => continue,
                        Some(a) if !amel => Ok(a),
                        _ => {
                            let Ok(part) = std::str::from_utf8(part) else {
                                return Err(TableError::NotUtf8 {
                                    file: file(),
                                    line,
                                    column: column + 1,
                                });
                            };
                            if part.trim().is_empty() {
                                continue; // e.g. a non-breaking space
                            }
                            if amel {
                                Allele::parse_amelogenin(part)
                            } else {
                                Allele::parse(part)
                            }
                        }
                    };
                    match parsed {
                        Ok(a) => self.scratch.push(a),
                        Err(AlleleError { value, reason }) => {
                            return Err(TableError::BadAllele {
                                file: file(),
                                line,
                                column: column + 1,
                                specimen: specimen(&profile),
                                locus: slot.locus,
                                value,
                                reason,
                            });
                        }
                    }
                }
            }
            let genotype = match self.scratch.as_slice() {
                [] => continue,
                [a] => Ok(Genotype::single(*a)),
                [a, b] if a == b => Ok(Genotype::single(*a)),
                alleles => Genotype::new(alleles),
            };
            match genotype {
                Ok(g) => {
                    profile.set_genotype(slot.locus, g);
                    profile.set_spelling(slot.locus, &slot.spelling);
                }
                Err(source) => {
                    return Err(TableError::BadGenotype {
                        file: file(),
                        line,
                        column: slot.columns[0] + 1,
                        specimen: specimen(&profile),
                        locus: slot.locus,
                        source,
                    });
                }
            }
        }
        if profile.locus_count() == 0 {
            return Err(TableError::NoTypedLocus {
                file: file(),
                line,
                specimen: specimen(&profile),
            });
        }
        Ok(Some((profile, population)))
    }
}

/// Writes profiles as a wide table that [`read`] reads back to the same profiles.
///
/// Columns: `id`, `category`, `lab`, `partial` (only when some profile is partial), then one
/// column per locus typed in any profile, in canonical locus order. A locus column is headed with
/// the spelling the profiles kept (see [`Profile::set_spelling`]) when they all agree, else with
/// the canonical name. Cells are `13,14` (quoted), empty when untyped. Required-allele flags are
/// not written; custom loci read back only with [`TableOptions::allow_custom_loci`].
///
/// An empty list is written as a header of the CODIS 13 loci and no row, which reads back as an
/// empty table (found by the `parse_table` fuzz target).
pub fn write_wide<W: Write>(w: W, profiles: &[Profile]) -> Result<(), io::Error> {
    // One pass over the profiles: the typed loci, each with the spelling all its profiles agree
    // on (`None` when they disagree). `slot_of` is indexed by `Locus::id`, which is small and dense.
    let mut loci: Vec<(Locus, Option<&str>)> = Vec::new();
    let mut slot_of: Vec<Option<usize>> = Vec::new();
    for p in profiles {
        for (locus, _) in p.genotypes() {
            let id = usize::from(locus.id());
            if slot_of.len() <= id {
                slot_of.resize(id + 1, None);
            }
            let spelling = p.spelling(locus);
            match slot_of[id] {
                None => {
                    slot_of[id] = Some(loci.len());
                    loci.push((locus, Some(spelling)));
                }
                Some(k) => {
                    if let Some(entry) = loci.get_mut(k)
                        && entry.1 != Some(spelling)
                    {
                        entry.1 = None;
                    }
                }
            }
        }
    }
    if loci.is_empty() {
        // no profile (or none typed): head the table with the CODIS 13 loci so that it still
        // reads back, as an empty table
        loci = crate::locus::Kit::Codis13
            .loci()
            .into_iter()
            .map(|l| (l, None))
            .collect();
    }
    loci.sort_by_key(|&(locus, _)| locus);
    let with_partial = profiles.iter().any(Profile::is_partial);

    let mut out = csv::WriterBuilder::new()
        .buffer_capacity(1 << 16)
        .from_writer(w);
    let mut header: Vec<&str> = vec!["id", "category", "lab"];
    if with_partial {
        header.push("partial");
    }
    header.extend(loci.iter().map(|&(locus, s)| s.unwrap_or(locus.name())));
    out.write_record(&header)?;
    let mut cell = Vec::new();
    for p in profiles {
        out.write_field(p.id().as_str())?;
        out.write_field(p.category().map_or("", SpecimenCategory::as_str))?;
        out.write_field(p.lab().unwrap_or(""))?;
        if with_partial {
            out.write_field(if p.is_partial() { "true" } else { "false" })?;
        }
        // both in canonical locus order: walk them together
        let mut typed = p.genotypes().peekable();
        for &(locus, _) in &loci {
            cell.clear();
            if let Some((_, g)) = typed.next_if(|&(l, _)| l == locus) {
                push_genotype(&mut cell, g);
            }
            out.write_field(&cell)?;
        }
        out.write_record(None::<&[u8]>)?;
    }
    out.flush()?;
    Ok(())
}

/// Appends a genotype as `13,14`; repeat numbers without the formatting machinery.
fn push_genotype(out: &mut Vec<u8>, g: &Genotype) {
    for (i, a) in g.alleles().iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match a.tenths() {
            Some(t) => {
                let (whole, tenth) = (t / 10, t % 10);
                let mut digits = [0u8; 5];
                let mut n = 0;
                let mut v = whole;
                loop {
                    digits[n] = b'0' + (v % 10) as u8;
                    n += 1;
                    v /= 10;
                    if v == 0 || n == digits.len() {
                        break;
                    }
                }
                out.extend(digits[..n].iter().rev());
                if tenth != 0 {
                    out.push(b'.');
                    out.push(b'0' + tenth as u8);
                }
            }
            None => {
                let _ = write!(out, "{a}"); // writing to a Vec cannot fail
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn read_str(text: &str) -> Result<TableRead, TableError> {
        read(text.as_bytes(), "data.csv", &TableOptions::default())
    }

    fn locus(name: &str) -> Locus {
        Locus::lookup(name).unwrap()
    }

    fn cell(p: &Profile, name: &str) -> Option<String> {
        p.genotype(locus(name)).map(ToString::to_string)
    }

    #[test]
    fn test_read_with_wide_layout() {
        let t = read_str(
            "sample,D3S1358,vWA,TH01,AMEL,FGA,D8S1179,TPOX\n\
             S1,\"15,16\",17,9.3/10,\"X,Y\",-,None,NULL\n\
             S2,15,\"17,18\",6,\"1\",NA,,13\n",
        )
        .unwrap();
        assert_eq!(t.profiles.len(), 2);
        assert!(t.warnings.is_empty());
        assert_eq!(t.populations, None);
        let s1 = &t.profiles[0];
        assert_eq!(s1.id().as_str(), "S1");
        assert_eq!(cell(s1, "D3S1358").as_deref(), Some("15,16"));
        assert_eq!(cell(s1, "TH01").as_deref(), Some("9.3,10"));
        assert_eq!(cell(s1, "AMEL").as_deref(), Some("X,Y"));
        assert_eq!(cell(s1, "FGA"), None);
        assert_eq!(cell(s1, "D8S1179"), None);
        assert_eq!(cell(s1, "TPOX"), None);
        assert_eq!(s1.locus_count(), 4);
        let s2 = &t.profiles[1];
        assert_eq!(cell(s2, "D3S1358").as_deref(), Some("15"));
        assert_eq!(cell(s2, "AMEL").as_deref(), Some("X"));
        assert_eq!(cell(s2, "TPOX").as_deref(), Some("13"));
        assert_eq!(s2.locus_count(), 5);
    }

    #[test]
    fn test_read_with_two_columns_per_locus() {
        let t = read_str(
            "sample,population,Penta D_1,Penta D_2,FESFPS_1,FESFPS_2,TPOX_1,TPOX_2,THO1_1,THO1_2\n\
             A1,Hisp,2.2,11,10,10,None,None,8,\n",
        )
        .unwrap();
        let p = &t.profiles[0];
        assert_eq!(cell(p, "Penta D").as_deref(), Some("2.2,11"));
        assert_eq!(cell(p, "FES").as_deref(), Some("10"));
        assert_eq!(cell(p, "TPOX"), None);
        assert_eq!(cell(p, "TH01").as_deref(), Some("8"));
        assert_eq!(p.spelling(locus("FES")), "FESFPS");
        assert_eq!(p.spelling(locus("TH01")), "THO1");
        assert_eq!(p.spelling(locus("Penta D")), "Penta D");
        assert_eq!(t.populations, Some(vec!["Hisp".to_string()]));
    }

    #[test]
    fn test_read_with_mixed_layouts() {
        let t = read_str("id,D3S1358,vWA_1,vWA_2\nX,\"15,16\",17,18\n").unwrap();
        assert_eq!(cell(&t.profiles[0], "vWA").as_deref(), Some("17,18"));
        let e = read_str("id,vWA,vWA_1,vWA_2\nX,15,17,18\n").unwrap_err();
        assert!(
            matches!(
                e,
                TableError::DuplicateColumn {
                    column: 3,
                    first_column: 2,
                    ..
                }
            ),
            "{e}"
        );
        let e = read_str("id,vWA_1,VWA_1\nX,15,17\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "data.csv, line 1, column 3: 'VWA_1' gives allele 1 of locus vWA, as column 2 'vWA_1' does"
        );
        let e = read_str("id,THO1,TH01\nX,6,7\n").unwrap_err();
        assert!(e.to_string().contains("locus TH01"), "{e}");
    }

    #[test]
    fn test_read_with_bom_and_tabs() {
        let t =
            read_str("\u{feff}Specimen_ID\tD3S1358\tvWA\r\nS1\t15,16\t17\r\nS2\t14\t\r\n").unwrap();
        assert_eq!(t.profiles.len(), 2);
        assert_eq!(t.profiles[0].id().as_str(), "S1");
        assert_eq!(cell(&t.profiles[0], "D3S1358").as_deref(), Some("15,16"));
        assert_eq!(cell(&t.profiles[1], "vWA"), None);
        let t = read_str("\u{feff}D3S1358_x,D3S1358\nS1,15\n").unwrap();
        assert_eq!(t.profiles[0].id().as_str(), "S1");
    }

    #[test]
    fn test_read_with_quoted_cells_and_fields() {
        let t = read_str(
            "\"Sample Name\",\"category\",lab,partial,D3S1358\n\
             \"GT, 1\",\"forensic, unknown\",INACIF,yes,\"15, 16\"\n\
             \"GT 2\",Convicted Offender,,0,15\n",
        )
        .unwrap();
        let p = &t.profiles[0];
        assert_eq!(p.id().as_str(), "GT, 1");
        assert_eq!(p.category(), Some(SpecimenCategory::ForensicUnknown));
        assert_eq!(p.lab(), Some("INACIF"));
        assert!(p.is_partial());
        assert_eq!(cell(p, "D3S1358").as_deref(), Some("15,16"));
        let q = &t.profiles[1];
        assert_eq!(q.category(), Some(SpecimenCategory::ConvictedOffender));
        assert_eq!(q.lab(), None);
        assert!(!q.is_partial());
        // non-breaking spaces, as spreadsheets write them
        let t = read_str("id,D3S1358,vWA\nS1,\u{a0}15\u{a0},\u{a0}\n").unwrap();
        assert_eq!(cell(&t.profiles[0], "D3S1358").as_deref(), Some("15"));
        assert_eq!(t.profiles[0].locus_count(), 1);
    }

    #[test]
    fn test_read_with_bad_fields() {
        let e = read_str("id,category,D3S1358\nS1,Convicted Ofender,15\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "data.csv, line 2, column 2: unknown specimen category 'Convicted Ofender' of specimen S1; did you mean 'Convicted Offender'?"
        );
        let e = read_str("id,partial,D3S1358\nS1,maybe,15\n").unwrap_err();
        assert!(
            matches!(
                e,
                TableError::BadPartial {
                    line: 2,
                    column: 2,
                    ..
                }
            ),
            "{e}"
        );
        let e = read_str("id,D3S1358\n,15\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "data.csv, line 2, column 1: invalid specimen id '': empty"
        );
        let e = read_str("id,D3S1358\nS1,15,16\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "data.csv, line 2: 3 fields, the header has 2"
        );
        let e = read_str("id,D3S1358,vWA\nS1,15\n").unwrap_err();
        assert!(
            matches!(
                e,
                TableError::FieldCount {
                    found: 2,
                    expected: 3,
                    ..
                }
            ),
            "{e}"
        );
        // trailing empty fields and empty rows are fine
        let t = read_str("id,D3S1358\nS1,15,,\n,\n\nS2,16\n").unwrap();
        assert_eq!(t.profiles.len(), 2);
    }

    #[test]
    fn test_read_with_unknown_columns() {
        let text = "id,D8S1197,D3S1358,Kit,vWA_1,D8S1197_2\nS1,13,15,GF,17,13\n";
        let e = read_str(text).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("data.csv, line 1: unknown columns"),
            "{msg}"
        );
        assert!(
            msg.contains("column 2 'D8S1197' (did you mean D8S1179"),
            "{msg}"
        );
        assert!(msg.contains("column 4 'Kit'"), "{msg}");
        assert!(
            msg.contains("column 6 'D8S1197_2' (did you mean D8S1179"),
            "{msg}"
        );
        match e {
            TableError::UnknownColumns { columns, .. } => assert_eq!(columns.len(), 3),
            other => panic!("{other}"),
        }

        let opts = TableOptions {
            ignore_unknown_columns: true,
            ..TableOptions::default()
        };
        let t = read(text.as_bytes(), "data.csv", &opts).unwrap();
        assert_eq!(t.warnings.len(), 3, "{:?}", t.warnings);
        assert!(
            t.warnings[1].contains("column 4 'Kit' ignored"),
            "{:?}",
            t.warnings
        );
        assert_eq!(t.profiles[0].locus_count(), 2);
    }

    #[test]
    fn test_read_with_custom_loci() {
        let text = "id,D3S1358,ZZTEST7,ZZTEST8_1,ZZTEST8_2\nS1,15,11,12,13\n";
        assert!(read_str(text).is_err());
        let opts = TableOptions {
            allow_custom_loci: true,
            ..TableOptions::default()
        };
        let t = read(text.as_bytes(), "data.csv", &opts).unwrap();
        let p = &t.profiles[0];
        assert_eq!(cell(p, "ZZTEST7").as_deref(), Some("11"));
        assert_eq!(cell(p, "ZZTEST8").as_deref(), Some("12,13"));
    }

    #[test]
    fn test_read_with_bad_allele() {
        let e = read_str("sample,vWA,D3S1358\nIMP_0001A,17,\"15,9..3\"\n").unwrap_err();
        assert!(
            e.to_string().starts_with(
                "data.csv, line 2, column 3: allele value '9..3' at D3S1358 of specimen IMP_0001A: \
                 not a repeat number"
            ),
            "{e}"
        );
        let e = read_str("sample,vWA_1,vWA_2\nS9,17,1x\n").unwrap_err();
        assert!(
            matches!(
                e,
                TableError::BadAllele {
                    line: 2,
                    column: 3,
                    ..
                }
            ),
            "{e}"
        );
        let e = read_str("sample,AMEL\nS9,Z\n").unwrap_err();
        assert!(e.to_string().contains("at AMEL of specimen S9"), "{e}");
        let e = read_str("sample,vWA\nS9,\"1,2,3,4,5,6,7,8,9\"\n").unwrap_err();
        assert!(matches!(e, TableError::BadGenotype { .. }), "{e}");
        assert!(std::error::Error::source(&e).is_some());
        let e = read_str("sample,vWA\nS9,0\n").unwrap_err();
        assert!(
            e.to_string().ends_with("a repeat number must be positive"),
            "{e}"
        );
    }

    #[test]
    fn test_read_with_duplicate_ids() {
        let e = read_str("id,vWA\nS1,17\nS2,16\nS1,18\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "data.csv, line 4, column 1: specimen id 'S1' already used on line 2"
        );
        let lenient = TableOptions {
            lenient: true,
            ..TableOptions::default()
        };
        assert!(read("id,vWA\nS1,17\nS1,18\n".as_bytes(), "x", &lenient).is_err());
    }

    #[test]
    fn test_seen_ids_with_hash_collision() {
        let profile = |id| Profile::new(ProfileId::new(id).unwrap());
        let (a, b) = (profile("A"), profile("B"));
        let mut seen = SeenIds::default();
        assert_eq!(seen.insert(&a, 2, &[]), None);
        // pretend "B" hashes like "A", which is profile 0
        seen.by_hash.insert(FxBuildHasher.hash_one("B"), (0, 2));
        let profiles = [a.clone()];
        assert_eq!(seen.insert(&b, 3, &profiles), None);
        assert_eq!(seen.insert(&b, 4, &profiles), Some(3));
        assert_eq!(seen.insert(&a, 5, &profiles), Some(2));
    }

    #[test]
    fn test_read_with_untyped_rows() {
        let text = "id,vWA,TPOX\nS1,-,NA\nS2,17,8\nS3,q,8\n";
        let e = read_str(text).unwrap_err();
        assert_eq!(
            e.to_string(),
            "data.csv, line 2: specimen S1 has no typed locus"
        );
        let lenient = TableOptions {
            lenient: true,
            ..TableOptions::default()
        };
        let t = read(text.as_bytes(), "data.csv", &lenient).unwrap();
        assert_eq!(t.profiles.len(), 1);
        assert_eq!(t.warnings.len(), 2);
        assert!(
            t.warnings[0].ends_with("has no typed locus; row skipped"),
            "{:?}",
            t.warnings
        );
    }

    #[test]
    fn test_read_with_header_errors() {
        assert!(matches!(read_str(""), Err(TableError::NoHeader { .. })));
        assert!(matches!(
            read_str("\u{feff}"),
            Err(TableError::NoHeader { .. })
        ));
        assert!(matches!(
            read_str("D3S1358,vWA\n15,17\n"),
            Err(TableError::NoIdColumn { .. })
        ));
        assert!(matches!(
            read_str("id,population\nS1,x\n"),
            Err(TableError::NoLocusColumn { .. })
        ));
        let mut empty = Vec::new();
        write_wide(&mut empty, &[]).unwrap();
        let back = read(empty.as_slice(), "empty.csv", &TableOptions::default()).unwrap();
        assert!(back.profiles.is_empty());
        assert!(matches!(
            read_str("id,sample,vWA\n"),
            Err(TableError::DuplicateColumn { .. })
        ));
        let e = read_str("\n,,\nid,sample,vWA\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("data.csv, line 3, column 2: 'sample' gives the specimen id"),
            "{e}"
        );
        // an empty-headed column must stay empty
        let t = read_str("id,vWA,\nS1,17,\n").unwrap();
        assert_eq!(t.profiles.len(), 1);
        let e = read_str("id,vWA,\nS1,17,x\n").unwrap_err();
        assert!(
            matches!(
                e,
                TableError::ValueWithoutHeader {
                    line: 2,
                    column: 3,
                    ..
                }
            ),
            "{e}"
        );
        let e = read(&b"id,vWA\nS\xff,17\n"[..], "bin", &TableOptions::default()).unwrap_err();
        assert!(
            matches!(
                e,
                TableError::NotUtf8 {
                    line: 2,
                    column: 1,
                    ..
                }
            ),
            "{e}"
        );
        let e = read(&b"id,vWA\nS,1\xff\n"[..], "bin", &TableOptions::default()).unwrap_err();
        assert!(
            matches!(
                e,
                TableError::NotUtf8 {
                    line: 2,
                    column: 2,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn test_read_with_arbitrary_bytes_never_panics() {
        let samples: [&[u8]; 8] = [
            b"\"",
            b"id,vWA\n\"S1,17\n",
            b"\xef\xbb",
            b"id\tvWA_1\tvWA_2\n\t\t\n",
            b",,,\n,,,\n",
            b"id,vWA_9,_1,D3S1358_\nS,1,2,3\n",
            b"id,vWA\nS1,>15\nS2,<8\nS3,8.x\nS4,OL/F\n",
            b"id,vWA\nS1,99999\nS2,&lt;8\n",
        ];
        for opts in [
            TableOptions::default(),
            TableOptions {
                ignore_unknown_columns: true,
                lenient: true,
                ..TableOptions::default()
            },
        ] {
            for s in samples {
                let _ = read(s, "fuzz", &opts);
            }
        }
    }

    #[test]
    fn test_fast_repeat_with_parse_equivalence() {
        let cases = [
            "13", "9.3", "13.0", "0", "0.0", "0.3", "013", "999", "999.9", "1000", "9.", ".3",
            "9.33", "1x", "9..3", "31.2",
        ];
        for s in cases {
            if let Some(a) = Allele::parse_repeat_bytes(s.as_bytes()) {
                assert_eq!(Allele::parse(s), Ok(a), "{s}");
            }
        }
        assert_eq!(Allele::parse_repeat_bytes(b"9.3"), Some(Allele::Repeat(93)));
        assert_eq!(Allele::parse_repeat_bytes(b"0"), None);
    }

    #[test]
    fn test_push_genotype_with_display_equivalence() {
        let mut alleles: Vec<Allele> = [1u16, 9, 10, 65535]
            .iter()
            .map(|&t| Allele::Repeat(t))
            .collect();
        alleles.extend((0..10).map(|e| Allele::repeat(999, e).unwrap()));
        alleles.extend(
            ["<8", ">15.2", "8.x", "OL", "F", "R", "X", "Y"]
                .iter()
                .map(|a| Allele::parse(a).unwrap()),
        );
        for a in &alleles {
            for b in &alleles {
                let g = Genotype::new(&[*a, *b]).unwrap();
                let mut out = Vec::new();
                push_genotype(&mut out, &g);
                assert_eq!(String::from_utf8(out).unwrap(), g.to_string());
            }
        }
    }

    #[test]
    fn test_write_wide_with_round_trip() {
        let text = "sample,category,lab,partial,THO1,D3S1358_1,D3S1358_2,AMEL,vWA\n\
                    S1,Forensic Mixture,LAB1,true,\"9.3,6\",15,16,\"X,Y\",\">20,F,8.x\"\n\
                    S2,,,,7,14,14,X,\n";
        let first = read_str(text).unwrap();
        let mut bytes = Vec::new();
        write_wide(&mut bytes, &first.profiles).unwrap();
        let written = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            written.starts_with("id,category,lab,partial,THO1,vWA,D3S1358,AMEL\n"),
            "{written}"
        );
        let second = read(&bytes[..], "written.csv", &TableOptions::default()).unwrap();
        assert_eq!(first.profiles, second.profiles);

        // profiles that disagree on a spelling are written with the canonical name
        let mut p = first.profiles.clone();
        p[1].set_spelling(locus("TH01"), "TH01");
        let mut p2 = Profile::new(ProfileId::new("S3").unwrap());
        p2.set_genotype(
            locus("TH01"),
            Genotype::parse_at(locus("TH01"), "6").unwrap(),
        );
        p2.set_spelling(locus("TH01"), "Th01");
        p.push(p2);
        let mut bytes = Vec::new();
        write_wide(&mut bytes, &p).unwrap();
        assert!(
            String::from_utf8(bytes)
                .unwrap()
                .starts_with("id,category,lab,partial,TH01,")
        );

        let mut bytes = Vec::new();
        write_wide(&mut bytes, &[]).unwrap();
        assert!(bytes.starts_with(b"id,category,lab,CSF1PO,FGA,TH01,"));
    }

    #[test]
    fn test_read_path_with_nist1036() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/nist1036_genotypes_wide.csv"
        ));
        let t = read_path(path, &TableOptions::default()).unwrap();
        assert_eq!(t.profiles.len(), 1036);
        assert!(t.warnings.is_empty(), "{:?}", t.warnings);
        let full = t.profiles.iter().filter(|p| p.locus_count() == 29).count();
        assert_eq!(full, 1034);
        let ot = t
            .profiles
            .iter()
            .find(|p| p.id().as_str() == "OT05588")
            .unwrap();
        assert_eq!(ot.genotype(locus("TPOX")), None);
        assert_eq!(ot.locus_count(), 28);
        let c88 = t
            .profiles
            .iter()
            .find(|p| p.id().as_str() == "C88H")
            .unwrap();
        assert_eq!(c88.genotype(locus("Penta D")), None);
        let first = &t.profiles[0];
        assert_eq!(first.id().as_str(), "GT37019");
        assert_eq!(cell(first, "D1S1656").as_deref(), Some("12,16.3"));
        assert_eq!(cell(first, "D10S1248").as_deref(), Some("14"));
        assert_eq!(first.spelling(locus("FES")), "FESFPS");
        let pops = t.populations.unwrap();
        assert_eq!(pops.len(), 1036);
        assert_eq!(pops.iter().filter(|p| *p == "AfAm").count(), 342);

        let missing =
            read_path(Path::new("/nonexistent/x.csv"), &TableOptions::default()).unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("/nonexistent/x.csv: cannot read"),
            "{missing}"
        );
    }
}
