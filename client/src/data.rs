//! Input and output data by URI: `http(s)://`, `inline:` (base64) and, for local development,
//! `file://`, with a fetch policy (schemes, addresses, redirects, sizes) and sha256 digests.

use std::net::IpAddr;
#[cfg(feature = "rpc")]
use std::net::SocketAddr;

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

/// Where data may be fetched from. Buyers choose input URIs and nodes choose output URIs, so
/// whoever fetches decides what it is willing to read: a node operator's worker must not be made
/// to read its own files or call services on its private network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchPolicy {
    /// Largest body accepted, checked before reading (Content-Length) and while reading.
    pub max_bytes: u64,
    /// Whether `file://` URIs are read (local development only).
    pub allow_file: bool,
    /// Whether hosts that resolve to loopback, private, link-local (cloud metadata),
    /// carrier-grade NAT, multicast or reserved addresses are contacted.
    pub allow_private: bool,
    /// Addresses contacted even when `allow_private` is off (a known internal mirror, a test).
    pub allowed_addresses: Vec<IpAddr>,
    /// Redirects followed at most; every hop is checked like the first.
    pub max_redirects: u8,
}

impl FetchPolicy {
    /// Public `http(s)://` and `inline:` only: what an unattended worker should accept.
    pub fn strict(max_bytes: u64) -> FetchPolicy {
        FetchPolicy {
            max_bytes,
            allow_file: false,
            allow_private: false,
            allowed_addresses: vec![],
            max_redirects: 5,
        }
    }

    /// Everything, including `file://` and private addresses: a user reading data it chose.
    pub fn trusting(max_bytes: u64) -> FetchPolicy {
        FetchPolicy {
            allow_file: true,
            allow_private: true,
            ..FetchPolicy::strict(max_bytes)
        }
    }

    /// Whether this policy lets the fetcher connect to `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        self.allow_private || is_public(ip) || self.allowed_addresses.contains(&ip)
    }
}

/// Whether `ip` is a globally routable unicast address (not loopback, private, link-local —
/// which holds the cloud metadata service at 169.254.169.254 —, shared/CGNAT, unspecified,
/// broadcast, multicast, documentation, benchmarking or reserved).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 198 && (18..20).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64: an IPv4 address in disguise
                || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0))
            // IPv4-compatible
        }
    }
}

/// Downloads `uri` with every scheme and address allowed (a user reading data it chose),
/// refusing more than `max_bytes`.
#[cfg(feature = "rpc")]
pub async fn fetch(uri: &str, max_bytes: u64) -> Result<Vec<u8>> {
    fetch_with(uri, &FetchPolicy::trusting(max_bytes)).await
}

/// Downloads `uri` under `policy`.
#[cfg(feature = "rpc")]
pub async fn fetch_with(uri: &str, policy: &FetchPolicy) -> Result<Vec<u8>> {
    let max_bytes = policy.max_bytes;
    let too_big = |n: u64| {
        ClientError::Data(format!(
            "{uri}: {n} bytes is over the limit of {max_bytes} bytes"
        ))
    };
    if let Some(b64) = uri.strip_prefix("inline:") {
        // base64 is 4/3 the size of the bytes: refuse before decoding.
        if (b64.len() as u64 / 4) * 3 > max_bytes + 2 {
            return Err(too_big((b64.len() as u64 / 4) * 3));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| ClientError::Data(format!("inline data is not valid base64: {e}")))?;
        if bytes.len() as u64 > max_bytes {
            return Err(too_big(bytes.len() as u64));
        }
        return Ok(bytes);
    }
    if let Some(path) = uri.strip_prefix("file://") {
        if !policy.allow_file {
            return Err(ClientError::Data(format!(
                "{uri}: file:// URIs are refused (a worker reads only http(s):// and inline: \
                 data unless its operator sets allow_file_uris = true, for local development)"
            )));
        }
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
        return fetch_http(uri, policy).await;
    }
    Err(ClientError::Data(format!(
        "unsupported URI '{uri}': use http://, https:// or inline: (file:// for local development)"
    )))
}

/// The address `url`'s host resolves to, if every address it resolves to is allowed.
#[cfg(feature = "rpc")]
async fn checked_address(url: &reqwest::Url, policy: &FetchPolicy) -> Result<SocketAddr> {
    let bad = |m: String| ClientError::Data(format!("{url}: {m}"));
    let port = url
        .port_or_known_default()
        .ok_or_else(|| bad("no port".into()))?;
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(url::Host::Domain(d)) => tokio::net::lookup_host((d, port))
            .await
            .map_err(|e| bad(format!("cannot resolve {d}: {e}")))?
            .collect(),
        None => return Err(bad("no host".into())),
    };
    let first = *addrs
        .first()
        .ok_or_else(|| bad("the host resolves to no address".into()))?;
    if let Some(refused) = addrs.iter().find(|a| !policy.permits(a.ip())) {
        return Err(bad(format!(
            "refusing to contact {} (loopback, private, link-local or reserved address; a \
             worker's operator can allow these with allow_private_addresses = true)",
            refused.ip()
        )));
    }
    Ok(first)
}

#[cfg(feature = "rpc")]
async fn fetch_http(uri: &str, policy: &FetchPolicy) -> Result<Vec<u8>> {
    let max_bytes = policy.max_bytes;
    let mut url = reqwest::Url::parse(uri)
        .map_err(|e| ClientError::Data(format!("invalid URI {uri}: {e}")))?;
    for _hop in 0..=policy.max_redirects {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ClientError::Data(format!(
                "{uri}: redirected to an unsupported scheme ({url})"
            )));
        }
        let addr = checked_address(&url, policy).await?;
        // The checked address is the one connected to: a second DNS answer cannot differ.
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(300));
        if let Some(url::Host::Domain(d)) = url.host() {
            builder = builder.resolve(d, addr);
        }
        let client = builder
            .build()
            .map_err(|e| ClientError::Data(format!("HTTP client: {e}")))?;
        let resp = client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| ClientError::Data(format!("cannot download {url}: {e}")))?;
        if resp.status().is_redirection() {
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or_else(|| ClientError::Data(format!("{url}: redirect without a location")))?;
            url = url
                .join(location)
                .map_err(|e| ClientError::Data(format!("{url}: bad redirect: {e}")))?;
            continue;
        }
        let mut resp = resp
            .error_for_status()
            .map_err(|e| ClientError::Data(format!("cannot download {url}: {e}")))?;
        if let Some(len) = resp.content_length() {
            if len > max_bytes {
                return Err(ClientError::Data(format!(
                    "{uri}: {len} bytes is over the limit of {max_bytes} bytes"
                )));
            }
        }
        let mut out = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| ClientError::Data(format!("download of {url} failed: {e}")))?
        {
            out.extend_from_slice(&chunk);
            if out.len() as u64 > max_bytes {
                return Err(ClientError::Data(format!(
                    "{uri}: more than the limit of {max_bytes} bytes"
                )));
            }
        }
        return Ok(out);
    }
    Err(ClientError::Data(format!(
        "{uri}: more than {} redirects",
        policy.max_redirects
    )))
}

/// Downloads `uri` (every scheme and address allowed) and checks its sha256 against `digest`.
#[cfg(feature = "rpc")]
pub async fn fetch_verified(uri: &str, digest: &[u8; 32], max_bytes: u64) -> Result<Vec<u8>> {
    fetch_verified_with(uri, digest, &FetchPolicy::trusting(max_bytes)).await
}

/// Downloads `uri` under `policy` and checks its sha256 against `digest`.
#[cfg(feature = "rpc")]
pub async fn fetch_verified_with(
    uri: &str,
    digest: &[u8; 32],
    policy: &FetchPolicy,
) -> Result<Vec<u8>> {
    let bytes = fetch_with(uri, policy).await?;
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

    #[cfg(feature = "rpc")]
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

    #[test]
    fn private_and_reserved_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2001:db8::1",
            "192.0.0.8",
        ] {
            assert!(
                !is_public(ip.parse().unwrap()),
                "{ip} must not count as public"
            );
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip} is public");
        }
    }

    /// A one-shot HTTP server on 127.0.0.1 answering every request with `response`.
    #[cfg(feature = "rpc")]
    async fn serve_once(response: String) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = [0u8; 2048];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(response.as_bytes()).await;
            }
        });
        addr
    }

    #[cfg(feature = "rpc")]
    #[tokio::test]
    async fn a_strict_policy_refuses_files_private_hosts_redirects_into_them_and_big_bodies() {
        let strict = FetchPolicy::strict(1_000);
        let err = fetch_with("file:///etc/hostname", &strict)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("file:// URIs are refused"),
            "{err}"
        );
        for uri in [
            "http://127.0.0.1:9/x",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/x",
            "http://[::1]:9/x",
            "http://localhost:9/x",
        ] {
            let err = fetch_with(uri, &strict).await.unwrap_err().to_string();
            assert!(err.contains("refusing to contact"), "{uri}: {err}");
        }
        // An allowed server that redirects into a private address is refused at the hop.
        let body = "hello";
        let ok = serve_once(format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ))
        .await;
        let redirect = serve_once(
            "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.2:9/secret\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into(),
        )
        .await;
        let policy = FetchPolicy {
            allowed_addresses: vec![ok.ip()],
            ..FetchPolicy::strict(1_000)
        };
        let got = fetch_with(&format!("http://{ok}/x"), &policy)
            .await
            .unwrap();
        assert_eq!(got, body.as_bytes());
        let err = fetch_with(&format!("http://{redirect}/x"), &policy)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("refusing to contact 127.0.0.2"), "{err}");
        // A declared length over the cap is refused before reading.
        let big = serve_once(
            "HTTP/1.1 200 OK\r\ncontent-length: 5000\r\nconnection: close\r\n\r\nxx".into(),
        )
        .await;
        let err = fetch_with(&format!("http://{big}/x"), &FetchPolicy::trusting(1_000))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("over the limit"), "{err}");
        // Inline data over the cap is refused before decoding.
        let err = fetch_with(&inline_uri(&[0u8; 3_000]), &strict)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("over the limit"), "{err}");
    }
}
