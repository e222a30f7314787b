//! The machine: its cores, how busy other processes keep it, and the
//! argon2id baseline the password grant is compared with.

use std::time::{Duration, Instant};

use anyhow::anyhow;

use crate::usage::{kib_field, machine_cpu};

pub struct Machine {
    pub cores: usize,
    pub cpu_model: String,
    pub kernel: String,
    pub memory_mib: u64,
}

pub fn machine_info() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let memory_mib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| kib_field(&m, "MemTotal:"))
        .map_or(0, |k| k / 1024);
    Machine {
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        cpu_model,
        kernel,
        memory_mib,
    }
}

/// The machine's CPU use (all processes) when a measurement started.
#[derive(Clone, Copy, Default)]
pub struct Quiet {
    /// Busy fraction of the whole machine over the last second before starting.
    pub busy: f64,
    pub waited_s: f64,
}

/// Waits (up to `limit`) for a second in which the machine is under 10% busy.
pub fn wait_for_quiet(limit: Duration) -> Quiet {
    let started = Instant::now();
    loop {
        let (b0, t0) = machine_cpu();
        std::thread::sleep(Duration::from_millis(if limit.is_zero() {
            200
        } else {
            1000
        }));
        let (b1, t1) = machine_cpu();
        let total = t1.saturating_sub(t0) as f64;
        let busy = if total > 0.0 {
            b1.saturating_sub(b0) as f64 / total
        } else {
            0.0
        };
        if busy < 0.10 || started.elapsed() >= limit {
            return Quiet {
                busy,
                waited_s: started.elapsed().as_secs_f64(),
            };
        }
    }
}

pub fn quiet_note(q: Quiet) -> String {
    if q.busy < 0.10 {
        String::new()
    } else {
        format!(
            " (WARNING: the machine was {:.0}% busy with other work beforehand)",
            q.busy * 100.0
        )
    }
}

pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| kib_field(&s, "VmRSS:"))
        .unwrap_or(0)
}

pub struct HashBaseline {
    pub when: &'static str,
    /// Hashes into one reused, already touched 19 MiB buffer: the CPU cost
    /// of a hash on this machine.
    pub samples_ms: Vec<f64>,
    pub median_ms: f64,
    /// `hash_password` as the server calls it, which allocates its buffer
    /// each time: 13–25 ms here depending on whether the allocator hands out
    /// memory already touched or fresh pages (a page fault per 4 KiB).
    pub allocating_ms: Vec<f64>,
    pub allocating_median_ms: f64,
    pub quiet: Quiet,
}

pub fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
}

/// One argon2id hash with the OWASP setting the server uses
/// (`Argon2::default()`: m = 19 MiB, t = 2, p = 1), timed `samples` times
/// on one core, with a reused buffer and as `hash_password` allocating.
pub fn argon2_baseline(
    when: &'static str,
    samples: usize,
    quiet: Quiet,
) -> anyhow::Result<HashBaseline> {
    use argon2::{Argon2, Block, PasswordHasher};
    let argon2 = Argon2::default();
    let mut blocks = vec![Block::new(); argon2.params().block_count()];
    let mut out = [0u8; 32];
    let salt = *b"tessera-bench-salt";
    let mut warm = || {
        argon2
            .hash_password_into_with_memory(b"bench-password-000", &salt, &mut out, &mut blocks)
            .map_err(|e| anyhow!("argon2 hash failed: {e}"))
    };
    warm()?; // touches the buffer
    let mut samples_ms = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        warm()?;
        samples_ms.push(started.elapsed().as_secs_f64() * 1e3);
    }
    drop(blocks);
    let mut allocating_ms = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        Argon2::default()
            .hash_password(b"bench-password-000")
            .map_err(|e| anyhow!("argon2 hash failed: {e}"))?;
        allocating_ms.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let median_ms = median(&samples_ms);
    let allocating_median_ms = median(&allocating_ms);
    eprintln!(
        "load: argon2id (Argon2::default()) hash {when}: median {median_ms:.2} ms with a reused buffer, \
         {allocating_median_ms:.2} ms allocating (hash_password), {samples} each{}",
        quiet_note(quiet)
    );
    Ok(HashBaseline {
        when,
        samples_ms,
        median_ms,
        allocating_ms,
        allocating_median_ms,
        quiet,
    })
}
