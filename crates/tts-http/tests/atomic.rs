//! Every request is one command: when the second half of a handler's work fails, nothing of the first
//! half is kept. Each test breaks the last write of a handler's command (through the `FaultyStore` under
//! the engine) or its last rule, then shows the state is as before the request.

mod common;

use axum::http::Method;
use common::{ADMIN, Api, EMPLOYEE, PASSWORD};
use serde_json::json;

#[tokio::test]
async fn patch_ticket_keeps_the_fields_when_the_status_move_fails() {
    let api = Api::new().await;
    let employee = api.login(EMPLOYEE).await;
    let t = api
        .post(
            "/tickets/",
            &employee,
            json!({"subject": "Before", "category": "Catering", "priority": "low"}),
        )
        .await
        .expect(201)
        .body;
    let path = format!("/tickets/{}/", t["id"]);
    // The requester may edit the subject but not resolve their own ticket: 403, and the subject stays.
    api.call(
        Method::PATCH,
        &path,
        Some(&employee),
        Some(json!({"subject": "After", "status": "resolved"})),
    )
    .await
    .expect(403);
    let admin = api.login(ADMIN).await;
    // Open -> closed is not in the status table: 409, and the subject stays.
    api.call(
        Method::PATCH,
        &path,
        Some(&admin),
        Some(json!({"subject": "After", "status": "closed"})),
    )
    .await
    .expect(409);
    let now = api.get(&path, &employee).await.expect(200).body;
    assert_eq!(now["subject"], "Before");
    assert_eq!(now["status"], "open");
    // Both together succeed together.
    let done = api
        .call(
            Method::PATCH,
            &path,
            Some(&employee),
            Some(json!({"subject": "After", "status": "withdrawn"})),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(
        (done["subject"].as_str(), done["status"].as_str()),
        (Some("After"), Some("withdrawn"))
    );
}

#[tokio::test]
async fn creating_a_user_keeps_nothing_when_their_password_cannot_be_stored() {
    let api = Api::new().await;
    let admin = api.login(ADMIN).await;
    let before = api.get("/api/v1/users/", &admin).await.expect(200).body["count"].clone();
    let new = json!({"email": "new.hire@example.com", "full_name": "New Hire", "password": "a long secret"});
    api.faults.fail_next("set_credential");
    let failed = api
        .call_unchecked(Method::POST, "/api/v1/users/", Some(&admin), new.clone())
        .await;
    assert_eq!(failed.status.as_u16(), 503, "{}", failed.body);
    assert_eq!(
        api.get("/api/v1/users/", &admin).await.expect(200).body["count"],
        before
    );
    // The retry creates the user (no 409 from a half-created one) and the password logs in.
    api.post("/api/v1/users/", &admin, new).await.expect(201);
    api.call(
        Method::POST,
        "/api/v1/users/token/",
        None,
        Some(json!({"username": "new.hire@example.com", "password": "a long secret"})),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn a_profile_change_keeps_the_old_password_when_the_name_part_fails() {
    let api = Api::new().await;
    let employee = api.login(EMPLOYEE).await;
    let change = json!({"full_name": "Renamed", "password": "a brand new secret", "current_password": PASSWORD});
    // The last write of the command (ending the other sessions) fails.
    api.faults.fail_next("end_sessions");
    let failed = api
        .call_unchecked(Method::PATCH, "/api/v1/users/profile/", Some(&employee), change.clone())
        .await;
    assert_eq!(failed.status.as_u16(), 503, "{}", failed.body);
    let profile = api.get("/api/v1/users/profile/", &employee).await.expect(200).body;
    assert_ne!(profile["full_name"], "Renamed");
    api.login(EMPLOYEE).await;
    // Done for real: the name changes, the old password stops, the caller's session goes on.
    let done = api
        .call(Method::PATCH, "/api/v1/users/profile/", Some(&employee), Some(change))
        .await
        .expect(200)
        .body;
    assert_eq!(done["full_name"], "Renamed");
    api.call(
        Method::POST,
        "/api/v1/users/token/",
        None,
        Some(json!({"username": EMPLOYEE, "password": PASSWORD})),
    )
    .await
    .expect(401);
    api.get("/api/v1/users/profile/", &employee).await.expect(200);
}

#[tokio::test]
async fn an_email_change_keeps_the_old_email_when_the_login_cannot_move() {
    let api = Api::new().await;
    let admin = api.login(ADMIN).await;
    let me = api
        .get("/api/v1/users/profile/", &api.login(EMPLOYEE).await)
        .await
        .expect(200)
        .body;
    let path = format!("/api/v1/users/{}/", me["id"].as_str().expect("id"));
    api.faults.fail_next("set_credential");
    let failed = api
        .call_unchecked(
            Method::PATCH,
            &path,
            Some(&admin),
            json!({"email": "moved@example.com"}),
        )
        .await;
    assert_eq!(failed.status.as_u16(), 503, "{}", failed.body);
    let users = api.get("/api/v1/users/?page_size=100", &admin).await.expect(200).body;
    let emails: Vec<&str> = users["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|u| u["email"].as_str())
        .collect();
    assert!(
        emails.contains(&EMPLOYEE) && !emails.contains(&"moved@example.com"),
        "{emails:?}"
    );
    api.login(EMPLOYEE).await;
}

#[tokio::test]
async fn a_503_never_carries_backend_text() {
    let api = Api::new().await;
    let admin = api.login(ADMIN).await;
    api.faults.fail_next("set_credential");
    let failed = api
        .call_unchecked(
            Method::POST,
            "/api/v1/users/",
            Some(&admin),
            json!({"email": "x@example.com", "full_name": "X", "password": "a long secret"}),
        )
        .await;
    assert_eq!(failed.status.as_u16(), 503);
    let detail = failed.body["detail"].as_str().unwrap_or_default();
    assert!(!detail.contains("injected") && !detail.contains("faulty"), "{detail}");
}
