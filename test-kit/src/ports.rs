//! Ports taken without a race. An in-process server gets a listener bound to
//! `127.0.0.1:0` and keeps it ([`listener`], [`serve`]): no one can take its port
//! between a check and a bind. A binary that binds its own ports gets ports found free
//! ([`free_port`]) and is started again on others when one was taken before it bound it
//! (`servers::Server` does so). A port that must refuse connections is held bound and
//! not listening ([`refusing_port`]).

use std::net::SocketAddr;

/// A listener on a port of 127.0.0.1 that the system picked.
pub async fn listener() -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0")
}

/// An axum app served in this process on [`listener`]; the server task is aborted when
/// this is dropped.
#[derive(Debug)]
pub struct Served {
    /// `127.0.0.1:<port>`.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Served {
    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `app` on a fresh [`listener`].
pub async fn serve(app: axum::Router) -> Served {
    let listener = listener().await;
    let addr = listener.local_addr().expect("local addr");
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    Served { addr, task }
}

/// A port of 127.0.0.1 that was free when this returned. Only for a binary that binds
/// its ports itself, started again on another port when this one was taken meanwhile
/// (`servers::Server`); an in-process server takes a [`listener`] instead.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// A port of 127.0.0.1 where connections are refused for as long as the socket lives:
/// bound, so no one else takes it, and not listening.
pub fn refusing_port() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.1:0".parse().expect("address"))
        .expect("bind 127.0.0.1:0");
    let port = socket.local_addr().expect("local addr").port();
    (socket, port)
}
