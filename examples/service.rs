//! The demo service: `cargo run --release --example service`.
//!
//! A user service on SQLite and a workflow engine, instrumented with `mcp-monitor`
//! (see `src/demo/` for the instrumented code), with the monitor's endpoints. Every
//! `MCP_*` variable of the README applies; `MCP_ADDR` sets the listen address
//! (default `127.0.0.1:8080`, read by the demo itself: see `demo::listen`), `MCP_SHUTDOWN_TIMEOUT` the longest drain after SIGTERM
//! (default `10s`) and `DEMO_SCHEDULER=1` runs the workflow in the
//! background so that the dashboard has data. `RUST_LOG` sets the log filter
//! (default `info`).

use std::io::IsTerminal;
use std::process::ExitCode;

use mcp_monitor_e2e::demo;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr (colored on a terminal); stdout has the start-up lines.
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // Reads every MCP_* variable (MCP_ADDR here, the monitor's in `install`); a bad
    // value stops here with an error naming it.
    let addr = demo::listen::HTTP.from_env()?;
    let grpc_addr = demo::listen::GRPC.from_env()?;
    // The demo's objectives (`demo::OBJECTIVES`) unless MCP_SLOS says otherwise.
    let monitor = mcp_monitor::Monitor::builder()
        .with_settings(demo::settings_from_env()?)
        .install()?;
    let scheduler = demo::scheduler_from_env()?;

    // The services (SQLite pool registered as `sqlite`, cache reported as `users`) and
    // their routes, merged with the monitor's endpoints and wrapped in its middleware
    // by `monitor.instrument`, which applies it last so that it sees every route.
    let state = demo::state(&monitor).await?;
    let app = demo::http::app(state.clone(), &monitor);
    let scheduler = scheduler.then(|| {
        demo::workflows::spawn_scheduler(state.workflows.clone(), demo::workflows::SCHEDULER_PERIOD)
    });

    // A bind failure names MCP_ADDR and the address.
    let listener = demo::listen::HTTP.bind(addr).await?;
    let grpc_listener = demo::listen::GRPC.bind(grpc_addr).await?;
    let grpc_at = grpc_listener.local_addr()?;
    let base = format!("http://{}", listener.local_addr()?);
    println!("mcp-monitor demo listening on {base}");
    println!("  try:       curl -s -XPOST {base}/users -H 'content-type: application/json' -d '{{\"name\":\"Ada\",\"email\":\"ada@example.com\"}}'");
    println!("             curl -s {base}/users/1");
    println!("             curl -s -XPOST {base}/workflows/data_processing -H 'content-type: application/json' -d '{{\"records\":[1,\"two\",{{\"three\":3}}]}}'");
    println!("  gRPC:      {grpc_at} (grpc.health.v1.Health, demo.users.v1.Users; MCP_GRPC_ADDR)");
    println!("  page:      {base}/metrics/ui");
    println!("  metrics:   {base}/metrics");
    println!("  summary:   {base}/metrics/summary");
    println!("  dashboard: {base}/api/v1/metrics/dashboard");
    println!("  report:    {base}/api/v1/metrics/report");
    if scheduler.is_some() {
        println!(
            "  scheduler: running data_processing every {:?}",
            demo::workflows::SCHEDULER_PERIOD
        );
    }
    println!("Ctrl-C to stop.");

    // Head, body and idle timeouts on every connection; on SIGTERM, responses close
    // their connections, new ones are refused, and what is still open after
    // MCP_SHUTDOWN_TIMEOUT is closed.
    // The gRPC listener stops with the HTTP one, and lets its calls in flight finish.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let grpc = tokio::spawn({
        let (monitor, users) = (monitor.clone(), state.users.clone());
        let mut stopped = stopped;
        async move {
            let signal = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            if let Err(e) = demo::grpc::serve(&monitor, users, grpc_listener, signal).await {
                tracing::error!(error = %e, "the gRPC server stopped");
            }
        }
    });
    let timeouts = mcp_monitor::ServerTimeouts::from_settings(monitor.settings());
    mcp_monitor::serve(listener, app, timeouts, async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    })
    .await;
    stop_grpc(grpc, monitor.settings().shutdown_timeout).await;
    if let Some(task) = scheduler {
        task.abort();
    }
    tracing::info!("stopped");
    Ok(())
}

/// Waits for the gRPC server's drain, at most `limit`.
async fn stop_grpc(task: tokio::task::JoinHandle<()>, limit: std::time::Duration) {
    let abort = task.abort_handle();
    if tokio::time::timeout(limit, task).await.is_err() {
        abort.abort();
    }
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
