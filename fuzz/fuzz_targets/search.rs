//! Arbitrary bytes decoded into a tiny database and a query: the fast search (planner, forced
//! scan, forced postings, batch) must return exactly what the naive reference returns.
//!
//! Byte layout (every read past the end yields 0, so any input decodes):
//! `options(4) | n_initial | build | n_added | removals | profile* | query`, where a profile is a
//! locus mask byte followed, per typed locus, by a shape byte and one byte per allele. The
//! initial profiles go through `Index::from_profiles` when `build % 4 == 0` (it costs a 64K-entry
//! table per column, slow under instrumentation), else through `Index::add`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_core::search::naive;
use tandem_core::search::plan::{Force, search_forced};
use tandem_core::{Allele, Genotype, Index, Locus, Profile, ProfileId, SearchOptions, Stringency};

/// Loci of the tiny databases: five autosomal, Amelogenin and a Y-STR (neither counted).
const LOCI: &[&str] = &["D8S1179", "D21S11", "TH01", "FGA", "vWA", "AMEL", "DYS391"];

/// A few exact repeat values (in tenths), so that random profiles share alleles and match.
const REPEATS: &[u16] = &[80, 90, 93, 100, 110, 120];

struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
}

fn allele(b: u8, amel: bool) -> Allele {
    if amel {
        return match b % 8 {
            0..=3 => Allele::X,
            4..=6 => Allele::Y,
            _ => Allele::Wildcard,
        };
    }
    if b & 0x80 == 0 {
        return Allele::Repeat(REPEATS[(b as usize) % REPEATS.len()]);
    }
    match b % 12 {
        0 => Allele::AnyMicrovariant(9),
        1 => Allele::Below(90),
        2 => Allele::Above(110),
        3 => Allele::Below(0),
        4 => Allele::OffLadder,
        5 => Allele::Wildcard,
        6 => Allele::Rare,
        7 => Allele::X,
        8 => Allele::Repeat(9999),
        9 => Allele::AnyMicrovariant(11),
        10 => Allele::Above(9999),
        _ => Allele::Repeat(1),
    }
}

fn genotype(r: &mut Bytes<'_>, amel: bool) -> Genotype {
    let shape = r.byte();
    let n = match shape % 8 {
        0..=2 => 2,
        3..=4 => 1,
        5 => 3,
        6 => 4,
        _ => 2,
    };
    let alleles: Vec<Allele> = (0..n).map(|_| allele(r.byte(), amel)).collect();
    let g = Genotype::new(&alleles).unwrap_or_else(|_| Genotype::single(alleles[0]));
    if shape % 8 == 7 {
        // flag a required allele
        let pick = g.alleles()[(shape as usize / 8) % g.len()];
        g.with_required(pick).unwrap_or(g)
    } else {
        g
    }
}

fn profile(r: &mut Bytes<'_>, loci: &[Locus], id: &str) -> Profile {
    let mask = r.byte();
    let mut p = Profile::new(ProfileId::new(id).expect("valid id"));
    for (i, &l) in loci.iter().enumerate() {
        if mask & (1 << i) != 0 {
            p = p.with(l, genotype(r, l.is_amelogenin()));
        }
    }
    if p.locus_count() == 0 {
        // the index refuses profiles without any typed locus
        p = p.with(loci[0], genotype(r, false));
    }
    p.with_partial(mask & 0x80 != 0)
}

fn options(r: &mut Bytes<'_>) -> SearchOptions {
    let (a, b, c, d) = (r.byte(), r.byte(), r.byte(), r.byte());
    SearchOptions {
        stringency: [Stringency::High, Stringency::Moderate, Stringency::Low][(a % 3) as usize],
        prum: a & 0x80 != 0,
        min_loci: (b % 6) as usize,
        max_mismatches: (c % 3) as usize,
        top: (d & 0x80 != 0).then_some((d % 5) as usize),
    }
}

fuzz_target!(|data: &[u8]| {
    let loci: Vec<Locus> = LOCI
        .iter()
        .map(|n| Locus::lookup(n).expect("built-in locus"))
        .collect();
    let mut r = Bytes { data, pos: 0 };
    let opts = options(&mut r);
    let n_initial = (r.byte() % 12) as usize;
    let bulk = r.byte() % 4 == 0;
    let n_added = (r.byte() % 5) as usize;
    let removals = r.byte();

    let initial: Vec<Profile> = (0..n_initial)
        .map(|i| profile(&mut r, &loci, &format!("P{i}")))
        .collect();
    let mut index = if bulk {
        Index::from_profiles(&initial).expect("unique ids, every profile typed")
    } else {
        let mut index = Index::new();
        for p in &initial {
            index
                .add(p.clone())
                .expect("unique ids, every profile typed");
        }
        index
    };
    let mut live = initial;
    for i in 0..n_added {
        let p = profile(&mut r, &loci, &format!("A{i}"));
        index
            .add(p.clone())
            .expect("unique ids, every profile typed");
        live.push(p);
    }
    // Remove up to 8 profiles chosen by the bits of `removals` (deleted rows must never be hit).
    let mut k = 0;
    live.retain(|p| {
        let gone = k < 8 && removals & (1 << k) != 0;
        k += 1;
        if gone {
            assert!(index.remove(p.id()).is_some());
        }
        !gone
    });
    assert_eq!(index.len(), live.len());

    let query = profile(&mut r, &loci, "Q");
    let expected = naive::search(&live, &query, &opts);

    let _ = index.explain(&query, &opts);
    assert_eq!(
        index.search(&query, &opts),
        expected,
        "planner vs naive, {opts:?}, query {query:?}"
    );
    assert_eq!(
        search_forced(&index, &query, &opts, Force::Scan),
        expected,
        "scan vs naive, {opts:?}"
    );
    assert_eq!(
        search_forced(&index, &query, &opts, Force::Postings),
        expected,
        "postings vs naive, {opts:?}"
    );
    let batch = index.search_batch(std::slice::from_ref(&query), &opts);
    assert_eq!(batch, vec![expected], "batch vs naive, {opts:?}");
});
