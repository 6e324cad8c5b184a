//! HTTP/1.1 JSON-RPC server on loopback (hyper), like a validator's RPC port.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;

use crate::rpc::{handle, Rpc};

const MAX_BODY: usize = 8 << 20;

fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(body.into()))
        .expect("static response parts are valid")
}

async fn serve_request(
    rpc: Arc<Rpc>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.method() == Method::GET && req.uri().path() == "/health" {
        return Ok(reply(StatusCode::OK, "text/plain", "ok"));
    }
    if req.method() != Method::POST {
        return Ok(reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "use POST with a JSON-RPC body",
        ));
    }
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                "text/plain",
                "request too large",
            ))
        }
    };
    let response = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(batch)) => {
            let mut out = Vec::with_capacity(batch.len());
            for r in &batch {
                out.push(handle(&rpc, r).await);
            }
            Value::Array(out)
        }
        Ok(single) => handle(&rpc, &single).await,
        Err(_) => serde_json::json!({
            "jsonrpc": "2.0", "id": null,
            "error": {"code": -32700, "message": "Parse error"}
        }),
    };
    Ok(reply(
        StatusCode::OK,
        "application/json",
        response.to_string(),
    ))
}

/// Accepts connections on `listener` until the task is aborted.
pub async fn serve(listener: TcpListener, rpc: Arc<Rpc>) {
    loop {
        let (stream, peer): (_, SocketAddr) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                continue;
            }
        };
        let rpc = Arc::clone(&rpc);
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |req| serve_request(Arc::clone(&rpc), req));
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%peer, "connection closed: {e}");
            }
        });
    }
}
