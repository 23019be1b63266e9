//! The in-memory packed index: per-locus codebooks, structure-of-arrays code columns, a side
//! table for anything that is not a simple single-source genotype, and postings per genotype.
//!
//! See `docs/ARCHITECTURE.md` for the layout and the query planner.

use std::collections::HashMap;
use std::sync::OnceLock;

use bitvec::vec::BitVec;
use rayon::prelude::*;
use std::hash::BuildHasher;

use rustc_hash::FxHashMap;

use crate::allele::Allele;
use crate::genotype::Genotype;
use crate::locus::Locus;
use crate::profile::{Profile, ProfileId, SpecimenCategory};
use crate::search::{Hit, SearchOptions};

mod bytes;
pub mod file;
pub mod ledger;
mod merge;
mod row;
pub mod update;

pub(crate) use bytes::Bytes;
pub use merge::{GatherRow, GatherSource};
pub use row::RowView;

/// Code of an untyped locus.
pub(crate) const UNTYPED: u8 = 0;
/// Largest code an exact allele can get.
pub(crate) const MAX_CODE: u8 = 253;
/// Code of a query allele that is not in the column's codebook (never stored).
pub(crate) const ABSENT: u8 = 254;
/// Code of a row whose genotype lives in the side table.
pub(crate) const SPECIAL: u8 = 255;

/// Largest exact repeat value (tenths) with a direct-indexed code.
const DIRECT_TENTHS: usize = 10_000;

/// A per-locus allele codebook: exact alleles to codes `1..=253`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Codebook {
    /// `alleles[code - 1]` is the allele with that code.
    pub(crate) alleles: Vec<Allele>,
    /// Direct lookup for repeat alleles by tenths (0 = no code).
    by_tenths: Vec<u8>,
    x: u8,
    y: u8,
}

impl Codebook {
    /// The code of an exact allele, if it has one.
    pub(crate) fn code(&self, a: Allele) -> Option<u8> {
        let c = match a {
            Allele::Repeat(t) => self.by_tenths.get(t as usize).copied().unwrap_or(0),
            Allele::X => self.x,
            Allele::Y => self.y,
            _ => 0,
        };
        (c != 0).then_some(c)
    }

    /// The code of an exact allele, assigning a new one if there is room.
    fn code_or_insert(&mut self, a: Allele) -> Option<u8> {
        if let Some(c) = self.code(a) {
            return Some(c);
        }
        if self.alleles.len() >= MAX_CODE as usize {
            return None;
        }
        let slot = match a {
            Allele::Repeat(t) if (t as usize) < DIRECT_TENTHS => {
                if self.by_tenths.is_empty() {
                    self.by_tenths = vec![0; DIRECT_TENTHS];
                }
                &mut self.by_tenths[t as usize]
            }
            Allele::X => &mut self.x,
            Allele::Y => &mut self.y,
            _ => return None,
        };
        self.alleles.push(a);
        let code = self.alleles.len() as u8;
        *slot = code;
        Some(code)
    }

    /// The allele of a code.
    pub(crate) fn allele(&self, code: u8) -> Option<Allele> {
        self.alleles.get((code as usize).checked_sub(1)?).copied()
    }

    /// The code pair of a genotype (smaller code first), assigning codes to its alleles in
    /// ladder order as needed; `None` when it belongs in the side table (not simple, or the
    /// codebook is full).
    fn codes(&mut self, g: &Genotype) -> Option<(u8, u8)> {
        if !g.is_simple() {
            return None;
        }
        let al = g.alleles();
        let c0 = self.code_or_insert(al[0]);
        let c1 = if al.len() == 2 {
            self.code_or_insert(al[1])
        } else {
            c0
        };
        match (c0, c1) {
            (Some(x), Some(y)) => Some((x.min(y), x.max(y))),
            _ => None,
        }
    }
}

/// One locus of the index.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub(crate) locus: Locus,
    pub(crate) codebook: Codebook,
    /// Smaller code of each row (0 untyped, 255 special).
    pub(crate) a: Bytes,
    /// Larger code of each row (equal to `a` for a single allele).
    pub(crate) b: Bytes,
    /// Full genotypes of rows coded [`SPECIAL`].
    pub(crate) special: FxHashMap<u32, Genotype>,
    /// Rows coded [`SPECIAL`], ascending.
    pub(crate) special_rows: Vec<u32>,
    /// Rows per genotype key `a << 8 | b`, ascending; may hold deleted rows. Empty until built
    /// for an index opened from a file (see [`Index::has_postings`]).
    pub(crate) postings: FxHashMap<u16, Vec<u32>>,
    /// Rows untyped at this locus, ascending; may hold deleted rows. Built with the postings.
    pub(crate) untyped: Vec<u32>,
}

impl Column {
    fn new(locus: Locus, rows: usize) -> Column {
        Column {
            locus,
            codebook: Codebook::default(),
            a: Bytes::Owned(vec![UNTYPED; rows]),
            b: Bytes::Owned(vec![UNTYPED; rows]),
            special: FxHashMap::default(),
            special_rows: Vec::new(),
            postings: FxHashMap::default(),
            untyped: (0..rows as u32).collect(),
        }
    }

    /// Appends one row.
    fn push(&mut self, row: u32, g: Option<&Genotype>) {
        let Some(g) = g else {
            self.a.to_mut().push(UNTYPED);
            self.b.to_mut().push(UNTYPED);
            self.untyped.push(row);
            return;
        };
        match self.codebook.codes(g) {
            Some((x, y)) => {
                self.a.to_mut().push(x);
                self.b.to_mut().push(y);
                self.postings.entry(key(x, y)).or_default().push(row);
            }
            None => {
                self.a.to_mut().push(SPECIAL);
                self.b.to_mut().push(SPECIAL);
                self.special.insert(row, *g);
                self.special_rows.push(row);
            }
        }
    }

    /// Appends one row given as a raw pair (build phase 2); same codes as [`Column::push`], but
    /// the postings are left to [`build_postings`].
    fn push_raw(&mut self, row: u32, raw: u32) {
        let lo = allele_of_raw((raw >> 16) as u16);
        let hi = allele_of_raw(raw as u16);
        let c0 = self.codebook.code_or_insert(lo);
        let c1 = if lo == hi {
            c0
        } else {
            self.codebook.code_or_insert(hi)
        };
        match (c0, c1) {
            (Some(x), Some(y)) => {
                self.a.to_mut().push(x.min(y));
                self.b.to_mut().push(x.max(y));
            }
            _ => {
                // codebook overflow: keep the genotype in the side table
                let g = if lo == hi {
                    Genotype::single(lo)
                } else {
                    Genotype::new(&[lo, hi]).unwrap_or(Genotype::single(lo))
                };
                self.a.to_mut().push(SPECIAL);
                self.b.to_mut().push(SPECIAL);
                self.special.insert(row, g);
                self.special_rows.push(row);
            }
        }
    }

    /// The genotype of a row, if typed.
    pub(crate) fn genotype(&self, row: u32) -> Option<Genotype> {
        let r = row as usize;
        match *self.a.get(r)? {
            UNTYPED => None,
            SPECIAL => self.special.get(&row).copied(),
            x => {
                let y = self.b[r];
                let ax = self.codebook.allele(x)?;
                let ay = self.codebook.allele(y)?;
                Genotype::new(&[ax, ay]).ok()
            }
        }
    }

    /// Erases a row's genetic data.
    fn erase(&mut self, row: u32) {
        let r = row as usize;
        if self.a[r] == SPECIAL {
            self.special.remove(&row);
            if let Ok(pos) = self.special_rows.binary_search(&row) {
                self.special_rows.remove(pos);
            }
        }
        self.a.to_mut()[r] = UNTYPED;
        self.b.to_mut()[r] = UNTYPED;
    }
}

/// Raw pair of an untyped locus (build phase 1).
const RAW_UNTYPED: u32 = 0;
/// Raw pair of a genotype for the side table (build phase 1).
const RAW_SPECIAL: u32 = u32::MAX;
const RAW_X: u16 = DIRECT_TENTHS as u16 + 1;
const RAW_Y: u16 = DIRECT_TENTHS as u16 + 2;

/// Rows of one build chunk, transposed.
struct RawChunk {
    raw: Vec<Vec<u32>>,
    special: Vec<(usize, u32, Genotype)>,
}

fn raw_allele(a: Allele) -> Option<u16> {
    match a {
        Allele::Repeat(t) if (t as usize) < DIRECT_TENTHS && t > 0 => Some(t),
        Allele::X => Some(RAW_X),
        Allele::Y => Some(RAW_Y),
        _ => None,
    }
}

fn allele_of_raw(r: u16) -> Allele {
    match r {
        RAW_X => Allele::X,
        RAW_Y => Allele::Y,
        t => Allele::Repeat(t),
    }
}

/// A simple genotype as two raw alleles in ladder order (`lo << 16 | hi`).
fn raw_pair(g: &Genotype) -> Option<u32> {
    if !g.is_simple() {
        return None;
    }
    let al = g.alleles();
    let lo = raw_allele(al[0])?;
    let hi = if al.len() == 2 {
        raw_allele(al[1])?
    } else {
        lo
    };
    Some((lo as u32) << 16 | hi as u32)
}

/// Postings of whole code columns, with exact capacities and no hashing per row.
fn build_postings(a: &[u8], b: &[u8]) -> FxHashMap<u16, Vec<u32>> {
    let mut counts = vec![0u32; 1 << 16];
    for (&x, &y) in a.iter().zip(b) {
        if valid_code(x) {
            counts[key(x, y) as usize] += 1;
        }
    }
    let mut lists: Vec<Vec<u32>> = counts
        .iter()
        .map(|&n| {
            if n > 0 {
                Vec::with_capacity(n as usize)
            } else {
                Vec::new()
            }
        })
        .collect();
    for (row, (&x, &y)) in a.iter().zip(b).enumerate() {
        if valid_code(x) {
            lists[key(x, y) as usize].push(row as u32);
        }
    }
    lists
        .into_iter()
        .enumerate()
        .filter(|(_, l)| !l.is_empty())
        .map(|(k, l)| (k as u16, l))
        .collect()
}

/// True for codes of exact alleles (not untyped, not side table).
fn valid_code(x: u8) -> bool {
    x != UNTYPED && x <= MAX_CODE
}

/// Specimen id to row, hashing the ids kept in `Index::ids` (no second copy of each id).
#[derive(Clone, Default)]
struct RowMap {
    table: hashbrown::HashTable<u32>,
    hasher: rustc_hash::FxBuildHasher,
}

impl std::fmt::Debug for RowMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RowMap({} ids)", self.table.len())
    }
}

impl RowMap {
    fn get(&self, ids: &Ids, id: &str) -> Option<u32> {
        let h = self.hasher.hash_one(id);
        self.table.find(h, |&r| ids.str(r) == id).copied()
    }

    /// Inserts `row` for `ids[row]`; false if that id is already mapped.
    fn insert(&mut self, ids: &Ids, row: u32) -> bool {
        let id = ids.str(row);
        let h = self.hasher.hash_one(id);
        let hasher = &self.hasher;
        match self
            .table
            .entry(h, |&r| ids.str(r) == id, |&r| hasher.hash_one(ids.str(r)))
        {
            hashbrown::hash_table::Entry::Occupied(_) => false,
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(row);
                true
            }
        }
    }

    fn remove(&mut self, ids: &Ids, id: &str) -> Option<u32> {
        let h = self.hasher.hash_one(id);
        match self.table.find_entry(h, |&r| ids.str(r) == id) {
            Ok(e) => Some(e.remove().0),
            Err(_) => None,
        }
    }
}

/// The specimen ids of the rows: one allocation per id, or a string heap (in a mapped file, or
/// built in memory by [`Index::gather`]).
#[derive(Debug, Clone)]
pub(crate) enum Ids {
    /// Ids in memory.
    Owned(Vec<ProfileId>),
    /// `offsets` holds rows + 1 little-endian u32 offsets into `heap` (the file's layout).
    Heap {
        offsets: Bytes,
        heap: Bytes,
        rows: usize,
    },
}

impl Default for Ids {
    fn default() -> Self {
        Ids::Owned(Vec::new())
    }
}

/// What a corrupt id heap reads as (never a panic); `verify` reports the corruption.
const BAD_ID: &str = "\u{fffd}";

impl Ids {
    pub(crate) fn len(&self) -> usize {
        match self {
            Ids::Owned(v) => v.len(),
            Ids::Heap { rows, .. } => *rows,
        }
    }

    /// The id of a row as text.
    pub(crate) fn str(&self, row: u32) -> &str {
        match self {
            Ids::Owned(v) => v.get(row as usize).map_or(BAD_ID, ProfileId::as_str),
            Ids::Heap { offsets, heap, .. } => {
                let r = row as usize * 4;
                let at = |i: usize| {
                    offsets
                        .get(i..i + 4)
                        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
                };
                match (at(r), at(r + 4)) {
                    (Some(s), Some(e)) => heap
                        .get(s..e)
                        .and_then(|b| std::str::from_utf8(b).ok())
                        .unwrap_or(BAD_ID),
                    _ => BAD_ID,
                }
            }
        }
    }

    /// The id of a row.
    pub(crate) fn get(&self, row: u32) -> ProfileId {
        match self {
            Ids::Owned(v) => v
                .get(row as usize)
                .cloned()
                .unwrap_or_else(|| ProfileId::trusted(BAD_ID)),
            Ids::Heap { .. } => ProfileId::trusted(self.str(row)),
        }
    }

    /// The ids as an owned vector, decoding a heap first.
    fn to_mut(&mut self) -> &mut Vec<ProfileId> {
        if let Ids::Heap { rows, .. } = self {
            let owned = (0..*rows as u32).map(|r| self.get(r)).collect();
            *self = Ids::Owned(owned);
        }
        match self {
            Ids::Owned(v) => v,
            Ids::Heap { .. } => unreachable!("heap ids were decoded"),
        }
    }
}

/// Bytes of per-row metadata (see `docs/FORMAT.md`): category, flags, lab, country, kit, date.
pub(crate) const META_WIDTH: usize = 12;
/// Flag bit: the profile is partial.
const FLAG_PARTIAL: u8 = 1;
/// "Unknown" for the u16 dictionary fields.
const NONE16: u16 = u16::MAX;

/// The posting key of a code pair.
pub(crate) fn key(a: u8, b: u8) -> u16 {
    (a as u16) << 8 | b as u16
}

/// The error of changing an index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// A profile with this specimen id is already in the index.
    #[error("specimen {0} is already in the index")]
    DuplicateId(ProfileId),
    /// The profile types no locus.
    #[error("specimen {0} has no typed locus")]
    NoLoci(ProfileId),
    /// The index is full (row ids are 32-bit).
    #[error("the index is full (at most 4,294,967,294 rows)")]
    Full,
    /// More distinct lab, country or kit names than the index can number.
    #[error("too many distinct lab, country or kit names (at most 65,535 each)")]
    TooManyLabs,
    /// A row to copy ([`Index::gather`]) is not a live row of its source index, or the source
    /// does not exist.
    #[error("row {row} of source index {index} is not a live row")]
    NoSuchRow {
        /// The source's position in the list of sources.
        index: usize,
        /// The row.
        row: u32,
    },
}

/// An in-memory packed index of STR profiles.
///
/// Genotype data takes 2 bytes per locus per single-source profile (48 bytes for 24 loci);
/// postings take 4 bytes per typed locus per profile. Deleted profiles are erased (their codes
/// zeroed) and never returned.
#[derive(Debug, Clone, Default)]
pub struct Index {
    pub(crate) columns: Vec<Column>,
    column_of: HashMap<Locus, usize>,
    pub(crate) ids: Ids,
    row_of: OnceLock<RowMap>,
    pub(crate) live: BitVec,
    live_count: usize,
    /// [`META_WIDTH`] bytes per row.
    pub(crate) meta: Bytes,
    pub(crate) labs: Vec<String>,
    pub(crate) countries: Vec<crate::profile::Country>,
    pub(crate) kits: Vec<String>,
    pub(crate) has_postings: bool,
    /// The ledger head of the file this index was opened from ([`ledger`]); zero otherwise.
    pub(crate) ledger_head: ledger::LedgerHead,
}

/// Days from 0000-03-01 ... : the Julian day number of 1970-01-01, for dates stored as days.
const UNIX_EPOCH_JULIAN: i32 = 2_440_588;

/// A date as stored in row metadata: days since 1970-01-01 (`u32::MAX` = unknown; dates before
/// 1970 are stored as unknown, no forensic profile predates DNA typing).
pub(crate) fn date_to_days(d: Option<crate::profile::Date>) -> u32 {
    d.and_then(|d| u32::try_from(d.to_julian_day() - UNIX_EPOCH_JULIAN).ok())
        .unwrap_or(u32::MAX)
}

/// The inverse of [`date_to_days`].
pub(crate) fn days_to_date(days: u32) -> Option<crate::profile::Date> {
    if days == u32::MAX {
        return None;
    }
    let jd = i32::try_from(days).ok()?.checked_add(UNIX_EPOCH_JULIAN)?;
    crate::profile::Date::from_julian_day(jd).ok()
}

/// Index of `value` in a dictionary, added when new; `None` when the dictionary is full.
fn dict_index<T: PartialEq + Clone>(dict: &mut Vec<T>, value: &T) -> Option<u16> {
    match dict.iter().position(|x| x == value) {
        Some(i) => Some(i as u16),
        None if dict.len() < NONE16 as usize => {
            dict.push(value.clone());
            Some((dict.len() - 1) as u16)
        }
        None => None,
    }
}

const NO_CATEGORY: u8 = u8::MAX;

impl Index {
    /// An empty index.
    pub fn new() -> Index {
        Index::default()
    }

    /// Builds an index from profiles, columns in parallel. Fails on duplicate specimen ids or a
    /// profile with no typed locus; nothing is built then.
    ///
    /// The result is identical to adding the profiles one by one with [`Index::add`].
    pub fn from_profiles(profiles: &[Profile]) -> Result<Index, IndexError> {
        if profiles.len() >= u32::MAX as usize {
            return Err(IndexError::Full);
        }
        let mut index = Index::new();
        let mut seen: Vec<bool> = Vec::new();
        let mut loci: Vec<Locus> = Vec::new();
        for p in profiles {
            if p.locus_count() == 0 {
                return Err(IndexError::NoLoci(p.id().clone()));
            }
            for (l, _) in p.genotypes() {
                let i = l.id() as usize;
                if i >= seen.len() {
                    seen.resize(i + 1, false);
                }
                if !seen[i] {
                    seen[i] = true;
                    loci.push(l);
                }
            }
        }
        loci.sort();
        let mut slot = vec![usize::MAX; seen.len()];
        for (i, l) in loci.iter().enumerate() {
            slot[l.id() as usize] = i;
        }
        index.ids = Ids::Owned(profiles.iter().map(|p| p.id().clone()).collect());
        let mut row_of = RowMap::default();
        row_of.table.reserve(profiles.len(), |_| 0);
        for row in 0..profiles.len() {
            if !row_of.insert(&index.ids, row as u32) {
                return Err(IndexError::DuplicateId(index.ids.get(row as u32)));
            }
        }
        index.row_of = OnceLock::from(row_of);

        // Phase 1, parallel over chunks of rows: each profile's map is walked once (row-major)
        // and its genotypes are transposed into raw per-column pairs.
        const CHUNK: usize = 1 << 15;
        let ncol = loci.len();
        let chunks: Vec<RawChunk> = profiles
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(ci, chunk)| {
                let base = (ci * CHUNK) as u32;
                let mut raw = vec![vec![RAW_UNTYPED; chunk.len()]; ncol];
                let mut special = Vec::new();
                for (i, p) in chunk.iter().enumerate() {
                    for (l, g) in p.genotypes() {
                        let c = slot[l.id() as usize];
                        match raw_pair(g) {
                            Some(r) => raw[c][i] = r,
                            None => {
                                raw[c][i] = RAW_SPECIAL;
                                special.push((c, base + i as u32, *g));
                            }
                        }
                    }
                }
                RawChunk { raw, special }
            })
            .collect();

        // Phase 2, parallel over columns: codes assigned in row order, exactly as `add` does.
        index.columns = loci
            .par_iter()
            .enumerate()
            .map(|(c, &l)| {
                let mut col = Column::new(l, 0);
                col.a.to_mut().reserve(profiles.len());
                col.b.to_mut().reserve(profiles.len());
                let mut row = 0u32;
                for chunk in &chunks {
                    let mut specials = chunk.special.iter().filter(|s| s.0 == c);
                    for &r in &chunk.raw[c] {
                        match r {
                            RAW_UNTYPED => col.push(row, None),
                            RAW_SPECIAL => {
                                if let Some((_, _, g)) = specials.next() {
                                    col.push(row, Some(g));
                                }
                            }
                            _ => col.push_raw(row, r),
                        }
                        row += 1;
                    }
                }
                col.postings = build_postings(&col.a, &col.b);
                col
            })
            .collect();
        index.column_of = loci.iter().enumerate().map(|(i, &l)| (l, i)).collect();
        index.live = BitVec::repeat(true, profiles.len());
        index.live_count = profiles.len();
        index.meta.to_mut().reserve(profiles.len() * META_WIDTH);
        for p in profiles {
            index.push_meta(p)?;
        }
        index.has_postings = true;
        Ok(index)
    }

    /// Appends a profile's metadata row (`docs/FORMAT.md`, row metadata).
    fn push_meta(&mut self, p: &Profile) -> Result<(), IndexError> {
        let cat = p
            .category()
            .and_then(|c| SpecimenCategory::ALL.iter().position(|&x| x == c));
        let lab = match p.lab() {
            None => NONE16,
            Some(l) => dict_index(&mut self.labs, &l.to_string()).ok_or(IndexError::TooManyLabs)?,
        };
        let country = match p.country() {
            None => NONE16,
            Some(c) => dict_index(&mut self.countries, &c).ok_or(IndexError::TooManyLabs)?,
        };
        let kit = match p.kit() {
            None => NONE16,
            Some(k) => dict_index(&mut self.kits, &k.to_string()).ok_or(IndexError::TooManyLabs)?,
        };
        let mut row = [0u8; META_WIDTH];
        row[0] = cat.map_or(NO_CATEGORY, |i| i as u8);
        row[1] = if p.is_partial() { FLAG_PARTIAL } else { 0 };
        row[2..4].copy_from_slice(&lab.to_le_bytes());
        row[4..6].copy_from_slice(&country.to_le_bytes());
        row[6..8].copy_from_slice(&kit.to_le_bytes());
        row[8..12].copy_from_slice(&date_to_days(p.date()).to_le_bytes());
        self.meta.to_mut().extend_from_slice(&row);
        Ok(())
    }

    /// Fails before any change when a metadata dictionary cannot take the profile's values.
    fn check_dictionaries(&self, p: &Profile) -> Result<(), IndexError> {
        let full = NONE16 as usize;
        let lab = p
            .lab()
            .is_some_and(|l| self.labs.len() >= full && !self.labs.iter().any(|x| x == l));
        let country = p
            .country()
            .is_some_and(|c| self.countries.len() >= full && !self.countries.contains(&c));
        let kit = p
            .kit()
            .is_some_and(|k| self.kits.len() >= full && !self.kits.iter().any(|x| x == k));
        if lab || country || kit {
            Err(IndexError::TooManyLabs)
        } else {
            Ok(())
        }
    }

    fn meta_row(&self, row: u32) -> Option<&[u8]> {
        let s = row as usize * META_WIDTH;
        self.meta.get(s..s + META_WIDTH)
    }

    /// The row map, built on first use for an index opened from a file.
    fn row_map(&self) -> &RowMap {
        self.row_of.get_or_init(|| {
            let mut m = RowMap::default();
            m.table.reserve(self.ids.len(), |_| 0);
            for r in 0..self.ids.len() as u32 {
                if self.live.get(r as usize).is_some_and(|b| *b) {
                    m.insert(&self.ids, r);
                }
            }
            m
        })
    }

    /// Makes every part of the index owned (copying mapped data), ready for changes.
    fn make_owned(&mut self) {
        self.row_map();
        self.ids.to_mut();
        self.meta.to_mut();
        for c in &mut self.columns {
            c.a.to_mut();
            c.b.to_mut();
        }
        if !self.has_postings {
            self.build_postings();
        }
    }

    /// Builds the postings (and untyped lists) of an index opened from a file, so that selective
    /// queries stop scanning. Columns are done in parallel; an index built in memory has them.
    pub fn build_postings(&mut self) {
        self.columns.par_iter_mut().for_each(|c| {
            c.postings = build_postings(&c.a, &c.b);
            c.untyped =
                c.a.iter()
                    .enumerate()
                    .filter(|(_, x)| **x == UNTYPED)
                    .map(|(r, _)| r as u32)
                    .collect();
        });
        self.has_postings = true;
    }

    /// Opens an index file (see [`file::open`]): cheap, the genotype columns are searched in place.
    pub fn open(path: &std::path::Path) -> Result<Index, file::OpenError> {
        file::open(path)
    }

    /// Writes the live profiles to an index file atomically (see [`file::write`]).
    pub fn write(&self, path: &std::path::Path) -> Result<(), file::WriteError> {
        file::write(self, path)
    }

    /// The ledger head stored in the header of the file this index was opened from (zero for an
    /// index built in memory): how many ledger records the file was written after.
    pub fn ledger_head(&self) -> ledger::LedgerHead {
        self.ledger_head
    }

    /// True when the genotype columns are read in place from a memory-mapped file.
    pub fn is_mapped(&self) -> bool {
        self.columns.first().is_some_and(|c| c.a.is_mapped())
    }

    /// True when the postings are built (always for an index built in memory; after
    /// [`Index::build_postings`] for one opened from a file). Without them every search scans.
    pub fn has_postings(&self) -> bool {
        self.has_postings
    }

    /// Adds one profile. Fails on a duplicate specimen id (use [`Index::upsert`] to replace) or a
    /// profile with no typed locus; the index is unchanged then.
    pub fn add(&mut self, p: Profile) -> Result<(), IndexError> {
        if self.contains(p.id()) {
            return Err(IndexError::DuplicateId(p.id().clone()));
        }
        if p.locus_count() == 0 {
            return Err(IndexError::NoLoci(p.id().clone()));
        }
        let row = u32::try_from(self.ids.len()).map_err(|_| IndexError::Full)?;
        if row == u32::MAX {
            return Err(IndexError::Full);
        }
        self.check_dictionaries(&p)?;
        self.make_owned();
        for (l, _) in p.genotypes() {
            if !self.column_of.contains_key(&l) {
                let rows = self.ids.len();
                self.column_of.insert(l, self.columns.len());
                self.columns.push(Column::new(l, rows));
            }
        }
        for c in &mut self.columns {
            c.push(row, p.genotype(c.locus));
        }
        self.ids.to_mut().push(p.id().clone());
        if let Some(m) = self.row_of.get_mut() {
            m.insert(&self.ids, row);
        }
        self.live.push(true);
        self.live_count += 1;
        self.push_meta(&p)
    }

    /// Adds a profile, replacing (expunging) any profile with the same specimen id.
    pub fn upsert(&mut self, p: Profile) -> Result<(), IndexError> {
        if p.locus_count() == 0 {
            return Err(IndexError::NoLoci(p.id().clone()));
        }
        self.check_dictionaries(&p)?;
        self.remove(p.id());
        self.add(p)
    }

    /// Removes a profile: its genetic data is erased from every column and it is never returned
    /// again. Returns the removed profile, or `None` if the id is not in the index.
    pub fn remove(&mut self, id: &ProfileId) -> Option<Profile> {
        self.row_map().get(&self.ids, id.as_str())?;
        self.make_owned();
        let row = self.row_of.get_mut()?.remove(&self.ids, id.as_str())?;
        let profile = self.profile_at(row);
        for c in &mut self.columns {
            c.erase(row);
        }
        self.live.set(row as usize, false);
        self.live_count -= 1;
        profile
    }

    /// The profile with this specimen id, rebuilt from the index (locus spellings are not kept).
    pub fn get(&self, id: &ProfileId) -> Option<Profile> {
        self.profile_at(self.row_map().get(&self.ids, id.as_str())?)
    }

    /// True when the index holds this specimen id.
    pub fn contains(&self, id: &ProfileId) -> bool {
        self.row_map().get(&self.ids, id.as_str()).is_some()
    }

    pub(crate) fn profile_at(&self, row: u32) -> Option<Profile> {
        self.view(row).map(|v| v.to_profile())
    }

    /// Every live profile, in insertion order.
    pub fn profiles(&self) -> impl Iterator<Item = Profile> + '_ {
        (0..self.ids.len() as u32).filter_map(|r| self.profile_at(r))
    }

    /// Number of live profiles.
    pub fn len(&self) -> usize {
        self.live_count
    }

    /// True when no live profile is left.
    pub fn is_empty(&self) -> bool {
        self.live_count == 0
    }

    /// Number of rows ever added (live and deleted).
    pub fn rows(&self) -> usize {
        self.ids.len()
    }

    /// The locus panel: every locus any profile typed, in column order.
    pub fn loci(&self) -> Vec<Locus> {
        self.columns.iter().map(|c| c.locus).collect()
    }

    pub(crate) fn column(&self, l: Locus) -> Option<usize> {
        self.column_of.get(&l).copied()
    }

    /// Bytes of packed genotype data (code columns and side tables; ids, postings apart).
    pub fn genotype_bytes(&self) -> usize {
        self.columns
            .iter()
            .map(|c| {
                c.a.len() + c.b.len() + c.special.len() * std::mem::size_of::<(u32, Genotype)>()
            })
            .sum()
    }

    /// Bytes of posting lists.
    pub fn posting_bytes(&self) -> usize {
        self.columns
            .iter()
            .map(|c| {
                4 * (c.postings.values().map(Vec::len).sum::<usize>()
                    + c.untyped.len()
                    + c.special_rows.len())
            })
            .sum()
    }

    /// Searches one query. Results are in result order and identical for any thread count.
    pub fn search(&self, query: &Profile, opts: &SearchOptions) -> Vec<Hit> {
        crate::search::plan::search(self, query, opts)
    }

    /// Searches many queries in parallel; `result[i]` answers `queries[i]`.
    pub fn search_batch(&self, queries: &[Profile], opts: &SearchOptions) -> Vec<Vec<Hit>> {
        queries
            .par_iter()
            .map(|q| crate::search::plan::search_serial(self, q, opts))
            .collect()
    }

    /// Explains how a query would be answered (for benchmarks and diagnostics).
    pub fn explain(&self, query: &Profile, opts: &SearchOptions) -> crate::search::plan::Explain {
        crate::search::plan::explain(self, query, opts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A profile from `(locus, genotype)` cells (also used by the tests of `row`).
    pub(super) fn p(id: &str, cells: &[(&str, &str)]) -> Profile {
        let mut pr = Profile::new(ProfileId::new(id).unwrap());
        for (l, c) in cells {
            let l = Locus::lookup(l).unwrap();
            pr.set_genotype(l, Genotype::parse_at(l, c).unwrap());
        }
        pr
    }

    #[test]
    fn test_add_get_remove_round_trip() {
        let mut idx = Index::new();
        let a = p(
            "A",
            &[
                ("D8S1179", "13,14"),
                ("TH01", "9.3"),
                ("FGA", "22,F"),
                ("AMEL", "X,Y"),
            ],
        );
        idx.add(a.clone()).unwrap();
        assert_eq!(idx.get(a.id()), Some(a.clone()));
        assert_eq!(
            idx.add(a.clone()),
            Err(IndexError::DuplicateId(a.id().clone()))
        );
        let b = p("B", &[("vWA", "16,17")]);
        idx.add(b.clone()).unwrap();
        assert_eq!(idx.get(b.id()), Some(b.clone()));
        assert_eq!(
            idx.get(a.id()),
            Some(a.clone()),
            "a new column leaves old rows untyped"
        );
        assert_eq!(idx.remove(a.id()), Some(a.clone()));
        assert_eq!(idx.get(a.id()), None);
        assert_eq!(idx.len(), 1);
        let fga = idx.column(Locus::lookup("FGA").unwrap()).unwrap();
        assert!(
            idx.columns[fga].special.is_empty(),
            "expunged genotype left in side table"
        );
        assert!(
            idx.columns
                .iter()
                .all(|c| c.a[0] == UNTYPED && c.b[0] == UNTYPED)
        );
        let built = Index::from_profiles(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(built.get(a.id()), Some(a));
        assert_eq!(built.get(b.id()), Some(b));
    }

    #[test]
    fn test_from_profiles_with_duplicates() {
        let a = p("A", &[("D8S1179", "13,14")]);
        assert!(matches!(
            Index::from_profiles(&[a.clone(), a]),
            Err(IndexError::DuplicateId(_))
        ));
    }

    #[test]
    fn test_genotype_bytes_per_profile() {
        let loci = crate::Kit::GlobalFiler.loci();
        let profiles: Vec<Profile> = (0..1000)
            .map(|i| {
                let mut pr = Profile::new(ProfileId::new(&format!("P{i}")).unwrap());
                for (k, &l) in loci.iter().enumerate() {
                    let g = if l.is_amelogenin() {
                        Genotype::new(&[Allele::X, Allele::Y]).unwrap()
                    } else {
                        let x = 80 + ((i * 7 + k * 3) % 12) as u16 * 10;
                        Genotype::new(&[Allele::Repeat(x), Allele::Repeat(x + 10)]).unwrap()
                    };
                    pr.set_genotype(l, g);
                }
                pr
            })
            .collect();
        let idx = Index::from_profiles(&profiles).unwrap();
        assert_eq!(loci.len(), 24);
        assert!(
            idx.genotype_bytes() <= 48 * 1000,
            "{}",
            idx.genotype_bytes()
        );
    }
}
