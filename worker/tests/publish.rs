//! Outputs become readable only when published (once the job settled with the node's digest),
//! through the worker's own HTTP endpoint, which also serves Prometheus metrics; the URI stated in
//! the reveal serves nothing before that.

use std::sync::Arc;

use concord_worker::config::Publish;
use concord_worker::metrics::Metrics;
use concord_worker::publish;

#[tokio::test]
async fn http_endpoint_serves_published_outputs_and_metrics() {
    let dir = std::env::temp_dir().join(format!("concord-publish-{}", std::process::id()));
    let public = dir.join("public");
    std::fs::create_dir_all(&dir).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let metrics = Arc::new(Metrics::default());
    Metrics::inc(&metrics.jobs_paid);
    tokio::spawn(publish::serve(
        listener,
        Some(public.clone()),
        Arc::clone(&metrics),
    ));
    let base = format!("http://{addr}");
    let cfg = Publish::Http {
        dir: public.clone(),
        bind: addr.to_string(),
        public_base_url: base.clone(),
    };

    // The URI revealed serves nothing until the output is published.
    let private = dir.join("private.bin");
    std::fs::write(&private, b"the output").unwrap();
    let job = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin";
    let uri = publish::uri(&cfg, job).unwrap();
    assert_eq!(uri, format!("{base}/{job}.bin"));
    let err = concord_client::data::fetch(&uri, 1 << 20)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");

    publish::publish(&cfg, job, &private).unwrap();
    assert_eq!(
        concord_client::data::fetch(&uri, 1 << 20).await.unwrap(),
        b"the output"
    );
    // A browser on another origin (the web app) may read it.
    let head = response_head(addr, &format!("/{job}.bin")).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("\r\naccess-control-allow-origin: *\r\n"),
        "{head}"
    );
    // Nothing but published outputs is reachable.
    for bad in ["/../private.bin", "/.hidden.bin", "/private.bin"] {
        assert!(
            concord_client::data::fetch(&format!("{base}{bad}"), 1 << 20)
                .await
                .is_err(),
            "{bad}"
        );
    }
    let text = String::from_utf8(
        concord_client::data::fetch(&format!("{base}/metrics"), 1 << 20)
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(
        text.contains("# TYPE concord_jobs_paid_total counter\nconcord_jobs_paid_total 1\n"),
        "{text}"
    );

    // File mode reveals a file:// URI to the copy made at publication.
    let files = Publish::File {
        dir: dir.join("files"),
    };
    let file_uri = publish::uri(&files, job).unwrap();
    assert!(file_uri.starts_with("file://") && file_uri.ends_with(&format!("files/{job}.bin")));
    assert!(concord_client::data::fetch(&file_uri, 1 << 20)
        .await
        .is_err());
    publish::publish(&files, job, &private).unwrap();
    assert_eq!(
        concord_client::data::fetch(&file_uri, 1 << 20)
            .await
            .unwrap(),
        b"the output"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// The status line and headers of `GET path`, over a plain socket.
async fn response_head(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = vec![];
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    text.split("\r\n\r\n").next().unwrap().to_string() + "\r\n"
}
