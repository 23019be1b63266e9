//! `tandem index`: build, grow, expunge from, verify and describe index files.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args as ClapArgs, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use tandem_core::index::{audit, file};
use tandem_core::{Index, ProfileId};

use crate::Outcome;
use crate::io::{self, ReadFlags};

/// `tandem index` subcommands.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build an index file from profile files (tables, CMF or other index files).
    Build {
        /// Input files; their profiles are merged (a specimen id may appear only once).
        #[arg(long, required = true, num_args = 1..)]
        input: Vec<PathBuf>,
        /// The index file to write (replaced atomically if it exists).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        read: ReadFlags,
    },
    /// Add profiles to an index file (rewritten atomically).
    Add {
        /// The index file.
        #[arg(long)]
        index: PathBuf,
        /// Input files.
        #[arg(long, required = true, num_args = 1..)]
        input: Vec<PathBuf>,
        /// Replace profiles whose specimen id is already in the index (else that is an error and
        /// nothing is written).
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        read: ReadFlags,
    },
    /// Expunge profiles: their genetic data is removed from the file, and the audit log beside it
    /// (`INDEX.audit.jsonl`) records who removed which specimen, when and why.
    Remove {
        /// The index file.
        #[arg(long)]
        index: PathBuf,
        /// Specimen ids to remove.
        #[arg(long, num_args = 1.., required_unless_present = "ids_file", conflicts_with = "ids_file")]
        id: Vec<String>,
        /// A file with one specimen id per line.
        #[arg(long)]
        ids_file: Option<PathBuf>,
        /// Why (court order, overturned conviction...); recorded in the audit log.
        #[arg(long)]
        reason: String,
        /// Who asks for the removal (default: $USER).
        #[arg(long)]
        user: Option<String>,
    },
    /// Check every checksum and invariant of an index file and its audit log.
    Verify {
        /// The index file.
        index: PathBuf,
    },
    /// Describe an index file: profiles, loci, categories, size, format version.
    Info {
        /// The index file.
        index: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: InfoFormat,
    },
}

/// Output of `tandem index info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum InfoFormat {
    /// Readable lines.
    Text,
    /// One JSON object.
    Json,
}

/// A spinner on stderr while a long step runs, only when stderr is a terminal.
fn spinner(msg: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

fn read_inputs(inputs: &[PathBuf], read: ReadFlags) -> Result<Vec<tandem_core::Profile>> {
    let mut all = Vec::new();
    let pb = ProgressBar::new(inputs.len() as u64);
    if std::io::stderr().is_terminal() && inputs.len() > 1 {
        pb.set_style(
            ProgressStyle::with_template("reading {pos}/{len} {bar:30} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
    } else {
        pb.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    for path in inputs {
        pb.set_message(path.display().to_string());
        all.extend(crate::db::load_profiles(path, read)?);
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok(all)
}

/// Runs `tandem index ...`.
pub fn run(args: &Args) -> Result<Outcome> {
    match &args.command {
        Command::Build { input, out, read } => {
            let t = Instant::now();
            let profiles = read_inputs(input, *read)?;
            let pb = spinner("building the index");
            let index = Index::from_profiles(&profiles).context("cannot build the index")?;
            drop(profiles);
            pb.set_message("writing");
            index.write(out)?;
            pb.finish_and_clear();
            eprintln!(
                "{}: {} profiles, {} loci, in {:.2?}",
                out.display(),
                index.len(),
                index.loci().len(),
                t.elapsed()
            );
        }
        Command::Add {
            index: path,
            input,
            replace,
            read,
        } => {
            let t = Instant::now();
            let profiles = read_inputs(input, *read)?;
            let mut index = Index::open(path)?;
            let before = index.len();
            // check everything first: nothing is written unless every profile can go in
            if !replace && let Some(p) = profiles.iter().find(|p| index.contains(p.id())) {
                bail!(
                    "{}: specimen {} is already in the index (use --replace to replace it); nothing was written",
                    path.display(),
                    p.id()
                );
            }
            let pb = spinner("adding");
            for p in profiles {
                let id = p.id().clone();
                let r = if *replace {
                    index.upsert(p)
                } else {
                    index.add(p)
                };
                r.with_context(|| format!("cannot add specimen {id}; nothing was written"))?;
            }
            pb.set_message("writing");
            index.write(path)?;
            pb.finish_and_clear();
            eprintln!(
                "{}: {} -> {} profiles in {:.2?}",
                path.display(),
                before,
                index.len(),
                t.elapsed()
            );
        }
        Command::Remove {
            index,
            id,
            ids_file,
            reason,
            user,
        } => {
            let mut ids: Vec<ProfileId> = Vec::new();
            for s in id {
                ids.push(ProfileId::new(s)?);
            }
            if let Some(f) = ids_file {
                let text = std::fs::read_to_string(f)
                    .with_context(|| format!("cannot read {}", f.display()))?;
                for (n, line) in text.lines().enumerate() {
                    let line = line.trim();
                    if !line.is_empty() && !line.starts_with('#') {
                        ids.push(
                            ProfileId::new(line)
                                .with_context(|| format!("{}, line {}", f.display(), n + 1))?,
                        );
                    }
                }
            }
            if ids.is_empty() {
                bail!("no specimen id to remove");
            }
            let user = user
                .clone()
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "unknown".into());
            let left = audit::expunge(index, &ids, reason, &user)?;
            eprintln!(
                "{}: removed {} profiles, {} left; audit log {}",
                index.display(),
                ids.len(),
                left,
                audit::log_path(index).display()
            );
        }
        Command::Verify { index } => {
            let t = Instant::now();
            let idx = file::verify(index)?;
            let pending = audit::check(&idx, index)?;
            if !pending.is_empty() {
                bail!(
                    "{}: the audit log records the removal of {} specimens still in the index (interrupted expungement; run the removal again): {}",
                    index.display(),
                    pending.len(),
                    pending.join(", ")
                );
            }
            writeln!(
                io::stdout(),
                "{}: ok ({} profiles, {} loci, checked in {:.2?})",
                index.display(),
                idx.len(),
                idx.loci().len(),
                t.elapsed()
            )?;
        }
        Command::Info { index, format } => info(index, *format)?,
    }
    Ok(Outcome::Success)
}

fn info(path: &Path, format: InfoFormat) -> Result<()> {
    let info = file::info(path)?;
    let mut out = io::stdout();
    match format {
        InfoFormat::Json => writeln!(out, "{}", serde_json::to_string(&info)?)?,
        InfoFormat::Text => {
            writeln!(out, "file            {}", path.display())?;
            writeln!(out, "format version  {}", info.format_version)?;
            writeln!(out, "profiles        {}", info.profiles)?;
            writeln!(
                out,
                "loci            {} ({})",
                info.loci.len(),
                info.loci.join(", ")
            )?;
            let kits: Vec<&str> = tandem_core::Kit::ALL
                .iter()
                .filter(|k| {
                    k.loci()
                        .iter()
                        .all(|l| info.loci.iter().any(|x| x == l.name()))
                })
                .map(|k| k.name())
                .collect();
            writeln!(
                out,
                "kits covered    {}",
                if kits.is_empty() {
                    "-".to_string()
                } else {
                    kits.join(", ")
                }
            )?;
            for (c, n) in &info.categories {
                writeln!(out, "category        {c}: {n}")?;
            }
            writeln!(out, "file size       {} bytes", info.file_bytes)?;
            writeln!(out, "genotype data   {} bytes", info.genotype_bytes)?;
            writeln!(out, "specimen ids    {} bytes", info.id_bytes)?;
        }
    }
    Ok(())
}
