//! Typed identifiers, so an area id can never be passed where a service id is due.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    /// A school, centre or administrative unit.
    UnitId,
    /// A resolver area (área final de atención).
    AreaId,
    /// A catalogue service.
    ServiceId,
    /// A person who asks for services.
    RequesterId,
    /// A staff account (agent, supervisor, coordinator, engineer, administrator).
    StaffId,
    /// A service request (its public key is the `RequestNumber`).
    RequestId,
);
