//! The machine a benchmark ran on (CPU, cores, memory, OS, load) and the process's peak memory.
//!
//! Linux facts come from `/proc`; elsewhere the fields that need it are left empty.

/// A description of the machine, for the report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Machine {
    /// CPU model (`model name` of `/proc/cpuinfo`).
    pub cpu: Option<String>,
    /// Logical cores the process may use.
    pub logical_cores: usize,
    /// Total memory in bytes (`MemTotal` of `/proc/meminfo`).
    pub memory_bytes: Option<u64>,
    /// Operating system and kernel release.
    pub os: String,
    /// CPU architecture.
    pub arch: String,
    /// The tandem version that ran the benchmark.
    pub tandem_version: String,
    /// 1-minute load average when the benchmark started (`/proc/loadavg`); other work on the
    /// machine slows the figures down.
    pub load_average_start: Option<f64>,
    /// 1-minute load average when it ended.
    pub load_average_end: Option<f64>,
}

impl Machine {
    /// Describes this machine now.
    pub fn describe() -> Machine {
        let os = match read("/proc/sys/kernel/osrelease") {
            Some(r) => format!("{} {}", std::env::consts::OS, r.trim()),
            None => std::env::consts::OS.to_string(),
        };
        Machine {
            cpu: cpu_model(),
            logical_cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_bytes: meminfo_total(),
            os,
            arch: std::env::consts::ARCH.to_string(),
            tandem_version: env!("CARGO_PKG_VERSION").to_string(),
            load_average_start: load_average(),
            load_average_end: None,
        }
    }

    /// One line for the stdout summary.
    pub fn line(&self) -> String {
        let mut s = format!(
            "{}, {} logical cores",
            self.cpu.as_deref().unwrap_or("unknown CPU"),
            self.logical_cores
        );
        if let Some(m) = self.memory_bytes {
            s.push_str(&format!(", {:.1} GiB", m as f64 / f64::from(1u32 << 30)));
        }
        s.push_str(&format!(", {} ({})", self.os, self.arch));
        if let Some(l) = self.load_average_start {
            s.push_str(&format!(", load {l:.2}"));
            if let Some(e) = self.load_average_end {
                s.push_str(&format!(" -> {e:.2}"));
            }
        }
        s
    }
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn cpu_model() -> Option<String> {
    let text = read("/proc/cpuinfo")?;
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim() == "model name")
        .map(|(_, v)| v.trim().to_string())
}

fn meminfo_total() -> Option<u64> {
    status_kib(&read("/proc/meminfo")?, "MemTotal").map(|k| k * 1024)
}

/// The 1-minute load average.
pub fn load_average() -> Option<f64> {
    read("/proc/loadavg")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// A `Key:   1234 kB` value of `/proc/self/status` or `/proc/meminfo`, in KiB.
fn status_kib(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.split_whitespace().next()?.parse().ok())
}

/// The process's peak resident memory in bytes (`VmHWM`), since it started or since the last
/// successful [`reset_peak_rss`]. `None` where `/proc` is not available.
pub fn peak_rss_bytes() -> Option<u64> {
    status_kib(&read("/proc/self/status")?, "VmHWM").map(|k| k * 1024)
}

/// Resets the peak resident memory to the current one (writing `5` to `/proc/self/clear_refs`,
/// Linux 4.0 and later). Returns false where that is not possible: the peak then covers the whole
/// process so far.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_status_kib_with_proc_layout() {
        let text = "Name:\ttandem\nVmPeak:\t  200 kB\nVmHWM:\t    1234 kB\nVmRSS:\t  1000 kB\n";
        assert_eq!(status_kib(text, "VmHWM"), Some(1234));
        assert_eq!(status_kib(text, "VmRSS"), Some(1000));
        assert_eq!(status_kib(text, "Missing"), None);
    }

    #[test]
    fn test_describe_has_cores_and_version() {
        let m = Machine::describe();
        assert!(m.logical_cores >= 1);
        assert_eq!(m.tandem_version, env!("CARGO_PKG_VERSION"));
        assert!(!m.line().is_empty());
    }
}
