//! The administrator's pages in a real browser (issue 4): an administrator creates a service
//! with its sheet, revises the sheet (V7: the old version stays in the history), adds a law
//! day to the calendar (L3, L4) and creates a staff account; axe-core on every admin page.

use fantoccini::Locator;
use ventanilla_domain::permissions::Role;

use crate::browser::{
    accessible, click, css, screenshot, sign_in, start, text_contains, type_into,
};
use crate::helpers::TestApp;
use crate::pages::account;

#[tokio::test]
async fn browser_v7_l4_an_administrator_edits_catalogue_calendar_and_accounts() {
    let Some(driver) = start().await else { return };
    let c = &driver.client;
    let app = TestApp::spawn().await;
    account(&app, "admin.web", Role::Administrator, None).await;
    let base = app.base.as_str();
    sign_in(c, base, "admin.web").await;
    click(c, "nav a[href='/admin']").await;
    css(c, "#admin-services").await;
    accessible(c, "admin index").await;

    // A new service with the first version of its sheet.
    click(c, "#admin-services").await;
    css(c, "#new-service").await;
    accessible(c, "admin services").await;
    click(c, "#new-service").await;
    type_into(c, "#f-name", "Préstamo de proyectores").await;
    let areas = ventanilla::db::catalogue::list_areas(&app.db)
        .await
        .expect("areas");
    let area_id = areas
        .iter()
        .find(|a| a.name == "Monitoreo y Servicios Computacionales")
        .expect("area")
        .id
        .to_string();
    css(c, "#f-area_id")
        .await
        .select_by_value(&area_id)
        .await
        .expect("area");
    css(c, "#f-eligibility")
        .await
        .select_by_value("udi")
        .await
        .expect("eligibility");
    type_into(c, "#f-response_target_minutes", "120").await;
    type_into(c, "#f-resolution_target_minutes", "720").await;
    type_into(c, "#f-requirements", "Oficio del Jefe de UDI").await;
    type_into(c, "#f-attention_policy", "Se entrega en un día hábil.").await;
    accessible(c, "new service form").await;
    click(c, "#save-sheet").await;
    text_contains(c, "#notice", "versión 1").await;
    accessible(c, "admin service").await;

    // V7: the next version needs a note, said beside the field; then version 2.
    type_into(c, "#f-resolution_target_minutes", "1440").await;
    click(c, "#save-sheet").await;
    text_contains(c, "#err-f-change_note", "Describa el cambio").await;
    let kept = css(c, "#f-resolution_target_minutes")
        .await
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default();
    assert_eq!(kept, "1440", "what was typed is kept");
    accessible(c, "sheet form with an error").await;
    type_into(c, "#f-change_note", "Dos días hábiles para entregar").await;
    click(c, "#save-sheet").await;
    text_contains(c, "#notice", "Nueva versión").await;
    text_contains(c, "#current-version", "2").await;
    screenshot(c, "admin-service").await;
    click(c, "#history").await;
    text_contains(c, "main", "Dos días hábiles para entregar").await;
    text_contains(c, "main", "Versión inicial").await;
    accessible(c, "service history").await;

    // L4: a law day added to the calendar.
    c.goto(&format!("{base}/admin/calendar"))
        .await
        .expect("calendar");
    css(c, "#form-add").await;
    accessible(c, "admin calendar").await;
    c.execute(
        "document.getElementById('exc-start').value = '2026-10-12';",
        vec![],
    )
    .await
    .expect("date");
    css(c, "#exc-kind")
        .await
        .select_by_value("law_holiday")
        .await
        .expect("kind");
    type_into(c, "#exc-name", "Día decretado por la institución").await;
    click(c, "#add-exception").await;
    text_contains(c, "#notice", "Calendario guardado").await;
    text_contains(c, "#exceptions", "Día decretado por la institución").await;
    accessible(c, "calendar after a change").await;
    screenshot(c, "admin-calendar").await;

    // A staff account.
    c.goto(&format!("{base}/admin/staff")).await.expect("staff");
    css(c, "#form-new-staff").await;
    accessible(c, "admin staff").await;
    type_into(c, "#st-full_name", "Laura Méndez").await;
    type_into(c, "#st-username", "laura.mendez").await;
    type_into(c, "#st-email", "laura@example.org").await;
    css(c, "#st-role")
        .await
        .select_by_value("agent")
        .await
        .expect("role");
    type_into(c, "#st-password", "una-clave-larga").await;
    click(c, "#create-staff").await;
    text_contains(c, "#notice", "Cuenta creada").await;
    text_contains(c, "#member-username", "laura.mendez").await;
    accessible(c, "staff member").await;

    for path in ["/admin/areas", "/admin/greeting"] {
        c.goto(&format!("{base}{path}")).await.expect("page");
        css(c, "main h1").await;
        accessible(c, path).await;
    }
    // At a phone's width the calendar page still works.
    c.set_window_size(390, 844).await.expect("phone size");
    c.goto(&format!("{base}/admin/calendar"))
        .await
        .expect("calendar");
    assert!(c.find(Locator::Css("#add-exception")).await.is_ok());
    driver.client.clone().close().await.expect("close");
}
