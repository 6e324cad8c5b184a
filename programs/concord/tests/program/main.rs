//! The Concord program in the real Solana runtime (solana-program-test, native processor, real
//! SPL Token and Token-2022 programs). The conservation invariant and the pool invariant are
//! checked after every transaction by the harness.

// solana-program-test 3.x marks its API "unstable" via deprecation; that is the tool we want.
#![allow(deprecated)]
// Tests resend the same instruction after a refusal; `&[ix.clone()]` reads better there.
#![allow(clippy::cloned_ref_to_slice_refs)]

mod attacks;
mod deadlines;
mod draw;
mod fuzz;
mod harness;
mod lifecycle;
mod market;
mod nodes;
