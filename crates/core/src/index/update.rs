//! The one update path of index files: every read-modify-write of an index (adding, removing,
//! building over an existing file, a regional merge or expungement) is an [`Update`].
//!
//! [`Update::begin`] takes the writer lock of the target ([`WriterLock`], waiting up to
//! [`UpdateOptions::wait`]) and looks at what the target holds *now*, under the lock;
//! [`Update::open`] re-opens the current index; the caller applies its change;
//! [`Update::commit`] refuses a destructive mistake, writes the new index to a temporary file,
//! fsyncs it, renames it over the target and fsyncs the directory; dropping the `Update`
//! releases the lock. A second writer therefore waits for the first and then works on the first
//! one's result: no writer reports success having lost or overwritten another's work.
//!
//! Refused unless the options allow it (the target is left byte-identical):
//! * replacing an index of N > 0 profiles with an empty one ([`UpdateOptions::allow_empty`]);
//! * replacing a file that is not a Tandem index, or an index that cannot be opened
//!   ([`UpdateOptions::force`]).
//!
//! ```
//! use tandem_core::index::update::{Update, UpdateOptions};
//! use tandem_core::{Genotype, Index, Locus, Profile, ProfileId};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("national.tandem");
//! let d8 = Locus::lookup("D8S1179")?;
//! let p = |id: &str| -> Result<Profile, Box<dyn std::error::Error>> {
//!     Ok(Profile::new(ProfileId::new(id)?).with(d8, Genotype::parse_at(d8, "13,14")?))
//! };
//! Index::from_profiles(&[p("OFF-1")?])?.write(&path)?;
//!
//! let mut update = Update::begin(&path, &UpdateOptions::default())?; // locked from here
//! let mut index = update.open()?;                                    // the current file
//! index.add(p("OFF-2")?)?;
//! update.commit(&index, &[])?;                                            // atomic replace
//! drop(update);                                                      // unlocked
//! assert_eq!(Index::open(&path)?.len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Index;
use super::file::{self, OpenError, WriteError};
use super::ledger::{Action, Event, Ledger, LedgerError, LedgerHead};
use crate::durable::{self, FileError, LockError, LockHolder, WriterLock};

/// How an [`Update`] waits for the lock and which destructive changes it allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdateOptions {
    /// How long to wait for another writer to finish before failing with
    /// [`LockError::Locked`] (default 30 s; zero: fail at once).
    pub wait: Duration,
    /// Allow replacing an index of N > 0 profiles with an empty one (default: refused, since an
    /// empty export or a forgotten input is far likelier than an intended wipe).
    pub allow_empty: bool,
    /// Allow replacing a file that is not a Tandem index, or an index that cannot be opened
    /// (default: refused).
    pub force: bool,
}

impl Default for UpdateOptions {
    fn default() -> Self {
        UpdateOptions {
            wait: DEFAULT_WAIT,
            allow_empty: false,
            force: false,
        }
    }
}

/// The default wait for the writer lock.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(30);

/// What the target held when the lock was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// No file.
    Absent,
    /// A Tandem index of this many profiles.
    Index {
        /// Live profiles.
        profiles: usize,
    },
    /// A Tandem index that cannot be opened (damaged, or a format this build does not read).
    Damaged,
    /// A file that is not a Tandem index (a table, a CMF file...).
    Other,
}

/// The error of an update. The target is unchanged when one occurs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    /// Another writer held the lock for the whole wait, or the lock file could not be used.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The current index could not be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The new index could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The change would replace an index of profiles with an empty one.
    #[error(
        "{path}: refusing to replace an index of {profiles} profiles with an empty one; nothing was written"
    )]
    WouldEmpty {
        /// The target.
        path: PathBuf,
        /// Profiles in the current index.
        profiles: usize,
    },
    /// The target exists and is not a Tandem index.
    #[error(
        "{path}: exists and is not a tandem index; refusing to replace it, nothing was written"
    )]
    NotAnIndex {
        /// The target.
        path: PathBuf,
    },
    /// The ledger is unsound (broken chain, behind the index), or refuses the change (a removed
    /// specimen brought back).
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The target is a Tandem index that cannot be opened.
    #[error("{path}: refusing to replace an index that cannot be opened; nothing was written")]
    Damaged {
        /// The target.
        path: PathBuf,
        /// Why it cannot be opened.
        #[source]
        source: OpenError,
    },
}

impl From<FileError> for UpdateError {
    fn from(e: FileError) -> Self {
        UpdateError::Write(e.into())
    }
}

/// One read-modify-write of an index file, holding its writer lock until dropped (see the
/// [module documentation](self)).
#[derive(Debug)]
pub struct Update {
    target: PathBuf,
    existing: Existing,
    options: UpdateOptions,
    ledger: Ledger,
    _lock: WriterLock,
}

impl Update {
    /// Takes the writer lock of `target` (waiting up to `options.wait`) and looks at what it holds.
    pub fn begin(target: &Path, options: &UpdateOptions) -> Result<Update, UpdateError> {
        Update::begin_with(target, options, &mut |_| {})
    }

    /// [`Update::begin`], calling `on_wait` when it starts waiting for another writer and
    /// whenever that writer changes (with the holder as its lock file describes it), so a caller
    /// can tell its user whom it waits for.
    pub fn begin_with(
        target: &Path,
        options: &UpdateOptions,
        on_wait: &mut dyn FnMut(Option<&LockHolder>),
    ) -> Result<Update, UpdateError> {
        let lock = WriterLock::acquire(target, options.wait, on_wait)?;
        let (existing, head) = examine(target)?;
        let ledger = Ledger::read(target)?;
        // an index must be the one its ledger was last written with; with no index (or one
        // being replaced by force) the ledger of the path goes on: its removals stay final
        if let Some(head) = head {
            ledger.check_head(head)?;
        }
        Ok(Update {
            target: target.to_path_buf(),
            existing,
            options: *options,
            ledger,
            _lock: lock,
        })
    }

    /// The target file.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// What the target holds now (as of the lock, or of this update's last commit).
    pub fn existing(&self) -> Existing {
        self.existing
    }

    /// The ledger of the target, read and checked under the lock.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Opens the current index under the lock (the error of [`Index::open`] when there is none).
    pub fn open(&self) -> Result<Index, UpdateError> {
        Ok(Index::open(&self.target)?)
    }

    /// Checks the refusals without writing: the error [`Update::commit`] would give for an index
    /// of `new_len` profiles.
    pub fn check(&self, new_len: usize) -> Result<(), UpdateError> {
        match self.existing {
            Existing::Index { profiles }
                if profiles > 0 && new_len == 0 && !self.options.allow_empty =>
            {
                return Err(UpdateError::WouldEmpty {
                    path: self.target.clone(),
                    profiles,
                });
            }
            Existing::Other if !self.options.force => {
                return Err(UpdateError::NotAnIndex {
                    path: self.target.clone(),
                });
            }
            Existing::Damaged if !self.options.force => {
                let source = match Index::open(&self.target) {
                    Err(e) => e,
                    Ok(_) => OpenError::Io {
                        path: self.target.clone(),
                        source: io::Error::other("the index changed under the lock"),
                    },
                };
                return Err(UpdateError::Damaged {
                    path: self.target.clone(),
                    source,
                });
            }
            _ => {}
        }
        Ok(())
    }

    /// Replaces the target with `index` atomically, after the refusals ([`Update::check`]) and
    /// the ledger's ([`Ledger::check_final`]: no removed specimen comes back unless an
    /// [`Action::Readmit`] event names it). The events are appended to the ledger first, then the
    /// index is written with the new ledger head in its header. The lock is kept until the
    /// `Update` is dropped.
    pub fn commit(&mut self, index: &Index, events: &[Event]) -> Result<(), UpdateError> {
        self.precheck(index, events)?;
        let before = self.profiles_before();
        let head = self.ledger.append(events, before, index.len() as u64)?;
        let path = self.target.clone();
        durable::write_atomically(&self.target, |f| file::write_to(index, f, &path, head))?;
        self.existing = Existing::Index {
            profiles: index.len(),
        };
        Ok(())
    }

    /// [`Update::commit`], leaving the target (and the ledger) untouched when it already holds
    /// exactly the bytes `index` would be written as. Returns whether the target changed.
    pub fn commit_if_changed(
        &mut self,
        index: &Index,
        events: &[Event],
    ) -> Result<bool, UpdateError> {
        self.precheck(index, events)?;
        let before = self.profiles_before();
        let path = self.target.clone();
        let current = self.ledger.head();
        let ledger = &mut self.ledger;
        let changed = durable::replace_if_changed(
            &self.target,
            |f| file::write_to(index, f, &path, current).map_err(UpdateError::from),
            |f| {
                let head = ledger.append(events, before, index.len() as u64)?;
                file::set_ledger_head(f, &path, head)?;
                Ok(())
            },
        )?;
        self.existing = Existing::Index {
            profiles: index.len(),
        };
        Ok(changed)
    }

    fn precheck(&self, index: &Index, events: &[Event]) -> Result<(), UpdateError> {
        self.check(index.len())?;
        let readmitted: Vec<String> = events
            .iter()
            .filter(|e| e.action == Action::Readmit)
            .flat_map(|e| e.specimens.iter().cloned())
            .collect();
        self.ledger.check_final(index, &readmitted)?;
        Ok(())
    }

    fn profiles_before(&self) -> Option<u64> {
        match self.existing {
            Existing::Index { profiles } => Some(profiles as u64),
            _ => None,
        }
    }
}

/// What `target` holds: read under the lock, so no writer changes it meanwhile.
fn examine(target: &Path) -> Result<(Existing, Option<LedgerHead>), UpdateError> {
    match Index::open(target) {
        Ok(index) => Ok((
            Existing::Index {
                profiles: index.len(),
            },
            Some(index.ledger_head()),
        )),
        Err(OpenError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
            Ok((Existing::Absent, None))
        }
        Err(e @ OpenError::Io { .. }) => Err(e.into()),
        Err(OpenError::BadMagic { .. }) => Ok((Existing::Other, None)),
        Err(_) => Ok((Existing::Damaged, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Genotype, Locus, Profile, ProfileId};

    fn index(ids: &[&str]) -> Index {
        let d8 = Locus::lookup("D8S1179").unwrap();
        let ps: Vec<Profile> = ids
            .iter()
            .map(|id| {
                Profile::new(ProfileId::new(id).unwrap())
                    .with(d8, Genotype::parse_at(d8, "13,14").unwrap())
            })
            .collect();
        Index::from_profiles(&ps).unwrap()
    }

    #[test]
    fn test_commit_with_empty_over_profiles_is_refused_unless_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("db.tandem");
        index(&["A", "B"]).write(&p).unwrap();
        let before = std::fs::read(&p).unwrap();
        let mut u = Update::begin(&p, &UpdateOptions::default()).unwrap();
        assert_eq!(u.existing(), Existing::Index { profiles: 2 });
        let e = u.commit(&Index::new(), &[]).unwrap_err();
        assert!(
            matches!(e, UpdateError::WouldEmpty { profiles: 2, .. }),
            "{e}"
        );
        assert_eq!(std::fs::read(&p).unwrap(), before);
        drop(u);
        let allow = UpdateOptions {
            allow_empty: true,
            ..UpdateOptions::default()
        };
        Update::begin(&p, &allow)
            .unwrap()
            .commit(&Index::new(), &[])
            .unwrap();
        assert_eq!(Index::open(&p).unwrap().len(), 0);
    }

    #[test]
    fn test_commit_with_other_file_is_refused_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("table.csv");
        std::fs::write(&p, "id,D8S1179\nA,\"13,14\"\n").unwrap();
        let before = std::fs::read(&p).unwrap();
        let mut u = Update::begin(&p, &UpdateOptions::default()).unwrap();
        assert_eq!(u.existing(), Existing::Other);
        assert!(matches!(
            u.commit(&index(&["A"]), &[]),
            Err(UpdateError::NotAnIndex { .. })
        ));
        assert_eq!(std::fs::read(&p).unwrap(), before);
        drop(u);
        let force = UpdateOptions {
            force: true,
            ..UpdateOptions::default()
        };
        Update::begin(&p, &force)
            .unwrap()
            .commit(&index(&["A"]), &[])
            .unwrap();
        assert_eq!(Index::open(&p).unwrap().len(), 1);
    }

    #[test]
    fn test_commit_with_damaged_index_is_refused_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("db.tandem");
        index(&["A", "B"]).write(&p).unwrap();
        let mut bytes = std::fs::read(&p).unwrap();
        bytes.truncate(bytes.len() - 10);
        std::fs::write(&p, &bytes).unwrap();
        let mut u = Update::begin(&p, &UpdateOptions::default()).unwrap();
        assert_eq!(u.existing(), Existing::Damaged);
        let e = u.commit(&index(&["C"]), &[]).unwrap_err();
        assert!(matches!(e, UpdateError::Damaged { .. }), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), bytes);
    }

    #[test]
    fn test_begin_with_short_or_empty_file_sees_other() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x");
        for bytes in [&b""[..], b"TAN"] {
            std::fs::write(&p, bytes).unwrap();
            let u = Update::begin(&p, &UpdateOptions::default()).unwrap();
            assert_eq!(u.existing(), Existing::Other);
        }
    }

    #[test]
    fn test_begin_with_held_lock_fails_with_locked_after_the_wait() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("db.tandem");
        let first = Update::begin(&p, &UpdateOptions::default()).unwrap();
        assert_eq!(first.existing(), Existing::Absent);
        let quick = UpdateOptions {
            wait: Duration::from_millis(60),
            ..UpdateOptions::default()
        };
        let mut told = 0;
        let e = Update::begin_with(&p, &quick, &mut |_| told += 1).unwrap_err();
        assert!(
            matches!(e, UpdateError::Lock(LockError::Locked { .. })),
            "{e}"
        );
        assert_eq!(told, 1);
        drop(first);
        assert!(Update::begin(&p, &quick).is_ok());
    }
}
