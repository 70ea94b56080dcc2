//! Scale-out: two API processes (`serve --no-worker`) and two `worker` processes on one PostgreSQL,
//! without a broker (the outbox is the queue) and with RabbitMQ; 2,000 tickets created concurrently
//! through both APIs go to a step of a role of five admins. Every ticket is allocated exactly once,
//! round-robin is exact (400 each) and there is one notification per assignment. With RabbitMQ, a
//! socket on one API sees the events of a ticket created through the other. Prints the counts.
#![cfg(all(feature = "postgres", feature = "amqp"))]

mod process;

use process::{ADMIN, EMPLOYEE, Sent};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tts_adapters::sql::postgres::{PgConfig, PgStore};
use tts_adapters::testkit::TestDb;
use tts_core::UserId;
use tts_core::ports::{AssignmentQuery, NotificationQuery, PageRequest, Queries, TicketQuery};

const TICKETS: usize = 2_000;
const HOLDERS: usize = 5;
const CLIENTS: usize = 8;

async fn call(client: &reqwest::Client, method: reqwest::Method, url: String, token: &str, body: Value) -> Value {
    let r = client
        .request(method, &url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{url}: {status} {body}");
    body
}

/// Four more admins beside the demo's, so the triage step has five holders; returns all five ids.
async fn five_admins(client: &reqwest::Client, base: &str, admin: &str) -> Vec<UserId> {
    let roles = call(
        client,
        reqwest::Method::GET,
        format!("{base}/api/v1/tts/roles/"),
        admin,
        Value::Null,
    )
    .await;
    let role = roles["results"]
        .as_array()
        .expect("roles")
        .iter()
        .find(|r| r["system"] == "tts" && r["role"] == "Admin")
        .expect("the admin role")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let members = call(
        client,
        reqwest::Method::GET,
        format!("{base}/api/v1/tts/roles/{role}/users/"),
        admin,
        Value::Null,
    )
    .await;
    let mut ids: Vec<String> = members["results"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["user"]["id"].as_str().expect("member id").to_string())
        .collect();
    for i in 0..HOLDERS - ids.len() {
        let user = call(
            client,
            reqwest::Method::POST,
            format!("{base}/api/v1/users/"),
            admin,
            json!({"email": format!("admin{i}@scale.example"), "full_name": format!("Admin {i}"),
                   "password": process::PASSWORD}),
        )
        .await;
        let id = user["id"].as_str().expect("user id").to_string();
        call(
            client,
            reqwest::Method::PUT,
            format!("{base}/api/v1/tts/roles/{role}/users/{id}/"),
            admin,
            Value::Null,
        )
        .await;
        ids.push(id);
    }
    ids.iter().map(|id| UserId(id.parse().expect("uuid"))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_apis_and_two_workers_on_postgres_allocate_once_with_exact_round_robin() {
    scale_out(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_apis_and_two_workers_on_postgres_and_rabbitmq_allocate_once_and_share_the_feed() {
    scale_out(true).await;
}

/// The variants run one after the other: each loads both cores on its own.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn scale_out(with_broker: bool) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let site = process::Site::variant(&db.url, &data, with_broker);
    process::seed(&site);
    let mut cluster = process::Cluster::start(&site).await;
    let client = reqwest::Client::new();
    let admin = process::token(&client, &cluster.apis[0].base, ADMIN).await;
    let holders = five_admins(&client, &cluster.apis[0].base, &admin).await;
    assert_eq!(holders.len(), HOLDERS);
    let bearer = format!(
        "Bearer {}",
        process::token(&client, &cluster.apis[1].base, EMPLOYEE).await
    );

    let next = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (client, bearer, base) = (client.clone(), bearer.clone(), cluster.apis[c % 2].base.clone());
        let (next, acked) = (Arc::clone(&next), Arc::clone(&acked));
        clients.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::SeqCst) < TICKETS {
                match process::create(&client, &base, &bearer, &format!("scale {c}")).await {
                    Sent::Created(id) => acked.lock().expect("acked").push(id),
                    other => panic!("a create failed: {other:?}"),
                }
            }
        }));
    }
    for c in clients {
        c.await.expect("client");
    }
    let extra = usize::from(with_broker);
    if with_broker {
        socket_sees_the_other_servers_events(&cluster, &client, &admin, &bearer).await;
    }
    let store = PgStore::connect(&PgConfig::new(db.url.clone())).await.expect("connect");
    let one = PageRequest::new(1, 1).expect("page");
    let start = Instant::now();
    loop {
        let waiting = store
            .list_tickets(&TicketQuery {
                is_task_allocated: Some(false),
                page: one,
                ..TicketQuery::default()
            })
            .await
            .expect("tickets")
            .total;
        let notified = store
            .list_notifications(&NotificationQuery {
                page: one,
                ..NotificationQuery::default()
            })
            .await
            .expect("notifications")
            .total;
        if waiting == 0 && notified as usize >= TICKETS + extra {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "not settled: {waiting} unallocated, {notified} notifications"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cluster.stop();
    if let Some(broker) = &site.broker {
        broker.delete().await;
    }
    let acknowledged = std::mem::take(&mut *acked.lock().expect("acked"));
    let (lost, duplicated) = process::audit(&store, &acknowledged).await;
    let mut per_holder = Vec::new();
    for user in &holders {
        let query = AssignmentQuery {
            user: Some(*user),
            page: one,
            ..AssignmentQuery::default()
        };
        per_holder.push(store.list_assignments(&query).await.expect("assignments").total);
    }
    store.close().await;
    let setup = if with_broker {
        "PostgreSQL + RabbitMQ"
    } else {
        "PostgreSQL"
    };
    println!(
        "2 APIs + 2 workers on {setup}: acknowledged={} lost={lost} duplicated={duplicated}; \
         assignments per holder {per_holder:?}",
        acknowledged.len()
    );
    assert_eq!(acknowledged.len(), TICKETS);
    assert_eq!((lost, duplicated), (0, 0), "every ticket allocated exactly once");
    per_holder.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(per_holder, round_robin(TICKETS + extra), "round-robin is exact");
}

/// Assignments per holder when `n` tickets went round the five holders in turn.
fn round_robin(n: usize) -> Vec<u64> {
    (0..HOLDERS)
        .map(|i| (n / HOLDERS + usize::from(i < n % HOLDERS)) as u64)
        .collect()
}

/// A socket on API 0 sees the events of a ticket created through API 1 (over the broker's fan-out).
async fn socket_sees_the_other_servers_events(
    cluster: &process::Cluster,
    client: &reqwest::Client,
    admin: &str,
    employee_bearer: &str,
) {
    use futures_util::StreamExt;
    let address = cluster.apis[0].base.trim_start_matches("http://").to_string();
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!("ws://{address}/ws/"))
            .expect("request");
    request
        .headers_mut()
        .insert("Authorization", format!("Bearer {admin}").parse().expect("header"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("socket on API 0");
    // The socket joins API 0's hub right after the upgrade; give it a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ticket = match process::create(client, &cluster.apis[1].base, employee_bearer, "seen elsewhere").await {
        Sent::Created(id) => Some(id),
        other => panic!("create on API 1: {other:?}"),
    };
    let seen = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let frame = socket.next().await.expect("open").expect("frame");
            let tokio_tungstenite::tungstenite::Message::Text(text) = frame else {
                continue;
            };
            let event: Value = serde_json::from_str(&text).expect("json");
            if event["ticket"].as_i64() == ticket {
                return event;
            }
        }
    })
    .await
    .expect("API 0's socket saw API 1's ticket within 20 s");
    println!(
        "a socket on API 0 saw {} of ticket {ticket:?} created on API 1",
        seen["type"]
    );
}
