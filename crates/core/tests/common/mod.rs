//! Proptest strategies shared by the property tests: alleles of every kind (exact, wildcard,
//! off-ladder, `<n`, `>n`, `8.x`), genotypes of 1 to 5 alleles with optional required alleles,
//! over seven STR loci, Amelogenin and a Y marker.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use proptest::prelude::*;
use tandem_core::{Allele, Genotype};

/// The loci of the generated profiles.
pub const LOCI: &[&str] = &[
    "D3S1358", "vWA", "FGA", "D8S1179", "TH01", "D21S11", "AMEL", "DYS391",
];

/// An allele of any kind, mostly exact repeats.
pub fn arb_allele() -> impl Strategy<Value = Allele> {
    prop_oneof![
        20 => (8u16..13).prop_map(|r| Allele::Repeat(r * 10)),
        2 => Just(Allele::Repeat(93)),
        1 => Just(Allele::Wildcard),
        1 => (8u16..13).prop_map(|r| Allele::Above(r * 10)),
        1 => (8u16..13).prop_map(|r| Allele::Below(r * 10)),
        1 => (8u16..13).prop_map(Allele::AnyMicrovariant),
        1 => Just(Allele::OffLadder),
    ]
}

/// A genotype at `locus` (X or X,Y at Amelogenin).
pub fn arb_genotype(locus: &'static str) -> BoxedStrategy<Genotype> {
    if locus == "AMEL" {
        return prop_oneof![Just(vec![Allele::X]), Just(vec![Allele::X, Allele::Y])]
            .prop_map(|v| Genotype::new(&v).unwrap())
            .boxed();
    }
    (
        prop_oneof![10 => 1usize..=2, 1 => 3usize..=5],
        prop::collection::vec(arb_allele(), 5),
        prop::option::weighted(0.1, 0usize..5),
    )
        .prop_map(|(n, alleles, req)| {
            let g = Genotype::new(&alleles[..n]).unwrap();
            match req {
                Some(i) => {
                    let a = g.alleles()[i % g.len()];
                    g.with_required(a).unwrap()
                }
                None => g,
            }
        })
        .boxed()
}
