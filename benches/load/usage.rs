//! Resources over a window, from /proc: the server's CPU time and memory,
//! this process's, PostgreSQL's and the whole machine's.

use std::time::{Duration, Instant};

use crate::measure::Window;

/// Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ).
pub const TICKS_PER_SECOND: f64 = 100.0;

/// The server's and the machine's resources over a window.
#[derive(Default, Clone, Copy)]
pub struct Usage {
    pub peak_rss_kib: u64,
    pub peak_threads: u64,
    pub server_cpu_s: f64,
    pub loadgen_cpu_s: f64,
    /// PostgreSQL's processes (zero on SQLite, which runs inside the server).
    pub db_cpu_s: f64,
    pub machine_busy: f64,
    pub seconds: f64,
}

pub fn kib_field(text: &str, field: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// utime + stime of a process, in seconds.
pub fn process_cpu(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // The command name is in parentheses and may hold spaces: fields count from its end.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) as f64 / TICKS_PER_SECOND
}

/// (busy, total) ticks of the whole machine.
pub fn machine_cpu() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().next() else {
        return (0, 0);
    };
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest is counted in user)
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

/// utime + stime of every process named `postgres` (the PostgreSQL server
/// and its backends), in seconds.
pub fn postgres_cpu() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    dir.filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|e| {
            std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "postgres")
        })
        .map(|e| process_cpu(&e.file_name().to_string_lossy()))
        .sum()
}

/// Samples the server's RSS every 100 ms over the window (and resets and
/// reads its VmHWM), and its, our own and the machine's CPU time.
pub fn spawn_sampler(pid: u32, window: Window, postgres: bool) -> std::thread::JoinHandle<Usage> {
    std::thread::spawn(move || {
        let pid = pid.to_string();
        if let Some(wait) = window.start.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let hwm_reset = std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok();
        let started = Instant::now();
        let server0 = process_cpu(&pid);
        let self0 = process_cpu("self");
        let db0 = if postgres { postgres_cpu() } else { 0.0 };
        let machine0 = machine_cpu();
        let mut peak = 0;
        let mut threads = 0;
        loop {
            if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
                peak = peak.max(kib_field(&status, "VmRSS:").unwrap_or(0));
                threads = threads.max(kib_field(&status, "Threads:").unwrap_or(0));
            }
            let now = Instant::now();
            if now >= window.end {
                break;
            }
            std::thread::sleep((window.end - now).min(Duration::from_millis(100)));
        }
        let seconds = started.elapsed().as_secs_f64();
        let server1 = process_cpu(&pid);
        let self1 = process_cpu("self");
        let db1 = if postgres { postgres_cpu() } else { 0.0 };
        let machine1 = machine_cpu();
        if hwm_reset && let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            peak = peak.max(kib_field(&status, "VmHWM:").unwrap_or(0));
        }
        let busy = machine1.0.saturating_sub(machine0.0) as f64;
        let total = machine1.1.saturating_sub(machine0.1) as f64;
        Usage {
            peak_rss_kib: peak,
            peak_threads: threads,
            server_cpu_s: server1 - server0,
            loadgen_cpu_s: self1 - self0,
            db_cpu_s: db1 - db0,
            machine_busy: if total > 0.0 { busy / total } else { 0.0 },
            seconds,
        }
    })
}
