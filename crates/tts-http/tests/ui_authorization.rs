//! Object-level authorization of the web UI, as `authorization.rs` checks the REST routes: every UI
//! route is called by users who must not reach its object, and must answer as the API does (404 for
//! another user's ticket, 403 for admin-only pages and actions). The list of routes is read from the
//! UI router's source, so a new route without a case here fails the test.

#![cfg(feature = "ui")]

mod common;

use axum::http::StatusCode;
use common::browser::Browser;
use common::{ADMIN, ASSET1, Api, EMPLOYEE, PASSWORD};
use serde_json::json;
use std::collections::BTreeSet;

/// `(method, path)` of every route `ui::router` mounts, read from its source.
fn ui_routes() -> BTreeSet<(String, String)> {
    let source = include_str!("../src/ui/mod.rs");
    let mut routes = BTreeSet::new();
    let mut rest = source;
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + 7..];
        let open = rest.find('"').expect("a route path") + 1;
        let close = open + rest[open..].find('"').expect("end of the path");
        let path = rest[open..close].to_string();
        let end = rest
            .find(".route(")
            .or_else(|| rest.find(".fallback("))
            .unwrap_or(rest.len());
        let handlers = &rest[close..end];
        for method in ["get", "post"] {
            if handlers.contains(&format!("{method}(")) || handlers.contains(&format!(".{method}(")) {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    assert!(routes.len() > 20, "the routes were read: {routes:?}");
    routes
}

/// What an outsider must get from one route.
enum Expect {
    /// This status for both outsiders.
    Status(u16),
    /// The requester and the agent differ (e.g. reports: staff only).
    PerRole { requester: u16, agent: u16 },
    /// The route reaches no other user's object (the caller's own data, a public asset, signing in):
    /// why, instead of a call.
    Own(&'static str),
}

struct Case {
    method: &'static str,
    template: &'static str,
    path: String,
    fields: Vec<(&'static str, String)>,
    expect: Expect,
}

#[tokio::test]
async fn every_ui_route_refuses_other_users_as_the_api_does() {
    let api = Api::new().await;
    let admin_token = api.login(ADMIN).await;
    api.post(
        "/api/v1/users/",
        &admin_token,
        json!({"email": "other@example.com", "full_name": "Other Requester", "password": PASSWORD}),
    )
    .await
    .expect(201);
    let mut owner = Browser::sign_in(&api, EMPLOYEE).await;
    let number = owner.file_ticket("only mine").await;
    api.settle().await;
    let owner_token = api.login(EMPLOYEE).await;
    let tid = api
        .get(&format!("/tickets/{number}/"), &owner_token)
        .await
        .expect(200)
        .body["id"]
        .clone();
    let attachment = api
        .upload(
            &format!("/tickets/{tid}/attachments/"),
            &owner_token,
            "mine.txt",
            "text/plain",
            b"mine",
        )
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .expect("attachment")
        .to_string();
    let notification = api.get("/notifications/", &admin_token).await.expect(200).body["results"][0]["id"]
        .as_str()
        .expect("the admin was notified")
        .to_string();
    let workflow = api.get("/workflows/", &admin_token).await.expect(200).body["results"][0]["id"]
        .as_str()
        .expect("workflow")
        .to_string();
    let roles = api.get("/api/v1/tts/roles/", &admin_token).await.expect(200).body;
    let role = roles["results"][0]["id"].as_str().expect("role").to_string();
    let user = api.get("/api/v1/users/", &admin_token).await.expect(200).body["results"][0]["id"]
        .as_str()
        .expect("user")
        .to_string();
    let nil = uuid::Uuid::nil().to_string();

    let case = |method, template, path: String, fields: Vec<(&'static str, String)>, expect| Case {
        method,
        template,
        path,
        fields,
        expect,
    };
    let t = |suffix: &str| format!("/ui/tickets/{number}/{suffix}");
    let w = |suffix: &str| format!("/ui/workflows/{workflow}/{suffix}");
    let cases = vec![
        case(
            "GET",
            "/",
            "/ui/".into(),
            vec![],
            Expect::Own("the caller's own dashboard"),
        ),
        case("GET", "/signin", "/ui/signin".into(), vec![], Expect::Own("signing in")),
        case(
            "POST",
            "/signin",
            "/ui/signin".into(),
            vec![],
            Expect::Own("signing in"),
        ),
        case(
            "POST",
            "/signout",
            "/ui/signout".into(),
            vec![],
            Expect::Own("ends the caller's own session"),
        ),
        case(
            "GET",
            "/tickets/",
            "/ui/tickets/".into(),
            vec![],
            Expect::Own("lists what the caller may see"),
        ),
        case(
            "GET",
            "/tickets/new",
            "/ui/tickets/new".into(),
            vec![],
            Expect::Own("a form"),
        ),
        case(
            "POST",
            "/tickets/new",
            "/ui/tickets/new".into(),
            vec![],
            Expect::Own("files the caller's own ticket"),
        ),
        case("GET", "/tickets/{number}/", t(""), vec![], Expect::Status(404)),
        case(
            "POST",
            "/tickets/{number}/act",
            t("act"),
            vec![("action", nil.clone()), ("notes", "x".into())],
            Expect::Status(404),
        ),
        case(
            "POST",
            "/tickets/{number}/transfer",
            t("transfer"),
            vec![("to", nil.clone())],
            Expect::Status(404),
        ),
        case(
            "POST",
            "/tickets/{number}/attachments",
            t("attachments"),
            vec![],
            Expect::Status(404),
        ),
        case(
            "GET",
            "/tickets/{number}/attachments/{id}",
            t(&format!("attachments/{attachment}")),
            vec![],
            Expect::Status(404),
        ),
        case(
            "POST",
            "/tickets/{number}/comments",
            t("comments"),
            vec![("content", "hi".into())],
            Expect::Status(404),
        ),
        case(
            "GET",
            "/notifications/",
            "/ui/notifications/".into(),
            vec![],
            Expect::Own("the caller's own notifications"),
        ),
        case(
            "POST",
            "/notifications/read",
            "/ui/notifications/read".into(),
            vec![("id", notification)],
            Expect::Status(404),
        ),
        case("GET", "/users/", "/ui/users/".into(), vec![], Expect::Status(403)),
        case(
            "POST",
            "/users/",
            "/ui/users/".into(),
            vec![("email", "new@example.com".into()), ("full_name", "New".into())],
            Expect::Status(403),
        ),
        case(
            "POST",
            "/users/active",
            "/ui/users/active".into(),
            vec![("user", user.clone()), ("active", "false".into())],
            Expect::Status(403),
        ),
        case(
            "POST",
            "/roles/members",
            "/ui/roles/members".into(),
            vec![("role", role), ("op", "remove".into()), ("user", user)],
            Expect::Status(403),
        ),
        case(
            "GET",
            "/workflows/",
            "/ui/workflows/".into(),
            vec![],
            Expect::Own("shared configuration every user may read"),
        ),
        case(
            "POST",
            "/workflows/",
            "/ui/workflows/".into(),
            vec![("name", "Mine".into()), ("category", "x".into())],
            Expect::Status(403),
        ),
        case("GET", "/workflows/{id}/", w(""), vec![], Expect::Status(200)),
        case(
            "POST",
            "/workflows/{id}/details",
            w("details"),
            vec![("name", "Mine".into()), ("category", "x".into())],
            Expect::Status(403),
        ),
        case(
            "POST",
            "/workflows/{id}/steps",
            w("steps"),
            vec![("op", "delete".into()), ("step", nil.clone())],
            Expect::Status(403),
        ),
        case(
            "POST",
            "/workflows/{id}/transitions",
            w("transitions"),
            vec![("op", "delete".into()), ("transition", nil.clone())],
            Expect::Status(403),
        ),
        case(
            "POST",
            "/workflows/{id}/status",
            w("status"),
            vec![("to", "archive".into())],
            Expect::Status(403),
        ),
        case(
            "GET",
            "/reports/",
            "/ui/reports/".into(),
            vec![],
            Expect::PerRole {
                requester: 403,
                agent: 200,
            },
        ),
        case(
            "GET",
            "/reports/{file}",
            "/ui/reports/tickets.csv?table=flow&days=7".into(),
            vec![],
            Expect::PerRole {
                requester: 403,
                agent: 200,
            },
        ),
        case(
            "GET",
            "/profile",
            "/ui/profile".into(),
            vec![],
            Expect::Own("the caller's own profile"),
        ),
        case(
            "POST",
            "/profile",
            "/ui/profile".into(),
            vec![],
            Expect::Own("the caller's own profile"),
        ),
        case(
            "POST",
            "/profile/password",
            "/ui/profile/password".into(),
            vec![],
            Expect::Own("the caller's own password"),
        ),
        case(
            "GET",
            "/assets/{name}",
            "/ui/assets/x".into(),
            vec![],
            Expect::Own("public, content-hashed assets"),
        ),
        case(
            "GET",
            "/live",
            "/ui/live".into(),
            vec![],
            Expect::Own("the caller's own feed, filtered per event by the API's visibility rule (tests/ui_live.rs)"),
        ),
    ];

    let covered: BTreeSet<(String, String)> = cases
        .iter()
        .map(|c| (c.method.to_string(), c.template.to_string()))
        .collect();
    let missing: Vec<_> = ui_routes().difference(&covered).cloned().collect();
    assert!(
        missing.is_empty(),
        "UI routes without an authorization case: {missing:?}"
    );
    let stale: Vec<_> = covered.difference(&ui_routes()).cloned().collect();
    assert!(stale.is_empty(), "cases for routes the UI no longer has: {stale:?}");

    for (who, is_agent) in [("other@example.com", false), (ASSET1, true)] {
        let mut b = Browser::sign_in(&api, who).await;
        let csrf = b.get("/ui/profile").await.csrf();
        for c in &cases {
            let want = match c.expect {
                Expect::Status(s) => s,
                Expect::PerRole { requester, agent } => {
                    if is_agent {
                        agent
                    } else {
                        requester
                    }
                }
                Expect::Own(why) => {
                    assert!(
                        !why.is_empty(),
                        "{}: say why no one else's object is reached",
                        c.template
                    );
                    continue;
                }
            };
            let got = if c.method == "GET" {
                b.get(&c.path).await
            } else if c.template.ends_with("/attachments") {
                b.post_file(&c.path, &[("csrf", &csrf)], "theirs.txt", b"not yours")
                    .await
            } else {
                let mut fields: Vec<(&str, &str)> = vec![("csrf", &csrf)];
                fields.extend(c.fields.iter().map(|(k, v)| (*k, v.as_str())));
                b.post(&c.path, &fields).await
            };
            assert_eq!(
                got.status,
                StatusCode::from_u16(want).expect("status"),
                "{who}: {} {}: {}",
                c.method,
                c.template,
                got.body.chars().take(300).collect::<String>()
            );
        }
    }
    // Nothing the outsiders tried took hold.
    let page = owner.get(&format!("/ui/tickets/{number}/")).await;
    assert!(
        !page.body.contains("theirs.txt") && !page.body.contains(">hi<"),
        "{}",
        page.body
    );
}
