//! The demo's gRPC listener with a real tonic client and Python's `grpcio`, and
//! HTTP/2 prior knowledge on the HTTP listener: the counts on `/metrics` equal the
//! calls made, by method and status code.

use std::net::SocketAddr;
use std::time::Duration;

use crate::common::{eventually, Exposition};
use mcp_monitor::{Monitor, ServerTimeouts};
use mcp_monitor_e2e::demo::{
    self,
    grpc::pb::{users_client::UsersClient, GetUserRequest, ListUsersRequest},
    users::NewUser,
};
use tonic::transport::Channel;

const USERS: &str = "demo.users.v1.Users";
const HEALTH: &str = "grpc.health.v1.Health";

/// The demo in this process: HTTP through `mcp_monitor::serve`, gRPC through the demo's
/// tonic server, both on free ports, with two users.
struct Demo {
    http: SocketAddr,
    grpc: SocketAddr,
    monitor: Monitor,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Demo {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

async fn start() -> Demo {
    let monitor = Monitor::builder().build().expect("monitor");
    let state = demo::state(&monitor).await.expect("demo state");
    for (name, email) in [("Ada", "ada@example.com"), ("Grace", "grace@example.com")] {
        state
            .users
            .create_user(&NewUser {
                name: name.into(),
                email: email.into(),
            })
            .await
            .expect("create user");
    }
    let app = demo::http::app(state.clone(), &monitor);
    let http = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let grpc = demo::listen::GRPC
        .bind("127.0.0.1:0".parse().unwrap())
        .await
        .expect("bind gRPC");
    let (http_addr, grpc_addr) = (http.local_addr().unwrap(), grpc.local_addr().unwrap());
    let timeouts = ServerTimeouts::from_settings(monitor.settings());
    let tasks = vec![
        tokio::spawn(mcp_monitor::serve(
            http,
            app,
            timeouts,
            std::future::pending(),
        )),
        tokio::spawn({
            let monitor = monitor.clone();
            async move {
                demo::grpc::serve(&monitor, state.users.clone(), grpc, std::future::pending())
                    .await
                    .expect("gRPC server");
            }
        }),
    ];
    Demo {
        http: http_addr,
        grpc: grpc_addr,
        monitor,
        tasks,
    }
}

impl Demo {
    async fn channel(&self) -> Channel {
        let url = format!("http://{}", self.grpc);
        eventually("the gRPC listener to accept", || {
            let url = url.clone();
            async move { Channel::from_shared(url).expect("uri").connect().await.ok() }
        })
        .await
    }

    async fn metrics(&self) -> Exposition {
        let text = reqwest::get(format!("http://{}/metrics", self.http))
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("body");
        Exposition::parse(&text)
    }

    /// Waits until the monitor has `n` calls of `method` with `code` (a call is
    /// recorded when its response stream ends, which a cancellation reaches after the
    /// client's reset arrives).
    async fn wait_for(&self, service: &str, method: &str, code: &str, n: u64) {
        eventually(&format!("{n} {service}/{method} {code}"), || async {
            (self.monitor.read().grpc_calls(service, method, code) >= n).then_some(())
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tonic_calls_are_counted_by_method_and_code() {
    let demo = start().await;
    let mut client = UsersClient::new(demo.channel().await);

    // Unary: found, then not found.
    for id in [1, 2, 1] {
        let user = client
            .get_user(GetUserRequest { id })
            .await
            .expect("GetUser")
            .into_inner();
        assert_eq!(user.id, id);
    }
    for id in [404, 405] {
        let err = client.get_user(GetUserRequest { id }).await.unwrap_err();
        assert_eq!(err.code(), tonic::Code::NotFound);
    }

    // A server stream read to its end.
    let mut stream = client
        .list_users(ListUsersRequest { follow: false })
        .await
        .expect("ListUsers")
        .into_inner();
    let mut names = Vec::new();
    while let Some(user) = stream.message().await.expect("a user") {
        names.push(user.name);
    }
    assert_eq!(names, ["Ada", "Grace"]);

    // A stream the client cancels after its first message.
    let mut follow = client
        .list_users(ListUsersRequest { follow: true })
        .await
        .expect("ListUsers follow")
        .into_inner();
    assert!(follow.message().await.expect("first user").is_some());
    drop(follow);
    demo.wait_for(USERS, "ListUsers", "CANCELLED", 1).await;

    // A stream whose deadline (grpc-timeout) passes: the client gives up on it, as
    // gRPC clients do at their deadline. The deadline is counted from the first
    // message, which the server sent after the call started.
    let deadline = Duration::from_millis(100);
    let mut req = tonic::Request::new(ListUsersRequest { follow: true });
    req.set_timeout(deadline);
    let mut late = client
        .list_users(req)
        .await
        .expect("ListUsers with a deadline")
        .into_inner();
    assert!(late.message().await.expect("first user").is_some());
    let first = tokio::time::Instant::now();
    tokio::time::sleep_until(first + deadline).await;
    drop(late);
    demo.wait_for(USERS, "ListUsers", "DEADLINE_EXCEEDED", 1)
        .await;

    // Every call is counted once, with its code; the gauge is back to zero.
    let m = demo.metrics().await;
    let count = |method: &str, code: &str| {
        m.sum(
            "mcp_grpc_requests_total",
            &[("service", USERS), ("method", method), ("code", code)],
        )
    };
    assert_eq!(count("GetUser", "OK"), 3.0);
    assert_eq!(count("GetUser", "NOT_FOUND"), 2.0);
    assert_eq!(count("ListUsers", "OK"), 1.0);
    assert_eq!(count("ListUsers", "CANCELLED"), 1.0);
    assert_eq!(count("ListUsers", "DEADLINE_EXCEEDED"), 1.0);
    assert_eq!(m.sum("mcp_grpc_requests_total", &[]), 8.0, "{}", m.text);
    assert_eq!(
        m.sum(
            "mcp_grpc_request_duration_seconds_count",
            &[("service", USERS), ("method", "GetUser"), ("code", "OK")]
        ),
        3.0
    );
    assert_eq!(m.sum("mcp_grpc_requests_in_flight", &[]), 0.0, "{}", m.text);
    // The summary lists the methods beside the routes.
    let summary: serde_json::Value = reqwest::get(format!("http://{}/metrics/summary", demo.http))
        .await
        .expect("GET /metrics/summary")
        .json()
        .await
        .expect("JSON");
    let methods = summary["grpc"]["methods"].as_array().expect("methods");
    let get = methods
        .iter()
        .find(|m| m["method"] == "GetUser")
        .expect("GetUser");
    assert_eq!(get["codes"]["NOT_FOUND"], 2);
    assert_eq!(get["total"]["count"], 5);
    // DEADLINE_EXCEEDED is a server error; CANCELLED and NOT_FOUND are not.
    assert_eq!(summary["grpc"]["total"]["failures"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpcio_health_check_and_unknown_methods() {
    let demo = start().await;
    let _ = demo.channel().await; // listening
    let script = format!(
        r#"
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
with grpc.insecure_channel("{addr}") as ch:
    stub = health_pb2_grpc.HealthStub(ch)
    for service in ["", "{USERS}"]:
        r = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=30)
        assert r.status == health_pb2.HealthCheckResponse.SERVING, r
    try:
        stub.Check(health_pb2.HealthCheckRequest(service="nope"), timeout=30)
        raise SystemExit("an unknown service was reported")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.NOT_FOUND, e
    # A method the server does not serve.
    call = ch.unary_unary("/demo.users.v1.Users/DeleteUser")
    try:
        call(b"", timeout=30)
        raise SystemExit("an unknown method answered")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.UNIMPLEMENTED, e
print("ok")
"#,
        addr = demo.grpc
    );
    let out = tokio::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .await
        .expect("run python3");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok",
        "grpcio health check failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let m = demo.metrics().await;
    let health = |code: &str| {
        m.sum(
            "mcp_grpc_requests_total",
            &[("service", HEALTH), ("method", "Check"), ("code", code)],
        )
    };
    assert_eq!(health("OK"), 2.0, "{}", m.text);
    assert_eq!(health("NOT_FOUND"), 1.0);
    // The undeclared method is one `unknown` series, never its own.
    assert_eq!(
        m.sum(
            "mcp_grpc_requests_total",
            &[
                ("service", "unknown"),
                ("method", "unknown"),
                ("code", "UNIMPLEMENTED")
            ]
        ),
        1.0
    );
    assert!(!m.text.contains("DeleteUser"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_listener_answers_http2_prior_knowledge() {
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    let demo = start().await;
    // tonic's channel speaks HTTP/2 only, with prior knowledge (h2c).
    let channel = Channel::from_shared(format!("http://{}", demo.http))
        .expect("uri")
        .connect()
        .await
        .expect("h2c connection");
    let req = http::Request::get(format!("http://{}/users/1", demo.http))
        .body(tonic::body::Body::empty())
        .unwrap();
    let res = channel.oneshot(req).await.expect("h2c request");
    assert_eq!(res.version(), http::Version::HTTP_2);
    assert_eq!(res.status(), 200);
    let body = res.into_body().collect().await.expect("body").to_bytes();
    let user: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(user["name"], "Ada");
    // Recorded by the HTTP layer as any request.
    let m = demo.metrics().await;
    assert_eq!(
        m.sum(
            "mcp_http_requests_total",
            &[
                ("method", "GET"),
                ("path", "/users/{id}"),
                ("status", "200")
            ]
        ),
        1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http2_connection_drains_on_shutdown() {
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    // A handler that says when it has the request and answers when released: the
    // request is in flight when the signal comes, whatever the machine's speed.
    let entered = std::sync::Arc::new(tokio::sync::Notify::new());
    let release = std::sync::Arc::new(tokio::sync::Notify::new());
    let monitor = Monitor::builder().build().expect("monitor");
    let app = {
        let (entered, release) = (entered.clone(), release.clone());
        monitor.instrument(axum::Router::new().route(
            "/held",
            axum::routing::get(move || async move {
                entered.notify_one();
                release.notified().await;
                "released"
            }),
        ))
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(mcp_monitor::serve(
        listener,
        app,
        ServerTimeouts::from_settings(monitor.settings()),
        async move {
            let _ = stopped.await;
        },
    ));
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("h2c connection");
    let slow = tokio::spawn(
        channel.clone().oneshot(
            http::Request::get(format!("http://{addr}/held"))
                .body(tonic::body::Body::empty())
                .unwrap(),
        ),
    );
    tokio::time::timeout(crate::common::DEADLINE, entered.notified())
        .await
        .expect("the request to reach its handler");
    assert_eq!(monitor.read().in_flight(), 1);
    stop.send(()).unwrap();
    // Shutdown has begun once the listener refuses new connections.
    eventually("the listener to refuse connections", || async {
        tokio::net::TcpStream::connect(addr)
            .await
            .is_err()
            .then_some(())
    })
    .await;
    release.notify_one();
    let res = slow
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(res.status(), 200);
    let body = res
        .into_body()
        .collect()
        .await
        .expect("its body")
        .to_bytes();
    assert_eq!(&body[..], b"released");
    // The server has sent GOAWAY and closed the connection: it returns.
    tokio::time::timeout(crate::common::DEADLINE, server)
        .await
        .expect("the server drains and returns")
        .unwrap();
}
