//! The reports page (admins: everyone's figures; agents: their own, as the API scopes them): tickets
//! created and resolved per day, by status and priority, SLA met and breached per workflow, work per
//! agent and time per step, over the last 7, 30 or 90 days; each table downloads as CSV through the
//! REST report handlers (one CSV writer for both).

use super::Ui;
use super::chart::{Bar, bars};
use super::page::{Chrome, UiError, render};
use super::session::UiSession;
use crate::auth::Caller;
use crate::extract::Query as ApiQuery;
use crate::routes::reports::{self as api, Format, ReportParams};
use crate::state::AppState;
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{Duration, Utc};
use serde::Deserialize;
use tts_core::domain::report::{Bucket, Durations, ReportFilter, ReportQuery, ReportRange};

/// `?days=` (7, 30 or 90; default 30).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Days {
    #[serde(default)]
    days: Option<i64>,
}

impl Days {
    fn get(&self) -> Result<i64, UiError> {
        match self.days.unwrap_or(30) {
            d @ (7 | 30 | 90) => Ok(d),
            _ => Err(UiError::Api(crate::ApiError::bad_field("days", "7, 30 or 90"))),
        }
    }
}

/// A table as shown: headings, rows of cells, and its CSV download.
pub(crate) struct Table {
    title: String,
    headings: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    csv: String,
}

#[derive(Template)]
#[template(path = "ui/reports.html")]
struct ReportsPage {
    chrome: Chrome,
    days: i64,
    flow_chart: String,
    tables: Vec<Table>,
}

fn ms(d: Option<i64>) -> String {
    match d {
        None => "-".into(),
        Some(ms) if ms >= 3_600_000 => format!("{:.1} h", ms as f64 / 3_600_000.0),
        Some(ms) => format!("{:.1} min", ms as f64 / 60_000.0),
    }
}

fn durations(d: &Durations) -> [String; 2] {
    [ms(d.average_ms()), ms(d.p90_ms)]
}

/// `GET /reports/`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    Query(q): Query<Days>,
) -> Result<Response, UiError> {
    let days = q.get()?;
    let actor = session.actor();
    let engine = &state.engine;
    let now = engine.clock().now();
    let range = ReportRange::new(now - Duration::days(days), now, Bucket::Day).map_err(UiError::from_core)?;
    let query = ReportQuery {
        range,
        filter: ReportFilter {
            agent: (!actor.is_admin).then_some(actor.user),
            ..ReportFilter::default()
        },
    };
    let err = UiError::from_core;
    let tickets = engine.ticket_report(actor, query.clone()).await.map_err(err)?;
    let sla = engine.sla_report(actor, query.clone()).await.map_err(err)?;
    let agents = engine.agent_report(actor, query.clone()).await.map_err(err)?;
    let steps = engine.step_report(actor, query).await.map_err(err)?;
    let base = &ui.0.base_path;
    let csv = |report: &str, table: &str| format!("{base}/reports/{report}.csv?table={table}&days={days}");
    let list = format!("{base}/tickets/?status=resolved");
    let flow_chart = bars(
        "Tickets resolved per day",
        &tickets
            .flow
            .iter()
            .map(|f| Bar {
                label: f.bucket.format("%m-%d").to_string(),
                value: f.resolved,
                href: list.clone(),
                class: "resolved".into(),
            })
            .collect::<Vec<_>>(),
    );
    let counts = |title: &str, list: &[tts_core::domain::report::Count], table: &str| Table {
        title: title.into(),
        headings: vec!["Key", "Tickets"],
        rows: list
            .iter()
            .map(|c| vec![c.name.clone().unwrap_or_else(|| c.key.clone()), c.count.to_string()])
            .collect(),
        csv: csv("tickets", table),
    };
    let tables = vec![
        Table {
            title: "Created and resolved per day".into(),
            headings: vec!["Day", "Created", "Resolved", "Closed", "Open at day's end"],
            rows: tickets
                .flow
                .iter()
                .map(|f| {
                    vec![
                        f.bucket.to_string(),
                        f.created.to_string(),
                        f.resolved.to_string(),
                        f.closed.to_string(),
                        f.backlog.to_string(),
                    ]
                })
                .collect(),
            csv: csv("tickets", "flow"),
        },
        counts("By status", &tickets.by_status, "by_status"),
        counts("By priority", &tickets.by_priority, "by_priority"),
        Table {
            title: "SLA per workflow".into(),
            headings: vec!["Workflow", "Due", "Met", "Breached", "Open", "Warned"],
            rows: sla
                .per_workflow
                .iter()
                .map(|w| {
                    let c = &w.counts;
                    vec![
                        w.workflow_name.clone().unwrap_or_else(|| w.workflow.to_string()),
                        c.due.to_string(),
                        c.met.to_string(),
                        c.breached.to_string(),
                        c.open.to_string(),
                        c.warned.to_string(),
                    ]
                })
                .collect(),
            csv: csv("sla", "per_workflow"),
        },
        Table {
            title: "Work per agent".into(),
            headings: vec![
                "Agent",
                "Open",
                "Acted",
                "Average to act",
                "p90 to act",
                "Escalated in/out",
                "Transferred in/out",
            ],
            rows: agents
                .iter()
                .map(|a| {
                    let [avg, p90] = durations(&a.time_to_act);
                    vec![
                        a.name.clone().unwrap_or_else(|| a.user.to_string()),
                        a.open.to_string(),
                        a.acted.to_string(),
                        avg,
                        p90,
                        format!("{}/{}", a.escalations_in, a.escalations_out),
                        format!("{}/{}", a.transfers_in, a.transfers_out),
                    ]
                })
                .collect(),
            csv: csv("agents", "agents"),
        },
        Table {
            title: "Time per step".into(),
            headings: vec!["Step", "Version", "Turns", "Handed on", "Average", "p90"],
            rows: steps
                .iter()
                .map(|s| {
                    let [avg, p90] = durations(&s.time);
                    vec![
                        s.step_name.clone().unwrap_or_else(|| s.step.to_string()),
                        s.workflow_version.to_string(),
                        s.time.count.to_string(),
                        s.handed_on.to_string(),
                        avg,
                        p90,
                    ]
                })
                .collect(),
            csv: csv("steps", "steps"),
        },
    ];
    Ok(render(ReportsPage {
        chrome: Chrome::signed_in(&state, &ui, &session, "Reports").await?,
        days,
        flow_chart,
        tables,
    }))
}

/// `?table=&days=` of a CSV download.
#[derive(Debug, Deserialize)]
pub(crate) struct CsvParams {
    table: String,
    #[serde(default)]
    days: Option<i64>,
}

/// `GET /reports/{report}.csv`: one table of a report as CSV, written by the REST report handler the
/// API's `?format=csv` uses, for the session's user.
pub(crate) async fn csv(
    State(state): State<AppState>,
    session: UiSession,
    Path(file): Path<String>,
    Query(q): Query<CsvParams>,
) -> Result<Response, UiError> {
    let days = Days { days: q.days }.get()?;
    let now = Utc::now();
    let params = ReportParams {
        from: Some((now - Duration::days(days)).to_rfc3339()),
        to: Some(now.to_rfc3339()),
        bucket: None,
        category: None,
        department: None,
        priority: None,
        workflow: None,
        agent: None,
        format: Some(Format::Csv),
        table: Some(q.table),
    };
    let caller = Caller { claims: session.claims };
    let s = State(state);
    let p = ApiQuery(params);
    let answer = match file.as_str() {
        "tickets.csv" => api::ticket_report(s, caller, p).await,
        "sla.csv" => api::sla_report(s, caller, p).await,
        "agents.csv" => api::agent_report(s, caller, p).await,
        "steps.csv" => api::step_report(s, caller, p).await,
        _ => Err(crate::ApiError::RouteNotFound),
    };
    answer.map_err(UiError::Api)
}
