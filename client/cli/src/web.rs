//! `concord web`: serves the buyers' web app. Its TypeScript source is `client/web/src`; the
//! built bundle (`client/web/dist`, committed, checked fresh by `scripts/test.sh`) is embedded in
//! this binary, so serving it needs no Node. The page talks to the RPC, the PubSub endpoint and
//! the nodes' output URLs directly; this server only hands out the files and `/config.json`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use solana_sdk::pubkey::Pubkey;

use crate::output::Output;

/// The embedded bundle: (path, content type, bytes).
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "/index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../web/dist/index.html"),
    ),
    (
        "/app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/dist/app.js"),
    ),
    (
        "/app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../web/dist/app.css"),
    ),
    (
        "/favicon.svg",
        "image/svg+xml",
        include_bytes!("../../web/dist/favicon.svg"),
    ),
];

/// The page may load only its own files and talk to any RPC, PubSub or node endpoint (they are
/// configuration, and nodes serve outputs from wherever they run).
const CSP: &str = "default-src 'self'; connect-src * blob:; img-src 'self' data: blob:; \
                   style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; \
                   frame-ancestors 'none'";

/// What the page is told at `/config.json`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebConfig {
    pub rpc_url: String,
    pub ws_url: String,
    pub program_id: String,
    /// The market to open; `None`: the page lists the program's markets.
    pub market: Option<String>,
    /// Bytes of a job account for N = 1, 2, …: the page shows the rent a job costs.
    pub job_account_bytes: Vec<usize>,
}

impl WebConfig {
    pub fn new(rpc_url: String, ws_url: String, market: Option<Pubkey>) -> WebConfig {
        WebConfig {
            rpc_url,
            ws_url,
            program_id: concord_client::concord::ID.to_string(),
            market: market.map(|m| m.to_string()),
            job_account_bytes: (1..=concord_client::concord::constants::MAX_REPLICATION)
                .map(concord_client::concord::state::Job::size)
                .collect(),
        }
    }
}

#[derive(clap::Args)]
pub struct WebArgs {
    /// Port to serve the app on
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to bind (the app holds no secrets; 0.0.0.0 serves it to the local network)
    #[arg(long, default_value = "127.0.0.1")]
    bind: std::net::IpAddr,
}

/// Binds `addr`, with an error that names the flag (`flag`) that picks another port.
pub async fn bind(addr: SocketAddr, flag: &str) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("cannot serve the web app on {addr}: is the port in use? Pick another with {flag}")
    })
}

/// `concord web`: serves until Ctrl-C.
pub async fn run(args: &WebArgs, config: WebConfig, out: Output) -> Result<()> {
    let listener = bind(SocketAddr::new(args.bind, args.port), "--port").await?;
    let url = format!("http://{}", listener.local_addr()?);
    out.emit(
        serde_json::json!({ "url": url, "config": config }),
        || {
            format!(
                "Concord web app at {url}\n  RPC     {}\n  PubSub  {}\n  market  {}\nOpen it in a browser with a Solana wallet (Wallet Standard). Ctrl-C to stop.\n",
                config.rpc_url,
                config.ws_url,
                config.market.as_deref().unwrap_or("(chosen in the page)")
            )
        },
    );
    tokio::select! {
        _ = serve(listener, config) => {},
        _ = tokio::signal::ctrl_c() => {},
    }
    Ok(())
}

/// Serves the app on `listener` forever.
pub async fn serve(listener: tokio::net::TcpListener, config: WebConfig) {
    let config: Arc<Bytes> = Arc::new(Bytes::from(
        serde_json::to_vec_pretty(&config).expect("config serialises"),
    ));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let config = Arc::clone(&config);
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |r| handle(Arc::clone(&config), r));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

fn response(status: StatusCode, content_type: &str, body: Bytes) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("cache-control", "no-cache")
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer")
        .header("content-security-policy", CSP)
        .body(Full::new(body))
        .expect("valid response")
}

async fn handle(
    config: Arc<Bytes>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let text = "text/plain; charset=utf-8";
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Ok(response(
            StatusCode::METHOD_NOT_ALLOWED,
            text,
            Bytes::from_static(b"only GET and HEAD\n"),
        ));
    }
    let path = match req.uri().path() {
        "/" => "/index.html",
        p => p,
    };
    let mut reply = match path {
        "/config.json" => response(StatusCode::OK, "application/json", (*config).clone()),
        "/health" => response(StatusCode::OK, text, Bytes::from_static(b"ok\n")),
        p => match ASSETS.iter().find(|(a, _, _)| *a == p) {
            Some((_, content_type, bytes)) => {
                response(StatusCode::OK, content_type, Bytes::from_static(bytes))
            }
            None => response(
                StatusCode::NOT_FOUND,
                text,
                Bytes::from_static(b"not found: the app is at /\n"),
            ),
        },
    };
    if req.method() == Method::HEAD {
        *reply.body_mut() = Full::new(Bytes::new());
    }
    Ok(reply)
}
