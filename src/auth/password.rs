//! Argon2id password hashing, bounded and off the async threads.
//!
//! Each hash holds `m_cost` KiB of memory and a core for tens of milliseconds, so hashes run on a
//! fixed set of threads: a login burst queues instead of exhausting memory.

use std::sync::{Arc, mpsc};

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use secrecy::{ExposeSecret, SecretString};

use super::AuthError;

/// Argon2id cost. The default is OWASP's minimum recommendation (19 MiB, 2 passes, 1 lane).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    pub m_cost_kib: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

impl Default for HashCost {
    fn default() -> Self {
        HashCost { m_cost_kib: 19_456, t_cost: 2, p_cost: 1 }
    }
}

impl HashCost {
    fn params(self) -> Result<Params, AuthError> {
        Params::new(self.m_cost_kib, self.t_cost, self.p_cost, None).map_err(|e| AuthError::Internal(e.to_string()))
    }
}

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    workers: Arc<Workers>,
    /// A real hash of a random password: unknown phones are verified against it so that they
    /// take as long as known ones and timing reveals nothing.
    decoy: Arc<String>,
}

impl PasswordHasher {
    pub fn new(cost: HashCost, max_concurrent: usize) -> Result<PasswordHasher, AuthError> {
        let params = cost.params()?;
        let decoy_password = uuid::Uuid::new_v4().to_string();
        let decoy = hash_blocking(&params, &decoy_password)?;
        Ok(PasswordHasher { params, workers: Arc::new(Workers::start(max_concurrent.max(1))?), decoy: Arc::new(decoy) })
    }

    /// Hashes synchronously: for the command line, outside any server.
    pub fn hash_now(&self, password: &str) -> Result<String, AuthError> {
        hash_blocking(&self.params, password)
    }

    pub async fn hash(&self, password: SecretString) -> Result<String, AuthError> {
        let params = self.params.clone();
        self.limited(move || hash_blocking(&params, password.expose_secret())).await?
    }

    /// Whether `password` matches `stored`; with no stored hash, spends the same time and says no.
    pub async fn verify(&self, password: SecretString, stored: Option<String>) -> Result<bool, AuthError> {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.decoy.as_ref().clone());
        let matches = self
            .limited(move || {
                Argon2::default().verify_password(password.expose_secret().as_bytes(), hash.as_str()).is_ok()
            })
            .await?;
        Ok(known && matches)
    }

    async fn limited<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, AuthError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            // The caller may have gone (a dropped request): nobody to answer.
            let _ = tx.send(work());
        });
        self.workers.jobs.send(job).map_err(|_| AuthError::Internal("the hashing threads stopped".to_owned()))?;
        rx.await.map_err(|_| AuthError::Internal("a hashing thread stopped".to_owned()))
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Hashes run on a few threads of their own, never on the shared blocking pool. Each hash holds
/// 19 MiB while it runs, and the allocator keeps freed memory in the arena of the thread that
/// used it: spread over the hundreds of pool threads a burst of requests leaves behind, logins
/// after a registration burst held 850 MiB of resident memory. Here it is bounded by the number of
/// hashing threads, and excess logins queue (in order) instead of starting more hashes.
struct Workers {
    jobs: mpsc::Sender<Job>,
}

impl Workers {
    fn start(threads: usize) -> Result<Workers, AuthError> {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(parking_lot::Mutex::new(rx));
        for n in 0..threads {
            let rx = Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    loop {
                        // Hold the receiver only to take a job, not while running it.
                        let job = rx.lock().recv();
                        match job {
                            Ok(job) => job(),
                            // Every hasher is gone: the thread ends with them.
                            Err(_) => break,
                        }
                    }
                })
                .map_err(|e| AuthError::Internal(format!("cannot start a hashing thread: {e}")))?;
        }
        Ok(Workers { jobs: tx })
    }
}

/// One hash at `cost`, outside any server. Fixtures use it to make a single cheap hash per test
/// process for the users they create directly; the server never hashes at a cost but its own.
/// Verifying reads the cost from the stored hash, so such users log in at that cost too.
pub fn hash_at_cost(cost: HashCost, password: &str) -> Result<String, AuthError> {
    hash_blocking(&cost.params()?, password)
}

fn hash_blocking(params: &Params, password: &str) -> Result<String, AuthError> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn verifies_what_it_hashed_and_nothing_else() -> Result<(), AuthError> {
        let hasher = PasswordHasher::new(HashCost { m_cost_kib: 1024, t_cost: 1, p_cost: 1 }, 2)?;
        let hash = hasher.hash(SecretString::from("correct horse battery")).await?;
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{hash}");
        assert!(hasher.verify(SecretString::from("correct horse battery"), Some(hash.clone())).await?);
        assert!(!hasher.verify(SecretString::from("wrong horse battery"), Some(hash)).await?);
        assert!(!hasher.verify(SecretString::from("anything at all"), None).await?);
        Ok(())
    }
}
