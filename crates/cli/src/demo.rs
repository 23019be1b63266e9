//! `tandem demo`: the engine's main job on built-in data, explained as it runs.
//!
//! The NIST 1036 genotypes (real people, 29 autosomal loci) become the database; queries are
//! derived from them with [`tandem_core::simulate`]: a degraded crime-scene stain, a two-person
//! mixture and a relative. Then ~200,000 simulated people are added to show search speed at
//! scale. Every number printed is measured; nothing is hard-coded.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rand::Rng as _;
use tandem_core::search::plan::Strategy;
use tandem_core::simulate::{self, AllelePools, Simulator};
use tandem_core::{
    Hit, Index, Kit, Locus, Profile, ProfileId, PrumQuality, SearchOptions, SpecimenCategory,
    Stringency,
};

use crate::Outcome;
use crate::io::{self, ReadFlags};

/// The NIST U.S. population dataset 1036 genotypes, compiled in so the demo runs anywhere.
const NIST_1036: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/nist1036_genotypes_wide.csv"
));

/// How many hits of a search are listed.
const SHOWN: usize = 5;
/// Simulated profiles are generated and indexed in batches of this many (bounded memory).
const SIM_BATCH: usize = 25_000;
/// Queries in the batch search of the scale-up.
const BATCH_QUERIES: usize = 100;
/// Runs of a single timed query; the median is reported.
const RUNS: usize = 5;

/// Arguments of `tandem demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A wide lab table to use as the database instead of the built-in NIST 1036 genotypes.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// Skip the scale-up with simulated profiles (finishes in well under a second).
    #[arg(long)]
    pub quick: bool,
    /// Simulated people added for the scale-up.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 200_000,
        conflicts_with = "quick"
    )]
    pub simulated: usize,
    /// Seed of every random choice (people picked, dropout, relatives, simulated people).
    #[arg(long, default_value_t = 1036)]
    pub seed: u64,
}

/// Runs `tandem demo`.
pub fn run(args: &Args) -> Result<Outcome> {
    let (loaded, source) = match &args.data {
        Some(path) => (
            io::load_profiles(path, ReadFlags::default())?,
            path.display().to_string(),
        ),
        None => (
            io::load_table_text(
                NIST_1036,
                "nist1036_genotypes_wide.csv (built in)",
                ReadFlags::default(),
            )?,
            "the NIST U.S. population dataset 1036".to_string(),
        ),
    };
    let people = loaded.profiles;
    if people.len() < 4 {
        bail!(
            "{source}: the demo needs at least 4 profiles, found {}",
            people.len()
        );
    }
    let scale_up = !args.quick && args.simulated > 0;
    let sim = Simulator::new(AllelePools::from_profiles(&people), args.seed);
    let mut rng = sim.rng(0);
    let mut out = io::stdout();

    writeln!(
        out,
        "Tandem demo: forensic STR profile matching, step by step"
    )?;
    writeln!(
        out,
        "(every time below is measured on this machine, {} threads)",
        rayon::current_num_threads()
    )?;
    let populations = loaded
        .populations
        .as_deref()
        .map(population_summary)
        .unwrap_or_default();
    let index = database(&mut out, &people, &format!("{source}{populations}"))?;

    // The people the queries come from.
    let picks = distinct(&mut rng, people.len(), 4);
    let [source, mix_a, mix_b, parent] = [0, 1, 2, 3].map(|i| &people[picks[i]]);
    let stain = stain_section(&mut out, &index, source, &mut rng)?;
    let mix = mixture_section(&mut out, &index, [mix_a, mix_b])?;
    let relative = relative_section(&mut out, &index, &sim, parent, scale_up, &mut rng)?;
    prum_section(&mut out, &index, &stain, source)?;

    if scale_up {
        let scaled = ScaleUp {
            people: &people,
            index,
            sim: &sim,
            simulated: args.simulated,
        };
        let queries = Queries {
            stain: &stain,
            source,
            mix: &mix,
            contributors: [mix_a, mix_b],
            relative: &relative,
            parent,
        };
        scaled.run(&mut out, &queries)?;
    } else {
        writeln!(
            out,
            "\n(--quick: the scale-up with simulated profiles was skipped)"
        )?;
    }
    out.flush()?;
    Ok(Outcome::Success)
}

/// Section 1: indexes the people and describes the index.
fn database(out: &mut impl Write, people: &[Profile], source: &str) -> Result<Index> {
    let started = Instant::now();
    let index = Index::from_profiles(people).context("cannot index the demo data")?;
    let built = started.elapsed();
    let loci: Vec<Locus> = index
        .loci()
        .into_iter()
        .filter(|l| l.is_counted())
        .collect();
    heading(out, 1, "The database")?;
    writeln!(out, "   {} people from {source},", thousands(index.len()))?;
    writeln!(
        out,
        "   typed at {} autosomal STR loci ({}).",
        loci.len(),
        locus_list(&loci)
    )?;
    writeln!(
        out,
        "   Packed index built in {}: {} bytes of genotype data per profile, {} bytes of postings.",
        duration(built),
        per(index.genotype_bytes(), index.len()),
        per(index.posting_bytes(), index.len()),
    )?;
    out.flush()?;
    Ok(index)
}

/// Section 2: a degraded copy of `source` finds its source at moderate stringency.
fn stain_section(
    out: &mut impl Write,
    index: &Index,
    source: &Profile,
    rng: &mut simulate::Rng,
) -> Result<Profile> {
    let stain = stain_of(source, "STAIN-1", rng)?;
    heading(out, 2, "A degraded crime-scene stain")?;
    writeln!(
        out,
        "   Query STAIN-1: a copy of {} as a degraded stain shows it: {} of {} loci left,",
        source.id(),
        stain.counted_locus_count(),
        source.counted_locus_count()
    )?;
    writeln!(
        out,
        "   one allele dropped out at {} of them (the stain is flagged partial).",
        dropped_allele_loci(&stain, source).len()
    )?;
    let moderate = SearchOptions::default();
    let (hits, took) = timed(|| index.search(&stain, &moderate));
    search_line(out, &moderate)?;
    print_hits(out, &hits, took, |id| {
        (id == source.id()).then_some("the source")
    })?;
    out.flush()?;
    Ok(stain)
}

/// Section 3: a two-person mixture finds both contributors at moderate stringency.
fn mixture_section(
    out: &mut impl Write,
    index: &Index,
    contributors: [&Profile; 2],
) -> Result<Profile> {
    let [a, b] = contributors;
    let mix = simulate::mixture(&contributors, ProfileId::new("MIX-1")?)?;
    heading(out, 3, "A two-person mixture")?;
    writeln!(
        out,
        "   Query MIX-1: the DNA of {} and {} in one sample: up to {} alleles per locus.",
        a.id(),
        b.id(),
        mix.max_alleles()
    )?;
    writeln!(
        out,
        "   A contributor's alleles are a subset of the mixture's at every locus."
    )?;
    let moderate = SearchOptions::default();
    let (hits, took) = timed(|| index.search(&mix, &moderate));
    search_line(out, &moderate)?;
    print_hits(out, &hits, took, |id| {
        (id == a.id() || id == b.id()).then_some("a contributor")
    })?;
    out.flush()?;
    Ok(mix)
}

/// Section 4: a child of `parent` is no match at high stringency, but passes at low stringency.
fn relative_section(
    out: &mut impl Write,
    index: &Index,
    sim: &Simulator,
    parent: &Profile,
    scale_up: bool,
    rng: &mut simulate::Rng,
) -> Result<Profile> {
    let loci: Vec<Locus> = parent
        .genotypes()
        .map(|(l, _)| l)
        .filter(|l| l.is_counted())
        .collect();
    let partner = sim.random_profile(&loci, ProfileId::new("PARTNER")?, rng)?;
    let mut relative = simulate::child_of(parent, &partner, ProfileId::new("CHILD-1")?, 0.0, rng);
    // An older reference sample: typed at the original CODIS core only.
    let kit = Kit::Codis13;
    let kit_loci = kit.counted_loci();
    let extra: Vec<Locus> = relative
        .genotypes()
        .map(|(l, _)| l)
        .filter(|l| !kit_loci.contains(l))
        .collect();
    for l in extra {
        relative.remove_locus(l);
    }
    heading(out, 4, "A relative")?;
    writeln!(
        out,
        "   Query CHILD-1: a simulated child of {} and a random person, typed only at the {kit} loci",
        parent.id()
    )?;
    writeln!(
        out,
        "   ({} loci); it shares one allele with {} at every locus, but is not the same person.",
        relative.counted_locus_count(),
        parent.id()
    )?;
    let mut hits = Vec::new();
    for stringency in [Stringency::High, Stringency::Low] {
        let opts = SearchOptions {
            stringency,
            ..SearchOptions::default()
        };
        let took;
        (hits, took) = timed(|| index.search(&relative, &opts));
        search_line(out, &opts)?;
        print_hits(out, &hits, took, |id| {
            (id == parent.id()).then_some("the parent")
        })?;
    }
    writeln!(
        out,
        "   Low stringency only asks for one shared allele per locus: it lets relatives through,"
    )?;
    match hits.iter().filter(|h| h.candidate != *parent.id()).count() {
        0 if scale_up => writeln!(
            out,
            "   and in a larger database unrelated people as well (see the scale-up): its hits are\n   leads for kinship statistics, not identifications."
        )?,
        0 => writeln!(
            out,
            "   and in a larger database unrelated people as well: its hits are leads for kinship\n   statistics, not identifications."
        )?,
        n => writeln!(
            out,
            "   and here {} unrelated {} as well: its hits are leads for kinship statistics,\n   not identifications.",
            thousands(n),
            if n == 1 { "person" } else { "people" }
        )?,
    }
    out.flush()?;
    Ok(relative)
}

/// Section 5: Prüm full and near matches for the stain.
fn prum_section(
    out: &mut impl Write,
    index: &Index,
    stain: &Profile,
    source: &Profile,
) -> Result<()> {
    let note = |id: &ProfileId| (id == source.id()).then_some("the source");
    heading(out, 5, "A Prüm search (EU exchange rules)")?;
    writeln!(
        out,
        "   Prüm reports a full match (all alleles equal) or a near match (exactly one allele differs)."
    )?;
    let prum = SearchOptions::prum();
    let dropped = dropped_allele_loci(stain, source);
    writeln!(
        out,
        "   Query STAIN-1 as it is ({} dropped alleles count as differing):",
        dropped.len()
    )?;
    let (hits, took) = timed(|| index.search(stain, &prum));
    search_line(out, &prum)?;
    print_hits(out, &hits, took, note)?;

    let mut designated = Profile::new(ProfileId::new("STAIN-1-PRUM")?);
    for (l, g) in stain.genotypes() {
        if g.len() == 2 {
            designated.set_genotype(l, *g);
        }
    }
    writeln!(
        out,
        "   Query STAIN-1-PRUM: only the {} loci of STAIN-1 with both alleles, as Prüm exchanges them:",
        designated.counted_locus_count()
    )?;
    let (hits, took) = timed(|| index.search(&designated, &prum));
    search_line(out, &prum)?;
    print_hits(out, &hits, took, note)?;

    if let Some(&l) = dropped.first()
        && let Some(g) = stain.genotype(l)
    {
        designated.set_genotype(l, *g);
        writeln!(
            out,
            "   The same, plus {l} where STAIN-1 lost an allele ({g} for {}):",
            genotype(source, l)
        )?;
        let (hits, took) = timed(|| index.search(&designated, &prum));
        search_line(out, &prum)?;
        print_hits(out, &hits, took, note)?;
    }
    out.flush()?;
    Ok(())
}

/// The queries of sections 2-4 and the people they come from.
struct Queries<'a> {
    /// STAIN-1, a degraded copy of `source`.
    stain: &'a Profile,
    /// The person STAIN-1 comes from.
    source: &'a Profile,
    /// MIX-1, a mixture of `contributors`.
    mix: &'a Profile,
    /// The two people in MIX-1.
    contributors: [&'a Profile; 2],
    /// CHILD-1, a child of `parent`.
    relative: &'a Profile,
    /// The real parent of CHILD-1.
    parent: &'a Profile,
}

/// Section 6: the same searches over the real people plus many simulated ones.
struct ScaleUp<'a> {
    /// The real people, already in `index`.
    people: &'a [Profile],
    /// The index of the real people; simulated people are added to it.
    index: Index,
    /// The simulator whose pools come from `people`.
    sim: &'a Simulator,
    /// How many people to simulate.
    simulated: usize,
}

impl ScaleUp<'_> {
    /// Simulates and indexes the people, then times the searches.
    fn run(mut self, out: &mut impl Write, q: &Queries<'_>) -> Result<()> {
        heading(out, 6, "Scaling up")?;
        let loci: Vec<Locus> = self.sim.pools().loci().filter(|l| l.is_counted()).collect();
        let real = self.people.len();
        let total = real + self.simulated;
        // The sources of the batch queries, picked before the people exist.
        let mut rng = self.sim.rng(1);
        let mut sources = distinct(&mut rng, total, BATCH_QUERIES.min(total));
        sources.sort_unstable();
        let mut chosen: Vec<Profile> = sources
            .iter()
            .take_while(|&&i| i < real)
            .map(|&i| self.people[i].clone())
            .collect();

        let (mut simulating, mut indexing) = (Duration::ZERO, Duration::ZERO);
        let mut start = 0;
        while start < self.simulated {
            let end = (start + SIM_BATCH).min(self.simulated);
            let t = Instant::now();
            let batch = self.sim.unrelated_range(start..end, &loci, "SIM")?;
            simulating += t.elapsed();
            for (k, p) in batch.iter().enumerate() {
                if sources.binary_search(&(real + start + k)).is_ok() {
                    chosen.push(p.clone());
                }
            }
            let t = Instant::now();
            for p in batch {
                self.index
                    .add(p)
                    .context("cannot add a simulated profile")?;
            }
            indexing += t.elapsed();
            start = end;
        }
        let index = &self.index;
        writeln!(
            out,
            "   Simulated {} people from the allele frequencies of the {} real ones in {}",
            thousands(self.simulated),
            thousands(real),
            duration(simulating)
        )?;
        writeln!(
            out,
            "   (Hardy-Weinberg genotypes at the same {} loci) and added them to the index in {}.",
            loci.len(),
            duration(indexing)
        )?;
        writeln!(
            out,
            "   The index now holds {} profiles: {} of genotype data, {} of postings.",
            thousands(index.len()),
            megabytes(index.genotype_bytes()),
            megabytes(index.posting_bytes())
        )?;

        writeln!(
            out,
            "   The queries of sections 2-4 against all of them (each time the median of {RUNS} runs):"
        )?;
        let moderate = SearchOptions::default();
        let (hits, took) = median(|| index.search(q.stain, &moderate));
        writeln!(out, "   STAIN-1, {}:", describe(&moderate))?;
        writeln!(
            out,
            "      {} ({}).",
            found(&hits, took),
            plan(index, q.stain, &moderate)
        )?;
        list_hits(out, &hits, |id| {
            (id == q.source.id()).then_some("the source")
        })?;

        let (hits, took) = median(|| index.search(q.mix, &moderate));
        writeln!(out, "   MIX-1, {}:", describe(&moderate))?;
        writeln!(
            out,
            "      {} ({}).",
            found(&hits, took),
            plan(index, q.mix, &moderate)
        )?;
        list_hits(out, &hits, |id| {
            q.contributors
                .iter()
                .any(|c| c.id() == id)
                .then_some("a contributor")
        })?;

        let low = SearchOptions {
            stringency: Stringency::Low,
            ..SearchOptions::default()
        };
        let (hits, took) = median(|| index.search(q.relative, &low));
        writeln!(out, "   CHILD-1, {}:", describe(&low))?;
        writeln!(
            out,
            "      {} ({}).",
            found(&hits, took),
            plan(index, q.relative, &low)
        )?;
        list_hits(out, &hits, |id| {
            (id == q.parent.id()).then_some("the parent")
        })?;
        let unrelated = hits
            .iter()
            .filter(|h| h.candidate != *q.parent.id())
            .count();
        if unrelated > 0 {
            writeln!(
                out,
                "      {} of these {} unrelated to CHILD-1: one shared allele per locus is common at this scale.",
                thousands(unrelated),
                if unrelated == 1 { "is" } else { "are" }
            )?;
        }

        // The batch: degraded copies of people picked among all of them.
        let mut rng = self.sim.rng(2);
        let queries: Vec<Profile> = chosen
            .iter()
            .enumerate()
            .map(|(i, p)| stain_of(p, &format!("Q{:03}", i + 1), &mut rng))
            .collect::<Result<_>>()?;
        let t = Instant::now();
        let results = index.search_batch(&queries, &moderate);
        let took = t.elapsed();
        let found_source = results
            .iter()
            .zip(&chosen)
            .filter(|(hits, p)| hits.iter().any(|h| &h.candidate == p.id()))
            .count();
        let all_hits: usize = results.iter().map(Vec::len).sum();
        let from_postings = queries
            .iter()
            .filter(|q| {
                matches!(
                    index.explain(q, &moderate).strategy,
                    Strategy::Postings { .. }
                )
            })
            .count();
        let comparisons = queries.len() as f64 * index.len() as f64;
        writeln!(
            out,
            "   A batch of {} stains (degraded copies of people picked at random among all {}):",
            queries.len(),
            thousands(index.len())
        )?;
        writeln!(
            out,
            "      {} of {} found their source ({} hits in all) in {}: {} per query,",
            found_source,
            queries.len(),
            all_hits,
            duration(took),
            duration(took / queries.len().max(1) as u32)
        )?;
        writeln!(
            out,
            "      {} profile comparisons per second ({} queries x {} profiles / time).",
            rate(comparisons / took.as_secs_f64().max(1e-9)),
            queries.len(),
            thousands(index.len())
        )?;
        writeln!(
            out,
            "      The planner answered {from_postings} of them from the postings and scanned all rows for the rest."
        )?;
        Ok(())
    }
}

/// A degraded copy of `person` under a new id: about 40% of the loci dropped, one allele lost
/// at about 30% of the remaining heterozygous loci, flagged partial, category Forensic Unknown.
fn stain_of(person: &Profile, id: &str, rng: &mut simulate::Rng) -> Result<Profile> {
    let degraded = simulate::degrade(person, 0.4, 0.3, rng);
    let mut stain = simulate::renamed(&degraded, ProfileId::new(id)?);
    stain.set_category(Some(SpecimenCategory::ForensicUnknown));
    Ok(stain)
}

/// Loci where `copy` shows one allele and `person` two: allele dropout.
fn dropped_allele_loci(copy: &Profile, person: &Profile) -> Vec<Locus> {
    copy.genotypes()
        .filter(|(l, g)| g.is_single() && person.genotype(*l).is_some_and(|p| p.len() == 2))
        .map(|(l, _)| l)
        .collect()
}

/// A person's genotype at a locus, as text (`-` when untyped).
fn genotype(p: &Profile, l: Locus) -> String {
    p.genotype(l)
        .map_or_else(|| "-".to_string(), ToString::to_string)
}

/// `k` distinct indices below `n`, in the order drawn.
fn distinct(rng: &mut simulate::Rng, n: usize, k: usize) -> Vec<usize> {
    let mut picked = Vec::with_capacity(k);
    while picked.len() < k.min(n) {
        let i = rng.gen_range(0..n);
        if !picked.contains(&i) {
            picked.push(i);
        }
    }
    picked
}

/// Runs `f` once and times it.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed())
}

/// Runs `f` [`RUNS`] times; the last result and the median time.
fn median<T>(mut f: impl FnMut() -> T) -> (T, Duration) {
    let (mut result, first) = timed(&mut f);
    let mut times = vec![first];
    for _ in 1..RUNS {
        let (r, d) = timed(&mut f);
        times.push(d);
        result = r;
    }
    times.sort_unstable();
    (result, times[times.len() / 2])
}

/// How the planner answers a query.
fn plan(index: &Index, query: &Profile, opts: &SearchOptions) -> String {
    let e = index.explain(query, opts);
    match e.strategy {
        Strategy::Postings { loci } => format!(
            "postings of {} {} gave {} rows to verify",
            loci.len(),
            if loci.len() == 1 { "locus" } else { "loci" },
            thousands(e.rows_touched)
        ),
        Strategy::Scan => format!("scanned all {} rows", thousands(e.rows)),
    }
}

/// A numbered section heading.
fn heading(out: &mut impl Write, n: usize, title: &str) -> std::io::Result<()> {
    writeln!(out, "\n{n}. {title}")
}

/// The options of a search, in words.
fn search_line(out: &mut impl Write, opts: &SearchOptions) -> std::io::Result<()> {
    writeln!(out, "   Search: {}", describe(opts))
}

/// The options in words.
fn describe(opts: &SearchOptions) -> String {
    if opts.prum {
        return format!(
            "Prüm, at least {} fully matching loci, full or near match",
            opts.min_loci
        );
    }
    let mismatches = match opts.max_mismatches {
        0 => "no failing locus allowed".to_string(),
        1 => "at most 1 failing locus".to_string(),
        k => format!("at most {k} failing loci"),
    };
    format!(
        "CODIS {} stringency, at least {} loci compared, {mismatches}",
        opts.stringency, opts.min_loci
    )
}

/// `found 2 candidates in 85 µs`.
fn found(hits: &[Hit], took: Duration) -> String {
    match hits.len() {
        0 => format!("no candidate, in {}", duration(took)),
        1 => format!("1 candidate in {}", duration(took)),
        n => format!("{} candidates in {}", thousands(n), duration(took)),
    }
}

/// The result of a search and its first hits; `note` marks the hits the reader should notice.
fn print_hits<'a>(
    out: &mut impl Write,
    hits: &'a [Hit],
    took: Duration,
    note: impl Fn(&'a ProfileId) -> Option<&'static str>,
) -> std::io::Result<()> {
    writeln!(out, "   Result: {}", found(hits, took))?;
    list_hits(out, hits, note)
}

/// The first hits of a search (noted ones first), and how many more there are.
fn list_hits<'a>(
    out: &mut impl Write,
    hits: &'a [Hit],
    note: impl Fn(&'a ProfileId) -> Option<&'static str>,
) -> std::io::Result<()> {
    // Noted hits first, so the source is shown even among many hits.
    let mut shown: Vec<&Hit> = hits
        .iter()
        .filter(|h| note(&h.candidate).is_some())
        .take(SHOWN)
        .collect();
    shown.extend(
        hits.iter()
            .filter(|h| note(&h.candidate).is_none())
            .take(SHOWN.saturating_sub(shown.len())),
    );
    for h in &shown {
        let quality = match h.prum {
            Some(PrumQuality::Full) => ", full match",
            Some(PrumQuality::Near) => ", near match",
            None => "",
        };
        let mark = note(&h.candidate)
            .map(|n| format!("   <- {n}"))
            .unwrap_or_default();
        writeln!(
            out,
            "      {:<12} {:>2} loci compared, {:>2} matched, {} failed{quality}{mark}",
            h.candidate.as_str(),
            h.loci_compared,
            h.loci_matched,
            h.loci_mismatched
        )?;
    }
    if hits.len() > shown.len() {
        writeln!(
            out,
            "      ... and {} more",
            thousands(hits.len() - shown.len())
        )?;
    }
    Ok(())
}

/// ` (AfAm 342, Cauc 361, ...)`, in order of first appearance.
fn population_summary(labels: &[String]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for l in labels.iter().filter(|l| !l.is_empty()) {
        match counts.iter_mut().find(|(name, _)| name == l) {
            Some((_, n)) => *n += 1,
            None => counts.push((l, 1)),
        }
    }
    if counts.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(name, n)| format!("{name} {}", thousands(*n)))
        .collect();
    format!(" ({})", parts.join(", "))
}

/// The first few locus names, then how many more.
fn locus_list(loci: &[Locus]) -> String {
    const FIRST: usize = 6;
    let names: Vec<&str> = loci.iter().take(FIRST).map(|l| l.name()).collect();
    if loci.len() > FIRST {
        format!("{}, ... and {} more", names.join(", "), loci.len() - FIRST)
    } else {
        names.join(", ")
    }
}

/// `bytes / n`, rounded, as text.
fn per(bytes: usize, n: usize) -> String {
    format!("{:.0}", bytes as f64 / n.max(1) as f64)
}

/// A byte count in MB (10^6 bytes).
fn megabytes(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// A rate in words: `590 million`.
fn rate(per_second: f64) -> String {
    if per_second >= 1e9 {
        format!("{:.1} billion", per_second / 1e9)
    } else if per_second >= 1e6 {
        format!("{:.0} million", per_second / 1e6)
    } else {
        thousands(per_second.round() as usize)
    }
}

/// A duration in the unit a reader takes in at a glance: µs, ms or s.
pub fn duration(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1_000.0 {
        format!("{us:.0} µs")
    } else if us < 1e6 {
        format!("{:.1} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(201_036), "201,036");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn test_duration() {
        assert_eq!(duration(Duration::from_micros(85)), "85 µs");
        assert_eq!(duration(Duration::from_micros(3_150)), "3.1 ms");
        assert_eq!(duration(Duration::from_millis(1_840)), "1.84 s");
    }
}
