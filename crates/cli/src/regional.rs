//! `tandem regional`: merge national indexes into a regional index, list cross-border hits,
//! search the other countries, resolve references (in the owning country) and expunge.
//! `docs/REGIONAL.md` describes the data flow and the policy format.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args as ClapArgs, Subcommand};
use tandem_core::freq::{FreqOptions, FreqTable};
use tandem_core::stats::RmpOptions;
use tandem_core::{Country, Index, ProfileId, SearchOptions};
use tandem_regional::hits::{self, HitOptions, PairHit};
use tandem_regional::{MergeError, MergeOptions, MergeReport, National, Policy};

use crate::Outcome;
use crate::io::{self, ReadFlags, ReplaceFlags, WaitFlags};
use crate::search::{OutputFormat, StringencyArg};

/// `tandem regional` subcommands.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Merge national index files into a regional index (deterministic, atomic; unchanged
    /// content leaves the file alone). Prints the merge report on stdout.
    Merge {
        /// The regional index file to write.
        #[arg(long, value_name = "REGIONAL")]
        out: PathBuf,
        /// A national index: COUNTRY=PATH (ISO 3166 alpha-2), once per country. Its key
        /// (PATH.key) is created on first use and never leaves the country.
        #[arg(long, value_name = "CC=PATH", required = true)]
        national: Vec<National>,
        /// The sharing policy (TOML); without it every profile is shared.
        #[arg(long, value_name = "POLICY.toml")]
        policy: Option<PathBuf>,
        /// Also run the cross-border hit job (default rules) and count hits by category pair.
        #[arg(long)]
        with_hits: bool,
        /// Report format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Tsv)]
        format: OutputFormat,
        #[command(flatten)]
        explicit: MergeFlags,
    },
    /// Every matching pair of profiles from two different countries.
    Hits {
        /// The regional index.
        #[arg(long, value_name = "REGIONAL")]
        regional: PathBuf,
        #[command(flatten)]
        rules: Rules,
        /// Report same-country pairs too (the national system's job).
        #[arg(long)]
        same_country: bool,
        /// An allele-frequency table: adds the most conservative RMP at the matching loci.
        #[arg(long, value_name = "PATH")]
        freq: Option<PathBuf>,
        /// Output format: TSV with a header row, or one JSON object per pair and line.
        #[arg(long, value_enum, default_value_t = OutputFormat::Tsv)]
        format: OutputFormat,
    },
    /// A country searching the others: hit/no-hit per query, with references and match figures
    /// only.
    Search {
        /// The regional index.
        #[arg(long, value_name = "REGIONAL")]
        regional: PathBuf,
        /// The query profiles (any profile file or index).
        #[arg(long, value_name = "PATH")]
        query: PathBuf,
        /// The searching country: its own profiles are left out.
        #[arg(long, value_name = "CC")]
        from: Country,
        #[command(flatten)]
        rules: Rules,
        /// Report only the best N hits of each query.
        #[arg(long, value_name = "N")]
        top: Option<usize>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Tsv)]
        format: OutputFormat,
        #[command(flatten)]
        read: ReadFlags,
    },
    /// In the owning country: map references back to national specimen ids with the country key
    /// beside the national index.
    Resolve {
        /// The national index: COUNTRY=PATH.
        #[arg(long, value_name = "CC=PATH")]
        national: National,
        /// References to resolve.
        #[arg(long, num_args = 1.., required = true)]
        reference: Vec<String>,
    },
    /// Remove references from the regional index now (audit log beside it, no genetic data);
    /// later merges keep them out.
    Expunge {
        /// The regional index.
        #[arg(long, value_name = "REGIONAL")]
        regional: PathBuf,
        /// References to remove.
        #[arg(long, num_args = 1.., required_unless_present = "references_file")]
        reference: Vec<String>,
        /// A file with one reference per line.
        #[arg(long, value_name = "PATH", conflicts_with = "reference")]
        references_file: Option<PathBuf>,
        /// Why (court order, overturned conviction...).
        #[arg(long)]
        reason: String,
        /// Who asks (default: $USER).
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        wait: WaitFlags,
    },
}

/// What a merge does only when told explicitly (each recorded in the regional ledger).
#[derive(Debug, Clone, ClapArgs)]
struct MergeFlags {
    #[command(flatten)]
    replace: ReplaceFlags,
    #[command(flatten)]
    wait: WaitFlags,
    /// Drop this country's profiles from the regional index (it has no --national in this
    /// merge); without it, a country of the regional index left out is an error.
    #[arg(long, value_name = "CC")]
    drop_country: Vec<Country>,
    /// Mint a new key for this country, whose key file was lost: every reference of the
    /// country changes. Without it, a missing key of a country already in the regional index is
    /// an error.
    #[arg(long, value_name = "CC")]
    new_key_for: Vec<Country>,
    /// Who merges, as recorded in the ledger (default: $USER, $LOGNAME, else the passwd entry).
    #[arg(long)]
    user: Option<String>,
}

/// Matching rules shared by `hits` and `search`.
#[derive(Debug, Clone, ClapArgs)]
struct Rules {
    /// CODIS per-locus stringency.
    #[arg(long, value_enum, default_value_t = StringencyArg::Moderate, conflicts_with = "prum")]
    stringency: StringencyArg,
    /// Minimum loci compared, over the loci both profiles type (CODIS mode, default 8), or
    /// fully matching (Prüm mode, default 6).
    #[arg(long, value_name = "N")]
    min_loci: Option<usize>,
    /// Most loci allowed to fail the stringency.
    #[arg(long, value_name = "K", default_value_t = 0, conflicts_with = "prum")]
    max_mismatches: usize,
    /// Prüm mode: full and near matches.
    #[arg(long)]
    prum: bool,
}

impl Rules {
    fn options(&self) -> SearchOptions {
        let mut opts = if self.prum {
            SearchOptions::prum()
        } else {
            SearchOptions {
                stringency: self.stringency.into(),
                max_mismatches: self.max_mismatches,
                ..SearchOptions::default()
            }
        };
        if let Some(n) = self.min_loci {
            opts.min_loci = n;
        }
        opts
    }
}

/// Runs `tandem regional`.
pub fn run(args: &Args) -> Result<Outcome> {
    match &args.command {
        Command::Merge {
            out,
            national,
            policy,
            with_hits,
            format,
            explicit,
        } => merge(
            out,
            national,
            policy.as_ref(),
            *with_hits,
            *format,
            explicit,
        ),
        Command::Hits {
            regional,
            rules,
            same_country,
            freq,
            format,
        } => hits_cmd(regional, rules, *same_country, freq.as_ref(), *format),
        Command::Search {
            regional,
            query,
            from,
            rules,
            top,
            format,
            read,
        } => search(regional, query, *from, rules, *top, *format, *read),
        Command::Resolve {
            national,
            reference,
        } => resolve(national, reference),
        Command::Expunge {
            regional,
            reference,
            references_file,
            reason,
            user,
            wait,
        } => expunge(
            regional,
            reference,
            references_file.as_ref(),
            reason,
            user.as_deref(),
            wait,
        ),
    }
}

fn open_regional(path: &std::path::Path) -> Result<Index> {
    Index::open(path).with_context(|| format!("cannot open the regional index {}", path.display()))
}

fn merge(
    out: &std::path::Path,
    nationals: &[National],
    policy: Option<&PathBuf>,
    with_hits: bool,
    format: OutputFormat,
    explicit: &MergeFlags,
) -> Result<Outcome> {
    let wait = &explicit.wait;
    let options = MergeOptions {
        update: wait.options(explicit.replace)?,
        user: explicit.user.clone(),
        drop_countries: explicit.drop_country.clone(),
        new_key_for: explicit.new_key_for.clone(),
    };
    let t0 = Instant::now();
    let policy = match policy {
        Some(p) => Policy::read(p)?,
        None => Policy::share_all(),
    };
    let report = match tandem_regional::merge_with(
        out,
        nationals,
        &policy,
        &options,
        &mut io::waiting_message(out, wait.wait),
    ) {
        Ok(r) => r,
        Err(MergeError::Update(e)) => return Err(io::refusal_hint(e)),
        Err(e @ MergeError::WouldDropCountry { .. }) => {
            return Err(anyhow::anyhow!(
                "{e}; give its --national, or --drop-country to drop it on the record"
            ));
        }
        Err(e @ MergeError::KeyMissing { .. }) => {
            return Err(anyhow::anyhow!(
                "{e} (or, if it is lost for good, --new-key-for the country, on the record)"
            ));
        }
        Err(e) => {
            return Err(e)
                .with_context(|| format!("no regional index written to {}", out.display()));
        }
    };
    let merged = t0.elapsed();
    let by_pair = if with_hits {
        let index = open_regional(out)?;
        let pairs = hits::cross_border_hits(&index, &HitOptions::default(), None);
        Some(hits::by_category_pair(&pairs))
    } else {
        None
    };
    let reused = if report.reused > 0 {
        format!(", {} kept from the previous regional index", report.reused)
    } else {
        String::new()
    };
    eprintln!(
        "tandem: regional index {}: {} profiles from {} countries{}{reused} in {:.2?}",
        out.display(),
        report.regional_profiles,
        report.countries.len(),
        if report.changed { "" } else { " (unchanged)" },
        merged
    );
    let mut w = io::stdout();
    match write_report(&mut w, &report, by_pair.as_ref(), format) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        r => r?,
    }
    Ok(Outcome::Success)
}

/// The merge report: TSV in long form (`section, country, category, reason, count`) or one
/// JSON object.
fn write_report(
    w: &mut impl Write,
    report: &MergeReport,
    by_pair: Option<&std::collections::BTreeMap<(String, String), usize>>,
    format: OutputFormat,
) -> std::io::Result<()> {
    if format == OutputFormat::Json {
        let pairs: Option<Vec<serde_json::Value>> = by_pair.map(|m| {
            m.iter()
                .map(|((a, b), n)| serde_json::json!({"categories": [a, b], "hits": n}))
                .collect()
        });
        let v = serde_json::json!({"report": report, "cross_border_hits_by_category_pair": pairs});
        serde_json::to_writer(&mut *w, &v)?;
        writeln!(w)?;
        return w.flush();
    }
    writeln!(w, "section\tcountry\tcategory\treason\tcount")?;
    for c in &report.countries {
        let rows = c
            .categories
            .iter()
            .map(|(k, v)| (k.as_str(), v))
            .chain([("*", &c.total)]);
        for (cat, counts) in rows {
            writeln!(w, "national\t{}\t{cat}\t\t{}", c.country, counts.national)?;
            writeln!(w, "shared\t{}\t{cat}\t\t{}", c.country, counts.shared)?;
            for (reason, n) in &counts.withheld {
                writeln!(
                    w,
                    "withheld\t{}\t{cat}\t{}\t{n}",
                    c.country,
                    reason.as_str()
                )?;
            }
        }
    }
    writeln!(w, "regional\t*\t*\t\t{}", report.regional_profiles)?;
    writeln!(
        w,
        "duplicates\t*\t*\tsame_genotypes\t{}",
        report.duplicate_groups
    )?;
    writeln!(
        w,
        "duplicates\t*\t*\tcross_border\t{}",
        report.cross_border_duplicate_groups
    )?;
    if let Some(m) = by_pair {
        for ((a, b), n) in m {
            writeln!(w, "hits\t*\t{a} / {b}\t\t{n}")?;
        }
    }
    w.flush()
}

/// The TSV header of `regional hits`.
const HITS_HEADER: &str = "country_a\treference_a\tcategory_a\tcountry_b\treference_b\tcategory_b\tloci_compared\tloci_matched\tloci_mismatched\tprum_quality\trmp";

fn hits_cmd(
    regional: &std::path::Path,
    rules: &Rules,
    same_country: bool,
    freq: Option<&PathBuf>,
    format: OutputFormat,
) -> Result<Outcome> {
    let index = open_regional(regional)?;
    let table = freq
        .map(|p| FreqTable::read_path(p, &FreqOptions::default()))
        .transpose()?;
    let t0 = Instant::now();
    let rmp_opts = RmpOptions::default();
    let opts = HitOptions {
        search: rules.options(),
        same_country,
    };
    let pairs = hits::cross_border_hits(&index, &opts, table.as_ref().map(|t| (t, &rmp_opts)));
    eprintln!(
        "tandem: {} cross-border pairs among {} profiles in {:.2?}",
        pairs.len(),
        index.len(),
        t0.elapsed()
    );
    let mut w = io::stdout();
    match write_pairs(&mut w, &pairs, format) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        r => r?,
    }
    Ok(if pairs.is_empty() {
        Outcome::NoHits
    } else {
        Outcome::Success
    })
}

fn write_pairs(w: &mut impl Write, pairs: &[PairHit], format: OutputFormat) -> std::io::Result<()> {
    if format == OutputFormat::Tsv {
        writeln!(w, "{HITS_HEADER}")?;
    }
    let cat = |c: Option<tandem_core::SpecimenCategory>| c.map_or("", |c| c.as_str());
    for p in pairs {
        match format {
            OutputFormat::Tsv => writeln!(
                w,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                p.a.country,
                p.a.reference,
                cat(p.a.category),
                p.b.country,
                p.b.reference,
                cat(p.b.category),
                p.loci_compared,
                p.loci_matched,
                p.loci_mismatched,
                p.prum.map(|q| q.to_string()).unwrap_or_default(),
                p.rmp.map(|r| r.sci(3)).unwrap_or_default()
            )?,
            OutputFormat::Json => {
                let mut v = serde_json::to_value(p)?;
                if let (Some(r), Some(o)) = (p.rmp, v.as_object_mut()) {
                    o.insert("rmp".into(), serde_json::json!(r.sci(3)));
                    o.insert("log10_rmp".into(), serde_json::json!(r.log10()));
                }
                serde_json::to_writer(&mut *w, &v)?;
                writeln!(w)?;
            }
        }
    }
    w.flush()
}

#[allow(clippy::too_many_arguments)]
fn search(
    regional: &std::path::Path,
    query: &std::path::Path,
    from: Country,
    rules: &Rules,
    top: Option<usize>,
    format: OutputFormat,
    read: ReadFlags,
) -> Result<Outcome> {
    let queries = crate::db::load_profiles(query, read)?;
    if queries.is_empty() {
        io::warn_all(&[format!("{}: no query profile", query.display())]);
    }
    let mut index = open_regional(regional)?;
    if queries.len() >= 32 {
        index.build_postings();
    }
    let mut opts = rules.options();
    opts.top = top;
    let results = hits::search_from(&index, &queries, from, &opts);
    let found: usize = results.iter().map(Vec::len).sum();
    let mut w = io::stdout();
    let written = (|| -> std::io::Result<()> {
        if format == OutputFormat::Tsv {
            writeln!(
                w,
                "query\tresult\tcountry\treference\tloci_compared\tloci_matched\tloci_mismatched\tprum_quality"
            )?;
        }
        for (q, hits) in queries.iter().zip(&results) {
            match format {
                OutputFormat::Tsv if hits.is_empty() => {
                    writeln!(w, "{}\tno_hit\t\t\t\t\t\t", q.id())?;
                }
                OutputFormat::Tsv => {
                    for h in hits {
                        writeln!(
                            w,
                            "{}\thit\t{}\t{}\t{}\t{}\t{}\t{}",
                            q.id(),
                            h.country,
                            h.reference,
                            h.loci_compared,
                            h.loci_matched,
                            h.loci_mismatched,
                            h.prum.map(|p| p.to_string()).unwrap_or_default()
                        )?;
                    }
                }
                OutputFormat::Json => {
                    let v = serde_json::json!({
                        "query": q.id().as_str(),
                        "result": if hits.is_empty() { "no_hit" } else { "hit" },
                        "hits": hits,
                    });
                    serde_json::to_writer(&mut w, &v)?;
                    writeln!(w)?;
                }
            }
        }
        w.flush()
    })();
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        r => r?,
    }
    Ok(if found == 0 {
        Outcome::NoHits
    } else {
        Outcome::Success
    })
}

fn resolve(national: &National, references: &[String]) -> Result<Outcome> {
    let resolved = tandem_regional::resolve(&national.path, national.country, references)
        .with_context(|| format!("cannot resolve against {}", national.path.display()))?;
    let mut w = io::stdout();
    let mut missing = 0;
    let written = (|| -> std::io::Result<()> {
        writeln!(w, "reference\tspecimen")?;
        for r in &resolved {
            match &r.specimen {
                Some(s) => writeln!(w, "{}\t{s}", r.reference)?,
                None => {
                    missing += 1;
                    writeln!(w, "{}\t", r.reference)?;
                }
            }
        }
        w.flush()
    })();
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        r => r?,
    }
    if missing > 0 {
        io::warn_all(&[format!(
            "{missing} reference(s) match no live profile of {}",
            national.path.display()
        )]);
        return Ok(Outcome::NoHits);
    }
    Ok(Outcome::Success)
}

fn expunge(
    regional: &std::path::Path,
    references: &[String],
    file: Option<&PathBuf>,
    reason: &str,
    user: Option<&str>,
    wait: &WaitFlags,
) -> Result<Outcome> {
    let options = wait.options(ReplaceFlags::default())?;
    let mut list: Vec<String> = references.to_vec();
    if let Some(f) = file {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        list.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from),
        );
    }
    let mut ids = Vec::with_capacity(list.len());
    for r in &list {
        let id = ProfileId::new(r)
            .ok()
            .filter(|id| tandem_regional::key::reference_country(id).is_some());
        match id {
            Some(id) => ids.push(id),
            None => bail!("'{r}' is not a regional reference (CC- and 24 hex digits)"),
        }
    }
    let user = tandem_core::index::ledger::identity(user)?;
    let left = tandem_regional::expunge_with(
        regional,
        &ids,
        reason,
        &user,
        &options,
        &mut io::waiting_message(regional, wait.wait),
    )
    .map_err(|e| match e {
        tandem_core::index::ledger::ExpungeError::Update(u) => io::refusal_hint(u),
        e => e.into(),
    })?;
    eprintln!(
        "tandem: removed {} reference(s) from {}; {left} profiles left (audit log {})",
        ids.len(),
        regional.display(),
        tandem_core::index::ledger::log_path(regional).display()
    );
    Ok(Outcome::Success)
}
