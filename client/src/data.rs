//! Input and output data by URI: `file://`, `http(s)://` and `inline:` (base64), with size limits
//! and sha256 digests.

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::error::{ClientError, Result};

/// Inputs at most this large are put on chain inline by `concord job submit`.
pub const INLINE_MAX: usize = 96;

/// sha256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// `inline:<base64>` URI of `bytes`.
pub fn inline_uri(bytes: &[u8]) -> String {
    format!(
        "inline:{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// `file://` URI of an absolute path.
pub fn file_uri(path: &std::path::Path) -> Result<String> {
    let abs = std::path::absolute(path)
        .map_err(|e| ClientError::Data(format!("cannot resolve {}: {e}", path.display())))?;
    Ok(format!("file://{}", abs.display()))
}

/// Downloads `uri`, refusing more than `max_bytes`.
pub async fn fetch(uri: &str, max_bytes: u64) -> Result<Vec<u8>> {
    let too_big = |n: u64| {
        ClientError::Data(format!(
            "{uri}: {n} bytes is over the limit of {max_bytes} bytes"
        ))
    };
    if let Some(b64) = uri.strip_prefix("inline:") {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| ClientError::Data(format!("inline data is not valid base64: {e}")))?;
        if bytes.len() as u64 > max_bytes {
            return Err(too_big(bytes.len() as u64));
        }
        return Ok(bytes);
    }
    if let Some(path) = uri.strip_prefix("file://") {
        let meta = tokio::fs::metadata(path)
            .await
            .map_err(|e| ClientError::Data(format!("cannot read {path}: {e}")))?;
        if meta.len() > max_bytes {
            return Err(too_big(meta.len()));
        }
        return tokio::fs::read(path)
            .await
            .map_err(|e| ClientError::Data(format!("cannot read {path}: {e}")));
    }
    if uri.starts_with("http://") || uri.starts_with("https://") {
        let mut resp = reqwest::get(uri)
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| ClientError::Data(format!("cannot download {uri}: {e}")))?;
        if let Some(len) = resp.content_length() {
            if len > max_bytes {
                return Err(too_big(len));
            }
        }
        let mut out = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| ClientError::Data(format!("download of {uri} failed: {e}")))?
        {
            out.extend_from_slice(&chunk);
            if out.len() as u64 > max_bytes {
                return Err(too_big(out.len() as u64));
            }
        }
        return Ok(out);
    }
    Err(ClientError::Data(format!(
        "unsupported URI '{uri}': use file://, http://, https:// or inline:"
    )))
}

/// Downloads `uri` and checks its sha256 against `digest`.
pub async fn fetch_verified(uri: &str, digest: &[u8; 32], max_bytes: u64) -> Result<Vec<u8>> {
    let bytes = fetch(uri, max_bytes).await?;
    let got = sha256(&bytes);
    if &got != digest {
        return Err(ClientError::Data(format!(
            "{uri}: digest mismatch: expected {}, got {}",
            hex::encode(digest),
            hex::encode(got)
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn inline_and_file_round_trip_with_limits() {
        let data = b"hello concord".to_vec();
        let uri = inline_uri(&data);
        assert_eq!(
            fetch_verified(&uri, &sha256(&data), 100).await.unwrap(),
            data
        );
        assert!(fetch(&uri, 3)
            .await
            .unwrap_err()
            .to_string()
            .contains("over the limit"));
        let bad = fetch_verified(&uri, &[0; 32], 100)
            .await
            .unwrap_err()
            .to_string();
        assert!(bad.contains("digest mismatch"), "{bad}");

        let dir = std::env::temp_dir().join(format!("concord-data-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("in.bin");
        std::fs::write(&path, &data).unwrap();
        let uri = file_uri(&path).unwrap();
        assert_eq!(fetch(&uri, 100).await.unwrap(), data);
        assert!(fetch("ftp://x", 1)
            .await
            .unwrap_err()
            .to_string()
            .contains("unsupported URI"));
        assert!(fetch("file:///nonexistent/x", 1)
            .await
            .unwrap_err()
            .to_string()
            .contains("cannot read"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
