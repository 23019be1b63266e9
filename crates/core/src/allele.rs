//! Allele designations: repeat numbers stored exactly in tenths, off-ladder intervals,
//! wildcards and the Amelogenin sex alleles (BRIEF section 2).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// The largest repeat number accepted (no STR in any kit comes close; SE33 tops out near 50).
const MAX_REPEAT: u16 = 999;

/// An allele designation.
///
/// Repeat numbers are stored exactly as tenths (`9.3` is 93), never as floats. Off-ladder values
/// are intervals, not values: `>15` is consistent with `16` typed by a kit with a wider ladder.
/// See `docs/MATCHING.md` for how each kind matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Allele {
    /// A repeat number in tenths: `13` is 130, `9.3` is 93 (complete repeats plus extra bases).
    Repeat(u16),
    /// A microvariant of unknown extra bases, written `8.x`: some value strictly between 8 and 9.
    /// The payload is the complete-repeat count.
    AnyMicrovariant(u16),
    /// Below the kit's ladder, written `<8`; the payload is the bound in tenths.
    Below(u16),
    /// Above the kit's ladder, written `>15`; the payload is the bound in tenths.
    Above(u16),
    /// Off-ladder with no stated position, written `OL`.
    OffLadder,
    /// A wildcard (`F` or `*`): an allele that may have dropped out or is unresolved.
    Wildcard,
    /// A rare allele outside the ladder, written `R`.
    Rare,
    /// Amelogenin X (some files write `1`).
    X,
    /// Amelogenin Y (some files write `2`).
    Y,
}

/// The error of parsing an allele designation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("allele value '{value}': {reason}")]
pub struct AlleleError {
    /// The value as given.
    pub value: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Allele {
    /// Parses an allele value the way it is written at a non-Amelogenin locus.
    pub fn parse(s: &str) -> Result<Allele, AlleleError> {
        s.parse()
    }

    /// Parses an Amelogenin value: `X`, `Y`, or `1` = X and `2` = Y as some files write them.
    pub fn parse_amelogenin(s: &str) -> Result<Allele, AlleleError> {
        let err = |reason| AlleleError {
            value: s.to_string(),
            reason,
        };
        match s.trim() {
            "X" | "x" | "1" => Ok(Allele::X),
            "Y" | "y" | "2" => Ok(Allele::Y),
            "F" | "f" | "*" => Ok(Allele::Wildcard),
            "" => Err(err("empty value")),
            _ => Err(err("not an Amelogenin allele (X, Y, 1 = X, 2 = Y)")),
        }
    }

    /// The common allele shapes `13` and `9.3`, parsed from bytes without allocating (the table
    /// and CMF readers' fast path); `None` for anything else, which [`Allele::parse`] then reads
    /// (and explains when it is wrong).
    pub fn parse_repeat_bytes(s: &[u8]) -> Option<Allele> {
        let (int, extra) = match s {
            [int @ .., b'.', d @ b'0'..=b'9'] => (int, d - b'0'),
            _ => (s, 0),
        };
        if int.is_empty() || int.len() > 3 || !int.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let repeats = int
            .iter()
            .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
        if repeats == 0 && extra == 0 {
            return None; // not positive: let `Allele::parse` say so
        }
        Allele::repeat(repeats, extra).ok()
    }

    /// True for designations that stand for exactly one known allele value (repeat numbers and
    /// X/Y): equality of such alleles is identity. Everything else is an interval or a wildcard.
    pub fn is_exact(self) -> bool {
        matches!(self, Allele::Repeat(_) | Allele::X | Allele::Y)
    }

    /// True for `F`/`*` wildcards.
    pub fn is_wildcard(self) -> bool {
        matches!(self, Allele::Wildcard)
    }

    /// The set of repeat values (in tenths, inclusive) the designation may stand for, or `None`
    /// for the sex alleles.
    fn interval(self) -> Option<(u32, u32)> {
        const TOP: u32 = u32::MAX;
        match self {
            Allele::Repeat(v) => Some((v as u32, v as u32)),
            Allele::AnyMicrovariant(r) => Some((r as u32 * 10 + 1, r as u32 * 10 + 9)),
            // `<8`: any value strictly below 8.0; with tenths that is at most 7.9.
            Allele::Below(b) => {
                if b == 0 {
                    Some((1, 0)) // empty: nothing lies below 0
                } else {
                    Some((0, b as u32 - 1))
                }
            }
            // `>15`: any value strictly above 15.0, the smallest being 15.1.
            Allele::Above(b) => Some((b as u32 + 1, TOP)),
            Allele::OffLadder | Allele::Wildcard | Allele::Rare => Some((0, TOP)),
            Allele::X | Allele::Y => None,
        }
    }

    /// The consistency relation used by every match: true when the two designations may stand for
    /// the same allele. Exact values must be equal; intervals must overlap; `F`, `*`, `R` and `OL`
    /// are consistent with anything; `X` and `Y` only with themselves (and wildcards).
    /// The relation is symmetric (and not transitive).
    pub fn is_consistent_with(self, other: Allele) -> bool {
        if self == other {
            return true;
        }
        let unknown = |a: Allele| matches!(a, Allele::Wildcard | Allele::OffLadder | Allele::Rare);
        if unknown(self) || unknown(other) {
            return true;
        }
        match (self.interval(), other.interval()) {
            (Some((l1, h1)), Some((l2, h2))) => l1 <= h2 && l2 <= h1,
            _ => false,
        }
    }

    /// The sort key that puts alleles in ladder order: `<9, 9, 9.1, 9.3, 9.x, 10, >10`, then the
    /// non-numeric designations.
    fn ladder_key(self) -> (u8, u32, u8) {
        match self {
            Allele::Below(b) => (0, b as u32, 0),
            Allele::Repeat(v) => (0, v as u32, 1),
            Allele::AnyMicrovariant(r) => (0, r as u32 * 10 + 9, 2),
            Allele::Above(b) => (0, b as u32, 3),
            Allele::OffLadder => (1, 0, 0),
            Allele::Rare => (1, 1, 0),
            Allele::X => (1, 2, 0),
            Allele::Y => (1, 3, 0),
            Allele::Wildcard => (1, 4, 0),
        }
    }

    /// The repeat number in tenths for an exact repeat allele.
    pub fn tenths(self) -> Option<u16> {
        match self {
            Allele::Repeat(v) => Some(v),
            _ => None,
        }
    }

    /// Builds an exact repeat allele from complete repeats and extra bases (`9.3` = `(9, 3)`).
    pub fn repeat(repeats: u16, extra_bases: u8) -> Result<Allele, AlleleError> {
        if repeats > MAX_REPEAT || extra_bases > 9 {
            return Err(AlleleError {
                value: format!("{repeats}.{extra_bases}"),
                reason: "repeat number out of range",
            });
        }
        Ok(Allele::Repeat(repeats * 10 + extra_bases as u16))
    }
}

impl Ord for Allele {
    fn cmp(&self, other: &Self) -> Ordering {
        self.ladder_key().cmp(&other.ladder_key())
    }
}

impl PartialOrd for Allele {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn write_tenths(f: &mut fmt::Formatter<'_>, v: u16) -> fmt::Result {
    if v.is_multiple_of(10) {
        write!(f, "{}", v / 10)
    } else {
        write!(f, "{}.{}", v / 10, v % 10)
    }
}

impl fmt::Display for Allele {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Allele::Repeat(v) => write_tenths(f, v),
            Allele::AnyMicrovariant(r) => write!(f, "{r}.x"),
            Allele::Below(b) => {
                f.write_str("<")?;
                write_tenths(f, b)
            }
            Allele::Above(b) => {
                f.write_str(">")?;
                write_tenths(f, b)
            }
            Allele::OffLadder => f.write_str("OL"),
            Allele::Wildcard => f.write_str("F"),
            Allele::Rare => f.write_str("R"),
            Allele::X => f.write_str("X"),
            Allele::Y => f.write_str("Y"),
        }
    }
}

/// Parses `13`, `9.3`, `13.0` into tenths.
fn parse_number(s: &str, value: &str) -> Result<u16, AlleleError> {
    let err = |reason| AlleleError {
        value: value.to_string(),
        reason,
    };
    if s.is_empty() {
        return Err(err("empty value"));
    }
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err("not a repeat number"));
    }
    if int.len() > 3 {
        return Err(err("repeat number out of range (at most 999)"));
    }
    let whole: u16 = int.parse().map_err(|_| err("not a repeat number"))?;
    let tenth = match frac {
        None => 0,
        Some(f) if f.len() == 1 && f.as_bytes()[0].is_ascii_digit() => {
            (f.as_bytes()[0] - b'0') as u16
        }
        Some(_) => {
            return Err(err(
                "not a repeat number (microvariants have one digit after the point, e.g. 9.3)",
            ));
        }
    };
    Ok(whole * 10 + tenth)
}

impl FromStr for Allele {
    type Err = AlleleError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let err = |reason| AlleleError {
            value: value.to_string(),
            reason,
        };
        let s = value.trim();
        if s.is_empty() {
            return Err(err("empty value"));
        }
        if s.len() > 10 {
            // CMF 3.2: ALLELEVALUE is at most 10 characters
            return Err(err("longer than 10 characters"));
        }
        let s = s.replace("&lt;", "<").replace("&gt;", ">");
        match s.as_str() {
            "F" | "f" | "*" => return Ok(Allele::Wildcard),
            "R" | "r" => return Ok(Allele::Rare),
            "OL" | "ol" | "Ol" => return Ok(Allele::OffLadder),
            "X" | "x" => return Ok(Allele::X),
            "Y" | "y" => return Ok(Allele::Y),
            _ => {}
        }
        if let Some(rest) = s.strip_prefix('<') {
            return Ok(Allele::Below(parse_number(rest.trim(), value)?));
        }
        if let Some(rest) = s.strip_prefix('>') {
            return Ok(Allele::Above(parse_number(rest.trim(), value)?));
        }
        if let Some(base) = s.strip_suffix(".x").or_else(|| s.strip_suffix(".X")) {
            let t = parse_number(base, value)?;
            if t % 10 != 0 {
                return Err(err("not a repeat number"));
            }
            return Ok(Allele::AnyMicrovariant(t / 10));
        }
        let t = parse_number(&s, value)?;
        if t == 0 {
            return Err(err("a repeat number must be positive"));
        }
        Ok(Allele::Repeat(t))
    }
}

impl serde::Serialize for Allele {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Allele {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn a(s: &str) -> Allele {
        s.parse().unwrap()
    }

    #[test]
    fn test_parse_with_valid_values() {
        assert_eq!(a("13"), Allele::Repeat(130));
        assert_eq!(a("9.3"), Allele::Repeat(93));
        assert_eq!(a("31.2"), Allele::Repeat(312));
        assert_eq!(a("13.0"), Allele::Repeat(130));
        assert_eq!(a("<8"), Allele::Below(80));
        assert_eq!(a("&lt;8"), Allele::Below(80));
        assert_eq!(a(">15"), Allele::Above(150));
        assert_eq!(a("&gt;15"), Allele::Above(150));
        assert_eq!(a("OL"), Allele::OffLadder);
        assert_eq!(a("F"), Allele::Wildcard);
        assert_eq!(a("*"), Allele::Wildcard);
        assert_eq!(a("R"), Allele::Rare);
        assert_eq!(a("8.x"), Allele::AnyMicrovariant(8));
        assert_eq!(Allele::parse_amelogenin("1"), Ok(Allele::X));
        assert_eq!(Allele::parse_amelogenin("2"), Ok(Allele::Y));
    }

    #[test]
    fn test_parse_with_invalid_values() {
        for bad in [
            "", "9..3", "9.33", "abc", "-3", "0", "1000", "9.", ".3", "<", ">x", "13,14",
        ] {
            assert!(bad.parse::<Allele>().is_err(), "{bad:?} should not parse");
        }
        let e = "9..3".parse::<Allele>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "allele value '9..3': not a repeat number (microvariants have one digit after the point, e.g. 9.3)"
        );
    }

    #[test]
    fn test_consistency_rules() {
        assert!(a("13").is_consistent_with(a("13")));
        assert!(!a("13").is_consistent_with(a("14")));
        assert!(!a("9.3").is_consistent_with(a("9")));
        assert!(a(">15").is_consistent_with(a("16")));
        assert!(a(">15").is_consistent_with(a("15.1")));
        assert!(!a(">15").is_consistent_with(a("15")));
        assert!(a("<8").is_consistent_with(a("7")));
        assert!(a("<8").is_consistent_with(a("7.3")));
        assert!(!a("<8").is_consistent_with(a("8")));
        assert!(a("<8").is_consistent_with(a(">7")));
        assert!(!a("<8").is_consistent_with(a(">8")));
        assert!(a("8.x").is_consistent_with(a("8.3")));
        assert!(!a("8.x").is_consistent_with(a("8")));
        assert!(!a("8.x").is_consistent_with(a("9")));
        assert!(a("F").is_consistent_with(a("22")));
        assert!(a("OL").is_consistent_with(a("22")));
        assert!(Allele::X.is_consistent_with(Allele::X));
        assert!(!Allele::X.is_consistent_with(Allele::Y));
        assert!(!Allele::X.is_consistent_with(a("13")));
    }

    #[test]
    fn test_ladder_order() {
        let mut v: Vec<Allele> = [">10", "10", "9.3", "<9", "9.1", "9", "9.x"]
            .iter()
            .map(|s| a(s))
            .collect();
        v.sort();
        let s: Vec<String> = v.iter().map(|x| x.to_string()).collect();
        assert_eq!(s, ["<9", "9", "9.1", "9.3", "9.x", "10", ">10"]);
    }

    pub(crate) fn arb_allele() -> impl Strategy<Value = Allele> {
        prop_oneof![
            8 => (10u16..400).prop_map(Allele::Repeat),
            1 => (1u16..40).prop_map(Allele::AnyMicrovariant),
            1 => (10u16..400).prop_map(Allele::Below),
            1 => (10u16..400).prop_map(Allele::Above),
            1 => Just(Allele::OffLadder),
            1 => Just(Allele::Wildcard),
            1 => Just(Allele::Rare),
        ]
    }

    proptest! {
        #[test]
        fn prop_display_parse_round_trip(x in arb_allele()) {
            prop_assert_eq!(x.to_string().parse::<Allele>(), Ok(x));
        }

        #[test]
        fn prop_consistency_symmetric(x in arb_allele(), y in arb_allele()) {
            prop_assert_eq!(x.is_consistent_with(y), y.is_consistent_with(x));
        }

        #[test]
        fn prop_parse_never_panics(s in "\\PC{0,12}") {
            let _ = s.parse::<Allele>();
        }
    }
}
