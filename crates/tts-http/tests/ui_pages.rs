//! The web UI's pages over HTTP, in-process: sign in and out, each page per role with the REST API's
//! answer (200, 403 or 404), the security and cache headers on every page, no absolute URL, hashed
//! assets, the dashboard, reports, workflows, the ticket list's scope and priority tabs, and the rate
//! limits.

#![cfg(feature = "ui")]

mod common;

use axum::http::{StatusCode, header};
use common::browser::{Browser, holder};
use common::{ADMIN, Api, EMPLOYEE, IT1, IT2, PASSWORD};

#[tokio::test]
async fn pages_need_a_session_and_the_sign_in_page_says_why_a_sign_in_failed() {
    let api = Api::new().await;
    let mut b = Browser::new(&api);
    let p = b.get("/ui/tickets/").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.location(), "/ui/signin");
    let p = b.get("/ui/signin").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("<form"), "{}", p.body);
    let p = b
        .post("/ui/signin", &[("email", EMPLOYEE), ("password", "wrong")])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert!(
        p.location().starts_with("/ui/signin?problem=invalid"),
        "{}",
        p.location()
    );
    assert!(b.cookie.is_none());
    let p = b.get(p.location()).await;
    assert!(p.body.contains("Invalid e-mail or password"), "{}", p.body);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_sign_out_ends_the_session() {
    let api = Api::new().await;
    let mut b = Browser::new(&api);
    let p = b
        .post("/ui/signin", &[("email", EMPLOYEE), ("password", PASSWORD)])
        .await;
    let cookie = p.headers[header::SET_COOKIE].to_str().expect("cookie").to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/ui"),
        "{cookie}"
    );
    let kept = b.cookie.clone();
    assert_eq!(p.location(), "/ui", "signed in, to the dashboard");
    assert_eq!(b.get("/ui").await.status, StatusCode::OK);
    assert_eq!(b.get("/").await.location(), "/ui", "the server's root opens the UI");
    assert_eq!(b.get("/ui/").await.location(), "/ui");
    let page = b.get("/ui/tickets/").await;
    assert_eq!(page.status, StatusCode::OK);
    let p = b.post("/ui/signout", &[("csrf", &page.csrf())]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    b.cookie = kept;
    let p = b.get("/ui/tickets/").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "the old cookie no longer works");
}

#[tokio::test]
async fn every_page_has_the_strict_policy_and_no_absolute_url() {
    let api = Api::new().await;
    let mut b = Browser::sign_in(&api, EMPLOYEE).await;
    let number = b.file_ticket("headers").await;
    api.settle().await;
    assert!(
        b.get(&format!("/ui/tickets/{number}/")).await.body.contains("<svg"),
        "the diagram is drawn"
    );
    for path in [
        "/ui/signin",
        "/ui/tickets/",
        "/ui/tickets/new",
        &format!("/ui/tickets/{number}/"),
        "/ui/notifications/",
        "/ui/nope",
    ] {
        let p = b.get(path).await;
        let csp = p.headers[header::CONTENT_SECURITY_POLICY].to_str().expect("csp");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert_eq!(p.headers[header::CACHE_CONTROL], "no-store", "{path}");
        assert_eq!(p.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert!(
            !p.body.contains("http://") && !p.body.contains("https://"),
            "{path} has an absolute URL"
        );
        assert!(
            !p.body.contains(" style=") && !p.body.contains("<script>"),
            "{path} has inline style or script"
        );
    }
    assert_eq!(b.get("/ui/nope").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn assets_have_hashed_names_and_long_cache_lifetimes() {
    let api = Api::new().await;
    let mut b = Browser::new(&api);
    let page = b.get("/ui/signin").await;
    let at = page.body.find("/ui/assets/ui.").expect("stylesheet link");
    let end = page.body[at..].find('"').expect("end") + at;
    let css = page.body[at..end].to_string();
    assert!(
        css.ends_with(".css") && css.len() > "/ui/assets/ui..css".len() + 8,
        "{css}"
    );
    let p = b.get(&css).await;
    assert_eq!(p.status, StatusCode::OK);
    assert_eq!(p.headers[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
    assert!(
        p.headers[header::CONTENT_TYPE]
            .to_str()
            .expect("type")
            .starts_with("text/css")
    );
    assert_eq!(
        b.get("/ui/assets/ui.0000000000000000.css").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn ticket_pages_answer_as_the_rest_api_does_for_each_role() {
    let api = Api::new().await;
    let mut owner = Browser::sign_in(&api, EMPLOYEE).await;
    let number = owner.file_ticket("whose is it").await;
    api.settle().await;
    let t = api.login(EMPLOYEE).await;
    let id = api.get(&format!("/tickets/{number}/"), &t).await.body["id"].clone();
    for who in [ADMIN, IT1, IT2, EMPLOYEE] {
        let token = api.login(who).await;
        let rest = api.get(&format!("/tickets/{id}/"), &token).await.status;
        let mut b = Browser::sign_in(&api, who).await;
        let ui = b.get(&format!("/ui/tickets/{number}/")).await.status;
        assert_eq!(ui, rest, "{who}: the UI and the API agree");
    }
    let mut b = Browser::sign_in(&api, EMPLOYEE).await;
    assert_eq!(b.get("/ui/tickets/TKT-2099-9999/").await.status, StatusCode::NOT_FOUND);
    assert_eq!(b.get("/ui/tickets/not-a-number/").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_dashboard_shows_each_role_its_figures_and_every_bar_leads_to_the_list() {
    let api = Api::new().await;
    let mut requester = Browser::sign_in(&api, EMPLOYEE).await;
    let number = requester.file_ticket("dashboard").await;
    api.settle().await;
    let mine = requester.get("/ui").await;
    assert!(
        mine.body.contains("My open tickets") && mine.body.contains(&number),
        "{}",
        mine.body
    );
    assert!(!mine.body.contains("class=\"card kpi"), "requesters get no KPIs");

    let mut admin = Browser::sign_in(&api, ADMIN).await;
    let page = admin.get("/ui").await;
    assert_eq!(page.status, StatusCode::OK);
    for label in ["New", "Critical", "High", "Medium", "Low", "Unassigned", "Unroutable"] {
        assert!(
            page.body.contains(&format!("<span class=\"label\">{label}")),
            "{label}: {}",
            page.body
        );
    }
    // The high-priority ticket is active: its bar, its card and its table row say 1 and lead to the list.
    assert!(page.body.contains("<title>high: 1</title>"), "{}", page.body);
    let at = page
        .body
        .find("<a href=\"/ui/tickets/?priority=high\" class=\"bar")
        .expect("a bar link");
    let href = &page.body[at + 9..page.body[at + 9..].find('"').expect("end") + at + 9];
    let list = admin.get(&href.replace("&amp;", "&")).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains(&number), "the drill-down lists the ticket");
    assert!(page.body.contains("Resolved per day"));
    let due = &page.body[page.body.find("<ul class=\"due\">").expect("due soon")..];
    let due = &due[..due.find("</ul>").expect("end")];
    assert!(
        due.contains(&number) && due.contains("sla warning"),
        "the admin's triage falls due: {due}"
    );

    let mut agent = Browser::sign_in(&api, IT1).await;
    let page = agent.get("/ui").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<span class=\"label\">Critical") && !page.body.contains("Unassigned"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn reports_show_staff_their_figures_with_csv_downloads_and_refuse_requesters() {
    let api = Api::new().await;
    let mut requester = Browser::sign_in(&api, EMPLOYEE).await;
    requester.file_ticket("report me").await;
    api.settle().await;
    assert_eq!(requester.get("/ui/reports/").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        requester.get("/ui/reports/tickets.csv?table=flow").await.status,
        StatusCode::FORBIDDEN
    );
    assert!(
        !requester.get("/ui").await.body.contains("/ui/reports/"),
        "no menu entry for requesters"
    );

    let mut admin = Browser::sign_in(&api, ADMIN).await;
    let page = admin.get("/ui/reports/?days=7").await;
    assert_eq!(page.status, StatusCode::OK);
    for title in [
        "Created and resolved per day",
        "By status",
        "By priority",
        "SLA per workflow",
        "Work per agent",
        "Time per step",
    ] {
        assert!(page.body.contains(title), "{title}");
    }
    assert!(
        page.body.contains("<td>high</td><td>1</td>"),
        "the ticket is counted: {}",
        page.body
    );
    let csv = admin.get("/ui/reports/tickets.csv?table=by_priority&days=7").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers[header::CONTENT_TYPE]
            .to_str()
            .expect("type")
            .starts_with("text/csv")
    );
    assert!(
        csv.body.starts_with("key,") && csv.body.contains("high,1"),
        "{}",
        csv.body
    );
    assert_eq!(admin.get("/ui/reports/?days=5").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        admin.get("/ui/reports/nope.csv?table=x").await.status,
        StatusCode::NOT_FOUND
    );

    let mut agent = Browser::sign_in(&api, IT1).await;
    assert_eq!(agent.get("/ui/reports/").await.status, StatusCode::OK);
}

#[tokio::test]
async fn workflows_are_listed_with_a_match_dry_run_and_each_shows_its_diagram_and_tables() {
    let api = Api::new().await;
    let mut admin = Browser::sign_in(&api, ADMIN).await;
    let page = admin.get("/ui/workflows/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<span class=\"status active\">active</span>"),
        "{}",
        page.body
    );
    let run = admin
        .get("/ui/workflows/?category=Technical+Support&priority=high")
        .await;
    assert!(run.body.contains("class=\"dry-run\"><strong>"), "{}", run.body);
    assert!(
        run.body.contains("value=\"Technical Support\""),
        "the question stays in the form"
    );
    let bad = admin.get("/ui/workflows/?category=x&priority=nonsense").await;
    assert!(bad.body.contains("priority: low, medium, high or critical"));
    let view = page.body.find("/\">view</a>").expect("a view link");
    let start = page.body[..view].rfind("href=\"").expect("href") + 6;
    let link = format!("{}/", &page.body[start..view]);
    let one = admin.get(&link).await;
    assert_eq!(one.status, StatusCode::OK, "{link}");
    assert!(one.body.contains("<svg class=\"workflow-diagram\""), "{}", one.body);
    assert!(one.body.contains("<h2>Steps</h2>") && one.body.contains("<h2>Transitions</h2>"));
    assert!(
        one.body.contains("<h2>Validation</h2>"),
        "admins see the validator's findings"
    );
    let mut requester = Browser::sign_in(&api, EMPLOYEE).await;
    let theirs = requester.get(&link).await;
    assert_eq!(
        theirs.status,
        StatusCode::OK,
        "workflows are readable by everyone, as in the API"
    );
    assert!(!theirs.body.contains("<h2>Validation</h2>"));
    assert_eq!(
        requester.get("/ui/workflows/not-an-id/").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_forms_count_against_the_api_rate_limits_keyed_by_the_session_user() {
    let api = Api::with(|c| {
        c.rate_limits = tts_http::RateLimits::default();
        c.rate_limits.create_ticket = tts_http::Limit {
            requests: 1,
            window: std::time::Duration::from_secs(3600),
        };
    })
    .await;
    let mut b = Browser::sign_in(&api, EMPLOYEE).await;
    b.file_ticket("the one allowed").await;
    let csrf = b.get("/ui/tickets/new").await.csrf();
    let p = b
        .post(
            "/ui/tickets/new",
            &[("csrf", &csrf), ("subject", "one too many"), ("category", "IT")],
        )
        .await;
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        p.body.contains("<h1>Too many requests</h1>"),
        "a page, not JSON: {}",
        p.body
    );
    assert!(p.headers.contains_key(header::RETRY_AFTER));
    // Pages are keyed by the session's user, not by the shared address: another user is not held up.
    let mut other = Browser::sign_in(&api, IT1).await;
    assert_eq!(other.get("/ui/tickets/").await.status, StatusCode::OK);
}

/// The ticket rows of a list page (their number links).
fn rows(body: &str) -> usize {
    body.matches("<tr><td><a href=\"/ui/tickets/TKT-").count()
}

/// A page's text with the escaped ampersands of its links written plainly.
fn unescaped(body: &str) -> String {
    body.replace("&#38;", "&").replace("&amp;", "&")
}

#[tokio::test]
async fn the_ticket_list_offers_each_role_its_scopes_and_priority_tabs_that_keep_the_other_choices() {
    let api = Api::new().await;
    let mut requester = Browser::sign_in(&api, EMPLOYEE).await;
    let moved = requester.file_ticket("moved on to IT").await;
    let waiting = requester.file_ticket("still in triage").await;
    api.settle().await;
    // The admin triages one of them on to an IT agent.
    let (mut admin, page) = holder(&api, &moved, &[ADMIN]).await.expect("the admin triages");
    let at = page.body.find("name=\"action\" value=\"").expect("an action") + 21;
    let action = page.body[at..at + 36].to_string();
    let p = admin
        .post(
            &format!("/ui/tickets/{moved}/act"),
            &[("csrf", &page.csrf()), ("action", &action), ("notes", "")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    api.settle().await;

    let (mut agent, _) = holder(&api, &moved, &[IT1, IT2]).await.expect("an IT agent holds it");
    let list = agent.get("/ui/tickets/?scope=assigned").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        rows(&list.body) == 1 && list.body.contains(&moved) && !list.body.contains(&waiting),
        "the agent's assigned tab lists exactly the ticket they hold: {}",
        list.body
    );
    assert!(
        list.body
            .contains("id=\"scope-assigned\" href=\"/ui/tickets/?scope=assigned\" class=\"current\""),
        "{}",
        list.body
    );
    assert!(list.body.contains("id=\"scope-acted\"") && !list.body.contains("scope-unassigned"));
    // The priority tabs keep the scope, the search and the order, and count the scope's tickets; the
    // scope tabs keep the priority.
    let list = agent
        .get("/ui/tickets/?scope=assigned&search=moved&order=oldest&priority=critical")
        .await;
    assert_eq!(rows(&list.body), 0, "no critical ticket");
    let body = unescaped(&list.body);
    let high = "/ui/tickets/?scope=assigned&priority=high&search=moved&order=oldest";
    for tab in [
        "id=\"priority-critical\" href=\"/ui/tickets/?scope=assigned&priority=critical&search=moved&order=oldest\" \
         class=\"current\" aria-current=\"page\">Critical <span class=\"count\">(0)</span>",
        &format!("id=\"priority-high\" href=\"{high}\">High <span class=\"count\">(1)</span>"),
        "id=\"priority-any\" href=\"/ui/tickets/?scope=assigned&search=moved&order=oldest\">All \
         <span class=\"count\">(1)</span>",
        "id=\"scope-all\" href=\"/ui/tickets/?priority=critical&search=moved&order=oldest\">All",
        "<input type=\"hidden\" name=\"scope\" value=\"assigned\">",
    ] {
        assert!(body.contains(tab), "{tab} in {body}");
    }
    let list = agent.get(high).await;
    assert!(
        rows(&list.body) == 1 && list.body.contains(&moved),
        "the high tab lists it"
    );
    assert_eq!(
        agent.get("/ui/tickets/?scope=unassigned").await.status,
        StatusCode::FORBIDDEN
    );

    let all = requester.get("/ui/tickets/").await;
    assert!(
        all.body
            .contains("id=\"scope-all\" href=\"/ui/tickets/\" class=\"current\"")
            && all.body.contains("id=\"scope-mine\"")
            && all.body.contains("id=\"scope-closed\""),
        "{}",
        all.body
    );
    assert!(
        !all.body.contains("scope-unassigned") && !all.body.contains("scope-assigned"),
        "a requester gets no unassigned (nor assigned) tab"
    );
    assert!(all.body.contains("High <span class=\"count\">(2)</span>") && rows(&all.body) == 2);
    let refused = requester.get("/ui/tickets/?scope=unassigned").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("<h1>"), "the error page, not JSON");
    assert_eq!(
        requester.get("/ui/tickets/?scope=everything").await.status,
        StatusCode::BAD_REQUEST
    );

    let acted = admin.get("/ui/tickets/?scope=acted").await;
    assert!(
        rows(&acted.body) == 1 && acted.body.contains(&moved),
        "the admin acted on the one they triaged: {}",
        acted.body
    );
    let unassigned = admin.get("/ui/tickets/?scope=unassigned").await;
    assert_eq!(unassigned.status, StatusCode::OK);
    assert!(unassigned.body.contains("id=\"scope-unassigned\"") && rows(&unassigned.body) == 0);
}

#[tokio::test]
async fn the_users_page_pages_through_every_user() {
    let api = Api::new().await;
    let token = api.login(ADMIN).await;
    for i in 0..55 {
        api.post(
            "/api/v1/users/",
            &token,
            serde_json::json!({"email": format!("user{i:02}@example.com"), "full_name": format!("User {i}"), "password": PASSWORD}),
        )
        .await
        .expect(201);
    }
    let mut admin = Browser::sign_in(&api, ADMIN).await;
    let mut seen = String::new();
    let mut path = "/ui/users/".to_string();
    for _ in 0..5 {
        let page = admin.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        let users = page.body.split("<h2>Roles</h2>").next().unwrap_or_default().to_string();
        seen.push_str(&users);
        match users.find("rel=\"next\"") {
            Some(at) => {
                let href = users[..at].rfind("href=\"").expect("a link") + 6;
                path = users[href..]
                    .split('"')
                    .next()
                    .unwrap_or_default()
                    .replace("&amp;", "&");
            }
            None => break,
        }
    }
    for i in 0..55 {
        assert_eq!(
            seen.matches(&format!(">user{i:02}@example.com<")).count(),
            1,
            "user{i:02} on exactly one page"
        );
    }
    assert_eq!(admin.get("/ui/users/?page=0").await.status, StatusCode::BAD_REQUEST);
}
