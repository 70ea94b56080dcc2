//! The ticket list and the new-ticket form.

use super::Ui;
use super::page::{Chrome, UiError, render};
use super::session::UiSession;
use crate::state::AppState;
use askama::Template;
use axum::Extension;
use axum::extract::{Form, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::collections::BTreeMap;
use tts_core::domain::ticket::Employee;
use tts_core::ports::PageRequest;
use tts_core::ports::store::{TicketOrdering, TicketQuery};
use tts_core::{NewTicket, Priority, Ticket, TicketScope, TicketStatus};

/// Tickets per page.
const PAGE_SIZE: u32 = 25;

/// The list's query string: scope, filters, search, order and page.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListParams {
    #[serde(default)]
    scope: Option<TicketScope>,
    #[serde(default)]
    status: Option<TicketStatus>,
    #[serde(default)]
    priority: Option<Priority>,
    #[serde(default)]
    search: Option<String>,
    #[serde(default)]
    order: Option<String>,
    #[serde(default)]
    allocated: Option<bool>,
    #[serde(default)]
    page: Option<u32>,
}

/// One row of the list.
pub(crate) struct Row {
    number: String,
    subject: String,
    status: &'static str,
    priority: &'static str,
    category: String,
    created: String,
}

impl From<&Ticket> for Row {
    fn from(t: &Ticket) -> Self {
        Row {
            number: t.ticket_id.to_string(),
            subject: t.subject.clone(),
            status: t.status.as_str(),
            priority: t.priority.as_str(),
            category: t.category.clone(),
            created: t.created_at.format("%Y-%m-%d %H:%M").to_string(),
        }
    }
}

/// A tab above the list: a link to the list with one choice changed, the others kept.
pub(crate) struct Tab {
    label: &'static str,
    /// Its name in the page (`scope-assigned`, `priority-high`, `priority-any`), for styling and tests.
    key: String,
    href: String,
    current: bool,
    /// Tickets behind the tab, when known.
    count: Option<u64>,
}

/// The list's choices, written back into the links of the tabs and the pager (which go back to the first
/// page, and keep everything else).
#[derive(Debug, Clone)]
struct Choices {
    scope: TicketScope,
    status: Option<TicketStatus>,
    priority: Option<Priority>,
    search: Option<String>,
    order: String,
    allocated: Option<bool>,
}

impl Choices {
    /// The query string of these choices (the default scope and empty choices left out).
    fn query(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if self.scope != TicketScope::All {
            q.append_pair("scope", self.scope.as_str());
        }
        let allocated = self.allocated.map(|a| if a { "true" } else { "false" });
        for (k, v) in [
            ("status", self.status.map(TicketStatus::as_str)),
            ("priority", self.priority.map(Priority::as_str)),
            ("search", self.search.as_deref()),
            ("order", Some(self.order.as_str()).filter(|o| !o.is_empty())),
            ("allocated", allocated),
        ] {
            if let Some(v) = v {
                q.append_pair(k, v);
            }
        }
        q.finish()
    }

    /// The list's URL under `base` with these choices.
    fn href(&self, base: &str) -> String {
        match self.query() {
            q if q.is_empty() => format!("{base}/tickets/"),
            q => format!("{base}/tickets/?{q}"),
        }
    }
}

/// How the web UI names a scope on its tab.
fn scope_label(scope: TicketScope) -> &'static str {
    match scope {
        TicketScope::All => "All",
        TicketScope::Mine => "Created by me",
        TicketScope::Assigned => "Assigned to me",
        TicketScope::Acted => "Acted on",
        TicketScope::Closed => "Closed",
        TicketScope::Unassigned => "Unassigned",
    }
}

/// How the web UI names a priority on its tab.
fn priority_label(priority: Priority) -> &'static str {
    match priority {
        Priority::Critical => "Critical",
        Priority::High => "High",
        Priority::Medium => "Medium",
        Priority::Low => "Low",
    }
}

#[derive(Template)]
#[template(path = "ui/tickets.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    total: u64,
    page: u32,
    pages: u32,
    search: String,
    order: String,
    /// The scopes offered to the user (none when there is only one).
    scopes: Vec<Tab>,
    /// All, then each priority from the most urgent, with their counts in the scope.
    priority_tabs: Vec<Tab>,
    /// The scope and the allocation filter, kept by the filter form as hidden fields.
    scope: &'static str,
    allocated: &'static str,
    /// The priority tab, kept by the filter form as a hidden field.
    priority: &'static str,
    /// Each status with whether it is the chosen filter.
    statuses: Vec<(&'static str, bool)>,
    /// The query string of the current choices without the page, for the pager's links.
    filters: String,
}

/// `GET /tickets/`: the tickets the user may see (a requester's own, an agent's and an admin's as the
/// API scopes them) in a scope (tabs: all, created by me, assigned to me, acted on, closed, and for
/// admins unassigned), by priority (tabs with their counts in the scope), filtered, searched, sorted and
/// paged. A scope the user may not list (`unassigned` for non-admins) is the API's 403.
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    RawQuery(raw): RawQuery,
) -> Result<Response, UiError> {
    let params: ListParams = serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|e| UiError::Api(crate::ApiError::bad_field("query", e.to_string())))?;
    let search = params.search.filter(|s| !s.trim().is_empty());
    if search.as_ref().is_some_and(|s| s.len() > 255) {
        return Err(UiError::Api(crate::ApiError::bad_field(
            "search",
            "at most 255 characters",
        )));
    }
    let ordering = match params.order.as_deref() {
        None | Some("") | Some("newest") => TicketOrdering::NewestFirst,
        Some("oldest") => TicketOrdering::OldestFirst,
        Some("priority") => TicketOrdering::PriorityDesc,
        Some("updated") => TicketOrdering::UpdatedDesc,
        Some(_) => {
            return Err(UiError::Api(crate::ApiError::bad_field(
                "order",
                "newest, oldest, priority or updated",
            )));
        }
    };
    let actor = session.actor();
    let scope = params.scope.unwrap_or_default();
    let page = params.page.unwrap_or(1).max(1);
    let query = TicketQuery {
        status: params.status,
        priority: params.priority,
        search: search.clone(),
        is_task_allocated: params.allocated,
        ordering,
        page: PageRequest {
            page,
            page_size: PAGE_SIZE,
        },
        ..TicketQuery::default()
    };
    let found = state
        .engine
        .list_tickets_in(actor, scope, query.clone())
        .await
        .map_err(UiError::from_core)?;
    let counts = state
        .engine
        .count_tickets_by_priority(actor, scope, query)
        .await
        .map_err(UiError::from_core)?;
    let choices = Choices {
        scope,
        status: params.status,
        priority: params.priority,
        search: search.clone(),
        order: params.order.unwrap_or_default(),
        allocated: params.allocated,
    };
    let base = &ui.0.base_path;
    let offered = TicketScope::offered_to(actor);
    let scopes = if offered.len() > 1 {
        offered
            .into_iter()
            .map(|s| Tab {
                label: scope_label(s),
                key: format!("scope-{s}"),
                href: Choices {
                    scope: s,
                    ..choices.clone()
                }
                .href(base),
                current: s == scope,
                count: None,
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut priority_tabs = vec![Tab {
        label: "All",
        key: "priority-any".into(),
        href: Choices {
            priority: None,
            ..choices.clone()
        }
        .href(base),
        current: params.priority.is_none(),
        count: Some(counts.total()),
    }];
    priority_tabs.extend(Priority::ALL.iter().rev().map(|&p| {
        Tab {
            label: priority_label(p),
            key: format!("priority-{p}"),
            href: Choices {
                priority: Some(p),
                ..choices.clone()
            }
            .href(base),
            current: params.priority == Some(p),
            count: Some(counts.get(p)),
        }
    }));
    let status = params.status.map(|s| s.as_str()).unwrap_or("");
    let pages = found.total.div_ceil(u64::from(PAGE_SIZE)).max(1) as u32;
    Ok(render(ListPage {
        chrome: Chrome::signed_in(&state, &ui, &session, "Tickets").await?,
        rows: found.items.iter().map(Row::from).collect(),
        total: found.total,
        page,
        pages,
        search: search.unwrap_or_default(),
        filters: choices.query(),
        order: choices.order,
        scopes,
        priority_tabs,
        scope: if scope == TicketScope::All { "" } else { scope.as_str() },
        allocated: match params.allocated {
            Some(true) => "true",
            Some(false) => "false",
            None => "",
        },
        priority: params.priority.map(Priority::as_str).unwrap_or(""),
        statuses: TicketStatus::ALL
            .iter()
            .map(|s| (s.as_str(), s.as_str() == status))
            .collect(),
    }))
}

#[derive(Template)]
#[template(path = "ui/ticket_new.html")]
struct NewPage {
    chrome: Chrome,
    form: NewTicketForm,
    /// The API's reasons per field, shown next to the fields.
    errors: BTreeMap<String, Vec<String>>,
    detail: Option<String>,
    /// Each priority with whether it is chosen.
    priorities: Vec<(&'static str, bool)>,
}

fn priority_options(chosen: &str) -> Vec<(&'static str, bool)> {
    Priority::ALL
        .iter()
        .map(|p| (p.as_str(), p.as_str() == chosen))
        .collect()
}

/// The new-ticket form's fields (also what is shown again after a refusal).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct NewTicketForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    subcategory: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    priority: String,
}

impl NewTicketForm {
    fn field_errors(&self, name: &str, errors: &BTreeMap<String, Vec<String>>) -> String {
        errors.get(name).map(|e| e.join("; ")).unwrap_or_default()
    }
}

/// `GET /tickets/new`.
pub(crate) async fn new_form(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
) -> Result<Response, UiError> {
    Ok(render(NewPage {
        chrome: Chrome::signed_in(&state, &ui, &session, "New ticket").await?,
        form: NewTicketForm {
            priority: "medium".into(),
            ..Default::default()
        },
        errors: BTreeMap::new(),
        detail: None,
        priorities: priority_options("medium"),
    }))
}

/// `POST /tickets/new`: opens the ticket and goes to its page, or shows the form again (422) with the
/// API's reasons next to the fields.
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    Form(form): Form<NewTicketForm>,
) -> Result<Response, UiError> {
    session.check_csrf(&form.csrf)?;
    let optional = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let priority = match form.priority.as_str() {
        "" => Ok(Priority::default()),
        p => p.parse::<Priority>().map_err(|_| "low, medium, high or critical"),
    };
    let result = match priority {
        Err(why) => Err(crate::ApiError::invalid_field("priority", why)),
        Ok(priority) => {
            let new = NewTicket {
                subject: form.subject.clone(),
                description: form.description.clone(),
                category: form.category.clone(),
                subcategory: optional(&form.subcategory),
                department: optional(&form.department),
                priority,
                employee: Employee {
                    id: None,
                    name: session.claims.full_name.clone(),
                    email: session.claims.email.clone(),
                },
                attachments: Vec::new(),
            };
            state
                .engine
                .create_ticket(session.actor(), new, None)
                .await
                .map_err(crate::ApiError::Core)
        }
    };
    match result {
        Ok(created) => {
            Ok(Redirect::to(&format!("{}/tickets/{}/", ui.0.base_path, created.ticket.ticket_id)).into_response())
        }
        Err(e) => {
            let (status, body) = e.explain();
            if status != axum::http::StatusCode::UNPROCESSABLE_ENTITY {
                return Err(UiError::Api(e));
            }
            let mut response = render(NewPage {
                chrome: Chrome::signed_in(&state, &ui, &session, "New ticket").await?,
                priorities: priority_options(&form.priority),
                form,
                errors: body.fields,
                detail: Some(body.detail),
            });
            *response.status_mut() = status;
            Ok(response)
        }
    }
}
