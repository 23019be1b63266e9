//! Tandem regional: merges national STR indexes (Guatemala, El Salvador, Honduras...) into one
//! regional index that each country can search across borders, on the Prüm / Interpol DNA
//! Gateway model: each country keeps its national index and its identities; the regional index
//! holds pseudonymous references that only the owning country can resolve.
//!
//! Data takes this path (`docs/REGIONAL.md` has the whole story):
//!
//! ```text
//! national index (GT) ─┐  verify ─► policy ─► reference = HMAC(country key, specimen id)
//! national index (SV) ─┼─────────────────────────────────────────────► sort by reference
//! national index (HN) ─┘                                                    │
//!        regional index ◄── atomic write (unchanged file left alone) ◄──────┘
//!        ├─► hits::cross_border_hits  (every matching pair from two countries)
//!        ├─► hits::search_from        (a country searching the others: hit/no-hit + reference)
//!        └─► expunge                   (removal with an audit log; kept out of later merges)
//! resolve::resolve (in the owning country only, with its key): reference ─► specimen id
//! ```
//!
//! * [`key`]: country keys (`<national>.key`) and references (`GT-` + 24 hex digits);
//! * [`policy`]: the per-country sharing policy (TOML);
//! * [`merge`](mod@merge): the deterministic merge and its report;
//! * [`hits`]: cross-border pairs and the `--from` search;
//! * [`resolve`](mod@resolve): the country-side resolver;
//! * [`scenario`]: simulated national indexes with planted cross-border duplicates.
//!
//! ```
//! use tandem_core::{Genotype, Index, Locus, Profile, ProfileId};
//! use tandem_regional::{National, Policy, merge};
//!
//! let dir = tempfile::tempdir()?;
//! let d8 = Locus::lookup("D8S1179")?;
//! let mut gt = Index::new();
//! gt.add(Profile::new(ProfileId::new("INACIF-0001")?).with(d8, Genotype::parse_at(d8, "13,14")?))?;
//! gt.write(&dir.path().join("gt.tdx"))?;
//!
//! let nationals = [National { country: "GT".parse()?, path: dir.path().join("gt.tdx") }];
//! let out = dir.path().join("region.tdx");
//! let report = merge(&out, &nationals, &Policy::share_all())?;
//! assert_eq!(report.regional_profiles, 1);
//! let regional = Index::open(&out)?;
//! let shared = regional.profiles().next().ok_or("empty")?;
//! assert!(shared.id().as_str().starts_with("GT-")); // never INACIF-0001
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod expunge;
pub mod hits;
pub mod key;
pub mod merge;
pub mod policy;
pub mod resolve;
pub mod scenario;

use std::path::Path;

use tandem_core::index::ledger::ExpungeError;

pub use hits::{HitOptions, PairHit, RegionalHit, cross_border_hits, search_from};
pub use key::CountryKey;
pub use merge::{MergeError, MergeOptions, MergeReport, National, merge, merge_with};
pub use policy::{Policy, PolicyError, Withheld};
pub use resolve::{ResolveError, Resolved, resolve};

/// Removes references from a regional index file directly (a court order that cannot wait for
/// the next national update): every reference must be present, the ledger beside the regional
/// index (`<regional>.audit.jsonl`) records who removed which reference, when and why (never
/// any genetic data), and the index is rewritten atomically. Later merges keep these
/// references out. Returns the number of profiles left.
pub fn expunge(
    regional: &Path,
    references: &[tandem_core::ProfileId],
    reason: &str,
    user: &str,
) -> Result<usize, ExpungeError> {
    expunge_with(
        regional,
        references,
        reason,
        user,
        &tandem_core::index::update::UpdateOptions::default(),
        &mut |_| {},
    )
}

/// [`expunge()`] with the writer lock's wait and the message callback of
/// [`Update::begin_with`](tandem_core::index::update::Update::begin_with): the removal is one
/// update of the regional file, so a merge running at the same time either finishes first (and
/// the removal then applies to its result) or starts after (and reads the removal in the log).
pub fn expunge_with(
    regional: &Path,
    references: &[tandem_core::ProfileId],
    reason: &str,
    user: &str,
    options: &tandem_core::index::update::UpdateOptions,
    on_wait: &mut dyn FnMut(Option<&tandem_core::durable::LockHolder>),
) -> Result<usize, ExpungeError> {
    expunge::expunge_with(regional, references, reason, user, options, on_wait)
}
