//! Every table reader (wide and two-column through tandem-core, GeneMapper, CODIS export) and the
//! format detection on arbitrary bytes: never panics; strict and lenient agree on what strict
//! accepts; the long and CODIS-export writers' output reads back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_cmf::import::{self, Format, ImportOptions};
use tandem_cmf::table::{self, Layout};

fuzz_target!(|data: &[u8]| {
    let _ = import::detect(data, "fuzz");
    for format in [
        None,
        Some(Format::Table(Layout::Wide)),
        Some(Format::Table(Layout::GeneMapper)),
        Some(Format::Table(Layout::CodisExport)),
    ] {
        let strict = import::import(data, "fuzz.csv", format, ImportOptions::default());
        let lenient = import::import(
            data,
            "fuzz.csv",
            format,
            ImportOptions {
                lenient: true,
                ..ImportOptions::default()
            },
        );
        if let Ok(s) = &strict {
            let l = lenient.expect("lenient accepts what strict accepts");
            assert_eq!(l.specimens, s.specimens);
            let profiles: Vec<_> = s.specimens.iter().map(|s| s.profile.clone()).collect();
            let mut long = Vec::new();
            if table::write_long(&mut long, &profiles, b'\t').is_ok() && !profiles.is_empty() {
                let back = table::read(
                    &long[..],
                    "long.tsv",
                    Some(Layout::GeneMapper),
                    table::ReadOptions::default(),
                )
                .expect("long output reads back");
                assert!(back.rejected.is_empty(), "{:?}", back.rejected);
                assert_eq!(back.profiles.len(), profiles.len());
            }
        }
    }
    let _ = table::read_genemapper(
        data,
        "fuzz.txt",
        table::ReadOptions {
            allow_custom_loci: true,
            ignore_unknown_columns: true,
        },
    );
});
