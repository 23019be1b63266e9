//! Databases and query sets for every command: an index file (recognised by its magic bytes) is
//! opened in place; any other file is read as profiles and indexed in memory.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use tandem_core::index::file::MAGIC;
use tandem_core::{Index, Profile};

use crate::io::{self, ReadFlags};

/// Queries from which an opened index file builds its postings before searching (below this, a
/// few scans are cheaper than building them).
const POSTINGS_FROM_QUERIES: usize = 32;

/// True when `path` starts with the index file magic bytes.
pub fn is_index_file(path: &Path) -> bool {
    let mut magic = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == MAGIC
}

/// The database of a search: an index file opened in place, or profiles indexed in memory.
/// `queries` is the number of queries that will be run (it decides whether to build postings).
pub fn load_index(path: &Path, flags: ReadFlags, queries: usize) -> Result<Index> {
    if is_index_file(path) {
        let mut index = Index::open(path)?;
        if queries >= POSTINGS_FROM_QUERIES {
            index.build_postings();
        }
        return Ok(index);
    }
    let db = io::load_profiles(path, flags)?;
    if db.profiles.is_empty() {
        io::warn_all(&[format!("{}: the database holds no profile", path.display())]);
    }
    Index::from_profiles(&db.profiles).with_context(|| format!("cannot index {}", path.display()))
}

/// Every profile of a file, index files included (their live profiles in row order).
pub fn load_profiles(path: &Path, flags: ReadFlags) -> Result<Vec<Profile>> {
    if is_index_file(path) {
        return Ok(Index::open(path)?.profiles().collect());
    }
    Ok(io::load_profiles(path, flags)?.profiles)
}
