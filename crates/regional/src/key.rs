//! Country keys and pseudonymous references.
//!
//! Each country holds a secret key beside its national index (`<national>.key`: 32 random bytes
//! from the operating system, created on first use with mode 0600). A shared profile's regional
//! reference is `CC-` followed by the first 12 bytes (24 hex digits) of
//! HMAC-SHA256(key, `tandem-regional-v1` NUL country NUL specimen id). Only the holder of the
//! key can recompute it, so only the owning country can map a reference back to its specimen
//! ([`crate::resolve()`]). The key never enters the regional index.

use std::fmt;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use tandem_core::durable::{self, FileError};
use tandem_core::{Country, ProfileId};

/// Bytes of a country key.
pub const KEY_LEN: usize = 32;

/// Bytes of the HMAC kept in a reference (96 bits: collisions among 10^7 profiles have a
/// probability below 10^-14).
pub const REFERENCE_BYTES: usize = 12;

/// Domain separation for the HMAC input, so the key serves no other purpose by accident.
const DOMAIN: &[u8] = b"tandem-regional-v1";

/// The error of reading or creating a country key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key file could not be read or created.
    #[error("{path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The key file does not hold exactly [`KEY_LEN`] bytes.
    #[error("{path}: a country key is {expected} bytes, this file has {found}")]
    BadLength {
        /// The key file.
        path: PathBuf,
        /// [`KEY_LEN`].
        expected: usize,
        /// Bytes found.
        found: usize,
    },
    /// No key exists for the national index (the resolver never creates one).
    #[error(
        "{path}: no country key (it is created by the first `regional merge` of this national index)"
    )]
    Missing {
        /// The expected key file.
        path: PathBuf,
    },
}

/// The key file of a national index: `<national>.key`.
pub fn key_path(national: &Path) -> PathBuf {
    let mut name = national
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".key");
    national.with_file_name(name)
}

/// A country's secret key. Its `Debug` output never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct CountryKey([u8; KEY_LEN]);

impl fmt::Debug for CountryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CountryKey(..)")
    }
}

impl CountryKey {
    /// A key from its bytes (tests and key escrow).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> CountryKey {
        CountryKey(bytes)
    }

    /// Reads the key of a national index; [`KeyError::Missing`] when there is none.
    pub fn load(national: &Path) -> Result<CountryKey, KeyError> {
        let path = key_path(national);
        let mut f = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(KeyError::Missing { path });
            }
            Err(source) => return Err(KeyError::Io { path, source }),
        };
        let mut buf = Vec::with_capacity(KEY_LEN);
        f.read_to_end(&mut buf).map_err(|source| KeyError::Io {
            path: path.clone(),
            source,
        })?;
        let bytes: [u8; KEY_LEN] = buf.as_slice().try_into().map_err(|_| KeyError::BadLength {
            path: path.clone(),
            expected: KEY_LEN,
            found: buf.len(),
        })?;
        Ok(CountryKey(bytes))
    }

    /// Reads the key of a national index, creating it (32 bytes from the operating system's
    /// random source, mode 0600, fsynced) when there is none.
    pub fn load_or_create(national: &Path) -> Result<CountryKey, KeyError> {
        match CountryKey::load(national) {
            Err(KeyError::Missing { path }) => create(&path, national),
            other => other,
        }
    }

    /// The pseudonymous reference of a specimen of `country`: `CC-` and 24 hex digits.
    pub fn reference(&self, country: Country, id: &ProfileId) -> ProfileId {
        self.referencer(country).reference(id)
    }

    /// A reference maker for many specimens of `country` (the key schedule and the prefix are
    /// computed once).
    pub fn referencer(&self, country: Country) -> Referencer {
        // HMAC accepts keys of any length: new_from_slice cannot fail
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(m) => m,
            Err(_) => unreachable!("hmac takes keys of any length"),
        };
        mac.update(DOMAIN);
        mac.update(&[0]);
        mac.update(country.as_str().as_bytes());
        mac.update(&[0]);
        Referencer { mac, country }
    }
}

/// Makes the references of one country's specimens ([`CountryKey::referencer`]).
#[derive(Clone)]
pub struct Referencer {
    mac: Hmac<Sha256>,
    country: Country,
}

impl fmt::Debug for Referencer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Referencer({})", self.country)
    }
}

impl Referencer {
    /// The reference of a specimen: `CC-` and 24 hex digits.
    pub fn reference(&self, id: &ProfileId) -> ProfileId {
        reference_of(self.country, &self.tag(id.as_str()))
    }

    /// The tag of a specimen id: the [`REFERENCE_BYTES`] bytes of the HMAC a reference spells
    /// in hex (no allocation; for the merge's many references).
    pub fn tag(&self, id: &str) -> [u8; REFERENCE_BYTES] {
        let mut mac = self.mac.clone();
        mac.update(id.as_bytes());
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; REFERENCE_BYTES];
        tag.copy_from_slice(&full[..REFERENCE_BYTES]);
        tag
    }
}

/// The reference of a tag: `CC-` and the tag in lower-case hex.
pub fn reference_of(country: Country, tag: &[u8; REFERENCE_BYTES]) -> ProfileId {
    let mut text = [0u8; 3 + 2 * REFERENCE_BYTES];
    text[..2].copy_from_slice(country.as_str().as_bytes());
    text[2] = b'-';
    let spelt = hex::encode_to_slice(tag, &mut text[3..]).is_ok();
    match std::str::from_utf8(&text)
        .ok()
        .filter(|_| spelt)
        .map(ProfileId::new)
    {
        Some(Ok(r)) => r,
        _ => unreachable!("a reference is 27 ascii characters"),
    }
}

/// The country and tag of a reference exactly as [`reference_of`] spells it (upper-case country,
/// lower-case hex), `None` for anything else. References sort as their (country, tag) pairs.
pub fn parse_reference(reference: &str) -> Option<(Country, [u8; REFERENCE_BYTES])> {
    // lower-case hex digit values; 0xff for any other byte (the merge parses every reference of
    // the regional index, so this is a table rather than a checked decoder)
    const NIBBLE: [u8; 256] = {
        let mut t = [0xff; 256];
        let mut c = 0;
        while c < 10 {
            t[b'0' as usize + c] = c as u8;
            c += 1;
        }
        let mut c = 0;
        while c < 6 {
            t[b'a' as usize + c] = 10 + c as u8;
            c += 1;
        }
        t
    };
    let b = reference.as_bytes();
    if b.len() != 3 + 2 * REFERENCE_BYTES
        || b[2] != b'-'
        || !b[..2].iter().all(u8::is_ascii_uppercase)
    {
        return None;
    }
    let mut tag = [0u8; REFERENCE_BYTES];
    for (t, pair) in tag.iter_mut().zip(b[3..].chunks_exact(2)) {
        let (hi, lo) = (NIBBLE[pair[0] as usize], NIBBLE[pair[1] as usize]);
        if (hi | lo) > 0xf {
            return None;
        }
        *t = hi << 4 | lo;
    }
    Some((reference.get(..2)?.parse().ok()?, tag))
}

fn create(path: &Path, national: &Path) -> Result<CountryKey, KeyError> {
    let err = |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = [0u8; KEY_LEN];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| err(io::Error::other(e)))?;
    // written whole to a private temporary file, fsynced and linked into place only if no key is
    // there: a crash leaves no key or the whole key, never a truncated one
    let created = durable::create_atomically(path, |f| {
        f.write_all(&bytes).map_err(|e| FileError::Io {
            path: path.to_path_buf(),
            source: e,
        })
    });
    match created {
        Ok(()) => Ok(CountryKey(bytes)),
        // created meanwhile by another process: use that one
        Err(FileError::Exists { .. }) => CountryKey::load(national),
        Err(FileError::Io { source, .. }) => Err(err(source)),
        Err(e) => Err(err(io::Error::other(e.to_string()))),
    }
}

/// The country a reference names (its `CC-` prefix), if well formed.
pub fn reference_country(reference: &ProfileId) -> Option<Country> {
    let s = reference.as_str();
    let (cc, rest) = s.split_once('-')?;
    if rest.len() != 2 * REFERENCE_BYTES || !rest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    cc.parse().ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn test_reference_with_fixed_key() {
        let key = CountryKey::from_bytes([7; KEY_LEN]);
        let gt: Country = "GT".parse().unwrap();
        let a = key.reference(gt, &ProfileId::new("INACIF-1").unwrap());
        let b = key.reference(gt, &ProfileId::new("INACIF-2").unwrap());
        assert!(a.as_str().starts_with("GT-"));
        assert_eq!(a.as_str().len(), 27);
        assert_ne!(a, b);
        assert_eq!(reference_country(&a), Some(gt));
        let (c, tag) = parse_reference(a.as_str()).unwrap();
        assert_eq!((c, reference_of(c, &tag)), (gt, a.clone()));
        assert!(parse_reference(&a.as_str().to_uppercase()).is_none());
        assert!(parse_reference("gt-0123456789abcdef01234567").is_none());
        let other = CountryKey::from_bytes([8; KEY_LEN]);
        assert_ne!(a, other.reference(gt, &ProfileId::new("INACIF-1").unwrap()));
    }

    #[test]
    fn test_load_or_create_with_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let national = dir.path().join("gt.tdx");
        assert!(matches!(
            CountryKey::load(&national),
            Err(KeyError::Missing { .. })
        ));
        let k = CountryKey::load_or_create(&national).unwrap();
        assert_eq!(CountryKey::load(&national).unwrap(), k);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(key_path(&national))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(key_path(&national), b"short").unwrap();
        assert!(matches!(
            CountryKey::load(&national),
            Err(KeyError::BadLength { .. })
        ));
    }
}
