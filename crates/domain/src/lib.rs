//! Pure rules of the service desk: no I/O, no clock, no database.
//!
//! Everything here takes "now" and the calendar as arguments, so every rule can be
//! tested with plain values. The app crate parses raw input into these types at the
//! edge (`Curp::parse`, `RequestNumber::parse`, …) so raw strings never travel inward.

pub mod calendar;
pub mod catalogue;
pub mod channel;
pub mod curp;
pub mod eligibility;
pub mod identifiers;
pub mod ids;
pub mod lifecycle;
pub mod permissions;
pub mod service_level;
pub mod service_order;
pub mod survey;
