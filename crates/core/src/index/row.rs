//! Rows of an index read in place: a borrowed [`RowView`] of one row, and queries over every row
//! that work on the code columns instead of decoding [`Profile`]s ([`Index::typed_loci`],
//! [`Index::max_alleles`], [`Index::identical_genotypes`]).

use std::hash::{Hash, Hasher};

use rayon::prelude::*;
use rustc_hash::FxHasher;

use super::{Column, FLAG_PARTIAL, Index, SPECIAL, UNTYPED, days_to_date};
use crate::genotype::Genotype;
use crate::locus::Locus;
use crate::profile::{Country, Date, Profile, ProfileId, SpecimenCategory};

/// A borrowed view of one live row of an [`Index`]: its specimen id, metadata and genotypes,
/// each read from the packed columns when asked for (an owned [`Profile`] is
/// [`RowView::to_profile`]). Values read exactly as [`Index::get`] returns them.
#[derive(Clone, Copy)]
pub struct RowView<'a> {
    index: &'a Index,
    row: u32,
    meta: &'a [u8],
}

impl std::fmt::Debug for RowView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RowView(row {}, {})", self.row, self.id())
    }
}

impl Column {
    /// True for a code with an allele in this column's codebook.
    #[inline]
    pub(crate) fn is_code(&self, c: u8) -> bool {
        c != UNTYPED && (c as usize) <= self.codebook.alleles.len()
    }

    /// Number of alleles of a row's genotype (0 when untyped), without building the genotype.
    #[inline]
    fn allele_count(&self, row: usize, x: u8, y: u8) -> usize {
        match x {
            UNTYPED => 0,
            SPECIAL => self.special.get(&(row as u32)).map_or(0, Genotype::len),
            _ if self.is_code(x) && self.is_code(y) => 1 + usize::from(x != y),
            _ => 0,
        }
    }
}

impl Index {
    /// A view of row `row` (`0..rows()`, in insertion order; an index opened from a file or
    /// built by [`Index::from_profiles`] has its profiles in rows `0..len()`). `None` for a
    /// removed or nonexistent row.
    pub fn view(&self, row: u32) -> Option<RowView<'_>> {
        if !*self.live.get(row as usize)? {
            return None;
        }
        Some(RowView {
            index: self,
            row,
            meta: self.meta_row(row)?,
        })
    }
}

impl<'a> RowView<'a> {
    /// The row number.
    pub fn row(&self) -> u32 {
        self.row
    }

    /// The specimen id.
    pub fn id(&self) -> &'a str {
        self.index.ids.str(self.row)
    }

    fn dict16(&self, at: usize) -> usize {
        u16::from_le_bytes([self.meta[at], self.meta[at + 1]]) as usize
    }

    /// The specimen category.
    pub fn category(&self) -> Option<SpecimenCategory> {
        SpecimenCategory::ALL.get(self.meta[0] as usize).copied()
    }

    /// True for a partial profile (possible dropout).
    pub fn is_partial(&self) -> bool {
        self.meta[1] & FLAG_PARTIAL != 0
    }

    /// The submitting lab.
    pub fn lab(&self) -> Option<&'a str> {
        self.index.labs.get(self.dict16(2)).map(String::as_str)
    }

    /// The country of origin.
    pub fn country(&self) -> Option<Country> {
        self.index.countries.get(self.dict16(4)).copied()
    }

    /// The kit, as stored.
    pub fn kit(&self) -> Option<&'a str> {
        self.index.kits.get(self.dict16(6)).map(String::as_str)
    }

    /// The typing or submission date.
    pub fn date(&self) -> Option<Date> {
        let m = self.meta;
        days_to_date(u32::from_le_bytes([m[8], m[9], m[10], m[11]]))
    }

    /// The genotype at a locus, if typed.
    pub fn genotype(&self, locus: Locus) -> Option<Genotype> {
        self.index.columns[self.index.column(locus)?].genotype(self.row)
    }

    /// Every typed locus with its genotype, in the index's column order.
    pub fn genotypes(&self) -> impl Iterator<Item = (Locus, Genotype)> + 'a {
        let row = self.row;
        self.index
            .columns
            .iter()
            .filter_map(move |c| Some((c.locus, c.genotype(row)?)))
    }

    /// The row as an owned profile (what [`Index::get`] returns for its id).
    pub fn to_profile(&self) -> Profile {
        let mut p = Profile::new(ProfileId::trusted(self.id()));
        for (l, g) in self.genotypes() {
            p.set_genotype(l, g);
        }
        p.set_category(self.category());
        p.set_lab(self.lab().map(str::to_string));
        p.set_partial(self.is_partial());
        p.set_country(self.country());
        p.set_kit(self.kit().map(str::to_string));
        p.set_date(self.date());
        p
    }
}

/// A column of one index as plain slices, for the comparison loops.
pub(super) struct Side<'a> {
    pub(super) col: &'a Column,
    pub(super) a: &'a [u8],
    pub(super) b: &'a [u8],
}

impl<'a> Side<'a> {
    pub(super) fn of(index: &'a Index, locus: Locus) -> Option<Side<'a>> {
        let col = &index.columns[index.column(locus)?];
        Some(Side {
            col,
            a: &col.a,
            b: &col.b,
        })
    }

    /// The codes of a row: `None` untyped, `Some((x, y))` with `x <= y` for exact alleles of
    /// the codebook, `Some((SPECIAL, SPECIAL))` for anything else (decode to compare).
    #[inline]
    pub(super) fn codes(side: Option<&Self>, row: u32) -> Option<(u8, u8)> {
        let s = side?;
        let r = row as usize;
        let x = *s.a.get(r)?;
        if x == UNTYPED {
            return None;
        }
        match s.b.get(r) {
            Some(&y) if s.col.is_code(x) && s.col.is_code(y) => Some((x.min(y), x.max(y))),
            _ => Some((SPECIAL, SPECIAL)),
        }
    }

    pub(super) fn genotype(side: Option<&Self>, row: u32) -> Option<Genotype> {
        side?.col.genotype(row)
    }
}

impl Index {
    /// Folds `step` over the allele counts (0 untyped) of every row at the loci `include`
    /// accepts, columns in order, from `init`; removed rows keep `init`.
    fn fold_loci<T: Copy + Send + Sync>(
        &self,
        include: impl Fn(Locus) -> bool,
        init: T,
        step: impl Fn(T, usize) -> T + Sync,
    ) -> Vec<T> {
        const CHUNK: usize = 1 << 14;
        let cols: Vec<(&Column, &[u8], &[u8])> = self
            .columns
            .iter()
            .filter(|c| include(c.locus))
            .map(|c| (c, &c.a[..], &c.b[..]))
            .collect();
        let mut out = vec![init; self.rows()];
        out.par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(ci, chunk)| {
                let base = ci * CHUNK;
                for &(c, a, b) in &cols {
                    for (i, acc) in chunk.iter_mut().enumerate() {
                        let r = base + i;
                        let (x, y) = (
                            a.get(r).copied().unwrap_or(UNTYPED),
                            b.get(r).copied().unwrap_or(UNTYPED),
                        );
                        *acc = step(*acc, c.allele_count(r, x, y));
                    }
                }
                for (i, acc) in chunk.iter_mut().enumerate() {
                    if !self.live.get(base + i).is_some_and(|b| *b) {
                        *acc = init;
                    }
                }
            });
        out
    }

    /// For every row (`0..rows()`; 0 for a removed row), the number of loci `include` accepts
    /// that the row types: a sharing rule's `min_loci`, read from the code columns (in
    /// parallel) without decoding a profile.
    pub fn typed_loci(&self, include: impl Fn(Locus) -> bool) -> Vec<u16> {
        self.fold_loci(include, 0u16, |n, alleles| n + u16::from(alleles > 0))
    }

    /// For every row (`0..rows()`; 0 for a removed row), the most alleles typed at one of the
    /// loci `include` accepts (more than 3 at an autosomal locus suggests a mixture), read from
    /// the code columns (in parallel).
    pub fn max_alleles(&self, include: impl Fn(Locus) -> bool) -> Vec<u8> {
        self.fold_loci(include, 0u8, |m, alleles| {
            m.max(u8::try_from(alleles).unwrap_or(u8::MAX))
        })
    }

    /// Groups of two or more live rows with identical genotypes at every locus `include`
    /// accepts (untyped there alike): the same person or identical twins typed twice. Each
    /// group lists its rows ascending; groups are ordered by their first row.
    ///
    /// Rows are hashed from their codes (in parallel) and only rows whose hashes collide are
    /// compared, so nothing is decoded but side-table genotypes.
    pub fn identical_genotypes(&self, include: impl Fn(Locus) -> bool) -> Vec<Vec<u32>> {
        let sides: Vec<Side<'_>> = self
            .columns
            .iter()
            .filter(|c| include(c.locus))
            .map(|c| Side {
                col: c,
                a: &c.a,
                b: &c.b,
            })
            .collect();
        // per column, a hash of each allele: a genotype hashes to the wrapping sum over its
        // alleles, however it is stored (codes or side table)
        let allele_hash = |a: &crate::allele::Allele| {
            let mut h = FxHasher::default();
            a.hash(&mut h);
            h.finish() | 1
        };
        let code_hashes: Vec<Vec<u64>> = sides
            .iter()
            .map(|s| {
                std::iter::once(0)
                    .chain(s.col.codebook.alleles.iter().map(allele_hash))
                    .collect()
            })
            .collect();
        let genotype_hash = |side: &Side<'_>, hashes: &[u64], row: u32| -> u64 {
            match Side::codes(Some(side), row) {
                None => 0,
                Some((x, y)) if x != SPECIAL => {
                    if x == y {
                        hashes[x as usize]
                    } else {
                        hashes[x as usize].wrapping_add(hashes[y as usize])
                    }
                }
                Some(_) => match side.col.genotype(row) {
                    None => 0,
                    Some(g) => {
                        let sum = g
                            .alleles()
                            .iter()
                            .map(allele_hash)
                            .fold(0u64, u64::wrapping_add);
                        g.required()
                            .map_or(sum, |r| sum ^ allele_hash(&r).rotate_left(17))
                    }
                },
            }
        };
        // column by column over chunks of rows (sequential reads)
        const CHUNK: usize = 1 << 14;
        let mut row_hashes = vec![0x9e37_79b9_7f4a_7c15u64; self.rows()];
        row_hashes
            .par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(ci, chunk)| {
                let base = (ci * CHUNK) as u32;
                for (s, hashes) in sides.iter().zip(&code_hashes) {
                    for (h, r) in chunk.iter_mut().zip(base..) {
                        *h = (h.rotate_left(5) ^ genotype_hash(s, hashes, r))
                            .wrapping_mul(0x5851_f42d_4c95_7f2d);
                    }
                }
            });
        let mut keyed: Vec<(u64, u32)> = row_hashes
            .into_par_iter()
            .zip(0..self.rows() as u32)
            .filter(|&(_, r)| self.live.get(r as usize).is_some_and(|b| *b))
            .collect();
        keyed.par_sort_unstable();
        let same = |x: u32, y: u32| {
            sides.iter().all(
                |s| match (Side::codes(Some(s), x), Side::codes(Some(s), y)) {
                    (None, None) => true,
                    (Some(p), Some(q)) if p.0 != SPECIAL && q.0 != SPECIAL => p == q,
                    _ => s.col.genotype(x) == s.col.genotype(y),
                },
            )
        };
        let mut groups: Vec<Vec<u32>> = Vec::new();
        for run in keyed
            .chunk_by(|a, b| a.0 == b.0)
            .filter(|run| run.len() > 1)
        {
            // exact classes within the run (rows ascending, so each class is too)
            let mut classes: Vec<Vec<u32>> = Vec::new();
            for &(_, r) in run {
                match classes.iter_mut().find(|c| same(c[0], r)) {
                    Some(c) => c.push(r),
                    None => classes.push(vec![r]),
                }
            }
            groups.extend(classes.into_iter().filter(|c| c.len() > 1));
        }
        groups.sort_unstable_by_key(|g| g[0]);
        groups
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::tests::p;
    use super::*;
    use crate::allele::Allele;

    #[test]
    fn test_view_with_every_field() {
        let mut a = p(
            "A",
            &[("D8S1179", "13,14"), ("FGA", "22,F"), ("AMEL", "X,Y")],
        );
        a.set_category(Some(SpecimenCategory::ConvictedOffender));
        a.set_lab(Some("INACIF".into()));
        a.set_kit(Some("GlobalFiler".into()));
        a.set_country(Some("GT".parse().unwrap()));
        a.set_partial(true);
        a.set_date(Some(crate::profile::parse_date("2026-11-28").unwrap()));
        let idx = Index::from_profiles(&[p("B", &[("TH01", "9.3")]), a.clone()]).unwrap();
        let v = idx.view(1).unwrap();
        assert_eq!(v.id(), "A");
        assert_eq!(v.to_profile(), a);
        assert_eq!(v.lab(), Some("INACIF"));
        assert!(idx.view(2).is_none());
        let counted = |l: Locus| l.is_counted();
        assert_eq!(idx.typed_loci(counted), vec![1, 2]);
        assert_eq!(idx.typed_loci(|_| true), vec![1, 3]);
        assert_eq!(idx.max_alleles(counted), vec![1, 2]);
    }

    #[test]
    fn test_identical_genotypes_with_side_table() {
        let d8 = Locus::lookup("D8S1179").unwrap();
        let mut idx = Index::from_profiles(&[
            p("A", &[("D8S1179", "13,14"), ("AMEL", "X")]),
            p("B", &[("D8S1179", "13,14"), ("AMEL", "X,Y")]),
            p("C", &[("D8S1179", "13,F")]),
            p("D", &[("D8S1179", "13,F")]),
            p("E", &[("D8S1179", "13")]),
        ])
        .unwrap();
        let counted = |l: Locus| l.is_counted();
        assert_eq!(
            idx.identical_genotypes(counted),
            vec![vec![0, 1], vec![2, 3]]
        );
        assert_eq!(idx.identical_genotypes(|_| true), vec![vec![2, 3]]);
        idx.remove(&ProfileId::new("D").unwrap());
        assert_eq!(idx.identical_genotypes(counted), vec![vec![0, 1]]);
        let g = Genotype::new(&[Allele::Repeat(130), Allele::Repeat(140)]).unwrap();
        assert_eq!(idx.view(1).unwrap().genotype(d8), Some(g));
    }
}
