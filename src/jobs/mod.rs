//! Background work of `ventanilla serve`. Each periodic job takes a lease in the database first
//! (`outbox::try_lease`), so with several nodes on one PostgreSQL database only one runs it at a
//! time; each pass is a public function that tests call directly with a set clock.

pub mod reports;
pub mod service_levels;
pub mod surveys;

use std::time::Duration;

use crate::state::AppState;

/// A name for this process in lease tables: host and process id.
pub fn node_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_else(|_| "node".into());
    format!("{}-{}", host.trim(), std::process::id())
}

/// Starts every background job; they run until the process ends.
pub fn spawn_all(state: AppState) {
    let owner = node_name();
    service_levels::spawn(
        state.clone(),
        Duration::from_secs(service_levels::DEFAULT_INTERVAL_SECS),
    );
    tokio::spawn(surveys::run(state, owner, Duration::from_secs(15)));
}
