//! The on-disk index: a versioned, checksummed file whose genotype columns are searched in place
//! through a memory map. Every byte is documented in `docs/FORMAT.md`.
//!
//! Writes are atomic (temporary file in the same directory, fsync, rename, fsync of the
//! directory, [`crate::durable`]) and take the writer lock: a crash leaves the old file or the
//! new one, both valid. A reader that has the old file open keeps its snapshot, because a rename
//! never changes an open file. Changes to an existing file go through [`super::update`].

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use bitvec::vec::BitVec;
use memmap2::Mmap;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::ledger::{HEAD_HASH_LEN, LedgerHead};
use super::{Bytes, Codebook, Column, Ids, Index, MAX_CODE, META_WIDTH, SPECIAL, UNTYPED};
use crate::durable::{self, FileError, LockError, WriterLock};
use crate::genotype::Genotype;
use crate::locus::Locus;
use crate::profile::{ProfileId, SpecimenCategory};

/// Magic bytes at the start of every index file.
pub const MAGIC: [u8; 8] = *b"TANDEMIX";
/// The format version this build writes (2: the ledger head in the header).
pub const CURRENT_VERSION: u16 = 2;
/// The oldest format version this build reads.
pub const OLDEST_VERSION: u16 = 1;
/// Size of the fixed header.
const HEADER_LEN: usize = 64;
/// Size of one section-table entry.
const ENTRY_LEN: usize = 32;
/// Sections start at multiples of this.
const ALIGN: u64 = 64;

/// Section kinds (`docs/FORMAT.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
enum Kind {
    Meta = 1,
    IdOffsets = 2,
    IdHeap = 3,
    RowMeta = 4,
    ColumnA = 5,
    ColumnB = 6,
}

impl Kind {
    fn from_u32(v: u32) -> Option<Kind> {
        Some(match v {
            1 => Kind::Meta,
            2 => Kind::IdOffsets,
            3 => Kind::IdHeap,
            4 => Kind::RowMeta,
            5 => Kind::ColumnA,
            6 => Kind::ColumnB,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Meta => "meta",
            Kind::IdOffsets => "id offsets",
            Kind::IdHeap => "id heap",
            Kind::RowMeta => "row metadata",
            Kind::ColumnA => "column a",
            Kind::ColumnB => "column b",
        }
    }
}

/// The error of opening or verifying an index file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The file does not start with the magic bytes.
    #[error("{path}: not a tandem index (bad magic bytes)")]
    BadMagic {
        /// The file.
        path: PathBuf,
    },
    /// The file's format is newer or older than this build reads.
    #[error(
        "{path}: index format v{found} is not supported; this build reads v{oldest}..=v{current}"
    )]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version the file needs.
        found: u16,
        /// The oldest version this build reads.
        oldest: u16,
        /// The version this build writes.
        current: u16,
    },
    /// The file is shorter or longer than its header says.
    #[error(
        "{path}: file is {found} bytes but its header says {expected} (truncated or appended to)"
    )]
    WrongLength {
        /// The file.
        path: PathBuf,
        /// Length in the header.
        expected: u64,
        /// Actual length.
        found: u64,
    },
    /// A checksum does not match.
    #[error(
        "{path}: checksum mismatch in section {section}: stored {stored:#010x}, computed {computed:#010x}"
    )]
    ChecksumMismatch {
        /// The file.
        path: PathBuf,
        /// The section.
        section: String,
        /// The stored checksum.
        stored: u32,
        /// The checksum of the bytes read.
        computed: u32,
    },
    /// A structural rule of the format is broken.
    #[error("{path}: {section}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The section (or `header`).
        section: String,
        /// What is wrong.
        reason: String,
    },
}

/// The error of writing an index file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// An I/O error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Another writer held the lock for the whole wait.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The ids do not fit the format (more than 4 GiB of id text).
    #[error("{path}: the specimen ids take more than 4 GiB")]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
}

/// The small, bincode-encoded section: locus panel, codebooks, dictionaries and side tables.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Meta {
    /// Locus names, one per column, as written by [`Locus::name`].
    panel: Vec<String>,
    /// Per column, the exact alleles in code order (`codebook[c - 1]` has code c).
    codebooks: Vec<Vec<String>>,
    /// Lab names (row metadata refers to them by index).
    labs: Vec<String>,
    /// Country codes (reserved for the regional index).
    countries: Vec<String>,
    /// Kit names (reserved for the regional index).
    kits: Vec<String>,
    /// Per column, the rows whose genotype is in the side table, with the genotype; ascending.
    special: Vec<Vec<(u32, Genotype)>>,
}

impl From<FileError> for WriteError {
    fn from(e: FileError) -> Self {
        match e {
            FileError::Io { path, source } => WriteError::Io { path, source },
            FileError::Exists { path } => WriteError::Io {
                path,
                source: io::Error::from(io::ErrorKind::AlreadyExists),
            },
        }
    }
}

fn io_err(path: &Path) -> impl Fn(io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn align_up(x: u64) -> u64 {
    x.div_ceil(ALIGN) * ALIGN
}

/// Writes `index` to `path` atomically, under the writer lock of `path` (waiting up to
/// [`DEFAULT_WAIT`](super::update::DEFAULT_WAIT) for another writer): a blind replacement that
/// refuses nothing. A change to an existing index (read, modify, write) goes through
/// [`Update`](super::update::Update) instead, which re-reads the file under the lock and refuses
/// destructive mistakes. Only live profiles are written: deleted rows leave no trace in the file
/// (compaction).
pub fn write(index: &Index, path: &Path) -> Result<(), WriteError> {
    let _lock = WriterLock::acquire(path, super::update::DEFAULT_WAIT, &mut |_| {})?;
    durable::write_atomically(path, |f| write_to(index, f, path, index.ledger_head))
}

struct Entry {
    kind: Kind,
    column: u32,
    offset: u64,
    len: u64,
    crc: u32,
}

/// Streams sections to `file`, then goes back for the header and the section table.
pub(crate) fn write_to(
    index: &Index,
    file: &mut File,
    path: &Path,
    head: LedgerHead,
) -> Result<(), WriteError> {
    let err = io_err(path);
    let live: Vec<u32> = (0..index.rows() as u32)
        .filter(|&r| index.live.get(r as usize).is_some_and(|b| *b))
        .collect();
    let rows = live.len();
    let ncol = index.columns.len();
    let section_count = 4 + 2 * ncol;
    let table_end = (HEADER_LEN + section_count * ENTRY_LEN) as u64;
    let mut w = BufWriter::with_capacity(1 << 20, &mut *file);
    w.seek(SeekFrom::Start(align_up(table_end))).map_err(&err)?;
    let mut pos = align_up(table_end);
    let mut entries: Vec<Entry> = Vec::with_capacity(section_count);

    let mut section = |w: &mut BufWriter<&mut File>,
                       kind: Kind,
                       column: u32,
                       chunks: &mut dyn Iterator<Item = Cow<'_, [u8]>>|
     -> Result<(), WriteError> {
        let start = pos;
        let mut crc = 0u32;
        let mut len = 0u64;
        for chunk in chunks {
            crc = crc32c::crc32c_append(crc, &chunk);
            len += chunk.len() as u64;
            w.write_all(&chunk).map_err(&err)?;
        }
        let padded = align_up(start + len);
        w.write_all(&vec![0u8; (padded - start - len) as usize])
            .map_err(&err)?;
        pos = padded;
        entries.push(Entry {
            kind,
            column,
            offset: start,
            len,
            crc,
        });
        Ok(())
    };

    // meta
    let mut new_row = vec![u32::MAX; index.rows()];
    for (n, &r) in live.iter().enumerate() {
        new_row[r as usize] = n as u32;
    }
    let meta = Meta {
        panel: index
            .columns
            .iter()
            .map(|c| c.locus.name().to_string())
            .collect(),
        codebooks: index
            .columns
            .iter()
            .map(|c| c.codebook.alleles.iter().map(|a| a.to_string()).collect())
            .collect(),
        labs: index.labs.clone(),
        countries: index.countries.iter().map(|c| c.to_string()).collect(),
        kits: index.kits.clone(),
        special: index
            .columns
            .iter()
            .map(|c| {
                c.special_rows
                    .iter()
                    .filter_map(|&r| {
                        let n = *new_row.get(r as usize)?;
                        (n != u32::MAX).then_some((n, *c.special.get(&r)?))
                    })
                    .collect()
            })
            .collect(),
    };
    let meta_bytes =
        bincode::serde::encode_to_vec(&meta, bincode::config::standard()).map_err(|e| {
            WriteError::Io {
                path: path.to_path_buf(),
                source: io::Error::other(e),
            }
        })?;
    section(
        &mut w,
        Kind::Meta,
        0,
        &mut std::iter::once(meta_bytes.into()),
    )?;

    // ids: offsets then heap
    let mut offsets = Vec::with_capacity((rows + 1) * 4);
    let mut total: u64 = 0;
    offsets.extend_from_slice(&0u32.to_le_bytes());
    for &r in &live {
        total += index.ids.str(r).len() as u64;
        let t = u32::try_from(total).map_err(|_| WriteError::TooLarge {
            path: path.to_path_buf(),
        })?;
        offsets.extend_from_slice(&t.to_le_bytes());
    }
    section(
        &mut w,
        Kind::IdOffsets,
        0,
        &mut std::iter::once(offsets.into()),
    )?;
    let heap = live.chunks(65536).map(|chunk| {
        let mut b = Vec::new();
        for &r in chunk {
            b.extend_from_slice(index.ids.str(r).as_bytes());
        }
        b
    });
    section(&mut w, Kind::IdHeap, 0, &mut heap.map(Cow::Owned))?;

    // row metadata
    let metas = live.chunks(65536).map(|chunk| {
        let mut b = Vec::with_capacity(chunk.len() * META_WIDTH);
        for &r in chunk {
            let s = r as usize * META_WIDTH;
            b.extend_from_slice(
                index
                    .meta
                    .get(s..s + META_WIDTH)
                    .unwrap_or(&[0u8; META_WIDTH]),
            );
        }
        b
    });
    let dense = live.len() == index.rows();
    if dense && index.meta.len() == rows * META_WIDTH {
        section(
            &mut w,
            Kind::RowMeta,
            0,
            &mut index.meta.chunks(1 << 20).map(Cow::Borrowed),
        )?;
    } else {
        section(&mut w, Kind::RowMeta, 0, &mut metas.map(Cow::Owned))?;
    }

    // code columns
    for (ci, c) in index.columns.iter().enumerate() {
        for (kind, data) in [(Kind::ColumnA, &c.a), (Kind::ColumnB, &c.b)] {
            // a dense column is written from the index's bytes as they are
            let mut chunks: Box<dyn Iterator<Item = Cow<'_, [u8]>>> = if dense {
                Box::new(data.chunks(1 << 20).map(Cow::Borrowed))
            } else {
                Box::new(
                    live.chunks(1 << 16)
                        .map(|ch| Cow::Owned(ch.iter().map(|&r| data[r as usize]).collect())),
                )
            };
            section(&mut w, kind, ci as u32, &mut chunks)?;
        }
    }
    let file_len = pos;
    w.flush().map_err(&err)?;
    drop(w);
    file.set_len(file_len).map_err(&err)?;

    // header and section table
    let mut table = Vec::with_capacity(section_count * ENTRY_LEN);
    for e in &entries {
        table.extend_from_slice(&(e.kind as u32).to_le_bytes());
        table.extend_from_slice(&e.column.to_le_bytes());
        table.extend_from_slice(&e.offset.to_le_bytes());
        table.extend_from_slice(&e.len.to_le_bytes());
        table.extend_from_slice(&e.crc.to_le_bytes());
        table.extend_from_slice(&0u32.to_le_bytes());
    }
    let mut header = [0u8; HEADER_LEN];
    header[0..8].copy_from_slice(&MAGIC);
    header[8..10].copy_from_slice(&CURRENT_VERSION.to_le_bytes());
    header[10..12].copy_from_slice(&OLDEST_VERSION.to_le_bytes());
    header[12..16].copy_from_slice(&(entries.len() as u32).to_le_bytes());
    header[16..24].copy_from_slice(&(rows as u64).to_le_bytes());
    header[24..32].copy_from_slice(&file_len.to_le_bytes());
    header[32..36].copy_from_slice(&crc32c::crc32c(&table).to_le_bytes());
    put_ledger_head(&mut header, head);
    file.seek(SeekFrom::Start(0)).map_err(&err)?;
    file.write_all(&header).map_err(&err)?;
    file.write_all(&table).map_err(&err)?;
    Ok(())
}

/// Writes the ledger head into a header (bytes 36..60) and recomputes the header checksum.
fn put_ledger_head(header: &mut [u8; HEADER_LEN], head: LedgerHead) {
    header[36..44].copy_from_slice(&head.seq.to_le_bytes());
    header[44..60].copy_from_slice(&head.hash);
    let hcrc = crc32c::crc32c(&header[..60]);
    header[60..64].copy_from_slice(&hcrc.to_le_bytes());
}

/// Replaces the ledger head in the header of a file [`write_to`] wrote (the rest of the file is
/// unchanged: the head is covered by the header checksum only).
pub(crate) fn set_ledger_head(
    file: &mut File,
    path: &Path,
    head: LedgerHead,
) -> Result<(), WriteError> {
    use std::io::Read;
    let err = io_err(path);
    let mut header = [0u8; HEADER_LEN];
    file.seek(SeekFrom::Start(0)).map_err(&err)?;
    file.read_exact(&mut header).map_err(&err)?;
    put_ledger_head(&mut header, head);
    file.seek(SeekFrom::Start(0)).map_err(&err)?;
    file.write_all(&header).map_err(&err)?;
    Ok(())
}

/// Maps a whole file read-only.
///
/// # Safety
///
/// This is the only `unsafe` of the index. A memory map is undefined behaviour if another process
/// truncates or rewrites the file while it is mapped. Tandem never modifies an index file in place:
/// every write goes to a new file that is renamed over the old one, so a mapped file stays
/// unchanged until it is unmapped. Other programs must follow the same rule (`docs/FORMAT.md`).
fn map_file(file: &File) -> io::Result<Mmap> {
    // SAFETY: see the function documentation: index files are replaced, never modified in place.
    unsafe { Mmap::map(file) }
}

fn le_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

/// A parsed, bounds-checked section table.
struct Layout {
    rows: usize,
    version: u16,
    head: LedgerHead,
    entries: Vec<Entry>,
}

fn corrupt(path: &Path, section: &str, reason: impl Into<String>) -> OpenError {
    OpenError::Corrupt {
        path: path.to_path_buf(),
        section: section.to_string(),
        reason: reason.into(),
    }
}

/// Checks magic, version, length, header and table checksums and section bounds.
fn layout(path: &Path, b: &[u8]) -> Result<Layout, OpenError> {
    if b.len() < 8 || b[0..8] != MAGIC {
        return Err(OpenError::BadMagic {
            path: path.to_path_buf(),
        });
    }
    if b.len() < HEADER_LEN {
        return Err(OpenError::WrongLength {
            path: path.to_path_buf(),
            expected: HEADER_LEN as u64,
            found: b.len() as u64,
        });
    }
    let stored = le_u32(b, 60);
    let computed = crc32c::crc32c(&b[..60]);
    if stored != computed {
        return Err(OpenError::ChecksumMismatch {
            path: path.to_path_buf(),
            section: "header".into(),
            stored,
            computed,
        });
    }
    let version = le_u16(b, 8);
    let needs = le_u16(b, 10);
    if needs > CURRENT_VERSION || version < OLDEST_VERSION {
        return Err(OpenError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: version.max(needs),
            oldest: OLDEST_VERSION,
            current: CURRENT_VERSION,
        });
    }
    let count = le_u32(b, 12) as usize;
    let rows = le_u64(b, 16);
    let file_len = le_u64(b, 24);
    if file_len != b.len() as u64 {
        return Err(OpenError::WrongLength {
            path: path.to_path_buf(),
            expected: file_len,
            found: b.len() as u64,
        });
    }
    let rows = usize::try_from(rows)
        .ok()
        .filter(|&r| r < u32::MAX as usize)
        .ok_or_else(|| corrupt(path, "header", "row count out of range"))?;
    let table_end = count
        .checked_mul(ENTRY_LEN)
        .and_then(|t| t.checked_add(HEADER_LEN))
        .filter(|&t| t <= b.len())
        .ok_or_else(|| {
            corrupt(
                path,
                "header",
                format!("section table of {count} entries lies outside the file"),
            )
        })?;
    let table = &b[HEADER_LEN..table_end];
    let stored = le_u32(b, 32);
    let computed = crc32c::crc32c(table);
    if stored != computed {
        return Err(OpenError::ChecksumMismatch {
            path: path.to_path_buf(),
            section: "section table".into(),
            stored,
            computed,
        });
    }
    let mut entries = Vec::with_capacity(count);
    for i in 0..count {
        let e = &table[i * ENTRY_LEN..(i + 1) * ENTRY_LEN];
        let kind = Kind::from_u32(le_u32(e, 0)).ok_or_else(|| {
            corrupt(
                path,
                "section table",
                format!("entry {i} has unknown kind {}", le_u32(e, 0)),
            )
        })?;
        let (offset, len) = (le_u64(e, 8), le_u64(e, 16));
        if offset < table_end as u64
            || offset % ALIGN != 0
            || offset.checked_add(len).is_none_or(|end| end > file_len)
        {
            return Err(corrupt(
                path,
                kind.name(),
                format!(
                    "section at {offset} of {len} bytes lies outside the file or overlaps the header"
                ),
            ));
        }
        entries.push(Entry {
            kind,
            column: le_u32(e, 4),
            offset,
            len,
            crc: le_u32(e, 24),
        });
    }
    // bytes 36..60 were reserved (zero) in version 1: a version-1 file has the zero head
    let mut hash = [0u8; HEAD_HASH_LEN];
    hash.copy_from_slice(&b[44..60]);
    let head = LedgerHead {
        seq: le_u64(b, 36),
        hash,
    };
    Ok(Layout {
        rows,
        version,
        head,
        entries,
    })
}

fn find<'a>(path: &Path, l: &'a Layout, kind: Kind, column: u32) -> Result<&'a Entry, OpenError> {
    let mut it = l
        .entries
        .iter()
        .filter(|e| e.kind == kind && e.column == column);
    let e = it.next().ok_or_else(|| {
        corrupt(
            path,
            kind.name(),
            format!("section missing (column {column})"),
        )
    })?;
    if it.next().is_some() {
        return Err(corrupt(
            path,
            kind.name(),
            format!("section given twice (column {column})"),
        ));
    }
    Ok(e)
}

fn check_crc(path: &Path, b: &[u8], e: &Entry) -> Result<(), OpenError> {
    let data = &b[e.offset as usize..(e.offset + e.len) as usize];
    let computed = crc32c::crc32c(data);
    if computed != e.crc {
        let section = if matches!(e.kind, Kind::ColumnA | Kind::ColumnB) {
            format!("{} {}", e.kind.name(), e.column)
        } else {
            e.kind.name().to_string()
        };
        return Err(OpenError::ChecksumMismatch {
            path: path.to_path_buf(),
            section,
            stored: e.crc,
            computed,
        });
    }
    Ok(())
}

/// Opens an index file: checks magic, version, length, header, table and meta checksums and
/// every section's bounds, then maps the file. Genotype columns and ids are used in place (not
/// read); [`verify`] checks them. Postings are not stored: the opened index answers by scanning
/// until [`Index::build_postings`] is called.
pub fn open(path: &Path) -> Result<Index, OpenError> {
    open_versioned(path).map(|(index, _)| index)
}

/// [`open`], with the format version of the file.
fn open_versioned(path: &Path) -> Result<(Index, u16), OpenError> {
    let ioe = |source| OpenError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(ioe)?;
    let map = Arc::new(map_file(&file).map_err(ioe)?);
    let b: &[u8] = &map;
    let l = layout(path, b)?;
    let rows = l.rows;
    let m = find(path, &l, Kind::Meta, 0)?;
    check_crc(path, b, m)?;
    let (meta, used): (Meta, usize) = bincode::serde::decode_from_slice(
        &b[m.offset as usize..(m.offset + m.len) as usize],
        bincode::config::standard(),
    )
    .map_err(|e| corrupt(path, "meta", format!("cannot decode: {e}")))?;
    if used as u64 != m.len {
        return Err(corrupt(
            path,
            "meta",
            "trailing bytes after the encoded meta",
        ));
    }
    let ncol = meta.panel.len();
    if meta.codebooks.len() != ncol || meta.special.len() != ncol {
        return Err(corrupt(
            path,
            "meta",
            "panel, codebooks and side tables differ in length",
        ));
    }
    if meta.labs.len() >= u16::MAX as usize
        || meta.countries.len() >= u16::MAX as usize
        || meta.kits.len() >= u16::MAX as usize
    {
        return Err(corrupt(path, "meta", "too many labs, countries or kits"));
    }
    let countries = meta
        .countries
        .iter()
        .map(|c| c.parse::<crate::profile::Country>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| corrupt(path, "meta", e.to_string()))?;
    let expect_len = |e: &Entry, want: u64| -> Result<(), OpenError> {
        if e.len != want {
            return Err(corrupt(
                path,
                e.kind.name(),
                format!("{} bytes, expected {want}", e.len),
            ));
        }
        Ok(())
    };
    let offs = find(path, &l, Kind::IdOffsets, 0)?;
    expect_len(offs, (rows as u64 + 1) * 4)?;
    let heap = find(path, &l, Kind::IdHeap, 0)?;
    let rmeta = find(path, &l, Kind::RowMeta, 0)?;
    expect_len(rmeta, rows as u64 * META_WIDTH as u64)?;
    let window = |e: &Entry| Bytes::mapped(&map, e.offset as usize, e.len as usize);

    let mut columns = Vec::with_capacity(ncol);
    let mut column_of = std::collections::HashMap::new();
    for (ci, name) in meta.panel.iter().enumerate() {
        let locus = Locus::lookup_or_custom(name)
            .map_err(|e| corrupt(path, "meta", format!("column {ci}: {e}")))?;
        if column_of.insert(locus, ci).is_some() {
            return Err(corrupt(
                path,
                "meta",
                format!("locus {locus} has two columns"),
            ));
        }
        let mut codebook = Codebook::default();
        if meta.codebooks[ci].len() > MAX_CODE as usize {
            return Err(corrupt(
                path,
                "meta",
                format!("codebook of {locus} has more than {MAX_CODE} alleles"),
            ));
        }
        for text in &meta.codebooks[ci] {
            let allele = if locus.is_amelogenin() {
                crate::Allele::parse_amelogenin(text)
            } else {
                text.parse()
            }
            .map_err(|e| corrupt(path, "meta", format!("codebook of {locus}: {e}")))?;
            let before = codebook.alleles.len();
            if codebook.code_or_insert(allele).is_none() || codebook.alleles.len() == before {
                return Err(corrupt(
                    path,
                    "meta",
                    format!("codebook of {locus}: allele {text} repeated or not exact"),
                ));
            }
        }
        let a = find(path, &l, Kind::ColumnA, ci as u32)?;
        let bb = find(path, &l, Kind::ColumnB, ci as u32)?;
        expect_len(a, rows as u64)?;
        expect_len(bb, rows as u64)?;
        let mut special = FxHashMap::default();
        let mut special_rows = Vec::with_capacity(meta.special[ci].len());
        for &(r, g) in &meta.special[ci] {
            if r as usize >= rows || special_rows.last().is_some_and(|&p| p >= r) {
                return Err(corrupt(
                    path,
                    "meta",
                    format!("side table of {locus}: row {r} out of order or range"),
                ));
            }
            special.insert(r, g);
            special_rows.push(r);
        }
        columns.push(Column {
            locus,
            codebook,
            a: window(a),
            b: window(bb),
            special,
            special_rows,
            postings: FxHashMap::default(),
            untyped: Vec::new(),
        });
    }
    if l.entries.len() != 4 + 2 * ncol {
        return Err(corrupt(
            path,
            "section table",
            format!("{} sections for {ncol} columns", l.entries.len()),
        ));
    }
    let index = Index {
        columns,
        column_of,
        ids: Ids::Heap {
            offsets: window(offs),
            heap: window(heap),
            rows,
        },
        row_of: OnceLock::new(),
        live: BitVec::repeat(true, rows),
        live_count: rows,
        meta: window(rmeta),
        labs: meta.labs,
        countries,
        kits: meta.kits,
        has_postings: false,
        ledger_head: l.head,
    };
    Ok((index, l.version))
}

/// Opens an index file and checks everything: every section checksum and every internal
/// invariant (ids valid and unique, codes within their codebooks and ordered, side-table rows
/// coded 255 and no others, metadata within its dictionaries, every profile typed somewhere).
pub fn verify(path: &Path) -> Result<Index, OpenError> {
    let index = open(path)?;
    let ioe = |source| OpenError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(ioe)?;
    let map = map_file(&file).map_err(ioe)?;
    let l = layout(path, &map)?;
    // sections in parallel; the first mismatch in table order is reported
    let crcs: Vec<Result<(), OpenError>> = l
        .entries
        .par_iter()
        .map(|e| check_crc(path, &map, e))
        .collect();
    crcs.into_iter().collect::<Result<Vec<()>, _>>()?;
    // every byte outside the header, the table and the sections is zero padding
    let mut spans: Vec<(u64, u64)> = l
        .entries
        .iter()
        .map(|e| (e.offset, e.offset + e.len))
        .collect();
    spans.push((0, (HEADER_LEN + l.entries.len() * ENTRY_LEN) as u64));
    spans.sort_unstable();
    let mut at = 0u64;
    for (s, e) in spans
        .iter()
        .copied()
        .chain(std::iter::once((map.len() as u64, map.len() as u64)))
    {
        if s < at {
            return Err(corrupt(
                path,
                "section table",
                format!("sections overlap at byte {s}"),
            ));
        }
        if let Some(i) = map[at as usize..s as usize].iter().position(|&x| x != 0) {
            return Err(corrupt(
                path,
                "padding",
                format!("non-zero byte at {}", at as usize + i),
            ));
        }
        at = at.max(e);
    }
    let rows = index.rows();
    // Each check runs in parallel over chunks of rows (columns for the codes) and reports the
    // first problem in row order, as a sequential pass would.
    const CHUNK: usize = 1 << 14;
    let first_error = |check: &(dyn Fn(usize) -> Result<(), OpenError> + Sync)| {
        (0..rows.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| (c * CHUNK..((c + 1) * CHUNK).min(rows)).try_for_each(check))
            .find_first(Result::is_err)
            .unwrap_or(Ok(()))
    };
    // ids
    if let Ids::Heap { offsets, heap, .. } = &index.ids {
        let off = |i: usize| le_u32(offsets, i * 4) as usize;
        if off(0) != 0 || off(rows) != heap.len() {
            return Err(corrupt(path, "id offsets", "offsets do not span the heap"));
        }
        let text = |r: usize| -> Result<&str, OpenError> {
            let (s, e) = (off(r), off(r + 1));
            heap.get(s..e)
                .filter(|_| s <= e)
                .and_then(|t| std::str::from_utf8(t).ok())
                .ok_or_else(|| {
                    corrupt(
                        path,
                        "id heap",
                        format!("row {r}: offsets out of order or not UTF-8"),
                    )
                })
        };
        let check = |r: usize| -> Result<(), OpenError> {
            let t = text(r)?;
            ProfileId::new(t).map_err(|e| corrupt(path, "id heap", format!("row {r}: {e}")))?;
            Ok(())
        };
        let bad = (0..rows)
            .into_par_iter()
            .with_min_len(CHUNK)
            .find_first(|&r| check(r).is_err());
        // unique (before the first bad id): ascending ids (a sorted index) are, else a set
        // finds the first repeat
        let valid = bad.unwrap_or(rows);
        let ascending = (1..valid)
            .into_par_iter()
            .with_min_len(CHUNK)
            .all(|r| matches!((text(r - 1), text(r)), (Ok(a), Ok(b)) if a < b));
        if !ascending {
            // rows by hash of their id (in parallel); equal ids share a hash, so the first
            // repeat in row order is the smallest row with an equal id earlier in its run
            let hash = |t: &str| {
                use std::hash::{Hash, Hasher};
                let mut h = rustc_hash::FxHasher::default();
                t.hash(&mut h);
                h.finish()
            };
            let mut hashed: Vec<(u64, u32)> = (0..valid)
                .into_par_iter()
                .with_min_len(CHUNK)
                .map(|r| (text(r).map_or(0, hash), r as u32))
                .collect();
            hashed.par_sort_unstable();
            let repeat = hashed
                .chunk_by(|a, b| a.0 == b.0)
                .filter(|run| run.len() > 1)
                .filter_map(|run| {
                    run.iter().enumerate().skip(1).find_map(|(k, &(_, j))| {
                        let t = text(j as usize).ok()?;
                        run[..k]
                            .iter()
                            .any(|&(_, i)| text(i as usize).is_ok_and(|u| u == t))
                            .then_some(j)
                    })
                })
                .min();
            if let Some(j) = repeat {
                let t = text(j as usize)?;
                return Err(corrupt(
                    path,
                    "id heap",
                    format!("specimen {t} appears twice"),
                ));
            }
        }
        if let Some(r) = bad {
            check(r)?;
        }
    }
    // row metadata
    first_error(&|r| {
        let m = &index.meta[r * META_WIDTH..(r + 1) * META_WIDTH];
        if m[0] != u8::MAX && m[0] as usize >= SpecimenCategory::ALL.len() {
            return Err(corrupt(
                path,
                "row metadata",
                format!("row {r}: category {} unknown", m[0]),
            ));
        }
        let lab = le_u16(m, 2);
        if lab != u16::MAX && lab as usize >= index.labs.len() {
            return Err(corrupt(
                path,
                "row metadata",
                format!("row {r}: lab {lab} unknown"),
            ));
        }
        let country = le_u16(m, 4);
        let kit = le_u16(m, 6);
        if (country != u16::MAX && country as usize >= index.countries.len())
            || (kit != u16::MAX && kit as usize >= index.kits.len())
        {
            return Err(corrupt(
                path,
                "row metadata",
                format!("row {r}: country {country} or kit {kit} unknown"),
            ));
        }
        let days = le_u32(m, 8);
        if days != u32::MAX && super::days_to_date(days).is_none() {
            return Err(corrupt(
                path,
                "row metadata",
                format!("row {r}: date {days} out of range"),
            ));
        }
        if m[1] & !1 != 0 {
            return Err(corrupt(
                path,
                "row metadata",
                format!("row {r}: unknown flags {:#04x}", m[1]),
            ));
        }
        Ok(())
    })?;
    // codes: columns in parallel, the first column with a problem reported
    let columns: Vec<Result<(), OpenError>> = index
        .columns
        .par_iter()
        .enumerate()
        .map(|(ci, c)| {
            let n = c.codebook.alleles.len() as u8;
            let (a, b): (&[u8], &[u8]) = (&c.a, &c.b);
            for (r, (&x, &y)) in a.iter().zip(b).enumerate().take(rows) {
                let ok = match x {
                    UNTYPED => y == UNTYPED,
                    SPECIAL => y == SPECIAL && c.special.contains_key(&(r as u32)),
                    _ => x <= n && y <= n && y != UNTYPED && x <= y,
                };
                if !ok {
                    return Err(corrupt(
                        path,
                        &format!("column {ci} ({})", c.locus),
                        format!("row {r}: codes {x},{y} invalid"),
                    ));
                }
            }
            if let Some(&r) = c.special_rows.iter().find(|&&r| a[r as usize] != SPECIAL) {
                return Err(corrupt(
                    path,
                    &format!("column {ci} ({})", c.locus),
                    format!("side-table row {r} not coded 255"),
                ));
            }
            Ok(())
        })
        .collect();
    columns.into_iter().collect::<Result<Vec<()>, _>>()?;
    let codes: Vec<&[u8]> = index.columns.iter().map(|c| &c.a[..]).collect();
    first_error(&|r| {
        if codes
            .iter()
            .any(|a| a.get(r).is_some_and(|&x| x != UNTYPED))
        {
            Ok(())
        } else {
            Err(corrupt(
                path,
                "columns",
                format!("row {r} has no typed locus"),
            ))
        }
    })?;
    Ok(index)
}

/// Summary of an index file, for `tandem index info`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Info {
    /// Format version of the file.
    pub format_version: u16,
    /// The ledger record the file was written after (0: none; [`super::ledger`]).
    pub ledger_head_seq: u64,
    /// The first bytes of that record's SHA-256, hex.
    pub ledger_head_hash: String,
    /// Profiles in the file.
    pub profiles: usize,
    /// Loci (columns), canonical names.
    pub loci: Vec<String>,
    /// Profiles per specimen category (`none` for unknown).
    pub categories: Vec<(String, usize)>,
    /// Bytes of the file.
    pub file_bytes: u64,
    /// Bytes of genotype code columns.
    pub genotype_bytes: u64,
    /// Bytes of specimen ids (offsets and text).
    pub id_bytes: u64,
}

/// Reads the summary of an index file (cheap: [`open`] plus one pass over the row metadata).
pub fn info(path: &Path) -> Result<Info, OpenError> {
    let (index, format_version) = open_versioned(path)?;
    let file_bytes = std::fs::metadata(path)
        .map_err(|source| OpenError::Io {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    let mut counts = vec![0usize; SpecimenCategory::ALL.len() + 1];
    for r in 0..index.rows() {
        let c = index.meta[r * META_WIDTH] as usize;
        counts[c.min(SpecimenCategory::ALL.len())] += 1;
    }
    let mut categories: Vec<(String, usize)> = SpecimenCategory::ALL
        .iter()
        .zip(&counts)
        .filter(|(_, n)| **n > 0)
        .map(|(c, n)| (c.as_str().to_string(), *n))
        .collect();
    if counts[SpecimenCategory::ALL.len()] > 0 {
        categories.push(("none".into(), counts[SpecimenCategory::ALL.len()]));
    }
    let id_bytes = match &index.ids {
        Ids::Heap { offsets, heap, .. } => (offsets.len() + heap.len()) as u64,
        Ids::Owned(v) => v.iter().map(|i| i.as_str().len() as u64 + 4).sum(),
    };
    Ok(Info {
        format_version,
        ledger_head_seq: index.ledger_head.seq,
        ledger_head_hash: hex::encode(index.ledger_head.hash),
        profiles: index.len(),
        loci: index.loci().iter().map(|l| l.name().to_string()).collect(),
        categories,
        file_bytes,
        genotype_bytes: index
            .columns
            .iter()
            .map(|c| (c.a.len() + c.b.len()) as u64)
            .sum(),
        id_bytes,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::profile::Profile;

    /// Ten profiles `S0`..`S9` (ascending ids unless `shuffled`), written after `damage`.
    fn verified_after(shuffled: bool, damage: impl FnOnce(&mut Index)) -> Result<Index, OpenError> {
        let d8 = Locus::lookup("D8S1179").unwrap();
        let mut ids: Vec<usize> = (0..10).collect();
        if shuffled {
            ids.reverse();
        }
        let profiles: Vec<Profile> = ids
            .iter()
            .map(|i| {
                Profile::new(ProfileId::new(&format!("S{i}")).unwrap()).with(
                    d8,
                    Genotype::parse_at(d8, &format!("{},14", 8 + i)).unwrap(),
                )
            })
            .collect();
        let mut index = super::super::Index::from_profiles(&profiles).unwrap();
        damage(&mut index);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.tdx");
        write(&index, &path).unwrap();
        verify(&path)
    }

    fn reason(r: Result<Index, OpenError>) -> String {
        match r {
            Err(OpenError::Corrupt {
                section, reason, ..
            }) => format!("{section}: {reason}"),
            other => panic!("expected a corrupt file, got {other:?}"),
        }
    }

    #[test]
    fn test_verify_with_semantic_damage() {
        for shuffled in [false, true] {
            assert!(verified_after(shuffled, |_| {}).is_ok());
            // the first repeat in row order is named, ascending ids or not
            let dup = |i: &mut Index| {
                let ids = i.ids.to_mut();
                ids[6] = ids[2].clone();
                ids[8] = ids[1].clone();
            };
            let name = if shuffled { "S7" } else { "S2" };
            assert_eq!(
                reason(verified_after(shuffled, dup)),
                format!("id heap: specimen {name} appears twice")
            );
            let flags = |i: &mut Index| i.meta.to_mut()[3 * META_WIDTH + 1] = 0x80;
            assert_eq!(
                reason(verified_after(shuffled, flags)),
                "row metadata: row 3: unknown flags 0x80"
            );
            let codes = |i: &mut Index| {
                i.columns[0].a.to_mut()[5] = 9;
                i.columns[0].b.to_mut()[5] = 2;
            };
            assert_eq!(
                reason(verified_after(shuffled, codes)),
                "column 0 (D8S1179): row 5: codes 9,2 invalid"
            );
            let untyped = |i: &mut Index| {
                i.columns[0].a.to_mut()[7] = UNTYPED;
                i.columns[0].b.to_mut()[7] = UNTYPED;
            };
            assert_eq!(
                reason(verified_after(shuffled, untyped)),
                "columns: row 7 has no typed locus"
            );
        }
    }
}
