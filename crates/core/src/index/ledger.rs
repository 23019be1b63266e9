//! The ledger of an index file: a hash-chained, append-only record of every change (build, add,
//! removal, re-admission, merge, expungement) with who, where, when, why and the SHA-256 of each
//! input file, never any genetic data. `docs/FORMAT.md` ("The ledger") gives the record layout.
//!
//! The ledger sits beside the index (`<index>.audit.jsonl`, mode `0600`), one JSON object per
//! line. Each record carries its sequence number (1, 2, ...) and the SHA-256 of the line before
//! it (`prev`; 64 zeros for the first), so editing, removing or reordering a line breaks the
//! chain at the next one. The index header stores the chain head, the sequence number and the
//! first 16 bytes of the SHA-256 of the last record, written in the same locked update
//! ([`Update`]) as the data: a ledger deleted, truncated, edited at its
//! last line or swapped for an older copy no longer reaches the header's head.
//!
//! An update appends (and fsyncs) its records first, then renames the new index into place. A
//! crash between the two leaves records after the header's head: an interrupted update, which
//! [`verify`] reports, and which the next update chains on from.
//!
//! A removal is final: [`Ledger::removed`] lists the specimens removed and not re-admitted, and
//! every [`Update`] refuses an index that holds one of them unless the same
//! update records its re-admission ([`Action::Readmit`]).
//!
//! The chain is tamper-evident, not tamper-proof: it has no secret, so someone who can write both
//! files can forge a consistent pair. It catches what happens by accident or by a careless hand
//! (a log deleted, restored from an old backup, edited in a text editor, an index written by a
//! tool that bypasses the ledger).

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use super::Index;
use super::file::{OpenError, WriteError};
use super::update::{Update, UpdateError, UpdateOptions};
use crate::durable::{self, LockHolder};
use crate::profile::{Profile, ProfileId};

/// Bytes of the record hash kept in the index header.
pub const HEAD_HASH_LEN: usize = 16;

/// The chain head an index header stores: how many records the ledger held when the index was
/// written, and the first [`HEAD_HASH_LEN`] bytes of the SHA-256 of the last one. Zero (the
/// default) for an index written without a ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct LedgerHead {
    /// Sequence number of the last record (0: none).
    pub seq: u64,
    /// The first bytes of the SHA-256 of the last record's line.
    pub hash: [u8; HEAD_HASH_LEN],
}

impl std::fmt::Display for LedgerHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "record {} ({})", self.seq, hex::encode(self.hash))
    }
}

/// What a ledger record records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// An index built from input files (a new file, or one replaced).
    Build,
    /// Profiles added (or replaced) from input files.
    Add,
    /// Profiles removed from a national index (a court order, an overturned conviction...).
    Remove,
    /// Removed specimens let back in, explicitly and with a reason.
    Readmit,
    /// A regional merge of national indexes.
    Merge,
    /// References removed from a regional index.
    Expunge,
    /// A country dropped from a regional index on purpose.
    DropCountry,
    /// New references minted for a country whose key was lost.
    NewKey,
}

impl Action {
    /// The name written in the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Build => "build",
            Action::Add => "add",
            Action::Remove => "remove",
            Action::Readmit => "readmit",
            Action::Merge => "merge",
            Action::Expunge => "expunge",
            Action::DropCountry => "drop_country",
            Action::NewKey => "new_key",
        }
    }

    /// True for the actions that take specimens out for good ([`Action::Remove`],
    /// [`Action::Expunge`]).
    pub fn is_removal(self) -> bool {
        matches!(self, Action::Remove | Action::Expunge)
    }
}

/// The SHA-256 of an input file, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputDigest {
    /// The file as it was named.
    pub file: String,
    /// SHA-256 of its bytes, lower-case hex.
    pub sha256: String,
}

impl InputDigest {
    /// Reads `path` and hashes it.
    pub fn of(path: &Path) -> Result<InputDigest, LedgerError> {
        let err = |source| LedgerError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut f = std::fs::File::open(path).map_err(err)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf).map_err(err)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        Ok(InputDigest {
            file: path.display().to_string(),
            sha256: hex::encode(h.finalize()),
        })
    }
}

/// One line of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// 1 for the first record, then one more per record.
    pub seq: u64,
    /// SHA-256 of the previous line (without its newline), lower-case hex; 64 zeros for the first.
    pub prev: String,
    /// UTC time, RFC 3339 (seconds).
    pub time: String,
    /// Who asked.
    pub user: String,
    /// The host the change was made on.
    pub host: String,
    /// What was done.
    pub action: Action,
    /// The specimens (or regional references) removed or re-admitted; empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub specimens: Vec<String>,
    /// The countries a regional action concerns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub countries: Vec<String>,
    /// A regional expungement: one salted one-way fingerprint per reference, in the order of
    /// `specimens`, so the expungement outlives a lost country key (`docs/REGIONAL.md`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fingerprints: Vec<String>,
    /// Profiles before the change (`None`: there was no index).
    pub profiles_before: Option<u64>,
    /// Profiles after the change.
    pub profiles_after: u64,
    /// The input files read, with their SHA-256.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<InputDigest>,
    /// Why (court order 117/2026, nightly LIMS export...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What a caller asks an [`Update`] to record; the update fills in the sequence, the chain, the
/// time, the host and the profile counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// What is done.
    pub action: Action,
    /// Who asks ([`identity`] gives the default).
    pub user: String,
    /// Specimens removed or re-admitted.
    pub specimens: Vec<String>,
    /// Countries concerned (regional actions).
    pub countries: Vec<String>,
    /// Fingerprints of expunged regional references ([`Record::fingerprints`]).
    pub fingerprints: Vec<String>,
    /// Input files read.
    pub inputs: Vec<InputDigest>,
    /// Why.
    pub reason: Option<String>,
}

impl Event {
    /// An event with no specimen, country, input or reason.
    pub fn new(action: Action, user: &str) -> Event {
        Event {
            action,
            user: user.to_string(),
            specimens: Vec::new(),
            countries: Vec::new(),
            fingerprints: Vec::new(),
            inputs: Vec::new(),
            reason: None,
        }
    }
}

/// A problem with a ledger, or a refusal it commands.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The ledger (or an input file to hash) could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A line is not a ledger record.
    #[error("{path}, line {line}: not a ledger record: {message}")]
    Malformed {
        /// The ledger.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The chain is broken at a record: a record before it was edited or removed, or records
    /// were reordered.
    #[error("{path}, line {line}: record {seq} breaks the chain: {reason}")]
    Broken {
        /// The ledger.
        path: PathBuf,
        /// 1-based line of the first bad record.
        line: usize,
        /// Its sequence number as written.
        seq: u64,
        /// What does not match.
        reason: String,
    },
    /// The index header names a ledger record the ledger does not have: the ledger was deleted,
    /// truncated or swapped for an older copy.
    #[error(
        "{path}: the index was written after ledger record {head_seq}, but the ledger has {found} records (deleted, truncated or replaced by an older copy)"
    )]
    Behind {
        /// The ledger.
        path: PathBuf,
        /// The header's sequence number.
        head_seq: u64,
        /// Records in the ledger.
        found: u64,
    },
    /// The record the index header names differs from the one the header hashed.
    #[error("{path}, line {seq}: record {seq} is not the one the index was written after (edited)")]
    HeadMismatch {
        /// The ledger.
        path: PathBuf,
        /// The record.
        seq: u64,
    },
    /// No user identity: a change must say who made it.
    #[error(
        "no user identity: none given, $USER and $LOGNAME are unset and the user id has no passwd entry"
    )]
    NoUser,
    /// A change of this kind needs a reason.
    #[error("a {action} needs a reason")]
    NoReason {
        /// The action.
        action: &'static str,
    },
    /// A specimen the ledger says was removed would be in the index.
    #[error(
        "{path}: specimen {specimen} was removed by ledger record {} ({}, {}: {}); it is not taken back unless re-admitted explicitly; nothing was written",
        by.seq, by.time, by.user, by.reason.as_deref().unwrap_or("")
    )]
    Removed {
        /// The ledger.
        path: PathBuf,
        /// The specimen.
        specimen: String,
        /// The record that removed it.
        by: Box<Record>,
    },
    /// A specimen removed and not re-admitted is in the index.
    #[error(
        "{path}: specimen {specimen} is in the index but was removed by ledger record {seq} and never re-admitted"
    )]
    RemovedPresent {
        /// The index.
        path: PathBuf,
        /// The specimen.
        specimen: String,
        /// The removal record.
        seq: u64,
    },
    /// An update that removes specimens was interrupted before its index was written.
    #[error(
        "{path}: ledger record {seq} removes {specimens} still in the index: the removal was interrupted, or an older copy of the index was restored; run it again"
    )]
    InterruptedRemoval {
        /// The index.
        path: PathBuf,
        /// The record.
        seq: u64,
        /// The specimens still present, comma-separated.
        specimens: String,
    },
}

/// The ledger of an index: `<index>.audit.jsonl`.
pub fn log_path(index: &Path) -> PathBuf {
    let mut name = index
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".audit.jsonl");
    index.with_file_name(name)
}

/// The user a change is recorded under: `explicit` when given, else `$USER`, `$LOGNAME`, else
/// the passwd entry of the process's user id (as a job run by cron has); [`LedgerError::NoUser`]
/// when none gives a name: a change is never recorded as made by "unknown".
pub fn identity(explicit: Option<&str>) -> Result<String, LedgerError> {
    match explicit.map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => Ok(u.to_string()),
        None => durable::login_name().ok_or(LedgerError::NoUser),
    }
}

fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// The hex spelling of the hash before the first record.
fn genesis() -> String {
    "0".repeat(64)
}

/// A ledger read and checked link by link (not yet against an index header).
#[derive(Debug, Clone)]
pub struct Ledger {
    path: PathBuf,
    records: Vec<Record>,
    hashes: Vec<[u8; 32]>,
    /// Where a torn last line (no newline: a crash during an append) starts.
    torn: Option<u64>,
    /// Bytes of the file as read.
    len: u64,
}

impl Ledger {
    /// Reads the ledger of `index_path` (empty when there is none) and checks the chain: each
    /// record's sequence number and `prev` hash. The first bad record is named.
    pub fn read(index_path: &Path) -> Result<Ledger, LedgerError> {
        let path = log_path(index_path);
        let mut ledger = Ledger {
            path: path.clone(),
            records: Vec::new(),
            hashes: Vec::new(),
            torn: None,
            len: 0,
        };
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(ledger),
            Err(source) => return Err(LedgerError::Io { path, source }),
        };
        // every record is written with its newline in one fsynced append, before the index that
        // names it: bytes after the last newline are a record torn by a crash, never committed
        ledger.len = bytes.len() as u64;
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if complete < bytes.len() {
            ledger.torn = Some(complete as u64);
        }
        let mut prev = genesis();
        for (n, line) in bytes[..complete]
            .split_inclusive(|&b| b == b'\n')
            .enumerate()
        {
            let line = &line[..line.len() - 1];
            let record: Record =
                serde_json::from_slice(line).map_err(|e| LedgerError::Malformed {
                    path: path.clone(),
                    line: n + 1,
                    message: e.to_string(),
                })?;
            let expected = ledger.records.len() as u64 + 1;
            let broken = |reason: String| LedgerError::Broken {
                path: path.clone(),
                line: n + 1,
                seq: record.seq,
                reason,
            };
            if record.seq != expected {
                return Err(broken(format!(
                    "expected record {expected} here (a record was removed, duplicated or moved)"
                )));
            }
            if record.prev != prev {
                return Err(broken(
                    "its hash of the record before differs (that record was edited, removed or replaced)"
                        .into(),
                ));
            }
            let hash: [u8; 32] = Sha256::digest(line).into();
            prev = hex::encode(hash);
            ledger.records.push(record);
            ledger.hashes.push(hash);
        }
        Ok(ledger)
    }

    /// Bytes after the last complete record: a record torn by a crash during its append (never
    /// committed: the index that would name it was not written). The next append cuts them.
    pub fn torn_tail(&self) -> Option<u64> {
        self.torn
    }

    /// The ledger file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The records, in order.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The head after the last record.
    pub fn head(&self) -> LedgerHead {
        self.head_at(self.records.len() as u64)
    }

    fn head_at(&self, seq: u64) -> LedgerHead {
        let mut hash = [0u8; HEAD_HASH_LEN];
        if seq > 0
            && let Some(h) = self.hashes.get(seq as usize - 1)
        {
            hash.copy_from_slice(&h[..HEAD_HASH_LEN]);
        }
        LedgerHead { seq, hash }
    }

    /// Checks that the ledger reaches the head an index header stores; returns the records after
    /// it (those of an update interrupted before its index was written).
    pub fn check_head(&self, head: LedgerHead) -> Result<&[Record], LedgerError> {
        let found = self.records.len() as u64;
        if head.seq > found {
            return Err(LedgerError::Behind {
                path: self.path.clone(),
                head_seq: head.seq,
                found,
            });
        }
        if self.head_at(head.seq) != head {
            return Err(LedgerError::HeadMismatch {
                path: self.path.clone(),
                seq: head.seq,
            });
        }
        Ok(&self.records[head.seq as usize..])
    }

    /// The specimens removed ([`Action::is_removal`]) and not re-admitted since, with the record
    /// that removed each.
    pub fn removed(&self) -> BTreeMap<&str, &Record> {
        in_force(&self.records)
    }

    /// Refuses `index` when it holds a specimen removed and not re-admitted, unless `readmitted`
    /// lists it.
    pub fn check_final(&self, index: &Index, readmitted: &[String]) -> Result<(), LedgerError> {
        for (specimen, r) in self.removed() {
            if readmitted.iter().any(|s| s == specimen) {
                continue;
            }
            if ProfileId::new(specimen).is_ok_and(|id| index.contains(&id)) {
                return Err(LedgerError::Removed {
                    path: self.path.clone(),
                    specimen: specimen.to_string(),
                    by: Box::new(r.clone()),
                });
            }
        }
        Ok(())
    }

    /// Appends one record per event, fsynced, creating the ledger (mode 0600) when there is none;
    /// returns the new head.
    pub(crate) fn append(
        &mut self,
        events: &[Event],
        profiles_before: Option<u64>,
        profiles_after: u64,
    ) -> Result<LedgerHead, LedgerError> {
        if events.is_empty() {
            return Ok(self.head());
        }
        let err = |source| LedgerError::Io {
            path: self.path.clone(),
            source,
        };
        let host = durable::host_name();
        let time = now();
        let mut buf = Vec::new();
        let mut new = Vec::new();
        for e in events {
            let seq = self.records.len() as u64 + new.len() as u64 + 1;
            let prev = match new.last().map(|(_, h)| h).or(self.hashes.last()) {
                Some(h) => hex::encode(h),
                None => genesis(),
            };
            let record = Record {
                seq,
                prev,
                time: time.clone(),
                user: e.user.clone(),
                host: host.clone(),
                action: e.action,
                specimens: e.specimens.clone(),
                countries: e.countries.clone(),
                fingerprints: e.fingerprints.clone(),
                profiles_before,
                profiles_after,
                inputs: e.inputs.clone(),
                reason: e.reason.clone(),
            };
            let line = serde_json::to_vec(&record).map_err(|e| err(io::Error::other(e)))?;
            let hash: [u8; 32] = Sha256::digest(&line).into();
            buf.extend_from_slice(&line);
            buf.push(b'\n');
            new.push((record, hash));
        }
        let mut opts = OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&self.path).map_err(err)?;
        if let Some(at) = self.torn.take() {
            // under the writer lock: the torn bytes of a crashed append go before this one
            f.set_len(at).map_err(err)?;
        }
        f.write_all(&buf).map_err(err)?;
        f.sync_all().map_err(err)?;
        for (r, h) in new {
            self.records.push(r);
            self.hashes.push(h);
        }
        Ok(self.head())
    }
}

/// The specimens `records` remove ([`Action::is_removal`]) and do not re-admit after, with the
/// record that removed each.
fn in_force(records: &[Record]) -> BTreeMap<&str, &Record> {
    let mut out: BTreeMap<&str, &Record> = BTreeMap::new();
    for r in records {
        if r.action.is_removal() {
            for s in &r.specimens {
                out.insert(s, r);
            }
        } else if r.action == Action::Readmit {
            for s in &r.specimens {
                out.remove(s.as_str());
            }
        }
    }
    out
}

/// What [`verify`] found in a sound ledger.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LedgerReport {
    /// Records in the ledger.
    pub records: u64,
    /// The head the index header stores (sequence number).
    pub head_seq: u64,
    /// The head hash, hex.
    pub head_hash: String,
    /// Specimens removed and not re-admitted.
    pub removals_in_force: usize,
    /// Records after the header's head: an update interrupted before its index was written
    /// (harmless unless it removed specimens, which [`verify`] reports as an error).
    pub interrupted: Vec<u64>,
    /// Bytes of a record torn by a crash during its append (cut by the next update).
    pub torn_bytes: u64,
}

/// Checks the ledger of `index` (opened from `index_path`): the chain, that it reaches the
/// header's head, that no specimen removed and not re-admitted is in the index, and that no
/// interrupted removal left its specimens in.
pub fn verify(index: &Index, index_path: &Path) -> Result<LedgerReport, LedgerError> {
    let ledger = Ledger::read(index_path)?;
    let head = index.ledger_head();
    let after = ledger.check_head(head)?;
    for r in after.iter().filter(|r| r.action.is_removal()) {
        let present: Vec<&str> = r
            .specimens
            .iter()
            .filter(|s| ProfileId::new(s.as_str()).is_ok_and(|id| index.contains(&id)))
            .map(String::as_str)
            .collect();
        if !present.is_empty() {
            return Err(LedgerError::InterruptedRemoval {
                path: index_path.to_path_buf(),
                seq: r.seq,
                specimens: present.join(", "),
            });
        }
    }
    let removed = in_force(&ledger.records[..head.seq as usize]);
    for (specimen, r) in &removed {
        if ProfileId::new(specimen).is_ok_and(|id| index.contains(&id)) {
            return Err(LedgerError::RemovedPresent {
                path: index_path.to_path_buf(),
                specimen: specimen.to_string(),
                seq: r.seq,
            });
        }
    }
    Ok(LedgerReport {
        records: ledger.records.len() as u64,
        head_seq: head.seq,
        head_hash: hex::encode(head.hash),
        removals_in_force: removed.len(),
        interrupted: after.iter().map(|r| r.seq).collect(),
        torn_bytes: ledger.torn.map_or(0, |at| {
            std::fs::metadata(&ledger.path).map_or(0, |m| m.len() - at)
        }),
    })
}

/// The error of an expungement.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExpungeError {
    /// The index could not be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The new index could not be written (the old one is unchanged).
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The writer lock could not be taken, the ledger is unsound, or the update was refused (the
    /// index is unchanged).
    #[error(transparent)]
    Update(#[from] UpdateError),
    /// A specimen to remove is not in the index; nothing was removed.
    #[error("{path}: specimen {specimen} is not in the index; nothing was removed")]
    NotFound {
        /// The index file.
        path: PathBuf,
        /// The missing specimen.
        specimen: String,
    },
    /// No reason was given.
    #[error("a removal needs a reason")]
    NoReason,
}

/// Removes profiles from an index file: every id must be present (else nothing happens), the
/// ledger gets one [`Action::Remove`] record naming them, and the index is rewritten atomically
/// without them, so their genetic data is gone from the file and no later update takes them back
/// unless re-admitted. Returns the number of profiles left. Waits up to the default time for
/// another writer ([`expunge_with`] sets it).
pub fn expunge(
    index_path: &Path,
    ids: &[ProfileId],
    reason: &str,
    user: &str,
) -> Result<usize, ExpungeError> {
    let removal = Removal {
        action: Action::Remove,
        reason,
        user,
        fingerprint: None,
    };
    expunge_with(
        index_path,
        ids,
        &removal,
        &UpdateOptions::default(),
        &mut |_| {},
    )
}

/// How an expungement is recorded.
pub struct Removal<'a> {
    /// [`Action::Remove`] nationally, [`Action::Expunge`] regionally.
    pub action: Action,
    /// Why (required).
    pub reason: &'a str,
    /// Who asks.
    pub user: &'a str,
    /// A fingerprint to record for each removed profile ([`Record::fingerprints`]), or none.
    pub fingerprint: Option<&'a Fingerprint<'a>>,
}

/// Makes the fingerprint a regional expungement records for a removed profile.
pub type Fingerprint<'a> = dyn Fn(&ProfileId, &Profile) -> String + 'a;

/// [`expunge`] as one [`Update`], recorded as `removal` says: under the writer lock of the index
/// (waiting up to `options.wait`, calling `on_wait` as [`Update::begin_with`] does), so no
/// concurrent writer can bring a removed profile back or lose the removal. Removing every profile
/// is allowed whatever `options.allow_empty` says: each id was named.
pub fn expunge_with(
    index_path: &Path,
    ids: &[ProfileId],
    removal: &Removal<'_>,
    options: &UpdateOptions,
    on_wait: &mut dyn FnMut(Option<&LockHolder>),
) -> Result<usize, ExpungeError> {
    if removal.reason.trim().is_empty() {
        return Err(ExpungeError::NoReason);
    }
    let options = UpdateOptions {
        allow_empty: true,
        ..*options
    };
    let mut update = Update::begin_with(index_path, &options, on_wait)?;
    let mut index = update.open()?;
    let mut event = Event::new(removal.action, removal.user);
    for id in ids {
        let missing = || ExpungeError::NotFound {
            path: index_path.to_path_buf(),
            specimen: id.to_string(),
        };
        if let Some(fingerprint) = removal.fingerprint {
            let profile = index.get(id).ok_or_else(missing)?;
            event.fingerprints.push(fingerprint(id, &profile));
        } else if !index.contains(id) {
            return Err(missing());
        }
        event.specimens.push(id.to_string());
    }
    for id in ids {
        index.remove(id);
    }
    event.reason = Some(removal.reason.to_string());
    update.commit(&index, &[event])?;
    Ok(index.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::file;
    use crate::{Genotype, Locus};

    fn db(path: &Path, n: usize) -> Vec<ProfileId> {
        let l = Locus::lookup("TH01").unwrap();
        let ps: Vec<Profile> = (0..n)
            .map(|i| {
                Profile::new(ProfileId::new(&format!("P{i}")).unwrap())
                    .with(l, Genotype::parse_at(l, "6,9.3").unwrap())
            })
            .collect();
        Index::from_profiles(&ps).unwrap().write(path).unwrap();
        ps.iter().map(|p| p.id().clone()).collect()
    }

    #[test]
    fn test_expunge_with_ledger() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.tandem");
        let ids = db(&path, 5);
        let gone = [ids[1].clone(), ids[3].clone()];
        assert!(matches!(
            expunge(&path, &gone, " ", "ana"),
            Err(ExpungeError::NoReason)
        ));
        let unknown = [ProfileId::new("P9").unwrap()];
        assert!(matches!(
            expunge(&path, &unknown, "court order", "ana"),
            Err(ExpungeError::NotFound { .. })
        ));
        assert_eq!(
            expunge(&path, &gone, "court order 12/2026", "ana").unwrap(),
            3
        );
        let index = file::verify(&path).unwrap();
        assert!(!index.contains(&gone[0]) && !index.contains(&gone[1]));
        assert_eq!(index.ledger_head().seq, 1);
        let ledger = Ledger::read(&path).unwrap();
        let r = &ledger.records()[0];
        assert_eq!((r.seq, r.action), (1, Action::Remove));
        assert_eq!(r.specimens, vec!["P1".to_string(), "P3".to_string()]);
        assert_eq!((r.profiles_before, r.profiles_after), (Some(5), 3));
        assert_eq!(r.prev, genesis());
        let report = verify(&index, &path).unwrap();
        assert_eq!(report.removals_in_force, 2);
        assert!(report.interrupted.is_empty());
        let text = std::fs::read_to_string(log_path(&path)).unwrap();
        assert!(
            !text.contains("9.3") && !text.contains("TH01"),
            "genetic data in the ledger"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(log_path(&path)).unwrap().permissions();
            assert_eq!(mode.mode() & 0o777, 0o600);
        }
    }

    /// Two removals, then the ledger is damaged in each way; every damage fails `verify`.
    #[test]
    fn test_verify_with_tampered_ledger_names_the_first_bad_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.tandem");
        let ids = db(&path, 6);
        expunge(&path, &ids[..1], "order 1", "ana").unwrap();
        let old_copy = std::fs::read(log_path(&path)).unwrap();
        expunge(&path, &ids[1..2], "order 2", "ana").unwrap();
        expunge(&path, &ids[2..3], "order 3", "ana").unwrap();
        let index = file::verify(&path).unwrap();
        verify(&index, &path).unwrap();
        let good = std::fs::read_to_string(log_path(&path)).unwrap();
        let lines: Vec<&str> = good.lines().collect();
        let check = |text: &[u8]| {
            std::fs::write(log_path(&path), text).unwrap();
            let r = verify(&index, &path);
            std::fs::write(log_path(&path), &good).unwrap();
            r.unwrap_err()
        };
        // edited (a reason changed in the first record: the second no longer follows)
        let e = check(good.replacen("order 1", "order 7", 1).as_bytes());
        assert!(
            matches!(
                e,
                LedgerError::Broken {
                    line: 2,
                    seq: 2,
                    ..
                }
            ),
            "{e}"
        );
        // the last record edited: the header's head no longer matches
        let e = check(good.replacen("order 3", "order 9", 1).as_bytes());
        assert!(matches!(e, LedgerError::HeadMismatch { seq: 3, .. }), "{e}");
        // reordered
        let swapped = format!("{}\n{}\n{}\n", lines[0], lines[2], lines[1]);
        let e = check(swapped.as_bytes());
        assert!(matches!(e, LedgerError::Broken { line: 2, .. }), "{e}");
        // a record removed
        let cut = format!("{}\n{}\n", lines[0], lines[2]);
        let e = check(cut.as_bytes());
        assert!(matches!(e, LedgerError::Broken { line: 2, .. }), "{e}");
        // truncated, or swapped for an older copy
        let e = check(format!("{}\n{}\n", lines[0], lines[1]).as_bytes());
        assert!(matches!(e, LedgerError::Behind { head_seq: 3, .. }), "{e}");
        let e = check(&old_copy);
        assert!(matches!(e, LedgerError::Behind { found: 1, .. }), "{e}");
        // deleted
        std::fs::remove_file(log_path(&path)).unwrap();
        let e = verify(&index, &path).unwrap_err();
        std::fs::write(log_path(&path), &good).unwrap();
        assert!(matches!(e, LedgerError::Behind { found: 0, .. }), "{e}");
        // not a ledger at all
        let e = check(b"{\"time\":\"x\"}\n");
        assert!(matches!(e, LedgerError::Malformed { line: 1, .. }), "{e}");
        verify(&index, &path).unwrap();
    }

    #[test]
    fn test_verify_with_interrupted_removal_reports_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.tandem");
        let ids = db(&path, 3);
        // the record is appended, the index not written (a crash in between)
        let mut ledger = Ledger::read(&path).unwrap();
        let mut e = Event::new(Action::Remove, "ana");
        e.specimens = vec![ids[0].to_string()];
        e.reason = Some("order".into());
        ledger.append(&[e], Some(3), 2).unwrap();
        let index = file::verify(&path).unwrap();
        let err = verify(&index, &path).unwrap_err();
        assert!(
            matches!(err, LedgerError::InterruptedRemoval { seq: 1, .. }),
            "{err}"
        );
        // running it again completes it
        expunge(&path, &ids[..1], "order", "ana").unwrap();
        let index = file::verify(&path).unwrap();
        let report = verify(&index, &path).unwrap();
        assert_eq!((report.records, report.head_seq), (2, 2));
    }

    #[test]
    fn test_read_with_torn_last_line_ignores_it_and_append_cuts_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.tandem");
        let ids = db(&path, 4);
        expunge(&path, &ids[..1], "order 1", "ana").unwrap();
        // a crash in the middle of the next append
        let mut f = OpenOptions::new()
            .append(true)
            .open(log_path(&path))
            .unwrap();
        f.write_all(b"{\"seq\":2,\"prev\":\"ab").unwrap();
        drop(f);
        let index = file::verify(&path).unwrap();
        let report = verify(&index, &path).unwrap();
        assert_eq!((report.records, report.torn_bytes), (1, 19));
        expunge(&path, &ids[1..2], "order 2", "ana").unwrap();
        let ledger = Ledger::read(&path).unwrap();
        assert_eq!(ledger.records().len(), 2);
        assert_eq!(ledger.torn_tail(), None);
        let index = file::verify(&path).unwrap();
        assert_eq!(verify(&index, &path).unwrap().torn_bytes, 0);
    }

    #[test]
    fn test_identity_with_explicit_name_wins() {
        assert_eq!(identity(Some(" ana ")).unwrap(), "ana");
    }
}
