//! One integration test binary. Every test gets its own server on port 0 and its own database:
//! SQLite by default, PostgreSQL when `TEST_DATABASE_URL` is set (a server URL; each test creates
//! a fresh database on it).

mod helpers;

mod bench;
mod browser;
mod catalogue;
mod mail;
mod mail_ops;
mod mail_templates;
mod numbering;
mod pages;
mod requesters;
mod requests;
mod service_levels;
mod storage;
mod survey_by_mail;
mod surveys;
