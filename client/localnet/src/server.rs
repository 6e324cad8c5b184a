//! HTTP/1.1 JSON-RPC server on loopback (hyper), like a validator's RPC port: POST bodies of up
//! to 50 KiB (agave's limit), batches, `/health` for any method, CORS for browser dApps. Every
//! request runs in its own task, so a panic answers that request with an internal error and
//! touches no other.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{
    HeaderValue, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, CONTENT_TYPE,
};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use jsonrpc_core::{Error, ErrorCode};
use serde_json::Value;
use tokio::net::TcpListener;

use crate::rpc::{error_response, handle, Rpc};

/// The largest request body served (agave's `MAX_REQUEST_BODY_SIZE`).
pub const MAX_BODY: usize = 50 * 1024;
/// The most requests in one batch.
pub const MAX_BATCH: usize = 100;

fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(CONTENT_TYPE, v);
    }
    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    h.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type, solana-client"),
    );
    r
}

fn json_error(status: StatusCode, error: Error) -> Response<Full<Bytes>> {
    reply(
        status,
        "application/json",
        error_response(Value::Null, error).to_string(),
    )
}

/// One request object, answered in its own task so that a panic stays there.
async fn answer(rpc: &Arc<Rpc>, request: Value) -> Value {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let rpc = Arc::clone(rpc);
    match tokio::spawn(async move { handle(&rpc, request).await }).await {
        Ok(v) => v,
        Err(e) => {
            tracing::error!("a request handler failed: {e}");
            error_response(
                id,
                Error {
                    code: ErrorCode::InternalError,
                    message: "Internal error: the request handler failed".into(),
                    data: None,
                },
            )
        }
    }
}

async fn serve_request(
    rpc: Arc<Rpc>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.uri().path() == "/health" {
        return Ok(reply(StatusCode::OK, "text/plain", "ok"));
    }
    if req.method() == Method::OPTIONS {
        return Ok(reply(StatusCode::OK, "text/plain", ""));
    }
    if req.method() != Method::POST {
        return Ok(reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "Used HTTP Method is not allowed. POST or OPTIONS is required",
        ));
    }
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                Error {
                    code: ErrorCode::InvalidRequest,
                    message: format!("Invalid request: the body exceeds {MAX_BODY} bytes"),
                    data: None,
                },
            ))
        }
    };
    let response = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(batch)) if batch.is_empty() => {
            error_response(Value::Null, Error::invalid_request())
        }
        Ok(Value::Array(batch)) if batch.len() > MAX_BATCH => error_response(
            Value::Null,
            Error {
                code: ErrorCode::InvalidRequest,
                message: format!("Invalid request: a batch holds at most {MAX_BATCH} requests"),
                data: None,
            },
        ),
        Ok(Value::Array(batch)) => {
            let mut out = Vec::with_capacity(batch.len());
            for r in batch {
                out.push(answer(&rpc, r).await);
            }
            Value::Array(out)
        }
        Ok(single @ Value::Object(_)) => answer(&rpc, single).await,
        Ok(_) => error_response(Value::Null, Error::invalid_request()),
        Err(_) => error_response(Value::Null, Error::parse_error()),
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
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
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
