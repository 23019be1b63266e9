//! Arbitrary bytes through the wide lab-table reader, strict and lenient: never panics; a
//! successful read gives profiles the index accepts; lenient reading of a table the strict reader
//! accepts changes nothing; and `write_wide` output reads back to the same profiles.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;

use tandem_core::table::{self, TableOptions, TableRead};

const STRICT: TableOptions = TableOptions {
    allow_custom_loci: false,
    ignore_unknown_columns: false,
    lenient: false,
};
const LENIENT: TableOptions = TableOptions {
    allow_custom_loci: false,
    ignore_unknown_columns: true,
    lenient: true,
};
const ROWS_ONLY: TableOptions = TableOptions {
    allow_custom_loci: false,
    ignore_unknown_columns: false,
    lenient: true,
};

fn check(read: &TableRead, data: &[u8], opts: &TableOptions) {
    if let Some(pops) = &read.populations {
        assert_eq!(
            pops.len(),
            read.profiles.len(),
            "one population per profile"
        );
    }
    for p in &read.profiles {
        assert!(p.locus_count() > 0, "profile {} has no typed locus", p.id());
    }
    // Unique ids and typed loci, so the index takes whatever the reader returns (checked
    // directly: `Index::from_profiles` costs a 64K-entry table per column, slow under fuzzing).
    let mut ids = HashSet::new();
    for p in &read.profiles {
        assert!(
            ids.insert(p.id().clone()),
            "duplicate id {} read, options {opts:?}, input {data:?}",
            p.id()
        );
    }
    // The writer's documented law: what it writes reads back to the same profiles (the reader
    // records no required-allele flags, so nothing is lost). An empty list, once written as a
    // header without a locus column (`artifacts-found/`), is now written with the CODIS 13 loci.
    let mut out = Vec::new();
    if let Err(e) = table::write_wide(&mut out, &read.profiles) {
        panic!("write_wide failed: {e}");
    }
    let back_opts = TableOptions {
        allow_custom_loci: opts.allow_custom_loci,
        ..STRICT
    };
    match table::read(out.as_slice(), "written.csv", &back_opts) {
        Ok(back) => assert_eq!(
            back.profiles,
            read.profiles,
            "write_wide round trip, options {opts:?}, input {:?}, written {:?}",
            String::from_utf8_lossy(data),
            String::from_utf8_lossy(&out)
        ),
        Err(e) => panic!(
            "write_wide output does not read back: {e}; options {opts:?}, input {:?}, written {:?}",
            String::from_utf8_lossy(data),
            String::from_utf8_lossy(&out)
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    let strict = table::read(data, "fuzz.csv", &STRICT);
    if let Ok(read) = &strict {
        check(read, data, &STRICT);
        // Skipping bad rows changes nothing when there is none.
        match table::read(data, "fuzz.csv", &ROWS_ONLY) {
            Ok(lenient) => assert_eq!(
                lenient.profiles, read.profiles,
                "lenient differs from strict"
            ),
            Err(e) => panic!("strict read succeeds but lenient fails: {e}"),
        }
    }
    if let Ok(read) = table::read(data, "fuzz.csv", &LENIENT) {
        check(&read, data, &LENIENT);
    }
    // Custom loci (process-wide, bounded registry): only errors, never panics.
    let custom = TableOptions {
        allow_custom_loci: true,
        ..LENIENT
    };
    if let Ok(read) = table::read(data, "fuzz.csv", &custom) {
        check(&read, data, &custom);
    }
});
