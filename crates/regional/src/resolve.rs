//! The country-side resolver: references back to national specimen ids, with the country's key.
//!
//! Runs in the owning country only: it recomputes the reference of every live profile of the
//! national index under the key beside it and looks the asked references up.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use tandem_core::index::file::OpenError;
use tandem_core::{Country, Index, ProfileId};

use crate::key::{CountryKey, KeyError, reference_country};

/// The error of resolving references.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// The national index could not be opened.
    #[error("cannot open the national index")]
    Open(#[source] OpenError),
    /// The country key could not be read (the resolver never creates one).
    #[error("cannot read the country key")]
    Key(#[source] KeyError),
    /// A reference of another country (only its owner can resolve it).
    #[error("reference {reference} belongs to {owner}, not {country}: only {owner} can resolve it")]
    ForeignReference {
        /// The reference.
        reference: ProfileId,
        /// Its country.
        owner: Country,
        /// The resolving country.
        country: Country,
    },
    /// Not a regional reference (`CC-` and 24 hex digits).
    #[error("'{0}' is not a regional reference (CC- and 24 hex digits)")]
    NotAReference(String),
}

/// One resolved reference.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Resolved {
    /// The reference asked for.
    pub reference: ProfileId,
    /// The national specimen id; `None` when no live profile of the national index has this
    /// reference (removed since, or from another national index).
    pub specimen: Option<ProfileId>,
}

/// Maps references of `country` back to specimen ids of the national index at `national`, using
/// the key beside it.
pub fn resolve(
    national: &Path,
    country: Country,
    references: &[String],
) -> Result<Vec<Resolved>, ResolveError> {
    let mut refs = Vec::with_capacity(references.len());
    for r in references {
        let id = ProfileId::new(r.trim()).map_err(|_| ResolveError::NotAReference(r.clone()))?;
        let owner = reference_country(&id).ok_or_else(|| ResolveError::NotAReference(r.clone()))?;
        if owner != country {
            return Err(ResolveError::ForeignReference {
                reference: id,
                owner,
                country,
            });
        }
        refs.push(id);
    }
    let key = CountryKey::load(national).map_err(ResolveError::Key)?;
    let index = Index::open(national).map_err(ResolveError::Open)?;
    let ids: Vec<ProfileId> = index.profiles().map(|p| p.id().clone()).collect();
    let map: FxHashMap<ProfileId, ProfileId> = ids
        .into_par_iter()
        .map(|id| (key.reference(country, &id), id))
        .collect();
    Ok(refs
        .into_iter()
        .map(|reference| Resolved {
            specimen: map.get(&reference).cloned(),
            reference,
        })
        .collect())
}

/// Where the key of a national index lives (re-exported for the CLI's messages).
pub fn key_location(national: &Path) -> PathBuf {
    crate::key::key_path(national)
}
