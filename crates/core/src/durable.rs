//! Durable files: every file Tandem writes is replaced atomically, and every read-modify-write of
//! a shared file is serialised by one writer lock.
//!
//! * [`write_atomically`]: the content goes to a temporary file in the target's directory, which
//!   is fsynced and renamed over the target, and the directory is fsynced. A crash, a kill or an
//!   error at any point leaves the old file or the new one, never a mix. A replaced file keeps
//!   its permissions; a new one is private to its owner (`0600`: DNA data). [`create_atomically`]
//!   does the same but never replaces an existing file (country keys), and
//!   [`replace_if_changed`] leaves the target untouched when it already holds the new bytes.
//! * [`abandon_writes`]: removes the temporary files of writes in flight, for a signal handler
//!   about to end the process (Ctrl-C, `SIGTERM`), so no half-written file of DNA data is left.
//! * [`WriterLock`]: an exclusive advisory lock (`flock` on Unix, `LockFileEx` on Windows) on a
//!   lock file beside the target (`<target>.lock`), with the holder (process, user, host,
//!   command, time) written into it for the waiting writers' messages. The operating system
//!   releases the lock when its holder ends, however it ends: a killed writer never leaves a
//!   stale lock. Readers take no lock: the atomic rename gives them a consistent snapshot.
//!
//! The lock file is never deleted: deleting it would let a writer that opened the old file and a
//! writer that created the new one both hold "the" lock. `docs/FORMAT.md` describes the protocol.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

/// The error of writing a file atomically or of taking a writer lock.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// An I/O error on the target (or its temporary file, lock file or directory).
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// [`create_atomically`]: the target exists already; it was left as it is.
    #[error("{path}: exists already; it was left as it is")]
    Exists {
        /// The file.
        path: PathBuf,
    },
}

/// The error of taking a writer lock.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// Another writer held the lock for the whole wait.
    #[error(
        "{target}: another writer is changing it ({}); gave up after waiting {:.1} s",
        holder.as_ref().map_or_else(|| "holder unknown".to_string(), |h| h.to_string()),
        waited.as_secs_f64()
    )]
    Locked {
        /// The file the lock protects.
        target: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// The holder as it described itself in the lock file, when readable.
        holder: Option<Box<LockHolder>>,
        /// How long this writer waited.
        waited: Duration,
    },
    /// The lock file could not be created, read or locked (a file system without locks, say).
    #[error("{path}: cannot lock: {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// Who holds a writer lock, as written into the lock file (one JSON object) for information:
/// the lock itself is the operating system's, not this record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LockHolder {
    /// Process id.
    pub pid: u32,
    /// User name (`$USER`, `$LOGNAME`, else `uid N`).
    pub user: String,
    /// Host name.
    pub host: String,
    /// The program and subcommands of the holding process (`tandem index add`), without its
    /// options and their values.
    pub command: String,
    /// When the lock was taken (UTC, RFC 3339).
    pub since: String,
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} of {} on {}, since {}: {}",
            self.pid, self.user, self.host, self.since, self.command
        )
    }
}

impl LockHolder {
    /// This process.
    pub fn this_process() -> LockHolder {
        LockHolder {
            pid: std::process::id(),
            user: user_name(),
            host: host_name(),
            command: command_name(),
            since: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        }
    }
}

/// The program and its subcommands (`tandem index remove`): the arguments before the first
/// option, with the program's file name only. Options and their values (specimen ids, paths) are
/// left out, so the lock file never holds an id whose profile is being expunged.
fn command_name() -> String {
    let mut args = std::env::args();
    let program = args
        .next()
        .map(|p| {
            Path::new(&p)
                .file_name()
                .map_or(p.clone(), |n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    std::iter::once(program)
        .chain(
            args.take_while(|a| !a.starts_with('-'))
                .take(3)
                .filter(|a| {
                    a.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                }),
        )
        .collect::<Vec<_>>()
        .join(" ")
}

/// The user running this process, as the lock file describes its holder: [`login_name`], else
/// the numeric uid (`uid 1000`).
pub fn user_name() -> String {
    if let Some(name) = login_name() {
        return name;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = std::fs::metadata("/proc/self") {
            return format!("uid {}", m.uid());
        }
    }
    "unknown".into()
}

/// The login name of this process's user: `$USER`, `$LOGNAME`, else the passwd entry of its user
/// id (what a job run by cron has); `None` when none gives a name.
pub fn login_name() -> Option<String> {
    for var in ["USER", "LOGNAME"] {
        if let Ok(u) = std::env::var(var)
            && !u.trim().is_empty()
        {
            return Some(u.trim().to_string());
        }
    }
    passwd_name()
}

/// The name of this process's user id in `/etc/passwd`.
fn passwd_name() -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let uid = std::fs::metadata("/proc/self").ok()?.uid().to_string();
        let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
        passwd.lines().find_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let _ = f.next()?;
            (f.next()? == uid && !name.is_empty()).then(|| name.to_string())
        })
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The host name (Linux `/proc/sys/kernel/hostname`, `$HOSTNAME`, `$COMPUTERNAME`).
pub fn host_name() -> String {
    if let Ok(h) = std::fs::read_to_string("/proc/sys/kernel/hostname")
        && !h.trim().is_empty()
    {
        return h.trim().to_string();
    }
    for var in ["HOSTNAME", "COMPUTERNAME"] {
        if let Ok(h) = std::env::var(var)
            && !h.trim().is_empty()
        {
            return h;
        }
    }
    "unknown".into()
}

/// The lock file of a target: `<target>.lock`, beside it.
pub fn lock_path(target: &Path) -> PathBuf {
    let mut name = target
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".lock");
    target.with_file_name(name)
}

/// How often a waiting writer tries the lock again.
const POLL: Duration = Duration::from_millis(50);

/// An exclusive writer lock on a target file, released when dropped (or when the process ends,
/// however it ends).
#[derive(Debug)]
pub struct WriterLock {
    file: File,
    path: PathBuf,
    target: PathBuf,
}

impl WriterLock {
    /// Takes the lock of `target`, waiting up to `wait` for another holder to release it;
    /// [`LockError::Locked`] after that. `on_wait` is called when this writer starts waiting and
    /// whenever the holder changes, with the holder as it describes itself (`None` when that
    /// cannot be read), so a caller can tell its user who it waits for.
    pub fn acquire(
        target: &Path,
        wait: Duration,
        on_wait: &mut dyn FnMut(Option<&LockHolder>),
    ) -> Result<WriterLock, LockError> {
        let path = lock_path(target);
        let io_err = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let mut opts = OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut file = opts.open(&path).map_err(io_err)?;
        let start = Instant::now();
        let mut told: Option<Option<LockHolder>> = None;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {
                    let holder = read_holder(&mut file);
                    let waited = start.elapsed();
                    if waited >= wait {
                        return Err(LockError::Locked {
                            target: target.to_path_buf(),
                            lock: path,
                            holder: holder.map(Box::new),
                            waited,
                        });
                    }
                    if told.as_ref() != Some(&holder) {
                        on_wait(holder.as_ref());
                        told = Some(holder);
                    }
                    std::thread::sleep(POLL.min(wait - waited));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io_err(e)),
            }
        }
        // for the waiting writers' messages only: a failure here does not matter for the lock
        let mut record = serde_json::to_vec(&LockHolder::this_process()).unwrap_or_default();
        record.push(b'\n');
        let _ = file
            .set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(&record));
        Ok(WriterLock {
            file,
            path,
            target: target.to_path_buf(),
        })
    }

    /// Takes the lock of `target` only if it is free now.
    pub fn try_acquire(target: &Path) -> Result<WriterLock, LockError> {
        WriterLock::acquire(target, Duration::ZERO, &mut |_| {})
    }

    /// The holder of the lock of `target` as the lock file describes it; `None` when the lock
    /// file is missing, empty (no writer since the last release) or unreadable. Information only:
    /// whether the lock is held is the operating system's to say ([`WriterLock::try_acquire`]).
    pub fn holder(target: &Path) -> Option<LockHolder> {
        let mut f = File::open(lock_path(target)).ok()?;
        read_holder(&mut f)
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file the lock protects.
    pub fn target(&self) -> &Path {
        &self.target
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        // clear the holder record, then release (closing the file would release it too)
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

fn read_holder(file: &mut File) -> Option<LockHolder> {
    file.seek(SeekFrom::Start(0)).ok()?;
    let mut line = String::new();
    BufReader::new(file.take(64 * 1024))
        .read_line(&mut line)
        .ok()?;
    serde_json::from_str(line.trim()).ok()
}

/// Temporary files of the writes in flight, for [`abandon_writes`]. A write renames its
/// temporary file while holding this mutex, so a signal handler that takes it sees every
/// temporary file either still in flight or already renamed.
static IN_FLIGHT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn in_flight() -> MutexGuard<'static, Vec<PathBuf>> {
    IN_FLIGHT.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes the temporary files of every write in flight and blocks any further rename, for a
/// signal handler that ends the process next (Ctrl-C, `SIGTERM`): the targets keep their old
/// content and no half-written file is left. Returns how many temporary files were removed.
/// After this call no write of this process can complete: call it only right before exiting.
pub fn abandon_writes() -> usize {
    let mut list = in_flight();
    let mut removed = 0;
    for p in list.drain(..) {
        if std::fs::remove_file(&p).is_ok() {
            removed += 1;
        }
    }
    // keep the mutex locked for the rest of the process: no write renames after this
    std::mem::forget(list);
    removed
}

/// Unregisters a temporary file when the write ends, however it ends.
struct Registered(PathBuf);

impl Registered {
    fn new(path: &Path) -> Registered {
        in_flight().push(path.to_path_buf());
        Registered(path.to_path_buf())
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        in_flight().retain(|p| p != &self.0);
    }
}

/// The directory a target lives in (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// How the temporary file takes the target's place.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Rename over the target.
    Replace,
    /// Never replace: [`FileError::Exists`] when the target exists.
    Create,
    /// Leave the target alone when it holds the same bytes.
    IfChanged,
}

/// Writes `path` atomically (see the [module documentation](self)): `write` fills the temporary
/// file (it may seek), which is then fsynced and renamed over `path`, and the directory is
/// fsynced. On an error from `write` or from the file system, `path` is unchanged and the
/// temporary file is removed.
pub fn write_atomically<E>(
    path: &Path,
    write: impl FnOnce(&mut File) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<FileError>,
{
    write_with(path, Mode::Replace, write, |_| Ok(())).map(|_| ())
}

/// Creates `path` atomically with `write`'s content, never replacing an existing file: a reader
/// sees no file or the whole file, never a truncated one. [`FileError::Exists`] (and the existing
/// file untouched) when `path` exists.
pub fn create_atomically<E>(
    path: &Path,
    write: impl FnOnce(&mut File) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<FileError>,
{
    write_with(path, Mode::Create, write, |_| Ok(())).map(|_| ())
}

/// Like [`write_atomically`], but when `path` already holds exactly the new bytes it is left
/// untouched (same modification time, same inode). `finish` is called on the temporary file
/// only when it differs from `path`, before it is synced and renamed (to stamp what is only
/// worth recording when the file changes, such as a ledger head); an error from it leaves
/// `path` unchanged. Returns whether `path` changed.
pub fn replace_if_changed<E>(
    path: &Path,
    write: impl FnOnce(&mut File) -> Result<(), E>,
    finish: impl FnOnce(&mut File) -> Result<(), E>,
) -> Result<bool, E>
where
    E: From<FileError>,
{
    write_with(path, Mode::IfChanged, write, finish)
}

fn write_with<E>(
    path: &Path,
    mode: Mode,
    write: impl FnOnce(&mut File) -> Result<(), E>,
    finish: impl FnOnce(&mut File) -> Result<(), E>,
) -> Result<bool, E>
where
    E: From<FileError>,
{
    let dir = parent_dir(path);
    let io = |source| FileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".tandem-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(io)?;
    let registered = Registered::new(tmp.path());
    write(tmp.as_file_mut())?;
    if mode == Mode::IfChanged {
        tmp.as_file_mut().flush().map_err(io)?;
        if same_bytes(tmp.path(), path) {
            drop(registered);
            tmp.close().map_err(io)?;
            return Ok(false);
        }
    }
    finish(tmp.as_file_mut())?;
    if mode != Mode::Create
        && let Ok(m) = std::fs::metadata(path)
    {
        // a replaced file keeps its permissions; a new one keeps the temporary file's 0600
        tmp.as_file().set_permissions(m.permissions()).map_err(io)?;
    }
    tmp.as_file().sync_all().map_err(io)?;
    {
        let _renaming = in_flight();
        let done = match mode {
            Mode::Create => tmp.persist_noclobber(path),
            Mode::Replace | Mode::IfChanged => tmp.persist(path),
        };
        if let Err(e) = done {
            return Err(if e.error.kind() == io::ErrorKind::AlreadyExists {
                FileError::Exists {
                    path: path.to_path_buf(),
                }
            } else {
                io(e.error)
            }
            .into());
        }
    }
    drop(registered);
    // make the rename durable (directories cannot be opened for syncing on every platform)
    #[cfg(unix)]
    File::open(&dir).and_then(|d| d.sync_all()).map_err(io)?;
    Ok(true)
}

/// True when the two files hold the same bytes (lengths first, then streamed in blocks).
pub fn same_bytes(a: &Path, b: &Path) -> bool {
    let (Ok(fa), Ok(fb)) = (File::open(a), File::open(b)) else {
        return false;
    };
    match (fa.metadata(), fb.metadata()) {
        (Ok(ma), Ok(mb)) if ma.len() == mb.len() => {}
        _ => return false,
    }
    let mut ra = BufReader::with_capacity(1 << 20, fa);
    let mut rb = BufReader::with_capacity(1 << 20, fb);
    loop {
        let (Ok(ba), Ok(bb)) = (ra.fill_buf(), rb.fill_buf()) else {
            return false;
        };
        if ba.is_empty() || bb.is_empty() {
            return ba.is_empty() && bb.is_empty();
        }
        let n = ba.len().min(bb.len());
        if ba[..n] != bb[..n] {
            return false;
        }
        ra.consume(n);
        rb.consume(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_write_atomically_with_error_leaves_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        std::fs::write(&p, b"old").unwrap();
        let r: Result<(), FileError> = write_atomically(&p, |f| {
            f.write_all(b"half").map_err(|e| FileError::Io {
                path: p.clone(),
                source: e,
            })?;
            Err(FileError::Io {
                path: p.clone(),
                source: io::Error::other("boom"),
            })
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn test_write_atomically_with_new_file_is_private_and_replaced_keeps_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("new.csv");
        write_atomically::<FileError>(&p, |f| f.write_all(b"x").map_err(|e| io_of(&p, e))).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically::<FileError>(&p, |f| f.write_all(b"y").map_err(|e| io_of(&p, e))).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        assert_eq!(std::fs::read(&p).unwrap(), b"y");
    }

    fn io_of(p: &Path, source: io::Error) -> FileError {
        FileError::Io {
            path: p.to_path_buf(),
            source,
        }
    }

    #[test]
    fn test_create_atomically_with_existing_file_leaves_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.key");
        create_atomically::<FileError>(&p, |f| f.write_all(b"one").map_err(|e| io_of(&p, e)))
            .unwrap();
        let again =
            create_atomically::<FileError>(&p, |f| f.write_all(b"two").map_err(|e| io_of(&p, e)));
        assert!(matches!(again, Err(FileError::Exists { .. })), "{again:?}");
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn test_replace_if_changed_with_same_bytes_keeps_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r");
        let w = |bytes: &'static [u8]| {
            let p = p.clone();
            move |f: &mut File| f.write_all(bytes).map_err(|e| io_of(&p, e))
        };
        assert!(replace_if_changed(&p, w(b"abc"), |_| Ok(())).unwrap());
        assert!(!replace_if_changed(&p, w(b"abc"), |_| Ok(())).unwrap());
        assert!(replace_if_changed(&p, w(b"abd"), |_| Ok(())).unwrap());
        assert_eq!(std::fs::read(&p).unwrap(), b"abd");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn test_writer_lock_with_holder_refuses_a_second_writer_and_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("db.tandem");
        let held = WriterLock::try_acquire(&target).unwrap();
        let holder = WriterLock::holder(&target).unwrap();
        assert_eq!(holder.pid, std::process::id());
        let mut waits = 0;
        let second = WriterLock::acquire(&target, Duration::from_millis(120), &mut |h| {
            waits += 1;
            assert_eq!(h.map(|h| h.pid), Some(std::process::id()));
        });
        match second {
            Err(LockError::Locked {
                holder: Some(h),
                waited,
                ..
            }) => {
                assert_eq!(h.pid, std::process::id());
                assert!(waited >= Duration::from_millis(120));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(waits, 1, "told once about the same holder");
        drop(held);
        assert_eq!(WriterLock::holder(&target), None);
        let again = WriterLock::try_acquire(&target).unwrap();
        assert_eq!(again.target(), target);
        assert!(again.path().ends_with("db.tandem.lock"));
    }

    #[test]
    fn test_writer_lock_with_wait_gets_it_when_released() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("db.tandem");
        let held = WriterLock::try_acquire(&target).unwrap();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(150));
            drop(held);
        });
        let got = WriterLock::acquire(&target, Duration::from_secs(20), &mut |_| {});
        assert!(got.is_ok(), "{got:?}");
        t.join().unwrap();
    }
}
