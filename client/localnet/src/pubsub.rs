//! The PubSub (websocket) server, on the RPC port + 1 as solana-test-validator serves it:
//! `accountSubscribe`, `programSubscribe`, `signatureSubscribe`, `logsSubscribe`,
//! `slotSubscribe`, `rootSubscribe` and their unsubscribes, with agave's notification shapes.
//!
//! Bounds: [`PubSubLimits`] caps subscriptions per connection and per server, and connections.
//! Each connection follows the chain's event channel; one that falls more than
//! [`crate::chain::EVENT_BACKLOG`] events behind, or does not take a notification within
//! [`SEND_TIMEOUT`], is closed, so a slow consumer costs bounded memory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use jsonrpc_core::{Error, ErrorCode};
use serde_json::{json, Value};
use solana_account_decoder::{encode_ui_account, UiAccount, UiAccountEncoding, UiDataSliceConfig};
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSignatureSubscribeConfig,
    RpcTransactionLogsConfig, RpcTransactionLogsFilter,
};
use solana_rpc_client_api::filter::RpcFilterType;
use solana_rpc_client_api::response::{
    ProcessedSignatureResult, ReceivedSignatureResult, Response, RpcKeyedAccount, RpcLogsResponse,
    RpcResponseContext, RpcSignatureResult, SlotInfo,
};
use solana_runtime::bank::Bank;
use solana_sdk::account::{AccountSharedData, ReadableAccount};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signature;
use tokio::net::TcpListener;
use tokio::sync::broadcast::error::RecvError;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use crate::chain::{Chain, ChainEvent};
use crate::history::TxRecord;
use crate::rpc::{accounts, args, error_response, verify_pubkey, verify_signature};

/// How long a connection may take to accept one notification before it is closed.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request message read from a client.
const MAX_MESSAGE: usize = 64 * 1024;

/// Bounds of the PubSub server.
#[derive(Clone, Copy, Debug)]
pub struct PubSubLimits {
    pub subscriptions_per_connection: usize,
    pub subscriptions: usize,
    pub connections: usize,
}

impl Default for PubSubLimits {
    fn default() -> Self {
        PubSubLimits {
            subscriptions_per_connection: 1_000,
            subscriptions: 10_000,
            connections: 256,
        }
    }
}

#[derive(Clone, Debug)]
enum Subscription {
    Account {
        key: Pubkey,
        encoding: UiAccountEncoding,
        slice: Option<UiDataSliceConfig>,
    },
    Program {
        program: Pubkey,
        encoding: UiAccountEncoding,
        slice: Option<UiDataSliceConfig>,
        filters: Vec<RpcFilterType>,
    },
    Signature {
        signature: Signature,
        received: bool,
    },
    Logs {
        mentions: Option<Pubkey>,
    },
    Slot,
    Root,
}

impl Subscription {
    /// The method name of this kind's notifications and unsubscribe.
    fn kind(&self) -> &'static str {
        match self {
            Subscription::Account { .. } => "account",
            Subscription::Program { .. } => "program",
            Subscription::Signature { .. } => "signature",
            Subscription::Logs { .. } => "logs",
            Subscription::Slot => "slot",
            Subscription::Root => "root",
        }
    }
}

struct Shared {
    chain: Arc<Chain>,
    limits: PubSubLimits,
    next_id: AtomicU64,
    subscriptions: AtomicUsize,
    connections: AtomicUsize,
}

fn encode_account(
    bank: &Bank,
    key: &Pubkey,
    account: &AccountSharedData,
    encoding: UiAccountEncoding,
    slice: Option<UiDataSliceConfig>,
) -> UiAccount {
    if encoding == UiAccountEncoding::JsonParsed {
        if let Ok(a) = accounts::encode(bank, key, account, encoding, slice) {
            return a;
        }
    }
    encode_ui_account(key, account, encoding, None, slice)
}

fn notification(kind: &str, subscription: u64, result: impl serde::Serialize) -> Value {
    json!({
        "jsonrpc": "2.0",
        "method": format!("{kind}Notification"),
        "params": {"result": result, "subscription": subscription},
    })
}

/// One connection's subscriptions.
struct Connection {
    shared: Arc<Shared>,
    subs: HashMap<u64, Subscription>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.shared
            .subscriptions
            .fetch_sub(self.subs.len(), Ordering::AcqRel);
        self.shared.connections.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Connection {
    fn add(&mut self, sub: Subscription) -> Result<u64, Error> {
        let limits = self.shared.limits;
        if self.subs.len() >= limits.subscriptions_per_connection {
            return Err(Error {
                code: ErrorCode::InvalidRequest,
                message: format!(
                    "Invalid request: a connection holds at most {} subscriptions",
                    limits.subscriptions_per_connection
                ),
                data: None,
            });
        }
        let total = self.shared.subscriptions.fetch_add(1, Ordering::AcqRel);
        if total >= limits.subscriptions {
            self.shared.subscriptions.fetch_sub(1, Ordering::AcqRel);
            return Err(Error {
                code: ErrorCode::InternalError,
                message: format!(
                    "Internal error: the server holds its maximum of {} subscriptions",
                    limits.subscriptions
                ),
                data: None,
            });
        }
        let id = self.shared.next_id.fetch_add(1, Ordering::AcqRel);
        self.subs.insert(id, sub);
        Ok(id)
    }

    fn remove(&mut self, id: u64) -> bool {
        let gone = self.subs.remove(&id).is_some();
        if gone {
            self.shared.subscriptions.fetch_sub(1, Ordering::AcqRel);
        }
        gone
    }

    /// Answers one request; may also produce notifications to send right after the answer.
    fn request(&mut self, request: &Value) -> (Value, Vec<Value>) {
        let id = request.get("id").cloned().unwrap_or(Value::Null);
        let (Some("2.0"), Some(method)) = (
            request.get("jsonrpc").and_then(Value::as_str),
            request.get("method").and_then(Value::as_str),
        ) else {
            return (error_response(id, Error::invalid_request()), vec![]);
        };
        let params = request.get("params").cloned().unwrap_or(Value::Null);
        match self.call(method, &params) {
            Ok((result, follow)) => (
                json!({"jsonrpc": "2.0", "result": result, "id": id}),
                follow,
            ),
            Err(e) => (error_response(id, e), vec![]),
        }
    }

    fn call(&mut self, method: &str, p: &Value) -> Result<(Value, Vec<Value>), Error> {
        if let Some(kind) = method.strip_suffix("Unsubscribe") {
            let (sub,): (u64,) = args(p, 1)?;
            let matches = self.subs.get(&sub).is_some_and(|s| s.kind() == kind);
            if !matches || !self.remove(sub) {
                return Err(Error {
                    code: ErrorCode::InvalidParams,
                    message: "Invalid subscription id.".into(),
                    data: None,
                });
            }
            return Ok((Value::Bool(true), vec![]));
        }
        let sub = match method {
            "accountSubscribe" => {
                let (key, config): (String, Option<RpcAccountInfoConfig>) = args(p, 2)?;
                let config = config.unwrap_or_default();
                Subscription::Account {
                    key: verify_pubkey(&key)?,
                    encoding: config.encoding.unwrap_or(UiAccountEncoding::Binary),
                    slice: config.data_slice,
                }
            }
            "programSubscribe" => {
                let (program, config): (String, Option<RpcProgramAccountsConfig>) = args(p, 2)?;
                let config = config.unwrap_or_default();
                let filters = config.filters.unwrap_or_default();
                accounts::verify_filters(&filters)?;
                Subscription::Program {
                    program: verify_pubkey(&program)?,
                    encoding: config
                        .account_config
                        .encoding
                        .unwrap_or(UiAccountEncoding::Binary),
                    slice: config.account_config.data_slice,
                    filters,
                }
            }
            "signatureSubscribe" => {
                let (sig, config): (String, Option<RpcSignatureSubscribeConfig>) = args(p, 2)?;
                Subscription::Signature {
                    signature: verify_signature(&sig)?,
                    received: config
                        .and_then(|c| c.enable_received_notification)
                        .unwrap_or(false),
                }
            }
            "logsSubscribe" => {
                let (filter, _config): (
                    RpcTransactionLogsFilter,
                    Option<RpcTransactionLogsConfig>,
                ) = args(p, 2)?;
                let mentions = match filter {
                    RpcTransactionLogsFilter::All | RpcTransactionLogsFilter::AllWithVotes => None,
                    RpcTransactionLogsFilter::Mentions(list) => match list.as_slice() {
                        [one] => Some(verify_pubkey(one)?),
                        _ => {
                            return Err(Error {
                                code: ErrorCode::InvalidParams,
                                message: "Invalid Request: Only 1 address supported".into(),
                                data: None,
                            })
                        }
                    },
                };
                Subscription::Logs { mentions }
            }
            "slotSubscribe" => Subscription::Slot,
            "rootSubscribe" => Subscription::Root,
            _ => return Err(Error::method_not_found()),
        };
        let id = self.add(sub.clone())?;
        // A signature that already landed is notified at once, as a validator does.
        let mut follow = Vec::new();
        if let Subscription::Signature { signature, .. } = sub {
            if let Some(record) = self.shared.chain.history.transaction(&signature) {
                follow.push(signature_notification(id, &record));
                self.remove(id);
            }
        }
        Ok((json!(id), follow))
    }

    /// Notifications `event` produces for this connection's subscriptions.
    fn notify(&mut self, event: &ChainEvent) -> Vec<Value> {
        let mut out = Vec::new();
        let mut done = Vec::new();
        match event {
            ChainEvent::Received(sig) => {
                for (id, sub) in &self.subs {
                    if let Subscription::Signature {
                        signature,
                        received: true,
                    } = sub
                    {
                        if signature == sig {
                            out.push(notification(
                                "signature",
                                *id,
                                Response {
                                    context: RpcResponseContext::new(self.shared.chain.slot()),
                                    value: RpcSignatureResult::ReceivedSignature(
                                        ReceivedSignatureResult::ReceivedSignature,
                                    ),
                                },
                            ));
                        }
                    }
                }
            }
            ChainEvent::Slot { slot, parent, root } => {
                for (id, sub) in &self.subs {
                    match sub {
                        Subscription::Slot => out.push(notification(
                            "slot",
                            *id,
                            SlotInfo {
                                slot: *slot,
                                parent: *parent,
                                root: *root,
                            },
                        )),
                        Subscription::Root => out.push(notification("root", *id, root)),
                        _ => {}
                    }
                }
            }
            ChainEvent::Committed { record, accounts } => {
                let bank = self.shared.chain.bank();
                let context = RpcResponseContext::new(record.slot);
                for (id, sub) in &self.subs {
                    match sub {
                        Subscription::Signature { signature, .. }
                            if *signature == record.signature =>
                        {
                            out.push(signature_notification(*id, record));
                            done.push(*id);
                        }
                        Subscription::Logs { mentions }
                            if mentions.is_none_or(|k| record.keys.contains(&k)) =>
                        {
                            out.push(notification(
                                "logs",
                                *id,
                                Response {
                                    context: context.clone(),
                                    value: RpcLogsResponse {
                                        signature: record.signature.to_string(),
                                        err: record.meta.status.clone().err().map(Into::into),
                                        logs: record.meta.log_messages.clone().unwrap_or_default(),
                                    },
                                },
                            ));
                        }
                        Subscription::Account {
                            key,
                            encoding,
                            slice,
                        } => {
                            if let Some((_, a)) = accounts.iter().find(|(k, _)| k == key) {
                                out.push(notification(
                                    "account",
                                    *id,
                                    Response {
                                        context: context.clone(),
                                        value: encode_account(&bank, key, a, *encoding, *slice),
                                    },
                                ));
                            }
                        }
                        Subscription::Program {
                            program,
                            encoding,
                            slice,
                            filters,
                        } => {
                            for (k, a) in accounts.iter() {
                                if a.owner() == program
                                    && filters.iter().all(|f| accounts::allows(f, a))
                                {
                                    out.push(notification(
                                        "program",
                                        *id,
                                        Response {
                                            context: context.clone(),
                                            value: RpcKeyedAccount {
                                                pubkey: k.to_string(),
                                                account: encode_account(
                                                    &bank, k, a, *encoding, *slice,
                                                ),
                                            },
                                        },
                                    ));
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        for id in done {
            self.remove(id);
        }
        out
    }
}

fn signature_notification(id: u64, record: &TxRecord) -> Value {
    notification(
        "signature",
        id,
        Response {
            context: RpcResponseContext::new(record.slot),
            value: RpcSignatureResult::ProcessedSignature(ProcessedSignatureResult {
                err: record.meta.status.clone().err().map(Into::into),
            }),
        },
    )
}

/// Serves websocket connections on `listener` until the task is aborted.
pub async fn serve(listener: TcpListener, chain: Arc<Chain>, limits: PubSubLimits) {
    let shared = Arc::new(Shared {
        chain,
        limits,
        next_id: AtomicU64::new(0),
        subscriptions: AtomicUsize::new(0),
        connections: AtomicUsize::new(0),
    });
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("pubsub accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if shared.connections.fetch_add(1, Ordering::AcqRel) >= limits.connections {
            shared.connections.fetch_sub(1, Ordering::AcqRel);
            tracing::warn!(%peer, "pubsub connection refused: {} connections open", limits.connections);
            continue;
        }
        let conn = Connection {
            shared: Arc::clone(&shared),
            subs: HashMap::new(),
        };
        tokio::spawn(async move {
            if let Err(e) = run(stream, conn).await {
                tracing::debug!(%peer, "pubsub connection closed: {e}");
            }
        });
    }
}

type Sink = futures_util::stream::SplitSink<
    tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    Message,
>;

async fn send(sink: &mut Sink, v: Value) -> Result<(), String> {
    tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::text(v.to_string())))
        .await
        .map_err(|_| "the client did not take a message in time".to_string())?
        .map_err(|e| e.to_string())
}

async fn run(stream: tokio::net::TcpStream, mut conn: Connection) -> Result<(), String> {
    let mut config = WebSocketConfig::default();
    config.max_message_size = Some(MAX_MESSAGE);
    config.max_frame_size = Some(MAX_MESSAGE);
    let ws = tokio_tungstenite::accept_async_with_config(stream, Some(config))
        .await
        .map_err(|e| e.to_string())?;
    let (mut sink, mut source) = ws.split();
    let mut events = conn.shared.chain.subscribe();
    loop {
        tokio::select! {
            incoming = source.next() => {
                let Some(message) = incoming else { return Ok(()) };
                let message = message.map_err(|e| e.to_string())?;
                let text = match message {
                    Message::Text(t) => t.to_string(),
                    Message::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
                    Message::Ping(p) => {
                        tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Pong(p)))
                            .await
                            .map_err(|_| "pong timed out".to_string())?
                            .map_err(|e| e.to_string())?;
                        continue;
                    }
                    Message::Close(_) => return Ok(()),
                    _ => continue,
                };
                let replies: Vec<Value> = match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Array(batch)) if !batch.is_empty() && batch.len() <= 100 => {
                        let mut all = Vec::new();
                        let mut answers = Vec::new();
                        for r in &batch {
                            let (answer, follow) = conn.request(r);
                            answers.push(answer);
                            all.extend(follow);
                        }
                        let mut out = vec![Value::Array(answers)];
                        out.extend(all);
                        out
                    }
                    Ok(Value::Array(_)) => vec![error_response(Value::Null, Error::invalid_request())],
                    Ok(single) => {
                        let (answer, follow) = conn.request(&single);
                        let mut out = vec![answer];
                        out.extend(follow);
                        out
                    }
                    Err(_) => vec![error_response(Value::Null, Error::parse_error())],
                };
                for r in replies {
                    send(&mut sink, r).await?;
                }
            }
            event = events.recv() => {
                let event = match event {
                    Ok(e) => e,
                    Err(RecvError::Lagged(n)) => {
                        let _ = sink.send(Message::Close(None)).await;
                        return Err(format!("the client fell {n} events behind; closed"));
                    }
                    Err(RecvError::Closed) => return Ok(()),
                };
                for n in conn.notify(&event) {
                    send(&mut sink, n).await?;
                }
            }
        }
    }
}
