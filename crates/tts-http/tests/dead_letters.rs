//! `/admin/dead-letters/`: admins list, replay and delete messages no consumer will try again; nobody
//! else may see them. An unroutable ticket says why on the ticket instead of becoming a dead letter.

mod common;

use axum::http::Method;
use common::{ADMIN, Api, EMPLOYEE, IT1};
use serde_json::json;
use tts_core::ports::store::UnitOptions;
use tts_core::{Consumer, DomainEvent, MessageId, OutboxMessage, TicketId};

/// Puts an allocation request for a ticket that does not exist on the allocation queue and lets the
/// consumer fail on it: a dead letter.
async fn dead_letter(api: &Api) -> MessageId {
    let id = MessageId(tts_core::uuid::Uuid::now_v7());
    let message = OutboxMessage {
        id,
        event: DomainEvent::AllocationRequested {
            ticket: TicketId(987_654),
        },
        created_at: chrono::Utc::now(),
        queue: Some(api.engine.consumer_queue(Consumer::Allocation).to_string()),
    };
    let mut tx = api.engine.store().begin(UnitOptions::write()).await.expect("unit");
    tx.insert_outbox(vec![message]).await.expect("outbox");
    tx.commit().await.expect("commit");
    api.engine.drain(Consumer::Allocation).await.expect("consume");
    id
}

#[tokio::test]
async fn admins_list_replay_and_delete_dead_letters() {
    let api = Api::new().await;
    let admin = api.login(ADMIN).await;
    let empty = api.get("/admin/dead-letters/", &admin).await.expect(200);
    assert_eq!(empty.body["count"], 0);

    let id = dead_letter(&api).await;
    let list = api.get("/admin/dead-letters/", &admin).await.expect(200);
    assert_eq!(list.body["count"], 1, "{}", list.body);
    let letter = &list.body["results"][0];
    assert_eq!(letter["id"], id.to_string());
    assert_eq!(letter["kind"], "ticket.allocation_requested");
    assert_eq!(letter["queue"], "TICKET_TASKS_PRODUCTION");
    assert_eq!(letter["attempts"], 1, "a failure that cannot pass is not retried");
    assert!(
        letter["error"].as_str().expect("error").contains("not found"),
        "{letter}"
    );
    assert_eq!(letter["payload"]["ticket"], 987_654);

    // Replayed, it fails the same way and comes back; then it is deleted for good.
    let path = format!("/admin/dead-letters/{id}/");
    api.post(&format!("{path}replay/"), &admin, json!({})).await.expect(202);
    assert_eq!(
        api.get("/admin/dead-letters/", &admin).await.body["count"],
        0,
        "replayed: on the queue"
    );
    api.engine.drain(Consumer::Allocation).await.expect("consume");
    assert_eq!(api.get("/admin/dead-letters/", &admin).await.body["count"], 1);
    api.call(Method::DELETE, &path, Some(&admin), None).await.expect(204);
    api.call(Method::DELETE, &path, Some(&admin), None).await.expect(404);
    api.post(&format!("{path}replay/"), &admin, json!({})).await.expect(404);
    api.call(Method::DELETE, "/admin/dead-letters/not-an-id/", Some(&admin), None)
        .await
        .expect(404);
}

#[tokio::test]
async fn only_admins_see_or_touch_dead_letters() {
    let api = Api::new().await;
    let id = dead_letter(&api).await;
    let path = format!("/admin/dead-letters/{id}/");
    for email in [EMPLOYEE, IT1] {
        let token = api.login(email).await;
        api.get("/admin/dead-letters/", &token).await.expect(403);
        api.post(&format!("{path}replay/"), &token, json!({})).await.expect(403);
        api.call(Method::DELETE, &path, Some(&token), None).await.expect(403);
    }
    api.call(Method::GET, "/admin/dead-letters/", None, None)
        .await
        .expect(401);
    let admin = api.login(ADMIN).await;
    assert_eq!(
        api.get("/admin/dead-letters/", &admin).await.body["count"],
        1,
        "still there"
    );
}

#[tokio::test]
async fn an_unroutable_ticket_says_why_and_the_admin_is_told() {
    let api = Api::new().await;
    let employee = api.login(EMPLOYEE).await;
    let admin = api.login(ADMIN).await;
    // The demo's default workflow takes every ticket: pause it.
    let workflows = api.get("/workflows/", &admin).await.expect(200).body;
    let default = workflows["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|w| w["is_default"] == true)
        .expect("a default workflow")["id"]
        .as_str()
        .expect("id")
        .to_string();
    api.post(&format!("/workflows/{default}/pause/"), &admin, json!(null))
        .await
        .expect(200);
    let created = api
        .post(
            "/tickets/",
            &employee,
            json!({"subject": "Coffee", "description": "The machine leaks", "category": "Kitchen Appliances"}),
        )
        .await
        .expect(201);
    assert_eq!(created.body["unroutable"], serde_json::Value::Null);
    api.settle().await;
    let id = created.body["id"].as_i64().expect("id");
    let ticket = api.get(&format!("/tickets/{id}/"), &employee).await.expect(200);
    assert_eq!(ticket.body["is_task_allocated"], false);
    let reason = ticket.body["unroutable"].as_str().expect("a reason").to_string();
    assert!(reason.contains("Kitchen Appliances"), "{reason}");
    let listed = api.get("/tickets/?is_task_allocated=false", &admin).await.expect(200);
    assert_eq!(listed.body["count"], 1);
    let notes = api.get("/notifications/", &admin).await.expect(200);
    let kinds: Vec<_> = notes.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|n| n["type"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(kinds, ["ticket_unroutable"], "{}", notes.body);
    assert_eq!(
        api.get("/admin/dead-letters/", &admin).await.body["count"],
        0,
        "not a failure"
    );
}
