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

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use tandem_cmf::import::{self, Format, ImportError, ImportOptions};
use tandem_cmf::{CmfSpecimen, Header, Release};
use tandem_core::Profile;
use tandem_core::durable::{self, LockHolder};
use tandem_core::index::update::{UpdateError, UpdateOptions};

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

/// Writes `path` atomically through [`tandem_core::durable::write_atomically`], the one helper
/// every file the CLI writes goes through: the content goes to a temporary file in the same
/// directory, which is flushed, synced and renamed over `path`, and the directory is synced; a
/// crash, an error or Ctrl-C leaves the old file (or none) in place, never a partial one.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    durable::write_atomically(path, |file: &mut File| -> Result<()> {
        let mut out = BufWriter::with_capacity(1 << 16, file);
        write(&mut out)?;
        out.flush()
            .with_context(|| format!("cannot write {}", path.display()))
    })
}

/// How a command that changes an index or a regional file waits for another writer and which
/// destructive changes it allows: `--wait`, plus `--allow-empty` and `--force` where a command
/// can replace a whole file.
#[derive(Debug, Clone, Copy, PartialEq, clap::Args)]
pub struct WaitFlags {
    /// How long to wait for another writer of the same file (its lock) before giving up with
    /// exit code 2; 0 gives up at once.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub wait: f64,
}

/// `--allow-empty` and `--force`, for commands that replace a whole index file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::Args)]
pub struct ReplaceFlags {
    /// Allow replacing an index that holds profiles with one that holds none (an empty export
    /// or a forgotten input is refused otherwise).
    #[arg(long)]
    pub allow_empty: bool,
    /// Allow replacing a file that is not a Tandem index (or an index that cannot be opened).
    #[arg(long)]
    pub force: bool,
}

impl WaitFlags {
    /// The update options these flags (and `replace`) give.
    pub fn options(&self, replace: ReplaceFlags) -> Result<UpdateOptions> {
        if !self.wait.is_finite() || self.wait < 0.0 || self.wait > 1e9 {
            anyhow::bail!(
                "--wait takes a number of seconds (0 or more), not {}",
                self.wait
            );
        }
        Ok(UpdateOptions {
            wait: std::time::Duration::from_secs_f64(self.wait),
            allow_empty: replace.allow_empty,
            force: replace.force,
        })
    }
}

/// The message a writer prints while it waits for the writer lock of `target` (on stderr).
pub fn waiting_message(target: &Path, wait: f64) -> impl FnMut(Option<&LockHolder>) + '_ {
    move |holder| match holder {
        Some(h) => eprintln!(
            "tandem: {} is being changed by another writer ({h}); waiting up to {wait} s",
            target.display()
        ),
        None => eprintln!(
            "tandem: {} is being changed by another writer; waiting up to {wait} s",
            target.display()
        ),
    }
}

/// Set while a command asks Ctrl-C to stop it gracefully (`tandem bench`).
static DEFER_INTERRUPT: AtomicBool = AtomicBool::new(false);
/// Set by the first deferred Ctrl-C.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Exit status of a process ended by Ctrl-C or `SIGTERM` (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: i32 = 130;

/// Installs the process's one handler of Ctrl-C, `SIGTERM` and `SIGHUP`: the temporary files of
/// the writes in flight are removed ([`durable::abandon_writes`]), so no half-written file of DNA
/// data is left behind, and the process exits with [`EXIT_INTERRUPTED`]; the writer lock is
/// released by the operating system. While [`defer_interrupts`] is on, the first Ctrl-C only sets
/// a flag ([`interrupted`]) and the second one ends the process.
pub fn install_interrupt_handler() {
    let installed = ctrlc::set_handler(|| {
        if DEFER_INTERRUPT.load(Ordering::SeqCst) && !INTERRUPTED.swap(true, Ordering::SeqCst) {
            eprintln!(
                "\ntandem: interrupted; stopping after the current run (Ctrl-C again to quit at once)"
            );
            return;
        }
        let removed = durable::abandon_writes();
        if removed > 0 {
            eprintln!("\ntandem: interrupted; removed {removed} unfinished file(s)");
        }
        std::process::exit(EXIT_INTERRUPTED);
    });
    if let Err(e) = installed {
        eprintln!("tandem: warning: cannot catch Ctrl-C ({e})");
    }
}

/// From now on, the first Ctrl-C asks the command to stop (see [`interrupted`]) instead of ending
/// the process.
pub fn defer_interrupts() {
    DEFER_INTERRUPT.store(true, Ordering::SeqCst);
}

/// True once a deferred Ctrl-C was received.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// The error of an update with the flag that overrides it, if any (a library message never
/// names a flag; the CLI adds the hint).
pub fn refusal_hint(e: UpdateError) -> anyhow::Error {
    let hint = match &e {
        UpdateError::WouldEmpty { .. } => Some("--allow-empty replaces it anyway"),
        UpdateError::NotAnIndex { .. } | UpdateError::Damaged { .. } => {
            Some("--force replaces it anyway")
        }
        UpdateError::Lock(durable::LockError::Locked { .. }) => {
            Some("run again when the other writer is done, or wait longer with --wait SECONDS")
        }
        UpdateError::Ledger(tandem_core::index::ledger::LedgerError::Removed { .. }) => {
            Some("--readmit ID --reason TEXT lets it back in, on the record")
        }
        _ => None,
    };
    let e = anyhow::Error::new(e);
    match hint {
        Some(h) => anyhow::anyhow!("{}; {h}", error_chain(&e)),
        None => e,
    }
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
