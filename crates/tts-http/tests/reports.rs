//! The reports API: figures after a small real history (tickets opened, triaged, escalated, one
//! unroutable), who may read what, CSV tables, and parameter errors naming the parameter.

mod common;

use common::*;
use serde_json::{Value, json};

/// Acts on every open task of `token` with the action named `name`.
async fn act_all(api: &Api, token: &str, name: &str) -> usize {
    let tasks = api.open_tasks(token).await;
    for task in &tasks {
        let actions = api
            .get(&format!("/tasks/{task}/available-actions/"), token)
            .await
            .expect(200)
            .body;
        let action = actions["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .find(|a| a["name"] == name)
            .unwrap_or_else(|| panic!("no {name} action in {actions}"))["action_id"]
            .clone();
        api.post(
            &format!("/tasks/{task}/action/"),
            token,
            json!({"action_id": action, "comment": "done"}),
        )
        .await
        .expect(200);
    }
    api.settle().await;
    tasks.len()
}

fn total(list: &Value, field: &str) -> u64 {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|row| row[field].as_u64().expect("a count"))
        .sum()
}

fn count_of(list: &Value, key: &str) -> Option<(u64, Value)> {
    list.as_array()
        .expect("a list")
        .iter()
        .find(|c| c["key"] == key)
        .map(|c| (c["count"].as_u64().expect("count"), c["name"].clone()))
}

async fn user_id(api: &Api, token: &str) -> String {
    api.get("/api/v1/users/profile/", token).await.expect(200).body["id"]
        .as_str()
        .expect("id")
        .to_string()
}

#[tokio::test]
async fn reports_count_a_real_history_and_each_role_sees_its_share() {
    let api = Api::new().await;
    let (employee, admin, it1) = (api.login(EMPLOYEE).await, api.login(ADMIN).await, api.login(IT1).await);
    for subject in ["VPN down", "Laptop slow", "Mail bounce"] {
        api.post(
            "/tickets/",
            &employee,
            json!({"subject": subject, "category": "IT Support", "department": "IT Department", "priority": "high"}),
        )
        .await
        .expect(201);
    }
    api.settle().await;
    // With the default workflow paused, a ticket nobody's workflow takes is unroutable.
    let workflows = api.get("/workflows/", &admin).await.expect(200).body;
    let general = workflows["results"]
        .as_array()
        .expect("workflows")
        .iter()
        .find(|w| w["name"] == "General Request Workflow")
        .expect("the default workflow")["id"]
        .as_str()
        .expect("id")
        .to_string();
    api.post(&format!("/workflows/{general}/pause/"), &admin, json!({}))
        .await
        .expect(200);
    api.open_ticket(&employee, "Nobody takes this").await;
    // The admin triages all three; the IT agents get the resolve step; one escalates back to admins.
    assert_eq!(act_all(&api, &admin, "Accept").await, 3);
    let it1_tasks = api.open_tasks(&it1).await;
    assert!(!it1_tasks.is_empty(), "round robin gave IT agent 1 work");
    api.post(
        &format!("/tasks/{}/escalate/", it1_tasks[0]),
        &it1,
        json!({"reason": "needs a admin"}),
    )
    .await
    .expect(200);
    api.settle().await;

    // Tickets: four created today, none resolved, all four still open; three on the IT workflow.
    let tickets = api.get("/reports/tickets/", &admin).await.expect(200).body;
    assert_eq!(tickets["range"]["bucket"], "day");
    assert_eq!(
        tickets["flow"].as_array().expect("flow").len(),
        31,
        "30 days by day, today partial"
    );
    assert_eq!(total(&tickets["flow"], "created"), 4, "{tickets}");
    assert_eq!(total(&tickets["flow"], "resolved"), 0);
    assert_eq!(tickets["flow"][30]["backlog"], 4, "{tickets}");
    assert_eq!(count_of(&tickets["by_status"], "in_progress").map(|c| c.0), Some(3));
    assert_eq!(count_of(&tickets["by_status"], "open").map(|c| c.0), Some(1));
    let it_flow = tickets["by_workflow"]
        .as_array()
        .expect("by workflow")
        .iter()
        .find(|c| c["name"] == "IT Support Workflow")
        .expect("named workflow");
    assert_eq!(it_flow["count"], 3);
    assert_eq!(
        count_of(&tickets["by_workflow"], "").map(|c| c.0),
        Some(1),
        "the unroutable one"
    );
    assert_eq!(count_of(&tickets["by_category"], "it support").map(|c| c.0), Some(3));
    // Filters: the category narrows everything down.
    let nowhere = api
        .get("/reports/tickets/?category=TECHNICAL%20SUPPORT", &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(total(&nowhere["flow"], "created"), 1, "{nowhere}");

    // Agents: the admin acted three times; IT agent 1 escalated once; the admin got it back.
    let admin_id = user_id(&api, &admin).await;
    let it1_id = user_id(&api, &it1).await;
    let agents = api.get("/reports/agents/", &admin).await.expect(200).body;
    let row = |id: &str| {
        agents["agents"]
            .as_array()
            .expect("agents")
            .iter()
            .find(|a| a["user_id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no row for {id} in {agents}"))
    };
    let (admin_row, it1_row) = (row(&admin_id), row(&it1_id));
    assert_eq!(admin_row["acted"], 3, "{agents}");
    assert!(admin_row["avg_time_to_act_ms"].as_i64().is_some_and(|ms| ms >= 0));
    assert!(admin_row["p90_time_to_act_ms"].as_i64().is_some());
    assert_eq!(admin_row["escalations_in"], 1);
    assert_eq!(it1_row["escalations_out"], 1);
    assert_eq!(it1_row["name"], "IT Agent One");
    // An agent sees their own row only, and may not ask for another's.
    let own = api.get("/reports/agents/", &it1).await.expect(200).body;
    let rows = own["agents"].as_array().expect("agents");
    assert!(rows.iter().all(|r| r["user_id"] == it1_id.as_str()), "{own}");
    assert_eq!(rows.len(), 1);
    api.get(&format!("/reports/agents/?agent={admin_id}"), &it1)
        .await
        .expect(403);

    // Steps: three triage turns ended by an action, one resolve turn handed on.
    let steps = api.get("/reports/steps/", &admin).await.expect(200).body;
    let step = |name: &str| {
        steps["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .find(|s| s["step_name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name} in {steps}"))
    };
    assert_eq!(step("Triage Ticket")["turns"], 3);
    assert_eq!(step("Resolve Ticket")["handed_on"], 1);

    // SLA: the demo's high-priority targets (8 h split by weight) fall due within a day from now.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%d");
    let sla = api
        .get(&format!("/reports/sla/?to={tomorrow}"), &admin)
        .await
        .expect(200)
        .body;
    assert!(total(&sla["per_bucket"], "due") >= 5, "{sla}");
    assert!(total(&sla["per_bucket"], "met") >= 3, "the three triage turns: {sla}");
    assert!(
        sla["per_workflow"]
            .as_array()
            .expect("per workflow")
            .iter()
            .any(|w| w["workflow_name"] == "IT Support Workflow"),
        "{sla}"
    );
    assert!(
        sla["per_step"]
            .as_array()
            .expect("per step")
            .iter()
            .all(|s| s["breach_rate"] == 0.0 && s["step_name"].is_string()),
        "{sla}"
    );

    // Unroutable: admins only.
    let waiting = api.get("/reports/unroutable/", &admin).await.expect(200).body;
    assert_eq!(waiting["unroutable"], 1, "{waiting}");
    assert_eq!(waiting["groups"][0]["category"], "technical support");
    api.get("/reports/unroutable/", &it1).await.expect(403);
    // Requesters have no reports; nobody without a token has.
    for report in ["tickets", "sla", "agents", "steps", "unroutable"] {
        api.get(&format!("/reports/{report}/"), &employee).await.expect(403);
        api.call(axum::http::Method::GET, &format!("/reports/{report}/"), None, None)
            .await
            .expect(401);
    }
}

#[tokio::test]
async fn every_table_downloads_as_csv() {
    let api = Api::new().await;
    let admin = api.login(ADMIN).await;
    let employee = api.login(EMPLOYEE).await;
    api.open_ticket(&employee, "Quoted, \"tricky\" subject").await;
    for (report, table, header) in [
        ("tickets", "flow", "bucket,created,resolved,closed,backlog"),
        ("tickets", "by_status", "key,count,name"),
        ("tickets", "by_workflow", "key,count,name"),
        ("sla", "per_bucket", "bucket,due,met,breached,open,warned"),
        (
            "sla",
            "per_step",
            "workflow_id,workflow_version,step_id,step_name,due,breached,breach_rate",
        ),
        (
            "agents",
            "agents",
            "user_id,name,open,acted,avg_time_to_act_ms,p90_time_to_act_ms,escalations_in,escalations_out,transfers_in,transfers_out",
        ),
        (
            "steps",
            "steps",
            "workflow_id,workflow_version,step_id,step_name,turns,handed_on,avg_ms,p90_ms",
        ),
        (
            "unroutable",
            "groups",
            "category,department,unroutable,unallocated,oldest",
        ),
    ] {
        let (status, headers, bytes) = api
            .download(
                &format!("/reports/{report}/?format=csv&table={table}&bucket=week"),
                &admin,
            )
            .await;
        assert_eq!(status, 200, "{report}/{table}");
        assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
        let disposition = headers["content-disposition"].to_str().expect("ascii");
        assert_eq!(disposition, format!("attachment; filename=\"{report}-{table}.csv\""));
        let text = String::from_utf8(bytes).expect("utf-8");
        let first = text.lines().next().unwrap_or_default();
        // An empty table still names its columns only when it has rows; the flow always has rows.
        if !first.is_empty() {
            assert_eq!(first, header, "{report}/{table}: {text}");
        }
    }
    let (_, _, flow) = api.download("/reports/tickets/?format=csv&bucket=week", &admin).await;
    let flow = String::from_utf8(flow).expect("utf-8");
    let weeks = api.get("/reports/tickets/?bucket=week", &admin).await.expect(200).body["flow"]
        .as_array()
        .expect("flow")
        .len();
    assert_eq!(flow.lines().count(), 1 + weeks, "a header and a row per week: {flow}");
    assert!(
        flow.trim_end().ends_with(",1,0,0,1"),
        "this week: one created and open: {flow}"
    );
    let bad = api
        .get("/reports/tickets/?format=csv&table=nope", &admin)
        .await
        .expect(400);
    assert!(bad.body["fields"]["table"].is_array(), "{}", bad.body);
}

#[tokio::test]
async fn report_parameters_are_checked_and_named() {
    let api = Api::new().await;
    let admin = api.login(ADMIN).await;
    for (query, field) in [
        ("from=yesterday", "from"),
        ("to=2026-13-01", "to"),
        ("from=2026-02-01&to=2026-01-01", "from"),
        ("from=2026-01-01&to=2026-01-01", "from"),
        ("from=2000-01-01&to=2026-01-01", "to"),
        ("bucket=year", "bucket"),
        ("priority=urgent", "priority"),
        ("workflow=not-an-id", "workflow"),
        ("agent=42", "agent"),
        ("workflow=", "workflow"),
        ("format=xml", "format"),
        ("from=%2B12345-01-01", "from"),
        ("to=0000-01-01", "to"),
        ("table=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "table"),
    ] {
        let r = api.get(&format!("/reports/tickets/?{query}"), &admin).await.expect(400);
        assert!(r.body["fields"][field].is_array(), "{query}: {}", r.body);
    }
    // Dates and times both work; a long range works by month.
    api.get("/reports/tickets/?from=2000-01-01&to=2026-01-01&bucket=month", &admin)
        .await
        .expect(200);
    let r = api
        .get("/reports/sla/?from=2026-01-01T12:00:00%2B02:00&to=2026-01-02", &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(r["range"]["from"], "2026-01-01T10:00:00Z");
    assert_eq!(r["per_bucket"].as_array().expect("buckets").len(), 1);
}
