//! The ledger history the local network keeps: committed transactions with their status meta,
//! signatures by address, and blocks, each bounded (oldest dropped first).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use solana_account_decoder::parse_account_data::SplTokenAdditionalDataV2;
use solana_account_decoder::parse_token::token_amount_to_ui_amount_v3;
use solana_sdk::clock::Slot;
use solana_sdk::hash::Hash;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signature;
use solana_sdk::transaction::VersionedTransaction;
use solana_svm::transaction_balances::SvmTokenInfo;
use solana_transaction_status::{TransactionStatusMeta, TransactionTokenBalance};

/// How much history is kept.
#[derive(Clone, Copy, Debug)]
pub struct HistoryLimits {
    /// Transactions kept (with meta and logs); the oldest are dropped first.
    pub transactions: usize,
    /// Blocks (slots) kept.
    pub blocks: usize,
}

impl Default for HistoryLimits {
    /// A day of development: 50 000 transactions, and a day of 400 ms slots (216 000 blocks).
    fn default() -> Self {
        HistoryLimits {
            transactions: 50_000,
            blocks: 216_000,
        }
    }
}

/// A committed transaction.
#[derive(Clone, Debug)]
pub struct TxRecord {
    pub signature: Signature,
    pub slot: Slot,
    pub block_time: i64,
    pub transaction: VersionedTransaction,
    pub meta: TransactionStatusMeta,
    /// Every account key the transaction referenced (static and loaded).
    pub keys: Vec<Pubkey>,
    /// The transaction's memos, as `getSignaturesForAddress` shows them.
    pub memo: Option<String>,
}

/// A frozen slot's block.
#[derive(Clone, Debug)]
pub struct BlockRecord {
    pub slot: Slot,
    pub parent_slot: Slot,
    pub blockhash: Hash,
    pub previous_blockhash: Hash,
    pub block_time: i64,
    pub block_height: u64,
    /// Filled in by [`History::close_block`], in execution order.
    pub signatures: Vec<Signature>,
}

#[derive(Default)]
struct Inner {
    txs: HashMap<Signature, Arc<TxRecord>>,
    order: VecDeque<Signature>,
    /// Per address, its signatures oldest first.
    by_address: HashMap<Pubkey, VecDeque<Signature>>,
    /// Signatures of slots whose block is not closed yet.
    open: BTreeMap<Slot, Vec<Signature>>,
    blocks: BTreeMap<Slot, BlockRecord>,
}

pub struct History {
    limits: HistoryLimits,
    inner: Mutex<Inner>,
}

impl History {
    pub fn new(limits: HistoryLimits) -> History {
        History {
            limits,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `record`; returns it shared.
    pub fn record(&self, record: TxRecord) -> Arc<TxRecord> {
        let record = Arc::new(record);
        let mut inner = self.lock();
        let sig = record.signature;
        for key in &record.keys {
            inner.by_address.entry(*key).or_default().push_back(sig);
        }
        inner.open.entry(record.slot).or_default().push(sig);
        inner.order.push_back(sig);
        inner.txs.insert(sig, Arc::clone(&record));
        while inner.order.len() > self.limits.transactions {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            if let Some(gone) = inner.txs.remove(&old) {
                for key in &gone.keys {
                    if let Some(list) = inner.by_address.get_mut(key) {
                        if list.front() == Some(&old) {
                            list.pop_front();
                        }
                        if list.is_empty() {
                            inner.by_address.remove(key);
                        }
                    }
                }
            }
        }
        record
    }

    /// Records the block of a frozen slot, with the signatures executed in it.
    pub fn close_block(&self, mut block: BlockRecord) {
        let mut inner = self.lock();
        block.signatures = inner.open.remove(&block.slot).unwrap_or_default();
        // A slot older than this one can no longer receive transactions.
        let stale: Vec<Slot> = inner.open.range(..block.slot).map(|(s, _)| *s).collect();
        for s in stale {
            inner.open.remove(&s);
        }
        inner.blocks.insert(block.slot, block);
        while inner.blocks.len() > self.limits.blocks {
            inner.blocks.pop_first();
        }
    }

    pub fn transaction(&self, signature: &Signature) -> Option<Arc<TxRecord>> {
        self.lock().txs.get(signature).cloned()
    }

    /// Up to `limit` records that mention `address`, newest first, strictly older than `before`
    /// and newer than `until` (signatures; ignored when not kept).
    pub fn for_address(
        &self,
        address: &Pubkey,
        before: Option<&Signature>,
        until: Option<&Signature>,
        limit: usize,
    ) -> Vec<Arc<TxRecord>> {
        let inner = self.lock();
        let Some(list) = inner.by_address.get(address) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut started = before.is_none_or(|b| !list.contains(b));
        for sig in list.iter().rev() {
            if !started {
                started = Some(sig) == before;
                continue;
            }
            if Some(sig) == until || out.len() >= limit {
                break;
            }
            if let Some(r) = inner.txs.get(sig) {
                out.push(Arc::clone(r));
            }
        }
        out
    }

    pub fn block(&self, slot: Slot) -> Option<BlockRecord> {
        self.lock().blocks.get(&slot).cloned()
    }

    /// Slots with a kept block in `[start, end]`, ascending, at most `limit`.
    pub fn block_slots(&self, start: Slot, end: Slot, limit: usize) -> Vec<Slot> {
        if start > end {
            return Vec::new();
        }
        self.lock()
            .blocks
            .range(start..=end)
            .map(|(s, _)| *s)
            .take(limit)
            .collect()
    }

    /// The oldest slot whose block is kept.
    pub fn first_block(&self) -> Option<Slot> {
        self.lock().blocks.keys().next().copied()
    }

    /// Number of transactions kept.
    pub fn len(&self) -> usize {
        self.lock().order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The RPC's token balance from the runtime's balance recording (as agave's ledger converts it).
pub fn token_balance(info: SvmTokenInfo) -> TransactionTokenBalance {
    TransactionTokenBalance {
        account_index: info.account_index,
        mint: info.mint.to_string(),
        ui_token_amount: token_amount_to_ui_amount_v3(
            info.amount,
            &SplTokenAdditionalDataV2::with_decimals(info.decimals),
        ),
        owner: info.owner.to_string(),
        program_id: info.program_id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: u8, slot: Slot, keys: &[Pubkey]) -> TxRecord {
        TxRecord {
            signature: Signature::from([n; 64]),
            slot,
            block_time: 0,
            transaction: VersionedTransaction::default(),
            meta: TransactionStatusMeta::default(),
            keys: keys.to_vec(),
            memo: None,
        }
    }

    #[test]
    fn drops_the_oldest_and_pages_by_address() {
        let a = Pubkey::new_unique();
        let b = Pubkey::new_unique();
        let h = History::new(HistoryLimits {
            transactions: 3,
            blocks: 2,
        });
        for n in 1..=4 {
            h.record(record(n, u64::from(n), &[a, b]));
        }
        assert_eq!(h.len(), 3);
        assert!(h.transaction(&Signature::from([1; 64])).is_none());
        let sigs = |v: Vec<Arc<TxRecord>>| {
            v.iter()
                .map(|r| r.signature.as_ref()[0])
                .collect::<Vec<_>>()
        };
        assert_eq!(sigs(h.for_address(&a, None, None, 10)), vec![4, 3, 2]);
        let four = Signature::from([4; 64]);
        let two = Signature::from([2; 64]);
        assert_eq!(sigs(h.for_address(&a, Some(&four), None, 10)), vec![3, 2]);
        assert_eq!(sigs(h.for_address(&a, None, Some(&two), 10)), vec![4, 3]);
        assert_eq!(sigs(h.for_address(&b, None, None, 1)), vec![4]);
        for slot in 1..=3 {
            h.close_block(BlockRecord {
                slot,
                parent_slot: slot - 1,
                blockhash: Hash::default(),
                previous_blockhash: Hash::default(),
                block_time: 0,
                block_height: slot,
                signatures: vec![],
            });
        }
        assert_eq!(h.block_slots(0, 10, 10), vec![2, 3]);
        assert_eq!(
            h.block(3).map(|b| b.signatures),
            Some(vec![Signature::from([3; 64])])
        );
    }
}
