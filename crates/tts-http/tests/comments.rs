//! Comments over HTTP: the thread each caller sees, internal notes kept from the requester by every
//! route (comments, histories, notifications), mentions, replies, edits, deletes and bad input.

mod common;

use common::*;
use serde_json::{Value, json};

async fn comment(api: &Api, token: &str, ticket: i64, body: Value) -> Reply {
    api.post(&format!("/tickets/{ticket}/comments/"), token, body).await
}

fn contents(list: &Value) -> Vec<String> {
    list["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|c| c["content"].as_str().expect("content").to_string())
        .collect()
}

#[tokio::test]
async fn a_requester_never_reads_an_internal_note_by_any_route() {
    let api = Api::new().await;
    let employee = api.login(EMPLOYEE).await;
    let admin = api.login(ADMIN).await;
    let ticket = api.open_ticket(&employee, "Noisy fan").await;
    let id = ticket["id"].as_i64().expect("id");
    let number = ticket["ticket_id"].as_str().expect("number").to_string();

    let asked = comment(&api, &employee, id, json!({"content": "It <b>rattles</b> at night"}))
        .await
        .expect(201)
        .body;
    assert_eq!(
        asked["content"], "It <b>rattles</b> at night",
        "text is kept as written, never as HTML"
    );
    assert_eq!(asked["is_internal"], false);
    let secret = format!("secret diagnosis @{EMPLOYEE}");
    let note = comment(&api, &admin, id, json!({"content": secret, "is_internal": true}))
        .await
        .expect(201)
        .body;
    let reply = comment(
        &api,
        &admin,
        id,
        json!({"content": "secret follow-up", "is_internal": true, "parent_id": note["id"]}),
    )
    .await
    .expect(201)
    .body;
    assert_eq!(reply["parent_id"], note["id"]);
    let note_path = format!("/tickets/{id}/comments/{}/", note["id"].as_str().unwrap());
    let edited = api
        .call(
            axum::http::Method::PATCH,
            &note_path,
            Some(&admin),
            Some(json!({"content": "secret revised"})),
        )
        .await;
    assert_eq!(edited.status.as_u16(), 200, "{}", edited.body);
    api.settle().await;

    // By number or id, the requester's thread has only the public comment.
    let theirs = api
        .get(&format!("/tickets/{number}/comments/"), &employee)
        .await
        .expect(200)
        .body;
    assert_eq!(contents(&theirs), vec!["It <b>rattles</b> at night".to_string()]);
    assert_eq!(theirs["count"], 1);
    let staff = api
        .get(&format!("/tickets/{id}/comments/"), &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(staff["count"], 3);
    for route in [
        format!("/tickets/{id}/comments/"),
        format!("/tickets/{id}/history/"),
        "/notifications/".to_string(),
        format!("/tickets/{id}/"),
    ] {
        let seen = api.get(&route, &employee).await.expect(200).body.to_string();
        assert!(!seen.contains("secret"), "the requester read a note at {route}: {seen}");
    }
    let note_id = note["id"].as_str().unwrap();
    api.get(&format!("/tickets/{id}/comments/{note_id}/"), &employee)
        .await
        .expect(405);
    let edit = api
        .call(
            axum::http::Method::PATCH,
            &format!("/tickets/{id}/comments/{note_id}/"),
            Some(&employee),
            Some(json!({"content": "x"})),
        )
        .await;
    assert_eq!(
        edit.status.as_u16(),
        404,
        "the note does not exist for the requester: {}",
        edit.body
    );

    // The requester's history names who acted.
    let theirs = api
        .get(&format!("/tickets/{id}/history/"), &employee)
        .await
        .expect(200)
        .body;
    let added = theirs["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "comment.added")
        .expect("their comment is in their history");
    assert!(added["actor_name"].as_str().is_some_and(|n| !n.is_empty()), "{added}");

    // The staff history keeps the previous text of the edit.
    let history = api
        .get(&format!("/tickets/{id}/history/"), &admin)
        .await
        .expect(200)
        .body;
    let edited = history["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "comment.edited")
        .expect("the edit is in the history");
    assert!(
        edited["before"]["content"]
            .as_str()
            .unwrap()
            .starts_with("secret diagnosis")
    );
    assert_eq!(edited["after"]["content"], "secret revised");
}

#[tokio::test]
async fn comment_input_is_checked_field_by_field() {
    let api = Api::new().await;
    let employee = api.login(EMPLOYEE).await;
    let admin = api.login(ADMIN).await;
    let id = api.open_ticket(&employee, "Checked input").await["id"]
        .as_i64()
        .unwrap();
    let field_of = |r: &Reply| {
        r.body["fields"]
            .as_object()
            .map(|f| f.keys().cloned().collect::<Vec<_>>())
    };
    for (body, field) in [
        (json!({"content": "   "}), "content"),
        (json!({"content": "x".repeat(10_001)}), "content"),
        (json!({"content": 5}), "content"),
        (json!({}), "content"),
        (json!({"content": "hi", "parent_id": "not-a-uuid"}), "parent_id"),
        (
            json!({"content": "hi", "parent_id": tts_core::uuid::Uuid::now_v7()}),
            "parent_id",
        ),
        (json!({"content": "hi", "html": "<script>"}), "html"),
    ] {
        let r = comment(&api, &employee, id, body.clone()).await;
        assert_eq!(r.status.as_u16(), 422, "{body} gave {}", r.body);
        assert_eq!(
            field_of(&r),
            Some(vec![field.to_string()]),
            "{body} names {field}: {}",
            r.body
        );
    }
    let r = comment(
        &api,
        &employee,
        id,
        json!({"content": "let me in", "is_internal": true}),
    )
    .await;
    assert_eq!(
        r.status.as_u16(),
        403,
        "a requester writes no internal notes: {}",
        r.body
    );
    assert!(r.body["detail"].is_string());

    let top = comment(&api, &employee, id, json!({"content": "top"}))
        .await
        .expect(201)
        .body;
    let answer = comment(&api, &admin, id, json!({"content": "answer", "parent_id": top["id"]}))
        .await
        .expect(201)
        .body;
    let r = comment(
        &api,
        &employee,
        id,
        json!({"content": "deeper", "parent_id": answer["id"]}),
    )
    .await;
    assert_eq!(r.status.as_u16(), 422, "replies nest one level: {}", r.body);
    assert_eq!(field_of(&r), Some(vec!["parent_id".to_string()]));

    let answer_path = format!("/tickets/{id}/comments/{}/", answer["id"].as_str().unwrap());
    let r = api
        .call(
            axum::http::Method::PATCH,
            &answer_path,
            Some(&employee),
            Some(json!({"content": "mine"})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 403, "only the author or an admin edits: {}", r.body);
    let r = api
        .call(axum::http::Method::DELETE, &answer_path, Some(&admin), None)
        .await;
    assert_eq!(r.status.as_u16(), 204);
    let r = api
        .call(axum::http::Method::DELETE, &answer_path, Some(&admin), None)
        .await;
    assert_eq!(r.status.as_u16(), 404, "deleting twice: {}", r.body);
    let r = api
        .call(
            axum::http::Method::PATCH,
            &format!("/tickets/{id}/comments/nope/"),
            Some(&admin),
            Some(json!({"content": "x"})),
        )
        .await;
    assert_eq!(
        r.status.as_u16(),
        404,
        "a malformed comment id is not found: {}",
        r.body
    );

    let thread = api
        .get(&format!("/tickets/{id}/comments/"), &employee)
        .await
        .expect(200)
        .body;
    let gone = &thread["results"][1];
    assert_eq!(
        (gone["is_deleted"].clone(), gone["content"].clone()),
        (json!(true), json!(""))
    );
    assert_eq!(
        gone["parent_id"], top["id"],
        "a deleted reply keeps its place in the thread"
    );
}

#[tokio::test]
async fn comments_notify_the_requester_and_mentions_reach_only_who_may_see() {
    let api = Api::new().await;
    let employee = api.login(EMPLOYEE).await;
    let admin = api.login(ADMIN).await;
    let stranger = api.login(ASSET1).await;
    let id = api.open_ticket(&employee, "Mentions").await["id"].as_i64().unwrap();
    let kinds = async |token: &str| -> Vec<String> {
        api.settle().await;
        api.get("/notifications/", token).await.expect(200).body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap().to_string())
            .collect()
    };
    let stranger_before = kinds(&stranger).await.len();
    comment(
        &api,
        &admin,
        id,
        json!({"content": format!("Looking into it. cc @{ASSET1} @{EMPLOYEE}")}),
    )
    .await
    .expect(201);
    let got = kinds(&employee).await;
    assert_eq!(
        got.iter().filter(|k| *k == "mention").count(),
        1,
        "the requester may see the comment and is mentioned once (no second comment_added): {got:?}"
    );
    assert_eq!(
        kinds(&stranger).await.len(),
        stranger_before,
        "a mention of an outsider is ignored"
    );
    comment(&api, &employee, id, json!({"content": "Thanks!"}))
        .await
        .expect(201);
    let got = kinds(&admin).await;
    assert!(
        got.contains(&"comment_added".to_string()),
        "the admin holding the task is told: {got:?}"
    );
}
