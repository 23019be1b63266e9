//! Building an index from rows of other indexes without decoding them.
//!
//! [`Index::gather`] copies rows, column by column, into exactly the index
//! [`Index::from_profiles`] would build from the decoded rows: codes are assigned in order of
//! first appearance in the new row order (so an old code is remapped through a small table per
//! column), the lab, country and kit dictionaries likewise, side-table genotypes move with their
//! rows. [`Index::merged`] and [`Index::merged_index`] use it to apply a delta (removals and
//! additions) in specimen-id order: the canonical form an index gets when it is rebuilt from its
//! profiles sorted by id.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::OnceLock;

use bitvec::vec::BitVec;
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::row::Side;
use super::{
    Bytes, Codebook, Column, FLAG_PARTIAL, Ids, Index, IndexError, META_WIDTH, NO_CATEGORY, NONE16,
    SPECIAL, UNTYPED, dict_index,
};
use crate::allele::Allele;
use crate::genotype::Genotype;
use crate::locus::Locus;
use crate::profile::{Country, Profile, ProfileId, SpecimenCategory};

/// An index [`Index::gather`] copies rows from, and how it rewrites their metadata.
#[derive(Clone, Copy)]
pub struct GatherSource<'a> {
    /// The index.
    pub index: &'a Index,
    /// When set, every row copied from this index gets this country.
    pub country: Option<Country>,
    /// When set, the kit name of every row copied from this index is rewritten by this function
    /// (called once per kit name the index knows, not once per row).
    pub kit: Option<&'a (dyn Fn(&str) -> String + Sync)>,
}

impl<'a> GatherSource<'a> {
    /// Rows of `index`, copied as they are.
    pub fn new(index: &'a Index) -> GatherSource<'a> {
        GatherSource {
            index,
            country: None,
            kit: None,
        }
    }
}

impl std::fmt::Debug for GatherSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatherSource")
            .field("rows", &self.index.len())
            .field("country", &self.country)
            .field("kit", &self.kit.map(|_| ".."))
            .finish()
    }
}

/// One row of an index built by [`Index::gather`]: the row of a source it copies, and its
/// specimen id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatherRow {
    /// The source: a position in the list of sources.
    pub source: u32,
    /// The row of that source (see [`Index::view`]).
    pub row: u32,
    /// The specimen id of the copy; `None` keeps the source's.
    pub id: Option<ProfileId>,
}

impl GatherRow {
    /// Row `row` of source `source`, keeping its id.
    pub fn new(source: u32, row: u32) -> GatherRow {
        GatherRow {
            source,
            row,
            id: None,
        }
    }
}

/// One source column as seen by [`gather_column`].
struct SourceColumn<'a> {
    col: Option<&'a Column>,
    a: &'a [u8],
    b: &'a [u8],
    /// Alleles of the source codebook (`alleles[code - 1]`).
    alleles: &'a [Allele],
    /// Ladder rank of each source code: the lower allele of a pair takes a new code first.
    rank: [u8; 256],
    /// New code of each source code (0: none yet).
    map: [u8; 256],
    /// Length of the new codebook's prefix known to equal the source codebook's; `None` once
    /// they differ. While they agree, a source code is its own new code.
    same_prefix: Option<usize>,
}

impl<'a> SourceColumn<'a> {
    fn new(index: &'a Index, locus: Locus) -> SourceColumn<'a> {
        let col = index.column(locus).map(|c| &index.columns[c]);
        let mut rank = [0u8; 256];
        let (a, b, alleles): (&[u8], &[u8], &[Allele]) = match col {
            Some(c) => {
                let alleles = &c.codebook.alleles[..];
                let mut order: Vec<usize> = (0..alleles.len()).collect();
                order.sort_by_key(|&i| alleles[i]);
                for (r, &i) in order.iter().enumerate() {
                    rank[i + 1] = r as u8;
                }
                (&c.a, &c.b, alleles)
            }
            None => (&[], &[], &[]),
        };
        SourceColumn {
            col,
            a,
            b,
            alleles,
            rank,
            map: [0; 256],
            same_prefix: Some(0),
        }
    }

    /// The new code of a source code, assigned on first use (`None`: the codebook is full).
    #[inline]
    fn code(&mut self, book: &mut Codebook, c: u8) -> Option<u8> {
        match self.map[c as usize] {
            0 => {
                let new = book.code_or_insert(self.alleles[c as usize - 1])?;
                self.map[c as usize] = new;
                Some(new)
            }
            m => Some(m),
        }
    }

    /// True while every code of the new codebook is the same allele's code here.
    fn codes_agree(&mut self, book: &Codebook) -> bool {
        let Some(known) = self.same_prefix else {
            return false;
        };
        let n = book.alleles.len();
        if n > known {
            if self.alleles.get(known..n) == book.alleles.get(known..n) {
                self.same_prefix = Some(n);
            } else {
                self.same_prefix = None;
                return false;
            }
        }
        true
    }

    /// The cell of source row `row`: its genotype as `Column::genotype` reads it, encoded as
    /// `Column::push` would encode it in the new column.
    fn cell(&mut self, book: &mut Codebook, row: u32) -> Cell {
        let r = row as usize;
        match (self.col, self.a.get(r).copied().unwrap_or(UNTYPED)) {
            (None, _) | (_, UNTYPED) => Cell::Untyped,
            (Some(c), SPECIAL) => match c.special.get(&row) {
                None => Cell::Untyped,
                Some(g) => match book.codes(g) {
                    Some((x, y)) => Cell::Codes(x, y),
                    None => Cell::Special(*g),
                },
            },
            (Some(c), x) => {
                let y = self.b.get(r).copied().unwrap_or(UNTYPED);
                if !c.is_code(x) || !c.is_code(y) {
                    return Cell::Untyped;
                }
                let (lo, hi) = if self.rank[x as usize] <= self.rank[y as usize] {
                    (x, y)
                } else {
                    (y, x)
                };
                let c0 = self.code(book, lo);
                let c1 = if lo == hi { c0 } else { self.code(book, hi) };
                match (c0, c1) {
                    (Some(p), Some(q)) => Cell::Codes(p.min(q), p.max(q)),
                    // codebook overflow: the genotype goes to the side table
                    _ => match Genotype::new(&[
                        self.alleles[lo as usize - 1],
                        self.alleles[hi as usize - 1],
                    ]) {
                        Ok(g) => Cell::Special(g),
                        Err(_) => Cell::Untyped,
                    },
                }
            }
        }
    }
}

/// What a row holds at one locus, in the new column.
enum Cell {
    Untyped,
    Codes(u8, u8),
    Special(Genotype),
}

/// Consecutive gathered rows that copy consecutive rows of one source.
struct Run {
    source: u32,
    /// First row of the source.
    row: u32,
    len: u32,
}

/// The rows as runs (an update copies long runs of the old index's rows).
fn runs(rows: &[GatherRow]) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    for r in rows {
        match out.last_mut() {
            Some(last)
                if last.source == r.source && last.row.checked_add(last.len) == Some(r.row) =>
            {
                last.len += 1;
            }
            _ => out.push(Run {
                source: r.source,
                row: r.row,
                len: 1,
            }),
        }
    }
    out
}

/// Shortest run worth checking for a plain copy.
const COPY_RUN: u32 = 16;

/// The column of `locus` of the gathered index (rows given as [`runs`]), or `None` when no row
/// types it.
fn gather_column(
    locus: Locus,
    sources: &[GatherSource<'_>],
    runs: &[Run],
    rows: usize,
) -> Option<Column> {
    let mut from: Vec<SourceColumn<'_>> = sources
        .iter()
        .map(|s| SourceColumn::new(s.index, locus))
        .collect();
    let mut book = Codebook::default();
    let mut a = Vec::with_capacity(rows);
    let mut b = Vec::with_capacity(rows);
    let mut special = FxHashMap::default();
    let mut special_rows = Vec::new();
    let mut typed = false;
    for run in runs {
        let Some(f) = from.get_mut(run.source as usize) else {
            a.resize(a.len() + run.len as usize, UNTYPED);
            b.resize(b.len() + run.len as usize, UNTYPED);
            continue;
        };
        // A plain copy when the codes need no renumbering: every code of the run already has
        // its own number in the new codebook, and each pair is well formed (untyped, or
        // `0 < x <= y`; a side-table code 255 is above any codebook length).
        let span = run.row as usize..(run.row + run.len) as usize;
        if run.len >= COPY_RUN
            && let (Some(xs), Some(ys)) = (f.a.get(span.clone()), f.b.get(span))
            && f.codes_agree(&book)
        {
            let (mut max, mut well_formed, mut any) = (0u8, true, false);
            for (&x, &y) in xs.iter().zip(ys) {
                max = max.max(y);
                well_formed &= x <= y && (x == UNTYPED) == (y == UNTYPED);
                any |= x != UNTYPED;
            }
            if well_formed && (max as usize) <= book.alleles.len() {
                a.extend_from_slice(xs);
                b.extend_from_slice(ys);
                typed |= any;
                continue;
            }
        }
        for row in run.row..run.row + run.len {
            let i = a.len() as u32;
            match f.cell(&mut book, row) {
                Cell::Untyped => {
                    a.push(UNTYPED);
                    b.push(UNTYPED);
                }
                Cell::Codes(x, y) => {
                    typed = true;
                    a.push(x);
                    b.push(y);
                }
                Cell::Special(g) => {
                    typed = true;
                    a.push(SPECIAL);
                    b.push(SPECIAL);
                    special.insert(i, g);
                    special_rows.push(i);
                }
            }
        }
    }
    typed.then(|| Column {
        locus,
        codebook: book,
        a: Bytes::Owned(a),
        b: Bytes::Owned(b),
        special,
        special_rows,
        postings: FxHashMap::default(),
        untyped: Vec::new(),
    })
}

/// The specimen id of a gathered row (its sources are checked).
fn row_id<'a>(sources: &'a [GatherSource<'a>], r: &'a GatherRow) -> &'a str {
    match &r.id {
        Some(id) => id.as_str(),
        None => sources
            .get(r.source as usize)
            .map_or(super::BAD_ID, |s| s.index.ids.str(r.row)),
    }
}

/// New dictionary index of each entry of a source dictionary, assigned on first use.
struct DictMap(Vec<u32>);

impl DictMap {
    const UNSET: u32 = u32::MAX;

    fn new(len: usize) -> DictMap {
        DictMap(vec![Self::UNSET; len])
    }

    /// The new index of source entry `i` (`NONE16` when `i` is not an entry: unknown).
    fn get<T: PartialEq + Clone>(
        &mut self,
        i: usize,
        value: impl FnOnce() -> T,
        dict: &mut Vec<T>,
    ) -> Result<u16, IndexError> {
        match self.0.get(i).copied() {
            None => Ok(NONE16),
            Some(Self::UNSET) => {
                let n = dict_index(dict, &value()).ok_or(IndexError::TooManyLabs)?;
                self.0[i] = n as u32;
                Ok(n)
            }
            Some(n) => Ok(n as u16),
        }
    }
}

/// A stored date as `RowView::date` reads it and `Index::push_meta` writes it back: the days
/// themselves when they name a date, else unknown (`u32::MAX`).
fn canonical_days(days: u32) -> u32 {
    // `days_to_date` reads days up to the last representable date, no further
    const LAST: i64 =
        crate::profile::Date::MAX.to_julian_day() as i64 - super::UNIX_EPOCH_JULIAN as i64;
    if (days as i64) <= LAST {
        days
    } else {
        u32::MAX
    }
}

/// Row metadata and dictionaries of the gathered index.
struct GatheredMeta {
    meta: Vec<u8>,
    labs: Vec<String>,
    countries: Vec<Country>,
    kits: Vec<String>,
}

/// The row metadata of the gathered index, read as `RowView` reads it and written as
/// `Index::push_meta` writes it.
fn gather_meta(
    sources: &[GatherSource<'_>],
    rows: &[GatherRow],
) -> Result<GatheredMeta, IndexError> {
    struct Maps {
        labs: DictMap,
        countries: DictMap,
        kits: DictMap,
        kit_names: Vec<String>,
    }
    let mut maps: Vec<Maps> = sources
        .iter()
        .map(|s| Maps {
            labs: DictMap::new(s.index.labs.len()),
            countries: DictMap::new(if s.country.is_some() {
                1
            } else {
                s.index.countries.len()
            }),
            kits: DictMap::new(s.index.kits.len()),
            kit_names: match s.kit {
                Some(f) => s.index.kits.iter().map(|k| f(k)).collect(),
                None => s.index.kits.clone(),
            },
        })
        .collect();
    let mut out = GatheredMeta {
        meta: Vec::with_capacity(rows.len() * META_WIDTH),
        labs: Vec::new(),
        countries: Vec::new(),
        kits: Vec::new(),
    };
    let le16 = |m: &[u8], at: usize| u16::from_le_bytes([m[at], m[at + 1]]) as usize;
    for r in rows {
        let (Some(s), Some(maps)) = (
            sources.get(r.source as usize),
            maps.get_mut(r.source as usize),
        ) else {
            return Err(IndexError::NoSuchRow {
                index: r.source as usize,
                row: r.row,
            });
        };
        let src = s.index;
        let m = src.meta_row(r.row).ok_or(IndexError::NoSuchRow {
            index: r.source as usize,
            row: r.row,
        })?;
        let lab = le16(m, 2);
        let lab = maps
            .labs
            .get(lab, || src.labs[lab].clone(), &mut out.labs)?;
        let country = match s.country {
            Some(c) => maps.countries.get(0, || c, &mut out.countries)?,
            None => {
                let i = le16(m, 4);
                maps.countries
                    .get(i, || src.countries[i], &mut out.countries)?
            }
        };
        let kit = le16(m, 6);
        let kit = maps
            .kits
            .get(kit, || maps.kit_names[kit].clone(), &mut out.kits)?;
        let days = u32::from_le_bytes([m[8], m[9], m[10], m[11]]);
        let mut row = [0u8; META_WIDTH];
        row[0] = if (m[0] as usize) < SpecimenCategory::ALL.len() {
            m[0]
        } else {
            NO_CATEGORY
        };
        row[1] = m[1] & FLAG_PARTIAL;
        row[2..4].copy_from_slice(&lab.to_le_bytes());
        row[4..6].copy_from_slice(&country.to_le_bytes());
        row[6..8].copy_from_slice(&kit.to_le_bytes());
        row[8..12].copy_from_slice(&canonical_days(days).to_le_bytes());
        out.meta.extend_from_slice(&row);
    }
    Ok(out)
}

/// Record key of an untyped locus.
const KEY_UNTYPED: u16 = 0;
/// Record key of a source allele the other codebook lacks: no coded genotype there equals it.
const KEY_ABSENT: u16 = 0xfffe;
/// Record key of a genotype to decode and compare (side table, or an odd code).
const KEY_DECODE: u16 = 0xffff;

/// One locus of [`Index::same_rows`]: the source's column, self's, and the translation of the
/// source's codes into self's codebook (0: allele absent there).
struct LocusPair<'a> {
    source: Option<Side<'a>>,
    target: Option<Side<'a>>,
    /// Both columns as plain slices (empty when the index lacks the locus), with the length of
    /// their codebooks.
    codes: [(&'a [u8], &'a [u8], usize); 2],
    to_target: [u8; 256],
}

/// A code pair as read from a column: `None` untyped, `Some(None)` to decode (side table, or
/// an odd code), `Some(Some((x, y)))` two codes of the codebook, `x <= y`.
#[inline]
fn read_codes((a, b, n): (&[u8], &[u8], usize), row: usize) -> Option<Option<(u8, u8)>> {
    let x = a.get(row).copied().unwrap_or(UNTYPED);
    if x == UNTYPED {
        return None;
    }
    let y = b.get(row).copied().unwrap_or(UNTYPED);
    let code = |c: u8| c != UNTYPED && (c as usize) <= n;
    Some((code(x) && code(y)).then(|| (x.min(y), x.max(y))))
}

impl LocusPair<'_> {
    /// The source row's genotype as a key in the target's code space.
    #[inline]
    fn source_key(&self, row: usize) -> u16 {
        match read_codes(self.codes[0], row) {
            None => KEY_UNTYPED,
            Some(None) => KEY_DECODE,
            Some(Some((x, y))) => {
                let (u, v) = (self.to_target[x as usize], self.to_target[y as usize]);
                if u == 0 || v == 0 {
                    KEY_ABSENT
                } else {
                    super::key(u.min(v), u.max(v))
                }
            }
        }
    }

    /// The target row's genotype as a key.
    #[inline]
    fn target_key(&self, row: usize) -> u16 {
        match read_codes(self.codes[1], row) {
            None => KEY_UNTYPED,
            Some(None) => KEY_DECODE,
            Some(Some((x, y))) => super::key(x, y),
        }
    }

    fn same_decoded(&self, source_row: u32, target_row: u32) -> bool {
        Side::genotype(self.source.as_ref(), source_row)
            == Side::genotype(self.target.as_ref(), target_row)
    }
}

/// Words of a row's metadata as compared: category and flags, lab, country, kit, date.
const META_WORDS: usize = 6;
/// Words of a source row whose metadata cannot be in self (a name self lacks): the target's
/// first word is at most 0x1ff.
const META_ABSENT: u16 = 0xffff;

/// A source's dictionary translated into self's: per source entry, self's index of the same
/// (rewritten) value, `None` when self has no such entry.
fn translate<T: PartialEq>(source: &[T], target: &[T]) -> Vec<Option<u16>> {
    source
        .iter()
        .map(|v| target.iter().position(|t| t == v).map(|i| i as u16))
        .collect()
}

/// Normalised metadata of a row as words, dictionary fields mapped through `lab`,
/// `country` and `kit` (`None` from a map: no equal row can exist).
fn meta_words(
    m: &[u8],
    lab: impl Fn(u16) -> Option<u16>,
    country: impl Fn(u16) -> Option<u16>,
    kit: impl Fn(u16) -> Option<u16>,
) -> [u16; META_WORDS] {
    let le16 = |at: usize| u16::from_le_bytes([m[at], m[at + 1]]);
    let category = if (m[0] as usize) < SpecimenCategory::ALL.len() {
        m[0]
    } else {
        NO_CATEGORY
    };
    let days = canonical_days(u32::from_le_bytes([m[8], m[9], m[10], m[11]]));
    match (lab(le16(2)), country(le16(4)), kit(le16(6))) {
        (Some(l), Some(c), Some(k)) => [
            u16::from(category) | u16::from(m[1] & FLAG_PARTIAL) << 8,
            l,
            c,
            k,
            days as u16,
            (days >> 16) as u16,
        ],
        _ => [META_ABSENT; META_WORDS],
    }
}

impl Index {
    /// For each pair `(row of the source, row of self)`: true when the row of `self` holds
    /// exactly what [`Index::gather`] copies from the source row: genotypes at every locus,
    /// category, partial flag, lab, country, kit and date, after the source's rewrites (ids
    /// are not compared); false when anything differs or either row is not live.
    ///
    /// Exact, and cheap on large indexes: the source's codes are translated into self's code
    /// space one column at a time and compared with self's, in parallel; only side-table
    /// genotypes are decoded.
    pub fn same_rows(&self, source: &GatherSource<'_>, pairs: &[(u32, u32)]) -> Vec<bool> {
        let src = source.index;
        let mut loci = src.loci();
        loci.extend(self.loci());
        loci.sort_unstable();
        loci.dedup();
        let loci: Vec<LocusPair<'_>> = loci
            .iter()
            .map(|&l| {
                let (s, t) = (Side::of(src, l), Side::of(self, l));
                let mut to_target = [0u8; 256];
                if let (Some(s), Some(t)) = (&s, &t) {
                    for (i, &a) in s.col.codebook.alleles.iter().enumerate() {
                        to_target[i + 1] = t.col.codebook.code(a).unwrap_or(0);
                    }
                }
                fn slices<'x>(side: &Option<Side<'x>>) -> (&'x [u8], &'x [u8], usize) {
                    match side {
                        Some(s) => (s.a, s.b, s.col.codebook.alleles.len()),
                        None => (&[], &[], 0),
                    }
                }
                LocusPair {
                    codes: [slices(&s), slices(&t)],
                    source: s,
                    target: t,
                    to_target,
                }
            })
            .collect();
        // metadata as words, dictionaries in self's numbering
        let labs = translate(&src.labs, &self.labs);
        let kit_names: Vec<String> = match source.kit {
            Some(f) => src.kits.iter().map(|k| f(k)).collect(),
            None => src.kits.clone(),
        };
        let kits = translate(&kit_names, &self.kits);
        let countries = translate(&src.countries, &self.countries);
        let forced = source.country.map(|c| translate(&[c], &self.countries)[0]);
        // an index outside a dictionary reads as unknown
        let through = |table: &[Option<u16>], i: u16| match table.get(i as usize) {
            Some(t) => *t,
            None => Some(NONE16),
        };
        let own = |len: usize| move |i: u16| Some(if (i as usize) < len { i } else { NONE16 });
        let source_meta = |row: u32| {
            src.meta_row(row).map(|m| {
                meta_words(
                    m,
                    |i| through(&labs, i),
                    |i| forced.unwrap_or_else(|| through(&countries, i)),
                    |i| through(&kits, i),
                )
            })
        };
        let target_meta = |row: u32| {
            self.meta_row(row).map(|m| {
                meta_words(
                    m,
                    own(self.labs.len()),
                    own(self.countries.len()),
                    own(self.kits.len()),
                )
            })
        };
        let live = |i: &Index, r: u32| i.live.get(r as usize).is_some_and(|b| *b);
        // Pairs come in the target's order and the source rows at random, so each pass reads
        // one small array at random (the source's metadata words, then one column of keys at
        // a time) while the target is read in order.
        const CHUNK: usize = 1 << 14;
        let meta: Vec<[u16; META_WORDS]> = (0..src.rows() as u32)
            .into_par_iter()
            .with_min_len(CHUNK)
            .map(|r| source_meta(r).unwrap_or([META_ABSENT; META_WORDS]))
            .collect();
        let mut equal: Vec<bool> = pairs
            .par_iter()
            .with_min_len(CHUNK)
            .map(|&(s, t)| {
                live(src, s)
                    && live(self, t)
                    && target_meta(t).is_some_and(|m| meta.get(s as usize) == Some(&m))
            })
            .collect();
        drop(meta);
        let mut keys = vec![KEY_UNTYPED; src.rows()];
        for lp in &loci {
            if lp.source.is_some() {
                keys.par_chunks_mut(CHUNK)
                    .enumerate()
                    .for_each(|(ci, chunk)| {
                        for (i, k) in chunk.iter_mut().enumerate() {
                            *k = lp.source_key(ci * CHUNK + i);
                        }
                    });
            }
            let keys = &keys;
            equal
                .par_chunks_mut(CHUNK)
                .zip(pairs.par_chunks(CHUNK))
                .for_each(|(equal, pairs)| {
                    for (e, &(s, t)) in equal.iter_mut().zip(pairs) {
                        if !*e {
                            continue;
                        }
                        let a = if lp.source.is_some() {
                            keys[s as usize]
                        } else {
                            KEY_UNTYPED
                        };
                        let b = lp.target_key(t as usize);
                        *e = if a == b && a != KEY_DECODE {
                            true
                        } else if a >= KEY_ABSENT || b == KEY_DECODE {
                            lp.same_decoded(s, t)
                        } else {
                            false
                        };
                    }
                });
        }
        equal
    }

    /// Builds the index whose row `i` is a copy of `rows[i]`: byte for byte (once written) the
    /// index [`Index::from_profiles`] builds from the decoded rows (each row's
    /// [`RowView::to_profile`](super::RowView::to_profile) with its new id and its source's
    /// rewrites), but built from the code columns, columns in parallel, without decoding a
    /// profile. The result has no postings yet, like an index opened from a file (see
    /// [`Index::build_postings`]).
    ///
    /// Fails like `from_profiles` on a duplicate id, a row with no typed locus or too many
    /// dictionary entries, and on a row that is not live in its source
    /// ([`IndexError::NoSuchRow`]); nothing is built then.
    pub fn gather(sources: &[GatherSource<'_>], rows: &[GatherRow]) -> Result<Index, IndexError> {
        if rows.len() >= u32::MAX as usize {
            return Err(IndexError::Full);
        }
        let live = |r: &GatherRow| {
            sources.get(r.source as usize).is_some_and(|s| {
                s.index.live.get(r.row as usize).is_some_and(|b| *b)
                    && s.index.meta_row(r.row).is_some()
            })
        };
        if let Some(r) = rows.par_iter().find_first(|r| !live(r)) {
            return Err(IndexError::NoSuchRow {
                index: r.source as usize,
                row: r.row,
            });
        }
        let id_of = |r| row_id(sources, r);
        // ids are unique: ascending (the usual case), or checked with a set
        if !rows.par_windows(2).all(|w| id_of(&w[0]) < id_of(&w[1])) {
            let mut seen = FxHashSet::default();
            seen.reserve(rows.len());
            if let Some(r) = rows.iter().find(|r| !seen.insert(id_of(r))) {
                return Err(IndexError::DuplicateId(ProfileId::trusted(id_of(r))));
            }
        }
        let mut loci: Vec<Locus> = sources.iter().flat_map(|s| s.index.loci()).collect();
        loci.sort_unstable();
        loci.dedup();
        let runs = runs(rows);
        let (columns, (meta, ids)) = rayon::join(
            || {
                loci.par_iter()
                    .map(|&l| gather_column(l, sources, &runs, rows.len()))
                    .collect::<Vec<_>>()
            },
            || {
                rayon::join(
                    || gather_meta(sources, rows),
                    || {
                        let mut heap = Vec::with_capacity(rows.len() * 16);
                        let mut offsets = Vec::with_capacity((rows.len() + 1) * 4);
                        offsets.extend_from_slice(&0u32.to_le_bytes());
                        for r in rows {
                            heap.extend_from_slice(id_of(r).as_bytes());
                            let end = u32::try_from(heap.len()).map_err(|_| IndexError::Full)?;
                            offsets.extend_from_slice(&end.to_le_bytes());
                        }
                        Ok::<_, IndexError>((offsets, heap))
                    },
                )
            },
        );
        let columns: Vec<Column> = columns.into_iter().flatten().collect();
        // every row types a locus (a valid source row always does; a damaged one may not)
        let mut typed = vec![false; rows.len()];
        const CHUNK: usize = 1 << 16;
        typed
            .par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(ci, chunk)| {
                let base = ci * CHUNK;
                for c in &columns {
                    let a = &c.a[base..base + chunk.len()];
                    for (t, &x) in chunk.iter_mut().zip(a) {
                        *t |= x != UNTYPED;
                    }
                }
            });
        if let Some(i) = typed.iter().position(|t| !t) {
            return Err(IndexError::NoLoci(ProfileId::trusted(id_of(&rows[i]))));
        }
        let meta = meta?;
        let (offsets, heap) = ids?;
        let n = rows.len();
        Ok(Index {
            column_of: columns
                .iter()
                .enumerate()
                .map(|(i, c)| (c.locus, i))
                .collect::<HashMap<_, _>>(),
            columns,
            ids: Ids::Heap {
                offsets: Bytes::Owned(offsets),
                heap: Bytes::Owned(heap),
                rows: n,
            },
            row_of: OnceLock::new(),
            live: BitVec::repeat(true, n),
            live_count: n,
            meta: Bytes::Owned(meta.meta),
            labs: meta.labs,
            countries: meta.countries,
            kits: meta.kits,
            has_postings: false,
            ledger_head: super::ledger::LedgerHead::default(),
        })
    }

    /// The live rows ordered by specimen id (a linear check when they already are).
    fn rows_by_id(&self) -> Vec<u32> {
        let mut rows: Vec<u32> = (0..self.rows() as u32)
            .filter(|&r| self.live.get(r as usize).is_some_and(|b| *b))
            .collect();
        if !rows
            .par_windows(2)
            .all(|w| self.ids.str(w[0]) < self.ids.str(w[1]))
        {
            rows.par_sort_by(|&x, &y| self.ids.str(x).cmp(self.ids.str(y)));
        }
        rows
    }

    /// The index [`Index::from_profiles`] builds from this index's live profiles without
    /// `removed`, plus `added`, sorted by specimen id: byte-identical once written, built by
    /// [`Index::gather`] without decoding the unchanged rows. This is the canonical form of the
    /// index after the delta, whatever the row order of `self` (it is sorted by id either way).
    ///
    /// Ids of `removed` that are not in the index are ignored; an id both removed and added is
    /// replaced. Fails like `from_profiles` (an added id already live, or twice in `added`, an
    /// added profile with no typed locus). The result has no postings yet.
    pub fn merged(&self, removed: &[ProfileId], added: &[Profile]) -> Result<Index, IndexError> {
        self.merged_index(removed, &Index::from_profiles(added)?)
    }

    /// [`Index::merged`] with the added profiles given as the live rows of an index (copied
    /// without decoding, like the unchanged rows).
    pub fn merged_index(&self, removed: &[ProfileId], added: &Index) -> Result<Index, IndexError> {
        let old = self.rows_by_id();
        let mut keep = vec![true; old.len()];
        for id in removed {
            let at = old.partition_point(|&r| self.ids.str(r) < id.as_str());
            for (k, &r) in keep[at..].iter_mut().zip(&old[at..]) {
                if self.ids.str(r) != id.as_str() {
                    break;
                }
                *k = false;
            }
        }
        let new = added.rows_by_id();
        let mut rows = Vec::with_capacity(old.len() + new.len());
        let mut olds = old
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(&r, _)| r)
            .peekable();
        let mut news = new.iter().copied().peekable();
        loop {
            let next = match (olds.peek(), news.peek()) {
                (Some(&o), Some(&n)) => match self.ids.str(o).cmp(added.ids.str(n)) {
                    Ordering::Less => GatherRow::new(0, o),
                    Ordering::Greater => GatherRow::new(1, n),
                    Ordering::Equal => return Err(IndexError::DuplicateId(added.ids.get(n))),
                },
                (Some(&o), None) => GatherRow::new(0, o),
                (None, Some(&n)) => GatherRow::new(1, n),
                (None, None) => break,
            };
            if next.source == 0 {
                olds.next();
            } else {
                news.next();
            }
            rows.push(next);
        }
        Index::gather(&[GatherSource::new(self), GatherSource::new(added)], &rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_canonical_days_reads_as_days_to_date() {
        let last = super::super::date_to_days(Some(crate::profile::Date::MAX));
        for days in [
            0,
            1,
            20_000,
            last - 1,
            last,
            last + 1,
            u32::MAX - 1,
            u32::MAX,
        ] {
            let expected = if super::super::days_to_date(days).is_some() {
                days
            } else {
                u32::MAX
            };
            assert_eq!(canonical_days(days), expected, "{days}");
        }
    }
}
