use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::ConcordError;

/// What a job needs from the nodes drawn for it: hardware and, optionally, a track record.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct Requirements {
    pub min_vram_mib: u32,
    /// Minimum CUDA compute capability (major × 10 + minor); 0 for any.
    pub min_compute_capability: u16,
    /// Backends allowed to run the job (`BACKEND_CUDA | BACKEND_CPU`); a node qualifies if it
    /// offers at least one of them.
    pub backends: u8,
    /// Minimum number of jobs in which the node agreed with the quorum (0 for any).
    pub min_agreed: u32,
    /// Largest share of faults (dissents and misses) among the node's settled seats, in basis
    /// points; 10 000 for any.
    pub max_fault_bps: u16,
}

impl Requirements {
    pub fn validate(&self) -> Result<()> {
        require!(
            self.backends != 0 && self.backends & !BACKEND_ALL == 0,
            ConcordError::InvalidBackends
        );
        require!(
            self.max_fault_bps <= BPS_DENOMINATOR as u16,
            ConcordError::InvalidRequirements
        );
        Ok(())
    }

    /// Whether a node with `agreed` agreements and `faults` faults meets the reputation part.
    pub fn reputation_met(&self, agreed: u32, faults: u32) -> bool {
        let settled = u64::from(agreed) + u64::from(faults);
        agreed >= self.min_agreed
            && u64::from(faults) * BPS_DENOMINATOR as u64 <= u64::from(self.max_fault_bps) * settled
    }
}

/// State machine of a job (docs/protocol.md, "Job lifecycle").
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum JobState {
    /// Created; waiting for its draw (a later slot, within the draw horizon).
    Open,
    /// Seats drawn; commits accepted until the commit deadline.
    Assigned,
    /// Commit phase closed; reveals accepted until the reveal deadline.
    Revealing,
    /// A digest reached the quorum: agreeing nodes paid, others slashed, fee taken.
    Settled,
    /// No quorum: full refund; no-shows and non-revealers slashed.
    Failed,
    /// Not drawn within the horizon, or not enough eligible nodes: full refund.
    Expired,
    /// Cancelled by the buyer before the draw: full refund.
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

/// Progress and outcome of one seat.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum SeatStatus {
    /// Drawn (or reassigned); collateral locked; no commitment yet.
    Assigned,
    Committed,
    Revealed,
    /// Settled: agreed with the accepted digest, reward credited, collateral released.
    Paid,
    /// Settled: dissented or missed a step, collateral moved to the treasury.
    Slashed,
    /// Settled without reward or penalty.
    Released,
}

impl SeatStatus {
    pub fn is_open(&self) -> bool {
        matches!(
            self,
            SeatStatus::Assigned | SeatStatus::Committed | SeatStatus::Revealed
        )
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq, InitSpace)]
pub struct Seat {
    pub node: Pubkey,
    pub status: SeatStatus,
    pub commitment: [u8; 32],
    pub digest: [u8; 32],
    #[max_len(MAX_URI_LEN)]
    pub output_uri: String,
}

impl Seat {
    pub fn assigned(node: Pubkey) -> Seat {
        Seat {
            node,
            status: SeatStatus::Assigned,
            commitment: [0; 32],
            digest: [0; 32],
            output_uri: String::new(),
        }
    }
}

/// A buyer's job. PDA `["job", market, job_id u64 LE]`.
///
/// Everything the job depends on (windows, fee, collateral, minimum stake, horizon) is copied
/// at creation, so later market updates never change a job.
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
    /// The kernel's work measure for these params (`pricing::work_units`).
    pub work_units: u64,
    /// reward_per_worker per 10⁹ work units: a node is eligible if its ask is at most this.
    pub price: u64,
    /// The fee rate the buyer agreed to.
    pub fee_bps: u16,
    /// ceil(reward × N × fee_bps / 10000).
    pub fee: u64,
    /// Tokens this job still holds in the vault. reward × N + fee at creation; 0 once terminal
    /// unless the refund could not be delivered (then `settle_job` or `close_job` delivers it).
    pub escrow: u64,
    pub collateral_per_seat: u64,
    pub min_stake: u64,
    pub execution_window: i64,
    pub reveal_window: i64,
    pub draw_horizon_slots: u64,
    pub max_reassignments: u8,
    pub created_at: i64,
    pub created_slot: u64,
    /// The draw's seed (zero before the draw).
    pub seed: [u8; 32],
    /// Slot of the draw (0 before).
    pub drawn_slot: u64,
    /// Set by the draw, extended by each reassignment.
    pub commit_deadline: i64,
    /// Set when the job enters Revealing.
    pub reveal_deadline: i64,
    /// Reassignment rounds done.
    pub reassignments: u8,
    pub state: JobState,
    #[max_len(MAX_REPLICATION)]
    pub seats: Vec<Seat>,
    /// Nodes that take over seats whose holders do not commit, in draw order.
    #[max_len(MAX_BACKUPS)]
    pub backups: Vec<Pubkey>,
    pub accepted_digest: Option<[u8; 32]>,
    /// Unix time of the terminal transition (0 before).
    pub finalized_at: i64,
    pub bump: u8,
}

impl Job {
    /// Account size, including the discriminator, of a job with `replication` seats.
    pub const fn size(replication: u8) -> usize {
        8 + Self::INIT_SPACE - (MAX_REPLICATION as usize - replication as usize) * Seat::INIT_SPACE
    }

    pub fn seat_index(&self, node: &Pubkey) -> Option<usize> {
        self.seats.iter().position(|s| s.node == *node)
    }

    /// Seats that committed (and possibly revealed).
    pub fn committed_count(&self) -> usize {
        self.seats
            .iter()
            .filter(|s| matches!(s.status, SeatStatus::Committed | SeatStatus::Revealed))
            .count()
    }

    pub fn revealed_count(&self) -> usize {
        self.seats
            .iter()
            .filter(|s| s.status == SeatStatus::Revealed)
            .count()
    }

    /// The digest revealed by at least Q seats, if any. Q > N/2 makes it unique.
    pub fn quorum_digest(&self) -> Option<[u8; 32]> {
        let revealed = || {
            self.seats
                .iter()
                .filter(|s| s.status == SeatStatus::Revealed)
        };
        revealed()
            .map(|s| s.digest)
            .find(|d| revealed().filter(|s| s.digest == *d).count() >= self.quorum as usize)
    }

    /// Whether `slot` is past the draw horizon.
    pub fn draw_expired(&self, slot: u64) -> bool {
        slot > self.created_slot.saturating_add(self.draw_horizon_slots)
    }

    /// Records the draw: Open → Assigned, seats and backups set, commit deadline started.
    pub fn assign(
        &mut self,
        seats: Vec<Pubkey>,
        backups: Vec<Pubkey>,
        seed: [u8; 32],
        slot: u64,
        now: i64,
    ) -> Result<()> {
        require!(self.state == JobState::Open, ConcordError::InvalidJobState);
        require!(
            seats.len() == usize::from(self.replication)
                && backups.len() <= usize::from(MAX_BACKUPS),
            ConcordError::NodeAccountsMismatch
        );
        self.seats = seats.into_iter().map(Seat::assigned).collect();
        self.backups = backups;
        self.seed = seed;
        self.drawn_slot = slot;
        self.commit_deadline = now
            .checked_add(self.execution_window)
            .ok_or(ConcordError::MathOverflow)?;
        self.state = JobState::Assigned;
        Ok(())
    }

    /// Records seat `index`'s commitment. Returns whether every seat has now committed (the job
    /// then enters Revealing).
    pub fn commit(&mut self, index: usize, commitment: [u8; 32], now: i64) -> Result<bool> {
        require!(
            self.state == JobState::Assigned,
            ConcordError::InvalidJobState
        );
        require!(
            self.seats[index].status == SeatStatus::Assigned,
            ConcordError::AlreadyCommitted
        );
        require!(now < self.commit_deadline, ConcordError::CommitWindowClosed);
        let seat = &mut self.seats[index];
        seat.status = SeatStatus::Committed;
        seat.commitment = commitment;
        if self.committed_count() == self.seats.len() {
            self.open_reveals(now)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Assigned → Revealing.
    pub fn open_reveals(&mut self, now: i64) -> Result<()> {
        self.state = JobState::Revealing;
        self.reveal_deadline = now
            .checked_add(self.reveal_window)
            .ok_or(ConcordError::MathOverflow)?;
        Ok(())
    }

    /// Checks and records seat `index`'s reveal.
    pub fn reveal(
        &mut self,
        job: &Pubkey,
        index: usize,
        digest: [u8; 32],
        salt: [u8; 32],
        output_uri: String,
        now: i64,
    ) -> Result<()> {
        match self.state {
            JobState::Open | JobState::Assigned => return err!(ConcordError::RevealNotOpen),
            JobState::Revealing => {}
            _ => return err!(ConcordError::InvalidJobState),
        }
        require!(now < self.reveal_deadline, ConcordError::RevealWindowClosed);
        let seat = &mut self.seats[index];
        require!(
            seat.status == SeatStatus::Committed,
            ConcordError::NotCommitted
        );
        require!(
            commitment(job, &seat.node, &digest, &salt) == seat.commitment,
            ConcordError::CommitmentMismatch
        );
        seat.status = SeatStatus::Revealed;
        seat.digest = digest;
        seat.output_uri = output_uri;
        Ok(())
    }

    /// Whether every committed seat has revealed (settlement is then due at once).
    pub fn reveals_complete(&self) -> bool {
        self.state == JobState::Revealing && self.revealed_count() == self.committed_count()
    }

    /// Takes the next backup off the list, in draw order.
    pub fn next_backup(&mut self) -> Option<Pubkey> {
        (!self.backups.is_empty()).then(|| self.backups.remove(0))
    }

    /// Puts `backup` (taken with `next_backup`) into seat `index` in place of its no-show holder.
    pub fn reassign(&mut self, index: usize, backup: Pubkey) {
        self.seats[index] = Seat::assigned(backup);
    }
}

/// The digest a seat holder commits to when the job's input cannot be fetched or does not
/// match its digest: `sha256("concord-input-invalid-v2" ‖ job)`. A quorum on it settles the job
/// (the nodes did their part; the buyer supplied a bad input and pays for it), so a buyer cannot
/// get honest nodes slashed as no-shows by posting a job nobody can run.
pub fn input_invalid_digest(job: &Pubkey) -> [u8; 32] {
    solana_sha256_hasher::hashv(&[INPUT_INVALID_DOMAIN, job.as_ref()]).to_bytes()
}

/// `sha256("concord-commit-v2" ‖ job ‖ node ‖ digest ‖ salt)`.
pub fn commitment(job: &Pubkey, node: &Pubkey, digest: &[u8; 32], salt: &[u8; 32]) -> [u8; 32] {
    solana_sha256_hasher::hashv(&[COMMIT_DOMAIN, job.as_ref(), node.as_ref(), digest, salt])
        .to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn job(replication: u8, quorum: u8) -> Job {
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
                min_agreed: 0,
                max_fault_bps: 10_000,
            },
            replication,
            quorum,
            reward_per_worker: 1,
            work_units: 1,
            price: 1,
            fee_bps: 0,
            fee: 0,
            escrow: 0,
            collateral_per_seat: 1,
            min_stake: 1,
            execution_window: 100,
            reveal_window: 50,
            draw_horizon_slots: 10,
            max_reassignments: 1,
            created_at: 0,
            created_slot: 5,
            seed: [0; 32],
            drawn_slot: 0,
            commit_deadline: 0,
            reveal_deadline: 0,
            reassignments: 0,
            state: JobState::Open,
            seats: vec![],
            backups: vec![],
            accepted_digest: None,
            finalized_at: 0,
            bump: 0,
        }
    }

    fn revealing(quorum: u8, reveals: &[Option<u8>]) -> Job {
        let mut j = job(reveals.len() as u8, quorum);
        j.state = JobState::Revealing;
        j.seats = reveals
            .iter()
            .map(|r| Seat {
                status: if r.is_some() {
                    SeatStatus::Revealed
                } else {
                    SeatStatus::Committed
                },
                digest: [r.unwrap_or(0); 32],
                ..Seat::assigned(Pubkey::new_unique())
            })
            .collect();
        j
    }

    #[test]
    fn quorum_needs_q_matching_reveals() {
        let q = |quorum, r: &[Option<u8>]| revealing(quorum, r).quorum_digest();
        assert_eq!(q(2, &[Some(1), Some(1), Some(2)]), Some([1; 32]));
        assert_eq!(q(2, &[Some(2), Some(1), Some(1)]), Some([1; 32]));
        assert_eq!(q(2, &[Some(1), Some(2), None]), None);
        assert_eq!(
            q(3, &[Some(1), Some(1), None, Some(2), Some(1)]),
            Some([1; 32])
        );
        // A committed-but-unrevealed seat's zero digest never counts.
        assert_eq!(q(2, &[None, None, Some(0)]), None);
    }

    #[test]
    fn lifecycle_transitions_are_checked() {
        let mut j = job(2, 2);
        let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
        let backup = Pubkey::new_unique();
        assert_eq!(
            j.commit(0, [1; 32], 0).unwrap_err(),
            ConcordError::InvalidJobState.into()
        );
        j.assign(vec![a, b], vec![backup], [7; 32], 6, 1_000)
            .unwrap();
        assert_eq!((j.state, j.commit_deadline), (JobState::Assigned, 1_100));
        assert!(j.assign(vec![a, b], vec![], [7; 32], 6, 1_000).is_err());
        let job_key = Pubkey::new_unique();
        let c = commitment(&job_key, &a, &[3; 32], &[4; 32]);
        assert!(!j.commit(0, c, 1_050).unwrap());
        assert_eq!(
            j.commit(0, c, 1_050).unwrap_err(),
            ConcordError::AlreadyCommitted.into()
        );
        assert_eq!(
            j.reveal(&job_key, 0, [3; 32], [4; 32], "u".into(), 1_060)
                .unwrap_err(),
            ConcordError::RevealNotOpen.into()
        );
        assert_eq!(
            j.commit(1, c, 1_100).unwrap_err(),
            ConcordError::CommitWindowClosed.into()
        );
        // The no-show's seat goes to the backup, which then commits.
        let next = j.next_backup().unwrap();
        assert_eq!(next, backup);
        j.reassign(1, next);
        assert_eq!(j.seats[1].node, backup);
        assert!(j.backups.is_empty());
        j.commit_deadline = 1_200;
        assert!(j.commit(1, [9; 32], 1_150).unwrap());
        assert_eq!((j.state, j.reveal_deadline), (JobState::Revealing, 1_200));
        assert_eq!(
            j.reveal(&job_key, 0, [3; 32], [5; 32], "u".into(), 1_160)
                .unwrap_err(),
            ConcordError::CommitmentMismatch.into()
        );
        j.reveal(&job_key, 0, [3; 32], [4; 32], "u".into(), 1_160)
            .unwrap();
        assert!(!j.reveals_complete());
        assert_eq!(
            j.reveal(&job_key, 0, [3; 32], [4; 32], "u".into(), 1_200)
                .unwrap_err(),
            ConcordError::RevealWindowClosed.into()
        );
    }

    #[test]
    fn reputation_requirements() {
        let mut r = job(1, 1).requirements;
        assert!(r.reputation_met(0, 0));
        r.min_agreed = 3;
        assert!(!r.reputation_met(2, 0));
        assert!(r.reputation_met(3, 5));
        r.max_fault_bps = 2_500; // at most a quarter faults
        assert!(r.reputation_met(3, 1));
        assert!(!r.reputation_met(3, 2));
        r.min_agreed = 0;
        assert!(r.reputation_met(0, 0));
    }

    #[test]
    fn account_size_scales_with_replication() {
        assert_eq!(Job::size(MAX_REPLICATION), 8 + Job::INIT_SPACE);
        assert_eq!(Job::size(2) - Job::size(1), Seat::INIT_SPACE);
        assert!(Job::size(MAX_REPLICATION) < 10_240);
    }

    #[test]
    fn commitment_binds_job_and_node() {
        let (j, n, d, s) = (Pubkey::new_unique(), Pubkey::new_unique(), [3; 32], [4; 32]);
        let c = commitment(&j, &n, &d, &s);
        assert_ne!(c, commitment(&Pubkey::new_unique(), &n, &d, &s));
        assert_ne!(c, commitment(&j, &Pubkey::new_unique(), &d, &s));
        assert_ne!(c, commitment(&j, &n, &d, &[5; 32]));
        let mut pre = b"concord-commit-v2".to_vec();
        for part in [j.as_ref(), n.as_ref(), &d[..], &s[..]] {
            pre.extend_from_slice(part);
        }
        assert_eq!(c, solana_sha256_hasher::hash(&pre).to_bytes());
    }
}
