//! Synthetic CMF batches for benchmarks and throughput measurements: specimens typed at the
//! CODIS 20 loci plus Amelogenin, with CMF fields, made on the fly from a seed (no data set is
//! held in memory, so a stream of 10^6 specimens costs no more memory than one).

use tandem_core::{Allele, Genotype, Locus, Profile, ProfileId, SpecimenCategory};

use crate::specimen::{CmfDateTime, CmfSpecimen, Header, LocusInfo};

/// The header of a synthetic batch.
pub fn header() -> Header {
    let mut h = Header::new("GT0000001", "GTINACIF1", "bench");
    h.submit_datetime = CmfDateTime::new(2024, 5, 2, 10, 0, 0).unwrap_or(h.submit_datetime);
    h.batch_id = Some("BENCH-1".into());
    h.kit = Some("GlobalFiler".into());
    h
}

/// The `i`-th synthetic specimen: CODIS 20 + AMEL, two alleles per locus drawn from `i` by a
/// fixed mixing function, a reading per locus.
pub fn specimen(i: u64) -> CmfSpecimen {
    let loci: Vec<Locus> = tandem_core::Kit::Codis20
        .loci()
        .into_iter()
        .chain(Locus::lookup("AMEL").ok())
        .collect();
    let id = ProfileId::new(&format!("GT{i:010}")).unwrap_or_else(|_| unreachable_id());
    let mut p = Profile::new(id).with_category(SpecimenCategory::ConvictedOffender);
    let mut state = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let when = CmfDateTime::new(2024, 5, 1, 9, 30, 0).ok();
    let mut infos = Vec::with_capacity(loci.len());
    for l in loci {
        let g = if l.is_amelogenin() {
            if next() % 2 == 0 {
                Genotype::single(Allele::X)
            } else {
                Genotype::new(&[Allele::X, Allele::Y]).unwrap_or(Genotype::single(Allele::X))
            }
        } else {
            let a = Allele::Repeat(60 + (next() % 200) as u16);
            let b = Allele::Repeat(60 + (next() % 200) as u16);
            Genotype::new(&[a, b]).unwrap_or(Genotype::single(a))
        };
        p.set_genotype(l, g);
        infos.push((
            l,
            LocusInfo {
                batch_id: None,
                kit: None,
                reading_by: Some("analyst1".into()),
                reading_datetime: when,
            },
        ));
    }
    CmfSpecimen {
        profile: p,
        source_id: None,
        case_id: Some(format!("CASE-{}", i / 7)),
        comment: None,
        loci: infos,
    }
}

fn unreachable_id() -> ProfileId {
    // `GT` and ten digits is always a valid id; this keeps the library free of unwrap()
    ProfileId::new("GT").unwrap_or_else(|_| unreachable_id())
}
