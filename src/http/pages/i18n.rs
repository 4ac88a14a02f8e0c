//! The texts of the pages in Spanish (the default, complete) and English. Templates read them as
//! `tr.key`; a test checks that every key a template uses is here in both languages.
//! Error details from the rules stay in Spanish, as the API gives them.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use ventanilla_domain::lifecycle::{Status, Step};
use ventanilla_domain::permissions::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Es,
    En,
}

impl Lang {
    pub fn from_code(code: &str) -> Lang {
        if code == "en" { Lang::En } else { Lang::Es }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Es => "es",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Es => Lang::En,
            Lang::En => Lang::Es,
        }
    }
}

/// (key, Spanish, English).
pub const MESSAGES: &[(&str, &str, &str)] = &[
    ("app_name", "Ventanilla · CAU", "Ventanilla · CAU"),
    ("skip_to_content", "Saltar al contenido", "Skip to content"),
    ("nav_main", "Navegación principal", "Main navigation"),
    ("nav_home", "Inicio", "Home"),
    ("nav_new_request", "Nueva solicitud", "New request"),
    ("nav_search", "Buscar", "Search"),
    ("nav_catalogue", "Catálogo", "Catalogue"),
    ("nav_reports", "Informes", "Reports"),
    (
        "reports_title",
        "Satisfacción mensual",
        "Monthly satisfaction",
    ),
    ("reports_month", "Mes", "Month"),
    ("reports_show", "Ver", "Show"),
    (
        "reports_trend",
        "CSAT de los últimos seis meses",
        "CSAT over the last six months",
    ),
    ("reports_by_area", "Por área", "By area"),
    ("reports_group", "Grupo", "Group"),
    ("reports_answers", "Respuestas", "Answers"),
    ("reports_sent", "Enviadas", "Sent"),
    (
        "reports_response_rate",
        "Tasa de respuesta",
        "Response rate",
    ),
    (
        "reports_low_sample",
        "Menos de 30 respuestas: poco confiable",
        "Fewer than 30 answers: not reliable",
    ),
    ("reports_reopen_rate", "Tasa de reapertura", "Reopen rate"),
    (
        "reports_sla",
        "Cumplimiento de tiempos",
        "Service-level compliance",
    ),
    ("reports_download", "Descargar", "Download"),
    ("reports_no_data", "sin datos", "no data"),
    ("switch_language", "English", "Español"),
    (
        "switch_language_label",
        "Cambiar idioma a inglés",
        "Switch language to Spanish",
    ),
    ("sign_out", "Salir", "Sign out"),
    (
        "footer",
        "Centro de Atención a Usuarios · Procedimiento CGSI-PO-01",
        "User Support Centre · Procedure CGSI-PO-01",
    ),
    // Sign-in
    ("title_login", "Entrar", "Sign in"),
    (
        "login_heading",
        "Entrar a Ventanilla",
        "Sign in to Ventanilla",
    ),
    ("username", "Usuario", "Username"),
    ("password", "Contraseña", "Password"),
    ("sign_in", "Entrar", "Sign in"),
    (
        "login_failed",
        "Usuario o contraseña incorrectos.",
        "Wrong username or password.",
    ),
    (
        "login_locked",
        "Demasiados intentos fallidos: la cuenta queda bloqueada 15 minutos. Espere o pida ayuda al administrador.",
        "Too many failed attempts: the account is locked for 15 minutes. Wait or ask the administrator.",
    ),
    (
        "login_required",
        "Escriba su usuario y su contraseña.",
        "Type your username and password.",
    ),
    // Home
    ("title_home", "Inicio", "Home"),
    ("home_heading", "Pendientes", "Work to do"),
    (
        "home_live",
        "Las colas se actualizan solas cada 30 segundos.",
        "The queues refresh themselves every 30 seconds.",
    ),
    ("queue_mine", "Asignadas a mí", "Assigned to me"),
    ("queue_area", "De mi área", "My area's"),
    (
        "queue_intake",
        "Bandeja de entrada (sin registrar)",
        "Intake queue (not yet registered)",
    ),
    (
        "queue_to_confirm",
        "Requisitos por confirmar",
        "Requirements to confirm",
    ),
    (
        "queue_solved",
        "Solucionadas por verificar",
        "Solved, to verify",
    ),
    ("queue_open", "Abiertas recientes", "Recent open requests"),
    (
        "queue_empty",
        "Nada pendiente aquí.",
        "Nothing pending here.",
    ),
    ("col_number", "Número", "Number"),
    ("col_status", "Estado", "Status"),
    ("col_subject", "Asunto", "Subject"),
    ("col_requester", "Solicitante", "Requester"),
    ("col_service", "Servicio", "Service"),
    ("col_area", "Área", "Area"),
    ("col_assignee", "Responsable", "Assignee"),
    ("col_updated", "Actualizada", "Updated"),
    ("col_channel", "Medio", "Channel"),
    ("col_received", "Recibida", "Received"),
    // The attention script
    ("title_new_request", "Nueva solicitud", "New request"),
    (
        "script_heading",
        "Guion de atención (CGSI-PO-01/01)",
        "Attention script (CGSI-PO-01/01)",
    ),
    ("step_greeting", "1. Saludo", "1. Greeting"),
    (
        "greeting_label",
        "Texto del saludo (puede editarlo)",
        "Greeting text (you may edit it)",
    ),
    (
        "greeting_text",
        "Centro de Atención a Usuarios, le atiende {name}. ¿En qué puedo ayudarle?",
        "User Support Centre, {name} speaking. How may I help you?",
    ),
    ("channel", "Medio de contacto", "Channel"),
    (
        "step_identify",
        "2. Identificar a la persona (A5)",
        "2. Identify the requester (A5)",
    ),
    (
        "identify_label",
        "Buscar por CURP, boleta, número de empleado, correo o nombre",
        "Search by CURP, student number, employee number, e-mail or name",
    ),
    (
        "identify_hint",
        "Los resultados aparecen mientras escribe. Elija a la persona o registre una nueva.",
        "Results appear as you type. Pick the person or register a new one.",
    ),
    ("use_this_person", "Usar estos datos", "Use this person"),
    (
        "no_requester_found",
        "Nadie coincide. Registre a la persona con los datos de abajo (A6).",
        "No match. Register the person with the fields below (A6).",
    ),
    (
        "step_person",
        "3. Datos de la persona (A6, A7)",
        "3. The person's data (A6, A7)",
    ),
    (
        "person_hint",
        "Verifique los datos con la persona y corríjalos si cambiaron; los cambios quedan en su historial.",
        "Check the data with the person and correct it if it changed; changes are kept in its history.",
    ),
    ("person_new", "Persona nueva", "New person"),
    (
        "person_clear",
        "Vaciar los datos para otra persona",
        "Clear the data for another person",
    ),
    ("person_selected", "Persona elegida", "Selected person"),
    ("full_name", "Nombre completo", "Full name"),
    ("curp", "CURP", "CURP"),
    ("boleta", "Boleta", "Student number (boleta)"),
    ("employee_number", "Número de empleado", "Employee number"),
    ("extension", "Extensión", "Extension"),
    ("email", "Correo electrónico", "E-mail"),
    ("phone", "Teléfono", "Phone"),
    ("unit", "Unidad", "Unit"),
    ("choose", "Elija…", "Choose…"),
    ("udi_role", "Papel en la UDI", "Role in the IT unit"),
    ("udi_none", "Ninguno (usuario)", "None (user)"),
    ("udi_head", "Jefe de UDI", "Head of IT unit"),
    (
        "udi_work_group",
        "Grupo de trabajo de la UDI",
        "IT unit work group",
    ),
    ("curp_ok", "CURP válida.", "Valid CURP."),
    (
        "earlier_requests",
        "Solicitudes anteriores",
        "Earlier requests",
    ),
    (
        "no_earlier_requests",
        "Sin solicitudes anteriores.",
        "No earlier requests.",
    ),
    (
        "duplicate_warning",
        "Atención: ya hay solicitudes abiertas de esta persona para este servicio (A8):",
        "Warning: this person already has open requests for this service (A8):",
    ),
    ("step_problem", "4. El problema (A9)", "4. The problem (A9)"),
    ("subject", "Asunto", "Subject"),
    (
        "description",
        "Descripción del problema",
        "Description of the problem",
    ),
    (
        "step_service",
        "5. El servicio (A10)",
        "5. The service (A10)",
    ),
    (
        "service_search",
        "Buscar en el catálogo",
        "Search the catalogue",
    ),
    (
        "service_hint",
        "Sin acentos también funciona: «creacion correo».",
        "Accents are optional: «creacion correo».",
    ),
    (
        "no_service_found",
        "Ningún servicio coincide.",
        "No service matches.",
    ),
    (
        "eligible",
        "La persona puede solicitar este servicio.",
        "The person may request this service.",
    ),
    (
        "requirements",
        "Requisitos de la cédula (V1–V5)",
        "Requirements of the service sheet (V1–V5)",
    ),
    (
        "requirements_hint",
        "Marque los que la persona cumple; si falta alguno, la solicitud queda en «Requisitos por confirmar».",
        "Tick those the person meets; if any is missing the request waits in «Requirements to confirm».",
    ),
    (
        "no_requirements",
        "La cédula no pide requisitos.",
        "The sheet asks for no requirements.",
    ),
    (
        "first_level_tests",
        "Pruebas de primer nivel (A4)",
        "First-level tests (A4)",
    ),
    (
        "no_tests",
        "La cédula no indica pruebas de primer nivel.",
        "The sheet lists no first-level tests.",
    ),
    (
        "required_attachments",
        "Documentos que deben adjuntarse (Q3)",
        "Documents to attach (Q3)",
    ),
    ("area", "Área que atiende (A11)", "Resolver area (A11)"),
    (
        "attention_policy",
        "Política de atención",
        "Attention policy",
    ),
    (
        "not_in_catalogue",
        "No está en el catálogo (A2, A3)",
        "Not in the catalogue (A2, A3)",
    ),
    (
        "not_in_catalogue_check",
        "Lo que pide no es un servicio del catálogo: canalizar a la persona",
        "What they ask for is not a catalogue service: refer the person",
    ),
    (
        "referred_to",
        "¿A dónde se canalizó?",
        "Where was the person referred?",
    ),
    ("register", "Registrar solicitud", "Register request"),
    (
        "record_referral",
        "Registrar canalización",
        "Record referral",
    ),
    (
        "form_has_errors",
        "Revise los campos marcados.",
        "Check the marked fields.",
    ),
    (
        "title_referral",
        "Canalización registrada",
        "Referral recorded",
    ),
    (
        "referral_done",
        "Se registró la canalización. No se generó número de solicitud.",
        "The referral was recorded. No request number was issued.",
    ),
    (
        "new_request_again",
        "Atender otra llamada",
        "Take another call",
    ),
    // Request page
    (
        "created_heading",
        "Solicitud registrada",
        "Request registered",
    ),
    (
        "created_tell",
        "Dicte este número a la persona:",
        "Read this number to the person:",
    ),
    ("copy", "Copiar", "Copy"),
    ("copied", "Copiado", "Copied"),
    ("status", "Estado", "Status"),
    ("service", "Servicio", "Service"),
    ("assignee", "Responsable", "Assignee"),
    ("requester", "Solicitante", "Requester"),
    ("received_at", "Recibida", "Received"),
    ("none", "—", "—"),
    ("timeline", "Historial", "Timeline"),
    ("actions", "Acciones", "Actions"),
    (
        "no_actions",
        "Su perfil no tiene acciones disponibles en este estado.",
        "Your role has no actions available in this status.",
    ),
    ("reason", "Motivo", "Reason"),
    ("solution", "Solución aplicada", "Solution applied"),
    ("engineer", "Ingeniero (opcional)", "Engineer (optional)"),
    ("comment", "Comentario", "Comment"),
    (
        "comment_internal",
        "Nota interna (no se envía a la persona)",
        "Internal note (not sent to the person)",
    ),
    ("add_comment", "Agregar comentario", "Add comment"),
    (
        "conditions",
        "Cambio de condiciones (V6)",
        "Change of conditions (V6)",
    ),
    (
        "conditions_description",
        "Nueva descripción",
        "New description",
    ),
    (
        "conditions_reason",
        "Qué cambió y quién lo pidió",
        "What changed and who asked",
    ),
    ("save_conditions", "Guardar cambio", "Save change"),
    ("done", "Hecho.", "Done."),
    (
        "confirm_requirements_hint",
        "Marque los requisitos que la persona ya cumplió.",
        "Tick the requirements the person now meets.",
    ),
    // Search and catalogue
    ("title_search", "Buscar solicitudes", "Search requests"),
    (
        "search_label",
        "Número, asunto, descripción o nombre",
        "Number, subject, description or name",
    ),
    (
        "search_hint",
        "No distingue acentos ni mayúsculas.",
        "Ignores accents and capitals.",
    ),
    ("any_status", "Cualquier estado", "Any status"),
    ("any_area", "Cualquier área", "Any area"),
    ("search_button", "Buscar", "Search"),
    ("results", "Resultados", "Results"),
    ("no_results", "Sin resultados.", "No results."),
    (
        "title_catalogue",
        "Catálogo de servicios",
        "Service catalogue",
    ),
    ("eligibility", "Quién lo solicita", "Who may request it"),
    (
        "elig_open",
        "Cualquier persona registrada",
        "Any registered person",
    ),
    (
        "elig_udi",
        "Jefe de UDI o su grupo de trabajo",
        "Head of IT unit or their work group",
    ),
    (
        "elig_udi_or_in_person",
        "Jefe de UDI, o la persona en el CAU",
        "Head of IT unit, or the person at CAU",
    ),
    (
        "sheet_versions",
        "Versiones de la cédula (V7)",
        "Service sheet versions (V7)",
    ),
    ("version", "Versión", "Version"),
    ("change_note", "Cambio", "Change"),
    (
        "response_target",
        "Tiempo de respuesta (min hábiles)",
        "Response target (business min)",
    ),
    (
        "resolution_target",
        "Tiempo de solución (min hábiles)",
        "Resolution target (business min)",
    ),
    ("title_requester", "Solicitante", "Requester"),
    (
        "requester_changes",
        "Historial de cambios (A7)",
        "History of changes (A7)",
    ),
    ("field", "Campo", "Field"),
    ("before", "Antes", "Before"),
    ("after", "Después", "After"),
    ("when", "Cuándo", "When"),
    ("requests_of_person", "Solicitudes", "Requests"),
    (
        "view_logged",
        "Esta consulta queda registrada.",
        "This view is logged.",
    ),
    (
        "error_heading",
        "No se pudo completar",
        "Could not complete",
    ),
    ("back_home", "Volver al inicio", "Back to home"),
    // --- mail ---
    (
        "nav_mail_templates",
        "Plantillas de correo",
        "Mail templates",
    ),
    (
        "mail_templates_title",
        "Plantillas de correo",
        "Mail templates",
    ),
    (
        "mail_templates_intro",
        "Textos de los correos que envía la mesa de servicios, en texto plano y HTML. Sin cambios se usa el texto predeterminado.",
        "Texts of the mails the service desk sends, in plain text and HTML. Unchanged ones use the default text.",
    ),
    ("mail_templates_kind", "Tipo de correo", "Kind of mail"),
    ("mail_templates_state", "Estado", "State"),
    ("mail_templates_changed", "Último cambio", "Last change"),
    ("mail_templates_customized", "Modificada", "Customised"),
    ("mail_templates_default", "Predeterminada", "Default"),
    (
        "mail_templates_back",
        "Volver a las plantillas",
        "Back to the templates",
    ),
    (
        "mail_templates_variables",
        "Variables disponibles",
        "Available variables",
    ),
    (
        "mail_templates_variables_hint",
        "Escriba una variable entre llaves dobles; en el HTML su valor se escapa.",
        "Write a variable between double braces; in the HTML its value is escaped.",
    ),
    ("mail_templates_subject", "Asunto", "Subject"),
    (
        "mail_templates_subject_hint",
        "El número de la solicitud se agrega entre corchetes al inicio del asunto.",
        "The request number is added in brackets at the start of the subject.",
    ),
    ("mail_templates_text", "Texto plano", "Plain text"),
    ("mail_templates_html", "HTML", "HTML"),
    ("mail_templates_save", "Guardar", "Save"),
    ("mail_templates_preview", "Vista previa", "Preview"),
    (
        "mail_templates_reset",
        "Restablecer predeterminada",
        "Reset to default",
    ),
    (
        "mail_templates_preview_heading",
        "Vista previa con datos de ejemplo",
        "Preview with sample data",
    ),
    (
        "mail_templates_versions",
        "Versiones anteriores",
        "Earlier versions",
    ),
    ("mail_templates_action", "Acción", "Action"),
    (
        "mail_templates_no_versions",
        "Sin cambios todavía.",
        "No changes yet.",
    ),
    (
        "mail_templates_saved",
        "Plantilla guardada.",
        "Template saved.",
    ),
    (
        "mail_templates_was_reset",
        "Se restableció la plantilla predeterminada.",
        "The default template was restored.",
    ),
];

static ES: LazyLock<BTreeMap<&'static str, &'static str>> =
    LazyLock::new(|| MESSAGES.iter().map(|(k, es, _)| (*k, *es)).collect());
static EN: LazyLock<BTreeMap<&'static str, &'static str>> =
    LazyLock::new(|| MESSAGES.iter().map(|(k, _, en)| (*k, *en)).collect());

pub fn messages(lang: Lang) -> &'static BTreeMap<&'static str, &'static str> {
    match lang {
        Lang::Es => &ES,
        Lang::En => &EN,
    }
}

pub fn text(lang: Lang, key: &str) -> &'static str {
    messages(lang).get(key).copied().unwrap_or("")
}

pub fn status_label(lang: Lang, status: Status) -> &'static str {
    match lang {
        Lang::Es => status.label_es(),
        Lang::En => match status {
            Status::Received => "Received",
            Status::ToConfirm => "Requirements to confirm",
            Status::Registered => "Registered",
            Status::Assigned => "Assigned",
            Status::InProgress => "In progress",
            Status::Waiting => "Waiting",
            Status::Solved => "Solved",
            Status::Validating => "Validating",
            Status::Closed => "Closed",
            Status::Reopened => "Reopened",
            Status::Cancelled => "Cancelled",
        },
    }
}

/// The label of a step's button.
pub fn step_button(lang: Lang, step: Step) -> &'static str {
    match (lang, step) {
        (Lang::Es, Step::Register) => "Registrar",
        (Lang::Es, Step::ConfirmRequirements) => "Confirmar requisitos",
        (Lang::Es, Step::Assign) => "Asignar",
        (Lang::Es, Step::Start) => "Iniciar atención",
        (Lang::Es, Step::Wait) => "Poner en espera",
        (Lang::Es, Step::Resume) => "Reanudar",
        (Lang::Es, Step::Solve) => "Solucionar",
        (Lang::Es, Step::Verify) => "Verificar solución",
        (Lang::Es, Step::SendBack) => "Devolver al área",
        (Lang::Es, Step::Close) => "Cerrar",
        (Lang::Es, Step::Reopen) => "Reabrir",
        (Lang::Es, Step::Cancel) => "Cancelar solicitud",
        (Lang::En, Step::Register) => "Register",
        (Lang::En, Step::ConfirmRequirements) => "Confirm requirements",
        (Lang::En, Step::Assign) => "Assign",
        (Lang::En, Step::Start) => "Start work",
        (Lang::En, Step::Wait) => "Put on hold",
        (Lang::En, Step::Resume) => "Resume",
        (Lang::En, Step::Solve) => "Solve",
        (Lang::En, Step::Verify) => "Verify solution",
        (Lang::En, Step::SendBack) => "Send back to the area",
        (Lang::En, Step::Close) => "Close",
        (Lang::En, Step::Reopen) => "Reopen",
        (Lang::En, Step::Cancel) => "Cancel request",
    }
}

pub fn role_label(lang: Lang, role: Role) -> &'static str {
    match lang {
        Lang::Es => role.label_es(),
        Lang::En => match role {
            Role::Agent => "Support agent",
            Role::Supervisor => "CAU supervisor",
            Role::Coordinator => "CAU coordinator",
            Role::Engineer => "Area engineer",
            Role::Administrator => "Administrator",
        },
    }
}

/// What a timeline event is called.
pub fn event_label(lang: Lang, kind: &str) -> String {
    let es = match kind {
        "received" => "Recibida en la bandeja",
        "registered" => "Registrada",
        "comment" => "Comentario",
        "conditions_changed" => "Cambio de condiciones",
        "attachment_added" => "Adjunto",
        other => {
            return Step::from_code(other)
                .map(|s| step_button(lang, s).to_string())
                .unwrap_or_else(|| other.to_string());
        }
    };
    match lang {
        Lang::Es => es.to_string(),
        Lang::En => match kind {
            "received" => "Received in the intake queue",
            "registered" => "Registered",
            "comment" => "Comment",
            "conditions_changed" => "Change of conditions",
            _ => "Attachment",
        }
        .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_has_both_languages_and_keys_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for (key, es, en) in MESSAGES {
            assert!(seen.insert(*key), "duplicate key {key}");
            assert!(!es.is_empty() && !en.is_empty(), "{key}");
        }
    }

    #[test]
    fn every_key_a_template_uses_is_in_the_catalogue() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http/pages/templates");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, _) in text.match_indices("tr.") {
                let key: String = text[i + 3..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                assert!(
                    ES.contains_key(key.as_str()),
                    "{} uses tr.{key}, missing from the catalogue",
                    path.display()
                );
            }
        }
    }
}
