//! Publishing outputs, and the worker's HTTP endpoint (outputs and metrics).
//!
//! The reveal states the URI an output will be served at ([`uri`]), but the bytes are copied
//! into the public directory ([`publish`]) only once the job is Settled with this node's digest:
//! before that nobody can hash them to commit without working, and no buyer can read an output
//! it has not paid for.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use crate::config::Publish;
use crate::metrics::Metrics;

fn target<'a>(publish: &'a Publish, job: &str) -> (&'a Path, String, Option<&'a str>) {
    let name = format!("{job}.bin");
    match publish {
        Publish::File { dir } => (dir, name, None),
        Publish::Http {
            dir,
            public_base_url,
            ..
        } => (dir, name, Some(public_base_url.as_str())),
    }
}

/// The URI the output of `job` will be served at (stated in the reveal).
pub fn uri(publish: &Publish, job: &str) -> std::io::Result<String> {
    let (dir, name, base) = target(publish, job);
    Ok(match base {
        Some(b) => format!("{}/{name}", b.trim_end_matches('/')),
        None => format!("file://{}", std::path::absolute(dir.join(&name))?.display()),
    })
}

/// Copies `private` to the public directory as `<job>.bin` (atomically): call only once the
/// job is Settled with this node's digest.
pub fn publish(publish: &Publish, job: &str, private: &Path) -> std::io::Result<()> {
    let (dir, name, _) = target(publish, job);
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::copy(private, &tmp)?;
    std::fs::rename(&tmp, dir.join(&name))
}

/// Every response allows any origin: published outputs are public once settled (their digest is
/// on chain), and a buyer's browser (the web app) downloads them from another origin.
fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("access-control-allow-origin", "*")
        .body(Full::new(body.into()))
        .expect("valid response")
}

async fn handle(
    dir: Option<Arc<PathBuf>>,
    metrics: Arc<Metrics>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path();
    if path == "/metrics" {
        return Ok(reply(StatusCode::OK, metrics.render()));
    }
    if path == "/health" {
        return Ok(reply(StatusCode::OK, "ok"));
    }
    if let (Some(dir), Some(name)) = (dir, path.rsplit('/').next()) {
        // Only plain file names of published outputs; nothing else is reachable.
        if name.ends_with(".bin")
            && !name.starts_with('.')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
        {
            if let Ok(bytes) = tokio::fs::read(dir.join(name)).await {
                return Ok(reply(StatusCode::OK, bytes));
            }
        }
    }
    Ok(reply(StatusCode::NOT_FOUND, "not found"))
}

/// Serves `/metrics`, `/health` and (when `dir` is given) published outputs on `listener`.
pub async fn serve(listener: tokio::net::TcpListener, dir: Option<PathBuf>, metrics: Arc<Metrics>) {
    let dir = dir.map(Arc::new);
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (dir, metrics) = (dir.clone(), Arc::clone(&metrics));
        tokio::spawn(async move {
            let svc =
                hyper::service::service_fn(move |r| handle(dir.clone(), Arc::clone(&metrics), r));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
