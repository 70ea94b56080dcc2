//! End to end over a real port, on SQLite and on PostgreSQL: `tts-server`'s stack (SQLite store, local identity, the
//! workers, the axum router) runs in-process on 127.0.0.1:0 with the demo seed, and a plain HTTP client
//! walks the whole story of one ticket: the employee opens it, the worker allocates it, the admin triages
//! (Accept), the IT Support agent who got it resolves (Resolve), the admin finalizes (Close); the ticket
//! ends `resolved`, assignees are notified, the history records every step, and people outside the
//! ticket can neither act on it nor see it.

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::future::Future;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tts_http::server::{Durability, open_backends, serve_on};
use tts_http::{HttpConfig, RateLimits};

use tts_adapters::testkit as pg;

const PASSWORD: &str = "pw-123456";
const ADMIN: &str = "admin@demo.tts.example";
const EMPLOYEE: &str = "employee@demo.tts.example";
const IT_AGENTS: [&str; 2] = ["it.agent1@demo.tts.example", "it.agent2@demo.tts.example"];
/// How long asynchronous work (allocation, notifications) may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// A server running in this process on a free port, over a SQLite file in a temporary directory.
struct Server {
    base: String,
    shutdown: oneshot::Sender<()>,
    handle: JoinHandle<std::io::Result<()>>,
    _keep: Box<dyn std::any::Any + Send>,
}

impl Server {
    /// A server over a SQLite file in a temporary directory.
    async fn sqlite() -> Server {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}/tts.db", dir.path().display());
        Server::start(&url, Box::new(dir)).await
    }

    /// A server over a fresh PostgreSQL database, dropped afterwards.
    async fn postgres() -> Server {
        let db = pg::TestDb::create().await;
        let url = db.url.clone();
        Server::start(&url, Box::new(db)).await
    }

    async fn start(url: &str, keep: Box<dyn std::any::Any + Send>) -> Server {
        let backends = open_backends(url, Durability::Full).await.expect("open backends");
        tts_http::demo::seed(&backends.engine, PASSWORD)
            .await
            .expect("demo seed");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let mut http = HttpConfig::new(vec![0x5a; 32]);
        // The story polls (allocation, notifications) faster than the seed's 60 requests/min per user
        // would allow on a slow machine; rate limits have their own tests in tts-http.
        http.rate_limits = RateLimits::disabled();
        let (shutdown, stop) = oneshot::channel::<()>();
        let handle = tokio::spawn(serve_on(backends, http, listener, true, async {
            let _ = stop.await;
        }));
        Server {
            base: format!("http://{addr}"),
            shutdown,
            handle,
            _keep: keep,
        }
    }

    /// Graceful shutdown: stop accepting, drain the workers, close the database; must end cleanly.
    async fn stop(self) {
        let _ = self.shutdown.send(());
        tokio::time::timeout(PATIENCE, self.handle)
            .await
            .expect("server stops in time")
            .expect("server task does not panic")
            .expect("server ends without an I/O error");
    }
}

/// A JSON client for one server.
struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn new(base: &str) -> Api {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("HTTP client");
        Api {
            http,
            base: base.to_string(),
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder, what: &str) -> (StatusCode, Value) {
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: request failed: {e}"));
        let status = resp.status();
        let text = resp
            .text()
            .await
            .unwrap_or_else(|e| panic!("{what}: reading body: {e}"));
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {status}: body is not JSON ({e}): {text}"))
        };
        (status, body)
    }

    async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let req = self.http.get(format!("{}{path}", self.base)).bearer_auth(token);
        self.send(req, &format!("GET {path}")).await
    }

    async fn post(&self, token: &str, path: &str, body: &Value) -> (StatusCode, Value) {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body);
        self.send(req, &format!("POST {path}")).await
    }

    /// GET that must answer 200.
    async fn get_ok(&self, token: &str, path: &str) -> Value {
        let (status, body) = self.get(token, path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// Logs in and returns the access token.
    async fn login(&self, username: &str) -> String {
        let req = self
            .http
            .post(format!("{}/api/v1/users/token/", self.base))
            .json(&json!({"username": username, "password": PASSWORD}));
        let (status, body) = self.send(req, &format!("login {username}")).await;
        assert_eq!(status, StatusCode::OK, "login {username}: {body}");
        assert_eq!(body["user"]["email"], username, "login {username}: {body}");
        assert!(body["refresh"].is_string(), "login {username}: {body}");
        body["access"]
            .as_str()
            .unwrap_or_else(|| panic!("login {username}: no access token: {body}"))
            .to_string()
    }

    /// The task ids of the caller's open assignments.
    async fn open_tasks(&self, token: &str) -> Vec<String> {
        let body = self.get_ok(token, "/tasks/?open=true").await;
        body["results"]
            .as_array()
            .unwrap_or_else(|| panic!("GET /tasks/?open=true: no results: {body}"))
            .iter()
            .map(|a| a["task_id"].as_str().expect("task_id").to_string())
            .collect()
    }

    /// Takes the action called `name` on `task` as the holder of `token`, checking it is offered at
    /// `step` and the caller may act.
    async fn act(&self, token: &str, task: &str, step: &str, name: &str) -> Value {
        let path = format!("/tasks/{task}/available-actions/");
        let available = self.get_ok(token, &path).await;
        assert_eq!(available["current_step"]["name"], step, "{path}: {available}");
        assert_eq!(available["can_act"], true, "{path}: {available}");
        let action = available["actions"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["name"] == name))
            .unwrap_or_else(|| panic!("{path}: no action {name:?}: {available}"));
        let (status, body) = self
            .post(
                token,
                &format!("/tasks/{task}/action/"),
                &json!({"action_id": action["action_id"], "comment": format!("{name} at {step}")}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "POST /tasks/{task}/action/ ({name}): {body}");
        body
    }
}

/// Polls `probe` until it returns `Some`, failing after [`PATIENCE`] with `what`.
async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `TKT-YYYY-NNNN`: a four-digit year and a number of at least four digits.
fn is_ticket_number(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    matches!(parts.as_slice(), ["TKT", year, n] if year.len() == 4 && digits(year) && n.len() >= 4 && digits(n))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_walks_triage_resolve_finalize_over_http() {
    story(Server::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_story_runs_on_postgresql() {
    story(Server::postgres().await).await;
}

async fn story(server: Server) {
    let api = Api::new(&server.base);

    // The employee opens a ticket; no workflow matches its category, so the default one takes it.
    let employee = api.login(EMPLOYEE).await;
    let (status, ticket) = api
        .post(
            &employee,
            "/tickets/",
            &json!({
                "subject": "Laptop does not boot",
                "description": "Black screen after the update.",
                "category": "Technical Support",
                "priority": "high",
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "POST /tickets/: {ticket}");
    assert_eq!(ticket["status"], "open", "{ticket}");
    assert_eq!(ticket["subject"], "Laptop does not boot", "{ticket}");
    assert_eq!(ticket["priority"], "high", "{ticket}");
    let number = ticket["ticket_id"].as_str().expect("ticket_id").to_string();
    assert!(is_ticket_number(&number), "ticket_id {number:?} is not TKT-YYYY-NNNN");
    let id = ticket["id"].as_i64().expect("integer id");
    let ticket_path = format!("/tickets/{id}/");

    // Allocation runs in the worker.
    let allocated = eventually("the ticket to be allocated", || async {
        let t = api.get_ok(&employee, &ticket_path).await;
        (t["is_task_allocated"] == true).then_some(t)
    })
    .await;
    assert_eq!(allocated["ticket_id"], number.as_str(), "{allocated}");

    // Triage: the admin holds it.
    let admin = api.login(ADMIN).await;
    let admin_tasks = api.open_tasks(&admin).await;
    assert_eq!(admin_tasks.len(), 1, "admin's open tasks: {admin_tasks:?}");
    let task = admin_tasks[0].clone();
    let view = api.get_ok(&admin, &format!("/tasks/{task}/")).await;
    assert_eq!(view["ticket"]["id"], id, "GET /tasks/{task}/: {view}");
    assert_eq!(view["current_step"]["name"], "Triage Ticket", "{view}");
    assert_eq!(view["workflow_name"], "General Request Workflow", "{view}");

    // The requester may not act on the task.
    let accept_id = api.get_ok(&admin, &format!("/tasks/{task}/available-actions/")).await["actions"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["name"] == "Accept"))
        .map(|a| a["action_id"].clone())
        .expect("Accept action");
    let (status, body) = api
        .post(
            &employee,
            &format!("/tasks/{task}/action/"),
            &json!({"action_id": accept_id, "comment": "let me do it myself"}),
        )
        .await;
    assert!(
        status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
        "employee acting on the task: {status} {body}"
    );
    assert!(api.open_tasks(&employee).await.is_empty());

    let accepted = api.act(&admin, &task, "Triage Ticket", "Accept").await;
    assert_eq!(accepted["status"], "transitioned", "{accepted}");
    assert_eq!(accepted["next_step"]["name"], "Resolve Ticket", "{accepted}");
    let resolver_email = accepted["next_step"]["assigned_to"]
        .as_str()
        .expect("assigned_to")
        .to_string();
    assert!(
        IT_AGENTS.contains(&resolver_email.as_str()),
        "assigned_to {resolver_email}"
    );

    // Resolve: whichever IT Support agent got it.
    let mut holder = None;
    let mut bystander = None;
    for email in IT_AGENTS {
        let token = api.login(email).await;
        if api.open_tasks(&token).await.contains(&task) {
            assert!(holder.is_none(), "both IT agents hold task {task}");
            holder = Some((email, token));
        } else {
            bystander = Some((email, token));
        }
    }
    let (holder_email, agent) = holder.expect("an IT Support agent holds the task");
    let (bystander_email, other) = bystander.expect("the other IT Support agent");
    assert_eq!(holder_email, resolver_email, "next_step.assigned_to names the holder");

    // An agent who never held the task cannot see the ticket, nor act.
    let (status, body) = api.get(&other, &ticket_path).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "{bystander_email} GET {ticket_path}: {body}"
    );
    // The holder can see it.
    api.get_ok(&agent, &ticket_path).await;

    let resolved = api.act(&agent, &task, "Resolve Ticket", "Resolve").await;
    assert_eq!(resolved["status"], "transitioned", "{resolved}");
    assert_eq!(resolved["next_step"]["name"], "Finalize Ticket", "{resolved}");
    assert_eq!(resolved["next_step"]["assigned_to"], ADMIN, "{resolved}");
    let (status, body) = api
        .post(
            &agent,
            &format!("/tasks/{task}/action/"),
            &json!({"action_id": accept_id, "comment": "again"}),
        )
        .await;
    assert!(
        status.is_client_error(),
        "the resolver acting again after handing on: {status} {body}"
    );

    // Finalize: the admin closes.
    assert!(
        api.open_tasks(&admin).await.contains(&task),
        "admin holds the finalize step"
    );
    let closed = api.act(&admin, &task, "Finalize Ticket", "Close").await;
    assert_eq!(closed["status"], "completed", "{closed}");
    assert!(closed["next_step"].is_null(), "{closed}");

    let done = api.get_ok(&employee, &ticket_path).await;
    assert_eq!(done["status"], "resolved", "{done}");
    assert!(api.open_tasks(&admin).await.is_empty());
    assert!(api.open_tasks(&agent).await.is_empty());

    // Notifications come from the worker.
    for (who, token) in [(ADMIN, &admin), (holder_email, &agent), (EMPLOYEE, &employee)] {
        let list = eventually(&format!("notifications for {who}"), || async {
            let n = api.get_ok(token, "/notifications/").await;
            (n["count"].as_u64().unwrap_or(0) > 0).then_some(n)
        })
        .await;
        let results = list["results"].as_array().expect("results");
        assert!(
            results
                .iter()
                .all(|n| n["related_ticket"].is_null() || n["related_ticket"] == number.as_str()),
            "{who}: {list}"
        );
    }

    // The history names every step.
    let history = api
        .get_ok(&employee, &format!("/tickets/{id}/history/?page_size=100"))
        .await;
    assert!(history["next"].is_null(), "one page holds the whole trail: {history}");
    let entries = history["results"].as_array().expect("history is a paginated list");
    let actions: Vec<&str> = entries.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions.first(), Some(&"ticket.created"), "{actions:?}");
    let taken: Vec<&str> = entries
        .iter()
        .filter(|e| e["action"] == "task.action" || e["action"] == "task.completed")
        .filter_map(|e| e["after"]["action_name"].as_str())
        .collect();
    assert_eq!(taken, ["Accept", "Resolve", "Close"], "history: {history}");
    assert!(actions.contains(&"task.completed"), "{actions:?}");
    let by_number = api
        .get_ok(&employee, &format!("/tickets/{number}/history/?page_size=100"))
        .await;
    assert_eq!(by_number, history, "history by TKT number and by id agree");
    // The requester sees what happened, not the agents' comments; staff see both.
    assert!(!history.to_string().contains("at Triage Ticket"), "{history}");
    let staff = api
        .get_ok(&admin, &format!("/tickets/{number}/history/?page_size=100"))
        .await;
    assert!(staff.to_string().contains("Accept at Triage Ticket"), "{staff}");

    // Still hidden from the bystander after the end.
    let (status, body) = api.get(&other, &ticket_path).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "{bystander_email} GET {ticket_path}: {body}"
    );
    let (status, body) = api.get(&other, &format!("/tickets/{id}/history/")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{bystander_email} history: {body}");

    server.stop().await;
}
