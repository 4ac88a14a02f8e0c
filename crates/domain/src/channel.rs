//! Intake channels (L2) and which of them work while CAU is closed (L4).

use serde::{Deserialize, Serialize};

/// How a request reached CAU. Every request records its channel (L2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Phone,
    /// Oficio: a scanned official letter is attached.
    OfficialLetter,
    /// Pre-printed service order (X2).
    ServiceOrder,
    Facebook,
    /// X, formerly Twitter.
    X,
    InPerson,
}

impl Channel {
    pub const ALL: [Channel; 7] = [
        Channel::Email,
        Channel::Phone,
        Channel::OfficialLetter,
        Channel::ServiceOrder,
        Channel::Facebook,
        Channel::X,
        Channel::InPerson,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Phone => "phone",
            Channel::OfficialLetter => "official_letter",
            Channel::ServiceOrder => "service_order",
            Channel::Facebook => "facebook",
            Channel::X => "x",
            Channel::InPerson => "in_person",
        }
    }

    pub fn from_code(code: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Spanish label for pages and mails.
    pub fn label_es(self) -> &'static str {
        match self {
            Channel::Email => "Correo electrónico",
            Channel::Phone => "Teléfono",
            Channel::OfficialLetter => "Oficio",
            Channel::ServiceOrder => "Orden de servicio pre-impresa",
            Channel::Facebook => "Facebook",
            Channel::X => "X (Twitter)",
            Channel::InPerson => "En persona",
        }
    }

    /// L4: on weekends, holidays and vacations only these channels receive requests;
    /// their messages wait in the intake queue until business hours.
    pub fn works_while_closed(self) -> bool {
        matches!(self, Channel::Email | Channel::Facebook | Channel::X)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_channel_code_round_trips() {
        for channel in Channel::ALL {
            assert_eq!(Channel::from_code(channel.code()), Some(channel));
        }
        assert_eq!(Channel::from_code("fax"), None);
    }

    #[test]
    fn only_mail_and_social_networks_work_while_closed_l4() {
        let open: Vec<_> = Channel::ALL
            .into_iter()
            .filter(|c| c.works_while_closed())
            .collect();
        assert_eq!(open, vec![Channel::Email, Channel::Facebook, Channel::X]);
    }
}
