//! Process metrics under their conventional Prometheus names, read from
//! `/proc/self` at scrape time (Linux; elsewhere they stay at zero).

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

pub(super) struct ProcessMetrics {
    rss_bytes: Gauge,
    /// A counter that only moves forward to the value the kernel reports.
    cpu_seconds: Counter<f64, AtomicU64>,
    open_fds: Gauge,
    max_fds: Gauge,
    threads: Gauge,
    start_time: Gauge,
}

/// What `/proc/self/stat` says, in its own units.
#[derive(Debug, PartialEq)]
struct Stat {
    /// User plus system time, in clock ticks.
    cpu_ticks: u64,
    threads: i64,
    /// Since boot, in clock ticks.
    start_ticks: u64,
    rss_pages: i64,
}

/// Parses `/proc/<pid>/stat`. The command name (field 2) is in parentheses
/// and may itself hold spaces and parentheses: fields are counted from the
/// last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name, field 3 (state) is fields[0]: field n is fields[n - 3].
    let field = |n: usize| fields.get(n - 3).copied();
    let utime: u64 = field(14)?.parse().ok()?;
    let stime: u64 = field(15)?.parse().ok()?;
    Some(Stat {
        cpu_ticks: utime + stime,
        threads: field(20)?.parse().ok()?,
        start_ticks: field(22)?.parse().ok()?,
        rss_pages: field(24)?.parse().ok()?,
    })
}

/// The soft limit on open files from `/proc/<pid>/limits`.
fn parse_max_fds(limits: &str) -> Option<i64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Boot time (Unix seconds) from `/proc/stat`.
fn parse_boot_time(stat: &str) -> Option<i64> {
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

fn clock_ticks_and_page_size() -> (u64, i64) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: sysconf only reads system constants.
    unsafe {
        let ticks = libc::sysconf(libc::_SC_CLK_TCK);
        let page = libc::sysconf(libc::_SC_PAGESIZE);
        if ticks > 0 && page > 0 {
            return (ticks as u64, page as i64);
        }
    }
    (100, 4096)
}

impl ProcessMetrics {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let g = Gauge::default();
            registry.register(name, help, g.clone());
            g
        };
        let rss_bytes = gauge(
            registry,
            "process_resident_memory_bytes",
            "Resident memory size in bytes",
        );
        let cpu_seconds = Counter::<f64, AtomicU64>::default();
        registry.register(
            "process_cpu_seconds",
            "User and system CPU time spent, in seconds",
            cpu_seconds.clone(),
        );
        ProcessMetrics {
            rss_bytes,
            cpu_seconds,
            open_fds: gauge(registry, "process_open_fds", "Open file descriptors"),
            max_fds: gauge(
                registry,
                "process_max_fds",
                "Limit on open file descriptors",
            ),
            threads: gauge(registry, "process_threads", "Operating system threads"),
            start_time: gauge(
                registry,
                "process_start_time_seconds",
                "Start time of the process since the Unix epoch, in seconds",
            ),
        }
    }

    /// Reads `/proc/self`; what cannot be read keeps its last value.
    pub(super) fn refresh(&self) {
        let (ticks, page) = clock_ticks_and_page_size();
        if let Some(stat) = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .as_deref()
            .and_then(parse_stat)
        {
            self.rss_bytes.set(stat.rss_pages.saturating_mul(page));
            self.threads.set(stat.threads);
            let cpu = stat.cpu_ticks as f64 / ticks as f64;
            let counted = self.cpu_seconds.get();
            if cpu > counted {
                self.cpu_seconds.inc_by(cpu - counted);
            }
            if let Some(boot) = std::fs::read_to_string("/proc/stat")
                .ok()
                .as_deref()
                .and_then(parse_boot_time)
            {
                let since_boot = i64::try_from(stat.start_ticks / ticks).unwrap_or(0);
                self.start_time.set(boot.saturating_add(since_boot));
            }
        }
        if let Ok(entries) = std::fs::read_dir("/proc/self/fd") {
            // Minus the descriptor that read_dir itself holds open.
            let open = entries.count().saturating_sub(1);
            self.open_fds.set(i64::try_from(open).unwrap_or(i64::MAX));
        }
        if let Some(max) = std::fs::read_to_string("/proc/self/limits")
            .ok()
            .as_deref()
            .and_then(parse_max_fds)
        {
            self.max_fds.set(max);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_last_parenthesis() {
        let line = "4242 (a (weird) name) S 1 4242 4242 0 -1 4194560 9 0 0 0 \
                    150 50 0 0 20 0 7 0 123456 98765432 2500 18446744073709551615";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                cpu_ticks: 200,
                threads: 7,
                start_ticks: 123456,
                rss_pages: 2500,
            })
        );
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) S 1 2"), None);
    }

    #[test]
    fn limits_and_boot_time_are_read() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(parse_max_fds(limits), Some(1024));
        assert_eq!(
            parse_boot_time("cpu  1 2 3\nbtime 1764000000\n"),
            Some(1_764_000_000)
        );
        assert_eq!(parse_boot_time("cpu 1"), None);
    }
}
