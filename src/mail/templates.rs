//! The Spanish texts of the mails we send, as minijinja templates (subject, plain text, HTML) that
//! an administrator may edit (`db::mail_templates`); the defaults below apply while a kind has no
//! stored template. Every kind declares its variables: a template that names another variable,
//! or does not compile, is refused when saved, so sending never meets an unknown name.
//!
//! Rendering is strict (an undefined variable is an error) and the HTML body is auto-escaped. The
//! request number is not part of the editable subject: `render` puts it in brackets in front of
//! every subject of a request, so a reply threads even without its headers.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;
use serde_json::{Value, json};

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The three editable parts of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Source {
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
}

/// One kind of message we send.
pub struct Kind {
    /// The template key (also the outbox topic).
    pub key: &'static str,
    pub label_es: &'static str,
    /// Whether the message is about one request (its number goes in front of the subject).
    pub numbered: bool,
    /// The variables a template may use, with what they hold (Spanish, for the editor).
    pub variables: &'static [(&'static str, &'static str)],
    pub subject: &'static str,
    pub text: &'static str,
    pub html: &'static str,
    /// Sample values for the preview and for the validation render.
    pub sample: fn() -> Value,
}

impl Kind {
    pub fn default_source(&self) -> Source {
        Source {
            subject: self.subject.into(),
            body_text: self.text.into(),
            body_html: self.html.into(),
        }
    }
}

/// What the attention policy says when the service is not known yet (intake queue).
pub const POLICY_PENDING: &str = "Un agente del CAU revisará su mensaje en horario hábil, \
identificará el servicio que corresponde y le informará el tiempo de atención.";

const ACK_VARIABLES: &[(&str, &str)] = &[
    ("number", "Número de la solicitud"),
    ("request_subject", "Asunto de la solicitud"),
    ("service", "Servicio (vacío si aún no se identifica)"),
    (
        "attention_policy",
        "Política de atención del servicio (L6, A13)",
    ),
    (
        "missing_requirements",
        "Lista de requisitos pendientes (V5)",
    ),
];

const ACK_TEXT: &str = "Estimada persona usuaria:

El Centro de Atención a Usuarios (CAU) recibió su solicitud.

Número de solicitud: {{ number }}
Asunto: {{ request_subject }}
{% if service %}
Servicio: {{ service }}
{% endif %}

Política de atención:
{{ attention_policy }}
{% if missing_requirements %}

Requisitos pendientes (responda a este correo con ellos; sin ellos no podemos registrar el servicio):
{% for item in missing_requirements %}
  - {{ item }}
{% endfor %}
{% endif %}

Para agregar información, responda a este correo conservando el número entre corchetes en el asunto.

Este mensaje fue enviado automáticamente por la mesa de servicios del CAU.
";

const ACK_HTML: &str = "<p>Estimada persona usuaria:</p>
<p>El Centro de Atención a Usuarios (CAU) recibió su solicitud.</p>
<p><strong>Número de solicitud:</strong> {{ number }}<br>
<strong>Asunto:</strong> {{ request_subject }}
{% if service %}<br><strong>Servicio:</strong> {{ service }}{% endif %}</p>
<p><strong>Política de atención:</strong><br>{{ attention_policy }}</p>
{% if missing_requirements %}
<p>Requisitos pendientes (responda a este correo con ellos; sin ellos no podemos registrar el servicio):</p>
<ul>
{% for item in missing_requirements %}
<li>{{ item }}</li>
{% endfor %}
</ul>
{% endif %}
<p>Para agregar información, responda a este correo conservando el número entre corchetes en el asunto.</p>
<p><small>Este mensaje fue enviado automáticamente por la mesa de servicios del CAU.</small></p>
";

fn ack_sample() -> Value {
    json!({
        "number": "SS-2026-000123",
        "request_subject": "No puedo entrar a mi correo institucional",
        "service": "Correo institucional",
        "attention_policy": "Se atiende en 2 días hábiles.",
        "missing_requirements": ["Oficio firmado por la persona titular"],
    })
}

const SLA_VARIABLES: &[(&str, &str)] = &[
    ("number", "Número de la solicitud"),
    ("status", "Estado actual"),
    ("percent", "Porcentaje transcurrido del tiempo objetivo"),
    ("level_percent", "Umbral de aviso alcanzado (%)"),
    ("target", "Tiempo objetivo (respuesta o solución)"),
    ("elapsed", "Tiempo hábil transcurrido"),
    ("target_time", "Tiempo hábil objetivo"),
    ("deadline", "Vencimiento (o «reloj detenido»)"),
];

const SLA_TEXT: &str = "La solicitud {{ number }} ({{ status }}) lleva {{ percent }} % de su {{ target }} ({{ elapsed }} de {{ target_time }} hábiles).
Vence: {{ deadline }}.
";

const SLA_HTML: &str = "<p>La solicitud <strong>{{ number }}</strong> ({{ status }}) lleva {{ percent }} % de su {{ target }} ({{ elapsed }} de {{ target_time }} hábiles).</p>
<p>Vence: {{ deadline }}.</p>
";

fn sla_sample() -> Value {
    json!({
        "number": "SS-2026-000123", "status": "En atención", "percent": 82, "level_percent": 75,
        "target": "tiempo de solución", "elapsed": "1 d 6 h", "target_time": "2 d",
        "deadline": "2026-03-04 13:00",
    })
}

const SURVEY_VARIABLES: &[(&str, &str)] = &[
    ("number", "Número de la solicitud"),
    ("name", "Nombre de la persona solicitante"),
    ("request_subject", "Asunto de la solicitud"),
    ("service", "Servicio"),
    ("link", "Enlace a la encuesta"),
    ("days", "Días hábiles antes del cierre automático"),
];

const SURVEY_TEXT: &str = "Estimado(a) {{ name }}:

El área responsable reportó como solucionada su solicitud {{ number }} («{{ request_subject }}», servicio {{ service }}).
Le pedimos confirmar si quedó resuelta y calificar la atención en esta encuesta breve:

{{ link }}

Si no quedó resuelta, al responder «No» la solicitud se reabre y la atendemos de nuevo.
Si no recibimos respuesta, la solicitud se cerrará después de {{ days }} días hábiles.

Centro de Atención a Usuarios (CAU)
";

const SURVEY_HTML: &str = "<p>Estimado(a) {{ name }}:</p>
<p>El área responsable reportó como solucionada su solicitud <strong>{{ number }}</strong> («{{ request_subject }}», servicio {{ service }}).
Le pedimos confirmar si quedó resuelta y calificar la atención en esta encuesta breve:</p>
<p><a href=\"{{ link }}\">{{ link }}</a></p>
<p>Si no quedó resuelta, al responder «No» la solicitud se reabre y la atendemos de nuevo.
Si no recibimos respuesta, la solicitud se cerrará después de {{ days }} días hábiles.</p>
<p>Centro de Atención a Usuarios (CAU)</p>
";

fn survey_sample() -> Value {
    json!({
        "number": "SS-2026-000123", "name": "Ana Pérez", "request_subject": "Sin correo",
        "service": "Correo institucional", "link": "https://cau.example.mx/encuesta/abc", "days": 5,
    })
}

/// Every kind of mail the application sends.
pub const KINDS: &[Kind] = &[
    Kind {
        key: "acknowledgement",
        label_es: "Acuse de recibo con número y política de atención (L6, A13)",
        numbered: true,
        variables: ACK_VARIABLES,
        subject: "Recibimos su solicitud",
        text: ACK_TEXT,
        html: ACK_HTML,
        sample: ack_sample,
    },
    Kind {
        key: "missing_requirements",
        label_es: "Acuse con requisitos pendientes (V5)",
        numbered: true,
        variables: ACK_VARIABLES,
        subject: "Recibimos su solicitud; faltan requisitos",
        text: ACK_TEXT,
        html: ACK_HTML,
        sample: ack_sample,
    },
    Kind {
        key: "status_changed",
        label_es: "Cambio de estado de la solicitud",
        numbered: true,
        variables: &[
            ("number", "Número de la solicitud"),
            ("from_status", "Estado anterior"),
            ("to_status", "Estado nuevo"),
            ("note", "Nota del CAU (puede estar vacía)"),
        ],
        subject: "Su solicitud está «{{ to_status }}»",
        text: "Estimada persona usuaria:

Su solicitud {{ number }} cambió de estado: {{ from_status }} → {{ to_status }}.
{% if note %}

Nota del CAU: {{ note }}
{% endif %}

Para agregar información, responda a este correo conservando el número entre corchetes en el asunto.

Este mensaje fue enviado automáticamente por la mesa de servicios del CAU.
",
        html: "<p>Estimada persona usuaria:</p>
<p>Su solicitud <strong>{{ number }}</strong> cambió de estado: {{ from_status }} → <strong>{{ to_status }}</strong>.</p>
{% if note %}<p>Nota del CAU: {{ note }}</p>{% endif %}
<p>Para agregar información, responda a este correo conservando el número entre corchetes en el asunto.</p>
<p><small>Este mensaje fue enviado automáticamente por la mesa de servicios del CAU.</small></p>
",
        sample: || {
            json!({"number": "SS-2026-000123", "from_status": "Registrada",
                   "to_status": "En atención", "note": "Vamos en camino."})
        },
    },
    Kind {
        key: "sla_warning",
        label_es: "Aviso de nivel de servicio al área o a la persona asignada",
        numbered: true,
        variables: SLA_VARIABLES,
        subject: "Aviso: {{ level_percent }} % del {{ target }}",
        text: SLA_TEXT,
        html: SLA_HTML,
        sample: sla_sample,
    },
    Kind {
        key: "sla_breached",
        label_es: "Vencimiento del nivel de servicio al área o a la persona asignada",
        numbered: true,
        variables: SLA_VARIABLES,
        subject: "Venció el {{ target }}",
        text: SLA_TEXT,
        html: SLA_HTML,
        sample: sla_sample,
    },
    Kind {
        key: "digest",
        label_es: "Resumen de pendientes de un área",
        numbered: false,
        variables: &[
            ("area", "Nombre del área"),
            ("at", "Fecha y hora del resumen"),
            (
                "requests",
                "Lista de solicitudes: number, status, when (vencimiento)",
            ),
            ("more", "Verdadero si hay más solicitudes que las listadas"),
        ],
        subject: "Solicitudes pendientes de {{ area }}",
        text: "Solicitudes pendientes del área {{ area }} al {{ at }}:

{% for r in requests %}
- {{ r.number }} · {{ r.status }} · {{ r.when }}
{% endfor %}
{% if more %}
- … y más; vea GET /api/v1/queue?area_id=…
{% endif %}
",
        html: "<p>Solicitudes pendientes del área <strong>{{ area }}</strong> al {{ at }}:</p>
<ul>
{% for r in requests %}
<li>{{ r.number }} · {{ r.status }} · {{ r.when }}</li>
{% endfor %}
{% if more %}<li>… y más</li>{% endif %}
</ul>
",
        sample: || {
            json!({"area": "Redes", "at": "2026-03-02 09:00", "more": false, "requests": [
                {"number": "SS-2026-000123", "status": "En atención", "when": "quedan 4 h hábiles (vence 2026-03-02 13:00)"}
            ]})
        },
    },
    Kind {
        key: "survey_invitation",
        label_es: "Invitación a la encuesta de validación",
        numbered: true,
        variables: SURVEY_VARIABLES,
        subject: "¿Se resolvió su solicitud?",
        text: SURVEY_TEXT,
        html: SURVEY_HTML,
        sample: survey_sample,
    },
    Kind {
        key: "survey_reminder",
        label_es: "Recordatorio de la encuesta de validación",
        numbered: true,
        variables: SURVEY_VARIABLES,
        subject: "Recordatorio: ¿se resolvió su solicitud?",
        text: SURVEY_TEXT,
        html: SURVEY_HTML,
        sample: survey_sample,
    },
    Kind {
        key: "escalation",
        label_es: "Escalamiento a los responsables del área",
        numbered: true,
        variables: &[
            ("number", "Número de la solicitud"),
            ("request_subject", "Asunto de la solicitud"),
            ("area", "Área asignada"),
            ("circumstances", "Circunstancias del escalamiento"),
        ],
        subject: "Escalamiento: {{ request_subject }}",
        text: "La solicitud {{ number }} («{{ request_subject }}») requiere la atención de los responsables del área {{ area }}.

Circunstancias:
{{ circumstances }}

Centro de Atención a Usuarios (CAU)
",
        html: "<p>La solicitud <strong>{{ number }}</strong> («{{ request_subject }}») requiere la atención de los responsables del área {{ area }}.</p>
<p>Circunstancias:<br>{{ circumstances }}</p>
<p>Centro de Atención a Usuarios (CAU)</p>
",
        sample: || {
            json!({"number": "SS-2026-000123", "request_subject": "Sin red en el edificio 3",
                   "area": "Redes", "circumstances": "Lleva tres días sin atención."})
        },
    },
    Kind {
        key: "reopened_by_requester",
        label_es: "Aviso al área de una solicitud reabierta (L9)",
        numbered: true,
        variables: &[
            ("number", "Número de la solicitud"),
            ("comment", "Comentario del solicitante"),
        ],
        subject: "Reabierta: el solicitante indica que no se resolvió",
        text: "La solicitud {{ number }} se reabrió porque el solicitante respondió en la encuesta que no se resolvió.

Comentario del solicitante:
{{ comment }}

Por favor retome su atención.

Centro de Atención a Usuarios (CAU)
",
        html: "<p>La solicitud <strong>{{ number }}</strong> se reabrió porque el solicitante respondió en la encuesta que no se resolvió.</p>
<p>Comentario del solicitante:<br>{{ comment }}</p>
<p>Por favor retome su atención.</p>
<p>Centro de Atención a Usuarios (CAU)</p>
",
        sample: || json!({"number": "SS-2026-000123", "comment": "Sigue sin funcionar."}),
    },
    Kind {
        key: "monthly_report",
        label_es: "Informe mensual de satisfacción a la coordinación",
        numbered: false,
        variables: &[
            ("month", "Mes del informe (AAAA-MM)"),
            ("report", "El informe en texto"),
        ],
        subject: "Informe mensual de satisfacción {{ month }}",
        text: "{{ report }}",
        html: "<pre>{{ report }}</pre>\n",
        sample: || json!({"month": "2026-02", "report": "CSAT: 91.0 %\nRespuestas: 120\n"}),
    },
];

pub fn kind(key: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.key == key)
}

/// Functions and tests minijinja provides that a template may name besides its variables.
const GLOBALS: &[&str] = &["range", "dict", "namespace", "debug", "loop"];

/// The parts of a template by field name, as the API and the form call them.
const FIELDS: [&str; 3] = ["subject", "body_text", "body_html"];

fn environment(source: &Source) -> Result<Environment<'_>, TemplateError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env.set_auto_escape_callback(|name| {
        if name == "body_html" {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    for (field, text) in FIELDS.iter().zip([
        source.subject.as_str(),
        source.body_text.as_str(),
        source.body_html.as_str(),
    ]) {
        env.add_template(field, text).map_err(|e| TemplateError {
            field,
            code: "template_syntax",
            detail: format!("La plantilla no es válida: {}.", describe(&e)),
        })?;
    }
    Ok(env)
}

/// A template that cannot be saved: the field at fault and a Spanish reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub field: &'static str,
    pub code: &'static str,
    pub detail: String,
}

fn describe(e: &minijinja::Error) -> String {
    let what = e
        .detail()
        .map(str::to_string)
        .unwrap_or_else(|| match e.kind() {
            minijinja::ErrorKind::SyntaxError => "error de sintaxis".into(),
            minijinja::ErrorKind::UndefinedError => "variable no definida".into(),
            other => other.to_string(),
        });
    match e.line() {
        Some(line) => format!("{what} (línea {line})"),
        None => what,
    }
}

/// Every problem of a template, by field: syntax, unknown variables, a failing render with the
/// kind's sample data, an empty subject. Empty when it may be saved.
pub fn validate(kind: &Kind, source: &Source) -> Vec<TemplateError> {
    let mut errors = Vec::new();
    for (field, text) in FIELDS.iter().zip([
        source.subject.as_str(),
        source.body_text.as_str(),
        source.body_html.as_str(),
    ]) {
        if text.trim().is_empty() {
            errors.push(TemplateError {
                field,
                code: "template_empty",
                detail: "Este campo no puede quedar vacío.".into(),
            });
            continue;
        }
        // Each field alone, so one broken field does not hide the others' errors.
        let single = Source {
            subject: if *field == "subject" { text } else { "x" }.into(),
            body_text: if *field == "body_text" { text } else { "x" }.into(),
            body_html: if *field == "body_html" { text } else { "x" }.into(),
        };
        let env = match environment(&single) {
            Ok(env) => env,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let Ok(template) = env.get_template(field) else {
            continue;
        };
        let mut unknown: Vec<String> = template
            .undeclared_variables(false)
            .into_iter()
            .filter(|v| {
                !GLOBALS.contains(&v.as_str()) && !kind.variables.iter().any(|(n, _)| n == v)
            })
            .collect();
        unknown.sort();
        if let Some(first) = unknown.first() {
            errors.push(TemplateError {
                field,
                code: "template_unknown_variable",
                detail: format!(
                    "La variable «{first}» no existe en esta plantilla. Variables disponibles: {}.",
                    kind.variables
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
            continue;
        }
        if let Err(e) = template.render((kind.sample)()) {
            errors.push(TemplateError {
                field,
                code: "template_render",
                detail: format!(
                    "La plantilla falla con los datos de ejemplo: {}.",
                    describe(&e)
                ),
            });
        }
    }
    errors
}

/// Renders a template with `context`; the number (when the kind has one) goes in brackets in
/// front of the subject, which is kept to one line.
pub fn render(kind: &Kind, source: &Source, context: &Value) -> Result<Rendered, TemplateError> {
    Compiled::new(kind, source)?.render(context)
}

/// A template parsed once, to render many messages (a batch of registrations acknowledges
/// each of its requests with the same template).
pub struct Compiled<'s> {
    kind: &'s Kind,
    env: Environment<'s>,
}

impl<'s> Compiled<'s> {
    pub fn new(kind: &'s Kind, source: &'s Source) -> Result<Compiled<'s>, TemplateError> {
        Ok(Compiled {
            kind,
            env: environment(source)?,
        })
    }

    pub fn render(&self, context: &Value) -> Result<Rendered, TemplateError> {
        let part = |field: &'static str| {
            self.env
                .get_template(field)
                .and_then(|t| t.render(context))
                .map_err(|e| TemplateError {
                    field,
                    code: "template_render",
                    detail: format!("La plantilla no se pudo aplicar: {}.", describe(&e)),
                })
        };
        let subject_text = part("subject")?
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let number = context.get("number").and_then(Value::as_str);
        let subject = match number {
            Some(number) if self.kind.numbered => subject_with_number(number, &subject_text),
            _ => subject_text,
        };
        Ok(Rendered {
            subject,
            text: part("body_text")?,
            html: part("body_html")?,
        })
    }
}

pub fn render_default(kind: &Kind, context: &Value) -> Result<Rendered, TemplateError> {
    render(kind, &kind.default_source(), context)
}

pub fn subject_with_number(number: &str, text: &str) -> String {
    format!("[{number}] {text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(context: Value) -> Rendered {
        render_default(kind("acknowledgement").expect("kind"), &context).expect("renders")
    }

    #[test]
    fn the_acknowledgement_carries_number_and_policy_l6_a13() {
        let r = ack(json!({
            "number": "SS-2026-000123", "request_subject": "Sin correo",
            "service": "Correo institucional", "attention_policy": "Se atiende en 2 días hábiles.",
            "missing_requirements": [],
        }));
        assert_eq!(r.subject, "[SS-2026-000123] Recibimos su solicitud");
        assert!(r.text.contains("Número de solicitud: SS-2026-000123\n"));
        assert!(r.text.contains("Servicio: Correo institucional\n"));
        assert!(r.text.contains("Se atiende en 2 días hábiles."));
        assert!(!r.text.contains("Requisitos pendientes"));
        assert!(
            r.html
                .contains("<strong>Número de solicitud:</strong> SS-2026-000123")
        );
        let pending = ack(json!({
            "number": "SS-2026-000124", "request_subject": "x", "service": null,
            "attention_policy": POLICY_PENDING, "missing_requirements": ["CURP"],
        }));
        assert!(pending.text.contains(POLICY_PENDING));
        assert!(pending.text.contains("\n  - CURP\n"), "{}", pending.text);
        assert!(!pending.text.contains("Servicio:"));
    }

    #[test]
    fn html_variables_are_escaped_and_text_is_not() {
        let r = ack(json!({
            "number": "SS-2026-000125", "request_subject": "<script>alert(1)</script> & más",
            "service": null, "attention_policy": "x", "missing_requirements": [],
        }));
        assert!(
            r.html
                .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; más")
        );
        assert!(r.text.contains("<script>alert(1)</script> & más"));
    }

    #[test]
    fn every_default_template_is_valid_and_renders_its_sample() {
        for kind in KINDS {
            assert_eq!(
                validate(kind, &kind.default_source()),
                vec![],
                "{}",
                kind.key
            );
            let r = render_default(kind, &(kind.sample)()).expect("renders");
            assert!(!r.text.trim().is_empty() && !r.html.trim().is_empty());
            if kind.numbered {
                assert!(r.subject.starts_with("[SS-2026-000123] "), "{}", r.subject);
            }
        }
    }

    #[test]
    fn validation_names_the_field_and_the_unknown_variable() {
        let kind = kind("status_changed").expect("kind");
        let mut source = kind.default_source();
        source.body_text = "Hola {{ nombre }}".into();
        source.body_html = "<p>{% if note %}sin cerrar</p>".into();
        let errors = validate(kind, &source);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(
            (errors[0].field, errors[0].code),
            ("body_text", "template_unknown_variable")
        );
        assert!(errors[0].detail.contains("«nombre»"));
        assert_eq!(
            (errors[1].field, errors[1].code),
            ("body_html", "template_syntax")
        );
        source = kind.default_source();
        source.subject = "  ".into();
        assert_eq!(validate(kind, &source)[0].code, "template_empty");
    }
}
