//! `tandem rmp`: the random match probability of every profile of a file, per locus and
//! combined, in one population or in every population of a frequency table (with the most
//! conservative one), or the CPI/CPE of mixtures. Also the helpers the statistics commands share
//! (frequency tables, populations, locus lists, output format).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tandem_core::freq::{FreqOptions, FreqTable, MinFrequency, Population};
use tandem_core::stats::{self, Log10, Model, ProfileRmp, RmpOptions, TwoPRule};
use tandem_core::{Kit, Locus, Profile};

use crate::Outcome;
use crate::db;
use crate::io::{self, ReadFlags};

/// The `--format` values of the statistics commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Tab-separated values with a header row.
    Tsv,
    /// JSON: one object per line.
    Json,
}

/// Frequency-table options shared by the statistics commands.
#[derive(Debug, Clone, clap::Args)]
pub struct FreqArgs {
    /// Minimum allele frequency: `nrc2` (5/2N, the default), a number, or `none`.
    #[arg(long, value_name = "RULE", default_value = "nrc2", value_parser = parse_min_freq)]
    pub min_freq: MinFrequencyArg,
}

/// A parsed `--min-freq`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinFrequencyArg(pub MinFrequency);

fn parse_min_freq(s: &str) -> Result<MinFrequencyArg, String> {
    match s.to_ascii_lowercase().as_str() {
        "nrc2" | "nrc" | "5/2n" => Ok(MinFrequencyArg(MinFrequency::Nrc2)),
        "none" | "off" | "0" => Ok(MinFrequencyArg(MinFrequency::None)),
        other => match other.parse::<f64>() {
            Ok(f) if (0.0..=1.0).contains(&f) => Ok(MinFrequencyArg(MinFrequency::Fixed(f))),
            _ => Err(format!(
                "expected nrc2, none or a frequency in [0, 1], got '{s}'"
            )),
        },
    }
}

/// Parses a probability in `[0, 1)`.
pub fn parse_unit(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..1.0).contains(&v) => Ok(v),
        Ok(_) => Err("must be in [0, 1)".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Reads a frequency table.
pub fn load_freq(path: &Path, args: &FreqArgs) -> Result<FreqTable> {
    Ok(FreqTable::read_path(
        path,
        &FreqOptions {
            min_frequency: args.min_freq.0,
        },
    )?)
}

/// One population of a table: the named one, or the only one.
pub fn population<'t>(
    table: &'t FreqTable,
    name: Option<&str>,
    path: &Path,
) -> Result<&'t Population> {
    table
        .select(name)
        .with_context(|| format!("{}", path.display()))
}

/// A locus list: a kit or panel name (`CODIS 13`, `GlobalFiler`) or loci separated by commas.
pub fn parse_loci(s: &str) -> Result<Vec<Locus>> {
    if let Ok(kit) = s.parse::<Kit>() {
        return Ok(kit.counted_loci());
    }
    let mut loci = Vec::new();
    for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let l = Locus::lookup(name).with_context(|| format!("--loci '{s}'"))?;
        if !l.is_counted() {
            bail!("--loci '{s}': {l} is not an autosomal locus");
        }
        loci.push(l);
    }
    if loci.is_empty() {
        bail!("--loci '{s}': no locus given");
    }
    loci.sort();
    loci.dedup();
    Ok(loci)
}

/// Arguments of `tandem rmp`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Profiles (a lab table, CMF file or index file).
    #[arg(long, value_name = "PATH")]
    pub profile: PathBuf,
    /// Allele frequency table (long or wide layout).
    #[arg(long, value_name = "PATH")]
    pub freq: PathBuf,
    /// The population; without it, every population of the table and the most conservative one.
    #[arg(long, value_name = "NAME")]
    pub population: Option<String>,
    /// Genotype model: hw (Hardy-Weinberg), nrc4.1 (NRC II recommendation 4.1, as CODIS Match
    /// Estimation) or nrc4.10 (NRC II equation 4.10, Balding-Nichols).
    #[arg(long, default_value = "nrc4.1", value_parser = |s: &str| s.parse::<Model>())]
    pub model: Model,
    /// Theta (F_ST) for the NRC II models (0.01; 0.03 for small isolated populations).
    #[arg(long, default_value_t = 0.01, value_parser = parse_unit)]
    pub theta: f64,
    /// When a single allele takes 2p: at partial profiles, always, or never.
    #[arg(long, value_enum, default_value_t = TwoPArg::Partial)]
    pub two_p: TwoPArg,
    /// Report the combined probability of inclusion (CPI/CPE) of mixtures instead of the RMP.
    #[arg(long)]
    pub cpi: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Tsv)]
    pub format: Format,
    #[command(flatten)]
    pub freq_args: FreqArgs,
    #[command(flatten)]
    pub read: ReadFlags,
}

/// The `--two-p` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TwoPArg {
    /// At single-allele loci of profiles flagged partial.
    Partial,
    /// At every single-allele locus.
    Always,
    /// Never.
    Never,
}

/// Runs `tandem rmp`.
pub fn run(args: &Args) -> Result<Outcome> {
    let table = load_freq(&args.freq, &args.freq_args)?;
    let pops: Vec<&Population> = match &args.population {
        Some(name) => vec![population(&table, Some(name), &args.freq)?],
        None => table.populations().iter().collect(),
    };
    let profiles = db::load_profiles(&args.profile, args.read)?;
    let opts = RmpOptions {
        model: args.model,
        theta: args.theta,
        two_p: match args.two_p {
            TwoPArg::Partial => TwoPRule::Partial,
            TwoPArg::Always => TwoPRule::Always,
            TwoPArg::Never => TwoPRule::Never,
        },
    };
    let mut out = io::stdout();
    let written = if args.cpi {
        write_cpi(&mut out, args, &profiles, &pops)
    } else {
        write_rmp(&mut out, args, &profiles, &pops, &opts)
    };
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        w => w?,
    }
    Ok(Outcome::Success)
}

fn write_rmp(
    out: &mut impl Write,
    args: &Args,
    profiles: &[Profile],
    pops: &[&Population],
    opts: &RmpOptions,
) -> std::io::Result<()> {
    if args.format == Format::Tsv {
        writeln!(
            out,
            "profile\tpopulation\tlocus\tgenotype\trule\trmp\tlog10_rmp"
        )?;
    }
    for p in profiles {
        let results: Vec<ProfileRmp> = pops
            .iter()
            .map(|pop| stats::profile_rmp(p, pop, opts))
            .collect();
        let conservative = results
            .iter()
            .enumerate()
            .fold(None, |best: Option<usize>, (i, r)| match best {
                Some(b) if results[b].combined >= r.combined => Some(b),
                _ => Some(i),
            });
        match args.format {
            Format::Tsv => {
                for r in &results {
                    for l in &r.loci {
                        let rule = serde_json::to_value(l.rule)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default();
                        let v = Log10::from_value(l.rmp);
                        writeln!(
                            out,
                            "{}\t{}\t{}\t{}\t{rule}\t{}\t{:.6}",
                            p.id(),
                            r.population,
                            l.locus,
                            l.genotype,
                            v.sci(4),
                            v.log10()
                        )?;
                    }
                    writeln!(
                        out,
                        "{}\t{}\tcombined\t-\t{} loci\t{}\t{:.6}",
                        p.id(),
                        r.population,
                        r.loci_used(),
                        r.combined.sci(4),
                        r.combined.log10()
                    )?;
                }
                if pops.len() > 1
                    && let Some(c) = conservative
                {
                    let r = &results[c];
                    writeln!(
                        out,
                        "{}\tconservative:{}\tcombined\t-\t{} loci\t{}\t{:.6}",
                        p.id(),
                        r.population,
                        r.loci_used(),
                        r.combined.sci(4),
                        r.combined.log10()
                    )?;
                }
            }
            Format::Json => {
                let record = serde_json::json!({
                    "profile": p.id(),
                    "model": args.model.to_string(),
                    "theta": args.theta,
                    "populations": results.iter().map(|r| serde_json::json!({
                        "population": r.population,
                        "loci": r.loci,
                        "rmp": r.combined.sci(4),
                        "log10_rmp": r.combined.log10(),
                        "log10_lr": r.lr().log10(),
                        "loci_used": r.loci_used(),
                    })).collect::<Vec<_>>(),
                    "conservative": conservative.map(|c| results[c].population.clone()),
                });
                serde_json::to_writer(&mut *out, &record)?;
                out.write_all(b"\n")?;
            }
        }
    }
    out.flush()
}

fn write_cpi(
    out: &mut impl Write,
    args: &Args,
    profiles: &[Profile],
    pops: &[&Population],
) -> std::io::Result<()> {
    if args.format == Format::Tsv {
        writeln!(out, "profile\tpopulation\tlocus\talleles\tp\tpi\tcpe")?;
    }
    for p in profiles {
        for pop in pops {
            let c = stats::cpi(p, pop, args.theta);
            match args.format {
                Format::Tsv => {
                    for l in &c.loci {
                        let pi = if l.used {
                            Log10::from_value(l.pi).sci(4)
                        } else {
                            "not used".to_string()
                        };
                        writeln!(
                            out,
                            "{}\t{}\t{}\t{}\t{:.6}\t{pi}\t-",
                            p.id(),
                            c.population,
                            l.locus,
                            l.genotype,
                            l.p
                        )?;
                    }
                    writeln!(
                        out,
                        "{}\t{}\tcombined\t-\t-\t{}\t{}",
                        p.id(),
                        c.population,
                        c.cpi.sci(4),
                        c.cpe
                    )?;
                }
                Format::Json => {
                    serde_json::to_writer(
                        &mut *out,
                        &serde_json::json!({
                            "profile": p.id(), "population": c.population, "theta": args.theta,
                            "loci": c.loci, "cpi": c.cpi.sci(4), "log10_cpi": c.cpi.log10(), "cpe": c.cpe,
                        }),
                    )?;
                    out.write_all(b"\n")?;
                }
            }
        }
    }
    out.flush()
}
