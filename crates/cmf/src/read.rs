//! The streaming CMF reader: the header on opening, then one [`CmfSpecimen`] at a time.
//!
//! Memory stays flat whatever the file's size: one specimen is held at a time, plus 24 bytes per
//! specimen id seen (to reject a repeated id, as the schema's `UNIQUE_SPEC` constraint does).

use std::collections::VecDeque;
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use quick_xml::events::{BytesStart, Event};
use rustc_hash::{FxBuildHasher, FxHashMap};
use tandem_core::genotype::MAX_ALLELES;
use tandem_core::locus::LocusError;
use tandem_core::{Allele, Genotype, Locus, Profile, ProfileId, SpecimenCategory};

use crate::error::{Location, Problem, ReadError};
use crate::release::{self, Release};
use crate::specimen::{CmfDateTime, CmfSpecimen, Header, LocusInfo, SourceId};

/// The CMF namespace (`targetNamespace` of the schema).
pub const NAMESPACE: &str = "urn:CODISImportFile-schema";

/// How to read a CMF file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Which release's limits and lists apply (default: the later releases, a superset of 3.2
    /// except for 3.2's "Deduced Victim Known" category).
    pub release: Release,
    /// Accept locus names that are not known loci as custom loci (see
    /// [`Locus::lookup_or_custom`]).
    pub allow_custom_loci: bool,
}

/// A [`BufRead`] that counts the bytes consumed and remembers where recent lines start, so that
/// a byte offset near the read position turns into a line and column.
struct Counting<R> {
    inner: R,
    consumed: u64,
    /// Newlines consumed so far.
    lines: u64,
    /// Offsets of the most recent newlines (at most `RECENT`).
    recent: VecDeque<u64>,
}

const RECENT: usize = 4096;

impl<R: BufRead> Counting<R> {
    fn line_col(&self, offset: u64) -> (u64, u64) {
        // newlines at or after `offset` among the recent ones
        let after = self
            .recent
            .iter()
            .rev()
            .take_while(|&&nl| nl >= offset)
            .count() as u64;
        let line = self.lines - after + 1;
        let line_start = self
            .recent
            .iter()
            .rev()
            .find(|&&nl| nl < offset)
            .map_or(if self.lines - after == 0 { 0 } else { offset }, |&nl| {
                nl + 1
            });
        (line, offset.saturating_sub(line_start) + 1)
    }
}

impl<R: BufRead> io::Read for Counting<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let buf = self.fill_buf()?;
            let n = buf.len().min(out.len());
            out[..n].copy_from_slice(&buf[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            let amt = amt.min(buf.len());
            for i in memchr::memchr_iter(b'\n', &buf[..amt]) {
                if self.recent.len() == RECENT {
                    self.recent.pop_front();
                }
                self.recent.push_back(self.consumed + i as u64);
                self.lines += 1;
            }
        }
        self.consumed += amt as u64;
        self.inner.consume(amt);
    }
}

/// The CMF elements (local names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Root,
    HeaderVersion,
    MessageType,
    DestinationOri,
    SourceLab,
    SubmitByUserId,
    SubmitDateTime,
    BatchId,
    Kit,
    Specimen,
    SpecimenId,
    SpecimenCategory,
    SpecimenComment,
    Locus,
    LocusName,
    ReadingBy,
    ReadingDateTime,
    Allele,
    AlleleValue,
    Other,
}

impl Tag {
    fn from_local(name: &[u8]) -> Tag {
        match name {
            b"CODISImportFile" => Tag::Root,
            b"HEADERVERSION" => Tag::HeaderVersion,
            b"MESSAGETYPE" => Tag::MessageType,
            b"DESTINATIONORI" => Tag::DestinationOri,
            b"SOURCELAB" => Tag::SourceLab,
            b"SUBMITBYUSERID" => Tag::SubmitByUserId,
            b"SUBMITDATETIME" => Tag::SubmitDateTime,
            b"BATCHID" => Tag::BatchId,
            b"KIT" => Tag::Kit,
            b"SPECIMEN" => Tag::Specimen,
            b"SPECIMENID" => Tag::SpecimenId,
            b"SPECIMENCATEGORY" => Tag::SpecimenCategory,
            b"SPECIMENCOMMENT" => Tag::SpecimenComment,
            b"LOCUS" => Tag::Locus,
            b"LOCUSNAME" => Tag::LocusName,
            b"READINGBY" => Tag::ReadingBy,
            b"READINGDATETIME" => Tag::ReadingDateTime,
            b"ALLELE" => Tag::Allele,
            b"ALLELEVALUE" => Tag::AlleleValue,
            _ => Tag::Other,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Tag::Root => "CODISImportFile",
            Tag::HeaderVersion => "HEADERVERSION",
            Tag::MessageType => "MESSAGETYPE",
            Tag::DestinationOri => "DESTINATIONORI",
            Tag::SourceLab => "SOURCELAB",
            Tag::SubmitByUserId => "SUBMITBYUSERID",
            Tag::SubmitDateTime => "SUBMITDATETIME",
            Tag::BatchId => "BATCHID",
            Tag::Kit => "KIT",
            Tag::Specimen => "SPECIMEN",
            Tag::SpecimenId => "SPECIMENID",
            Tag::SpecimenCategory => "SPECIMENCATEGORY",
            Tag::SpecimenComment => "SPECIMENCOMMENT",
            Tag::Locus => "LOCUS",
            Tag::LocusName => "LOCUSNAME",
            Tag::ReadingBy => "READINGBY",
            Tag::ReadingDateTime => "READINGDATETIME",
            Tag::Allele => "ALLELE",
            Tag::AlleleValue => "ALLELEVALUE",
            Tag::Other => "?",
        }
    }
}

/// A simplified event: element starts and ends, stray text, the end of input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ev {
    Start { tag: Tag, empty: bool, offset: u64 },
    End { tag: Tag, offset: u64 },
    Text { offset: u64 },
    Eof { offset: u64 },
}

impl Ev {
    fn offset(self) -> u64 {
        match self {
            Ev::Start { offset, .. }
            | Ev::End { offset, .. }
            | Ev::Text { offset }
            | Ev::Eof { offset } => offset,
        }
    }
}

/// An attribute of the last start tag: its local name, value and offset.
struct Attr {
    name: Vec<u8>,
    value: String,
    offset: u64,
}

/// The streaming CMF reader. Open it with [`CmfReader::open`] or [`CmfReader::new`] (which
/// read the header), then take specimens with [`CmfReader::next_specimen`] or as an iterator.
///
/// After an error inside a specimen the reader has skipped to the end of that specimen, so a
/// lenient caller can go on with the next one; after an error it cannot recover from (broken
/// XML, a bad header) it returns `None`.
pub struct CmfReader<R: BufRead> {
    xml: quick_xml::Reader<Counting<R>>,
    buf: Vec<u8>,
    file: String,
    opts: ReadOptions,
    header: Header,
    peeked: Option<Ev>,
    attrs: Vec<Attr>,
    /// Name of the last unknown element.
    other: String,
    text: String,
    /// Element depth (the root is depth 1 while open).
    depth: usize,
    /// The XML path stack: element and its 1-based index among same-named siblings.
    path: Vec<(Tag, u32)>,
    /// Count of each child tag under the current specimen / locus (for path indexes).
    specimen_no: u32,
    /// The text element just read: value errors name it in the path.
    leaf: Option<Tag>,
    locus_no: u32,
    allele_no: u32,
    /// Hashes of the specimen ids seen, with their lines.
    seen: FxHashMap<u128, u64>,
    /// Locus names already looked up, exactly as spelt in the file.
    loci_seen: FxHashMap<String, Locus>,
    done: bool,
}

impl CmfReader<BufReader<File>> {
    /// Opens a CMF file and reads its header; errors name the file by its path.
    pub fn open(path: &Path, opts: ReadOptions) -> Result<Self, ReadError> {
        let name = path.display().to_string();
        match File::open(path) {
            Ok(f) => CmfReader::new(BufReader::with_capacity(1 << 16, f), &name, opts),
            Err(source) => Err(ReadError::Io { file: name, source }),
        }
    }
}

fn chars(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

fn id_hash(id: &str) -> u128 {
    let a = FxBuildHasher.hash_one(id);
    let mut h = std::hash::DefaultHasher::new();
    h.write(id.as_bytes());
    (u128::from(a) << 64) | u128::from(h.finish())
}

impl<R: BufRead> CmfReader<R> {
    /// Starts reading CMF from `reader` and reads the header; `file` names the input in errors.
    /// A UTF-8 byte-order mark is skipped.
    pub fn new(reader: R, file: &str, opts: ReadOptions) -> Result<Self, ReadError> {
        let counting = Counting {
            inner: reader,
            consumed: 0,
            lines: 0,
            recent: VecDeque::new(),
        };
        let mut xml = quick_xml::Reader::from_reader(counting);
        let config = xml.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        config.trim_text(false);
        let placeholder = Header {
            version: String::new(),
            destination_ori: String::new(),
            source_lab: String::new(),
            submit_by: String::new(),
            submit_datetime: CmfDateTime::now(),
            batch_id: None,
            kit: None,
        };
        let mut r = CmfReader {
            xml,
            buf: Vec::with_capacity(1024),
            file: file.to_string(),
            opts,
            header: placeholder,
            peeked: None,
            attrs: Vec::new(),
            other: String::new(),
            text: String::new(),
            depth: 0,
            path: Vec::with_capacity(8),
            specimen_no: 0,
            leaf: None,
            locus_no: 0,
            allele_no: 0,
            seen: FxHashMap::default(),
            loci_seen: FxHashMap::default(),
            done: false,
        };
        r.read_header()?;
        Ok(r)
    }

    /// The batch header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The options the reader was opened with.
    pub fn options(&self) -> ReadOptions {
        self.opts
    }

    /// Bytes of input consumed so far.
    pub fn bytes_read(&self) -> u64 {
        self.xml.get_ref().consumed
    }

    // ---- positions and errors ----

    fn location(&self, offset: u64) -> Location {
        let (line, column) = self.xml.get_ref().line_col(offset);
        let mut path = String::new();
        for (tag, n) in &self.path {
            path.push('/');
            path.push_str(if *tag == Tag::Other {
                &self.other
            } else {
                tag.name()
            });
            if *n > 0 {
                path.push_str(&format!("[{n}]"));
            }
        }
        if let Some(leaf) = self.leaf {
            path.push('/');
            path.push_str(leaf.name());
        }
        Location {
            file: self.file.clone(),
            line,
            column,
            path,
        }
    }

    fn line_of(&self, offset: u64) -> u64 {
        self.xml.get_ref().line_col(offset).0
    }

    fn invalid(
        &self,
        offset: u64,
        specimen: Option<&str>,
        locus: Option<&str>,
        what: String,
        problem: Problem,
    ) -> ReadError {
        ReadError::Invalid {
            location: Box::new(self.location(offset)),
            specimen: specimen.map(str::to_string),
            locus: locus.map(str::to_string),
            what,
            problem,
        }
    }

    fn malformed(&self, offset: u64, reason: String) -> ReadError {
        ReadError::Malformed {
            location: Box::new(self.location(offset)),
            reason,
        }
    }

    fn xml_error(&self, offset: u64, e: quick_xml::Error) -> ReadError {
        match e {
            quick_xml::Error::Io(source) => ReadError::Io {
                file: self.file.clone(),
                source: io::Error::new(source.kind(), source.to_string()),
            },
            other => self.malformed(offset, other.to_string()),
        }
    }

    // ---- events ----

    /// Reads one raw event with its start offset; `None` for comments, processing instructions
    /// and the XML declaration.
    fn raw_once<'b>(
        &mut self,
        buf: &'b mut Vec<u8>,
    ) -> Result<Option<(Event<'b>, u64)>, ReadError> {
        let before = self.xml.get_ref().consumed;
        buf.clear();
        let ev = match self.xml.read_event_into(buf) {
            Ok(ev) => ev,
            Err(e) => return Err(self.xml_error(before, e)),
        };
        let after = self.xml.get_ref().consumed;
        let offset = match &ev {
            Event::Start(e) => after.saturating_sub(e.len() as u64 + 2),
            Event::Empty(e) => after.saturating_sub(e.len() as u64 + 3),
            Event::End(e) => after.saturating_sub(e.len() as u64 + 3),
            Event::GeneralRef(e) => after.saturating_sub(e.len() as u64 + 2),
            _ => before,
        };
        match ev {
            Event::Comment(_) | Event::PI(_) => Ok(None),
            Event::Decl(ref d) => {
                if let Some(Ok(enc)) = d.encoding()
                    && !enc.eq_ignore_ascii_case(b"utf-8")
                    && !enc.eq_ignore_ascii_case(b"utf8")
                {
                    let name = String::from_utf8_lossy(&enc).into_owned();
                    return Err(self.invalid(
                        offset,
                        None,
                        None,
                        format!("encoding '{name}'"),
                        Problem::Encoding,
                    ));
                }
                Ok(None)
            }
            Event::DocType(_) => {
                Err(self.invalid(offset, None, None, "<!DOCTYPE>".into(), Problem::Doctype))
            }
            other => Ok(Some((other, offset))),
        }
    }

    /// The next element start or end, stray text or the end of input; white space skipped.
    fn next_ev(&mut self) -> Result<Ev, ReadError> {
        self.leaf = None;
        if let Some(ev) = self.peeked.take() {
            return Ok(ev);
        }
        let mut buf = std::mem::take(&mut self.buf);
        let result = self.next_ev_in(&mut buf);
        self.buf = buf;
        result
    }

    fn next_ev_in(&mut self, buf: &mut Vec<u8>) -> Result<Ev, ReadError> {
        loop {
            let Some((ev, offset)) = self.raw_once(buf)? else {
                continue;
            };
            let out = match ev {
                Event::Start(ref e) => {
                    let tag = self.start_tag(e, offset)?;
                    self.depth += 1;
                    Ev::Start {
                        tag,
                        empty: false,
                        offset,
                    }
                }
                Event::Empty(ref e) => {
                    let tag = self.start_tag(e, offset)?;
                    Ev::Start {
                        tag,
                        empty: true,
                        offset,
                    }
                }
                Event::End(ref e) => {
                    self.depth = self.depth.saturating_sub(1);
                    Ev::End {
                        tag: Tag::from_local(e.local_name().as_ref()),
                        offset,
                    }
                }
                Event::Text(ref t) => {
                    if t.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    Ev::Text { offset }
                }
                Event::CData(_) | Event::GeneralRef(_) => Ev::Text { offset },
                Event::Eof => Ev::Eof { offset },
                _ => continue,
            };
            return Ok(out);
        }
    }

    fn peek_ev(&mut self) -> Result<Ev, ReadError> {
        let ev = self.next_ev()?;
        self.peeked = Some(ev);
        Ok(ev)
    }

    /// Records the tag and attributes of a start tag.
    fn start_tag(&mut self, e: &BytesStart<'_>, offset: u64) -> Result<Tag, ReadError> {
        let tag = Tag::from_local(e.local_name().as_ref());
        if tag == Tag::Other {
            self.other = String::from_utf8_lossy(e.name().as_ref()).into_owned();
        }
        self.attrs.clear();
        let raw = e.attributes_raw();
        let raw_start = offset + 1 + (e.len() - raw.len()) as u64;
        for a in e.attributes() {
            let a = match a {
                Ok(a) => a,
                Err(err) => return Err(self.malformed(offset, err.to_string())),
            };
            let key = a.key.as_ref();
            let at = memchr::memmem::find(raw, key).map_or(offset, |i| raw_start + i as u64);
            let value = match a.unescape_value() {
                Ok(v) => v.into_owned(),
                Err(err) => return Err(self.malformed(at, err.to_string())),
            };
            self.attrs.push(Attr {
                name: key.to_vec(),
                value,
                offset: at,
            });
        }
        Ok(tag)
    }

    /// Reads the text of an element whose start tag was just read (`empty` for `<X/>`), up to
    /// its end tag; returns the offset of the text (or of the end tag when there is none).
    fn read_text(&mut self, empty: bool, start: u64) -> Result<u64, ReadError> {
        self.text.clear();
        if empty {
            return Ok(start);
        }
        let mut buf = std::mem::take(&mut self.buf);
        let result = self.read_text_in(&mut buf);
        self.buf = buf;
        result
    }

    fn read_text_in(&mut self, buf: &mut Vec<u8>) -> Result<u64, ReadError> {
        let mut first: Option<u64> = None;
        loop {
            let Some((ev, offset)) = self.raw_once(buf)? else {
                continue;
            };
            match ev {
                Event::Text(t) => {
                    first.get_or_insert(offset);
                    match std::str::from_utf8(&t) {
                        Ok(s) => self.text.push_str(s),
                        Err(_) => {
                            return Err(self.invalid(
                                offset,
                                None,
                                None,
                                "text".into(),
                                Problem::NotUtf8,
                            ));
                        }
                    }
                }
                Event::CData(t) => {
                    first.get_or_insert(offset);
                    match std::str::from_utf8(&t) {
                        Ok(s) => self.text.push_str(s),
                        Err(_) => {
                            return Err(self.invalid(
                                offset,
                                None,
                                None,
                                "CDATA".into(),
                                Problem::NotUtf8,
                            ));
                        }
                    }
                }
                Event::GeneralRef(r) => {
                    first.get_or_insert(offset);
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c),
                        Ok(None) => match r.as_ref() {
                            b"lt" => Some('<'),
                            b"gt" => Some('>'),
                            b"amp" => Some('&'),
                            b"apos" => Some('\''),
                            b"quot" => Some('"'),
                            _ => None,
                        },
                        Err(_) => None,
                    };
                    match resolved {
                        Some(c) => self.text.push(c),
                        None => {
                            let name = String::from_utf8_lossy(r.as_ref()).into_owned();
                            return Err(self.invalid(
                                offset,
                                None,
                                None,
                                format!("entity '&{name};'"),
                                Problem::UnknownEntity,
                            ));
                        }
                    }
                }
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(first.unwrap_or(offset));
                }
                Event::Start(e) | Event::Empty(e) => {
                    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    return Err(self.invalid(
                        offset,
                        None,
                        None,
                        format!("element <{name}>"),
                        Problem::UnexpectedElement {
                            expected: "text only",
                        },
                    ));
                }
                Event::Eof => return Err(self.malformed(offset, "unexpected end of file".into())),
                _ => {}
            }
        }
    }

    fn describe(&self, ev: Ev) -> String {
        match ev {
            Ev::Start {
                tag: Tag::Other, ..
            } => format!("element <{}>", self.other),
            Ev::Start { tag, .. } => format!("element <{}>", tag.name()),
            Ev::End {
                tag: Tag::Other, ..
            } => "end of the element".to_string(),
            Ev::End { tag, .. } => format!("end of <{}>", tag.name()),
            Ev::Text { .. } => "text".to_string(),
            Ev::Eof { .. } => "end of file".to_string(),
        }
    }

    /// Expects the start of `tag`; returns (empty, offset).
    fn expect_start(
        &mut self,
        tag: Tag,
        expected: &'static str,
        specimen: Option<&str>,
        locus: Option<&str>,
    ) -> Result<(bool, u64), ReadError> {
        let ev = self.next_ev()?;
        match ev {
            Ev::Start {
                tag: t,
                empty,
                offset,
            } if t == tag => Ok((empty, offset)),
            Ev::Eof { offset } => Err(self.malformed(offset, "unexpected end of file".into())),
            other => {
                let what = self.describe(other);
                let problem = if matches!(other, Ev::Text { .. }) {
                    Problem::UnexpectedText
                } else {
                    Problem::UnexpectedElement { expected }
                };
                Err(self.invalid(other.offset(), specimen, locus, what, problem))
            }
        }
    }

    /// Expects a text element `tag`; returns its offset (text in `self.text`).
    fn text_element(
        &mut self,
        tag: Tag,
        expected: &'static str,
        specimen: Option<&str>,
        locus: Option<&str>,
    ) -> Result<u64, ReadError> {
        let (empty, offset) = self.expect_start(tag, expected, specimen, locus)?;
        self.path.push((tag, 0));
        self.reject_attributes(specimen, locus)?;
        let at = self
            .read_text(empty, offset)
            .map_err(|e| self.with_context(e, specimen, locus));
        self.path.pop();
        self.leaf = Some(tag);
        at
    }

    fn with_context(&self, e: ReadError, sp: Option<&str>, lo: Option<&str>) -> ReadError {
        match e {
            ReadError::Invalid {
                location,
                specimen,
                locus,
                what,
                problem,
            } => ReadError::Invalid {
                location,
                specimen: specimen.or(sp.map(str::to_string)),
                locus: locus.or(lo.map(str::to_string)),
                what,
                problem,
            },
            other => other,
        }
    }

    fn reject_attributes(
        &self,
        specimen: Option<&str>,
        locus: Option<&str>,
    ) -> Result<(), ReadError> {
        match self.attrs.iter().find(|a| !is_namespace_attr(&a.name)) {
            None => Ok(()),
            Some(a) => Err(self.invalid(
                a.offset,
                specimen,
                locus,
                format!("attribute {}", String::from_utf8_lossy(&a.name)),
                Problem::UnknownAttribute,
            )),
        }
    }

    /// Checks a text value's length (in characters) and emptiness.
    #[allow(clippy::too_many_arguments)]
    fn check_len(
        &self,
        value: &str,
        min: usize,
        max: usize,
        what: &str,
        offset: u64,
        specimen: Option<&str>,
        locus: Option<&str>,
    ) -> Result<(), ReadError> {
        let n = chars(value);
        if n < min {
            return Err(self.invalid(offset, specimen, locus, what.to_string(), Problem::Empty));
        }
        if n > max {
            return Err(self.invalid(
                offset,
                specimen,
                locus,
                format!("{what} '{value}'"),
                Problem::TooLong { max, found: n },
            ));
        }
        Ok(())
    }

    // ---- the header ----

    fn read_header(&mut self) -> Result<(), ReadError> {
        let (empty, offset) = match self.next_ev()? {
            Ev::Start {
                tag: Tag::Root,
                empty,
                offset,
            } => (empty, offset),
            Ev::Eof { offset } => {
                return Err(self.malformed(offset, "empty file, expected <CODISImportFile>".into()));
            }
            other => {
                let what = self.describe(other);
                return Err(self.invalid(
                    other.offset(),
                    None,
                    None,
                    what,
                    Problem::UnexpectedElement {
                        expected: "<CODISImportFile>",
                    },
                ));
            }
        };
        self.path.push((Tag::Root, 0));
        // the root's own prefix must be bound to the CMF namespace
        let root_ok = self
            .attrs
            .iter()
            .any(|a| is_namespace_attr(&a.name) && a.value == NAMESPACE);
        if !root_ok {
            return Err(self.invalid(
                offset,
                None,
                None,
                "<CODISImportFile>".into(),
                Problem::Namespace,
            ));
        }
        if let Some(a) = self
            .attrs
            .iter()
            .find(|a| !is_namespace_attr(&a.name) && a.name != b"xsi:schemaLocation")
        {
            return Err(self.invalid(
                a.offset,
                None,
                None,
                format!("attribute {}", String::from_utf8_lossy(&a.name)),
                Problem::UnknownAttribute,
            ));
        }
        if empty {
            return Err(self.malformed(offset, "<CODISImportFile/> has no content".into()));
        }

        let at = self.text_element(Tag::HeaderVersion, "<HEADERVERSION>", None, None)?;
        let version = self.text.trim().to_string();
        if !is_version(&version) {
            return Err(self.invalid(
                at,
                None,
                None,
                format!("HEADERVERSION '{}'", self.text),
                Problem::BadVersion,
            ));
        }
        let at = self.text_element(Tag::MessageType, "<MESSAGETYPE>", None, None)?;
        if self.text != "Import" {
            return Err(self.invalid(
                at,
                None,
                None,
                format!("MESSAGETYPE '{}'", self.text),
                Problem::Fixed { expected: "Import" },
            ));
        }
        let destination_ori =
            self.header_text(Tag::DestinationOri, "<DESTINATIONORI>", 1, release::MAX_LAB)?;
        let source_lab = self.header_text(Tag::SourceLab, "<SOURCELAB>", 1, release::MAX_LAB)?;
        let submit_by = self.header_text(
            Tag::SubmitByUserId,
            "<SUBMITBYUSERID>",
            1,
            release::MAX_USER,
        )?;
        let at = self.text_element(Tag::SubmitDateTime, "<SUBMITDATETIME>", None, None)?;
        let submit_datetime = self.datetime("SUBMITDATETIME", at, None, None)?;
        let mut batch_id = None;
        let mut kit = None;
        if matches!(
            self.peek_ev()?,
            Ev::Start {
                tag: Tag::BatchId,
                ..
            }
        ) {
            batch_id =
                Some(self.header_text(Tag::BatchId, "<BATCHID>", 0, release::MAX_BATCH_ID)?);
        }
        if matches!(self.peek_ev()?, Ev::Start { tag: Tag::Kit, .. }) {
            let at = self.text_element(Tag::Kit, "<KIT>", None, None)?;
            let value = std::mem::take(&mut self.text);
            self.check_kit(&value, "KIT", at, None, None)?;
            kit = Some(value);
        }
        self.header = Header {
            version,
            destination_ori,
            source_lab,
            submit_by,
            submit_datetime,
            batch_id,
            kit,
        };
        match self.peek_ev()? {
            Ev::Start {
                tag: Tag::Specimen, ..
            } => Ok(()),
            Ev::End {
                tag: Tag::Root,
                offset,
            } => Err(self.invalid(
                offset,
                None,
                None,
                "<CODISImportFile>".into(),
                Problem::NoSpecimen,
            )),
            other => {
                self.peeked = None;
                let what = self.describe(other);
                let expected = if self.header.kit.is_some() {
                    "<SPECIMEN>"
                } else if self.header.batch_id.is_some() {
                    "<KIT> or <SPECIMEN>"
                } else {
                    "<BATCHID>, <KIT> or <SPECIMEN>"
                };
                Err(self.invalid(
                    other.offset(),
                    None,
                    None,
                    what,
                    Problem::UnexpectedElement { expected },
                ))
            }
        }
    }

    fn header_text(
        &mut self,
        tag: Tag,
        expected: &'static str,
        min: usize,
        max: usize,
    ) -> Result<String, ReadError> {
        let at = self.text_element(tag, expected, None, None)?;
        let value = std::mem::take(&mut self.text);
        self.check_len(&value, min, max, tag.name(), at, None, None)?;
        Ok(value)
    }

    fn datetime(
        &self,
        what: &str,
        at: u64,
        specimen: Option<&str>,
        locus: Option<&str>,
    ) -> Result<CmfDateTime, ReadError> {
        self.text.parse::<CmfDateTime>().map_err(|e| {
            self.invalid(
                at,
                specimen,
                locus,
                format!("{what} '{}'", self.text),
                Problem::BadDateTime(e.reason),
            )
        })
    }

    fn check_kit(
        &self,
        value: &str,
        what: &str,
        at: u64,
        specimen: Option<&str>,
        locus: Option<&str>,
    ) -> Result<(), ReadError> {
        self.check_len(value, 0, release::MAX_KIT, what, at, specimen, locus)?;
        if !value.is_empty() && !self.opts.release.allows_kit(value) {
            return Err(self.invalid(
                at,
                specimen,
                locus,
                format!("{what} '{value}'"),
                Problem::KitNotInRelease {
                    release: self.opts.release,
                },
            ));
        }
        Ok(())
    }

    // ---- specimens ----

    /// Reads the next specimen: `None` at the end of the file or after an error the reader
    /// cannot recover from.
    pub fn next_specimen(&mut self) -> Option<Result<CmfSpecimen, ReadError>> {
        if self.done {
            return None;
        }
        let ev = match self.next_ev() {
            Ok(ev) => ev,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        match ev {
            Ev::Start {
                tag: Tag::Specimen,
                empty,
                offset,
            } => {
                self.specimen_no += 1;
                self.path.truncate(1);
                self.path.push((Tag::Specimen, self.specimen_no));
                let depth = self.depth;
                let result = self.specimen(empty, offset);
                if result.is_err() {
                    if let Err(e) = self.skip_to_depth(depth.saturating_sub(usize::from(!empty))) {
                        self.done = true;
                        self.path.truncate(1);
                        return Some(Err(e));
                    }
                    if let Some(Err(ReadError::Malformed { .. } | ReadError::Io { .. })) =
                        Some(&result)
                    {
                        self.done = true;
                    }
                }
                self.path.truncate(1);
                Some(result)
            }
            Ev::End { tag: Tag::Root, .. } => {
                self.done = true;
                self.path.clear();
                // only white space, comments and processing instructions may follow
                match self.next_ev() {
                    Ok(Ev::Eof { .. }) => None,
                    Ok(other) => {
                        let what = self.describe(other);
                        Some(Err(self.invalid(
                            other.offset(),
                            None,
                            None,
                            what,
                            Problem::UnexpectedElement {
                                expected: "nothing after </CODISImportFile>",
                            },
                        )))
                    }
                    Err(e) => Some(Err(e)),
                }
            }
            Ev::Eof { offset } => {
                self.done = true;
                Some(Err(self.malformed(
                    offset,
                    "unexpected end of file, </CODISImportFile> missing".into(),
                )))
            }
            other => {
                self.done = true;
                let what = self.describe(other);
                let problem = if matches!(other, Ev::Text { .. }) {
                    Problem::UnexpectedText
                } else {
                    Problem::UnexpectedElement {
                        expected: "<SPECIMEN> or </CODISImportFile>",
                    }
                };
                Some(Err(self.invalid(other.offset(), None, None, what, problem)))
            }
        }
    }

    /// After an error inside a specimen: skips events until the element depth is back to
    /// `depth` (the depth outside the specimen).
    fn skip_to_depth(&mut self, depth: usize) -> Result<(), ReadError> {
        self.peeked = None;
        while self.depth > depth {
            if let Ev::Eof { offset } = self.next_ev()? {
                return Err(self.malformed(offset, "unexpected end of file".into()));
            }
        }
        Ok(())
    }

    fn specimen(&mut self, empty: bool, start: u64) -> Result<CmfSpecimen, ReadError> {
        // attributes: SOURCEID, CASEID, PARTIAL
        let mut source_id = None;
        let mut case_id = None;
        let mut partial = false;
        let attrs = std::mem::take(&mut self.attrs);
        let mut attr_error = None;
        for a in &attrs {
            let problem = match a.name.as_slice() {
                b"SOURCEID" => match a.value.parse::<SourceId>() {
                    Ok(s) => {
                        source_id = Some(s);
                        None
                    }
                    Err(()) => Some(("SOURCEID", Problem::BadSourceId)),
                },
                b"CASEID" => {
                    let n = chars(&a.value);
                    if n > release::MAX_CASE_ID {
                        Some((
                            "CASEID",
                            Problem::TooLong {
                                max: release::MAX_CASE_ID,
                                found: n,
                            },
                        ))
                    } else {
                        case_id = Some(a.value.clone());
                        None
                    }
                }
                b"PARTIAL" => match parse_bool(&a.value) {
                    Some(b) => {
                        partial = b;
                        None
                    }
                    None => Some(("PARTIAL", Problem::BadBoolean)),
                },
                name if is_namespace_attr(name) => None,
                _ => Some(("", Problem::UnknownAttribute)),
            };
            if let Some((what, problem)) = problem {
                let what = if what.is_empty() {
                    format!("attribute {}", String::from_utf8_lossy(&a.name))
                } else {
                    format!("{what} '{}'", a.value)
                };
                attr_error = Some((a.offset, what, problem));
                break;
            }
        }
        self.attrs = attrs;
        if empty {
            return Err(self.malformed(start, "<SPECIMEN/> has no content".into()));
        }

        let at = self.text_element(Tag::SpecimenId, "<SPECIMENID>", None, None)?;
        let id_text = std::mem::take(&mut self.text);
        self.check_len(
            &id_text,
            1,
            release::MAX_SPECIMEN_ID,
            "SPECIMENID",
            at,
            None,
            None,
        )?;
        let id = ProfileId::new(&id_text).map_err(|e| {
            self.invalid(
                at,
                None,
                None,
                format!("SPECIMENID '{id_text}'"),
                Problem::BadSpecimenId(e.reason),
            )
        })?;
        let sp = Some(id_text.as_str());
        if let Some((offset, what, problem)) = attr_error {
            return Err(self.invalid(offset, sp, None, what, problem));
        }
        let key = id_hash(&id_text);
        let line = self.line_of(at);
        if let Some(&first_line) = self.seen.get(&key) {
            return Err(self.invalid(
                at,
                sp,
                None,
                format!("specimen id '{id_text}'"),
                Problem::DuplicateSpecimen { first_line },
            ));
        }
        self.seen.insert(key, line);

        let at = self.text_element(Tag::SpecimenCategory, "<SPECIMENCATEGORY>", sp, None)?;
        let category = self.category(at, sp)?;
        let mut comment = None;
        if matches!(
            self.peek_ev()?,
            Ev::Start {
                tag: Tag::SpecimenComment,
                ..
            }
        ) {
            let at = self.text_element(Tag::SpecimenComment, "<SPECIMENCOMMENT>", sp, None)?;
            let value = std::mem::take(&mut self.text);
            self.check_len(
                &value,
                0,
                release::MAX_COMMENT,
                "SPECIMENCOMMENT",
                at,
                sp,
                None,
            )?;
            comment = Some(value);
        }

        let mut profile = Profile::new(id)
            .with_category(category)
            .with_partial(partial);
        let mut loci: Vec<(Locus, LocusInfo)> = Vec::new();
        let mut lines: Vec<u64> = Vec::new();
        self.locus_no = 0;
        loop {
            match self.next_ev()? {
                Ev::Start {
                    tag: Tag::Locus,
                    empty,
                    offset,
                } => {
                    self.locus_no += 1;
                    if self.locus_no as usize > self.opts.release.max_loci() {
                        return Err(self.invalid(
                            offset,
                            sp,
                            None,
                            format!("LOCUS {}", self.locus_no),
                            Problem::TooManyLoci {
                                max: self.opts.release.max_loci(),
                                release: self.opts.release,
                            },
                        ));
                    }
                    self.path.push((Tag::Locus, self.locus_no));
                    let (locus, info, spelling, genotype) = self.locus(empty, offset, &id_text)?;
                    self.path.pop();
                    if let Some(k) = loci.iter().position(|(l, _)| *l == locus) {
                        return Err(self.invalid(
                            offset,
                            sp,
                            Some(&spelling),
                            format!("locus {locus}"),
                            Problem::DuplicateLocus {
                                first_line: lines[k],
                            },
                        ));
                    }
                    lines.push(self.line_of(offset));
                    profile.set_genotype(locus, genotype);
                    profile.set_spelling(locus, &spelling);
                    loci.push((locus, info));
                }
                Ev::End {
                    tag: Tag::Specimen,
                    offset,
                } => {
                    if loci.is_empty() {
                        return Err(self.invalid(
                            offset,
                            sp,
                            None,
                            "<SPECIMEN>".into(),
                            Problem::NoLocus,
                        ));
                    }
                    break;
                }
                other => {
                    let what = self.describe(other);
                    let expected = match (loci.is_empty(), comment.is_some()) {
                        (true, false) => "<SPECIMENCOMMENT> or <LOCUS>",
                        (true, true) => "<LOCUS>",
                        (false, _) => "<LOCUS> or </SPECIMEN>",
                    };
                    let problem = if matches!(other, Ev::Text { .. }) {
                        Problem::UnexpectedText
                    } else {
                        Problem::UnexpectedElement { expected }
                    };
                    if let Ev::Eof { offset } = other {
                        return Err(self.malformed(offset, "unexpected end of file".into()));
                    }
                    return Err(self.invalid(other.offset(), sp, None, what, problem));
                }
            }
        }
        Ok(CmfSpecimen {
            profile,
            source_id,
            case_id,
            comment,
            loci,
        })
    }

    fn category(&self, at: u64, sp: Option<&str>) -> Result<SpecimenCategory, ReadError> {
        let value = self.text.as_str();
        let release = self.opts.release;
        let max = release.max_category();
        let n = chars(value);
        if n == 0 {
            return Err(self.invalid(at, sp, None, "SPECIMENCATEGORY".into(), Problem::Empty));
        }
        if n > max {
            return Err(self.invalid(
                at,
                sp,
                None,
                format!("SPECIMENCATEGORY '{value}'"),
                Problem::TooLong { max, found: n },
            ));
        }
        match value.parse::<SpecimenCategory>() {
            Ok(c) if release.allows_category(c) => Ok(c),
            Ok(_) => Err(self.invalid(
                at,
                sp,
                None,
                format!("SPECIMENCATEGORY '{value}'"),
                Problem::CategoryNotInRelease { release },
            )),
            Err(e) => Err(self.invalid(
                at,
                sp,
                None,
                format!("SPECIMENCATEGORY '{value}'"),
                Problem::BadCategory { closest: e.closest },
            )),
        }
    }

    /// Reads one LOCUS element (its start tag just read).
    fn locus(
        &mut self,
        empty: bool,
        start: u64,
        specimen: &str,
    ) -> Result<(Locus, LocusInfo, String, Genotype), ReadError> {
        let sp = Some(specimen);
        let mut info = LocusInfo::default();
        let attrs = std::mem::take(&mut self.attrs);
        let mut attr_error = None;
        for a in &attrs {
            match a.name.as_slice() {
                b"BATCHID" => {
                    let n = chars(&a.value);
                    if n > release::MAX_BATCH_ID {
                        attr_error = Some((
                            a.offset,
                            format!("BATCHID '{}'", a.value),
                            Problem::TooLong {
                                max: release::MAX_BATCH_ID,
                                found: n,
                            },
                        ));
                    } else {
                        info.batch_id = Some(a.value.clone());
                    }
                }
                b"KIT" => info.kit = Some(a.value.clone()),
                name if is_namespace_attr(name) => {}
                _ => {
                    attr_error = Some((
                        a.offset,
                        format!("attribute {}", String::from_utf8_lossy(&a.name)),
                        Problem::UnknownAttribute,
                    ))
                }
            }
            if attr_error.is_some() {
                break;
            }
        }
        let kit_at = attrs
            .iter()
            .find(|a| a.name == b"KIT")
            .map_or(start, |a| a.offset);
        self.attrs = attrs;
        if empty {
            return Err(self.invalid(start, sp, None, "<LOCUS/>".into(), Problem::NoAllele));
        }
        let at = self.text_element(Tag::LocusName, "<LOCUSNAME>", sp, None)?;
        let name = std::mem::take(&mut self.text);
        self.check_len(&name, 1, release::MAX_LOCUS_NAME, "LOCUSNAME", at, sp, None)?;
        let spelling = name.trim().to_string();
        let lo = Some(spelling.as_str());
        let cached = self.loci_seen.get(name.as_str()).copied();
        let locus = match cached {
            Some(l) => Ok(l),
            None => Locus::parse_with(&name, self.opts.allow_custom_loci),
        };
        let locus = locus.map_err(|e| {
            let reason = match &e {
                LocusError::Unknown { closest, .. } if !closest.is_empty() => {
                    format!("unknown locus; did you mean {}?", closest.join(", "))
                }
                LocusError::Unknown { .. } => "unknown locus".to_string(),
                LocusError::Invalid { reason, .. } => (*reason).to_string(),
                _ => e.to_string(),
            };
            self.invalid(
                at,
                sp,
                None,
                format!("LOCUSNAME '{name}'"),
                Problem::BadLocus(reason),
            )
        })?;
        if cached.is_none() && self.loci_seen.len() < 256 {
            self.loci_seen.insert(name.clone(), locus);
        }
        if let Some((offset, what, problem)) = attr_error {
            return Err(self.invalid(offset, sp, lo, what, problem));
        }
        if let Some(kit) = info.kit.clone() {
            self.check_kit(&kit, "KIT", kit_at, sp, lo)?;
        }
        let at = self.text_element(Tag::ReadingBy, "<READINGBY>", sp, lo)?;
        let by = std::mem::take(&mut self.text);
        self.check_len(&by, 1, release::MAX_USER, "READINGBY", at, sp, lo)?;
        info.reading_by = Some(by);
        let at = self.text_element(Tag::ReadingDateTime, "<READINGDATETIME>", sp, lo)?;
        info.reading_datetime = Some(self.datetime("READINGDATETIME", at, sp, lo)?);

        let amel = locus.is_amelogenin();
        let mut alleles: [Allele; MAX_ALLELES] = [Allele::Wildcard; MAX_ALLELES];
        let mut n = 0usize;
        let mut required: Option<Allele> = None;
        self.allele_no = 0;
        loop {
            match self.next_ev()? {
                Ev::Start {
                    tag: Tag::Allele,
                    empty,
                    offset,
                } => {
                    self.allele_no += 1;
                    self.path.push((Tag::Allele, self.allele_no));
                    if n == MAX_ALLELES {
                        return Err(self.invalid(
                            offset,
                            sp,
                            lo,
                            format!("ALLELE {}", n + 1),
                            Problem::TooManyAlleles { max: MAX_ALLELES },
                        ));
                    }
                    // ALLELEREQUIRED
                    let mut is_required = false;
                    for a in &self.attrs {
                        match a.name.as_slice() {
                            b"ALLELEREQUIRED" => match parse_bool(&a.value) {
                                Some(b) => is_required = b,
                                None => {
                                    return Err(self.invalid(
                                        a.offset,
                                        sp,
                                        lo,
                                        format!("ALLELEREQUIRED '{}'", a.value),
                                        Problem::BadBoolean,
                                    ));
                                }
                            },
                            name if is_namespace_attr(name) => {}
                            _ => {
                                return Err(self.invalid(
                                    a.offset,
                                    sp,
                                    lo,
                                    format!("attribute {}", String::from_utf8_lossy(&a.name)),
                                    Problem::UnknownAttribute,
                                ));
                            }
                        }
                    }
                    if empty {
                        return Err(self.invalid(
                            offset,
                            sp,
                            lo,
                            "<ALLELE/>".into(),
                            Problem::UnexpectedElement {
                                expected: "<ALLELEVALUE>",
                            },
                        ));
                    }
                    let at = self.text_element(Tag::AlleleValue, "<ALLELEVALUE>", sp, lo)?;
                    let value = self.text.as_str();
                    let len = chars(value);
                    let what = || format!("allele value '{value}'");
                    if len == 0 {
                        return Err(self.invalid(at, sp, lo, what(), Problem::Empty));
                    }
                    if len > release::MAX_ALLELE_VALUE {
                        return Err(self.invalid(
                            at,
                            sp,
                            lo,
                            what(),
                            Problem::TooLong {
                                max: release::MAX_ALLELE_VALUE,
                                found: len,
                            },
                        ));
                    }
                    let parsed = match Allele::parse_repeat_bytes(value.as_bytes()) {
                        Some(a) if !amel => Ok(a),
                        _ if amel => Allele::parse_amelogenin(value),
                        _ => Allele::parse(value),
                    };
                    let allele = parsed.map_err(|e| {
                        self.invalid(at, sp, lo, what(), Problem::BadAllele(e.reason))
                    })?;
                    if n > 0 {
                        let previous = alleles[n - 1];
                        if allele == previous {
                            return Err(self.invalid(at, sp, lo, what(), Problem::RepeatedAllele));
                        }
                        if allele < previous {
                            return Err(self.invalid(
                                at,
                                sp,
                                lo,
                                what(),
                                Problem::NotLadderOrder {
                                    previous: previous.to_string(),
                                },
                            ));
                        }
                    }
                    if is_required {
                        if let Some(first) = required {
                            return Err(self.invalid(
                                at,
                                sp,
                                lo,
                                what(),
                                Problem::TwoRequired {
                                    first: first.to_string(),
                                },
                            ));
                        }
                        required = Some(allele);
                    }
                    alleles[n] = allele;
                    n += 1;
                    match self.next_ev()? {
                        Ev::End {
                            tag: Tag::Allele, ..
                        } => {}
                        other => {
                            let what = self.describe(other);
                            return Err(self.invalid(
                                other.offset(),
                                sp,
                                lo,
                                what,
                                Problem::UnexpectedElement {
                                    expected: "</ALLELE>",
                                },
                            ));
                        }
                    }
                    self.path.pop();
                }
                Ev::End {
                    tag: Tag::Locus,
                    offset,
                } => {
                    if n == 0 {
                        return Err(self.invalid(
                            offset,
                            sp,
                            lo,
                            "<LOCUS>".into(),
                            Problem::NoAllele,
                        ));
                    }
                    break;
                }
                Ev::Eof { offset } => {
                    return Err(self.malformed(offset, "unexpected end of file".into()));
                }
                other => {
                    let what = self.describe(other);
                    let expected = if n == 0 {
                        "<ALLELE>"
                    } else {
                        "<ALLELE> or </LOCUS>"
                    };
                    let problem = if matches!(other, Ev::Text { .. }) {
                        Problem::UnexpectedText
                    } else {
                        Problem::UnexpectedElement { expected }
                    };
                    return Err(self.invalid(other.offset(), sp, lo, what, problem));
                }
            }
        }
        let genotype = match Genotype::new(&alleles[..n]) {
            Ok(g) => g,
            Err(_) => {
                return Err(self.invalid(
                    start,
                    sp,
                    lo,
                    "<LOCUS>".into(),
                    Problem::TooManyAlleles { max: MAX_ALLELES },
                ));
            }
        };
        let genotype = match required {
            Some(r) => genotype.with_required(r).unwrap_or(genotype),
            None => genotype,
        };
        Ok((locus, info, spelling, genotype))
    }
}

impl<R: BufRead> Iterator for CmfReader<R> {
    type Item = Result<CmfSpecimen, ReadError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_specimen()
    }
}

/// `xmlns`, `xmlns:*`, `xsi:*` and `xml:*` attributes, which any element may carry.
fn is_namespace_attr(name: &[u8]) -> bool {
    name == b"xmlns"
        || name.starts_with(b"xmlns:")
        || name.starts_with(b"xsi:")
        || name.starts_with(b"xml:")
}

/// An XML Schema boolean (white space collapsed).
fn parse_bool(s: &str) -> Option<bool> {
    match s.trim() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// `CODISHeaderVersionType`: a decimal of at most 2 digits, at most 1 after the point.
fn is_version(s: &str) -> bool {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    !int.is_empty()
        && digits(int)
        && digits(frac)
        && frac.len() <= 1
        && int.trim_start_matches('0').len() + frac.len() <= 2
}

/// Everything a CMF file holds, read at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmfFile {
    /// The batch header.
    pub header: Header,
    /// The specimens read, in file order.
    pub specimens: Vec<CmfSpecimen>,
    /// The specimens rejected (lenient reading only), in file order.
    pub rejected: Vec<String>,
}

/// Reads a whole CMF input. Strict (`lenient == false`): the first error is returned and
/// nothing is kept. Lenient: every specimen that breaks a rule is skipped and reported in
/// [`CmfFile::rejected`]; errors the reader cannot recover from (broken XML, a bad header) are
/// still returned.
pub fn read_all<R: BufRead>(
    reader: R,
    file: &str,
    opts: ReadOptions,
    lenient: bool,
) -> Result<CmfFile, ReadError> {
    let mut r = CmfReader::new(reader, file, opts)?;
    let mut specimens = Vec::new();
    let mut rejected = Vec::new();
    while let Some(s) = r.next_specimen() {
        match s {
            Ok(s) => specimens.push(s),
            Err(e) if lenient && !r.done => rejected.push(e.to_string()),
            Err(e) => return Err(e),
        }
    }
    Ok(CmfFile {
        header: r.header,
        specimens,
        rejected,
    })
}

/// Reads a whole CMF file from a path (see [`read_all`]).
pub fn read_path(path: &Path, opts: ReadOptions, lenient: bool) -> Result<CmfFile, ReadError> {
    let name = path.display().to_string();
    match File::open(path) {
        Ok(f) => read_all(BufReader::with_capacity(1 << 16, f), &name, opts, lenient),
        Err(source) => Err(ReadError::Io { file: name, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_fast_repeat_with_parse_equivalence() {
        for s in [
            "13", "9.3", "13.0", "0", "0.0", "0.3", "013", "999", "999.9", "1000", "9.", ".3",
            "9.33", "1x", "9..3",
        ] {
            if let Some(a) = Allele::parse_repeat_bytes(s.as_bytes()) {
                assert_eq!(Allele::parse(s), Ok(a), "{s}");
            }
        }
        assert_eq!(Allele::parse_repeat_bytes(b"9.3"), Some(Allele::Repeat(93)));
        assert_eq!(Allele::parse_repeat_bytes(b"0"), None);
    }

    #[test]
    fn test_is_version() {
        for ok in ["3.2", "3", "10", "9.9", "03.2"] {
            assert!(is_version(ok), "{ok}");
        }
        for bad in ["3.25", "100", "", ".2", "a.b", "3,2"] {
            assert!(!is_version(bad), "{bad}");
        }
    }
}
