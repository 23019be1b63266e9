//! Simulated national indexes for tests and benchmarks: unrelated people per country, typed
//! with the country's kit, and planted cross-border duplicates (the same person in two
//! countries, as an offender in one and a degraded crime-scene stain in the next).

use rayon::prelude::*;
use tandem_core::simulate::{self, SimulateError, Simulator};
use tandem_core::{Country, Kit, Locus, Profile, ProfileId, SpecimenCategory};

/// One simulated country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountrySpec {
    /// The country.
    pub country: Country,
    /// Profiles in its national index.
    pub profiles: usize,
    /// The kit it types with (loci without allele pools are skipped).
    pub kit: Kit,
}

/// A planted cross-border duplicate: the same person in two national indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planted {
    /// The country holding the offender profile.
    pub from: Country,
    /// Its national specimen id.
    pub from_id: ProfileId,
    /// The country holding the stain.
    pub to: Country,
    /// Its national specimen id.
    pub to_id: ProfileId,
}

/// The simulated national indexes, in the order of the specs.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Per country, its profiles.
    pub nationals: Vec<(Country, Vec<Profile>)>,
    /// The planted duplicates.
    pub planted: Vec<Planted>,
    /// The planted relatives: full siblings across a border (`from` holds the person, `to` the
    /// sibling). Relatives are not the same person: a correct search reports them only when
    /// their genotypes happen to match at every compared locus.
    pub relatives: Vec<Planted>,
}

/// Simulates national indexes: country k holds `profiles` unrelated people (ids
/// `{CC}-NAT-000001`...; convicted offenders), and for each consecutive pair of countries the
/// first `duplicates` people of the first are also in the second, as "Forensic, Unknown" stains
/// typed with the second's kit, degraded (10% locus dropout, 5% allele dropout), replacing the
/// second's last profiles; as many full siblings of the first's next people are offenders of the
/// second (typed at the loci both kits share), replacing the profiles before those.
/// Deterministic for the simulator's seed.
pub fn simulate(
    sim: &Simulator,
    countries: &[CountrySpec],
    duplicates: usize,
) -> Result<Scenario, SimulateError> {
    let loci_of = |kit: Kit| -> Vec<Locus> {
        kit.loci()
            .into_iter()
            .filter(|l| l.is_amelogenin() || sim.pools().contains(*l))
            .collect()
    };
    let mut nationals: Vec<(Country, Vec<Profile>)> = Vec::with_capacity(countries.len());
    let mut offset = 0;
    for c in countries {
        let mut people = sim.unrelated_range(
            offset..offset + c.profiles,
            &loci_of(c.kit),
            &format!("{}-NAT-", c.country),
        )?;
        offset += c.profiles;
        people.par_iter_mut().for_each(|p| {
            p.set_category(Some(SpecimenCategory::ConvictedOffender));
            p.set_country(Some(c.country));
            p.set_kit(Some(c.kit.name().to_string()));
            p.set_lab(Some(format!("{}-LAB", c.country)));
        });
        nationals.push((c.country, people));
    }
    let mut planted = Vec::new();
    let mut relatives = Vec::new();
    for k in 0..countries.len().saturating_sub(1) {
        let (to_spec, from_spec) = (&countries[k + 1], &countries[k]);
        let to_loci = loci_of(to_spec.kit);
        let n = duplicates
            .min(nationals[k].1.len())
            .min(nationals[k + 1].1.len());
        let to_len = nationals[k + 1].1.len();
        for i in 0..n {
            let src = nationals[k].1[i].clone();
            let slot = to_len - 1 - i;
            let to_id = nationals[k + 1].1[slot].id().clone();
            let mut rng = sim.rng(((k as u64) << 32) | i as u64);
            let mut stain =
                simulate::renamed(&simulate::degrade(&src, 0.1, 0.05, &mut rng), to_id.clone());
            retype(
                &mut stain,
                &to_loci,
                to_spec,
                SpecimenCategory::ForensicUnknown,
            );
            nationals[k + 1].1[slot] = stain;
            planted.push(Planted {
                from: from_spec.country,
                from_id: src.id().clone(),
                to: to_spec.country,
                to_id,
            });
        }
        let m = n
            .min(nationals[k].1.len().saturating_sub(n))
            .min(to_len.saturating_sub(n));
        for i in 0..m {
            let person = nationals[k].1[n + i].clone();
            let slot = to_len - 1 - n - i;
            let to_id = nationals[k + 1].1[slot].id().clone();
            let mut rng = sim.rng((1 << 62) | ((k as u64) << 32) | i as u64);
            let mut sibling = sim.sibling_of(&person, to_id.clone(), 0.002, &mut rng)?;
            retype(
                &mut sibling,
                &to_loci,
                to_spec,
                SpecimenCategory::ConvictedOffender,
            );
            nationals[k + 1].1[slot] = sibling;
            relatives.push(Planted {
                from: from_spec.country,
                from_id: person.id().clone(),
                to: to_spec.country,
                to_id,
            });
        }
    }
    Ok(Scenario {
        nationals,
        planted,
        relatives,
    })
}

/// A profile as the country of `spec` holds it: only the loci its kit types, its category,
/// country, kit and lab.
fn retype(p: &mut Profile, kit_loci: &[Locus], spec: &CountrySpec, category: SpecimenCategory) {
    let typed: Vec<Locus> = p.genotypes().map(|(l, _)| l).collect();
    for l in typed {
        if !kit_loci.contains(&l) {
            p.remove_locus(l);
        }
    }
    p.set_category(Some(category));
    p.set_country(Some(spec.country));
    p.set_kit(Some(spec.kit.name().to_string()));
    p.set_lab(Some(format!("{}-LAB", spec.country)));
}
