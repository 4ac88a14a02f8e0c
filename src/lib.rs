//! Ventanilla: the service desk that runs procedure CGSI-PO-01. See docs/ARCHITECTURE.md.

pub mod bench;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod http;
pub mod import;
pub mod jobs;
pub mod mail;
pub mod state;

use std::future::Future;

use tokio::net::TcpListener;

pub use http::router;
pub use state::AppState;

/// Serves HTTP on `listener` until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
