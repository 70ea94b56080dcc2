//! The web UI's forms over HTTP, in-process, without JavaScript (post, 303, get): filing a ticket (its
//! text escaped), field errors, CSRF and origin checks, acting, transferring, comments, notifications,
//! files, the profile, users and roles, and cross-user writes refused as the API refuses them.

#![cfg(feature = "ui")]

mod common;

use axum::http::{StatusCode, header};
use common::browser::{Browser, holder};
use common::{ADMIN, Api, EMPLOYEE, IT1, IT2, PASSWORD};

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
