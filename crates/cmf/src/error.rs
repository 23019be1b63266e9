//! Errors of reading and writing CMF: where (file, line, column, XML path), which specimen and
//! locus, and what is wrong.

use std::fmt;
use std::io;

use crate::release::Release;

/// A place in an input file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// The file (source name).
    pub file: String,
    /// 1-based line.
    pub line: u64,
    /// 1-based column, in bytes from the start of the line.
    pub column: u64,
    /// The XML path of the element (`/CODISImportFile/SPECIMEN[2]/LOCUS[4]/ALLELE[1]/ALLELEVALUE`),
    /// empty for table files.
    pub path: String,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, line {}, column {}",
            self.file, self.line, self.column
        )?;
        if !self.path.is_empty() {
            write!(f, " ({})", self.path)?;
        }
        Ok(())
    }
}

/// What is wrong with a value or an element (the reason part of a [`ReadError::Invalid`] or a
/// [`WriteError::Invalid`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// Longer than the schema allows.
    #[error("longer than {max} characters ({found})")]
    TooLong {
        /// The limit.
        max: usize,
        /// The length found.
        found: usize,
    },
    /// Empty where the schema requires at least one character.
    #[error("empty")]
    Empty,
    /// Not an allele designation.
    #[error("{0}")]
    BadAllele(&'static str),
    /// Not a CMF date and time.
    #[error("{0}")]
    BadDateTime(&'static str),
    /// Not an XML Schema boolean.
    #[error("not true, false, 1 or 0")]
    BadBoolean,
    /// Not a `SOURCEID` value.
    #[error("not Yes, No or N/A")]
    BadSourceId,
    /// Not a CODIS specimen category (case-sensitive).
    #[error("not a CODIS specimen category{}", .closest.map(|c| format!("; did you mean '{c}'?")).unwrap_or_default())]
    BadCategory {
        /// The closest category, if one is close.
        closest: Option<&'static str>,
    },
    /// A category the release's list does not hold.
    #[error("not a specimen category of {}", .release.name())]
    CategoryNotInRelease {
        /// The release.
        release: Release,
    },
    /// A kit the release's list does not hold.
    #[error("not a kit of {}", .release.name())]
    KitNotInRelease {
        /// The release.
        release: Release,
    },
    /// A locus the release has no name for.
    #[error("not a locus of {}{}", .release.name(), if *.release == Release::V3_2 { "; write with the later release (cmf-2017.xsd)" } else { "" })]
    LocusNotInRelease {
        /// The release.
        release: Release,
    },
    /// Not a known locus name.
    #[error("{0}")]
    BadLocus(String),
    /// Not a valid specimen id.
    #[error("{0}")]
    BadSpecimenId(&'static str),
    /// More `LOCUS` elements than the release allows.
    #[error("more than {max} loci ({})", .release.name())]
    TooManyLoci {
        /// The limit.
        max: usize,
        /// The release.
        release: Release,
    },
    /// More than 8 alleles at a locus.
    #[error("more than {max} alleles")]
    TooManyAlleles {
        /// The limit.
        max: usize,
    },
    /// A locus without alleles.
    #[error("no allele")]
    NoAllele,
    /// A specimen without loci.
    #[error("no locus")]
    NoLocus,
    /// A second required allele at a locus.
    #[error(
        "a second required allele (the first is {first}); at most one allele per locus may be required"
    )]
    TwoRequired {
        /// The first required allele.
        first: String,
    },
    /// An allele written twice (homozygotes are written as one allele).
    #[error("written twice; a homozygote is written as one allele")]
    RepeatedAllele,
    /// Alleles out of ladder order.
    #[error("after {previous}; alleles are written in ladder order (<9, 9, 9.1, 9.3, 10, >10)")]
    NotLadderOrder {
        /// The allele before it.
        previous: String,
    },
    /// A specimen id used twice in the file.
    #[error("already used on line {first_line}")]
    DuplicateSpecimen {
        /// The line of the first use.
        first_line: u64,
    },
    /// A locus given twice in a specimen.
    #[error("given twice in the specimen (first on line {first_line})")]
    DuplicateLocus {
        /// The line of the first occurrence.
        first_line: u64,
    },
    /// An element where another was expected.
    #[error("expected {expected}")]
    UnexpectedElement {
        /// What was expected.
        expected: &'static str,
    },
    /// An attribute the schema does not define.
    #[error("not an attribute of this element")]
    UnknownAttribute,
    /// Text where only elements may be.
    #[error("text is not allowed here")]
    UnexpectedText,
    /// The root element does not declare the CMF namespace.
    #[error("the root element must be in the namespace urn:CODISImportFile-schema")]
    Namespace,
    /// A value that must be one fixed string.
    #[error("expected '{expected}'")]
    Fixed {
        /// The value the schema allows.
        expected: &'static str,
    },
    /// A `HEADERVERSION` that is not a 2-digit decimal.
    #[error("not a version number such as 3.2")]
    BadVersion,
    /// A file without any specimen.
    #[error("no SPECIMEN; a CMF file holds at least one")]
    NoSpecimen,
    /// Not UTF-8.
    #[error("not valid UTF-8")]
    NotUtf8,
    /// A document type declaration (not allowed in CMF, and a way to smuggle entities in).
    #[error("document type declarations are not allowed")]
    Doctype,
    /// An entity reference other than the five XML predefines and character references.
    #[error("unknown entity")]
    UnknownEntity,
    /// The declaration names an encoding other than UTF-8.
    #[error("only UTF-8 is supported")]
    Encoding,
    /// A category is required to write CMF.
    #[error("has no specimen category; CMF requires one")]
    NoCategory,
    /// Locus CMF fields given for a locus the profile does not type.
    #[error("has CMF locus fields but no genotype")]
    InfoWithoutGenotype,
    /// A specimen id or locus given twice to the writer.
    #[error("written twice")]
    WrittenTwice,
    /// A character XML cannot carry.
    #[error("holds a character XML 1.0 cannot carry")]
    NotXmlChar,
}

/// The error of reading a CMF file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("{file}: cannot read")]
    Io {
        /// The file.
        file: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The XML itself is broken: reading cannot go on.
    #[error("{location}: malformed XML: {reason}")]
    Malformed {
        /// Where.
        location: Box<Location>,
        /// What the XML parser reported.
        reason: String,
    },
    /// A value or element breaks a rule of the specification.
    #[error("{location}: {what}{}: {problem}", context(.locus, .specimen))]
    Invalid {
        /// Where.
        location: Box<Location>,
        /// The specimen, when known.
        specimen: Option<String>,
        /// The locus (as the file spells it), when known.
        locus: Option<String>,
        /// What the rule applies to (`allele value '9..3'`, `element <FOO>`).
        what: String,
        /// What is wrong.
        problem: Problem,
    },
}

pub(crate) fn context(locus: &Option<String>, specimen: &Option<String>) -> String {
    let mut s = String::new();
    if let Some(l) = locus {
        s.push_str(" at ");
        s.push_str(l);
    }
    if let Some(sp) = specimen {
        s.push_str(" of specimen ");
        s.push_str(sp);
    }
    s
}

impl ReadError {
    /// Where the error is, when it is in the file (not for I/O errors).
    pub fn location(&self) -> Option<&Location> {
        match self {
            ReadError::Io { .. } => None,
            ReadError::Malformed { location, .. } | ReadError::Invalid { location, .. } => {
                Some(location.as_ref())
            }
        }
    }

    /// The specimen the error is in, when known.
    pub fn specimen(&self) -> Option<&str> {
        match self {
            ReadError::Invalid { specimen, .. } => specimen.as_deref(),
            _ => None,
        }
    }
}

/// The error of writing CMF.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The output could not be written.
    #[error("cannot write")]
    Io(#[from] io::Error),
    /// A value cannot be written under the release's rules.
    #[error("{what}{}: {problem}", context(.locus, .specimen))]
    Invalid {
        /// The specimen, when the value belongs to one.
        specimen: Option<String>,
        /// The locus, when the value belongs to one.
        locus: Option<String>,
        /// What the rule applies to (`SOURCELAB 'LAB-TOO-LONG-1'`).
        what: String,
        /// What is wrong.
        problem: Problem,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_invalid_message_shape() {
        let e = ReadError::Invalid {
            location: Box::new(Location {
                file: "batch.xml".into(),
                line: 41,
                column: 22,
                path: "/CODISImportFile/SPECIMEN[1]/LOCUS[6]/ALLELE[2]/ALLELEVALUE".into(),
            }),
            specimen: Some("IMP_0001A".into()),
            locus: Some("D3S1358".into()),
            what: "allele value '9..3'".into(),
            problem: Problem::BadAllele("not a repeat number"),
        };
        assert_eq!(
            e.to_string(),
            "batch.xml, line 41, column 22 (/CODISImportFile/SPECIMEN[1]/LOCUS[6]/ALLELE[2]/ALLELEVALUE): \
             allele value '9..3' at D3S1358 of specimen IMP_0001A: not a repeat number"
        );
    }
}
