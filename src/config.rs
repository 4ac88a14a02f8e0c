//! Configuration: plain values, from command-line flags and `VENTANILLA_…` environment variables
//! (clap reads both), with defaults that run a demo on a fresh machine.

use std::net::SocketAddr;
use std::path::PathBuf;

use ventanilla_domain::identifiers::EmployeeNumberRule;

use crate::db::surveys::SurveySettings;

#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://FILE` or `postgres://…`.
    pub database_url: String,
    pub listen: SocketAddr,
    /// The base URL printed and used in links.
    pub public_url: Option<String>,
    /// Largest attachment accepted (Q3).
    pub max_attachment_bytes: usize,
    pub employee_number_rule: EmployeeNumberRule,
    /// The validation flow: survey period, reminders, links (L9).
    pub survey: SurveySettings,
    /// Inbound mail rules (own address, caps, attachment limit), used by the dead-letter retry.
    pub mail: crate::mail::InboundPolicy,
    /// The bearer token `GET /metrics` requires; open without one (it holds no personal data).
    pub metrics_token: Option<String>,
}

impl Config {
    pub fn default_data_dir() -> PathBuf {
        PathBuf::from("ventanilla-data")
    }

    pub fn default_database_url() -> String {
        format!(
            "sqlite://{}/ventanilla.db",
            Self::default_data_dir().display()
        )
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: Self::default_database_url(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            max_attachment_bytes: 10 * 1024 * 1024,
            employee_number_rule: EmployeeNumberRule::default(),
            survey: SurveySettings::default(),
            mail: crate::mail::InboundPolicy::default(),
            metrics_token: None,
        }
    }
}
