//! The Spanish texts of the mails we send: acknowledgement with the number and the service's
//! attention policy (L6, A13), status changes, and missing requirements (V5). Every subject
//! carries the number in brackets so a reply threads even without its headers.

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
}

/// What the attention policy says when the service is not known yet (intake queue).
pub const POLICY_PENDING: &str = "Un agente del CAU revisará su mensaje en horario hábil, \
identificará el servicio que corresponde y le informará el tiempo de atención.";

pub fn subject_with_number(number: &str, text: &str) -> String {
    format!("[{number}] {text}")
}

/// L6, A13: the number and the service's attention policy.
pub fn acknowledgement(
    number: &str,
    request_subject: &str,
    service: Option<&str>,
    attention_policy: Option<&str>,
    missing_requirements: &[String],
) -> Rendered {
    let mut text = format!(
        "Estimada persona usuaria:\n\n\
         El Centro de Atención a Usuarios (CAU) recibió su solicitud.\n\n\
         Número de solicitud: {number}\n\
         Asunto: {request_subject}\n"
    );
    if let Some(service) = service {
        text.push_str(&format!("Servicio: {service}\n"));
    }
    text.push_str("\nPolítica de atención:\n");
    text.push_str(
        attention_policy
            .filter(|p| !p.trim().is_empty())
            .unwrap_or(POLICY_PENDING),
    );
    text.push('\n');
    if !missing_requirements.is_empty() {
        text.push_str(&missing_section(missing_requirements));
    }
    text.push_str(FOOTER);
    Rendered {
        subject: subject_with_number(number, "Recibimos su solicitud"),
        text,
    }
}

/// V5: what the requester still has to provide.
pub fn missing_requirements(number: &str, missing: &[String]) -> Rendered {
    let mut text = format!(
        "Estimada persona usuaria:\n\nPara atender su solicitud {number} necesitamos lo siguiente.\n"
    );
    text.push_str(&missing_section(missing));
    text.push_str(FOOTER);
    Rendered {
        subject: subject_with_number(number, "Faltan requisitos para su solicitud"),
        text,
    }
}

/// A change of status on the requester's request.
pub fn status_changed(
    number: &str,
    from_label: &str,
    to_label: &str,
    note: Option<&str>,
) -> Rendered {
    let mut text = format!(
        "Estimada persona usuaria:\n\nSu solicitud {number} cambió de estado: {from_label} → {to_label}.\n"
    );
    if let Some(note) = note.filter(|n| !n.trim().is_empty()) {
        text.push_str(&format!("\nNota del CAU: {note}\n"));
    }
    text.push_str(FOOTER);
    Rendered {
        subject: subject_with_number(number, &format!("Su solicitud está «{to_label}»")),
        text,
    }
}

fn missing_section(missing: &[String]) -> String {
    let mut s = String::from(
        "\nRequisitos pendientes (responda a este correo con ellos; sin ellos no podemos registrar el servicio):\n",
    );
    for item in missing {
        s.push_str(&format!("  - {item}\n"));
    }
    s
}

const FOOTER: &str = "\nPara agregar información, responda a este correo conservando el número \
entre corchetes en el asunto.\n\n\
Este mensaje fue enviado automáticamente por la mesa de servicios del CAU.\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_acknowledgement_carries_number_and_policy_l6_a13() {
        let r = acknowledgement(
            "SS-2026-000123",
            "Sin correo",
            Some("Correo institucional"),
            Some("Se atiende en 2 días hábiles."),
            &[],
        );
        assert_eq!(r.subject, "[SS-2026-000123] Recibimos su solicitud");
        assert!(r.text.contains("SS-2026-000123"));
        assert!(r.text.contains("Se atiende en 2 días hábiles."));
        let pending = acknowledgement("SS-2026-000124", "x", None, None, &["CURP".into()]);
        assert!(pending.text.contains(POLICY_PENDING));
        assert!(pending.text.contains("  - CURP"));
    }

    #[test]
    fn status_and_missing_requirement_notices_name_the_request() {
        let r = status_changed(
            "SS-2026-000009",
            "Registrada",
            "En atención",
            Some("Vamos en camino."),
        );
        assert_eq!(
            r.subject,
            "[SS-2026-000009] Su solicitud está «En atención»"
        );
        assert!(r.text.contains("Registrada → En atención") && r.text.contains("Vamos en camino."));
        let m = missing_requirements("SS-2026-000010", &["Oficio firmado".into()]);
        assert!(m.subject.starts_with("[SS-2026-000010]"));
        assert!(m.text.contains("  - Oficio firmado"));
    }
}
