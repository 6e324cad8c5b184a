use anchor_lang::prelude::*;

use crate::constants::*;

/// Hardware a job needs from the nodes that claim it.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct Requirements {
    pub min_vram_mib: u32,
    /// Minimum CUDA compute capability (major × 10 + minor); 0 for any.
    pub min_compute_capability: u16,
    /// Backends allowed to run the job (`BACKEND_CUDA | BACKEND_CPU`); a node qualifies if it
    /// offers at least one of them.
    pub backends: u8,
}

/// State machine of a job (PROTOCOL.md, "Job state machine").
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum JobState {
    /// Accepting claims until the claim deadline.
    Open,
    /// All N slots claimed; commits accepted until the commit deadline.
    Running,
    /// Commit phase closed; reveals accepted until the reveal deadline.
    Revealing,
    /// A digest reached the quorum: agreeing nodes paid, others slashed, fee taken.
    Settled,
    /// No quorum: full refund; only no-shows slashed.
    Failed,
    /// Fewer than N claims by the claim deadline: full refund, claimers released.
    Expired,
    /// Cancelled by the buyer before any claim: full refund.
    Cancelled,
}

impl JobState {
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            JobState::Settled | JobState::Failed | JobState::Expired | JobState::Cancelled
        )
    }
}

/// Progress and outcome of one slot.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum SlotStatus {
    Claimed,
    Committed,
    Revealed,
    /// Settled: agreed with the accepted digest, reward credited, collateral released.
    Paid,
    /// Settled: dissented or missed a step, collateral moved to the treasury.
    Slashed,
    /// Settled without reward or penalty (expired job, or failed job it revealed in).
    Released,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq, InitSpace)]
pub struct Slot {
    pub node: Pubkey,
    pub status: SlotStatus,
    pub commitment: [u8; 32],
    pub digest: [u8; 32],
    #[max_len(MAX_URI_LEN)]
    pub output_uri: String,
}

/// A buyer's job. PDA `["job", market, job_id u64 LE]`.
///
/// Everything the job depends on (windows, fee, collateral, requirements) is copied at creation,
/// so later market updates never change a running job.
#[account]
#[derive(InitSpace, Debug)]
pub struct Job {
    pub market: Pubkey,
    pub job_id: u64,
    pub buyer: Pubkey,
    /// Token account of the buyer that receives refunds at settlement.
    pub refund_account: Pubkey,
    pub kernel: u8,
    #[max_len(MAX_PARAMS_LEN)]
    pub params: Vec<u8>,
    #[max_len(MAX_URI_LEN)]
    pub input_uri: String,
    pub input_digest: [u8; 32],
    pub requirements: Requirements,
    /// Replication factor N.
    pub replication: u8,
    /// Quorum Q, N/2 < Q ≤ N.
    pub quorum: u8,
    pub reward_per_worker: u64,
    /// ceil(reward × N × fee_bps / 10000), fixed at creation.
    pub fee: u64,
    /// Tokens this job still holds in the vault. reward × N + fee at creation; 0 once terminal
    /// unless the refund could not be delivered (then the buyer collects it with `close_job`).
    pub escrow: u64,
    pub collateral_per_slot: u64,
    pub execution_window: i64,
    pub reveal_window: i64,
    pub created_at: i64,
    pub claim_deadline: i64,
    /// Set when the Nth claim arrives.
    pub commit_deadline: i64,
    /// Set when the job enters Revealing.
    pub reveal_deadline: i64,
    pub state: JobState,
    #[max_len(MAX_REPLICATION)]
    pub slots: Vec<Slot>,
    pub accepted_digest: Option<[u8; 32]>,
    /// Unix time of the terminal transition (0 before).
    pub finalized_at: i64,
    pub bump: u8,
}

impl Job {
    /// Account size, including the discriminator, of a job with `replication` slots.
    pub const fn size(replication: u8) -> usize {
        8 + Self::INIT_SPACE - (MAX_REPLICATION as usize - replication as usize) * Slot::INIT_SPACE
    }

    pub fn slot_index(&self, node: &Pubkey) -> Option<usize> {
        self.slots.iter().position(|s| s.node == *node)
    }

    pub fn committed_count(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.status != SlotStatus::Claimed)
            .count()
    }

    pub fn revealed_count(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.status == SlotStatus::Revealed)
            .count()
    }

    /// The digest revealed by at least Q slots, if any. Q > N/2 makes it unique.
    pub fn quorum_digest(&self) -> Option<[u8; 32]> {
        let revealed = || {
            self.slots
                .iter()
                .filter(|s| s.status == SlotStatus::Revealed)
        };
        revealed()
            .map(|s| s.digest)
            .find(|d| revealed().filter(|s| s.digest == *d).count() >= self.quorum as usize)
    }
}

/// `sha256("concord-commit-v1" ‖ job ‖ node ‖ digest ‖ salt)`.
pub fn commitment(job: &Pubkey, node: &Pubkey, digest: &[u8; 32], salt: &[u8; 32]) -> [u8; 32] {
    solana_sha256_hasher::hashv(&[COMMIT_DOMAIN, job.as_ref(), node.as_ref(), digest, salt])
        .to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(quorum: u8, reveals: &[Option<u8>]) -> Job {
        Job {
            market: Pubkey::default(),
            job_id: 0,
            buyer: Pubkey::default(),
            refund_account: Pubkey::default(),
            kernel: 1,
            params: vec![],
            input_uri: String::new(),
            input_digest: [0; 32],
            requirements: Requirements {
                min_vram_mib: 0,
                min_compute_capability: 0,
                backends: BACKEND_ALL,
            },
            replication: reveals.len() as u8,
            quorum,
            reward_per_worker: 1,
            fee: 0,
            escrow: 0,
            collateral_per_slot: 1,
            execution_window: 1,
            reveal_window: 1,
            created_at: 0,
            claim_deadline: 0,
            commit_deadline: 0,
            reveal_deadline: 0,
            state: JobState::Revealing,
            slots: reveals
                .iter()
                .map(|r| Slot {
                    node: Pubkey::new_unique(),
                    status: if r.is_some() {
                        SlotStatus::Revealed
                    } else {
                        SlotStatus::Committed
                    },
                    commitment: [0; 32],
                    digest: [r.unwrap_or(0); 32],
                    output_uri: String::new(),
                })
                .collect(),
            accepted_digest: None,
            finalized_at: 0,
            bump: 0,
        }
    }

    #[test]
    fn quorum_needs_q_matching_reveals() {
        assert_eq!(
            job(2, &[Some(1), Some(1), Some(2)]).quorum_digest(),
            Some([1; 32])
        );
        assert_eq!(
            job(2, &[Some(2), Some(1), Some(1)]).quorum_digest(),
            Some([1; 32])
        );
        assert_eq!(job(2, &[Some(1), Some(2), None]).quorum_digest(), None);
        assert_eq!(
            job(3, &[Some(1), Some(1), None, Some(2), Some(1)]).quorum_digest(),
            Some([1; 32])
        );
        // A committed-but-unrevealed slot's zero digest never counts.
        assert_eq!(job(2, &[None, None, Some(0)]).quorum_digest(), None);
    }

    #[test]
    fn account_size_scales_with_replication() {
        assert_eq!(Job::size(MAX_REPLICATION), 8 + Job::INIT_SPACE);
        assert_eq!(Job::size(2) - Job::size(1), Slot::INIT_SPACE);
        // The largest job fits comfortably in one account and one rent-exempt deposit.
        assert!(Job::size(MAX_REPLICATION) < 10_240);
    }

    #[test]
    fn commitment_binds_job_and_node() {
        let (j, n, d, s) = (Pubkey::new_unique(), Pubkey::new_unique(), [3; 32], [4; 32]);
        let c = commitment(&j, &n, &d, &s);
        assert_ne!(c, commitment(&Pubkey::new_unique(), &n, &d, &s));
        assert_ne!(c, commitment(&j, &Pubkey::new_unique(), &d, &s));
        assert_ne!(c, commitment(&j, &n, &d, &[5; 32]));
        // sha256 over the documented concatenation.
        let mut pre = b"concord-commit-v1".to_vec();
        for part in [j.as_ref(), n.as_ref(), &d[..], &s[..]] {
            pre.extend_from_slice(part);
        }
        assert_eq!(c, solana_sha256_hasher::hash(&pre).to_bytes());
    }
}
