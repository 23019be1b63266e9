//! `tandem simulate`: a synthetic database drawn from a frequency table: unrelated people, their
//! relatives (with mutation), mixtures, and degraded copies; deterministic for a seed.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use rand::Rng as _;
use tandem_core::simulate::{AllelePools, Simulator, degrade, mixture};
use tandem_core::{Kit, Locus, Profile, ProfileId};

use crate::Outcome;
use crate::rmp::{FreqArgs, load_freq, parse_unit, population};

/// Arguments of `tandem simulate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Allele frequency table.
    #[arg(long, value_name = "PATH")]
    pub freq: PathBuf,
    /// The population (needed when the table has several).
    #[arg(long, value_name = "NAME")]
    pub population: Option<String>,
    /// Unrelated people.
    #[arg(long, value_name = "N")]
    pub count: usize,
    /// Seed: the same seed and arguments give the same file.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// Loci: a kit or panel name (`GlobalFiler`, `CODIS 20`) or loci separated by commas
    /// (default: every locus of the population).
    #[arg(long, value_name = "PANEL")]
    pub loci: Option<String>,
    /// Relatives of randomly chosen people: RELATIONSHIP:COUNT,... with parent-child,
    /// full-sibling, half-sibling, first-cousin (e.g. `parent-child:100,full-sibling:50`).
    #[arg(long, value_name = "SPEC")]
    pub relatives: Option<String>,
    /// Mixtures of randomly chosen people: CONTRIBUTORS:COUNT,... (e.g. `2:10,3:5`).
    #[arg(long, value_name = "SPEC")]
    pub mixtures: Option<String>,
    /// Degrade every profile written: LOCUS_DROPOUT,ALLELE_DROPOUT probabilities (e.g.
    /// `0.05,0.08`: 5% of loci missing, 8% of heterozygous loci showing one allele).
    #[arg(long, value_name = "L,A")]
    pub dropout: Option<String>,
    /// Single-step mutation rate per transmitted allele (relatives).
    #[arg(long, default_value_t = 0.002, value_parser = parse_unit)]
    pub mutation_rate: f64,
    /// Specimen id prefix of the unrelated people.
    #[arg(long, default_value = "SIM")]
    pub prefix: String,
    /// The table to write (wide layout, one row per profile).
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
    /// Also write the true relationships (TSV: a, b, relationship) here.
    #[arg(long, value_name = "PATH")]
    pub truth: Option<PathBuf>,
    #[command(flatten)]
    pub freq_args: FreqArgs,
}

fn spec_list(s: &str, what: &str) -> Result<Vec<(String, usize)>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, n)) = part.rsplit_once(':') else {
            bail!("--{what} '{s}': expected NAME:COUNT, got '{part}'")
        };
        let n: usize = n
            .trim()
            .parse()
            .with_context(|| format!("--{what} '{s}': '{n}' is not a count"))?;
        out.push((name.trim().to_string(), n));
    }
    Ok(out)
}

/// Runs `tandem simulate`.
pub fn run(args: &Args) -> Result<Outcome> {
    let table = load_freq(&args.freq, &args.freq_args)?;
    let pop = population(&table, args.population.as_deref(), &args.freq)?;
    let pools = AllelePools::from_frequencies(pop.pool_rows())
        .with_context(|| format!("{}", args.freq.display()))?;
    let loci: Vec<Locus> = match &args.loci {
        None => pools.loci().collect(),
        Some(s) => match s.parse::<Kit>() {
            Ok(kit) => kit.loci(),
            Err(_) => s
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(Locus::lookup)
                .collect::<Result<_, _>>()
                .with_context(|| format!("--loci '{s}'"))?,
        },
    };
    let dropout = match &args.dropout {
        None => None,
        Some(s) => {
            let parts: Vec<Result<f64, _>> = s.split(',').map(|x| parse_unit(x.trim())).collect();
            match parts.as_slice() {
                [Ok(l), Ok(a)] => Some((*l, *a)),
                _ => bail!(
                    "--dropout '{s}': expected LOCUS_DROPOUT,ALLELE_DROPOUT, two probabilities in [0, 1)"
                ),
            }
        }
    };
    let sim = Simulator::new(pools, args.seed);
    let mut people = sim.unrelated(args.count, &loci, &args.prefix)?;
    let mut truth: Vec<(ProfileId, ProfileId, String)> = Vec::new();
    let mut rng = sim.rng(1);
    if let Some(spec) = &args.relatives {
        if args.count == 0 {
            bail!("--relatives needs at least one unrelated person (--count)");
        }
        for (name, n) in spec_list(spec, "relatives")? {
            let (tag, label) = match name.to_ascii_lowercase().replace('_', "-").as_str() {
                "parent-child" | "parent" | "pc" => ("PC", "parent-child"),
                "full-sibling" | "sibling" | "fs" => ("FS", "full-sibling"),
                "half-sibling" | "hs" => ("HS", "half-sibling"),
                "first-cousin" | "cousin" | "fc" => ("FC", "first-cousin"),
                _ => bail!(
                    "--relatives: unknown relationship '{name}' (parent-child, full-sibling, half-sibling, first-cousin)"
                ),
            };
            for k in 0..n {
                let base = rng.gen_range(0..args.count);
                let person = people[base].clone();
                let id = ProfileId::new(&format!("{}-{tag}{:06}", args.prefix, k + 1))?;
                let rel = match tag {
                    "PC" => sim.parent_of(&person, id, args.mutation_rate, &mut rng)?,
                    "FS" => sim.sibling_of(&person, id, args.mutation_rate, &mut rng)?,
                    "HS" => sim.half_sibling_of(&person, id, args.mutation_rate, &mut rng)?,
                    _ => sim.first_cousin_of(&person, id, args.mutation_rate, &mut rng)?,
                };
                truth.push((person.id().clone(), rel.id().clone(), label.to_string()));
                people.push(rel);
            }
        }
    }
    if let Some(spec) = &args.mixtures {
        for (name, n) in spec_list(spec, "mixtures")? {
            let k: usize = match name.parse() {
                Ok(k) if (2..=4).contains(&k) && k <= args.count => k,
                _ => {
                    bail!("--mixtures: '{name}' contributors: expected 2 to 4, and at most --count")
                }
            };
            for i in 0..n {
                let mut chosen: Vec<usize> = Vec::new();
                while chosen.len() < k {
                    let c = rng.gen_range(0..args.count);
                    if !chosen.contains(&c) {
                        chosen.push(c);
                    }
                }
                let contributors: Vec<&Profile> = chosen.iter().map(|&c| &people[c]).collect();
                let id = ProfileId::new(&format!("{}-MIX{k}-{:06}", args.prefix, i + 1))?;
                let mix = mixture(&contributors, id)?;
                for c in &contributors {
                    truth.push((
                        c.id().clone(),
                        mix.id().clone(),
                        format!("contributor-of-{k}-person-mixture"),
                    ));
                }
                people.push(mix);
            }
        }
    }
    if let Some((l, a)) = dropout {
        let mut drng = sim.rng(2);
        people = people.iter().map(|p| degrade(p, l, a, &mut drng)).collect();
    }
    crate::io::write_atomically(&args.out, |out| {
        tandem_core::table::write_wide(out, &people)
            .with_context(|| format!("cannot write {}", args.out.display()))
    })?;
    if let Some(path) = &args.truth {
        crate::io::write_atomically(path, |f| {
            writeln!(f, "a\tb\trelationship")?;
            for (a, b, r) in &truth {
                writeln!(f, "{a}\t{b}\t{r}")?;
            }
            Ok(())
        })?;
    }
    Ok(Outcome::Success)
}
