//! `tandem index`: build, grow, expunge from, verify and describe index files.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args as ClapArgs, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use tandem_core::index::file;
use tandem_core::index::ledger::{self, Action, Event};
use tandem_core::index::update::Update;
use tandem_core::{Index, ProfileId};

use crate::Outcome;
use crate::io::{self, ReadFlags, ReplaceFlags, WaitFlags};

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
        /// The index file to write (replaced atomically if it exists, under its writer lock).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        replace: ReplaceFlags,
        #[command(flatten)]
        wait: WaitFlags,
        #[command(flatten)]
        ledger: LedgerFlags,
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
        wait: WaitFlags,
        #[command(flatten)]
        ledger: LedgerFlags,
        #[command(flatten)]
        read: ReadFlags,
    },
    /// Expunge profiles: their genetic data is removed from the file, and the ledger beside it
    /// (`INDEX.audit.jsonl`) records who removed which specimen, when and why. The removal is
    /// final: no later add or build takes the specimen back unless it is re-admitted (--readmit).
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
        /// Why (court order, overturned conviction...); recorded in the ledger.
        #[arg(long)]
        reason: String,
        /// Who asks for the removal (default: $USER).
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        wait: WaitFlags,
    },
    /// Check every checksum and invariant of an index file and its ledger (the hash chain, the
    /// head the index was written after, no removed specimen present).
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

/// Who makes a change, and specimens let back in after a removal (`index build` and `add`).
#[derive(Debug, Clone, ClapArgs)]
struct LedgerFlags {
    /// Who makes the change, as recorded in the ledger (default: $USER, $LOGNAME, else the
    /// passwd entry of the user id; a change with no identity is refused).
    #[arg(long)]
    user: Option<String>,
    /// Let a specimen that was removed (a court order) back in: recorded in the ledger with
    /// --reason. Without it, a removed specimen in the input is refused.
    #[arg(long, value_name = "ID", num_args = 1.., requires = "reason")]
    readmit: Vec<String>,
    /// Why: recorded in the ledger (required with --readmit).
    #[arg(long)]
    reason: Option<String>,
}

impl LedgerFlags {
    /// The ledger events of a build or an add of `inputs`: a re-admission first when asked for.
    fn events(&self, action: Action, inputs: &[PathBuf]) -> Result<Vec<Event>> {
        let user = ledger::identity(self.user.as_deref())?;
        let mut events = Vec::new();
        if !self.readmit.is_empty() {
            let reason = self
                .reason
                .as_deref()
                .filter(|r| !r.trim().is_empty())
                .ok_or_else(|| anyhow::anyhow!("--readmit needs a --reason"))?;
            let mut e = Event::new(Action::Readmit, &user);
            for id in &self.readmit {
                e.specimens.push(ProfileId::new(id)?.to_string());
            }
            e.reason = Some(reason.to_string());
            events.push(e);
        }
        let mut e = Event::new(action, &user);
        e.reason = self.reason.clone();
        for i in inputs {
            e.inputs.push(ledger::InputDigest::of(i)?);
        }
        events.push(e);
        Ok(events)
    }
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
        Command::Build {
            input,
            out,
            replace,
            wait,
            ledger: record,
            read,
        } => {
            let t = Instant::now();
            let options = wait.options(*replace)?;
            let events = record.events(Action::Build, input)?;
            let lock = || {
                Update::begin_with(out, &options, &mut io::waiting_message(out, wait.wait))
                    .map_err(io::refusal_hint)
            };
            // rebuilding a file from itself (`--input db.tandem ... --out db.tandem`) is a
            // read-modify-write: the lock is taken before the read, so no add made meanwhile is
            // lost; otherwise the inputs are read first and the lock is held only to write
            let reads_itself = input.iter().any(|i| same_file(i, out));
            let early = if reads_itself { Some(lock()?) } else { None };
            let profiles = read_inputs(input, *read)?;
            let pb = spinner("building the index");
            let index = Index::from_profiles(&profiles).context("cannot build the index")?;
            drop(profiles);
            pb.set_message("waiting for the writer lock");
            let mut update = match early {
                Some(u) => u,
                None => lock()?,
            };
            pb.set_message("writing");
            update.commit(&index, &events).map_err(io::refusal_hint)?;
            drop(update);
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
            wait,
            ledger: record,
            read,
        } => {
            let t = Instant::now();
            let events = record.events(Action::Add, input)?;
            let profiles = read_inputs(input, *read)?;
            let options = wait.options(ReplaceFlags::default())?;
            // from here to the rename, no other writer changes the file: the profiles go into
            // the index as it is now, not as it was when this command started
            let mut update =
                Update::begin_with(path, &options, &mut io::waiting_message(path, wait.wait))
                    .map_err(io::refusal_hint)?;
            let mut index = update.open()?;
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
            update.commit(&index, &events).map_err(io::refusal_hint)?;
            drop(update);
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
            wait,
        } => {
            let options = wait.options(ReplaceFlags::default())?;
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
            let user = ledger::identity(user.as_deref())?;
            let removal = ledger::Removal {
                action: Action::Remove,
                reason,
                user: &user,
                fingerprint: None,
            };
            let left = ledger::expunge_with(
                index,
                &ids,
                &removal,
                &options,
                &mut io::waiting_message(index, wait.wait),
            )
            .map_err(|e| match e {
                ledger::ExpungeError::Update(u) => io::refusal_hint(u),
                e => e.into(),
            })?;
            eprintln!(
                "{}: removed {} profiles, {} left; ledger {}",
                index.display(),
                ids.len(),
                left,
                ledger::log_path(index).display()
            );
        }
        Command::Verify { index } => {
            let t = Instant::now();
            let idx = file::verify(index)?;
            let report = ledger::verify(&idx, index)?;
            for seq in &report.interrupted {
                eprintln!(
                    "tandem: warning: {}: ledger record {seq} belongs to an update interrupted before its index was written (nothing of it is in the index)",
                    ledger::log_path(index).display()
                );
            }
            if report.torn_bytes > 0 {
                eprintln!(
                    "tandem: warning: {}: the last {} bytes are a record torn by a crash during its append (never committed; the next update cuts them)",
                    ledger::log_path(index).display(),
                    report.torn_bytes
                );
            }
            writeln!(
                io::stdout(),
                "{}: ok ({} profiles, {} loci; ledger: {} records, head {}, {} removals in force; checked in {:.2?})",
                index.display(),
                idx.len(),
                idx.loci().len(),
                report.records,
                report.head_seq,
                report.removals_in_force,
                t.elapsed()
            )?;
        }
        Command::Info { index, format } => info(index, *format)?,
    }
    Ok(Outcome::Success)
}

/// True when `a` and `b` name the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn info(path: &Path, format: InfoFormat) -> Result<()> {
    let info = file::info(path)?;
    // the removals in force, from the ledger (which `verify` checks against the header)
    let removals = ledger::Ledger::read(path).map(|l| l.removed().len());
    let mut out = io::stdout();
    match format {
        InfoFormat::Json => {
            let mut v = serde_json::to_value(&info)?;
            v["removals_in_force"] = match &removals {
                Ok(n) => serde_json::json!(n),
                Err(_) => serde_json::Value::Null,
            };
            writeln!(out, "{v}")?
        }
        InfoFormat::Text => {
            writeln!(out, "file            {}", path.display())?;
            writeln!(out, "format version  {}", info.format_version)?;
            writeln!(
                out,
                "ledger head     record {} ({})",
                info.ledger_head_seq, info.ledger_head_hash
            )?;
            match &removals {
                Ok(n) => writeln!(out, "removals        {n} in force")?,
                Err(e) => writeln!(out, "removals        unknown: {e}")?,
            }
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
