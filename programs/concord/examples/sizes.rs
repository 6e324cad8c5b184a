//! Prints every account's size and its rent-exempt deposit at the default rent
//! (`cargo run -p concord --example sizes`); docs/program.md quotes this table.

use anchor_lang::prelude::Rent;
use concord::state::{Job, Market, Node, Pool, POOL_CAPACITY};

fn main() {
    let rent = Rent::default();
    let row = |name: &str, size: usize| {
        let lamports = rent.minimum_balance(size);
        println!(
            "| {name:<25} | {size:>6} | {lamports:>15} | {:>10.6} |",
            lamports as f64 / 1e9
        );
    };
    println!("| account                   |  bytes | rent (lamports) | rent (SOL) |");
    println!("|---------------------------|-------:|----------------:|-----------:|");
    row("Market", Market::SIZE);
    row(&format!("Pool ({POOL_CAPACITY} entries)"), Pool::SIZE);
    row("Node", Node::SIZE);
    for n in 1..=concord::constants::MAX_REPLICATION {
        row(&format!("Job, N = {n}"), Job::size(n));
    }
    row("Vault (SPL Token account)", 165);
}
