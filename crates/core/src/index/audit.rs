//! Expungement of profiles from an index file, with an append-only audit log that records who
//! removed which specimen, when and why, and never any genetic data.
//!
//! The log sits beside the index (`<index>.audit.jsonl`), one JSON object per line. A removal
//! first appends (and fsyncs) one `remove` record per specimen, then rewrites the index atomically
//! without those profiles, then appends a `done` record. A crash in between leaves records whose
//! removal may not have happened; [`check`] reports any audited specimen still in the index, and
//! running the removal again completes it.

use std::fs::OpenOptions;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::Index;
use super::file::{OpenError, WriteError};
use super::update::{Update, UpdateError, UpdateOptions};
use crate::durable::LockHolder;
use crate::profile::ProfileId;

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditRecord {
    /// UTC time, RFC 3339 (seconds).
    pub time: String,
    /// `remove` (before the index is rewritten) or `done` (after).
    pub action: String,
    /// Who asked for the removal.
    pub user: String,
    /// The specimen id removed (empty for `done`).
    pub specimen: String,
    /// Why (court order, overturned conviction...).
    pub reason: String,
    /// Profiles in the index before and after (for `done`).
    pub profiles_after: Option<usize>,
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
    /// The writer lock could not be taken, or the update was refused (the index is unchanged).
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
    /// The audit log could not be written or read.
    #[error("{path}: {source}")]
    Log {
        /// The log file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// The audit log of an index file.
pub fn log_path(index: &Path) -> PathBuf {
    let mut name = index
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".audit.jsonl");
    index.with_file_name(name)
}

fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

fn append(path: &Path, records: &[AuditRecord]) -> Result<(), ExpungeError> {
    let err = |source| ExpungeError::Log {
        path: path.to_path_buf(),
        source,
    };
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(err)?;
    let mut buf = Vec::new();
    for r in records {
        serde_json::to_writer(&mut buf, r).map_err(|e| err(io::Error::other(e)))?;
        buf.push(b'\n');
    }
    f.write_all(&buf).map_err(err)?;
    f.sync_all().map_err(err)
}

/// Removes profiles from an index file: every id must be present (else nothing happens), the
/// audit log gets a record per specimen, and the index is rewritten atomically without them, so
/// their genetic data is gone from the file. Returns the number of profiles left. Waits up to
/// the default time for another writer ([`expunge_with`] sets it).
pub fn expunge(
    index_path: &Path,
    ids: &[ProfileId],
    reason: &str,
    user: &str,
) -> Result<usize, ExpungeError> {
    expunge_with(
        index_path,
        ids,
        reason,
        user,
        &UpdateOptions::default(),
        &mut |_| {},
    )
}

/// [`expunge`] as one [`Update`]: under the writer lock of the index (waiting up to
/// `options.wait`, calling `on_wait` as [`Update::begin_with`] does), so no concurrent writer
/// can bring a removed profile back or lose the removal. Removing every profile is allowed
/// whatever `options.allow_empty` says: each id was named.
pub fn expunge_with(
    index_path: &Path,
    ids: &[ProfileId],
    reason: &str,
    user: &str,
    options: &UpdateOptions,
    on_wait: &mut dyn FnMut(Option<&LockHolder>),
) -> Result<usize, ExpungeError> {
    if reason.trim().is_empty() {
        return Err(ExpungeError::NoReason);
    }
    let options = UpdateOptions {
        allow_empty: true,
        ..*options
    };
    let mut update = Update::begin_with(index_path, &options, on_wait)?;
    let mut index = update.open()?;
    if let Some(missing) = ids.iter().find(|id| !index.contains(id)) {
        return Err(ExpungeError::NotFound {
            path: index_path.to_path_buf(),
            specimen: missing.to_string(),
        });
    }
    let log = log_path(index_path);
    let time = now();
    let records: Vec<AuditRecord> = ids
        .iter()
        .map(|id| AuditRecord {
            time: time.clone(),
            action: "remove".into(),
            user: user.into(),
            specimen: id.to_string(),
            reason: reason.into(),
            profiles_after: None,
        })
        .collect();
    append(&log, &records)?;
    for id in ids {
        index.remove(id);
    }
    update.commit(&index)?;
    append(
        &log,
        &[AuditRecord {
            time: now(),
            action: "done".into(),
            user: user.into(),
            specimen: String::new(),
            reason: reason.into(),
            profiles_after: Some(index.len()),
        }],
    )?;
    Ok(index.len())
}

/// Reads the audit log of an index (empty when there is none).
pub fn read_log(index_path: &Path) -> Result<Vec<AuditRecord>, ExpungeError> {
    let log = log_path(index_path);
    let err = |source| ExpungeError::Log {
        path: log.clone(),
        source,
    };
    let f = match std::fs::File::open(&log) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(err(e)),
    };
    let mut out = Vec::new();
    for (n, line) in io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(err)?;
        if line.trim().is_empty() {
            continue;
        }
        let r: AuditRecord = serde_json::from_str(&line).map_err(|e| {
            err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("line {}: {e}", n + 1),
            ))
        })?;
        out.push(r);
    }
    Ok(out)
}

/// Specimens of an interrupted expungement: `remove` records not followed by their `done`
/// record whose specimen is still in the index. Empty when every removal completed (a specimen
/// added again after a completed removal is not reported).
pub fn check(index: &Index, index_path: &Path) -> Result<Vec<String>, ExpungeError> {
    let mut pending: Vec<String> = Vec::new();
    for r in read_log(index_path)? {
        match r.action.as_str() {
            "remove" => pending.push(r.specimen),
            "done" => pending.clear(),
            _ => {}
        }
    }
    pending.retain(|s| ProfileId::new(s).is_ok_and(|id| index.contains(&id)));
    Ok(pending)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::file;
    use crate::{Genotype, Locus, Profile};

    #[test]
    fn test_expunge_with_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.tandem");
        let l = Locus::lookup("TH01").unwrap();
        let ps: Vec<Profile> = (0..5)
            .map(|i| {
                Profile::new(ProfileId::new(&format!("P{i}")).unwrap())
                    .with(l, Genotype::parse_at(l, "6,9.3").unwrap())
            })
            .collect();
        Index::from_profiles(&ps).unwrap().write(&path).unwrap();
        let gone = [ProfileId::new("P1").unwrap(), ProfileId::new("P3").unwrap()];
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
        let log = read_log(&path).unwrap();
        assert_eq!(log.len(), 3);
        assert_eq!(log[0].specimen, "P1");
        assert_eq!(log[2].action, "done");
        assert_eq!(log[2].profiles_after, Some(3));
        assert!(check(&index, &path).unwrap().is_empty());
        // an interrupted removal: the record is there, the profile too
        let log_file = log_path(&path);
        let mut text = std::fs::read_to_string(&log_file).unwrap();
        text.push_str(
            &serde_json::to_string(&AuditRecord {
                time: now(),
                action: "remove".into(),
                user: "ana".into(),
                specimen: "P0".into(),
                reason: "x".into(),
                profiles_after: None,
            })
            .unwrap(),
        );
        text.push('\n');
        std::fs::write(&log_file, text).unwrap();
        assert_eq!(check(&index, &path).unwrap(), vec!["P0".to_string()]);
        let text = std::fs::read_to_string(log_path(&path)).unwrap();
        assert!(
            !text.contains("9.3") && !text.contains("TH01"),
            "genetic data in the audit log"
        );
    }
}
