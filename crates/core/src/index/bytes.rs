//! Byte storage that is either owned or a window of a memory-mapped index file.

use std::ops::Deref;
use std::sync::Arc;

use memmap2::Mmap;

/// Bytes owned in memory or borrowed from a shared memory map. Reading is the same either way;
/// the first write to a mapped window copies it into memory (copy on write).
#[derive(Clone)]
pub(crate) enum Bytes {
    /// Bytes in memory.
    Owned(Vec<u8>),
    /// `len` bytes at `start` of a mapped file.
    Mapped {
        /// The map, shared by every window of the same file.
        map: Arc<Mmap>,
        /// Offset of the window.
        start: usize,
        /// Length of the window.
        len: usize,
    },
}

impl Default for Bytes {
    fn default() -> Self {
        Bytes::Owned(Vec::new())
    }
}

impl Bytes {
    /// A window of a map; the caller has checked that it lies inside the map.
    pub(crate) fn mapped(map: &Arc<Mmap>, start: usize, len: usize) -> Bytes {
        Bytes::Mapped {
            map: Arc::clone(map),
            start,
            len,
        }
    }

    /// The bytes as an owned vector, copying a mapped window first.
    pub(crate) fn to_mut(&mut self) -> &mut Vec<u8> {
        if let Bytes::Mapped { .. } = self {
            let owned = self.to_vec();
            *self = Bytes::Owned(owned);
        }
        match self {
            Bytes::Owned(v) => v,
            // just replaced above
            Bytes::Mapped { .. } => unreachable!("mapped bytes were copied"),
        }
    }

    /// True for a window of a memory map.
    pub(crate) fn is_mapped(&self) -> bool {
        matches!(self, Bytes::Mapped { .. })
    }
}

impl Deref for Bytes {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            // bounds checked when the file was opened; `get` keeps a corrupt window from panicking
            Bytes::Mapped { map, start, len } => {
                map.get(*start..start.saturating_add(*len)).unwrap_or(&[])
            }
        }
    }
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bytes::Owned(v) => write!(f, "Bytes::Owned({} bytes)", v.len()),
            Bytes::Mapped { start, len, .. } => write!(f, "Bytes::Mapped({len} bytes at {start})"),
        }
    }
}
