//! The demo's gRPC listener (`MCP_GRPC_ADDR`, default `127.0.0.1:50051`): the standard
//! `grpc.health.v1.Health` service (from `tonic-health`) and `demo.users.v1.Users` over
//! the same users as the HTTP routes, both recorded by the monitor's gRPC layer.
//!
//! The users service is generated at build time from `proto/users.proto` by
//! `tonic-prost-build` (parsed with `protox`, so no `protoc`); [`pb`] holds the
//! messages, the client and the server.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_stream::Stream;
use tonic::server::NamedService;
use tonic::{Request, Response, Status};

use super::users::{User, UserService};

/// The messages, client and server of `proto/users.proto` (`demo.users.v1`).
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod pb {
    tonic::include_proto!("demo.users.v1");
}

use pb::users_server::{Users, UsersServer};

/// The methods of `demo.users.v1.Users`, as the monitor's layer is told them.
pub const USERS_METHODS: &[&str] = &["GetUser", "ListUsers"];

/// The methods of `grpc.health.v1.Health`.
pub const HEALTH_METHODS: &[&str] = &["Check", "Watch"];

/// How often a `ListUsers` stream with `follow` looks for new users.
pub const FOLLOW_PERIOD: Duration = Duration::from_millis(250);

/// `demo.users.v1.Users` over a [`UserService`].
#[derive(Debug, Clone)]
pub struct UsersGrpc {
    users: Arc<UserService>,
}

impl UsersGrpc {
    /// Serves `users`.
    pub fn new(users: Arc<UserService>) -> Self {
        Self { users }
    }
}

impl From<User> for pb::User {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            name: u.name,
            email: u.email,
            created_at: u.created_at,
        }
    }
}

fn internal(e: &super::users::DbError) -> Status {
    Status::internal(e.to_string())
}

/// The stream of `ListUsers`.
pub type UserStream = Pin<Box<dyn Stream<Item = Result<pb::User, Status>> + Send>>;

#[tonic::async_trait]
impl Users for UsersGrpc {
    async fn get_user(
        &self,
        request: Request<pb::GetUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let id = request.into_inner().id;
        match self.users.get_user(id).await {
            Ok(Some(user)) => Ok(Response::new(user.into())),
            Ok(None) => Err(Status::not_found(format!("no user with id {id}"))),
            Err(e) => Err(internal(&e)),
        }
    }

    type ListUsersStream = UserStream;

    async fn list_users(
        &self,
        request: Request<pb::ListUsersRequest>,
    ) -> Result<Response<UserStream>, Status> {
        let follow = request.into_inner().follow;
        let users = self.users.clone();
        let first = users.list_users().await.map_err(|e| internal(&e))?;
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        tokio::spawn(async move {
            let mut last = 0;
            let mut batch = first;
            loop {
                for user in batch {
                    last = last.max(user.id);
                    if tx.send(Ok(user.into())).await.is_err() {
                        return; // the client went away
                    }
                }
                if !follow {
                    return;
                }
                tokio::select! {
                    () = tx.closed() => return,
                    () = tokio::time::sleep(FOLLOW_PERIOD) => {}
                }
                batch = match users.list_users().await {
                    Ok(all) => all.into_iter().filter(|u| u.id > last).collect(),
                    Err(e) => {
                        let _ = tx.send(Err(internal(&e))).await;
                        return;
                    }
                };
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }
}

/// Serves the demo's gRPC services on `listener` until `shutdown` completes, then lets
/// the calls in flight finish: the health service (reporting `demo.users.v1.Users` as
/// serving) and the users service, both recorded by `monitor`'s gRPC layer.
///
/// # Errors
///
/// A transport error of the server.
pub async fn serve(
    monitor: &mcp_monitor::Monitor,
    users: Arc<UserService>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter.set_serving::<UsersServer<UsersGrpc>>().await;
    let layer = monitor
        .grpc_layer()
        .service(
            <UsersServer<UsersGrpc> as NamedService>::NAME,
            USERS_METHODS,
        )
        .service(
            tonic_health::pb::health_server::SERVICE_NAME,
            HEALTH_METHODS,
        );
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    tonic::transport::Server::builder()
        .layer(layer)
        .add_service(health)
        .add_service(UsersServer::new(UsersGrpc::new(users)))
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
}
