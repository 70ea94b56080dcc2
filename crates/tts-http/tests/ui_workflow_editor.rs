//! The workflow editor (screen 8) over HTTP without JavaScript: create a draft, fill it row by row
//! (post, 303, get), see validation and the diagram follow, publish, and the refusals: a bad field
//! (422 naming it, the typed row kept), a stale page (409), an active workflow (frozen), non-admins
//! (403 for every editor action), and a forged form (CSRF).

#![cfg(feature = "ui")]

mod common;

use axum::http::StatusCode;
use common::browser::{Browser, Page};
use common::{ADMIN, Api, EMPLOYEE, IT1};

/// The value of the hidden `stamp` field.
fn stamp(page: &Page) -> String {
    let at = page.body.find("name=\"stamp\" value=\"").expect("a stamp field") + 20;
    let end = page.body[at..].find('"').expect("end of the stamp");
    page.body[at..at + end].to_string()
}

/// The `value` of the first `<option>` whose text is `label`.
fn option(page: &Page, label: &str) -> String {
    let end = page
        .body
        .find(&format!(">{label}</option>"))
        .unwrap_or_else(|| panic!("no option {label}"));
    let start = page.body[..end].rfind("value=\"").expect("an option value") + 7;
    let stop = page.body[start..].find('"').expect("end of the value");
    page.body[start..start + stop].to_string()
}

/// A new draft's editor: its path and the page.
async fn draft(b: &mut Browser<'_>, name: &str) -> (String, Page) {
    let csrf = b.get("/ui/workflows/").await.csrf();
    let p = b
        .post(
            "/ui/workflows/",
            &[("csrf", &csrf), ("name", name), ("category", "Laptop")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let path = p.location().to_string();
    assert!(path.starts_with("/ui/workflows/") && path.ends_with('/'), "{path}");
    let page = b.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    (path, page)
}

/// Posts one editor form of the page `path` (with its CSRF token and stamp); follows a 303.
async fn edit(b: &mut Browser<'_>, path: &str, action: &str, fields: &[(&str, &str)]) -> Page {
    let page = b.get(path).await;
    let (csrf, stamp) = (page.csrf(), stamp(&page));
    let mut all = vec![("csrf", csrf.as_str()), ("stamp", stamp.as_str())];
    all.extend_from_slice(fields);
    let p = b.post(&format!("{path}{action}"), &all).await;
    if p.status == StatusCode::SEE_OTHER {
        assert!(p.location().starts_with(path), "{}", p.location());
        return b.get(p.location()).await;
    }
    p
}

#[tokio::test]
async fn an_admin_builds_validates_and_publishes_a_workflow_without_javascript() {
    let api = Api::new().await;
    let mut admin = Browser::sign_in(&api, ADMIN).await;
    let (path, page) = draft(&mut admin, "Laptop Requests").await;
    assert!(page.body.contains("id=\"validation\""), "validation beside the forms");
    assert!(
        !page.body.contains("No problems"),
        "an empty workflow cannot be published"
    );
    let admin_role = option(&page, "tts:Admin");
    let asset_role = option(&page, "tts:Asset Manager");

    let p = edit(
        &mut admin,
        &path,
        "steps",
        &[
            ("op", "add"),
            ("name", "Check request"),
            ("role", &admin_role),
            ("weight", "1"),
            ("is_start", "on"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("Saved."), "{}", p.body);
    assert_eq!(p.body.matches("class=\"node ").count(), 1, "the preview draws the step");
    let p = edit(
        &mut admin,
        &path,
        "steps",
        &[
            ("op", "add"),
            ("name", "Hand over"),
            ("role", &asset_role),
            ("weight", "2"),
            ("is_end", "on"),
        ],
    )
    .await;
    assert_eq!(p.body.matches("class=\"node ").count(), 2);
    let (check, hand) = (option(&p, "Check request"), option(&p, "Hand over"));
    let p = edit(
        &mut admin,
        &path,
        "transitions",
        &[("op", "add"), ("from", &check), ("name", "Approve"), ("to", &hand)],
    )
    .await;
    assert!(
        !p.body.contains("No problems"),
        "the end step cannot complete the task yet"
    );
    let p = edit(
        &mut admin,
        &path,
        "transitions",
        &[("op", "add"), ("from", &hand), ("name", "Done"), ("to", "")],
    )
    .await;
    assert!(p.body.contains("No problems"), "{}", p.body);
    let p = edit(
        &mut admin,
        &path,
        "details",
        &[
            ("name", "Laptop Requests"),
            ("category", "Laptop"),
            ("sla_high", "8"),
            ("sla_critical", "1.5"),
        ],
    )
    .await;
    assert!(p.body.contains("name=\"sla_high\" value=\"8\""), "{}", p.body);
    assert!(p.body.contains("name=\"sla_critical\" value=\"1.5\""));

    // The REST API sees the same definition.
    let token = api.login(ADMIN).await;
    let id = path.trim_start_matches("/ui/workflows/").trim_end_matches('/');
    let w = api.get(&format!("/workflows/{id}/"), &token).await.expect(200).body;
    assert_eq!(w["steps"].as_array().map(Vec::len), Some(2));
    assert_eq!(w["transitions"].as_array().map(Vec::len), Some(2));
    assert_eq!(w["sla"]["high"], 8 * 3600);
    assert_eq!(w["sla"]["critical"], 5400);

    let before = admin.get(&path).await;
    let (csrf, last_stamp) = (before.csrf(), stamp(&before));
    let p = admin
        .post(&format!("{path}status"), &[("csrf", &csrf), ("to", "publish")])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let p = admin.get(p.location()).await;
    assert!(p.body.contains("Published"), "{}", p.body);
    assert!(!p.body.contains("id=\"details\""), "an active workflow is frozen");
    assert!(
        !p.body.contains("name=\"stamp\""),
        "no editor form on a frozen workflow"
    );
    let w = api.get(&format!("/workflows/{id}/"), &token).await.expect(200).body;
    assert_eq!((w["status"].as_str(), w["version"].as_u64()), (Some("active"), Some(1)));

    // An edit posted anyway (from the page as it was before publishing) is refused; nothing changes.
    let p = admin
        .post(
            &format!("{path}steps"),
            &[
                ("csrf", &csrf),
                ("stamp", &last_stamp),
                ("op", "delete"),
                ("step", &check),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.body);
    let after = api.get(&format!("/workflows/{id}/"), &token).await.expect(200).body;
    assert_eq!(after["steps"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn bad_fields_are_named_stale_pages_refused_and_non_admins_kept_out() {
    let api = Api::new().await;
    let mut admin = Browser::sign_in(&api, ADMIN).await;
    let (path, page) = draft(&mut admin, "Refusals").await;
    let role = option(&page, "tts:Admin");

    let p = edit(
        &mut admin,
        &path,
        "steps",
        &[
            ("op", "add"),
            ("name", "Typed by hand"),
            ("role", &role),
            ("weight", "zero"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("id=\"fault\""), "{}", p.body);
    assert!(p.body.contains("weight"), "the field is named");
    assert!(p.body.contains("value=\"Typed by hand\""), "the typed row is kept");
    let p = edit(
        &mut admin,
        &path,
        "details",
        &[("name", "Refusals"), ("category", "Laptop"), ("sla_low", "-3")],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("sla_low"), "{}", p.body);

    // A page another save has made stale.
    let old = admin.get(&path).await;
    let p = edit(
        &mut admin,
        &path,
        "details",
        &[("name", "Renamed"), ("category", "Laptop")],
    )
    .await;
    assert_eq!(p.status, StatusCode::OK);
    let p = admin
        .post(
            &format!("{path}details"),
            &[
                ("csrf", &old.csrf()),
                ("stamp", &stamp(&old)),
                ("name", "Lost update"),
                ("category", "Laptop"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.body);
    assert!(admin.get(&path).await.body.contains("Renamed"), "the first save stands");

    // A forged form (no CSRF token) and other users.
    let p = admin
        .post(
            &format!("{path}details"),
            &[("stamp", &stamp(&old)), ("name", "Forged"), ("category", "x")],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    for who in [EMPLOYEE, IT1] {
        let mut b = Browser::sign_in(&api, who).await;
        let view = b.get(&path).await;
        assert_eq!(view.status, StatusCode::OK, "workflows are readable, as in the API");
        assert!(!view.body.contains("id=\"details\""), "but not editable");
        let csrf = view.csrf();
        for (action, fields) in [
            ("details", vec![("name", "Mine"), ("category", "x")]),
            (
                "steps",
                vec![("op", "add"), ("name", "x"), ("role", role.as_str()), ("weight", "1")],
            ),
            ("transitions", vec![("op", "add"), ("name", "x")]),
            ("status", vec![("to", "archive")]),
        ] {
            let mut all = vec![("csrf", csrf.as_str()), ("stamp", "")];
            all.extend(fields);
            let p = b.post(&format!("{path}{action}"), &all).await;
            assert_eq!(p.status, StatusCode::FORBIDDEN, "{who} {action}: {}", p.body);
        }
        let p = b
            .post(
                "/ui/workflows/",
                &[("csrf", &csrf), ("name", "Mine"), ("category", "x")],
            )
            .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{who} creates a workflow");
    }
    assert!(admin.get(&path).await.body.contains("Renamed"), "nothing changed");
}
