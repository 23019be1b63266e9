//! Arbitrary text through the allele and genotype parsers: never panics, and whatever parses
//! prints back to text that parses to the same value (`parse(display(x)) == x`).
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use tandem_core::{Allele, Genotype, Locus};

/// Loci with different parsing rules: ordinary STRs, a Penta locus and Amelogenin.
const LOCI: &[&str] = &["D8S1179", "D21S11", "Penta E", "AMEL", "SE33"];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    // Locus names: lookups never panic, and a found locus is found again by its canonical name.
    if let Ok(l) = Locus::lookup(text) {
        assert_eq!(
            Locus::lookup(l.name()).ok(),
            Some(l),
            "locus {text:?} -> {}",
            l.name()
        );
    }

    if let Ok(a) = Allele::from_str(text) {
        let shown = a.to_string();
        let back = Allele::from_str(&shown).unwrap_or_else(|e| {
            panic!("allele {a:?} from {text:?} prints as {shown:?}, which fails: {e}")
        });
        assert_eq!(back, a, "allele round trip: {text:?} -> {shown:?}");
        // Exact alleles keep their order under the round trip too.
        assert_eq!(back.cmp(&a), std::cmp::Ordering::Equal);
    }
    if let Ok(a) = Allele::parse_amelogenin(text) {
        let shown = a.to_string();
        let back = Allele::parse_amelogenin(&shown).unwrap_or_else(|e| {
            panic!("amelogenin {a:?} from {text:?} prints as {shown:?}, which fails: {e}")
        });
        assert_eq!(back, a, "amelogenin round trip: {text:?} -> {shown:?}");
    }

    for name in LOCI {
        let Ok(locus) = Locus::lookup(name) else {
            continue;
        };
        if let Ok(g) = Genotype::parse_at(locus, text) {
            assert!(!g.alleles().is_empty() && g.len() <= tandem_core::genotype::MAX_ALLELES);
            assert!(
                g.alleles().windows(2).all(|w| w[0] < w[1]),
                "alleles not in ladder order: {g:?}"
            );
            let shown = g.to_string();
            let back = Genotype::parse_at(locus, &shown).unwrap_or_else(|e| {
                panic!(
                    "genotype {g:?} at {name} from {text:?} prints as {shown:?}, which fails: {e}"
                )
            });
            assert_eq!(
                back, g,
                "genotype round trip at {name}: {text:?} -> {shown:?}"
            );
        }
    }
});
