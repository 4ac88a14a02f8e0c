//! One integration test binary. Every test gets its own server on port 0 and its own database:
//! SQLite by default, PostgreSQL when `TEST_DATABASE_URL` is set (a server URL; each test creates
//! a fresh database on it).

mod helpers;

mod areas_units_active;
mod bench;
mod browser;
mod catalogue;
mod mail;
mod mail_ingest;
mod mail_ops;
mod mail_templates;
mod numbering;
mod pages;
// --- pages (request flow) ---
mod browser_flow;
mod pages_flow;
// --- end pages ---
// --- admin ---
mod browser_admin;
mod pages_admin;
// --- end admin ---
mod requesters;
mod requests;
mod search;
mod service_levels;
mod staged_uploads;
mod storage;
mod survey_by_mail;
mod surveys;
