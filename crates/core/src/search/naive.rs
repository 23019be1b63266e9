//! The readable reference search: every query against every profile, with the rules of
//! [`crate::search`] and nothing else. The fast search is tested equal to it.

use super::{Hit, SearchOptions, evaluate, finish};
use crate::profile::Profile;

/// Searches `query` against every profile, returning hits in result order.
pub fn search(profiles: &[Profile], query: &Profile, opts: &SearchOptions) -> Vec<Hit> {
    let mut hits = Vec::new();
    for candidate in profiles {
        let pairs = query
            .genotypes()
            .filter_map(|(locus, q)| candidate.genotype(locus).map(|c| (locus, q, c)));
        if let Some(hit) = evaluate(candidate.id(), pairs, opts) {
            hits.push(hit);
        }
    }
    finish(hits, opts)
}
