//! Prometheus metrics: counters kept in atomics, served as text on `GET /metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

/// The worker's counters.
#[derive(Default, Debug)]
pub struct Metrics {
    pub seats_drawn: AtomicU64,
    pub jobs_committed: AtomicU64,
    pub jobs_revealed: AtomicU64,
    pub jobs_paid: AtomicU64,
    pub jobs_slashed: AtomicU64,
    pub jobs_released: AtomicU64,
    pub inputs_rejected: AtomicU64,
    pub rpc_errors: AtomicU64,
    pub rpc_requests: AtomicU64,
    pub kernel_micros: AtomicU64,
    pub earnings_raw: AtomicU64,
}

impl Metrics {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Prometheus text exposition format.
    pub fn render(&self) -> String {
        let c = |name: &str, help: &str, v: u64| {
            format!("# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}\n")
        };
        let g = |v: &AtomicU64| v.load(Ordering::Relaxed);
        [
            c("concord_seats_drawn_total", "Seats the draw gave this node (backups once reassigned included).", g(&self.seats_drawn)),
            c("concord_jobs_committed_total", "Commitments sent.", g(&self.jobs_committed)),
            c("concord_jobs_revealed_total", "Reveals sent.", g(&self.jobs_revealed)),
            c("concord_jobs_paid_total", "Seats settled as paid.", g(&self.jobs_paid)),
            c("concord_jobs_slashed_total", "Seats settled as slashed.", g(&self.jobs_slashed)),
            c("concord_jobs_released_total", "Seats released without reward or penalty.", g(&self.jobs_released)),
            c("concord_inputs_rejected_total", "Inputs found invalid (unreachable, refused by the fetch policy, too large or not matching their digest): committed as invalid.", g(&self.inputs_rejected)),
            c("concord_rpc_errors_total", "RPC requests that failed.", g(&self.rpc_errors)),
            c("concord_rpc_requests_total", "RPC requests made by the job loop.", g(&self.rpc_requests)),
            format!(
                "# HELP concord_kernel_seconds_total Time spent running kernels.\n# TYPE concord_kernel_seconds_total counter\nconcord_kernel_seconds_total {:.6}\n",
                g(&self.kernel_micros) as f64 / 1e6
            ),
            c("concord_earnings_raw_total", "Rewards earned, in raw token units.", g(&self.earnings_raw)),
        ]
        .concat()
    }
}
