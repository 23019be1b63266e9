//! The streaming CMF reader on arbitrary bytes: never panics, strict and lenient; whatever the
//! strict reader accepts and the writer can write reads back to the same header and specimens.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_cmf::read::read_all;
use tandem_cmf::{ReadOptions, Release, WriteOptions, write};

fuzz_target!(|data: &[u8]| {
    for release in [Release::V3_2, Release::Later] {
        let opts = ReadOptions {
            release,
            allow_custom_loci: false,
        };
        let strict = read_all(data, "fuzz.xml", opts, false);
        let lenient = read_all(data, "fuzz.xml", opts, true);
        if let Ok(file) = &strict {
            let lenient = lenient.expect("lenient accepts what strict accepts");
            assert_eq!(lenient.specimens, file.specimens);
            assert!(lenient.rejected.is_empty());
            if let Ok(bytes) = write::write_all(
                Vec::new(),
                &file.header,
                &file.specimens,
                WriteOptions { release },
            ) {
                let again =
                    read_all(&bytes[..], "again.xml", opts, false).expect("written CMF reads back");
                assert_eq!(again.header, file.header);
                assert_eq!(again.specimens, file.specimens);
            }
        }
    }
});
