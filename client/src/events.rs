//! Decoding Concord's Anchor events from transaction logs (`Program data: <base64>` lines).

use anchor_lang::{AnchorDeserialize, Discriminator};
use base64::Engine;
use concord::events::*;

/// Every event the program emits.
#[derive(Debug)]
pub enum ConcordEvent {
    /// [`MarketCreated`] event.
    MarketCreated(MarketCreated),
    /// [`MarketUpdated`] event.
    MarketUpdated(MarketUpdated),
    /// [`MarketPauseSet`] event.
    MarketPauseSet(MarketPauseSet),
    /// [`TreasuryWithdrawn`] event.
    TreasuryWithdrawn(TreasuryWithdrawn),
    /// [`NodeRegistered`] event.
    NodeRegistered(NodeRegistered),
    /// [`NodeUpdated`] event.
    NodeUpdated(NodeUpdated),
    /// [`StakeDeposited`] event.
    StakeDeposited(StakeDeposited),
    /// [`UnbondRequested`] event.
    UnbondRequested(UnbondRequested),
    /// [`StakeWithdrawn`] event.
    StakeWithdrawn(StakeWithdrawn),
    /// [`EarningsWithdrawn`] event.
    EarningsWithdrawn(EarningsWithdrawn),
    /// [`JobCreated`] event.
    JobCreated(JobCreated),
    /// [`SurplusSwept`] event.
    SurplusSwept(SurplusSwept),
    /// [`NodeAvailabilitySet`] event.
    NodeAvailabilitySet(NodeAvailabilitySet),
    /// [`NodeAskSet`] event.
    NodeAskSet(NodeAskSet),
    /// [`JobDrawn`] event.
    JobDrawn(JobDrawn),
    /// [`SkippedNode`] event.
    SkippedNode(SkippedNode),
    /// [`SeatReassigned`] event.
    SeatReassigned(SeatReassigned),
    /// [`RefundDelivered`] event.
    RefundDelivered(RefundDelivered),
    /// [`ResultCommitted`] event.
    ResultCommitted(ResultCommitted),
    /// [`ResultRevealed`] event.
    ResultRevealed(ResultRevealed),
    /// [`JobStateChanged`] event.
    JobStateChanged(JobStateChanged),
    /// [`SeatSettled`] event.
    SeatSettled(SeatSettled),
    /// [`JobFinalized`] event.
    JobFinalized(JobFinalized),
    /// [`JobClosed`] event.
    JobClosed(JobClosed),
}

macro_rules! decode_one {
    ($disc:expr, $data:expr, $($ty:ident),*) => {
        $(
            if $disc == $ty::DISCRIMINATOR {
                return $ty::deserialize(&mut &$data[..]).ok().map(ConcordEvent::$ty);
            }
        )*
    };
}

impl ConcordEvent {
    /// Decodes one event from its serialized form (8-byte discriminator + borsh).
    pub fn decode(bytes: &[u8]) -> Option<ConcordEvent> {
        if bytes.len() < 8 {
            return None;
        }
        let (disc, data) = bytes.split_at(8);
        decode_one!(
            disc,
            data,
            MarketCreated,
            MarketUpdated,
            MarketPauseSet,
            TreasuryWithdrawn,
            NodeRegistered,
            NodeUpdated,
            StakeDeposited,
            UnbondRequested,
            StakeWithdrawn,
            EarningsWithdrawn,
            JobCreated,
            SurplusSwept,
            NodeAvailabilitySet,
            NodeAskSet,
            JobDrawn,
            SkippedNode,
            SeatReassigned,
            RefundDelivered,
            ResultCommitted,
            ResultRevealed,
            JobStateChanged,
            SeatSettled,
            JobFinalized,
            JobClosed
        );
        None
    }
}

/// Every Concord event in a transaction's log messages, in order. Lines that are not Concord
/// events (other programs' data, plain logs) are skipped.
pub fn parse_logs<S: AsRef<str>>(logs: &[S]) -> Vec<ConcordEvent> {
    logs.iter()
        .filter_map(|line| line.as_ref().strip_prefix("Program data: "))
        .filter_map(|b64| {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
        })
        .filter_map(|bytes| ConcordEvent::decode(&bytes))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::prelude::Pubkey;
    use anchor_lang::Event;
    use concord::state::JobState;

    #[test]
    fn decodes_events_from_log_lines() {
        let changed = JobStateChanged {
            job: Pubkey::new_unique(),
            from: JobState::Assigned,
            to: JobState::Revealing,
            at: 42,
        };
        let reassigned = SeatReassigned {
            job: Pubkey::new_unique(),
            seat: 2,
            from: Pubkey::new_unique(),
            to: Pubkey::new_unique(),
        };
        let b64 = |d: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(d);
        let logs = vec![
            "Program 11111111111111111111111111111111 invoke [1]".to_string(),
            format!("Program data: {}", b64(changed.data())),
            "Program data: bm90IGFuIGV2ZW50".to_string(),
            format!("Program data: {}", b64(reassigned.data())),
        ];
        let events = parse_logs(&logs);
        assert_eq!(events.len(), 2);
        match &events[0] {
            ConcordEvent::JobStateChanged(e) => {
                assert_eq!((e.job, e.to, e.at), (changed.job, JobState::Revealing, 42))
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(&events[1], ConcordEvent::SeatReassigned(e) if e.seat == 2 && e.to == reassigned.to)
        );
    }
}
