//! Password hashing with argon2id (OWASP: m=19456 KiB, t=2, p=1).
//!
//! A hash takes ~20 ms of one core. Running it on the async workers would let
//! a burst of logins stall every other request, so hashing goes to threads
//! of its own, one per core, at a lower priority: the rest wait their turn in
//! a bounded queue without holding a thread or 19 MiB each.

use std::sync::OnceLock;
use std::time::Duration;

use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher, Version};
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;

/// A job gets its thread's argon2 working memory, kept between jobs.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// A hashing thread frees its working memory (19 MiB) after this long
/// without work: it is kept through a burst of logins, and gone soon after,
/// so that a server busy with refreshes does not carry it.
const IDLE_FREE_AFTER: Duration = Duration::from_millis(500);

/// Runs argon2 on threads of its own, one per core, at a lower scheduling
/// priority: a flood of logins uses the whole machine when nothing else
/// runs, but the refreshes and token checks queued behind it go first.
/// The queue is bounded; past it, callers are told to come back later.
#[derive(Clone)]
pub struct PasswordHasherPool {
    jobs: flume::Sender<Job>,
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Every hashing thread is busy and the queue is full.
    #[error("too many password checks are waiting")]
    Busy,
    #[error("password hashing failed: {0}")]
    Failed(String),
}

impl PasswordHasherPool {
    /// Jobs waiting per thread before `Busy`: ~1 s of work at 20 ms a hash.
    const QUEUE_PER_THREAD: usize = 64;

    pub fn new(threads: usize) -> Self {
        let threads = threads.max(1);
        // Every thread waits on the queue itself (no lock around a wait), so
        // each one notices on its own that it has been idle.
        let (jobs, queue) = flume::bounded::<Job>(threads * Self::QUEUE_PER_THREAD);
        for n in 0..threads {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    lower_this_threads_priority();
                    // 19 MiB, allocated at the first job and reused: a fresh
                    // allocation per hash costs ~10 ms of page faults.
                    let mut memory = Vec::new();
                    loop {
                        match queue.recv_timeout(IDLE_FREE_AFTER) {
                            Ok(job) => job(&mut memory),
                            Err(flume::RecvTimeoutError::Timeout) => memory = Vec::new(),
                            Err(flume::RecvTimeoutError::Disconnected) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        PasswordHasherPool { jobs }
    }

    /// One thread per available core.
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, usize::from))
    }

    /// Jobs waiting for a thread (for `/metrics`).
    pub fn queued(&self) -> usize {
        self.jobs.len()
    }

    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        self.run(move |_| hash_now(&password)).await?
    }

    /// Verifies `password` against a PHC string. With `None` (an unknown
    /// user) it verifies against a fixed dummy hash, so that the answer takes
    /// as long as for a real user, then says no.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, HashError> {
        self.run(move |memory| match phc {
            Some(phc) => verify_in(&password, &phc, memory),
            None => {
                let _ = verify_in(&password, dummy_hash(), memory);
                false
            }
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let (reply, answer) = oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move |memory| {
            let _ = reply.send(span.in_scope(|| job(memory)));
        });
        self.jobs.try_send(job).map_err(|e| match e {
            flume::TrySendError::Full(_) => {
                crate::metrics::get().hash_rejections.inc();
                HashError::Busy
            }
            flume::TrySendError::Disconnected(_) => {
                HashError::Failed("the hashing threads are gone".into())
            }
        })?;
        answer
            .await
            .map_err(|_| HashError::Failed("a hashing thread died".into()))
    }
}

/// Nice 19: the kernel gives a busy nice-0 thread ~70 times the CPU of this
/// one (nice 10, ~10 times, let a 64-client login flood push the refresh
/// p99 to 27 ms). With nothing else to run, hashing still gets every core.
/// On Linux, niceness is per thread.
fn lower_this_threads_priority() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: setpriority on the calling thread (who = 0) only lowers its own priority.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 19);
    }
}

/// Hashes on the current thread: for the CLI, or inside the pool.
pub fn hash_now(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| HashError::Failed(e.to_string()))
}

/// Verifies in `memory`, grown to the hash's memory cost if needed.
fn verify_in(password: &str, phc: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let (Ok(params), Ok(algorithm)) = (
        Params::try_from(&parsed),
        Algorithm::new(parsed.algorithm.as_str()),
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut computed = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            &mut computed,
            &mut memory[..blocks],
        )
        .is_ok()
        && bool::from(computed.as_slice().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
fn verify_now(password: &str, phc: &str) -> bool {
    verify_in(password, phc, &mut Vec::new())
}

/// A hash of a random password, made once, with the same parameters as real ones.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_now(&super::opaque::generate()).unwrap_or_else(|_| {
            // Unreachable with a valid salt; a well-formed fallback keeps the cost.
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$7bS1lV2rM0pQ0Ck1cW5yVqC2b0m1Qh0mS0u7P6w3mZk".to_string()
        })
    })
}

/// Rejects passwords that are empty or absurdly long (argon2 would happily
/// hash a megabyte: a cheap denial of service).
pub fn check_policy(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < 8 {
        Err("the password must have at least 8 characters".into())
    } else if password.len() > 1024 {
        Err("the password must have at most 1024 bytes".into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters() {
        let phc = hash_now("hunter22").expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_now("hunter22", &phc));
        assert!(!verify_now("hunter23", &phc));
    }

    #[tokio::test]
    async fn unknown_users_are_refused_after_a_real_verify() {
        let pool = PasswordHasherPool::new(1);
        assert!(!pool.verify("anything".into(), None).await.expect("runs"));
        assert!(dummy_hash().starts_with("$argon2id$"));
    }

    /// The working memory each of two threads holds, asked of both at once
    /// (each probe waits a little, so one thread cannot take both).
    async fn memory_held(pool: &PasswordHasherPool) -> [usize; 2] {
        let probe = || {
            pool.run(|memory| {
                std::thread::sleep(Duration::from_millis(50));
                memory.len()
            })
        };
        let (a, b) = tokio::join!(probe(), probe());
        [a.expect("probe"), b.expect("probe")]
    }

    #[tokio::test]
    async fn every_hashing_thread_returns_its_memory_when_idle() {
        let pool = PasswordHasherPool::new(2);
        let (a, b) = tokio::join!(
            pool.verify("first password".into(), None),
            pool.verify("second password".into(), None),
        );
        a.expect("a");
        b.expect("b");
        assert!(memory_held(&pool).await.iter().any(|&blocks| blocks > 0));

        tokio::time::sleep(IDLE_FREE_AFTER * 3).await;

        assert_eq!(memory_held(&pool).await, [0, 0]);
    }

    #[tokio::test]
    async fn a_full_queue_answers_busy_instead_of_waiting() {
        let pool = PasswordHasherPool::new(1);
        // One job running and `QUEUE_PER_THREAD` waiting, at most: the rest
        // are turned away at once.
        let jobs = (0..PasswordHasherPool::QUEUE_PER_THREAD + 2)
            .map(|_| pool.run(|_| std::thread::sleep(std::time::Duration::from_millis(2))));
        let results = futures_util::future::join_all(jobs).await;
        let busy = results
            .iter()
            .filter(|r| matches!(r, Err(HashError::Busy)))
            .count();
        assert!(busy >= 1, "no job was turned away");
        assert!(
            results
                .iter()
                .all(|r| matches!(r, Ok(()) | Err(HashError::Busy)))
        );
    }

    #[test]
    fn policy_rejects_short_and_huge_passwords() {
        assert!(check_policy("short").is_err());
        assert!(check_policy(&"x".repeat(2000)).is_err());
        assert!(check_policy("long enough").is_ok());
    }
}
