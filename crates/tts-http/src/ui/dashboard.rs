//! The dashboard, the start page: per role what to look at first. Requesters see their open tickets;
//! agents and admins KPI cards of the active tickets they may see (new, and per priority), a chart of
//! them by priority and of tickets resolved per day over the last 30 days; admins also the unassigned
//! and unroutable counts. Every bar and card links to the filtered ticket list, and the numbers are in
//! tables beside the charts.

use super::Ui;
use super::chart::{Bar, bars};
use super::page::{Chrome, UiError, render};
use super::session::UiSession;
use crate::state::AppState;
use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use chrono::{Duration, Utc};
use tts_core::domain::report::{Bucket, ReportFilter, ReportQuery, ReportRange};
use tts_core::ports::PageRequest;
use tts_core::ports::store::TicketQuery;
use tts_core::{Actor, Engine, Priority, TicketScope, TicketStatus};

/// A KPI card: a number with a label and the list it links to.
pub(crate) struct Card {
    label: String,
    value: u64,
    href: String,
    class: &'static str,
}

/// A requester's ticket on the dashboard.
pub(crate) struct MyTicket {
    number: String,
    subject: String,
    status: &'static str,
}

/// One of the user's open assignments that falls due within a day (or is overdue).
pub(crate) struct DueItem {
    number: String,
    subject: String,
    /// `overdue` or `due`.
    state: &'static str,
    when: String,
}

/// A chart with its numbers.
pub(crate) struct Chart {
    title: String,
    svg: String,
    rows: Vec<(String, u64, String)>,
}

#[derive(Template)]
#[template(path = "ui/dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    cards: Vec<Card>,
    charts: Vec<Chart>,
    mine: Vec<MyTicket>,
    due: Vec<DueItem>,
}

/// The user's open assignments due within 24 hours or overdue, soonest first (at most 10).
async fn due_soon(engine: &Engine, actor: Actor) -> Result<Vec<DueItem>, UiError> {
    let now = Utc::now();
    let open = engine
        .assignments(
            actor,
            true,
            false,
            PageRequest {
                page: 1,
                page_size: 200,
            },
        )
        .await
        .map_err(UiError::from_core)?;
    let mut soon: Vec<_> = open
        .items
        .into_iter()
        .filter_map(|a| a.target_resolution.map(|t| (t, a.task)))
        .filter(|(t, _)| *t <= now + Duration::hours(24))
        .collect();
    soon.sort_by_key(|(t, _)| *t);
    let mut items = Vec::new();
    for (target, task) in soon.into_iter().take(10) {
        let view = engine.task(actor, task).await.map_err(UiError::from_core)?;
        let t = engine
            .ticket(actor, tts_core::TicketRef::Id(view.task.ticket))
            .await
            .map_err(UiError::from_core)?;
        let minutes = (target - now).num_minutes();
        items.push(DueItem {
            number: t.ticket_id.to_string(),
            subject: t.subject,
            state: if minutes < 0 { "overdue" } else { "due" },
            when: if minutes < 0 {
                format!("{} h {} min overdue", -minutes / 60, -minutes % 60)
            } else {
                format!("in {} h {} min", minutes / 60, minutes % 60)
            },
        });
    }
    Ok(items)
}

/// Visible tickets matching `query`, counted.
async fn count(engine: &Engine, actor: Actor, query: TicketQuery) -> Result<u64, UiError> {
    let query = TicketQuery {
        page: PageRequest { page: 1, page_size: 1 },
        ..query
    };
    Ok(engine
        .list_tickets(actor, query)
        .await
        .map_err(UiError::from_core)?
        .total)
}

/// `GET {base}`: the dashboard.
pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
) -> Result<Response, UiError> {
    let actor = session.actor();
    let engine = &state.engine;
    let base = &ui.0.base_path;
    let list = |query: &str| format!("{base}/tickets/?{query}");
    let (mut cards, mut charts, mut mine, mut due) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    if actor.is_admin || actor.is_agent {
        due = due_soon(engine, actor).await?;
        let new = count(
            engine,
            actor,
            TicketQuery {
                status: Some(TicketStatus::Open),
                ..Default::default()
            },
        )
        .await?;
        cards.push(Card {
            label: "New".into(),
            value: new,
            href: list("status=open"),
            class: "new",
        });
        let mut priority_bars = Vec::new();
        for p in Priority::ALL.iter().rev() {
            let mut active = 0;
            for status in [TicketStatus::Open, TicketStatus::InProgress] {
                let q = TicketQuery {
                    status: Some(status),
                    priority: Some(*p),
                    ..Default::default()
                };
                active += count(engine, actor, q).await?;
            }
            let href = list(&format!("priority={}", p.as_str()));
            cards.push(Card {
                label: capitalized(p.as_str()),
                value: active,
                href: href.clone(),
                class: p.as_str(),
            });
            priority_bars.push(Bar {
                label: p.as_str().into(),
                value: active,
                href,
                class: p.as_str().into(),
            });
        }
        charts.push(chart("Active tickets by priority", priority_bars));
        let now = Utc::now();
        let range = ReportRange::new(now - Duration::days(30), now, Bucket::Day).map_err(UiError::from_core)?;
        let filter = ReportFilter {
            agent: (!actor.is_admin).then_some(actor.user),
            ..Default::default()
        };
        let report = engine
            .ticket_report(actor, ReportQuery { range, filter })
            .await
            .map_err(UiError::from_core)?;
        let resolved = report
            .flow
            .iter()
            .map(|f| Bar {
                label: f.bucket.format("%m-%d").to_string(),
                value: f.resolved,
                href: list("status=resolved"),
                class: "resolved".into(),
            })
            .collect();
        charts.push(chart("Resolved per day, last 30 days", resolved));
    }
    if actor.is_admin {
        // The ticket list's `unassigned` tab: not allocated and not closed.
        let unassigned = count(
            engine,
            actor,
            TicketQuery::default().in_scope(TicketScope::Unassigned, actor.user),
        )
        .await?;
        cards.push(Card {
            label: "Unassigned".into(),
            value: unassigned,
            href: list("scope=unassigned"),
            class: "unassigned",
        });
        let now = Utc::now();
        let range = ReportRange::new(now - Duration::days(365), now, Bucket::Month).map_err(UiError::from_core)?;
        let unroutable = engine
            .unroutable_report(
                actor,
                ReportQuery {
                    range,
                    filter: ReportFilter::default(),
                },
            )
            .await
            .map_err(UiError::from_core)?;
        cards.push(Card {
            label: "Unroutable (last year)".into(),
            value: unroutable.unroutable,
            href: list("allocated=false"),
            class: "unroutable",
        });
    }
    if !actor.is_admin && !actor.is_agent {
        let page = engine
            .list_tickets(
                actor,
                TicketQuery {
                    page: PageRequest { page: 1, page_size: 50 },
                    ..Default::default()
                },
            )
            .await
            .map_err(UiError::from_core)?;
        mine = page
            .items
            .iter()
            .filter(|t| !t.status.is_terminal())
            .map(|t| MyTicket {
                number: t.ticket_id.to_string(),
                subject: t.subject.clone(),
                status: t.status.as_str(),
            })
            .collect();
    }
    Ok(render(DashboardPage {
        chrome: Chrome::signed_in(&state, &ui, &session, "Dashboard").await?,
        cards,
        charts,
        mine,
        due,
    }))
}

fn chart(title: &str, bars_: Vec<Bar>) -> Chart {
    Chart {
        title: title.into(),
        svg: bars(title, &bars_),
        rows: bars_.into_iter().map(|b| (b.label, b.value, b.href)).collect(),
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
