//! The streaming CMF writer: the header first, then one specimen at a time, checked against the
//! target release's rules before any of its bytes are written.

use std::hash::{BuildHasher, Hasher};
use std::io::Write;

use rustc_hash::{FxBuildHasher, FxHashSet};
use tandem_core::Locus;

use crate::error::{Problem, WriteError};
use crate::read::NAMESPACE;
use crate::release::{self, Release};
use crate::specimen::{CmfSpecimen, Header, LocusInfo};

/// How to write CMF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOptions {
    /// The release whose schema the output must satisfy (default: CMF 3.2).
    pub release: Release,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            release: Release::V3_2,
        }
    }
}

/// Writes a CMF file: [`CmfWriter::new`] writes the header, [`CmfWriter::write`] one specimen,
/// [`CmfWriter::finish`] the closing tag. A specimen that breaks a rule is refused whole (nothing
/// of it is written), so a caller may skip it and go on.
pub struct CmfWriter<W: Write> {
    out: W,
    header: Header,
    release: Release,
    scratch: Vec<u8>,
    seen: FxHashSet<u128>,
    count: u64,
}

fn invalid(
    specimen: Option<&str>,
    locus: Option<&str>,
    what: String,
    problem: Problem,
) -> WriteError {
    WriteError::Invalid {
        specimen: specimen.map(str::to_string),
        locus: locus.map(str::to_string),
        what,
        problem,
    }
}

fn chars(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// Checks a string field's length and characters.
fn check(
    value: &str,
    min: usize,
    max: usize,
    what: &str,
    specimen: Option<&str>,
    locus: Option<&str>,
) -> Result<(), WriteError> {
    let n = chars(value);
    if n < min {
        return Err(invalid(specimen, locus, what.to_string(), Problem::Empty));
    }
    if n > max {
        return Err(invalid(
            specimen,
            locus,
            format!("{what} '{value}'"),
            Problem::TooLong { max, found: n },
        ));
    }
    if value.chars().any(|c| !is_xml_char(c)) {
        return Err(invalid(
            specimen,
            locus,
            format!("{what} {value:?}"),
            Problem::NotXmlChar,
        ));
    }
    Ok(())
}

/// XML 1.0 `Char`.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Appends `s` escaped for element content or (with `attr`) a double-quoted attribute.
fn escape(out: &mut Vec<u8>, s: &str, attr: bool) {
    let bytes = s.as_bytes();
    let mut last = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'"' if attr => b"&quot;",
            b'\r' => b"&#13;",
            b'\n' if attr => b"&#10;",
            b'\t' if attr => b"&#9;",
            _ => continue,
        };
        out.extend_from_slice(&bytes[last..i]);
        out.extend_from_slice(rep);
        last = i + 1;
    }
    out.extend_from_slice(&bytes[last..]);
}

fn element(out: &mut Vec<u8>, indent: &str, name: &str, value: &str) {
    out.extend_from_slice(indent.as_bytes());
    out.push(b'<');
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
    escape(out, value, false);
    out.extend_from_slice(b"</");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b">\n");
}

fn attribute(out: &mut Vec<u8>, name: &str, value: &str) {
    out.push(b' ');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"=\"");
    escape(out, value, true);
    out.push(b'"');
}

fn id_hash(id: &str) -> u128 {
    let a = FxBuildHasher.hash_one(id);
    let mut h = std::hash::DefaultHasher::new();
    h.write(id.as_bytes());
    (u128::from(a) << 64) | u128::from(h.finish())
}

/// Checks a header against a release's rules.
pub fn check_header(header: &Header, release: Release) -> Result<(), WriteError> {
    let version_ok = {
        let v = header.version.as_str();
        let (int, frac) = v.split_once('.').unwrap_or((v, ""));
        !int.is_empty()
            && int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
            && frac.len() <= 1
            && int.len() + frac.len() <= 2
    };
    if !version_ok {
        return Err(invalid(
            None,
            None,
            format!("HEADERVERSION '{}'", header.version),
            Problem::BadVersion,
        ));
    }
    check(
        &header.destination_ori,
        1,
        release::MAX_LAB,
        "DESTINATIONORI",
        None,
        None,
    )?;
    check(
        &header.source_lab,
        1,
        release::MAX_LAB,
        "SOURCELAB",
        None,
        None,
    )?;
    check(
        &header.submit_by,
        1,
        release::MAX_USER,
        "SUBMITBYUSERID",
        None,
        None,
    )?;
    if let Some(b) = &header.batch_id {
        check(b, 0, release::MAX_BATCH_ID, "BATCHID", None, None)?;
    }
    if let Some(k) = &header.kit
        && !release.allows_kit(k)
    {
        return Err(invalid(
            None,
            None,
            format!("KIT '{k}'"),
            Problem::KitNotInRelease { release },
        ));
    }
    Ok(())
}

impl<W: Write> CmfWriter<W> {
    /// Checks the header and writes it (the XML declaration, the root element and the header
    /// elements).
    pub fn new(mut out: W, header: &Header, opts: WriteOptions) -> Result<Self, WriteError> {
        check_header(header, opts.release)?;
        let mut s = Vec::with_capacity(1024);
        s.extend_from_slice(
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CODISImportFile xmlns=\"",
        );
        s.extend_from_slice(NAMESPACE.as_bytes());
        s.extend_from_slice(b"\">\n");
        element(&mut s, "  ", "HEADERVERSION", &header.version);
        element(&mut s, "  ", "MESSAGETYPE", "Import");
        element(&mut s, "  ", "DESTINATIONORI", &header.destination_ori);
        element(&mut s, "  ", "SOURCELAB", &header.source_lab);
        element(&mut s, "  ", "SUBMITBYUSERID", &header.submit_by);
        element(
            &mut s,
            "  ",
            "SUBMITDATETIME",
            &header.submit_datetime.to_string(),
        );
        if let Some(b) = &header.batch_id {
            element(&mut s, "  ", "BATCHID", b);
        }
        if let Some(k) = &header.kit {
            element(&mut s, "  ", "KIT", k);
        }
        out.write_all(&s)?;
        s.clear();
        Ok(CmfWriter {
            out,
            header: header.clone(),
            release: opts.release,
            scratch: s,
            seen: FxHashSet::default(),
            count: 0,
        })
    }

    /// Specimens written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Checks a specimen against the release's rules and writes it; a specimen that breaks a
    /// rule (or repeats an id already written) is not written at all.
    pub fn write(&mut self, s: &CmfSpecimen) -> Result<(), WriteError> {
        self.scratch.clear();
        let mut buf = std::mem::take(&mut self.scratch);
        let result = self.render(s, &mut buf);
        if result.is_ok() {
            let key = id_hash(s.profile.id().as_str());
            if !self.seen.insert(key) {
                self.scratch = buf;
                return Err(invalid(
                    Some(s.profile.id().as_str()),
                    None,
                    format!("specimen id '{}'", s.profile.id()),
                    Problem::WrittenTwice,
                ));
            }
            if let Err(e) = self.out.write_all(&buf) {
                self.scratch = buf;
                return Err(e.into());
            }
            self.count += 1;
        }
        self.scratch = buf;
        result
    }

    fn render(&self, s: &CmfSpecimen, out: &mut Vec<u8>) -> Result<(), WriteError> {
        let release = self.release;
        let p = &s.profile;
        let id = p.id().as_str();
        let sp = Some(id);
        check(id, 1, release::MAX_SPECIMEN_ID, "SPECIMENID", sp, None)?;
        let category = p
            .category()
            .ok_or_else(|| invalid(sp, None, format!("specimen {id}"), Problem::NoCategory))?;
        if !release.allows_category(category) {
            return Err(invalid(
                sp,
                None,
                format!("SPECIMENCATEGORY '{category}'"),
                Problem::CategoryNotInRelease { release },
            ));
        }
        if let Some(c) = &s.case_id {
            check(c, 0, release::MAX_CASE_ID, "CASEID", sp, None)?;
        }
        if let Some(c) = &s.comment {
            check(c, 0, release::MAX_COMMENT, "SPECIMENCOMMENT", sp, None)?;
        }
        for (locus, _) in &s.loci {
            if p.genotype(*locus).is_none() {
                return Err(invalid(
                    sp,
                    Some(locus.name()),
                    format!("locus {locus}"),
                    Problem::InfoWithoutGenotype,
                ));
            }
            if s.loci.iter().filter(|(l, _)| l == locus).count() > 1 {
                return Err(invalid(
                    sp,
                    Some(locus.name()),
                    format!("locus {locus}"),
                    Problem::WrittenTwice,
                ));
            }
        }
        let n = p.locus_count();
        if n == 0 {
            return Err(invalid(
                sp,
                None,
                format!("specimen {id}"),
                Problem::NoLocus,
            ));
        }
        if n > release.max_loci() {
            return Err(invalid(
                sp,
                None,
                format!("specimen {id}"),
                Problem::TooManyLoci {
                    max: release.max_loci(),
                    release,
                },
            ));
        }

        out.extend_from_slice(b"  <SPECIMEN");
        if let Some(src) = s.source_id {
            attribute(out, "SOURCEID", src.as_str());
        }
        if let Some(c) = &s.case_id {
            attribute(out, "CASEID", c);
        }
        if p.is_partial() {
            attribute(out, "PARTIAL", "true");
        }
        out.extend_from_slice(b">\n");
        element(out, "    ", "SPECIMENID", id);
        element(out, "    ", "SPECIMENCATEGORY", category.as_str());
        if let Some(c) = &s.comment {
            element(out, "    ", "SPECIMENCOMMENT", c);
        }
        let default_info = LocusInfo::default();
        let mut value = String::with_capacity(16);
        for locus in s.write_order() {
            let Some(g) = p.genotype(locus) else { continue };
            let info = s.locus_info(locus).unwrap_or(&default_info);
            self.render_locus(out, locus, g, info, s, &mut value)?;
        }
        out.extend_from_slice(b"  </SPECIMEN>\n");
        Ok(())
    }

    fn render_locus(
        &self,
        out: &mut Vec<u8>,
        locus: Locus,
        g: &tandem_core::Genotype,
        info: &LocusInfo,
        s: &CmfSpecimen,
        value: &mut String,
    ) -> Result<(), WriteError> {
        use std::fmt::Write as _;
        let release = self.release;
        let id = s.profile.id().as_str();
        let sp = Some(id);
        let spelling = s.profile.spelling(locus);
        let lo = Some(spelling);
        let name = release.locus_spelling(locus, spelling).ok_or_else(|| {
            invalid(
                sp,
                None,
                format!("locus {spelling}"),
                Problem::LocusNotInRelease { release },
            )
        })?;
        if let Some(b) = &info.batch_id {
            check(b, 0, release::MAX_BATCH_ID, "BATCHID", sp, lo)?;
        }
        if let Some(k) = &info.kit
            && !release.allows_kit(k)
        {
            return Err(invalid(
                sp,
                lo,
                format!("KIT '{k}'"),
                Problem::KitNotInRelease { release },
            ));
        }
        let by = info.reading_by.as_deref().unwrap_or(&self.header.submit_by);
        check(by, 1, release::MAX_USER, "READINGBY", sp, lo)?;
        let when = info.reading_datetime.unwrap_or(self.header.submit_datetime);

        out.extend_from_slice(b"    <LOCUS");
        if let Some(b) = &info.batch_id {
            attribute(out, "BATCHID", b);
        }
        if let Some(k) = &info.kit {
            attribute(out, "KIT", k);
        }
        out.extend_from_slice(b">\n");
        element(out, "      ", "LOCUSNAME", name);
        element(out, "      ", "READINGBY", by);
        value.clear();
        let _ = write!(value, "{when}");
        element(out, "      ", "READINGDATETIME", value);
        let required = g.required();
        for &a in g.alleles() {
            value.clear();
            let _ = write!(value, "{a}");
            if chars(value) > release::MAX_ALLELE_VALUE {
                return Err(invalid(
                    sp,
                    lo,
                    format!("allele value '{value}'"),
                    Problem::TooLong {
                        max: release::MAX_ALLELE_VALUE,
                        found: chars(value),
                    },
                ));
            }
            if required == Some(a) {
                out.extend_from_slice(b"      <ALLELE ALLELEREQUIRED=\"true\">\n");
            } else {
                out.extend_from_slice(b"      <ALLELE>\n");
            }
            element(out, "        ", "ALLELEVALUE", value);
            out.extend_from_slice(b"      </ALLELE>\n");
        }
        out.extend_from_slice(b"    </LOCUS>\n");
        Ok(())
    }

    /// Writes the closing tag and returns the output. CMF requires at least one specimen.
    pub fn finish(mut self) -> Result<W, WriteError> {
        if self.count == 0 {
            return Err(invalid(None, None, "the batch".into(), Problem::NoSpecimen));
        }
        self.out.write_all(b"</CODISImportFile>\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes a header and specimens as one CMF file (see [`CmfWriter`]); the first specimen that
/// breaks a rule stops the writing.
pub fn write_all<W: Write>(
    out: W,
    header: &Header,
    specimens: &[CmfSpecimen],
    opts: WriteOptions,
) -> Result<W, WriteError> {
    let mut w = CmfWriter::new(out, header, opts)?;
    for s in specimens {
        w.write(s)?;
    }
    w.finish()
}
