use anchor_lang::prelude::*;
use anchor_lang::solana_program::program_pack::Pack;
use anchor_lang::system_program::{self, Allocate, Assign, CreateAccount, Transfer};
use anchor_spl::token_2022::spl_token_2022::{
    self,
    extension::{BaseStateWithExtensions, ExtensionType, StateWithExtensions},
};
use anchor_spl::token_interface::{self, InitializeAccount3, Mint, TokenInterface};

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::MarketCreated;
use crate::state::{Market, MarketParams, Pool};

/// Token-2022 mint extensions that break the vault's accounting or let a third party move,
/// freeze or hold back its tokens.
const REJECTED_EXTENSIONS: [ExtensionType; 9] = [
    // transfers deliver less than `amount`
    ExtensionType::TransferFeeConfig,
    // arbitrary code on every transfer, which can fail them at will
    ExtensionType::TransferHook,
    // tokens could never leave the vault
    ExtensionType::NonTransferable,
    // balances move outside the public amount
    ExtensionType::ConfidentialTransferMint,
    ExtensionType::ConfidentialTransferFeeConfig,
    // the delegate can drain the vault
    ExtensionType::PermanentDelegate,
    // the mint authority can stop withdrawals
    ExtensionType::Pausable,
    // new accounts, the vault among them, may start frozen
    ExtensionType::DefaultAccountState,
    // at supply 0 the mint can be closed and re-created at the same address with any of the
    // extensions above (a permanent delegate, say), while the ledgers still show the stake
    ExtensionType::MintCloseAuthority,
];

/// Creates a market with its vault; the signer becomes its authority.
#[derive(Accounts)]
#[instruction(market_id: u64)]
pub struct CreateMarket<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,

    #[account(
        init,
        payer = authority,
        space = Market::SIZE,
        seeds = [MARKET_SEED, authority.key().as_ref(), &market_id.to_le_bytes()],
        bump,
    )]
    pub market: Account<'info, Market>,

    #[account(mint::token_program = token_program)]
    pub mint: InterfaceAccount<'info, Mint>,

    /// CHECK: the vault PDA `["vault", market]`; created and initialised as a token account in
    /// the handler, after the mint's extensions have been checked.
    #[account(mut, seeds = [VAULT_SEED, market.key().as_ref()], bump)]
    pub vault: UncheckedAccount<'info>,

    /// The draw's pool: an account of `Pool::SIZE` bytes owned by this program and still zeroed,
    /// created by the authority in the same transaction (it is larger than a program may
    /// allocate through a CPI).
    #[account(zero)]
    pub pool: AccountLoader<'info, Pool>,

    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl CreateMarket<'_> {
    pub fn handle(ctx: Context<Self>, market_id: u64, params: MarketParams) -> Result<()> {
        params.validate()?;
        let vault_len = vault_account_len(&ctx.accounts.mint.to_account_info())?;
        ctx.accounts.create_vault(vault_len, ctx.bumps.vault)?;
        let slot = Clock::get()?.slot;
        ctx.accounts.pool.load_init()?.init(
            ctx.accounts.market.key(),
            params.draw_horizon_slots,
            slot,
        );

        let market = &mut ctx.accounts.market;
        market.set_inner(Market {
            authority: ctx.accounts.authority.key(),
            market_id,
            mint: ctx.accounts.mint.key(),
            mint_decimals: ctx.accounts.mint.decimals,
            token_program: ctx.accounts.token_program.key(),
            vault: ctx.accounts.vault.key(),
            pool: ctx.accounts.pool.key(),
            next_job_id: 0,
            treasury: 0,
            total_stake: 0,
            total_earnings: 0,
            total_escrow: 0,
            node_count: 0,
            params,
            paused: false,
            bump: ctx.bumps.market,
            vault_bump: ctx.bumps.vault,
        });
        crate::events::emit(MarketCreated {
            market: market.key(),
            authority: market.authority,
            market_id,
            mint: market.mint,
            vault: market.vault,
            pool: market.pool,
            params,
        });
        Ok(())
    }

    /// Creates the vault PDA as a token account. An address that already holds lamports (anyone
    /// can send SOL to a PDA before it exists) cannot go through `create_account`; it is topped
    /// up to the rent minimum, allocated and assigned instead, so pre-funding cannot block the
    /// market's creation.
    fn create_vault(&self, len: usize, vault_bump: u8) -> Result<()> {
        let market_key = self.market.key();
        let vault_seeds: &[&[u8]] = &[VAULT_SEED, market_key.as_ref(), &[vault_bump]];
        let vault = self.vault.to_account_info();
        let rent = Rent::get()?.minimum_balance(len);
        let token_program = self.token_program.key();
        let system = self.system_program.key();
        if vault.lamports() == 0 {
            system_program::create_account(
                CpiContext::new_with_signer(
                    system,
                    CreateAccount {
                        from: self.authority.to_account_info(),
                        to: vault.clone(),
                    },
                    &[vault_seeds],
                ),
                rent,
                len as u64,
                &token_program,
            )?;
        } else {
            // Only a system-owned, empty account can be taken over this way; anything else at
            // the PDA's address is refused by the system program's allocate/assign below.
            let top_up = rent.saturating_sub(vault.lamports());
            if top_up > 0 {
                system_program::transfer(
                    CpiContext::new(
                        system,
                        Transfer {
                            from: self.authority.to_account_info(),
                            to: vault.clone(),
                        },
                    ),
                    top_up,
                )?;
            }
            system_program::allocate(
                CpiContext::new_with_signer(
                    system,
                    Allocate {
                        account_to_allocate: vault.clone(),
                    },
                    &[vault_seeds],
                ),
                len as u64,
            )?;
            system_program::assign(
                CpiContext::new_with_signer(
                    system,
                    Assign {
                        account_to_assign: vault.clone(),
                    },
                    &[vault_seeds],
                ),
                &token_program,
            )?;
        }
        token_interface::initialize_account3(CpiContext::new(
            token_program,
            InitializeAccount3 {
                account: vault,
                mint: self.mint.to_account_info(),
                authority: self.market.to_account_info(),
            },
        ))
    }
}

/// Size of the vault token account for this mint, after rejecting unsupported extensions.
fn vault_account_len(mint: &AccountInfo) -> Result<usize> {
    if *mint.owner != spl_token_2022::ID {
        return Ok(spl_token_2022::state::Account::LEN);
    }
    let data = mint.try_borrow_data()?;
    let state = StateWithExtensions::<spl_token_2022::state::Mint>::unpack(&data)?;
    let extensions = state.get_extension_types()?;
    require!(
        !extensions.iter().any(|e| REJECTED_EXTENSIONS.contains(e)),
        ConcordError::UnsupportedMintExtension
    );
    let account_extensions = ExtensionType::get_required_init_account_extensions(&extensions);
    Ok(ExtensionType::try_calculate_account_len::<
        spl_token_2022::state::Account,
    >(&account_extensions)?)
}
