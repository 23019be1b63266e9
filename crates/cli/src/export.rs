//! `tandem export`: a database (an index file or any profile file) as a CMF batch for upload.

use std::path::PathBuf;

use anyhow::{Result, bail};
use tandem_cmf::CmfSpecimen;
use tandem_core::SpecimenCategory;

use crate::Outcome;
use crate::convert::{self, CmfArgs, OutputFormat};
use crate::db;
use crate::io::{self, ReadFlags};

/// Arguments of `tandem export`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Exit status: 0 on success, 2 on any error (nothing is written).")]
pub struct Args {
    /// The database: an index file, or a profile file in any format the CLI reads.
    #[arg(long, value_name = "PATH")]
    pub db: PathBuf,
    /// The format to write (only cmf for now).
    #[arg(long, value_enum, default_value_t = ExportFormat::Cmf)]
    pub to: ExportFormat,
    /// The CMF file to write (replaced atomically).
    #[arg(long, value_name = "PATH")]
    pub output: PathBuf,
    /// Export only specimens of these categories (repeat the option or separate with ';'),
    /// e.g. --category "Convicted Offender" --category "Arrestee".
    #[arg(long, value_name = "CATEGORY", value_parser = convert::parse_category, value_delimiter = ';')]
    pub category: Vec<SpecimenCategory>,
    /// The CMF header and release.
    #[command(flatten)]
    pub cmf: CmfArgs,
    /// How leniently a profile file is read.
    #[command(flatten)]
    pub read: ReadFlags,
}

/// The formats `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// CODIS CMF XML.
    Cmf,
}

/// Runs `tandem export`.
pub fn run(args: &Args) -> Result<Outcome> {
    // the sources of a database: one arm per kind
    let (specimens, header) = if db::is_index_file(&args.db) {
        let profiles = db::load_profiles(&args.db, args.read)?;
        (
            profiles
                .into_iter()
                .map(CmfSpecimen::new)
                .collect::<Vec<_>>(),
            None,
        )
    } else {
        let read = io::load_specimens(&args.db, None, args.read)?;
        (read.specimens, read.header)
    };
    let total = specimens.len();
    let chosen: Vec<CmfSpecimen> = if args.category.is_empty() {
        specimens
    } else {
        specimens
            .into_iter()
            .filter(|s| {
                s.profile
                    .category()
                    .is_some_and(|c| args.category.contains(&c))
            })
            .collect()
    };
    if chosen.is_empty() {
        bail!(
            "{}: no specimen to export ({total} in the database, none of the categories asked for)",
            args.db.display()
        );
    }
    let format = match args.to {
        ExportFormat::Cmf => OutputFormat::Cmf,
    };
    let n = convert::write_specimens(
        &args.output,
        format,
        &chosen,
        &args.cmf,
        header.as_ref(),
        args.read.lenient,
    )?;
    eprintln!(
        "tandem: {n} of {total} specimens exported to {}",
        args.output.display()
    );
    Ok(Outcome::Success)
}
