//! What every handler shares: the database, the configuration and the clock.

use std::sync::Arc;

use crate::config::Config;
use crate::db::Db;

/// "Now", passed in so tests can set the time (registration years, business hours).
pub type Clock = Arc<dyn Fn() -> jiff::Timestamp + Send + Sync>;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub clock: Clock,
}

impl AppState {
    pub fn new(db: Db, config: Config) -> Self {
        AppState {
            db,
            config: Arc::new(config),
            clock: Arc::new(jiff::Timestamp::now),
        }
    }

    pub fn now(&self) -> jiff::Timestamp {
        (self.clock)()
    }

    pub fn now_ms(&self) -> i64 {
        self.now().as_millisecond()
    }

    /// Today in Mexico City, for rules such as "a birth date is not in the future".
    pub fn today(&self) -> jiff::civil::Date {
        self.now()
            .in_tz("America/Mexico_City")
            .map(|z| z.date())
            .unwrap_or_else(|_| self.now().to_zoned(jiff::tz::TimeZone::UTC).date())
    }
}
