//! Lab tables: the layouts labs export from GeneMapper ID-X, LIMS and spreadsheets, read into
//! profiles and written back.
//!
//! * **wide** (one column per locus, cells `13,14`) and **two columns per locus**
//!   (`D3S1358_1, D3S1358_2`): read by [`tandem_core::table`];
//! * **CODIS database export** (`specimenId, D3S1358_1 .. D3S1358_4, ...` with `NULL` for an
//!   empty cell): also read by [`tandem_core::table`], written by [`write_codis_export`];
//! * **GeneMapper ID-X genotype table** (long: `Sample Name, Marker, Allele 1 .. Allele n`, one
//!   row per sample and marker; sizes, heights and other columns ignored): read by
//!   [`read_genemapper`], written by [`write_long`].
//!
//! Every reader takes CSV or TSV (the delimiter the header line uses most), quoted cells and
//! UTF-8 with or without a byte-order mark. [`detect_layout`] tells the layouts apart by their
//! header line.

use std::collections::hash_map::Entry;
use std::io::{self, BufRead, BufReader, Read, Write};

use rustc_hash::FxHashMap;
use tandem_core::locus::normalize_name;
use tandem_core::table::{self as core_table, TableError, TableOptions};
use tandem_core::{Allele, Genotype, Locus, Profile, ProfileId, SpecimenCategory};

/// A table layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// One row per specimen; one column per locus and/or `<LOCUS>_1`, `<LOCUS>_2` columns.
    Wide,
    /// GeneMapper ID-X genotype table: one row per sample and marker.
    GeneMapper,
    /// CODIS database export: `specimenId`, then `<LOCUS>_1` .. `<LOCUS>_4`, `NULL` when empty.
    CodisExport,
}

impl Layout {
    /// The layout's name as the CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Wide => "wide table",
            Layout::GeneMapper => "GeneMapper genotype table",
            Layout::CodisExport => "CODIS database export",
        }
    }
}

/// How to read a table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Accept unknown locus names as custom loci.
    pub allow_custom_loci: bool,
    /// Wide tables: skip columns that are neither loci nor known fields, with a warning.
    pub ignore_unknown_columns: bool,
}

/// What a table reader returns: the good profiles, and one message per rejected specimen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableImport {
    /// The profiles read, in file order (of their first row).
    pub profiles: Vec<Profile>,
    /// A population label per profile (wide tables with a `population` column).
    pub populations: Option<Vec<String>>,
    /// One message per rejected specimen (or row), naming file, line, column, specimen, locus.
    pub rejected: Vec<String>,
    /// Other warnings (ignored columns).
    pub warnings: Vec<String>,
}

/// The error of reading a table: what stops the whole file (a bad header, broken CSV, I/O).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TableReadError {
    /// Reported by the wide-table reader of tandem-core.
    #[error(transparent)]
    Core(#[from] TableError),
    /// The file could not be read.
    #[error("{file}: cannot read")]
    Io {
        /// The file.
        file: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The CSV structure is broken.
    #[error("{file}, line {line}: malformed table: {reason}")]
    Malformed {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// What the CSV parser reported.
        reason: String,
    },
    /// The file has no header line.
    #[error("{file}: empty file, expected a header line")]
    NoHeader {
        /// The file.
        file: String,
    },
    /// A column the layout needs is missing.
    #[error(
        "{file}, line {line}: no '{column}' column (a GeneMapper genotype table has 'Sample Name', 'Marker' and 'Allele 1' .. 'Allele n')"
    )]
    MissingColumn {
        /// The file.
        file: String,
        /// 1-based line of the header.
        line: u64,
        /// The column.
        column: &'static str,
    },
    /// The header fits no layout.
    #[error(
        "{file}: cannot tell the table layout: {reason}; name it (--from csv, genemapper or codis-export)"
    )]
    Undecidable {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
}

/// The header line of a table: its delimiter, cells and line number.
struct Head {
    delimiter: u8,
    cells: Vec<String>,
}

/// `\t` when the line has more tabs than commas outside quotes, else `,`.
fn detect_delimiter(line: &[u8]) -> u8 {
    let (mut commas, mut tabs, mut quoted) = (0usize, 0usize, false);
    for &b in line {
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

/// Reads the first non-blank line of `text` as a header.
fn head_of(text: &[u8]) -> Option<Head> {
    let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    let line = text.split(|&b| b == b'\n').find(|l| {
        !l.iter()
            .all(|b| b.is_ascii_whitespace() || *b == b',' || *b == b'\t')
    })?;
    let delimiter = detect_delimiter(line);
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(line);
    let mut rec = csv::StringRecord::new();
    match r.read_record(&mut rec) {
        Ok(true) => Some(Head {
            delimiter,
            cells: rec.iter().map(|c| c.trim().to_string()).collect(),
        }),
        _ => None,
    }
}

fn norm_header(h: &str) -> String {
    h.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// `Allele 3` -> 3.
fn allele_column(h: &str) -> Option<u8> {
    let n = norm_header(h);
    n.strip_prefix("allele")
        .and_then(|d| d.parse::<u8>().ok())
        .filter(|&d| d >= 1)
}

fn is_locus_column(h: &str) -> bool {
    if Locus::lookup(h).is_ok() {
        return true;
    }
    match h.rsplit_once('_') {
        Some((prefix, d)) if d.len() == 1 && d.as_bytes()[0].is_ascii_digit() => {
            Locus::lookup(prefix).is_ok()
        }
        _ => false,
    }
}

/// Tells the layout of a table from its start (the first line or more): a `Marker` column with
/// `Allele n` columns is a GeneMapper table; a first column `specimenId` with `<LOCUS>_n`
/// columns a CODIS export; any other header with a locus column a wide table.
pub fn detect_layout(start: &[u8], file: &str) -> Result<Layout, TableReadError> {
    let Some(head) = head_of(start) else {
        return Err(TableReadError::NoHeader {
            file: file.to_string(),
        });
    };
    let norm: Vec<String> = head.cells.iter().map(|h| norm_header(h)).collect();
    let has_marker = norm.iter().any(|h| h == "marker" || h == "locus");
    let has_alleles = head.cells.iter().any(|h| allele_column(h).is_some());
    if has_marker && has_alleles {
        return Ok(Layout::GeneMapper);
    }
    let loci = head.cells.iter().filter(|h| is_locus_column(h)).count();
    if loci > 0 {
        if norm.first().is_some_and(|h| h == "specimenid")
            && head
                .cells
                .iter()
                .any(|h| h.ends_with("_3") || h.ends_with("_4"))
        {
            return Ok(Layout::CodisExport);
        }
        return Ok(Layout::Wide);
    }
    let shown: Vec<&str> = head.cells.iter().take(6).map(String::as_str).collect();
    Err(TableReadError::Undecidable {
        file: file.to_string(),
        reason: format!(
            "the header line ({}{}) has no locus column, and no 'Marker' with 'Allele 1' columns",
            shown.join(", "),
            if head.cells.len() > 6 { ", ..." } else { "" }
        ),
    })
}

/// Reads a table of the given layout (or of the layout [`detect_layout`] finds). Rows or
/// specimens that break a rule are reported in [`TableImport::rejected`], never silently dropped;
/// the caller decides whether that fails the import (strict) or not (lenient).
pub fn read<R: Read>(
    reader: R,
    file: &str,
    layout: Option<Layout>,
    opts: ReadOptions,
) -> Result<TableImport, TableReadError> {
    let mut input = BufReader::with_capacity(1 << 16, reader);
    let start = input
        .fill_buf()
        .map_err(|source| TableReadError::Io {
            file: file.to_string(),
            source,
        })?
        .to_vec();
    let layout = match layout {
        Some(l) => l,
        None => detect_layout(&start, file)?,
    };
    match layout {
        Layout::Wide | Layout::CodisExport => {
            let core_opts = TableOptions {
                allow_custom_loci: opts.allow_custom_loci,
                ignore_unknown_columns: opts.ignore_unknown_columns,
                lenient: true,
            };
            let read = core_table::read(input, file, &core_opts)?;
            let mut out = TableImport {
                profiles: read.profiles,
                populations: read.populations,
                ..TableImport::default()
            };
            for w in read.warnings {
                match w.strip_suffix("; row skipped") {
                    Some(msg) => out.rejected.push(msg.to_string()),
                    None => out.warnings.push(w),
                }
            }
            Ok(out)
        }
        Layout::GeneMapper => read_genemapper(input, file, opts),
    }
}

/// The columns of a GeneMapper table.
struct GmPlan {
    sample: usize,
    marker: usize,
    alleles: Vec<usize>,
    category: Option<usize>,
    partial: Option<usize>,
    sample_type: Option<usize>,
}

/// Cells that mean "not typed".
fn is_untyped(cell: &str) -> bool {
    cell.is_empty()
        || cell == "-"
        || cell.eq_ignore_ascii_case("none")
        || cell.eq_ignore_ascii_case("null")
        || cell.eq_ignore_ascii_case("na")
        || cell.eq_ignore_ascii_case("n/a")
}

/// One specimen being assembled from its rows.
struct Pending {
    profile: Profile,
    /// The line of each locus's row.
    lines: Vec<(Locus, u64)>,
    error: Option<String>,
}

/// Reads a GeneMapper ID-X genotype table (`Sample Name, Marker, Allele 1 .. Allele n`; other
/// columns such as `Sample File`, `Panel`, `Dye`, `Size n`, `Height n` are ignored). Optional
/// `Specimen Category` and `Partial` columns (as [`write_long`] writes them) are read. Rows of
/// the quality sensors `QS1`/`QS2` and of allelic ladders (`Sample Type` = `Allelic Ladder`) are
/// skipped.
pub fn read_genemapper<R: Read>(
    reader: R,
    file: &str,
    opts: ReadOptions,
) -> Result<TableImport, TableReadError> {
    let fname = || file.to_string();
    let mut input = BufReader::with_capacity(1 << 16, reader);
    let start = input.fill_buf().map_err(|source| TableReadError::Io {
        file: fname(),
        source,
    })?;
    let bom = start.starts_with(b"\xEF\xBB\xBF");
    let delimiter = head_of(start).map_or(b',', |h| h.delimiter);
    if bom {
        input.consume(3);
    }
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(input);
    let mut record = csv::StringRecord::new();
    let csv_err = |e: csv::Error, line: u64| {
        let line = e.position().map_or(line, |p| p.line());
        let reason = e.to_string();
        match e.into_kind() {
            csv::ErrorKind::Io(source) => TableReadError::Io {
                file: fname(),
                source,
            },
            _ => TableReadError::Malformed {
                file: fname(),
                line,
                reason,
            },
        }
    };
    // header: the first non-blank line
    let header_line;
    loop {
        if !csv.read_record(&mut record).map_err(|e| csv_err(e, 1))? {
            return Err(TableReadError::NoHeader { file: fname() });
        }
        if !record.iter().all(|c| c.trim().is_empty()) {
            header_line = record.position().map_or(1, |p| p.line());
            break;
        }
    }
    let mut sample = None;
    let mut marker = None;
    let mut alleles: Vec<(u8, usize)> = Vec::new();
    let (mut category, mut partial, mut sample_type) = (None, None, None);
    for (i, h) in record.iter().enumerate() {
        match norm_header(h.trim()).as_str() {
            "samplename" => sample = Some(i),
            "sample" | "sampleid" | "specimen" | "specimenid" | "id" if sample.is_none() => {
                sample = Some(i)
            }
            "marker" | "locus" => marker = marker.or(Some(i)),
            "specimencategory" | "category" => category = Some(i),
            "partial" => partial = Some(i),
            "sampletype" => sample_type = Some(i),
            _ => {
                if let Some(n) = allele_column(h.trim()) {
                    alleles.push((n, i));
                }
            }
        }
    }
    let missing = |column| TableReadError::MissingColumn {
        file: fname(),
        line: header_line,
        column,
    };
    let plan = GmPlan {
        sample: sample.ok_or_else(|| missing("Sample Name"))?,
        marker: marker.ok_or_else(|| missing("Marker"))?,
        alleles: {
            if alleles.is_empty() {
                return Err(missing("Allele 1"));
            }
            alleles.sort();
            alleles.into_iter().map(|(_, i)| i).collect()
        },
        category,
        partial,
        sample_type,
    };

    let mut pending: Vec<Pending> = Vec::new();
    let mut index: FxHashMap<String, usize> = FxHashMap::default();
    let mut orphan_rejects: Vec<String> = Vec::new();
    let mut last_line = header_line;
    let mut scratch: Vec<Allele> = Vec::with_capacity(8);
    loop {
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_err(e, last_line + 1)),
        }
        let line = record.position().map_or(last_line + 1, |p| p.line());
        last_line = line;
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cell = |i: usize| record.get(i).unwrap_or("").trim();
        if plan
            .sample_type
            .is_some_and(|i| cell(i).eq_ignore_ascii_case("allelic ladder"))
        {
            continue;
        }
        let id_text = cell(plan.sample);
        let id = match ProfileId::new(id_text) {
            Ok(id) => id,
            Err(e) => {
                orphan_rejects.push(format!(
                    "{file}, line {line}, column {}: invalid specimen id '{id_text}': {}",
                    plan.sample + 1,
                    e.reason
                ));
                continue;
            }
        };
        let k = match index.entry(id_text.to_string()) {
            Entry::Occupied(o) => *o.get(),
            Entry::Vacant(v) => {
                v.insert(pending.len());
                pending.push(Pending {
                    profile: Profile::new(id),
                    lines: Vec::new(),
                    error: None,
                });
                pending.len() - 1
            }
        };
        let p = &mut pending[k];
        if p.error.is_some() {
            continue;
        }
        let specimen = id_text;
        let mut fail = |msg: String| p.error.get_or_insert(msg).clone();
        // per-specimen fields
        if let Some(c) = plan.category {
            let v = cell(c);
            if !v.is_empty() {
                match v
                    .parse::<SpecimenCategory>()
                    .or_else(|_| SpecimenCategory::parse_lenient(v))
                {
                    Ok(cat) => {
                        if p.profile.category().is_some_and(|old| old != cat) {
                            fail(format!(
                                "{file}, line {line}, column {}: specimen category '{v}' of specimen {specimen} differs from an earlier row",
                                c + 1
                            ));
                            continue;
                        }
                        p.profile.set_category(Some(cat));
                    }
                    Err(e) => {
                        fail(format!(
                            "{file}, line {line}, column {}: {e} (specimen {specimen})",
                            c + 1
                        ));
                        continue;
                    }
                }
            }
        }
        if let Some(c) = plan.partial {
            match cell(c).to_ascii_lowercase().as_str() {
                "" | "false" | "no" | "0" => {}
                "true" | "yes" | "1" => p.profile.set_partial(true),
                other => {
                    fail(format!(
                        "{file}, line {line}, column {}: partial flag '{other}' of specimen {specimen} is not true, false, yes, no, 1 or 0",
                        c + 1
                    ));
                    continue;
                }
            }
        }
        let marker_name = cell(plan.marker);
        let norm = normalize_name(marker_name);
        if norm == "QS1" || norm == "QS2" {
            continue; // Investigator quality sensors: not loci
        }
        let locus = match Locus::parse_with(marker_name, opts.allow_custom_loci) {
            Ok(l) => l,
            Err(e) => {
                fail(format!(
                    "{file}, line {line}, column {}: marker of specimen {specimen}: {e}",
                    plan.marker + 1
                ));
                continue;
            }
        };
        if let Some(&(_, first)) = p.lines.iter().find(|(l, _)| *l == locus) {
            fail(format!(
                "{file}, line {line}, column {}: marker {marker_name} of specimen {specimen} already given on line {first}",
                plan.marker + 1
            ));
            continue;
        }
        scratch.clear();
        let mut bad = None;
        for &c in &plan.alleles {
            let v = cell(c);
            if is_untyped(v) {
                continue;
            }
            let parsed = if locus.is_amelogenin() {
                Allele::parse_amelogenin(v)
            } else {
                Allele::parse(v)
            };
            match parsed {
                Ok(a) => scratch.push(a),
                Err(e) => {
                    bad = Some(format!(
                        "{file}, line {line}, column {}: allele value '{}' at {marker_name} of specimen {specimen}: {}",
                        c + 1,
                        e.value,
                        e.reason
                    ));
                    break;
                }
            }
        }
        if let Some(msg) = bad {
            fail(msg);
            continue;
        }
        if scratch.is_empty() {
            continue;
        }
        match Genotype::new(&scratch) {
            Ok(g) => {
                p.profile.set_genotype(locus, g);
                p.profile.set_spelling(locus, marker_name);
                p.lines.push((locus, line));
            }
            Err(e) => {
                fail(format!(
                    "{file}, line {line}: genotype at {marker_name} of specimen {specimen}: {e}"
                ));
            }
        }
    }
    let mut out = TableImport {
        rejected: orphan_rejects,
        ..TableImport::default()
    };
    for p in pending {
        match p.error {
            Some(e) => out.rejected.push(e),
            None if p.profile.locus_count() == 0 => out.rejected.push(format!(
                "{file}: specimen {} has no typed locus",
                p.profile.id()
            )),
            None => out.profiles.push(p.profile),
        }
    }
    Ok(out)
}

/// The loci typed in any profile, in canonical order.
fn typed_loci(profiles: &[Profile]) -> Vec<Locus> {
    let mut loci: Vec<Locus> = profiles
        .iter()
        .flat_map(|p| p.genotypes().map(|(l, _)| l))
        .collect();
    loci.sort();
    loci.dedup();
    loci
}

/// Writes a wide table (one row per specimen, cells `13,14`) with `,` or a tab as delimiter;
/// [`read`] reads it back to the same profiles (required-allele flags are not written). The
/// comma form is [`tandem_core::table::write_wide`] itself.
pub fn write_wide<W: Write>(mut w: W, profiles: &[Profile], delimiter: u8) -> io::Result<()> {
    if delimiter == b',' {
        return core_table::write_wide(w, profiles);
    }
    let mut bytes = Vec::new();
    core_table::write_wide(&mut bytes, profiles)?;
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&bytes[..]);
    let mut out = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_writer(&mut w);
    let mut rec = csv::ByteRecord::new();
    while r.read_byte_record(&mut rec).map_err(io::Error::other)? {
        out.write_byte_record(&rec)?;
    }
    out.flush()?;
    drop(out);
    w.flush()
}

/// Writes a long table, the GeneMapper genotype layout: `Sample Name`, optional `Specimen
/// Category` and `Partial` (when some profile has them), `Marker`, `Allele 1` .. `Allele n` (n =
/// the most alleles at any locus, at least 2); one row per specimen and typed locus. Markers are
/// written with the spelling the profile kept.
pub fn write_long<W: Write>(w: W, profiles: &[Profile], delimiter: u8) -> io::Result<()> {
    let width = profiles
        .iter()
        .flat_map(|p| p.genotypes().map(|(_, g)| g.len()))
        .max()
        .unwrap_or(2)
        .max(2);
    let with_category = profiles.iter().any(|p| p.category().is_some());
    let with_partial = profiles.iter().any(Profile::is_partial);
    let mut out = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .flexible(false)
        .from_writer(w);
    let mut header = vec!["Sample Name".to_string()];
    if with_category {
        header.push("Specimen Category".into());
    }
    if with_partial {
        header.push("Partial".into());
    }
    header.push("Marker".into());
    header.extend((1..=width).map(|i| format!("Allele {i}")));
    out.write_record(&header)?;
    let mut row: Vec<String> = Vec::with_capacity(header.len());
    for p in profiles {
        for (locus, g) in p.genotypes() {
            row.clear();
            row.push(p.id().to_string());
            if with_category {
                row.push(
                    p.category()
                        .map_or(String::new(), |c| c.as_str().to_string()),
                );
            }
            if with_partial {
                row.push(if p.is_partial() { "true" } else { "false" }.to_string());
            }
            row.push(p.spelling(locus).to_string());
            row.extend(g.alleles().iter().map(ToString::to_string));
            row.resize(header.len(), String::new());
            out.write_record(&row)?;
        }
    }
    out.flush()
}

/// The error of writing a CODIS database export.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The output could not be written.
    #[error("cannot write")]
    Io(#[from] io::Error),
    /// A locus holds more alleles than the layout's 4 columns.
    #[error(
        "{locus} of specimen {specimen}: {count} alleles; a CODIS export has 4 columns per locus"
    )]
    TooManyAlleles {
        /// The specimen.
        specimen: String,
        /// The locus.
        locus: Locus,
        /// Its number of alleles.
        count: usize,
    },
}

/// Writes a CODIS database export: `specimenId`, then `<LOCUS>_1` .. `<LOCUS>_4` per typed
/// locus (canonical names and order), `NULL` for empty cells.
pub fn write_codis_export<W: Write>(w: W, profiles: &[Profile]) -> Result<(), ExportError> {
    let loci = typed_loci(profiles);
    let mut out = csv::WriterBuilder::new().from_writer(w);
    let mut header = vec!["specimenId".to_string()];
    for l in &loci {
        header.extend((1..=4).map(|i| format!("{}_{i}", l.name())));
    }
    out.write_record(&header).map_err(io::Error::from)?;
    let mut row: Vec<String> = Vec::with_capacity(header.len());
    for p in profiles {
        row.clear();
        row.push(p.id().to_string());
        for &l in &loci {
            let alleles = p.genotype(l).map_or(&[][..], |g| g.alleles());
            if alleles.len() > 4 {
                return Err(ExportError::TooManyAlleles {
                    specimen: p.id().to_string(),
                    locus: l,
                    count: alleles.len(),
                });
            }
            for i in 0..4 {
                row.push(
                    alleles
                        .get(i)
                        .map_or("NULL".to_string(), ToString::to_string),
                );
            }
        }
        out.write_record(&row).map_err(io::Error::from)?;
    }
    out.flush()?;
    Ok(())
}
