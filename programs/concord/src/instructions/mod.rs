//! One module per instruction.

pub mod cancel_job;
pub mod claim_job;
pub mod close_job;
pub mod commit_result;
pub mod create_job;
pub mod create_market;
pub mod deposit_stake;
pub mod register_node;
pub mod request_unbond;
pub mod reveal_result;
pub mod set_paused;
pub mod settle_job;
pub mod update_market;
pub mod update_node;
pub mod withdraw_earnings;
pub mod withdraw_stake;
pub mod withdraw_treasury;

pub use cancel_job::*;
pub use claim_job::*;
pub use close_job::*;
pub use commit_result::*;
pub use create_job::*;
pub use create_market::*;
pub use deposit_stake::*;
pub use register_node::*;
pub use request_unbond::*;
pub use reveal_result::*;
pub use set_paused::*;
pub use settle_job::*;
pub use update_market::*;
pub use update_node::*;
pub use withdraw_earnings::*;
pub use withdraw_stake::*;
pub use withdraw_treasury::*;
