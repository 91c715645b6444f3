//! `mcp_monitor::serve` on a real socket, attacked as a hostile or unlucky client would:
//! half-sent heads, stalled bodies, idle keep-alive connections, and shutdown with
//! requests in flight and slow clients holding connections.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::common;
use crate::common::raw_http::RawConn;
use axum::body::Bytes;
use axum::routing::{get, post};
use axum::Router;
use mcp_monitor::ServerTimeouts;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server for a test, stopped by `stop` (or when dropped).
struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// Sends the shutdown signal.
    fn shut_down(&mut self) {
        let _ = self.stop.take().expect("not stopped yet").send(());
    }

    /// Waits until `serve` returns, and says how long that took.
    async fn stopped(&mut self) -> Duration {
        let start = Instant::now();
        tokio::time::timeout(common::DEADLINE, &mut self.task)
            .await
            .expect("serve returns")
            .expect("serve does not panic");
        start.elapsed()
    }
}

fn timeouts(header_ms: u64, body_ms: u64, idle_ms: u64, shutdown_ms: u64) -> ServerTimeouts {
    let mut settings = mcp_monitor::Settings::default();
    settings.http_header_timeout = Duration::from_millis(header_ms);
    settings.http_body_timeout = Duration::from_millis(body_ms);
    settings.http_idle_timeout = Duration::from_millis(idle_ms);
    settings.shutdown_timeout = Duration::from_millis(shutdown_ms);
    ServerTimeouts::from_settings(&settings)
}

/// `GET /fast`; `GET /slow` (answers after 600 ms); `POST /echo` (the body's length,
/// or 400 when the body cannot be read).
async fn start(t: ServerTimeouts) -> Server {
    let app = Router::new()
        .route("/fast", get(|| async { "fast" }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(600)).await;
                "slow"
            }),
        )
        .route(
            "/echo",
            post(|body: Bytes| async move { body.len().to_string() }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(mcp_monitor::serve(listener, app, t, async {
        let _ = rx.await;
    }));
    Server {
        addr,
        stop: Some(tx),
        task,
    }
}

const LONG: u64 = 60_000;

#[tokio::test]
async fn a_half_sent_head_is_closed_after_the_header_timeout() {
    let s = start(timeouts(300, LONG, LONG, LONG)).await;
    let mut c = RawConn::connect(s.addr).await.unwrap();
    c.send(b"GET /fast HTTP/1.1\r\nHost: test\r\n")
        .await
        .unwrap();
    let start = Instant::now();
    assert!(c.closed_within(Duration::from_secs(5)).await, "still open");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(3),
        "closed after {took:?}, header timeout 300 ms"
    );
    // The server still serves everyone else.
    let mut other = RawConn::connect(s.addr).await.unwrap();
    assert_eq!(other.get("/fast").await.unwrap().status, 200);
}

#[tokio::test]
async fn idle_connections_are_closed_after_the_idle_timeout_and_busy_ones_are_not() {
    let s = start(timeouts(LONG, LONG, 400, LONG)).await;
    // Never sends anything.
    let mut silent = RawConn::connect(s.addr).await.unwrap();
    // Keep-alive: one request, then quiet.
    let mut kept = RawConn::connect(s.addr).await.unwrap();
    let res = kept.get("/fast").await.unwrap();
    assert_eq!((res.status, res.closes()), (200, false));
    let start = Instant::now();
    assert!(kept.closed_within(Duration::from_secs(5)).await);
    assert!(silent.closed_within(Duration::from_secs(5)).await);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(350) && took < Duration::from_secs(3),
        "{took:?}"
    );
    // A handler slower than the idle (and head) timeout is not cut off.
    let s = start_slow_handler_server().await;
    let mut c = RawConn::connect(s.addr).await.unwrap();
    let res = c.get("/slow").await.unwrap();
    assert_eq!((res.status, res.body.as_slice()), (200, &b"slow"[..]));
}

async fn start_slow_handler_server() -> Server {
    start(timeouts(200, 200, 200, LONG)).await
}

#[tokio::test]
async fn a_stalled_body_fails_after_the_body_timeout_and_closes_the_connection() {
    let s = start(timeouts(LONG, 300, LONG, LONG)).await;
    let mut c = RawConn::connect(s.addr).await.unwrap();
    c.send(b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\n0123456789")
        .await
        .unwrap();
    let start = Instant::now();
    let res = tokio::time::timeout(Duration::from_secs(5), c.response())
        .await
        .expect("an answer, not a hang")
        .unwrap();
    let took = start.elapsed();
    assert_eq!(res.status, 400, "axum's answer to an unreadable body");
    assert!(res.closes(), "{res:?}");
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(3),
        "{took:?}"
    );
    // A whole body in time is read.
    let mut c = RawConn::connect(s.addr).await.unwrap();
    c.send(b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello")
        .await
        .unwrap();
    let res = c.response().await.unwrap();
    assert_eq!((res.status, res.body.as_slice()), (200, &b"5"[..]));
}

#[tokio::test]
async fn shutdown_completes_in_flight_requests_with_connection_close_and_refuses_new_ones() {
    let mut s = start(timeouts(LONG, LONG, LONG, 10_000)).await;
    // A keep-alive connection with a request in flight, one idle, one that keeps asking.
    let mut busy = RawConn::connect(s.addr).await.unwrap();
    busy.send(b"GET /slow HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let mut idle = RawConn::connect(s.addr).await.unwrap();
    assert_eq!(idle.get("/fast").await.unwrap().status, 200);
    tokio::time::sleep(Duration::from_millis(100)).await; // /slow is running
    s.shut_down();
    let res = busy
        .response()
        .await
        .expect("the request in flight completes");
    assert_eq!(res.status, 200);
    assert!(
        res.closes(),
        "in-flight responses close their connection: {res:?}"
    );
    assert!(busy.closed_within(Duration::from_secs(5)).await);
    assert!(idle.closed_within(Duration::from_secs(5)).await);
    let took = s.stopped().await;
    assert!(took < Duration::from_secs(5), "{took:?}");
    let refused = tokio::net::TcpStream::connect(s.addr).await;
    assert!(
        refused.is_err(),
        "new connections are refused after shutdown"
    );
}

#[tokio::test]
async fn a_request_arriving_on_an_open_connection_during_shutdown_is_answered_with_close() {
    let mut s = start(timeouts(LONG, LONG, LONG, 10_000)).await;
    let mut busy = RawConn::connect(s.addr).await.unwrap();
    busy.send(b"GET /slow HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let mut c = RawConn::connect(s.addr).await.unwrap();
    assert_eq!(c.get("/fast").await.unwrap().status, 200);
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.shut_down();
    // Within the grace period, the next request on the idle connection is still served.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let res = c.get("/fast").await.expect("served, not cut off");
    assert!(res.closes(), "{res:?}");
    assert_eq!(busy.response().await.unwrap().status, 200);
    s.stopped().await;
}

#[tokio::test]
async fn slow_clients_do_not_hold_shutdown_past_its_deadline() {
    let mut s = start(timeouts(LONG, LONG, LONG, 500)).await;
    let mut half_head = RawConn::connect(s.addr).await.unwrap();
    half_head
        .send(b"GET /fast HTTP/1.1\r\nHost: te")
        .await
        .unwrap();
    let mut half_body = RawConn::connect(s.addr).await.unwrap();
    half_body
        .send(b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\n01")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.shut_down();
    let took = s.stopped().await;
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_secs(3),
        "stopped after {took:?}, shutdown timeout 500 ms"
    );
    assert!(half_head.closed_within(Duration::from_secs(2)).await);
    assert!(half_body.closed_within(Duration::from_secs(2)).await);
}
