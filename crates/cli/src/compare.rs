//! `tandem compare`: every pair of profiles of a database, counted by loci matching fully and
//! partially (the DNAtools `dbCompare` job), and the pairs above a threshold.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use tandem_core::compare::{CompareOptions, Comparison, PairHit};

use crate::Outcome;
use crate::db;
use crate::io::{self, ReadFlags};
use crate::rmp::{Format, parse_loci};

/// Arguments of `tandem compare`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The database (a lab table, CMF file or index file).
    #[arg(long, value_name = "PATH")]
    pub db: PathBuf,
    /// List the pairs with at least N fully matching loci.
    #[arg(long, value_name = "N")]
    pub hit: Option<usize>,
    /// Write the listed pairs to this file (TSV: a, b, matching, partial) instead of stdout.
    #[arg(long, value_name = "PATH", requires = "hit")]
    pub pairs: Option<PathBuf>,
    /// Loci to compare: a kit or panel name (`CODIS 13`) or loci separated by commas (default:
    /// every autosomal locus of the database).
    #[arg(long, value_name = "LIST")]
    pub loci: Option<String>,
    /// Output format: TSV (`matching partial pairs`, then the listed pairs after a blank line
    /// when --hit is given without --pairs) or one JSON object.
    #[arg(long, value_enum, default_value_t = Format::Tsv)]
    pub format: Format,
    #[command(flatten)]
    pub read: ReadFlags,
}

/// Runs `tandem compare`.
pub fn run(args: &Args) -> Result<Outcome> {
    let loci = args.loci.as_deref().map(parse_loci).transpose()?;
    let index = db::load_index(&args.db, args.read, 0)?;
    let t = Instant::now();
    let c = index.compare_all(&CompareOptions {
        hit: args.hit,
        loci,
    });
    let secs = t.elapsed().as_secs_f64();
    if std::io::stderr().is_terminal() {
        eprintln!(
            "tandem: {} pairs at {} loci in {secs:.3} s ({:.3e} pairs/s)",
            c.pairs,
            c.loci.len(),
            c.pairs as f64 / secs.max(1e-9)
        );
    }
    if let Some(path) = &args.pairs {
        io::write_atomically(path, |f| {
            write_pairs(f, &c.hits).with_context(|| format!("cannot write {}", path.display()))
        })?;
    }
    match write(&mut io::stdout(), args, &c) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        w => w?,
    }
    Ok(Outcome::Success)
}

fn write_pairs(out: &mut dyn Write, hits: &[PairHit]) -> std::io::Result<()> {
    writeln!(out, "a\tb\tmatching\tpartial")?;
    for h in hits {
        writeln!(out, "{}\t{}\t{}\t{}", h.a, h.b, h.matching, h.partial)?;
    }
    out.flush()
}

fn write(out: &mut impl Write, args: &Args, c: &Comparison) -> std::io::Result<()> {
    match args.format {
        Format::Tsv => {
            writeln!(out, "matching\tpartial\tpairs")?;
            for (m, p, n) in c.matrix.cells() {
                writeln!(out, "{m}\t{p}\t{n}")?;
            }
            if args.hit.is_some() && args.pairs.is_none() {
                writeln!(out)?;
                write_pairs(out, &c.hits)?;
            }
        }
        Format::Json => {
            let record = serde_json::json!({
                "loci": c.loci,
                "pairs": c.pairs,
                "matrix": c.matrix.cells().map(|(m, p, n)| serde_json::json!({"matching": m, "partial": p, "pairs": n})).collect::<Vec<_>>(),
                "hits": if args.pairs.is_none() { serde_json::to_value(&c.hits)? } else { serde_json::Value::Null },
            });
            serde_json::to_writer(&mut *out, &record)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()
}
