//! `tandem expect`: the expected (m, p) matrix of a database of N people (Weir 2004;
//! Tvedebrink et al. 2012), with theta and an optional fraction of related pairs.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Result, bail};
use tandem_core::compare::{ExpectOptions, expected_matrix};
use tandem_core::kinship::Relationship;

use crate::Outcome;
use crate::io;
use crate::rmp::{Format, FreqArgs, load_freq, parse_loci, parse_unit, population};

/// Arguments of `tandem expect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Allele frequency table.
    #[arg(long, value_name = "PATH")]
    pub freq: PathBuf,
    /// The population (needed when the table has several).
    #[arg(long, value_name = "NAME")]
    pub population: Option<String>,
    /// Loci: a kit or panel name (`CODIS 13`) or loci separated by commas.
    #[arg(long, value_name = "LIST")]
    pub loci: String,
    /// Profiles in the database.
    #[arg(long, value_name = "N")]
    pub n: u64,
    /// Theta (F_ST).
    #[arg(long, default_value_t = 0.0, value_parser = parse_unit)]
    pub theta: f64,
    /// A fraction of the pairs that are relatives: RELATIONSHIP:FRACTION, e.g.
    /// `full-sibling:0.0001`.
    #[arg(long, value_name = "REL:FRACTION")]
    pub relatives: Option<String>,
    /// Output format: TSV (`matching partial expected`) or one JSON object.
    #[arg(long, value_enum, default_value_t = Format::Tsv)]
    pub format: Format,
    #[command(flatten)]
    pub freq_args: FreqArgs,
}

fn parse_relatives(s: &str) -> Result<(Relationship, f64)> {
    let Some((rel, frac)) = s.rsplit_once(':') else {
        bail!("--relatives '{s}': expected RELATIONSHIP:FRACTION, e.g. full-sibling:0.001");
    };
    let rel: Relationship = rel.parse()?;
    let frac: f64 = match frac.parse() {
        Ok(f) if (0.0..=1.0).contains(&f) => f,
        _ => bail!("--relatives '{s}': the fraction must be a number in [0, 1]"),
    };
    Ok((rel, frac))
}

/// Runs `tandem expect`.
pub fn run(args: &Args) -> Result<Outcome> {
    let loci = parse_loci(&args.loci)?;
    let relatives = args.relatives.as_deref().map(parse_relatives).transpose()?;
    let table = load_freq(&args.freq, &args.freq_args)?;
    let pop = population(&table, args.population.as_deref(), &args.freq)?;
    let m = expected_matrix(
        pop,
        &loci,
        args.n,
        &ExpectOptions {
            theta: args.theta,
            relatives,
        },
    )?;
    let mut out = io::stdout();
    let written = (|| -> std::io::Result<()> {
        match args.format {
            Format::Tsv => {
                writeln!(out, "matching\tpartial\texpected")?;
                for (mm, p, v) in m.cells() {
                    writeln!(out, "{mm}\t{p}\t{v:e}")?;
                }
            }
            Format::Json => {
                let record = serde_json::json!({
                    "population": pop.name(), "loci": loci, "n": args.n, "theta": args.theta,
                    "matrix": m.cells().map(|(mm, p, v)| serde_json::json!({"matching": mm, "partial": p, "expected": v})).collect::<Vec<_>>(),
                });
                serde_json::to_writer(&mut out, &record)?;
                out.write_all(b"\n")?;
            }
        }
        out.flush()
    })();
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        w => w?,
    }
    Ok(Outcome::Success)
}
