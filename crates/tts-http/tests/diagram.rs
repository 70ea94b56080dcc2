//! `GET /workflows/{id}/diagram/`: the layout for anyone signed in, a task's marks with `?task=` for
//! those who may see the task, the API's usual 401 / 404 / 400, and its place in the OpenAPI document.

mod common;

use axum::http::Method;
use common::*;
use serde_json::{Value, json};

/// The demo's default workflow (Triage -> Resolve -> Finalize, with ways back).
async fn default_workflow(api: &Api, token: &str) -> Value {
    let list = api.get("/workflows/?page_size=100", token).await.expect(200).body;
    list["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["is_default"] == true)
        .expect("a default workflow")
        .clone()
}

fn step_named<'a>(workflow: &'a Value, name: &str) -> &'a str {
    workflow["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .and_then(|s| s["id"].as_str())
        .unwrap_or_else(|| panic!("no step {name}"))
}

#[tokio::test]
async fn diagram_for_an_admin_lays_out_every_step_and_action() {
    let api = Api::new().await;
    let admin = api.login(ADMIN).await;
    let w = default_workflow(&api, &admin).await;
    let id = w["id"].as_str().unwrap();
    let d = api
        .get(&format!("/workflows/{id}/diagram/"), &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(d["workflow_id"], id);
    assert_eq!(d["version"], w["version"]);
    assert!(d.get("marks").is_none(), "no marks without ?task=: {d}");
    let nodes = d["layout"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3);
    let triage = step_named(&w, "Triage Ticket");
    for n in nodes {
        assert_eq!(n["rank"] == 0, n["step_id"] == triage, "{n}");
        for field in ["x", "y", "width", "height"] {
            assert!(n[field].as_f64().is_some(), "{n}");
        }
    }
    let triage_box = nodes.iter().find(|n| n["step_id"] == triage).unwrap();
    assert_eq!(triage_box["name"], "Triage Ticket");
    assert_eq!(triage_box["role"], "Admin", "role names, not ids");
    assert_eq!(triage_box["is_start"], true);
    let edges = d["layout"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 4, "Close completes the task and has no arrow: {edges:?}");
    assert!(edges.iter().all(|e| e["points"].as_array().unwrap().len() >= 2));
    assert!(d["layout"]["width"].as_f64().unwrap() > 0.0);

    // Any signed-in user may see a workflow's diagram, as the workflow itself.
    let employee = api.login(EMPLOYEE).await;
    let again = api
        .get(&format!("/workflows/{id}/diagram/"), &employee)
        .await
        .expect(200)
        .body;
    assert_eq!(again, d, "the same workflow gives the same diagram");
}

#[tokio::test]
async fn diagram_of_unknown_workflows_and_tasks_is_not_found_and_needs_a_token() {
    let api = Api::new().await;
    let admin = api.login(ADMIN).await;
    let missing = "0198c0de-0000-7000-8000-000000000000";
    api.get(&format!("/workflows/{missing}/diagram/"), &admin)
        .await
        .expect(404);
    api.get("/workflows/not-an-id/diagram/", &admin).await.expect(404);
    let w = default_workflow(&api, &admin).await;
    let id = w["id"].as_str().unwrap();
    let r = api
        .call(Method::GET, &format!("/workflows/{id}/diagram/"), None, None)
        .await
        .expect(401);
    assert!(r.headers.contains_key("www-authenticate"));
    api.call(
        Method::GET,
        &format!("/workflows/{id}/diagram/"),
        Some("not-a-token"),
        None,
    )
    .await
    .expect(401);
    let r = api
        .get(&format!("/workflows/{id}/diagram/?task={missing}"), &admin)
        .await
        .expect(404);
    assert_eq!(r.body["code"], "not_found", "{}", r.body);
    api.get(&format!("/workflows/{id}/diagram/?task=nope"), &admin)
        .await
        .expect(400);
}

#[tokio::test]
async fn diagram_with_a_task_marks_its_current_visited_and_pending_steps() {
    let api = Api::new().await;
    let admin = api.login(ADMIN).await;
    let employee = api.login(EMPLOYEE).await;
    api.open_ticket(&employee, "Printer on fire").await;
    let task_id = api.open_tasks(&admin).await.pop().expect("the admin triages");
    let task = api.get(&format!("/tasks/{task_id}/"), &admin).await.expect(200).body;
    let wid = task["workflow_id"].as_str().unwrap().to_string();
    let w = api.get(&format!("/workflows/{wid}/"), &admin).await.expect(200).body;
    let (triage, resolve, finalize) = (
        step_named(&w, "Triage Ticket"),
        step_named(&w, "Resolve Ticket"),
        step_named(&w, "Finalize Ticket"),
    );
    let url = format!("/workflows/{wid}/diagram/?task={task_id}");
    let states = |d: &Value| -> Vec<(String, String)> {
        d["marks"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["step_id"].as_str().unwrap().into(),
                    s["state"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let pair = |s: &str, st: &str| (s.to_string(), st.to_string());

    let d = api.get(&url, &admin).await.expect(200).body;
    assert_eq!(d["marks"]["task_id"], task_id.as_str());
    assert_eq!(
        states(&d),
        [
            pair(triage, "current"),
            pair(resolve, "pending"),
            pair(finalize, "pending")
        ]
    );
    assert_eq!(d["marks"]["traversed"], json!([]));

    let actions = api
        .get(&format!("/tasks/{task_id}/available-actions/"), &admin)
        .await
        .expect(200)
        .body;
    let accept = actions["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Accept")
        .unwrap()["action_id"]
        .clone();
    api.post(
        &format!("/tasks/{task_id}/action/"),
        &admin,
        json!({"action_id": accept}),
    )
    .await
    .expect(200);
    let d = api.get(&url, &admin).await.expect(200).body;
    assert_eq!(
        states(&d),
        [
            pair(triage, "visited"),
            pair(resolve, "current"),
            pair(finalize, "pending")
        ]
    );
    assert_eq!(
        d["marks"]["traversed"],
        json!([{"from_step": triage, "to_step": resolve}])
    );
    assert_eq!(d["version"], task["workflow_version"]);

    // Someone who may not see the task gets no marks, only the usual 404; the layout alone is fine.
    let stranger = api.login(ASSET1).await;
    api.get(&url, &stranger).await.expect(404);
    api.get(&format!("/workflows/{wid}/diagram/"), &stranger)
        .await
        .expect(200);
    // A task of another workflow is not found on this one.
    let list = api.get("/workflows/?page_size=100", &admin).await.expect(200).body;
    let other = list["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] != wid.as_str())
        .unwrap();
    let other = other["id"].as_str().unwrap();
    api.get(&format!("/workflows/{other}/diagram/?task={task_id}"), &admin)
        .await
        .expect(404);
}

#[test]
fn the_openapi_document_describes_the_diagram() {
    let doc = serde_json::to_value(tts_http::openapi()).unwrap();
    let op = &doc["paths"]["/workflows/{id}/diagram/"]["get"];
    assert_eq!(
        op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Diagram"
    );
    let params: Vec<&str> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(params, ["id", "task"]);
    for status in ["400", "401", "404"] {
        assert!(op["responses"].get(status).is_some(), "{status}");
    }
    let schemas = &doc["components"]["schemas"];
    for name in [
        "Diagram",
        "Layout",
        "NodeBox",
        "EdgePath",
        "Point",
        "Marks",
        "StepMark",
        "StepState",
        "Traversal",
    ] {
        assert!(schemas.get(name).is_some(), "{name} missing");
    }
    assert_eq!(schemas["StepState"]["enum"], json!(["current", "visited", "pending"]));
}
