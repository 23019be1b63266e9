//! Timing: warm-up and repeated runs, their median and spread, latency percentiles, the Ctrl-C
//! flag checked between runs, and the progress bar that counts the runs.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Asks the first Ctrl-C to stop the benchmark at the end of the current run (the results so far
/// are printed and written); a second one ends the process at once.
pub fn install_ctrl_c() {
    crate::io::defer_interrupts();
}

/// True once Ctrl-C was pressed.
pub fn stopped() -> bool {
    crate::io::interrupted()
}

/// The times of the measured runs of one benchmark (warm-up runs excluded), in seconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Timing {
    /// Measured runs.
    pub runs: usize,
    /// Median run time.
    pub median_s: f64,
    /// Fastest run.
    pub min_s: f64,
    /// Slowest run.
    pub max_s: f64,
    /// Every run, in order.
    pub samples_s: Vec<f64>,
}

impl Timing {
    /// The timing of these runs; `None` when there is none.
    pub fn from_samples(samples: Vec<f64>) -> Option<Timing> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.clone();
        sorted.sort_by(f64::total_cmp);
        Some(Timing {
            runs: samples.len(),
            median_s: median_sorted(&sorted),
            min_s: sorted[0],
            max_s: sorted[sorted.len() - 1],
            samples_s: samples,
        })
    }

    /// `work` units per second at the median time (e.g. profiles compared per run).
    pub fn rate(&self, work: f64) -> f64 {
        work / self.median_s.max(1e-12)
    }
}

/// The median of sorted values (the mean of the two middle ones for an even count).
fn median_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The `p`-th percentile (0-100) of sorted values, nearest-rank method: the smallest value with
/// at least p% of the values at or below it.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Warm-up and measured run counts, and the progress bar the runs advance.
#[derive(Debug, Clone)]
pub struct Runner {
    /// Warm-up runs before the measured ones (not reported).
    pub warmup: usize,
    /// Measured runs.
    pub runs: usize,
    /// The bar of the suite running now.
    pub bar: ProgressBar,
}

impl Runner {
    /// Runs `f` `warmup` times, then `runs` times timed, stopping early on Ctrl-C; `sink` gets
    /// the time and value of each measured run (warm-up values are dropped at once).
    fn each<R>(&self, label: &str, mut f: impl FnMut() -> R, mut sink: impl FnMut(f64, R)) {
        self.bar.set_message(format!("runs: {label}"));
        for _ in 0..self.warmup {
            if stopped() {
                return;
            }
            drop(std::hint::black_box(f()));
            self.bar.inc(1);
        }
        for _ in 0..self.runs {
            if stopped() {
                break;
            }
            let t = Instant::now();
            let r = std::hint::black_box(f());
            sink(t.elapsed().as_secs_f64(), r);
            self.bar.inc(1);
        }
    }

    /// The time and value of each measured run (empty when Ctrl-C came before the first).
    pub fn repeat<R>(&self, label: &str, f: impl FnMut() -> R) -> Vec<(f64, R)> {
        let mut out = Vec::new();
        self.each(label, f, |t, r| out.push((t, r)));
        out
    }

    /// The timing of the measured runs and the value of the first one (the others are dropped
    /// as they come).
    pub fn first<R>(&self, label: &str, f: impl FnMut() -> R) -> (Option<Timing>, Option<R>) {
        let mut times = Vec::new();
        let mut first = None;
        self.each(label, f, |t, r| {
            times.push(t);
            if first.is_none() {
                first = Some(r);
            }
        });
        (Timing::from_samples(times), first)
    }

    /// The timing of the measured runs: `None` when no measured run finished. Values are
    /// dropped as they come (after the clock stopped).
    pub fn time<R>(&self, label: &str, f: impl FnMut() -> R) -> Option<Timing> {
        let mut times = Vec::new();
        self.each(label, f, |t, _| times.push(t));
        Timing::from_samples(times)
    }

    /// Runs per benchmark (warm-up included), for sizing progress bars.
    pub fn per_benchmark(&self) -> u64 {
        (self.warmup + self.runs) as u64
    }
}

/// A spinner on stderr while `msg` is done, drawn only when stderr is a terminal.
pub fn spinner(msg: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// A progress bar on stderr counting `len` steps (runs, profiles), drawn only when stderr is a
/// terminal.
pub fn bar(prefix: &str, len: u64) -> ProgressBar {
    let pb = ProgressBar::new(len);
    if !std::io::stderr().is_terminal() {
        pb.set_draw_target(ProgressDrawTarget::hidden());
        return pb;
    }
    pb.set_style(
        ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_prefix(prefix.to_string());
    pb.enable_steady_tick(Duration::from_millis(200));
    pb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_timing_from_samples() {
        let t = Timing::from_samples(vec![3.0, 1.0, 2.0, 10.0]).expect("samples");
        assert_eq!(t.runs, 4);
        assert_eq!(t.median_s, 2.5);
        assert_eq!(t.min_s, 1.0);
        assert_eq!(t.max_s, 10.0);
        assert_eq!(t.samples_s, vec![3.0, 1.0, 2.0, 10.0]);
        assert!(Timing::from_samples(Vec::new()).is_none());
        assert_eq!(t.rate(5.0), 2.0);
    }

    #[test]
    fn test_percentile_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 95.0), 95.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
        let small = [1.0, 2.0, 3.0];
        assert_eq!(percentile(&small, 50.0), 2.0);
        assert_eq!(percentile(&small, 99.0), 3.0);
    }
}
