//! Loading profiles from the formats the CLI reads, writing files atomically, and output helpers
//! shared by subcommands: a buffered stdout, warnings on stderr, closed-pipe detection and the
//! one-line error chain.
//!
//! Every `--db`, `--query` and `--input` goes through [`load_specimens`]: CODIS CMF XML, wide and
//! two-column tables, GeneMapper ID-X genotype tables and CODIS database exports, told apart by
//! their content (see `docs/FORMATS.md`). Index files are recognised before that, in `db.rs`.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, StdoutLock, Write};
use std::path::Path;

use anyhow::{Context, Result};
use tandem_cmf::import::{self, Format, ImportError, ImportOptions};
use tandem_cmf::{CmfSpecimen, Header, Release};
use tandem_core::Profile;

/// How leniently input files are read (the `--allow-custom-loci`, `--ignore-unknown-columns`,
/// `--lenient` and `--cmf-release` flags).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::Args)]
pub struct ReadFlags {
    /// Accept columns (or CMF locus names) that are not known loci as custom loci instead of
    /// rejecting them.
    #[arg(long)]
    pub allow_custom_loci: bool,
    /// Skip columns that are neither loci nor known fields (with a warning) instead of failing.
    #[arg(long)]
    pub ignore_unknown_columns: bool,
    /// Import the good specimens and report every rejected one (on stderr) instead of failing
    /// the whole file when one is wrong.
    #[arg(long)]
    pub lenient: bool,
    /// The CMF release whose limits and lists apply to CMF input: 3.2 (at most 32 loci, the
    /// original lists) or later (cmf-2017.xsd: 64 loci, CODIS 20, Y markers).
    #[arg(long, value_name = "RELEASE", default_value_t = Release::Later, value_parser = parse_release)]
    pub cmf_release: Release,
}

/// Parses a `--cmf-release` / `--release` value.
pub fn parse_release(s: &str) -> Result<Release, String> {
    s.parse::<Release>().map_err(|e| e.to_string())
}

impl ReadFlags {
    /// The importer's options for these flags.
    fn import_options(self) -> ImportOptions {
        ImportOptions {
            cmf: tandem_cmf::ReadOptions {
                release: self.cmf_release,
                allow_custom_loci: self.allow_custom_loci,
            },
            table: tandem_cmf::table::ReadOptions {
                allow_custom_loci: self.allow_custom_loci,
                ignore_unknown_columns: self.ignore_unknown_columns,
            },
            lenient: self.lenient,
        }
    }
}

/// Profiles read from one input, with the reader's warnings already shown on stderr.
#[derive(Debug)]
pub struct Loaded {
    /// The profiles, in file order.
    pub profiles: Vec<Profile>,
    /// A population label per profile, when the input has one (NIST 1036 tables do).
    pub populations: Option<Vec<String>>,
}

/// Specimens read from one input, with their CMF fields (empty for tables).
#[derive(Debug)]
pub struct LoadedSpecimens {
    /// The format read.
    pub format: Format,
    /// The CMF header, for CMF input.
    pub header: Option<Header>,
    /// The specimens, in file order.
    pub specimens: Vec<CmfSpecimen>,
    /// A population label per specimen, when the input has one.
    pub populations: Option<Vec<String>>,
}

/// Reads every specimen of `path` in `format` (detected from the content when `None`).
///
/// Strict (default): when any specimen is rejected, every rejection is printed on stderr and
/// the load fails, importing nothing. Lenient: rejections are printed as warnings and the good
/// specimens are returned. Errors already name the file (and line, column, specimen, locus).
pub fn load_specimens(
    path: &Path,
    format: Option<Format>,
    flags: ReadFlags,
) -> Result<LoadedSpecimens> {
    match import::import_path(path, format, flags.import_options()) {
        Ok(read) => {
            warn_all(&read.warnings);
            for r in &read.rejected {
                eprintln!("tandem: warning: {r}; specimen skipped");
            }
            Ok(LoadedSpecimens {
                format: read.format,
                header: read.header,
                specimens: read.specimens,
                populations: read.populations,
            })
        }
        Err(ImportError::Rejected { file, errors }) => Err(rejected(&file, &errors)),
        Err(e) => Err(e.into()),
    }
}

/// The error of a strict import that rejected specimens: a single rejection is the error itself;
/// with several, each is printed on stderr and the error sums them up.
fn rejected(file: &str, errors: &[String]) -> anyhow::Error {
    if let [only] = errors {
        return anyhow::anyhow!("{only}");
    }
    for e in errors {
        eprintln!("tandem: error: {e}");
    }
    anyhow::anyhow!(
        "{file}: {} specimens rejected, nothing imported (--lenient imports the others)",
        errors.len()
    )
}

/// Reads every profile of `path`, in whatever format it is (see [`load_specimens`]).
pub fn load_profiles(path: &Path, flags: ReadFlags) -> Result<Loaded> {
    let read = load_specimens(path, None, flags)?;
    Ok(Loaded {
        profiles: read.specimens.into_iter().map(|s| s.profile).collect(),
        populations: read.populations,
    })
}

/// Reads a lab table held in memory; `name` names it in errors and warnings.
pub fn load_table_text(text: &str, name: &str, flags: ReadFlags) -> Result<Loaded> {
    let read = match import::import(text.as_bytes(), name, None, flags.import_options()) {
        Ok(read) => read,
        Err(ImportError::Rejected { file, errors }) => return Err(rejected(&file, &errors)),
        Err(e) => return Err(e.into()),
    };
    warn_all(&read.warnings);
    Ok(Loaded {
        profiles: read.specimens.into_iter().map(|s| s.profile).collect(),
        populations: read.populations,
    })
}

/// Writes `path` atomically: the content goes to a temporary file in the same directory, which
/// is flushed, synced and renamed over `path`, and the directory is synced; a crash or an error
/// leaves the old file (or none) in place, never a partial one.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let tmp = tempfile::NamedTempFile::new_in(&dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    {
        let mut out = BufWriter::with_capacity(1 << 16, tmp.as_file());
        write(&mut out)?;
        out.flush()
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    // make the rename durable (directories cannot be opened for syncing on every platform)
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Prints one warning per line on stderr.
pub fn warn_all(warnings: &[String]) {
    for w in warnings {
        eprintln!("tandem: warning: {w}");
    }
}

/// A buffered writer on locked stdout: the only way subcommands write their results.
pub fn stdout() -> BufWriter<StdoutLock<'static>> {
    BufWriter::with_capacity(1 << 16, io::stdout().lock())
}

/// True when the error comes from writing to a closed pipe (`tandem ... | head -1`): the reader
/// has all it wanted, so this is not an error.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// The error and its causes on one line, `outer: cause: root cause`. A cause whose text the line
/// already holds (an error that prints its source itself) is not repeated.
pub fn error_chain(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        let _ = write!(line, "{text}");
    }
    line
}
