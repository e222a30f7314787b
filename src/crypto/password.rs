//! Password hashing with argon2id (OWASP: m=19456 KiB, t=2, p=1).
//!
//! A hash takes ~20 ms of one core. Running it on the async workers would let
//! a burst of logins stall every other request, so hashing goes to the
//! blocking pool, at most one job per core at a time: the rest wait their
//! turn without holding a thread or 19 MiB each.

use std::sync::{Arc, OnceLock};

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

/// Makes glibc hand large blocks (argon2's 19 MiB working memory) back to the
/// system when they are freed. By default glibc raises its mmap threshold
/// after the first such free and from then on keeps the memory in the
/// arena of whichever blocking thread hashed: a login burst would leave the
/// process hundreds of MiB larger for good. Costs a page-fault sweep (~1 ms)
/// per 20 ms hash. Call once, early in `main`.
pub fn return_hash_memory_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; called before threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// Runs argon2 off the async runtime with bounded parallelism.
#[derive(Clone)]
pub struct PasswordHasherPool {
    permits: Arc<Semaphore>,
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

impl PasswordHasherPool {
    pub fn new(parallelism: usize) -> Self {
        PasswordHasherPool {
            permits: Arc::new(Semaphore::new(parallelism.max(1))),
        }
    }

    /// One job per available core.
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, usize::from))
    }

    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        self.run(move || hash_now(&password)).await?
    }

    /// Verifies `password` against a PHC string. With `None` (an unknown
    /// user) it verifies against a fixed dummy hash, so that the answer takes
    /// as long as for a real user, then says no.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, HashError> {
        self.run(move || match phc {
            Some(phc) => verify_now(&password, &phc),
            None => {
                let _ = verify_now(&password, dummy_hash());
                false
            }
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| HashError(e.to_string()))?;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(job))
            .await
            .map_err(|e| HashError(e.to_string()))
    }
}

/// Hashes on the current thread: for the CLI, or inside the pool.
pub fn hash_now(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

fn verify_now(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
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

    #[test]
    fn policy_rejects_short_and_huge_passwords() {
        assert!(check_policy("short").is_err());
        assert!(check_policy(&"x".repeat(2000)).is_err());
        assert!(check_policy("long enough").is_ok());
    }
}
