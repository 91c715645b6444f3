//! The gRPC layer's cost, against the same tonic service without it, in one run.
//!
//! - `grpc_layer/unary`: one `grpc.health.v1.Health/Check` through tonic-health's
//!   server as a tower service (request decoded, answer encoded, body read to its
//!   trailers), `bare` and `layered`; the difference is the layer's cost per unary
//!   call (lookup, guard, status from the trailers, one histogram record).
//! - `grpc_layer/stream_100`: a response of 100 messages and trailers from a tower
//!   service, `bare` and `layered`; the difference over 100 is the cost per streamed
//!   message (the body wrapper's poll).
//! - then, over a socket: each variant served by a tonic server on its own
//!   current-thread runtime, loaded by a tonic client loop (`GRPC_BENCH_CLIENTS`
//!   concurrent callers, default 16) for `GRPC_BENCH_SECONDS` (default 2) per
//!   variant, `GRPC_BENCH_ROUNDS` rounds (default 5) alternating the order; reported:
//!   calls/s per run and the median ratio `layered / bare`.
//!
//! `cargo bench -p mcp-monitor --bench grpc`. See `docs/benchmarks.md`.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use criterion::{black_box, Criterion};
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::Frame;
use http_body_util::{BodyExt as _, Full, StreamBody};
use mcp_monitor::Monitor;
use prost::bytes::Bytes;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tower::{Layer as _, Service, ServiceExt as _};

const HEALTH: &str = "grpc.health.v1.Health";

fn monitor() -> Monitor {
    Monitor::builder().build().expect("monitor")
}

/// `Check {service: ""}` as a gRPC request body: the 5-byte prefix and the message.
fn check_request() -> Request<Full<Bytes>> {
    let msg = prost::Message::encode_to_vec(&HealthCheckRequest {
        service: String::new(),
    });
    let mut framed = vec![0u8];
    framed.extend_from_slice(&u32::try_from(msg.len()).unwrap().to_be_bytes());
    framed.extend_from_slice(&msg);
    Request::post(format!("http://localhost/{HEALTH}/Check"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(Full::new(Bytes::from(framed)))
        .unwrap()
}

/// The body of [`streaming`]'s responses.
type Frames =
    StreamBody<futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>>;
/// The response future of [`streaming`].
type Answer = std::future::Ready<Result<Response<Frames>, Infallible>>;

/// A response of `n` messages and `grpc-status: 0`.
fn streaming(
    n: usize,
) -> impl Service<
    Request<Full<Bytes>>,
    Response = Response<Frames>,
    Error = Infallible,
    Future = Answer,
> + Clone {
    tower::service_fn(move |_req: Request<Full<Bytes>>| {
        let mut frames: Vec<Result<Frame<Bytes>, Infallible>> = (0..n)
            .map(|_| Ok(Frame::data(Bytes::from_static(b"\0\0\0\0\x02\x08\x01"))))
            .collect();
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", HeaderValue::from_static("0"));
        frames.push(Ok(Frame::trailers(trailers)));
        std::future::ready(Ok(Response::new(StreamBody::new(
            futures_util::stream::iter(frames),
        ))))
    })
}

async fn call<S, B>(svc: &mut S, req: Request<Full<Bytes>>)
where
    S: Service<Request<Full<Bytes>>, Response = Response<B>>,
    S::Error: std::fmt::Debug,
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let res = svc.ready().await.unwrap().call(req).await.unwrap();
    black_box(res.into_body().collect().await.unwrap());
}

fn layer_cost(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let m = monitor();
    let layer = m.grpc_layer().service(HEALTH, &["Check", "Watch"]);
    let (reporter, health) = rt.block_on(async { tonic_health::server::health_reporter() });
    drop(reporter);
    let mut g = c.benchmark_group("grpc_layer");
    {
        let mut bare = health.clone();
        g.bench_function("unary/bare", |b| {
            b.iter(|| rt.block_on(call(&mut bare, check_request())));
        });
        let mut layered = layer.layer(health);
        g.bench_function("unary/layered", |b| {
            b.iter(|| rt.block_on(call(&mut layered, check_request())));
        });
    }
    {
        let mut bare = streaming(100);
        g.bench_function("stream_100/bare", |b| {
            b.iter(|| rt.block_on(call(&mut bare, check_request())));
        });
        let mut layered = layer.layer(streaming(100));
        g.bench_function("stream_100/layered", |b| {
            b.iter(|| rt.block_on(call(&mut layered, check_request())));
        });
    }
    g.finish();
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Serves the health service on a free port from its own current-thread runtime,
/// with the layer of `monitor` or without.
fn serve(monitor: Option<Monitor>) -> std::net::SocketAddr {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let addr = std_listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
            let (_reporter, health) = tonic_health::server::health_reporter();
            match monitor {
                Some(m) => {
                    let layer = m.grpc_layer().service(HEALTH, &["Check", "Watch"]);
                    tonic::transport::Server::builder()
                        .layer(layer)
                        .add_service(health)
                        .serve_with_incoming(incoming)
                        .await
                }
                None => {
                    tonic::transport::Server::builder()
                        .add_service(health)
                        .serve_with_incoming(incoming)
                        .await
                }
            }
            .unwrap();
        });
    });
    addr
}

/// Calls/s of `clients` concurrent callers on one connection for `seconds`.
async fn load(addr: std::net::SocketAddr, clients: u64, seconds: u64) -> f64 {
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let end = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let mut client = HealthClient::new(channel.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < end {
                    client
                        .check(HealthCheckRequest {
                            service: String::new(),
                        })
                        .await
                        .unwrap();
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / start.elapsed().as_secs_f64()
}

fn socket_throughput() {
    let (rounds, seconds, clients) = (
        env("GRPC_BENCH_ROUNDS", 5),
        env("GRPC_BENCH_SECONDS", 2),
        env("GRPC_BENCH_CLIENTS", 16),
    );
    let m = monitor();
    let bare = serve(None);
    let layered = serve(Some(m.clone()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // Warm-up.
    rt.block_on(load(bare, clients, 1));
    rt.block_on(load(layered, clients, 1));
    let mut ratios = Vec::new();
    for round in 0..rounds {
        let order = if round % 2 == 0 {
            [("bare", bare), ("layered", layered)]
        } else {
            [("layered", layered), ("bare", bare)]
        };
        let mut got = [0.0; 2];
        for (name, addr) in order {
            let rate = rt.block_on(load(addr, clients, seconds));
            println!("socket round {round}: {name:8} {rate:10.0} calls/s");
            got[usize::from(name == "layered")] = rate;
        }
        ratios.push(got[1] / got[0]);
    }
    ratios.sort_by(f64::total_cmp);
    let calls = m.read().grpc_calls(HEALTH, "Check", "OK");
    println!(
        "socket: layered / bare throughput, median of {rounds} rounds: {:.3} (rounds: {:?}); {calls} calls recorded",
        ratios[ratios.len() / 2],
        ratios.iter().map(|r| (r * 1000.0).round() / 1000.0).collect::<Vec<_>>()
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    layer_cost(&mut c);
    c.final_summary();
    if std::env::var_os("GRPC_BENCH_NO_SOCKET").is_none() {
        socket_throughput();
    }
}
