//! Running the program natively, in the real runtime but without the SBF VM (the local network
//! and the program tests load it this way, since no SBF toolchain is needed to build it).
//!
//! On chain, the VM's `sol_log_` and `sol_log_data` syscalls write `Program log:` and
//! `Program data:` lines to the transaction's log. Natively, `msg!` prints to stdout and Anchor's
//! `emit!` does nothing, so no client could see Anchor's `Instruction: …` and `AnchorError …`
//! lines or Concord's events. [`entry`] and [`install_log_routing`] put both back where they
//! belong: `msg!` goes through the workspace's patched `solana-msg` hook into the runtime's log
//! collector, and [`crate::events::emit`] goes through the syscall stubs, tagged with
//! [`DATA_LOG_MARKER`] so that the host can turn the line into `Program data: …` (the runtime's
//! stubs only write `Program log:` lines). The host must rewrite those lines; the local network's
//! log normaliser does.

use std::cell::Cell;
use std::sync::Once;

use anchor_lang::prelude::*;
use anchor_lang::solana_program::entrypoint::ProgramResult;
use base64::Engine;
use solana_sysvar::program_stubs::{self, SyscallStubs};

/// Prefix of a `Program log:` line that carries `sol_log_data` fields (base64, space-separated).
/// The host rewrites `Program log: <marker><fields>` to `Program data: <fields>`, but only inside
/// an invocation of this program, so no other program can forge a data line by logging it.
pub const DATA_LOG_MARKER: &str = "\u{1e}concord-program-data\u{1e}";

thread_local! {
    /// How deep this thread is inside [`entry`]: `msg!` is routed to the log only there.
    static IN_PROGRAM: Cell<u32> = const { Cell::new(0) };
}

/// The program's entrypoint for `solana_program_test::processor!`: Anchor's generated entry,
/// with `msg!` routed to the transaction's log while it runs.
pub fn entry(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    // Anchor's entry wants one lifetime for all three borrows; processor! hands out distinct
    // ones. The runtime keeps all of them alive for the whole call.
    let accounts: &[AccountInfo] = unsafe { std::mem::transmute(accounts) };
    IN_PROGRAM.with(|d| d.set(d.get() + 1));
    let result = crate::entry(program_id, accounts, data);
    IN_PROGRAM.with(|d| d.set(d.get() - 1));
    result
}

/// Routes `msg!` and [`crate::events::emit`] into the runtime's log, as described in the module
/// documentation. Call it after the runtime has installed its syscall stubs
/// (`ProgramTest::start*` does); calling it again does nothing.
pub fn install_log_routing() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        solana_msg::set_native_log_hook(route_msg);
        let runtime = program_stubs::set_syscall_stubs(Box::new(Unrouted));
        program_stubs::set_syscall_stubs(Box::new(Routed { runtime }));
    });
}

fn route_msg(message: &str) -> bool {
    if IN_PROGRAM.with(Cell::get) == 0 {
        return false;
    }
    program_stubs::sol_log(message);
    true
}

/// Present only for the instant between taking the runtime's stubs and wrapping them.
struct Unrouted;
impl SyscallStubs for Unrouted {}

/// The runtime's stubs, with `sol_log_data` written to the log.
struct Routed {
    runtime: Box<dyn SyscallStubs>,
}

impl SyscallStubs for Routed {
    fn sol_log(&self, message: &str) {
        self.runtime.sol_log(message)
    }
    fn sol_log_data(&self, fields: &[&[u8]]) {
        let encoded: Vec<String> = fields
            .iter()
            .map(|f| base64::engine::general_purpose::STANDARD.encode(f))
            .collect();
        self.runtime
            .sol_log(&format!("{DATA_LOG_MARKER}{}", encoded.join(" ")))
    }
    fn sol_log_compute_units(&self) {
        self.runtime.sol_log_compute_units()
    }
    fn sol_remaining_compute_units(&self) -> u64 {
        self.runtime.sol_remaining_compute_units()
    }
    fn sol_invoke_signed(
        &self,
        instruction: &anchor_lang::solana_program::instruction::Instruction,
        account_infos: &[AccountInfo],
        signers_seeds: &[&[&[u8]]],
    ) -> ProgramResult {
        self.runtime
            .sol_invoke_signed(instruction, account_infos, signers_seeds)
    }
    fn sol_get_sysvar(&self, id: *const u8, var: *mut u8, offset: u64, length: u64) -> u64 {
        self.runtime.sol_get_sysvar(id, var, offset, length)
    }
    fn sol_get_clock_sysvar(&self, var: *mut u8) -> u64 {
        self.runtime.sol_get_clock_sysvar(var)
    }
    fn sol_get_epoch_schedule_sysvar(&self, var: *mut u8) -> u64 {
        self.runtime.sol_get_epoch_schedule_sysvar(var)
    }
    fn sol_get_fees_sysvar(&self, var: *mut u8) -> u64 {
        self.runtime.sol_get_fees_sysvar(var)
    }
    fn sol_get_rent_sysvar(&self, var: *mut u8) -> u64 {
        self.runtime.sol_get_rent_sysvar(var)
    }
    fn sol_get_epoch_rewards_sysvar(&self, var: *mut u8) -> u64 {
        self.runtime.sol_get_epoch_rewards_sysvar(var)
    }
    fn sol_get_last_restart_slot(&self, var: *mut u8) -> u64 {
        self.runtime.sol_get_last_restart_slot(var)
    }
    fn sol_get_epoch_stake(&self, vote_address: *const u8) -> u64 {
        self.runtime.sol_get_epoch_stake(vote_address)
    }
    unsafe fn sol_memcpy(&self, dst: *mut u8, src: *const u8, n: usize) {
        self.runtime.sol_memcpy(dst, src, n)
    }
    unsafe fn sol_memmove(&self, dst: *mut u8, src: *const u8, n: usize) {
        self.runtime.sol_memmove(dst, src, n)
    }
    unsafe fn sol_memcmp(&self, s1: *const u8, s2: *const u8, n: usize, result: *mut i32) {
        self.runtime.sol_memcmp(s1, s2, n, result)
    }
    unsafe fn sol_memset(&self, s: *mut u8, c: u8, n: usize) {
        self.runtime.sol_memset(s, c, n)
    }
    fn sol_get_return_data(&self) -> Option<(Pubkey, Vec<u8>)> {
        self.runtime.sol_get_return_data()
    }
    fn sol_set_return_data(&self, data: &[u8]) {
        self.runtime.sol_set_return_data(data)
    }
    fn sol_get_processed_sibling_instruction(
        &self,
        index: usize,
    ) -> Option<anchor_lang::solana_program::instruction::Instruction> {
        self.runtime.sol_get_processed_sibling_instruction(index)
    }
    fn sol_get_stack_height(&self) -> u64 {
        self.runtime.sol_get_stack_height()
    }
}
