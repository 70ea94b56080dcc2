//! `GET /tickets/?scope=`: each scope lists what it says for a requester, an agent and an admin, keeps
//! the other filters and the visibility rule, refuses `unassigned` to non-admins (403) and an unknown
//! scope (400 naming `scope`), and the OpenAPI document says so.

mod common;

use axum::http::Method;
use common::{ADMIN, Api, EMPLOYEE, IT1, IT2};
use serde_json::{Value, json};

/// The ticket numbers `token` gets for `query`, sorted; checks that `count` agrees.
async fn listed(api: &Api, token: &str, query: &str) -> Vec<String> {
    let body = api.get(&format!("/tickets/?{query}"), token).await.expect(200).body;
    let mut numbers: Vec<String> = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|t| t["ticket_id"].as_str().expect("ticket_id").to_string())
        .collect();
    numbers.sort();
    assert_eq!(body["count"], numbers.len(), "{query}: the count is the list's");
    numbers
}

async fn open(api: &Api, token: &str, subject: &str, priority: &str) -> Value {
    api.post(
        "/tickets/",
        token,
        json!({"subject": subject, "category": "Technical Support", "priority": priority}),
    )
    .await
    .expect(201)
    .body
}

/// The admin's open task on `ticket` (the admin triages every ticket).
async fn task_of(api: &Api, admin: &str, ticket: &Value) -> String {
    for task in api.open_tasks(admin).await {
        let detail = api.get(&format!("/tasks/{task}/"), admin).await.expect(200).body;
        if detail["ticket"]["id"] == ticket["id"] {
            return task;
        }
    }
    panic!("no open task of {ticket}")
}

#[tokio::test]
async fn each_scope_lists_what_it_says_for_each_role() {
    let api = Api::new().await;
    let employee = api.login(EMPLOYEE).await;
    let admin = api.login(ADMIN).await;
    let a = open(&api, &employee, "Accepted by triage", "high").await;
    let b = open(&api, &employee, "Waiting in triage", "low").await;
    let c = open(&api, &employee, "Taken back", "medium").await;
    api.settle().await;
    // The admin triages `a` on to an IT agent; the requester withdraws `c` (cancelling the admin's turn:
    // not an action of the admin's); `d` waits for allocation.
    let task = task_of(&api, &admin, &a).await;
    let actions = api
        .get(&format!("/tasks/{task}/available-actions/"), &admin)
        .await
        .expect(200)
        .body;
    let accept = actions["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .find(|x| x["name"] == "Accept")
        .expect("an Accept action")["action_id"]
        .clone();
    let moved = api
        .post(
            &format!("/tasks/{task}/action/"),
            &admin,
            json!({"action_id": accept, "comment": "over to IT"}),
        )
        .await
        .expect(200)
        .body;
    api.settle().await;
    let holder = moved["next_step"]["assigned_to"]
        .as_str()
        .expect("assignee")
        .to_string();
    let bystander = if holder == IT1 { IT2 } else { IT1 };
    let c_id = c["id"].clone();
    api.call(Method::DELETE, &format!("/tickets/{c_id}/"), Some(&employee), None)
        .await
        .expect(204);
    let d = open(&api, &employee, "Not routed yet", "critical").await;
    let n = |t: &Value| t["ticket_id"].as_str().expect("number").to_string();
    let (a, b, c, d) = (n(&a), n(&b), n(&c), n(&d));
    let sorted = |mut v: Vec<&String>| {
        v.sort();
        v.into_iter().cloned().collect::<Vec<_>>()
    };

    let agent = api.login(&holder).await;
    let other = api.login(bystander).await;
    for (who, token, cases) in [
        (
            "requester",
            &employee,
            vec![
                ("", sorted(vec![&a, &b, &c, &d])),
                ("scope=all", sorted(vec![&a, &b, &c, &d])),
                ("scope=mine", sorted(vec![&a, &b, &c, &d])),
                ("scope=closed", vec![c.clone()]),
                ("scope=assigned", vec![]),
                ("scope=acted", vec![]),
                ("scope=mine&priority=low", vec![b.clone()]),
            ],
        ),
        (
            "the agent holding one",
            &agent,
            vec![
                ("scope=all", vec![a.clone()]),
                ("scope=assigned", vec![a.clone()]),
                ("scope=assigned&status=open", vec![]),
                ("scope=acted", vec![]),
                ("scope=mine", vec![]),
                ("scope=closed", vec![]),
            ],
        ),
        (
            "another agent",
            &other,
            vec![
                ("scope=all", vec![]),
                ("scope=assigned", vec![]),
                ("scope=closed", vec![]),
            ],
        ),
        (
            "the admin",
            &admin,
            vec![
                ("scope=all", sorted(vec![&a, &b, &c, &d])),
                ("scope=assigned", vec![b.clone()]),
                ("scope=acted", vec![a.clone()]),
                ("scope=closed", vec![c.clone()]),
                ("scope=unassigned", vec![d.clone()]),
                ("scope=unassigned&priority=low", vec![]),
                ("scope=mine", vec![]),
                ("scope=closed&search=taken", vec![c.clone()]),
            ],
        ),
    ] {
        for (query, expected) in cases {
            assert_eq!(listed(&api, token, query).await, expected, "{who}: {query}");
        }
    }

    for token in [&employee, &agent] {
        let refused = api.get("/tickets/?scope=unassigned", token).await.expect(403).body;
        assert_eq!(refused["code"], "forbidden", "{refused}");
    }
    let bad = api.get("/tickets/?scope=everything", &admin).await.expect(400).body;
    assert!(bad["fields"]["scope"].is_array(), "the error names the field: {bad}");
}

#[test]
fn the_openapi_document_lists_the_scopes_and_the_403() {
    let doc = serde_json::to_value(tts_http::openapi()).expect("document");
    let op = &doc["paths"]["/tickets/"]["get"];
    let scope = op["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "scope")
        .unwrap_or_else(|| panic!("no scope parameter: {op}"));
    assert_eq!(scope["in"], "query");
    let values: Vec<&str> = scope["schema"]["enum"]
        .as_array()
        .or_else(|| scope["schema"]["oneOf"][0]["enum"].as_array())
        .unwrap_or_else(|| panic!("the values are listed: {scope}"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for v in ["mine", "assigned", "acted", "closed", "all", "unassigned"] {
        assert!(values.contains(&v), "{v} in {values:?}");
    }
    assert!(op["responses"].get("403").is_some(), "403 documented");
}
