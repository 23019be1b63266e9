//! SVG plots of a benchmark run (plotters' SVG backend: text is written as `<text>` elements, so
//! no font is needed to draw them).

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::prelude::*;

use super::data::DataInfo;
use super::suites::{CompareSuite, MatchCount, SearchSuite};
use crate::demo::thousands;

const SIZE: (u32, u32) = (1000, 430);
const FONT: &str = "sans-serif";
const OBSERVED: RGBColor = RGBColor(31, 119, 180);
const EXPECTED: RGBColor = RGBColor(214, 39, 40);

/// The error of a drawing call, as text (plotters' errors borrow nothing but are not all
/// `Sync`).
fn err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("cannot draw the plot: {e}")
}

/// A log-scale axis range around `values` (positive), padded by a factor of 2 each side.
fn log_range(values: impl Iterator<Item = f64>, floor: f64) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
    for v in values.filter(|v| *v > 0.0 && v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (floor.max(1e-3), 10.0);
    }
    ((lo / 2.0).max(floor), hi * 2.0)
}

fn sci(v: &f64) -> String {
    if *v >= 1e4 || (*v > 0.0 && *v < 1e-2) {
        format!("{v:.1e}").replace(".0e", "e")
    } else {
        format!("{v}")
    }
}

/// One panel: `y` against database size (log scale), points joined by a line; `y` on a log
/// scale too when `log_y` (values spanning decades), else on a linear one from 0.
fn size_panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    title: &str,
    y_desc: &str,
    points: &[(f64, f64)],
    log_y: bool,
) -> Result<()> {
    let (x0, x1) = log_range(points.iter().map(|p| p.0), 1.0);
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(title, (FONT, 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70);
    if log_y {
        let (y0, y1) = log_range(points.iter().map(|p| p.1), 1e-6);
        let chart = builder
            .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())
            .map_err(err)?;
        draw_size_series(chart, y_desc, points)
    } else {
        let top = points.iter().map(|p| p.1).fold(0.0f64, f64::max) * 1.15;
        let chart = builder
            .build_cartesian_2d((x0..x1).log_scale(), 0.0..top.max(1.0))
            .map_err(err)?;
        draw_size_series(chart, y_desc, points)
    }
}

fn draw_size_series<'a, X, Y>(
    mut chart: ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    y_desc: &str,
    points: &[(f64, f64)],
) -> Result<()>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc("profiles in the database")
        .y_desc(y_desc)
        .x_labels(6)
        .y_labels(6)
        .max_light_lines(1)
        .x_label_formatter(&sci)
        .y_label_formatter(&sci)
        .label_style((FONT, 12))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            points.iter().copied(),
            OBSERVED.stroke_width(2),
        ))
        .map_err(err)?;
    chart
        .draw_series(points.iter().map(|&p| Circle::new(p, 4, OBSERVED.filled())))
        .map_err(err)?;
    Ok(())
}

/// Search throughput against database size: the forced scan (profiles compared per second) and
/// single queries through the planner (queries per second).
pub fn throughput(search: &SearchSuite, data: &DataInfo) -> Result<String> {
    let scan: Vec<(f64, f64)> = search
        .sizes
        .iter()
        .filter_map(|s| Some((s.profiles as f64, s.comparisons_per_s?)))
        .collect();
    let planner: Vec<(f64, f64)> = search
        .sizes
        .iter()
        .filter_map(|s| Some((s.profiles as f64, s.planner.as_ref()?.queries_per_s)))
        .collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root
            .titled(
                &format!(
                    "tandem bench: search throughput, {} threads, {} autosomal loci",
                    search.threads, data.autosomal_loci
                ),
                (FONT, 20),
            )
            .map_err(err)?;
        let (left, right) = root.split_horizontally(SIZE.0 / 2);
        size_panel(
            &left,
            "forced scan of one full profile",
            "profiles compared per second",
            &scan,
            false,
        )?;
        size_panel(
            &right,
            "single degraded queries (planner)",
            "queries per second",
            &planner,
            true,
        )?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// One panel of the (m, p) margins: observed pairs (points) and expected ones (line), log scale.
fn match_panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    title: &str,
    x_desc: &str,
    counts: &[MatchCount],
) -> Result<()> {
    // expected counts below this are not drawn (they would stretch the axis to 1e-20)
    const FLOOR: f64 = 1e-3;
    let loci = counts.len().saturating_sub(1).max(1) as f64;
    let (y0, y1) = log_range(
        counts
            .iter()
            .flat_map(|c| [c.observed as f64, c.expected.unwrap_or(0.0)]),
        FLOOR,
    );
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5f64..loci + 0.5, (y0..y1).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("pairs")
        .y_labels(8)
        .max_light_lines(1)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&sci)
        .label_style((FONT, 12))
        .draw()
        .map_err(err)?;
    let expected: Vec<(f64, f64)> = counts
        .iter()
        .filter_map(|c| Some((c.loci as f64, c.expected?)))
        .filter(|p| p.1 >= FLOOR)
        .collect();
    if !expected.is_empty() {
        chart
            .draw_series(LineSeries::new(expected, EXPECTED.stroke_width(2)))
            .map_err(err)?
            .label("expected")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], EXPECTED.stroke_width(2)));
    }
    chart
        .draw_series(
            counts
                .iter()
                .filter(|c| c.observed > 0)
                .map(|c| Circle::new((c.loci as f64, c.observed as f64), 4, OBSERVED.filled())),
        )
        .map_err(err)?
        .label("observed")
        .legend(|(x, y)| Circle::new((x + 10, y), 4, OBSERVED.filled()));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font((FONT, 13))
        .draw()
        .map_err(err)?;
    Ok(())
}

/// Observed against expected pairs, by loci matching fully and by loci matching partially.
pub fn matches(compare: &CompareSuite) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root
            .titled(
                &format!(
                    "tandem bench: all {} pairs of {} profiles, {} loci",
                    thousands(compare.pairs as usize),
                    thousands(compare.profiles),
                    compare.loci.len()
                ),
                (FONT, 20),
            )
            .map_err(err)?;
        let (left, right) = root.split_horizontally(SIZE.0 / 2);
        match_panel(
            &left,
            "pairs by fully matching loci",
            "loci matching fully (m)",
            &compare.by_matching,
        )?;
        match_panel(
            &right,
            "pairs by partially matching loci",
            "loci matching partially (p)",
            &compare.by_partial,
        )?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_log_range_pads_and_floors() {
        assert_eq!(log_range([10.0, 100.0].into_iter(), 1.0), (5.0, 200.0));
        assert_eq!(log_range([0.0, 1e-9, 4.0].into_iter(), 1e-3), (1e-3, 8.0));
        assert_eq!(log_range(std::iter::empty(), 1.0), (1.0, 10.0));
    }
}
