//! What a fresh local network starts with: a test mint, a market with sane defaults, and funded
//! buyer and operator keypairs written as Solana CLI keypair files.

use std::path::{Path, PathBuf};

use concord::MarketParams;
use concord_client::{ix, ConcordClient};
use serde::{Deserialize, Serialize};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{read_keypair_file, write_keypair_file, Keypair, Signer};

use crate::LocalnetError;

/// Decimals of the local test mint.
pub const DECIMALS: u8 = 6;
/// Tokens the buyer starts with.
pub const BUYER_TOKENS: u64 = 100_000;
/// Tokens each operator starts with.
pub const OPERATOR_TOKENS: u64 = 10_000;
/// Operators bootstrapped.
pub const OPERATORS: usize = 3;

/// Market parameters of the local market: short windows, so deadlines pass in minutes, and a
/// 32-slot draw horizon (about 13 s at 400 ms slots), which is also the pool's epoch: a node that
/// registers is drawn for jobs created from the next epoch on.
pub fn local_params() -> MarketParams {
    let unit = 10u64.pow(u32::from(DECIMALS));
    MarketParams {
        fee_bps: 250,
        min_stake: 100 * unit,
        min_collateral: 20 * unit,
        collateral_bps: 10_000,
        execution_window: 300,
        reveal_window: 120,
        unbonding_period: 600,
        max_replication: 7,
        draw_horizon_slots: 32,
        max_reassignments: 1,
    }
}

/// Everything a client needs to use the local market; written to `<data-dir>/localnet.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BootstrapInfo {
    pub rpc_url: String,
    pub program_id: String,
    pub market: String,
    pub market_id: u64,
    pub mint: String,
    pub decimals: u8,
    pub token_program: String,
    pub authority_keypair: PathBuf,
    pub mint_authority_keypair: PathBuf,
    pub buyer_keypair: PathBuf,
    pub operator_keypairs: Vec<PathBuf>,
}

impl BootstrapInfo {
    pub fn market(&self) -> Pubkey {
        self.market.parse().expect("written by bootstrap")
    }
    pub fn mint(&self) -> Pubkey {
        self.mint.parse().expect("written by bootstrap")
    }
}

/// Loads `path`, or creates and writes a new keypair there.
pub fn load_or_create_keypair(path: &Path) -> Result<Keypair, LocalnetError> {
    if path.exists() {
        return read_keypair_file(path)
            .map_err(|e| LocalnetError::Keypair(format!("{}: {e}", path.display())));
    }
    let kp = Keypair::new();
    write_keypair_file(&kp, path)
        .map_err(|e| LocalnetError::Keypair(format!("{}: {e}", path.display())))?;
    Ok(kp)
}

pub async fn bootstrap(
    client: &ConcordClient,
    rpc_url: &str,
    dir: &Path,
) -> Result<BootstrapInfo, LocalnetError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| LocalnetError::Io(format!("{}: {e}", dir.display())))?;
    let path = |name: &str| dir.join(name);
    let authority = load_or_create_keypair(&path("authority.json"))?;
    let mint_authority = load_or_create_keypair(&path("mint-authority.json"))?;
    let buyer = load_or_create_keypair(&path("buyer.json"))?;
    let operators: Vec<(PathBuf, Keypair)> = (1..=OPERATORS)
        .map(|i| {
            let p = path(&format!("operator-{i}.json"));
            load_or_create_keypair(&p).map(|k| (p, k))
        })
        .collect::<Result<_, _>>()?;

    let rpc = client.rpc();
    let mut wallets = vec![authority.pubkey(), mint_authority.pubkey(), buyer.pubkey()];
    wallets.extend(operators.iter().map(|(_, k)| k.pubkey()));
    for w in &wallets {
        rpc.request_airdrop(w, 100_000_000_000)
            .await
            .map_err(|e| LocalnetError::Bootstrap(e.to_string()))?;
    }

    // The test mint (classic SPL Token, 6 decimals).
    let token_program = spl_token_interface::ID;
    let mint = Keypair::new();
    let rent = rpc
        .get_minimum_balance_for_rent_exemption(82)
        .await
        .map_err(|e| LocalnetError::Bootstrap(e.to_string()))?;
    let create_mint = [
        solana_system_interface::instruction::create_account(
            &client.payer_key(),
            &mint.pubkey(),
            rent,
            82,
            &token_program,
        ),
        spl_token_interface::instruction::initialize_mint2(
            &token_program,
            &mint.pubkey(),
            &mint_authority.pubkey(),
            None,
            DECIMALS,
        )
        .map_err(|e| LocalnetError::Bootstrap(e.to_string()))?,
    ];
    client
        .send(&create_mint, &[&mint])
        .await
        .map_err(bootstrap_err)?;

    // Funded token accounts.
    let unit = 10u64.pow(u32::from(DECIMALS));
    let mut funding = vec![];
    for (wallet, tokens) in std::iter::once((buyer.pubkey(), BUYER_TOKENS))
        .chain(operators.iter().map(|(_, k)| (k.pubkey(), OPERATOR_TOKENS)))
    {
        let ata = ix::associated_token_address(&wallet, &mint.pubkey(), &token_program);
        funding.push(ix::create_token_account_idempotent(
            &client.payer_key(),
            &wallet,
            &mint.pubkey(),
            &token_program,
        ));
        funding.push(
            spl_token_interface::instruction::mint_to(
                &token_program,
                &mint.pubkey(),
                &ata,
                &mint_authority.pubkey(),
                &[],
                tokens * unit,
            )
            .map_err(|e| LocalnetError::Bootstrap(e.to_string()))?,
        );
    }
    client
        .send(&funding, &[&mint_authority])
        .await
        .map_err(bootstrap_err)?;

    // The market, with its pool account.
    let market_id = 0;
    let pool = Keypair::new();
    let pool_rent = rpc
        .get_minimum_balance_for_rent_exemption(concord::state::Pool::SIZE)
        .await
        .map_err(|e| LocalnetError::Bootstrap(e.to_string()))?;
    let create = [
        ix::create_pool_account(&authority.pubkey(), &pool.pubkey(), pool_rent),
        ix::create_market(
            &authority.pubkey(),
            market_id,
            &mint.pubkey(),
            &token_program,
            &pool.pubkey(),
            local_params(),
        ),
    ];
    client
        .send(&create, &[&authority, &pool])
        .await
        .map_err(bootstrap_err)?;
    let market = concord_client::pda::market_address(&authority.pubkey(), market_id);

    let info = BootstrapInfo {
        rpc_url: rpc_url.to_string(),
        program_id: concord::ID.to_string(),
        market: market.to_string(),
        market_id,
        mint: mint.pubkey().to_string(),
        decimals: DECIMALS,
        token_program: token_program.to_string(),
        authority_keypair: path("authority.json"),
        mint_authority_keypair: path("mint-authority.json"),
        buyer_keypair: path("buyer.json"),
        operator_keypairs: operators.into_iter().map(|(p, _)| p).collect(),
    };
    let json = serde_json::to_string_pretty(&info).expect("serializable");
    std::fs::write(path("localnet.json"), json).map_err(|e| LocalnetError::Io(e.to_string()))?;
    Ok(info)
}

fn bootstrap_err(e: concord_client::ClientError) -> LocalnetError {
    LocalnetError::Bootstrap(e.to_string())
}
