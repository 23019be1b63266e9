//! Regional expungement: references removed from the regional index now, recorded in its ledger
//! with a salted fingerprint of each profile, so that the removal outlives a lost country key.
//!
//! A reference is an HMAC under the country's key ([`crate::key`]). If that key is lost and a new
//! one minted (`--new-key-for`, on the record), every reference of the country changes and a
//! list of expunged references no longer names anyone. The fingerprint does: it is
//! `hex(salt) "-" hex(SHA-256("tandem-expunged-v1" NUL salt NUL country NUL genotypes))`, with 16
//! random bytes of salt per expungement and the profile's genotypes in a canonical text
//! (`LOCUS=ALLELES;` by locus name). A merge that mints a new key matches the country's
//! national profiles against the fingerprints in force, withholds the matches, and records
//! their new references as expunged too ([`carry`]).
//!
//! A fingerprint reveals nothing without a candidate profile; with one, it tells whether that
//! profile was expunged. The ledger is therefore private to the regional operator (mode 0600),
//! who held the genotypes anyway; it is the only genotype-derived trace an expungement keeps.

use std::collections::BTreeSet;
use std::path::Path;

use rand::RngCore;
use sha2::{Digest, Sha256};
use tandem_core::durable::LockHolder;
use tandem_core::index::ledger::{self, Action, ExpungeError, Ledger, Removal};
use tandem_core::index::update::UpdateOptions;
use tandem_core::{Country, Index, Profile, ProfileId};

use crate::key::{CountryKey, reference_country};
use crate::merge::National;

/// Domain separation of the fingerprint hash.
const DOMAIN: &[u8] = b"tandem-expunged-v1";

/// The canonical genotype text of a profile: `LOCUS=ALLELES;` for every typed locus, by locus
/// name.
fn genotypes(profile: &Profile) -> String {
    let mut loci: Vec<(String, String)> = profile
        .genotypes()
        .map(|(l, g)| (l.name().to_string(), g.to_string()))
        .collect();
    loci.sort();
    loci.iter().map(|(l, g)| format!("{l}={g};")).collect()
}

fn digest(salt: &[u8], country: Country, profile: &Profile) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update([0]);
    h.update(salt);
    h.update([0]);
    h.update(country.as_str().as_bytes());
    h.update([0]);
    h.update(genotypes(profile).as_bytes());
    h.finalize().into()
}

/// The fingerprint of a profile of `country` under `salt` (see the module documentation).
pub fn fingerprint(salt: &[u8; 16], country: Country, profile: &Profile) -> String {
    format!(
        "{}-{}",
        hex::encode(salt),
        hex::encode(digest(salt, country, profile))
    )
}

/// The salt and hash of a fingerprint as written, `None` if malformed.
fn parse(fingerprint: &str) -> Option<(Vec<u8>, Vec<u8>)> {
    let (salt, hash) = fingerprint.split_once('-')?;
    Some((hex::decode(salt).ok()?, hex::decode(hash).ok()?))
}

/// Removes references from a regional index file now (see [`crate::expunge()`]): one update under
/// the writer lock ([`ledger::expunge_with`]), recorded as one [`Action::Expunge`] ledger record
/// with a fingerprint per reference under a fresh salt. Returns the number of profiles left.
pub fn expunge_with(
    regional: &Path,
    references: &[ProfileId],
    reason: &str,
    user: &str,
    options: &UpdateOptions,
    on_wait: &mut dyn FnMut(Option<&LockHolder>),
) -> Result<usize, ExpungeError> {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let print = |r: &ProfileId, p: &Profile| {
        fingerprint(&salt, reference_country(r).unwrap_or(Country::UNKNOWN), p)
    };
    let removal = Removal {
        action: Action::Expunge,
        reason,
        user,
        fingerprint: Some(&print),
    };
    ledger::expunge_with(regional, references, &removal, options, on_wait)
}

/// For a merge that mints a new key for the `rekeyed` countries (after the key was created):
/// the new references of national profiles whose fingerprint matches a regional expungement in
/// force for that country, with the fingerprints to record for them under a fresh salt. The
/// caller withholds them and records them as expunged again.
pub fn carry(
    ledger: &Ledger,
    nationals: &[National],
    rekeyed: &[Country],
) -> Result<(Vec<ProfileId>, Vec<String>), crate::MergeError> {
    let in_force: BTreeSet<&str> = ledger.removed().keys().copied().collect();
    // (country, salt, hash) of every fingerprint in force
    let mut wanted: Vec<(Country, Vec<u8>, Vec<u8>)> = Vec::new();
    for r in ledger.records() {
        if r.action != Action::Expunge {
            continue;
        }
        for (reference, fp) in r.specimens.iter().zip(&r.fingerprints) {
            let Some(country) = ProfileId::new(reference)
                .ok()
                .and_then(|id| reference_country(&id))
            else {
                continue;
            };
            if rekeyed.contains(&country)
                && in_force.contains(reference.as_str())
                && let Some((salt, hash)) = parse(fp)
            {
                wanted.push((country, salt, hash));
            }
        }
    }
    let mut refs = Vec::new();
    let mut prints = Vec::new();
    if wanted.is_empty() {
        return Ok((refs, prints));
    }
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    for n in nationals.iter().filter(|n| rekeyed.contains(&n.country)) {
        let key = CountryKey::load(&n.path).map_err(|source| crate::MergeError::Key {
            country: n.country,
            source,
        })?;
        let index = Index::open(&n.path).map_err(|source| crate::MergeError::Verify {
            country: n.country,
            source,
        })?;
        for p in index.profiles() {
            let matched = wanted.iter().any(|(c, s, h)| {
                *c == n.country && digest(s, n.country, &p).as_slice() == h.as_slice()
            });
            if matched {
                refs.push(key.reference(n.country, p.id()));
                prints.push(fingerprint(&salt, n.country, &p));
            }
        }
    }
    Ok((refs, prints))
}
