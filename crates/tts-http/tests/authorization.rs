//! Object-level authorization: every route of the router that takes an object id is called by users who
//! must not reach the object. The list of routes comes from the OpenAPI document, which is generated from
//! the same handlers the router mounts, so a new route without a case here fails the test.

mod common;

use axum::http::Method;
use common::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// One cross-user case: who calls, and the status they must get.
struct Case {
    method: Method,
    template: &'static str,
    path: String,
    body: Option<Value>,
    /// (caller token, expected status, why).
    expect: Vec<(String, u16, &'static str)>,
}

#[tokio::test]
async fn every_route_with_an_object_id_refuses_other_users() {
    let api = Api::new().await;
    let employee = api.login(EMPLOYEE).await;
    let admin = api.login(ADMIN).await;
    // A second requester and an agent who never held the ticket.
    let other_req = api
        .post(
            "/api/v1/users/",
            &admin,
            json!({"email": "other@example.com", "full_name": "Other Requester", "password": PASSWORD}),
        )
        .await
        .expect(201)
        .body;
    let other = api.login("other@example.com").await;
    let stranger_agent = api.login(ASSET1).await;

    let ticket = api.open_ticket(&employee, "Printer on fire").await;
    let tid = ticket["id"].as_i64().expect("id").to_string();
    let number = ticket["ticket_id"].as_str().expect("number").to_string();
    let task = api.open_tasks(&admin).await.pop().expect("admin triages");
    let notification = api.get("/notifications/", &admin).await.expect(200).body["results"][0]["id"]
        .as_str()
        .expect("admin was notified")
        .to_string();
    let roles = api.get("/api/v1/tts/roles/", &admin).await.expect(200).body;
    let role = roles["results"][0]["id"].as_str().expect("role").to_string();
    let workflow = api.get("/workflows/", &admin).await.expect(200).body["results"][0]["id"]
        .as_str()
        .expect("workflow")
        .to_string();
    let task_workflow = api.get(&format!("/tasks/{task}/"), &admin).await.expect(200).body["workflow_id"]
        .as_str()
        .expect("the task's workflow")
        .to_string();
    let user = other_req["id"].as_str().expect("user").to_string();
    let attachment = api
        .upload(
            &format!("/tickets/{tid}/attachments/"),
            &employee,
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
    let comment = api
        .post(
            &format!("/tickets/{tid}/comments/"),
            &employee,
            json!({"content": "mine"}),
        )
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .expect("comment")
        .to_string();
    let letter = tts_core::uuid::Uuid::now_v7();
    let action = api
        .get(&format!("/tasks/{task}/available-actions/"), &admin)
        .await
        .expect(200)
        .body["actions"][0]["action_id"]
        .as_str()
        .expect("action")
        .to_string();

    let outsiders =
        |code: u16, why: &'static str| vec![(other.clone(), code, why), (stranger_agent.clone(), code, why)];
    let hidden = "another user's object is not found";
    let admin_only = "admin-only route";
    let shared = "shared configuration every user may read";
    let case = |method: Method, template: &'static str, path: String, body: Option<Value>, expect| Case {
        method,
        template,
        path,
        body,
        expect,
    };
    let cases = vec![
        case(
            Method::GET,
            "/tickets/{id}/",
            format!("/tickets/{tid}/"),
            None,
            outsiders(404, hidden),
        ),
        case(
            Method::GET,
            "/tickets/{id}/",
            format!("/tickets/{number}/"),
            None,
            outsiders(404, hidden),
        ),
        case(
            Method::PUT,
            "/tickets/{id}/",
            format!("/tickets/{tid}/"),
            Some(json!({"subject": "mine now", "category": "X"})),
            outsiders(404, hidden),
        ),
        case(
            Method::PATCH,
            "/tickets/{id}/",
            format!("/tickets/{tid}/"),
            Some(json!({"subject": "mine now"})),
            outsiders(404, hidden),
        ),
        case(
            Method::DELETE,
            "/tickets/{id}/",
            format!("/tickets/{tid}/"),
            None,
            outsiders(404, hidden),
        ),
        case(
            Method::POST,
            "/tickets/{id}/push_to_workflow/",
            format!("/tickets/{tid}/push_to_workflow/"),
            None,
            outsiders(404, hidden),
        ),
        case(
            Method::GET,
            "/tickets/{id}/history/",
            format!("/tickets/{tid}/history/"),
            None,
            outsiders(404, hidden),
        ),
        case(
            Method::GET,
            "/tickets/{id}/attachments/",
            format!("/tickets/{tid}/attachments/"),
            None,
            outsiders(404, hidden),
        ),
        case(
            Method::POST,
            "/tickets/{id}/attachments/",
            format!("/tickets/{tid}/attachments/"),
            None,
            outsiders(404, hidden),
        ),
        case(
            Method::GET,
            "/tickets/{id}/attachments/{aid}/",
            format!("/tickets/{tid}/attachments/{attachment}/"),
            None,
            outsiders(404, hidden),
        ),
        case(
            Method::DELETE,
            "/tickets/{id}/attachments/{aid}/",
            format!("/tickets/{tid}/attachments/{attachment}/"),
            None,
            outsiders(404, hidden),
        ),
        case(
            Method::GET,
            "/tickets/{id}/events/",
            format!("/tickets/{tid}/events/?after=2000-01-01T00:00:00Z"),
            None,
            outsiders(404, hidden),
        ),
        case(
            Method::GET,
            "/tickets/{id}/comments/",
            format!("/tickets/{tid}/comments/"),
            None,
            outsiders(404, hidden),
        ),
        case(
            Method::POST,
            "/tickets/{id}/comments/",
            format!("/tickets/{tid}/comments/"),
            Some(json!({"content": "let me in"})),
            outsiders(404, hidden),
        ),
        case(
            Method::PATCH,
            "/tickets/{id}/comments/{cid}/",
            format!("/tickets/{tid}/comments/{comment}/"),
            Some(json!({"content": "mine now"})),
            vec![
                (other.clone(), 404, hidden),
                (stranger_agent.clone(), 404, hidden),
                (admin.clone(), 200, "admins may edit any comment"),
            ],
        ),
        case(
            Method::DELETE,
            "/tickets/{id}/comments/{cid}/",
            format!("/tickets/{tid}/comments/{comment}/"),
            None,
            outsiders(404, hidden),
        ),
        case(
            Method::GET,
            "/tasks/{id}/",
            format!("/tasks/{task}/"),
            None,
            outsiders(404, hidden),
        ),
        case(
            Method::GET,
            "/tasks/{id}/available-actions/",
            format!("/tasks/{task}/available-actions/"),
            None,
            outsiders(404, hidden),
        ),
        case(
            Method::POST,
            "/tasks/{id}/action/",
            format!("/tasks/{task}/action/"),
            Some(json!({"action_id": action, "comment": "not mine"})),
            outsiders(404, hidden),
        ),
        case(
            Method::POST,
            "/tasks/{id}/escalate/",
            format!("/tasks/{task}/escalate/"),
            Some(json!({"reason": "not mine"})),
            outsiders(404, hidden),
        ),
        case(
            Method::POST,
            "/tasks/{id}/transfer/",
            format!("/tasks/{task}/transfer/"),
            Some(json!({"user_id": user, "notes": "not mine"})),
            outsiders(404, hidden),
        ),
        case(
            Method::GET,
            "/tasks/{id}/history/",
            format!("/tasks/{task}/history/"),
            None,
            outsiders(404, hidden),
        ),
        case(
            Method::PATCH,
            "/notifications/{id}/",
            format!("/notifications/{notification}/"),
            Some(json!({"is_read": true})),
            vec![
                (other.clone(), 404, hidden),
                (stranger_agent.clone(), 404, hidden),
                (employee.clone(), 404, hidden),
            ],
        ),
        case(
            Method::PATCH,
            "/api/v1/users/{id}/",
            format!("/api/v1/users/{user}/"),
            Some(json!({"full_name": "Hijacked"})),
            vec![(other.clone(), 403, admin_only), (employee.clone(), 403, admin_only)],
        ),
        case(
            Method::GET,
            "/api/v1/tts/roles/{role_id}/users/",
            format!("/api/v1/tts/roles/{role}/users/"),
            None,
            vec![
                (other.clone(), 403, "members' e-mails are for staff only"),
                (stranger_agent.clone(), 200, "agents see who holds a role"),
            ],
        ),
        case(
            Method::PUT,
            "/api/v1/tts/roles/{role_id}/users/{user_id}/",
            format!("/api/v1/tts/roles/{role}/users/{user}/"),
            None,
            outsiders(403, admin_only),
        ),
        case(
            Method::DELETE,
            "/api/v1/tts/roles/{role_id}/users/{user_id}/",
            format!("/api/v1/tts/roles/{role}/users/{user}/"),
            None,
            outsiders(403, admin_only),
        ),
        case(
            Method::GET,
            "/workflows/{id}/",
            format!("/workflows/{workflow}/"),
            None,
            outsiders(200, shared),
        ),
        case(
            Method::PUT,
            "/workflows/{id}/",
            format!("/workflows/{workflow}/"),
            Some(json!({"name": "x", "match_key": {"category": "x"}, "steps": [], "transitions": []})),
            outsiders(403, admin_only),
        ),
        case(
            Method::DELETE,
            "/workflows/{id}/",
            format!("/workflows/{workflow}/"),
            None,
            outsiders(403, admin_only),
        ),
        case(
            Method::POST,
            "/workflows/{id}/publish/",
            format!("/workflows/{workflow}/publish/"),
            None,
            outsiders(403, admin_only),
        ),
        case(
            Method::POST,
            "/workflows/{id}/pause/",
            format!("/workflows/{workflow}/pause/"),
            None,
            outsiders(403, admin_only),
        ),
        case(
            Method::GET,
            "/workflows/{id}/validate/",
            format!("/workflows/{workflow}/validate/"),
            None,
            outsiders(200, shared),
        ),
        case(
            Method::GET,
            "/workflows/{id}/diagram/",
            format!("/workflows/{workflow}/diagram/"),
            None,
            outsiders(200, shared),
        ),
        case(
            Method::GET,
            "/workflows/{id}/diagram/",
            format!("/workflows/{task_workflow}/diagram/?task={task}"),
            None,
            outsiders(404, hidden),
        ),
        case(
            Method::POST,
            "/admin/dead-letters/{id}/replay/",
            format!("/admin/dead-letters/{letter}/replay/"),
            None,
            outsiders(403, admin_only),
        ),
        case(
            Method::DELETE,
            "/admin/dead-letters/{id}/",
            format!("/admin/dead-letters/{letter}/"),
            None,
            outsiders(403, admin_only),
        ),
    ];

    // Every (method, path) with a path parameter in the generated document has a case.
    let doc = serde_json::to_value(tts_http::openapi()).expect("openapi");
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if !path.contains('{') {
            continue;
        }
        for method in item.as_object().expect("item").keys() {
            if ["get", "put", "post", "patch", "delete"].contains(&method.as_str()) {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let covered: BTreeSet<_> = cases
        .iter()
        .map(|c| (c.method.to_string(), c.template.to_string()))
        .collect();
    let missing: Vec<_> = routes.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "routes with an object id but no cross-user case: {missing:?}"
    );

    for c in &cases {
        for (token, want, why) in &c.expect {
            let reply = api.call(c.method.clone(), &c.path, Some(token), c.body.clone()).await;
            assert_eq!(
                reply.status.as_u16(),
                *want,
                "{} {} ({why}) gave {}",
                c.method,
                c.path,
                reply.body
            );
        }
    }

    // Nothing above changed the ticket, and its owner still sees it.
    let after = api.get(&format!("/tickets/{tid}/"), &employee).await.expect(200).body;
    assert_eq!(after["subject"], "Printer on fire");
    assert_eq!(after["status"], "open");
    // The admin (who holds the task) sees the task; the requester sees the ticket but cannot act.
    api.get(&format!("/tasks/{task}/"), &admin).await.expect(200);
    let refused = api
        .post(
            &format!("/tasks/{task}/action/"),
            &employee,
            json!({"action_id": action, "comment": "me"}),
        )
        .await;
    assert!(matches!(refused.status.as_u16(), 403 | 404), "{}", refused.body);
}

#[tokio::test]
async fn lists_show_only_what_the_caller_may_see() {
    let api = Api::new().await;
    let employee = api.login(EMPLOYEE).await;
    let admin = api.login(ADMIN).await;
    let stranger = api.login(ASSET1).await;
    api.open_ticket(&employee, "one").await;
    api.open_ticket(&employee, "two").await;
    assert_eq!(api.get("/tickets/", &employee).await.expect(200).body["count"], 2);
    assert_eq!(api.get("/tickets/", &admin).await.expect(200).body["count"], 2);
    assert_eq!(api.get("/tickets/", &stranger).await.expect(200).body["count"], 0);
    assert_eq!(api.get("/tasks/", &stranger).await.expect(200).body["count"], 0);
    assert_eq!(api.get("/notifications/", &stranger).await.expect(200).body["count"], 0);
    api.get("/tasks/?all=true", &stranger).await.expect(403);
    assert_eq!(api.get("/tasks/?all=true", &admin).await.expect(200).body["count"], 2);
    api.get("/api/v1/users/", &employee).await.expect(403);
}
