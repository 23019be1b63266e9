//! `tandem convert`: profiles from any format the CLI reads to CMF or a lab table, written
//! atomically (nothing is written when the input has a rejected specimen, in strict mode).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tandem_cmf::import::Format;
use tandem_cmf::table;
use tandem_cmf::{CmfDateTime, CmfSpecimen, CmfWriter, Header, Release, WriteOptions};
use tandem_core::{Profile, SpecimenCategory};

use crate::Outcome;
use crate::io::{self, ReadFlags};

/// Arguments of `tandem convert`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Formats: cmf (CODIS CMF XML), csv and tsv (wide tables: one row per \
specimen), long or genemapper (one row per specimen and locus: Sample Name, Marker, Allele 1..n), \
codis-export (specimenId, LOCUS_1..LOCUS_4, NULL when empty). The input format is told from the \
content, the output format from the extension (.xml/.cmf, .csv, .tsv). See docs/FORMATS.md.\n\n\
Exit status: 0 on success, 2 on any error; in strict mode (the default) a single rejected \
specimen is an error and nothing is written."
)]
pub struct Args {
    /// The file to read.
    #[arg(long, value_name = "PATH")]
    pub input: PathBuf,
    /// The input format (default: told from the content).
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    pub from: Option<Format>,
    /// The file to write (replaced atomically).
    #[arg(long, value_name = "PATH")]
    pub output: PathBuf,
    /// The output format (default: told from the output's extension).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub to: Option<OutputFormat>,
    /// The CMF header and release, for CMF output.
    #[command(flatten)]
    pub cmf: CmfArgs,
    /// How leniently the input is read.
    #[command(flatten)]
    pub read: ReadFlags,
}

/// The formats `convert` and `export` write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// CODIS CMF XML.
    Cmf,
    /// A wide table, comma-separated.
    Csv,
    /// A wide table, tab-separated.
    Tsv,
    /// A long table (the GeneMapper genotype layout), comma-separated.
    Long,
    /// A long table (the GeneMapper genotype layout), tab-separated.
    Genemapper,
    /// A CODIS database export (specimenId, LOCUS_1..LOCUS_4, NULL when empty).
    CodisExport,
}

/// The CMF header of a batch and the release to write, from options (for CMF input, its own
/// header fills what is not given).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CmfArgs {
    /// CMF `DESTINATIONORI`: the receiving CODIS lab (1-10 characters).
    #[arg(long, value_name = "ORI")]
    pub destination_ori: Option<String>,
    /// CMF `SOURCELAB`: the submitting lab's ORI (1-10 characters).
    #[arg(long, value_name = "ORI")]
    pub source_lab: Option<String>,
    /// CMF `SUBMITBYUSERID` (1-20 characters); also the `READINGBY` of loci without one.
    #[arg(long, value_name = "USER")]
    pub submit_by: Option<String>,
    /// CMF `SUBMITDATETIME`, CCYY-MM-DDThh:mm:ss (default: now, UTC).
    #[arg(long, value_name = "DATETIME", value_parser = parse_datetime)]
    pub submit_datetime: Option<CmfDateTime>,
    /// CMF `BATCHID` (at most 32 characters).
    #[arg(long, value_name = "ID")]
    pub batch_id: Option<String>,
    /// CMF `KIT` of the batch (a kit name of the release's list, e.g. "Identifiler").
    #[arg(long, value_name = "KIT")]
    pub kit: Option<String>,
    /// The CMF release to write: 3.2 (validates against cmf-3.2.xsd) or later (cmf-2017.xsd,
    /// needed for the CODIS 20 loci beyond the original 13 and for Y markers).
    #[arg(long, value_name = "RELEASE", default_value_t = Release::V3_2, value_parser = io::parse_release)]
    pub release: Release,
    /// The specimen category of specimens that have none (CMF requires one), e.g.
    /// "Convicted Offender".
    #[arg(long, value_name = "CATEGORY", value_parser = parse_category)]
    pub default_category: Option<SpecimenCategory>,
    /// Leave out the loci the release's schema does not list (e.g. D6S1043, Penta C, F13A01 in
    /// 3.2) instead of refusing the specimen; a warning on stderr says which loci were left out
    /// and how often.
    #[arg(long)]
    pub drop_unlisted_loci: bool,
}

/// A copy of `s` without the loci `release` cannot write, and those loci (empty when none).
fn without_unlisted(
    s: &CmfSpecimen,
    release: Release,
) -> Option<(CmfSpecimen, Vec<tandem_core::Locus>)> {
    let unlisted: Vec<tandem_core::Locus> = s
        .profile
        .genotypes()
        .map(|(l, _)| l)
        .filter(|&l| release.locus_spelling(l, s.profile.spelling(l)).is_none())
        .collect();
    if unlisted.is_empty() {
        return None;
    }
    let mut copy = s.clone();
    for l in &unlisted {
        copy.profile.remove_locus(*l);
    }
    copy.loci.retain(|(l, _)| !unlisted.contains(l));
    Some((copy, unlisted))
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse::<Format>().map_err(|e| e.to_string())
}

fn parse_datetime(s: &str) -> Result<CmfDateTime, String> {
    s.parse::<CmfDateTime>().map_err(|e| e.to_string())
}

/// Parses a CODIS specimen category (exact spelling, or any case).
pub fn parse_category(s: &str) -> Result<SpecimenCategory, String> {
    s.parse::<SpecimenCategory>()
        .or_else(|_| SpecimenCategory::parse_lenient(s))
        .map_err(|e| e.to_string())
}

impl CmfArgs {
    /// The header: the options, else the input's header, else an error naming what is missing.
    pub fn header(&self, input: Option<&Header>) -> Result<Header> {
        let pick = |given: &Option<String>, from: Option<&String>, flag: &str| -> Result<String> {
            match (given, from) {
                (Some(v), _) => Ok(v.clone()),
                (None, Some(v)) => Ok(v.clone()),
                (None, None) => bail!(
                    "CMF output needs {flag} (the CMF header: --destination-ori, --source-lab, --submit-by)"
                ),
            }
        };
        let destination_ori = pick(
            &self.destination_ori,
            input.map(|h| &h.destination_ori),
            "--destination-ori",
        )?;
        let source_lab = pick(
            &self.source_lab,
            input.map(|h| &h.source_lab),
            "--source-lab",
        )?;
        let submit_by = pick(&self.submit_by, input.map(|h| &h.submit_by), "--submit-by")?;
        let mut h = Header::new(&destination_ori, &source_lab, &submit_by);
        if let Some(i) = input {
            h.version = i.version.clone();
            h.submit_datetime = i.submit_datetime;
            h.batch_id = i.batch_id.clone();
            h.kit = i.kit.clone();
        }
        if let Some(t) = self.submit_datetime {
            h.submit_datetime = t;
        }
        if self.batch_id.is_some() {
            h.batch_id = self.batch_id.clone();
        }
        if self.kit.is_some() {
            h.kit = self.kit.clone();
        }
        Ok(h)
    }
}

impl OutputFormat {
    /// The output format a path's extension implies.
    pub fn from_path(path: &Path) -> Result<OutputFormat> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("xml" | "cmf") => Ok(OutputFormat::Cmf),
            Some("csv") => Ok(OutputFormat::Csv),
            Some("tsv" | "tab" | "txt") => Ok(OutputFormat::Tsv),
            _ => bail!(
                "cannot tell the output format from the name {}; give --to (cmf, csv, tsv, long, genemapper, codis-export)",
                path.display()
            ),
        }
    }
}

/// Writes specimens to `path` in `format`, atomically. CMF output needs the header; in lenient
/// mode a specimen CMF cannot carry is skipped with a warning, in strict mode it fails the
/// whole write (and nothing is written). Returns the number of specimens written.
pub fn write_specimens(
    path: &Path,
    format: OutputFormat,
    specimens: &[CmfSpecimen],
    cmf: &CmfArgs,
    input_header: Option<&Header>,
    lenient: bool,
) -> Result<usize> {
    let profiles = || -> Vec<Profile> { specimens.iter().map(|s| s.profile.clone()).collect() };
    let name = path.display().to_string();
    let mut written = specimens.len();
    match format {
        OutputFormat::Cmf => {
            let header = cmf.header(input_header)?;
            io::write_atomically(path, |out| {
                let mut w = CmfWriter::new(
                    out,
                    &header,
                    WriteOptions {
                        release: cmf.release,
                    },
                )
                .with_context(|| format!("{name}: CMF header"))?;
                written = 0;
                let mut dropped: std::collections::BTreeMap<tandem_core::Locus, usize> =
                    std::collections::BTreeMap::new();
                for s in specimens {
                    let trimmed;
                    let s = match cmf
                        .drop_unlisted_loci
                        .then(|| without_unlisted(s, cmf.release))
                        .flatten()
                    {
                        Some((copy, loci)) => {
                            for l in loci {
                                *dropped.entry(l).or_default() += 1;
                            }
                            trimmed = copy;
                            &trimmed
                        }
                        None => s,
                    };
                    let with_category;
                    let s = match (s.profile.category(), cmf.default_category) {
                        (None, Some(c)) => {
                            let mut copy = s.clone();
                            copy.profile.set_category(Some(c));
                            with_category = copy;
                            &with_category
                        }
                        _ => s,
                    };
                    match w.write(s) {
                        Ok(()) => written += 1,
                        Err(e @ tandem_cmf::WriteError::Invalid { .. }) if lenient => {
                            eprintln!("tandem: warning: {name}: {e}; specimen skipped");
                        }
                        Err(e) => {
                            return Err(
                                anyhow::Error::new(e).context(format!("cannot write {name}"))
                            );
                        }
                    }
                }
                w.finish().with_context(|| format!("cannot write {name}"))?;
                if !dropped.is_empty() {
                    let list: Vec<String> =
                        dropped.iter().map(|(l, n)| format!("{l} ({n})")).collect();
                    eprintln!(
                        "tandem: warning: {name}: loci not in CMF {} left out: {}",
                        cmf.release,
                        list.join(", ")
                    );
                }
                Ok(())
            })?;
        }
        OutputFormat::Csv | OutputFormat::Tsv => {
            let delimiter = if format == OutputFormat::Tsv {
                b'\t'
            } else {
                b','
            };
            let ps = profiles();
            io::write_atomically(path, |out| Ok(table::write_wide(out, &ps, delimiter)?))?;
        }
        OutputFormat::Long | OutputFormat::Genemapper => {
            let delimiter = if format == OutputFormat::Genemapper {
                b'\t'
            } else {
                b','
            };
            let ps = profiles();
            io::write_atomically(path, |out| Ok(table::write_long(out, &ps, delimiter)?))?;
        }
        OutputFormat::CodisExport => {
            let ps = profiles();
            io::write_atomically(path, |out| Ok(table::write_codis_export(out, &ps)?))?;
        }
    }
    Ok(written)
}

/// Runs `tandem convert`.
pub fn run(args: &Args) -> Result<Outcome> {
    let to = match args.to {
        Some(t) => t,
        None => OutputFormat::from_path(&args.output)?,
    };
    let read = io::load_specimens(&args.input, args.from, args.read)?;
    if read.specimens.is_empty() {
        bail!("{}: no specimen to convert", args.input.display());
    }
    let n = write_specimens(
        &args.output,
        to,
        &read.specimens,
        &args.cmf,
        read.header.as_ref(),
        args.read.lenient,
    )?;
    eprintln!(
        "tandem: {n} specimen{} converted from {} ({}) to {}",
        if n == 1 { "" } else { "s" },
        args.input.display(),
        read.format,
        args.output.display()
    );
    Ok(Outcome::Success)
}
