// Errors as a person can act on them: the program's errors by name (from the IDL) with what to
// do, a wallet's refusal, missing funds, an unreachable RPC.
import rawIdl from "../../../idl/concord.json";

interface IdlError {
  code: number;
  name: string;
  msg: string;
}
const PROGRAM_ERRORS: IdlError[] = (rawIdl as { errors: IdlError[] }).errors;

/** A transaction the program (or the runtime) refused, with its logs. */
export class ProgramFailure extends Error {
  constructor(
    readonly err: unknown,
    readonly logs: string[],
  ) {
    super(`transaction failed: ${JSON.stringify(err)}`);
  }
}

/** A problem the page found before sending anything; its message says what to fix. */
export class UserError extends Error {}

/** What to do about the program errors a buyer can meet. */
const HINTS: Record<string, string> = {
  MarketPaused: "The market's authority has paused it. Try again later or pick another market.",
  FeeChanged: "The market's fee changed while you were filling the form. Review the new summary and submit again.",
  WrongJobId: "Another job was created at the same moment. Submit again: the next free job id is used.",
  InvalidUri: "The input URI must be http(s):// or inline data, at most 200 bytes. Use a shorter URL.",
  InvalidParams: "These kernel parameters describe no work or too much. Check the dimensions.",
  ParamsTooLong: "These kernel parameters are too long (an mlp_f32 has at most 14 layer sizes).",
  InvalidReplication: "N must be between 1 and the market's maximum replication.",
  InvalidQuorum: "Q must be more than half of N and at most N.",
  ZeroReward: "Set a reward per worker above zero.",
  InvalidRequirements: "The hardware or reputation requirements are out of range.",
  CancelWindowClosed: "Wait for the draw; if the job cannot be drawn, use Expire once its draw horizon has passed.",
  InvalidJobState: "The job has moved on since this page last saw it; it refreshes by itself.",
  JobNotTerminal: "Only a finished job (settled, failed, expired or cancelled) can be closed.",
  DrawUnstaffed: "Too few eligible nodes: the job expires with a full refund (use Expire).",
  DrawTooEarly: "The draw needs a later slot; wait a second.",
  RefundAccountUnusable: "Your token account for this mint is frozen or closed: recreate it, then try again.",
  WrongMint: "That token account holds another token than this market's.",
  Unauthorized: "Only the job's buyer can do this: connect the wallet that created it.",
};

export interface Explained {
  title: string;
  detail: string;
}

const rejected = (e: unknown): boolean => {
  const o = e as { code?: number; name?: string; message?: string } | null;
  return (
    o?.code === 4001 ||
    o?.name === "WalletSignTransactionError" ||
    /reject|denied|declined|cancell?ed by (the )?user/i.test(o?.message ?? String(e))
  );
};

const unreachable = (e: unknown): boolean =>
  /failed to fetch|fetch failed|networkerror|load failed|ECONNREFUSED|failed to get (recent|latest|info)/i.test(
    (e as Error)?.message ?? String(e),
  );

/** The custom error code of a failed transaction, if any. */
function customCode(err: unknown): number | null {
  const ie = (err as { InstructionError?: [number, unknown] })?.InstructionError;
  const c = (ie?.[1] as { Custom?: number } | undefined)?.Custom;
  return typeof c === "number" ? c : null;
}

export function explain(e: unknown, rpcUrl: string): Explained {
  if (e instanceof UserError) return { title: "Check the form", detail: e.message };
  if (rejected(e)) {
    return { title: "Declined in your wallet", detail: "You declined the signature. Nothing was sent and nothing was spent." };
  }
  if (e instanceof ProgramFailure) {
    const code = customCode(e.err);
    const named = code === null ? undefined : PROGRAM_ERRORS.find((p) => p.code === code);
    const anchorLine = e.logs.find((l) => l.includes("AnchorError"));
    if (named) {
      return {
        title: `The program refused: ${named.name} (${named.code})`,
        detail: `${named.msg}. ${HINTS[named.name] ?? "Nothing was changed."}`,
      };
    }
    const logs = e.logs.join("\n");
    if (/insufficient funds|insufficient lamports/i.test(logs) || code === 1) {
      return {
        title: "Insufficient funds",
        detail: "The wallet does not hold enough tokens (or SOL for fees and rent) for this transaction. Nothing was spent.",
      };
    }
    if (anchorLine) return { title: "The program refused", detail: anchorLine.replace(/^Program log: /, "") };
    return { title: "The transaction failed", detail: `${JSON.stringify(e.err)}. Nothing was changed.` };
  }
  if (unreachable(e)) {
    return {
      title: "The RPC is unreachable",
      detail: `Cannot reach ${rpcUrl}. Is the network running (for a local market: concord localnet)? Point the app elsewhere with concord web --rpc-url URL.`,
    };
  }
  const msg = (e as Error)?.message ?? String(e);
  return { title: "Something went wrong", detail: msg };
}
