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
    // --- pages ---
    (
        "queue_at_risk",
        "En riesgo (75 % o más del plazo)",
        "At risk (75 % or more of the time)",
    ),
    ("queue_breached", "Vencidas", "Overdue"),
    ("sla_due_next", "vence {at}", "due {at}"),
    ("sla_due_past", "venció {at}", "was due {at}"),
    ("sla_heading", "Niveles de servicio", "Service levels"),
    (
        "sla_none",
        "Sin plazos: la solicitud aún no tiene servicio registrado.",
        "No deadlines: the request has no registered service yet.",
    ),
    ("sla_target_response", "Respuesta", "Response"),
    ("sla_target_resolution", "Solución", "Resolution"),
    ("sla_state_running", "En curso", "Running"),
    (
        "sla_state_paused",
        "En pausa (en espera)",
        "Paused (on hold)",
    ),
    ("sla_state_met", "Cumplido", "Met"),
    ("sla_state_breached", "Vencido", "Overdue"),
    ("sla_at_risk", "En riesgo", "At risk"),
    ("sla_used", "Tiempo hábil usado", "Business time used"),
    (
        "sla_left",
        "Quedan {time} hábiles",
        "{time} of business time left",
    ),
    (
        "sla_overdue_by",
        "Vencido por {time} hábiles",
        "Overdue by {time} of business time",
    ),
    ("sla_met_in_time", "Atendido a tiempo", "Met in time"),
    ("sla_deadline", "Plazo", "Deadline"),
    ("attachments_heading", "Adjuntos", "Attachments"),
    ("attach_file", "Adjuntar un archivo", "Attach a file"),
    ("attach_file_label", "Archivo", "File"),
    ("attach_limit", "Hasta {mib} MiB.", "Up to {mib} MiB."),
    ("attach_button", "Adjuntar", "Attach"),
    ("escalate_heading", "Escalar (A19)", "Escalate (A19)"),
    ("escalate_circumstances", "Circunstancias", "Circumstances"),
    (
        "escalate_hint",
        "Qué pasó y qué se necesita del área; se avisa a sus responsables y a la supervisión del CAU.",
        "What happened and what is needed from the area; its officials and CAU's supervisors are told.",
    ),
    ("escalate_button", "Escalar", "Escalate"),
    (
        "intake_register",
        "Registrar este mensaje",
        "Register this message",
    ),
    (
        "intake_heading",
        "Registrar el mensaje",
        "Register the message",
    ),
    ("intake_message", "Mensaje recibido", "Message received"),
    ("intake_from", "De", "From"),
    (
        "intake_hint",
        "Identifique o registre a la persona, elija el servicio y registre: la solicitud sale de la bandeja con su número.",
        "Identify or register the person, choose the service and register: the request leaves the intake queue with its number.",
    ),
    (
        "documents_hint",
        "La cédula pide estos documentos (Q3). Si el formulario vuelve con errores, los archivos ya elegidos se conservan.",
        "The sheet asks for these documents (Q3). If the form comes back with errors, the files already chosen are kept.",
    ),
    ("document_chosen", "Ya elegido:", "Already chosen:"),
    (
        "document_replace_hint",
        "Para reemplazarlo, elija otro archivo.",
        "To replace it, choose another file.",
    ),
    ("document_drop", "Quitar este archivo", "Remove this file"),
    (
        "documents_set_aside",
        "Elegidos para otro servicio (se conservan si vuelve a ese servicio):",
        "Chosen for another service (kept if you go back to that service):",
    ),
    (
        "document_in_message",
        "Viene entre los archivos del mensaje",
        "It is among the message's files",
    ),
    (
        "so_legend",
        "Orden de servicio pre-impresa (X2)",
        "Pre-printed service order (X2)",
    ),
    (
        "so_hint",
        "Sólo casos extraordinarios: original, firmado y sellado, entregado en la CGSI o el CAU a más tardar 5 días hábiles después del servicio.",
        "Extraordinary cases only: original, signed and stamped, delivered at CGSI or CAU within 5 business days of the service.",
    ),
    (
        "so_number",
        "Folio impreso en la orden",
        "Number printed on the order",
    ),
    (
        "so_service_date",
        "Fecha del servicio",
        "Date of the service",
    ),
    (
        "so_delivered_at",
        "Dónde se entregó",
        "Where it was delivered",
    ),
    (
        "so_cgsi_reception",
        "Recepción de la CGSI",
        "CGSI reception",
    ),
    ("so_cau", "CAU", "CAU"),
    ("so_elsewhere", "Otro lugar", "Elsewhere"),
    ("so_copy", "Qué se entregó", "What was handed in"),
    ("so_original", "Original", "Original"),
    ("so_photocopy", "Fotocopia", "Photocopy"),
    ("so_yellow_copy", "Copia amarilla", "Yellow copy"),
    ("so_signed", "Firmada por la unidad", "Signed by the unit"),
    ("so_stamped", "Sellada por la unidad", "Stamped by the unit"),
    // --- admin ---
    ("nav_admin", "Administración", "Administration"),
    ("title_admin", "Administración", "Administration"),
    (
        "title_admin_services",
        "Servicios y cédulas",
        "Services and sheets",
    ),
    ("title_admin_new_service", "Nuevo servicio", "New service"),
    ("title_admin_areas", "Áreas y unidades", "Areas and units"),
    (
        "title_admin_calendar",
        "Calendario de atención",
        "Business calendar",
    ),
    (
        "title_admin_staff",
        "Cuentas del personal",
        "Staff accounts",
    ),
    (
        "title_admin_greeting",
        "Saludo del guion de atención",
        "Attention script greeting",
    ),
    (
        "admin_services_hint",
        "Crear servicios, editar nombre y estado, nuevas versiones de cédula (V7) y niveles de escalamiento.",
        "Create services, edit name and state, new sheet versions (V7) and escalation levels.",
    ),
    (
        "admin_areas_hint",
        "Áreas de atención y unidades académicas o administrativas.",
        "Resolver areas and academic or administrative units.",
    ),
    (
        "admin_calendar_hint",
        "Horario semanal, días inhábiles, vacaciones y horarios especiales (L3, L4); iCalendar.",
        "Weekly hours, rest days, vacations and special hours (L3, L4); iCalendar.",
    ),
    (
        "admin_staff_hint",
        "Altas, perfil y área, desactivar o reactivar, nueva contraseña.",
        "New accounts, role and area, deactivate or reactivate, new password.",
    ),
    (
        "admin_greeting_hint",
        "El texto con que el agente saluda (CGSI-PO-01/01).",
        "The text the agent greets with (CGSI-PO-01/01).",
    ),
    ("save", "Guardar", "Save"),
    ("admin_add", "Agregar", "Add"),
    ("admin_remove", "Quitar", "Remove"),
    ("admin_import", "Importar", "Import"),
    ("admin_choose", "Elija…", "Choose…"),
    ("admin_state", "Estado", "State"),
    ("admin_active", "Activo", "Active"),
    ("admin_inactive", "Inactivo", "Inactive"),
    (
        "admin_history",
        "Ver el historial de versiones",
        "See the version history",
    ),
    (
        "admin_service_settings",
        "Nombre y estado",
        "Name and state",
    ),
    ("admin_service_name", "Nombre del servicio", "Service name"),
    (
        "admin_service_active",
        "Activo: se ofrece al registrar solicitudes",
        "Active: offered when registering requests",
    ),
    (
        "admin_reason",
        "Motivo del cambio (opcional)",
        "Reason for the change (optional)",
    ),
    (
        "admin_settings_hint",
        "El cambio queda como una nueva versión de la cédula, con su nota (V7).",
        "The change is kept as a new sheet version, with its note (V7).",
    ),
    (
        "admin_first_sheet",
        "Cédula del servicio (versión 1)",
        "Service sheet (version 1)",
    ),
    (
        "admin_revise_sheet",
        "Nueva versión de la cédula",
        "New sheet version",
    ),
    (
        "admin_revise_hint",
        "Guardar crea la siguiente versión; las anteriores se conservan y las solicitudes registradas conservan la suya (V7).",
        "Saving creates the next version; earlier ones are kept and registered requests keep theirs (V7).",
    ),
    (
        "admin_response_minutes",
        "Tiempo de respuesta (minutos hábiles)",
        "Response time (business minutes)",
    ),
    (
        "admin_resolution_minutes",
        "Tiempo de solución (minutos hábiles)",
        "Resolution time (business minutes)",
    ),
    (
        "admin_minutes_hint",
        "Un día hábil de 08:00 a 20:00 son 720 minutos.",
        "A business day from 08:00 to 20:00 is 720 minutes.",
    ),
    ("admin_one_per_line", "Uno por renglón.", "One per line."),
    ("admin_capacity", "Capacidad del área", "Area capacity"),
    (
        "admin_procedure_refs",
        "Referencias a procedimientos (una por renglón)",
        "Procedure references (one per line)",
    ),
    (
        "admin_change_note_hint",
        "Qué cambió y por qué; se muestra en el historial.",
        "What changed and why; shown in the history.",
    ),
    ("admin_create_service", "Crear servicio", "Create service"),
    (
        "admin_save_version",
        "Guardar nueva versión",
        "Save new version",
    ),
    (
        "admin_escalation",
        "Niveles de escalamiento (A19)",
        "Escalation levels (A19)",
    ),
    (
        "admin_escalation_hint",
        "A qué porcentaje del tiempo comprometido se avisa y a quién. Sin niveles se usan los de omisión (75 %: responsable y área; 100 %: supervisor). Deje un nivel vacío para quitarlo.",
        "At which share of the committed time, and whom to tell. Without levels the defaults apply (75 %: assignee and area; 100 %: supervisor). Leave a level empty to remove it.",
    ),
    ("admin_level", "Nivel", "Level"),
    (
        "admin_level_percent",
        "Porcentaje del tiempo",
        "Share of the time (%)",
    ),
    (
        "recipient_assignee",
        "Ingeniero responsable",
        "Assigned engineer",
    ),
    ("recipient_area", "Buzón del área", "Area mailbox"),
    (
        "recipient_supervisor",
        "Supervisores del CAU",
        "CAU supervisors",
    ),
    (
        "recipient_coordinator",
        "Coordinadores del CAU",
        "CAU coordinators",
    ),
    (
        "admin_deactivate_hint",
        "Un área inactiva ya no se ofrece al asignar solicitudes ni para los servicios; una unidad inactiva ya no se ofrece al registrar o cambiar los datos de una persona. Las solicitudes y las personas que ya la tienen la conservan. Un área que todavía atiende servicios activos no se desactiva.",
        "An inactive area is no longer offered when assigning requests or for services; an inactive unit is no longer offered when registering or changing a person's data. Requests and people that already have it keep it. An area that still handles active services is not deactivated.",
    ),
    ("admin_active_f", "Activa", "Active"),
    ("admin_inactive_f", "Inactiva", "Inactive"),
    (
        "admin_area_deactivate",
        "Desactivar área",
        "Deactivate area",
    ),
    ("admin_area_reactivate", "Reactivar área", "Reactivate area"),
    (
        "admin_unit_deactivate",
        "Desactivar unidad",
        "Deactivate unit",
    ),
    (
        "admin_unit_reactivate",
        "Reactivar unidad",
        "Reactivate unit",
    ),
    ("inactive_suffix", "(inactiva)", "(inactive)"),
    ("admin_areas", "Áreas de atención", "Resolver areas"),
    ("admin_units", "Unidades", "Units"),
    ("admin_new_area", "Nueva área", "New area"),
    ("admin_new_unit", "Nueva unidad", "New unit"),
    ("admin_area_name", "Nombre del área", "Area name"),
    ("admin_area_email", "Correo del área", "Area e-mail"),
    ("admin_acronym", "Siglas", "Acronym"),
    ("admin_unit_name", "Nombre de la unidad", "Unit name"),
    ("admin_level_name", "Nivel", "Level"),
    (
        "admin_level_hint",
        "Por ejemplo medio_superior, superior, posgrado, investigacion o administrativa.",
        "For example medio_superior, superior, posgrado, investigacion or administrativa.",
    ),
    ("admin_weekly_hours", "Horario semanal", "Weekly hours"),
    (
        "admin_weekly_hint",
        "Intervalos como 08:00-20:00, separados por comas; vacío = cerrado. Al guardar se recalculan los plazos de las solicitudes abiertas.",
        "Intervals such as 08:00-20:00, separated by commas; empty = closed. Saving recomputes the open requests' deadlines.",
    ),
    ("admin_zone", "Zona horaria", "Time zone"),
    ("day_monday", "lunes", "Monday"),
    ("day_tuesday", "martes", "Tuesday"),
    ("day_wednesday", "miércoles", "Wednesday"),
    ("day_thursday", "jueves", "Thursday"),
    ("day_friday", "viernes", "Friday"),
    ("day_saturday", "sábado", "Saturday"),
    ("day_sunday", "domingo", "Sunday"),
    (
        "admin_add_exception",
        "Agregar día inhábil, periodo u horario especial",
        "Add a rest day, period or special hours",
    ),
    ("admin_start_date", "Desde", "From"),
    ("admin_end_date", "Hasta", "Until"),
    ("admin_end_hint", "Vacío = un solo día.", "Empty = one day."),
    ("admin_exception_kind", "Tipo", "Kind"),
    ("admin_exception_name", "Nombre", "Name"),
    ("exc_hours", "Horario especial", "Special hours"),
    (
        "admin_hours_hint",
        "Solo para horario especial, p. ej. 08:00-14:00.",
        "Only for special hours, e.g. 08:00-14:00.",
    ),
    (
        "exc_law_holiday",
        "Descanso obligatorio (ley)",
        "Law rest day",
    ),
    (
        "exc_institutional",
        "Día inhábil institucional",
        "Institutional day off",
    ),
    ("exc_vacation", "Periodo vacacional", "Vacation period"),
    (
        "exc_optional",
        "Fecha informativa (no cierra)",
        "Informative date (does not close)",
    ),
    ("exc_special_hours", "Horario especial", "Special hours"),
    (
        "admin_exceptions",
        "Días inhábiles y horarios especiales",
        "Rest days and special hours",
    ),
    ("admin_dates", "Fechas", "Dates"),
    ("admin_ics", "iCalendar", "iCalendar"),
    (
        "admin_ics_export",
        "Descargar las excepciones (.ics)",
        "Download the exceptions (.ics)",
    ),
    (
        "admin_ics_import",
        "Importar excepciones de iCalendar",
        "Import exceptions from iCalendar",
    ),
    (
        "admin_ics_hint",
        "O pegue el contenido de un archivo .ics; cada evento se agrega como excepción.",
        "Or paste the content of an .ics file; each event is added as an exception.",
    ),
    (
        "admin_ics_file",
        "Archivo iCalendar (.ics)",
        "iCalendar file (.ics)",
    ),
    (
        "admin_ics_file_hint",
        "Elija el archivo; cada evento de día completo se agrega como excepción.",
        "Choose the file; each all-day event is added as an exception.",
    ),
    ("admin_new_staff", "Nueva cuenta", "New account"),
    ("admin_full_name", "Nombre completo", "Full name"),
    ("admin_email", "Correo electrónico", "E-mail"),
    ("admin_role", "Perfil", "Role"),
    ("admin_no_area", "Sin área", "No area"),
    (
        "admin_area_hint",
        "Obligatoria para ingenieros.",
        "Required for engineers.",
    ),
    (
        "admin_password_hint",
        "Al menos 10 caracteres.",
        "At least 10 characters.",
    ),
    ("admin_create_staff", "Crear cuenta", "Create account"),
    ("admin_change_role", "Perfil y área", "Role and area"),
    (
        "admin_reset_password",
        "Asignar nueva contraseña",
        "Set a new password",
    ),
    ("admin_new_password", "Nueva contraseña", "New password"),
    (
        "admin_deactivate",
        "Desactivar cuenta",
        "Deactivate account",
    ),
    ("admin_reactivate", "Reactivar cuenta", "Reactivate account"),
    (
        "admin_self_hint",
        "Es su propia cuenta: no puede desactivarla.",
        "This is your own account: you cannot deactivate it.",
    ),
    (
        "admin_greeting_explain",
        "El agente lee este saludo al iniciar la atención. {name} se sustituye por el nombre del agente. Vacío = texto original.",
        "The agent reads this greeting when starting. {name} is replaced by the agent's name. Empty = original text.",
    ),
    (
        "admin_greeting_es",
        "Saludo en español",
        "Greeting in Spanish",
    ),
    (
        "admin_greeting_en",
        "Saludo en inglés",
        "Greeting in English",
    ),
    (
        "admin_greeting_reset",
        "Restablecer el texto original",
        "Restore the original text",
    ),
    ("admin_done_area_created", "Área creada.", "Area created."),
    ("admin_done_area_saved", "Área guardada.", "Area saved."),
    ("admin_done_unit_created", "Unidad creada.", "Unit created."),
    ("admin_done_unit_saved", "Unidad guardada.", "Unit saved."),
    (
        "admin_done_area_deactivated",
        "Área desactivada: ya no se ofrece al asignar.",
        "Area deactivated: it is no longer offered when assigning.",
    ),
    (
        "admin_done_area_reactivated",
        "Área reactivada.",
        "Area reactivated.",
    ),
    (
        "admin_done_unit_deactivated",
        "Unidad desactivada: ya no se ofrece al registrar personas.",
        "Unit deactivated: it is no longer offered when registering people.",
    ),
    (
        "admin_done_unit_reactivated",
        "Unidad reactivada.",
        "Unit reactivated.",
    ),
    (
        "admin_done_greeting_saved",
        "Saludo guardado.",
        "Greeting saved.",
    ),
    (
        "admin_done_service_created",
        "Servicio creado con la versión 1 de su cédula.",
        "Service created with version 1 of its sheet.",
    ),
    (
        "admin_done_service_saved",
        "Servicio guardado.",
        "Service saved.",
    ),
    (
        "admin_done_sheet_revised",
        "Nueva versión de la cédula guardada.",
        "New sheet version saved.",
    ),
    (
        "admin_done_escalation_saved",
        "Niveles de escalamiento guardados.",
        "Escalation levels saved.",
    ),
    (
        "admin_done_calendar_saved",
        "Calendario guardado; se recalcularon los plazos de {n} solicitudes abiertas.",
        "Calendar saved; the deadlines of {n} open requests were recomputed.",
    ),
    (
        "admin_done_staff_created",
        "Cuenta creada.",
        "Account created.",
    ),
    (
        "admin_done_staff_saved",
        "Cuenta guardada.",
        "Account saved.",
    ),
    (
        "admin_done_staff_deactivated",
        "Cuenta desactivada: ya no puede iniciar sesión.",
        "Account deactivated: it can no longer sign in.",
    ),
    (
        "admin_done_staff_reactivated",
        "Cuenta reactivada.",
        "Account reactivated.",
    ),
    (
        "admin_done_password_reset",
        "Contraseña asignada; las sesiones abiertas de la cuenta se cerraron.",
        "Password set; the account's open sessions were closed.",
    ),
    ("nav_complaints", "Quejas", "Complaints"),
    (
        "title_complaints",
        "Bitácora de quejas y sugerencias",
        "Complaints and suggestions log",
    ),
    ("complaint_entry", "Entrada", "Entry"),
    ("complaint_all", "Todas", "All"),
    ("complaint_status_label", "Estado", "Status"),
    ("complaint_kind_label", "Tipo", "Kind"),
    ("complaint_source", "Origen", "Source"),
    ("complaint_description", "Descripción", "Description"),
    ("complaint_requests", "Solicitudes", "Requests"),
    ("complaint_created", "Recibida", "Received"),
    ("complaint_responsible", "Responsable", "Responsible"),
    ("complaint_due", "Fecha compromiso", "Due date"),
    ("complaint_next_step", "Siguiente paso", "Next step"),
    (
        "complaint_note",
        "Evaluación o acción tomada",
        "Evaluation or action taken",
    ),
    ("complaint_back", "Volver a la bitácora", "Back to the log"),
    ("complaint_kind_complaint", "Queja", "Complaint"),
    ("complaint_kind_suggestion", "Sugerencia", "Suggestion"),
    ("complaint_kind_praise", "Felicitación", "Praise"),
    ("complaint_status_received", "Recibida", "Received"),
    ("complaint_status_analysed", "Analizada", "Analysed"),
    (
        "complaint_status_action_taken",
        "Acción tomada",
        "Action taken",
    ),
    ("complaint_status_closed", "Cerrada", "Closed"),
    ("complaint_source_survey", "Encuesta", "Survey"),
    ("complaint_source_email", "Correo electrónico", "E-mail"),
    ("complaint_source_phone", "Teléfono", "Phone"),
    ("complaint_source_in_person", "En persona", "In person"),
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
        "escalated" => "Escalada",
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
            "escalated" => "Escalated",
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
