//! The web UI over HTTP, in-process: sign in and out, each page per role with the REST API's answer
//! (200, 403 or 404), the no-JavaScript form flows (post, 303, get), CSRF and origin checks, the
//! security and cache headers, escaping of user text, and no absolute URL in any page.

#![cfg(feature = "ui")]

mod common;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use common::{ADMIN, Api, EMPLOYEE, IT1, IT2, PASSWORD};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// A browser without JavaScript: one session cookie, forms as `application/x-www-form-urlencoded`.
struct Browser<'a> {
    api: &'a Api,
    cookie: Option<String>,
}

/// One answer, its body as text.
struct Page {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .unwrap_or("")
    }

    /// The value of the first hidden `csrf` input.
    fn csrf(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
        self.body[at..at + 64].to_string()
    }
}

impl<'a> Browser<'a> {
    fn new(api: &'a Api) -> Self {
        Browser { api, cookie: None }
    }

    async fn send(&mut self, req: Request<Body>) -> Page {
        let res = self.api.app.clone().oneshot(req).await.expect("response");
        let status = res.status();
        let headers = res.headers().clone();
        if let Some(set) = headers.get(header::SET_COOKIE).and_then(|c| c.to_str().ok()) {
            let pair = set.split(';').next().unwrap_or("").to_string();
            self.cookie = pair
                .split_once('=')
                .filter(|(_, v)| !v.is_empty())
                .map(|_| pair.clone());
        }
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let body = String::from_utf8(bytes.to_vec()).expect("utf-8");
        assert!(status.as_u16() < 500, "server error {status}: {body}");
        Page { status, headers, body }
    }

    async fn get(&mut self, path: &str) -> Page {
        let mut req = Request::builder().method(Method::GET).uri(path);
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::empty()).expect("request")).await
    }

    async fn post_from(&mut self, origin: Option<&str>, path: &str, fields: &[(&str, &str)]) -> Page {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::HOST, "tts.test")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(o) = origin {
            req = req.header(header::ORIGIN, o);
        }
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::from(body)).expect("request")).await
    }

    /// Posts a multipart form: `fields` first, then `file` named `name` with `bytes`.
    async fn post_file(&mut self, path: &str, fields: &[(&str, &str)], name: &str, bytes: &[u8]) -> Page {
        let boundary = "tts-ui-boundary-5e2a";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::HOST, "tts.test")
            .header(header::ORIGIN, "http://tts.test")
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            );
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::from(body)).expect("request")).await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.post_from(Some("http://tts.test"), path, fields).await
    }

    async fn sign_in(api: &'a Api, email: &str) -> Browser<'a> {
        let mut b = Browser::new(api);
        let p = b.post("/ui/signin", &[("email", email), ("password", PASSWORD)]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        assert!(b.cookie.is_some(), "a session cookie");
        b
    }

    /// Files a ticket through the form; its number.
    async fn file_ticket(&mut self, subject: &str) -> String {
        let csrf = self.get("/ui/tickets/new").await.csrf();
        let p = self
            .post(
                "/ui/tickets/new",
                &[
                    ("csrf", &csrf),
                    ("subject", subject),
                    ("category", "Technical Support"),
                    ("priority", "high"),
                ],
            )
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let number = p
            .location()
            .trim_start_matches("/ui/tickets/")
            .trim_end_matches('/')
            .to_string();
        assert!(number.starts_with("TKT-"), "{}", p.location());
        number
    }
}

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
async fn a_requester_files_a_ticket_by_form_and_sees_it_listed_with_its_text_escaped() {
    let api = Api::new().await;
    let mut b = Browser::sign_in(&api, EMPLOYEE).await;
    let number = b.file_ticket("<script>alert(1)</script> printer").await;
    let page = b.get(&format!("/ui/tickets/{number}/")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("&#60;script&#62;alert(1)&#60;/script&#62; printer"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>alert"), "user text is never markup");
    let list = b.get("/ui/tickets/?search=printer").await;
    assert!(list.body.contains(&number), "{}", list.body);
}

#[tokio::test]
async fn the_new_ticket_form_shows_the_api_reasons_next_to_the_fields() {
    let api = Api::new().await;
    let mut b = Browser::sign_in(&api, EMPLOYEE).await;
    let csrf = b.get("/ui/tickets/new").await.csrf();
    let p = b
        .post(
            "/ui/tickets/new",
            &[
                ("csrf", &csrf),
                ("subject", ""),
                ("category", "IT"),
                ("priority", "urgent"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("class=\"field-error\""), "{}", p.body);
    assert!(p.body.contains("value=\"IT\""), "what was typed stays: {}", p.body);
}

#[tokio::test]
async fn forms_without_the_session_token_or_from_another_origin_are_refused() {
    let api = Api::new().await;
    let mut b = Browser::sign_in(&api, EMPLOYEE).await;
    let fields = [("subject", "s"), ("category", "IT")];
    let p = b.post("/ui/tickets/new", &fields).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let csrf = b.get("/ui/tickets/new").await.csrf();
    let with = [("csrf", csrf.as_str()), ("subject", "s"), ("category", "IT")];
    let p = b
        .post_from(Some("https://evil.example"), "/ui/tickets/new", &with)
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = b
        .post(
            "/ui/tickets/new",
            &[("csrf", "0".repeat(64).as_str()), ("subject", "s"), ("category", "IT")],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "another session's token");
    let p = b
        .post_from(
            Some("https://evil.example"),
            "/ui/signin",
            &[("email", EMPLOYEE), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "no sign-in from another site");
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
async fn an_agent_acts_on_a_ticket_by_form_and_the_step_moves() {
    let api = Api::new().await;
    let mut requester = Browser::sign_in(&api, EMPLOYEE).await;
    let number = requester.file_ticket("laptop broken").await;
    api.settle().await;
    // Whoever holds the task acts (the demo workflow's first step is the admins' triage).
    let mut acted = false;
    for who in [ADMIN, IT1, IT2] {
        let mut agent = Browser::sign_in(&api, who).await;
        let page = agent.get(&format!("/ui/tickets/{number}/")).await;
        if page.status != StatusCode::OK || !page.body.contains("name=\"action\"") {
            continue;
        }
        let at = page.body.find("name=\"action\" value=\"").expect("an action") + 21;
        let action = page.body[at..at + 36].to_string();
        let step_before = page
            .body
            .split("class=\"step\">")
            .nth(1)
            .map(|s| s[..s.find('<').unwrap_or(0)].to_string());
        let p = agent
            .post(
                &format!("/ui/tickets/{number}/act"),
                &[("csrf", &page.csrf()), ("action", &action), ("notes", "done")],
            )
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        api.settle().await;
        let after = agent.get(&format!("/ui/tickets/{number}/")).await;
        let step_after = after
            .body
            .split("class=\"step\">")
            .nth(1)
            .map(|s| s[..s.find('<').unwrap_or(0)].to_string());
        assert_ne!(step_before, step_after, "the step moved");
        let current = |body: &str| {
            let at = body
                .find(" current\" data-step-id=\"")
                .expect("one current step in the diagram")
                + 27;
            assert_eq!(
                body.matches(" current\" data-step-id=").count(),
                1,
                "exactly one current step"
            );
            body[at..at + 36].to_string()
        };
        assert_ne!(
            current(&page.body),
            current(&after.body),
            "the diagram's current step moved"
        );
        assert!(after.body.contains("edge traversed"), "the move is drawn");
        assert!(
            after.body.contains("visited\" data-step-id="),
            "the step left is visited"
        );
        acted = true;
        break;
    }
    assert!(acted, "someone held the task");
}

#[tokio::test]
async fn comments_and_notifications_work_by_form() {
    let api = Api::new().await;
    let mut requester = Browser::sign_in(&api, EMPLOYEE).await;
    let number = requester.file_ticket("comment me").await;
    let page = requester.get(&format!("/ui/tickets/{number}/")).await;
    assert!(
        !page.body.contains("name=\"internal\""),
        "requesters cannot write internal notes"
    );
    let p = requester
        .post(
            &format!("/ui/tickets/{number}/comments"),
            &[("csrf", &page.csrf()), ("content", "any news?")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let page = requester.get(&format!("/ui/tickets/{number}/")).await;
    assert!(page.body.contains("any news?"), "{}", page.body);
    api.settle().await;
    let mut admin = Browser::sign_in(&api, ADMIN).await;
    let page = admin.get(&format!("/ui/tickets/{number}/")).await;
    let p = admin
        .post(
            &format!("/ui/tickets/{number}/comments"),
            &[
                ("csrf", &page.csrf()),
                ("content", "@employee@demo.tts.example looking"),
                ("internal", ""),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let p = admin
        .post(
            &format!("/ui/tickets/{number}/comments"),
            &[("csrf", &page.csrf()), ("content", "public reply")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    api.settle().await;
    let page = requester.get(&format!("/ui/tickets/{number}/")).await;
    assert!(!page.body.contains("looking"), "internal notes stay internal");
    assert!(page.body.contains("public reply"));
    let list = requester.get("/ui/notifications/").await;
    assert!(list.body.contains("class=\"unread\""), "{}", list.body);
    assert!(list.body.contains("class=\"badge\""), "the header's unread badge");
    let p = requester
        .post("/ui/notifications/read", &[("csrf", &list.csrf())])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let list = requester.get("/ui/notifications/").await;
    assert!(!list.body.contains("class=\"unread\""), "all read");
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
async fn the_profile_changes_details_and_the_password_ending_only_the_other_sessions() {
    let api = Api::new().await;
    let mut here = Browser::sign_in(&api, EMPLOYEE).await;
    let mut elsewhere = Browser::sign_in(&api, EMPLOYEE).await;
    let page = here.get("/ui/profile").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(EMPLOYEE) && page.body.contains("name=\"email_notifications\" value=\"on\" checked"));
    let p = here
        .post("/ui/profile", &[("csrf", &page.csrf()), ("full_name", "Emma Ployee")])
        .await;
    assert_eq!(
        (p.status, p.location()),
        (StatusCode::SEE_OTHER, "/ui/profile?saved=details")
    );
    let page = here.get("/ui/profile?saved=details").await;
    assert!(
        page.body.contains("value=\"Emma Ployee\"") && !page.body.contains("value=\"on\" checked"),
        "e-mail off"
    );
    let p = here
        .post(
            "/ui/profile/password",
            &[
                ("csrf", &page.csrf()),
                ("current_password", "nope"),
                ("new_password", "a-new-pass-456"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("class=\"field-error\">does not match"), "{}", p.body);
    let p = here
        .post(
            "/ui/profile/password",
            &[
                ("csrf", &page.csrf()),
                ("current_password", PASSWORD),
                ("new_password", "a-new-pass-456"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(
        here.get("/ui/profile").await.status,
        StatusCode::OK,
        "this session goes on"
    );
    assert_eq!(
        elsewhere.get("/ui/profile").await.status,
        StatusCode::SEE_OTHER,
        "the other one ended"
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
async fn admins_manage_users_and_role_members_by_form_and_nobody_else_may() {
    let api = Api::new().await;
    let mut agent = Browser::sign_in(&api, IT1).await;
    assert_eq!(agent.get("/ui/users/").await.status, StatusCode::FORBIDDEN);
    let csrf = agent.get("/ui").await.csrf();
    let p = agent
        .post(
            "/ui/users/",
            &[("csrf", &csrf), ("email", "x@example.com"), ("full_name", "X")],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);

    let mut admin = Browser::sign_in(&api, ADMIN).await;
    let page = admin.get("/ui/users/").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.csrf();
    let p = admin
        .post(
            "/ui/users/",
            &[
                ("csrf", &csrf),
                ("email", "new.agent@example.com"),
                ("full_name", "New Agent"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "a too-short password");
    assert!(p.body.contains("class=\"field-error\""), "{}", p.body);
    let p = admin
        .post(
            "/ui/users/",
            &[
                ("csrf", &csrf),
                ("email", "new.agent@example.com"),
                ("full_name", "New Agent"),
                ("password", "long-enough-pass"),
            ],
        )
        .await;
    assert_eq!((p.status, p.location()), (StatusCode::SEE_OTHER, "/ui/users/?saved=1"));
    let dup = admin
        .post(
            "/ui/users/",
            &[
                ("csrf", &csrf),
                ("email", "new.agent@example.com"),
                ("full_name", "Again"),
            ],
        )
        .await;
    assert!(
        dup.status == StatusCode::CONFLICT || dup.status == StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        dup.status
    );

    // Add the new user to the first role, deactivate the membership, then remove it.
    let page = admin.get("/ui/users/").await;
    let at = page.body.find("name=\"role\" value=\"").expect("a role") + 19;
    let role = page.body[at..at + 36].to_string();
    let p = admin
        .post(
            "/ui/roles/members",
            &[
                ("csrf", &csrf),
                ("role", &role),
                ("op", "add"),
                ("email", "new.agent@example.com"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let page = admin.get("/ui/users/").await;
    let user_at = page.body.find("<td>new.agent@example.com</td>").expect("listed");
    let id_at = page.body[user_at..].find("name=\"user\" value=\"").expect("user id") + user_at + 19;
    let user = page.body[id_at..id_at + 36].to_string();
    for op in ["deactivate", "activate", "remove"] {
        let p = admin
            .post(
                "/ui/roles/members",
                &[("csrf", &csrf), ("role", &role), ("op", op), ("user", &user)],
            )
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{op}: {}", p.body);
    }
    let p = admin
        .post(
            "/ui/users/active",
            &[("csrf", &csrf), ("user", &user), ("active", "false")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let mut gone = Browser::new(&api);
    let p = gone
        .post(
            "/ui/signin",
            &[("email", "new.agent@example.com"), ("password", "long-enough-pass")],
        )
        .await;
    assert!(
        p.location().contains("problem=invalid"),
        "a deactivated user cannot sign in"
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

#[tokio::test]
async fn ui_writes_on_another_users_ticket_are_refused_as_the_api_refuses_them() {
    let api = Api::new().await;
    let mut owner = Browser::sign_in(&api, EMPLOYEE).await;
    let number = owner.file_ticket("mine alone").await;
    api.settle().await;
    let id = api
        .get(&format!("/tickets/{number}/"), &api.login(EMPLOYEE).await)
        .await
        .body["id"]
        .clone();
    for who in [common::ASSET1, IT2] {
        let token = api.login(who).await;
        let rest = api
            .post(
                &format!("/tickets/{id}/comments/"),
                &token,
                serde_json::json!({"content": "hi"}),
            )
            .await
            .status;
        let mut b = Browser::sign_in(&api, who).await;
        let csrf = b.get("/ui").await.csrf();
        let ui = b
            .post(
                &format!("/ui/tickets/{number}/comments"),
                &[("csrf", &csrf), ("content", "hi")],
            )
            .await
            .status;
        let expected = if rest.is_success() { StatusCode::SEE_OTHER } else { rest };
        assert_eq!(ui, expected, "{who}: commenting");
        let acted = b
            .post(
                &format!("/ui/tickets/{number}/act"),
                &[("csrf", &csrf), ("action", &uuid::Uuid::nil().to_string())],
            )
            .await
            .status;
        assert!(
            acted == StatusCode::FORBIDDEN || acted == StatusCode::NOT_FOUND,
            "{who}: acting gives {acted}"
        );
    }
}

/// The agent of `candidates` whose ticket page offers actions, with that page.
async fn holder<'a>(api: &'a Api, number: &str, candidates: &[&str]) -> Option<(Browser<'a>, Page)> {
    for who in candidates {
        let mut b = Browser::sign_in(api, who).await;
        let page = b.get(&format!("/ui/tickets/{number}/")).await;
        if page.body.contains("name=\"action\"") {
            return Some((b, page));
        }
    }
    None
}

#[tokio::test]
async fn the_holder_transfers_the_step_to_another_member_of_its_role() {
    let api = Api::new().await;
    let mut requester = Browser::sign_in(&api, EMPLOYEE).await;
    let number = requester.file_ticket("hand me on").await;
    api.settle().await;
    // The admin triages (the first action leads on to the IT agents' step).
    let (mut admin, page) = holder(&api, &number, &[ADMIN]).await.expect("the admin triages");
    let at = page.body.find("name=\"action\" value=\"").expect("an action") + 21;
    let action = page.body[at..at + 36].to_string();
    let p = admin
        .post(
            &format!("/ui/tickets/{number}/act"),
            &[("csrf", &page.csrf()), ("action", &action), ("notes", "")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    api.settle().await;
    let (mut from, page) = holder(&api, &number, &[IT1, IT2]).await.expect("an IT agent holds it");
    assert!(page.body.contains("name=\"to\""), "a transfer form: {}", page.body);
    let at = page.body.find("<option value=\"").expect("a member") + 15;
    let to = page.body[at..at + 36].to_string();
    let p = from
        .post(
            &format!("/ui/tickets/{number}/transfer"),
            &[("csrf", &page.csrf()), ("to", &to), ("notes", "yours")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let after = from.get(&format!("/ui/tickets/{number}/")).await;
    assert!(!after.body.contains("name=\"action\""), "the step left the first agent");
    assert!(
        holder(&api, &number, &[IT1, IT2]).await.is_some(),
        "the other agent holds it"
    );
}

#[tokio::test]
async fn the_ticket_page_lists_its_files_and_downloads_them_with_the_api_rules() {
    let api = Api::new().await;
    let mut requester = Browser::sign_in(&api, EMPLOYEE).await;
    let number = requester.file_ticket("with a file").await;
    let token = api.login(EMPLOYEE).await;
    let up = api
        .upload(
            &format!("/tickets/{number}/attachments/"),
            &token,
            "notes.txt",
            "text/plain",
            b"hello file",
        )
        .await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.body);
    let page = requester.get(&format!("/ui/tickets/{number}/")).await;
    let at = page.body.find("/attachments/").expect("a download link") + 13;
    let aid = page.body[at..at + 36].to_string();
    assert!(page.body.contains(">notes.txt</a>"));
    let file = requester.get(&format!("/ui/tickets/{number}/attachments/{aid}")).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.body, "hello file");
    assert!(
        file.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .expect("disposition")
            .starts_with("attachment")
    );
    let mut stranger = Browser::sign_in(&api, common::ASSET1).await;
    let refused = stranger
        .get(&format!("/ui/tickets/{number}/attachments/{aid}"))
        .await
        .status;
    assert!(
        refused == StatusCode::NOT_FOUND || refused == StatusCode::FORBIDDEN,
        "{refused}"
    );
}

#[tokio::test]
async fn files_are_uploaded_from_the_ticket_page_with_the_session_token_first() {
    let api = Api::new().await;
    let mut requester = Browser::sign_in(&api, EMPLOYEE).await;
    let number = requester.file_ticket("upload here").await;
    let page = requester.get(&format!("/ui/tickets/{number}/")).await;
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    let path = format!("/ui/tickets/{number}/attachments");
    let refused = requester.post_file(&path, &[], "a.txt", b"no token").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = requester
        .post_file(&path, &[("csrf", &"0".repeat(64))], "a.txt", b"bad token")
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let p = requester
        .post_file(&path, &[("csrf", &page.csrf())], "report.txt", b"the report")
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let big = vec![b'a'; 3 * 1024 * 1024];
    let p = requester
        .post_file(&path, &[("csrf", &page.csrf())], "big.txt", &big)
        .await;
    assert_eq!(
        p.status,
        StatusCode::SEE_OTHER,
        "files go up to the upload limit, past the form limit"
    );
    let page = requester.get(&format!("/ui/tickets/{number}/")).await;
    assert!(page.body.contains(">report.txt</a>"), "{}", page.body);
    let mut stranger = Browser::sign_in(&api, common::ASSET1).await;
    let csrf = stranger.get("/ui").await.csrf();
    let theirs = stranger
        .post_file(&path, &[("csrf", &csrf)], "x.txt", b"not yours")
        .await;
    assert!(
        theirs.status == StatusCode::NOT_FOUND || theirs.status == StatusCode::FORBIDDEN,
        "{}",
        theirs.status
    );
}
