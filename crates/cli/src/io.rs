//! Loading profiles from the formats the CLI reads, and output helpers shared by subcommands:
//! a buffered stdout, warnings on stderr, closed-pipe detection and the one-line error chain.

use std::fmt::Write as _;
use std::io::{self, BufWriter, StdoutLock};
use std::path::Path;

use anyhow::Result;
use tandem_core::Profile;
use tandem_core::table::{self, TableOptions};

/// A file format the CLI reads profiles from. A new format (index file, CMF) is one more variant
/// and one more arm in [`load_profiles`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A wide lab table (CSV or TSV): one row per specimen, read by [`tandem_core::table`].
    Table,
}

impl Format {
    /// The format of a file. Only lab tables are read today, so every path is a table; later
    /// formats will be recognised by magic bytes or extension here.
    pub fn detect(_path: &Path) -> Format {
        Format::Table
    }
}

/// How leniently input files are read (the `--allow-custom-loci`, `--ignore-unknown-columns`
/// and `--lenient` flags).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::Args)]
pub struct ReadFlags {
    /// Accept columns that are not known loci as custom loci instead of rejecting them.
    #[arg(long)]
    pub allow_custom_loci: bool,
    /// Skip columns that are neither loci nor known fields (with a warning) instead of failing.
    #[arg(long)]
    pub ignore_unknown_columns: bool,
    /// Skip rows that cannot be read (with a warning) instead of failing.
    #[arg(long)]
    pub lenient: bool,
}

impl ReadFlags {
    /// The table reader's options for these flags.
    fn table_options(self) -> TableOptions {
        TableOptions {
            allow_custom_loci: self.allow_custom_loci,
            ignore_unknown_columns: self.ignore_unknown_columns,
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

/// Reads every profile of `path`, in whatever format it is; warnings go to stderr.
///
/// Errors already name the file (and line and column where they apply).
pub fn load_profiles(path: &Path, flags: ReadFlags) -> Result<Loaded> {
    match Format::detect(path) {
        Format::Table => {
            let read = table::read_path(path, &flags.table_options())?;
            warn_all(&read.warnings);
            Ok(Loaded {
                profiles: read.profiles,
                populations: read.populations,
            })
        }
    }
}

/// Reads a lab table held in memory; `name` names it in errors and warnings.
pub fn load_table_text(text: &str, name: &str, flags: ReadFlags) -> Result<Loaded> {
    let read = table::read(text.as_bytes(), name, &flags.table_options())?;
    warn_all(&read.warnings);
    Ok(Loaded {
        profiles: read.profiles,
        populations: read.populations,
    })
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
