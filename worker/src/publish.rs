//! Publishing outputs at reveal time, and the worker's HTTP endpoint (outputs and metrics).
//!
//! An output is copied into the public directory only when the job's commit phase has closed, so
//! nobody can hash it early and commit without doing the work.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use crate::config::Publish;
use crate::metrics::Metrics;

/// Copies `private` to the public directory as `<job>.bin` and returns the URI to reveal.
pub fn publish(publish: &Publish, job: &str, private: &Path) -> std::io::Result<String> {
    let (dir, base) = match publish {
        Publish::File { dir } => (dir, None),
        Publish::Http {
            dir,
            public_base_url,
            ..
        } => (dir, Some(public_base_url)),
    };
    std::fs::create_dir_all(dir)?;
    let name = format!("{job}.bin");
    let target = dir.join(&name);
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::copy(private, &tmp)?;
    std::fs::rename(&tmp, &target)?;
    Ok(match base {
        Some(b) => format!("{}/{name}", b.trim_end_matches('/')),
        None => format!("file://{}", std::path::absolute(&target)?.display()),
    })
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
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
