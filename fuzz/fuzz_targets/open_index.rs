//! Arbitrary bytes opened as an index file: `open` and `verify` must return an error or an index,
//! never panic, and searching whatever opened must not panic either.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use tandem_core::index::file;
use tandem_core::{Genotype, Index, Locus, Profile, ProfileId, SearchOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(mut tmp) = tempfile::NamedTempFile::new() else { return };
    if tmp.write_all(data).is_err() || tmp.flush().is_err() {
        return;
    }
    let verified = file::verify(tmp.path()).is_ok();
    let Ok(mut index) = Index::open(tmp.path()) else {
        assert!(!verified, "verify accepted a file open rejects");
        return;
    };
    let mut q = Profile::new(ProfileId::new("Q").expect("valid id"));
    for (l, g) in [("D8S1179", "13,14"), ("TH01", "6,9.3"), ("FGA", "22"), ("vWA", "16,F")] {
        let l = Locus::lookup(l).expect("known locus");
        q.set_genotype(l, Genotype::parse_at(l, g).expect("valid genotype"));
    }
    let opts = SearchOptions { min_loci: 1, ..SearchOptions::default() };
    let scanned = index.search(&q, &opts);
    let _ = index.len();
    for p in index.profiles().take(8) {
        let _ = index.search(&p, &opts);
    }
    if verified {
        // a verified file answers the same through postings as through the scan
        index.build_postings();
        assert_eq!(index.search(&q, &opts), scanned);
    }
});
