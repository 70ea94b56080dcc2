//! OpenAPI schemas of the core's wire types (tts-core stays free of utoipa): each mirrors the serde
//! shape of its core type, and the tests below serialize the core types and compare, so a change in
//! the core that the document does not follow fails a test instead of misleading clients.

use chrono::{DateTime, Utc};
use utoipa::ToSchema;

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident : $core:ty { $($variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        #[allow(missing_docs)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every wire value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
        }

        impl From<$name> for $core {
            fn from(v: $name) -> $core {
                match v { $($name::$variant => <$core>::$variant),+ }
            }
        }
    };
}

wire_enum!(
    /// `low`, `medium`, `high` or `critical`.
    Priority: tts_core::Priority { Low, Medium, High, Critical }
);
wire_enum!(
    /// A ticket's status.
    TicketStatus: tts_core::TicketStatus { Open, InProgress, OnHold, Pending, Resolved, Closed, Rejected, Withdrawn }
);
wire_enum!(
    /// Which tickets a ticket list shows: `all` (default: every ticket the caller may see), `mine` (created
    /// by the caller), `assigned` (the caller holds an open assignment on its task), `acted` (the caller
    /// acted on, escalated or transferred an assignment of theirs on its task), `closed` (resolved,
    /// closed, rejected or withdrawn), `unassigned` (admins only: not allocated to a workflow, not closed).
    TicketScope: tts_core::TicketScope { Mine, Assigned, Acted, Closed, All, Unassigned }
);
wire_enum!(
    /// A workflow's life-cycle status.
    WorkflowStatus: tts_core::WorkflowStatus { Draft, Active, Paused, Archived }
);
wire_enum!(
    /// Why a notification was sent.
    NotificationType: tts_core::NotificationType {
        TaskAssignment, TaskTransferIn, TaskTransferOut, TaskEscalationIn, TaskEscalationOut, TaskCompleted,
        TicketStatusUpdate, SlaWarning, SlaBreach, CommentAdded, Mention, TicketUnroutable, System,
    }
);
wire_enum!(
    /// How a report's range is cut: UTC days, ISO weeks (Monday first) or months.
    Bucket: tts_core::domain::report::Bucket { Day, Week, Month }
);
wire_enum!(
    /// How a step picks its assignee among the active holders of its role.
    AssignmentStrategy: tts_core::AssignmentStrategy { RoundRobin, LeastLoaded }
);

/// Which tickets a workflow takes (case- and space-insensitive equality on each field set).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct MatchKey {
    /// Must equal the ticket's category.
    pub category: String,
    /// When set, must equal the ticket's subcategory.
    #[schema(nullable, required = false)]
    pub subcategory: Option<String>,
    /// When set, must equal the ticket's department.
    #[schema(nullable, required = false)]
    pub department: Option<String>,
    /// When set, must equal the ticket's priority.
    #[schema(nullable, required = false)]
    pub priority: Option<Priority>,
}

/// Resolution targets per priority, in seconds; where set, critical < high < medium < low.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct Sla {
    /// Target for `low` tickets.
    #[schema(nullable, required = false, minimum = 0, maximum = 9223372036854775807_i64)]
    pub low: Option<u64>,
    /// Target for `medium` tickets.
    #[schema(nullable, required = false, minimum = 0, maximum = 9223372036854775807_i64)]
    pub medium: Option<u64>,
    /// Target for `high` tickets.
    #[schema(nullable, required = false, minimum = 0, maximum = 9223372036854775807_i64)]
    pub high: Option<u64>,
    /// Target for `critical` tickets.
    #[schema(nullable, required = false, minimum = 0, maximum = 9223372036854775807_i64)]
    pub critical: Option<u64>,
}

/// Canvas coordinates of a step in the diagram editor.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct Position {
    /// Horizontal.
    pub x: f64,
    /// Vertical.
    pub y: f64,
}

/// One stage of work, done by one holder of `role_id`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct Step {
    /// Identifier, unique in the workflow (chosen by the client).
    #[schema(format = Uuid, pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$")]
    pub id: String,
    /// Display name, e.g. `Triage Ticket`.
    pub name: String,
    /// Who does the work.
    #[schema(format = Uuid, pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$")]
    pub role_id: String,
    /// What the step is for.
    #[schema(required = false)]
    pub description: String,
    /// What the assignee should do.
    #[schema(required = false)]
    pub instruction: String,
    /// Relative share of the SLA (> 0 to publish).
    #[schema(value_type = i64, minimum = 0, maximum = 4294967295_i64)]
    pub weight: u32,
    /// Where escalations go.
    #[schema(nullable, required = false, format = Uuid, pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$")]
    pub escalate_to: Option<String>,
    /// The one step a task starts at.
    #[schema(required = false)]
    pub is_start: bool,
    /// Has an action that completes the task.
    #[schema(required = false)]
    pub is_end: bool,
    /// Diagram layout.
    #[schema(required = false)]
    pub position: Position,
    /// How the assignee is picked (default `round_robin`).
    #[schema(required = false)]
    pub strategy: AssignmentStrategy,
}

/// A named action leaving `from_step`, to `to_step` or (none) completing the task.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct Transition {
    /// The action id clients send (chosen by the client).
    #[schema(format = Uuid, pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$")]
    pub id: String,
    /// Button label: Approve, Reject...
    pub name: String,
    /// The step the action is available on.
    #[schema(format = Uuid, pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$")]
    pub from_step: String,
    /// The next step; none completes the task.
    #[schema(nullable, required = false, format = Uuid, pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$")]
    pub to_step: Option<String>,
}

/// A workflow definition as an admin writes it; drafts may be incomplete, publishing validates them.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct WorkflowDefinition {
    /// Unique display name (not blank).
    #[schema(pattern = r"[^\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]")]
    pub name: String,
    /// What it is for.
    #[schema(required = false)]
    pub description: String,
    /// Which tickets it takes.
    pub match_key: MatchKey,
    /// Takes tickets no other active workflow matches (at most one active default).
    #[schema(required = false)]
    pub is_default: bool,
    /// Targets per priority.
    #[schema(required = false)]
    pub sla: Sla,
    /// The stages.
    pub steps: Vec<Step>,
    /// The actions.
    pub transitions: Vec<Transition>,
}

/// A workflow: its definition plus identity, life-cycle status and version.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct Workflow {
    /// Identifier shared by all versions.
    #[schema(format = Uuid, pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$")]
    pub id: String,
    /// Life-cycle status.
    pub status: WorkflowStatus,
    /// Published version; 0 while never published.
    pub version: u32,
    /// Unique display name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Which tickets it takes.
    pub match_key: MatchKey,
    /// Takes tickets no other active workflow matches.
    pub is_default: bool,
    /// Targets per priority.
    pub sla: Sla,
    /// The stages.
    pub steps: Vec<Step>,
    /// The actions.
    pub transitions: Vec<Transition>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::BTreeSet;
    use utoipa::openapi::{RefOr, schema::Schema};

    fn wire<T: serde::Serialize>(v: T) -> String {
        serde_json::to_value(v).unwrap().as_str().unwrap().to_string()
    }

    #[test]
    fn enums_match_the_core() {
        for (doc, core) in Priority::ALL.iter().zip(tts_core::Priority::ALL) {
            assert_eq!(wire(doc), wire(core));
        }
        assert_eq!(Priority::ALL.len(), tts_core::Priority::ALL.len());
        for (doc, core) in TicketStatus::ALL.iter().zip(tts_core::TicketStatus::ALL) {
            assert_eq!(wire(doc), wire(core));
        }
        assert_eq!(TicketStatus::ALL.len(), tts_core::TicketStatus::ALL.len());
        for v in TicketScope::ALL {
            assert_eq!(wire(v), wire(tts_core::TicketScope::from(*v)));
        }
        assert_eq!(TicketScope::ALL.len(), tts_core::TicketScope::ALL.len());
        for v in WorkflowStatus::ALL {
            assert_eq!(wire(v), wire(tts_core::WorkflowStatus::from(*v)));
        }
        for v in NotificationType::ALL {
            assert_eq!(wire(v), wire(tts_core::NotificationType::from(*v)));
        }
        for v in AssignmentStrategy::ALL {
            assert_eq!(wire(v), wire(tts_core::AssignmentStrategy::from(*v)));
        }
    }

    fn properties<T: ToSchema>() -> BTreeSet<String> {
        match T::schema() {
            RefOr::T(Schema::Object(o)) => o.properties.keys().cloned().collect(),
            other => panic!("not an object schema: {}", serde_json::to_string(&other).unwrap()),
        }
    }

    fn keys(v: &Value) -> BTreeSet<String> {
        v.as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn workflow_schemas_have_the_core_fields() {
        let def = serde_json::json!({
            "name": "w", "match_key": {"category": "c"}, "steps": [{
                "id": uuid::Uuid::nil(), "name": "s", "role_id": uuid::Uuid::nil(), "weight": 1
            }],
            "transitions": [{"id": uuid::Uuid::nil(), "name": "t", "from_step": uuid::Uuid::nil()}]
        });
        let def: tts_core::WorkflowDefinition = serde_json::from_value(def).unwrap();
        let json = serde_json::to_value(&def).unwrap();
        assert_eq!(keys(&json), properties::<WorkflowDefinition>());
        assert_eq!(keys(&json["match_key"]), properties::<MatchKey>());
        assert_eq!(keys(&json["sla"]), properties::<Sla>());
        assert_eq!(keys(&json["steps"][0]), properties::<Step>());
        assert_eq!(keys(&json["steps"][0]["position"]), properties::<Position>());
        assert_eq!(keys(&json["transitions"][0]), properties::<Transition>());
        let now = chrono::Utc::now();
        let w = tts_core::Workflow {
            id: tts_core::WorkflowId(uuid::Uuid::nil()),
            status: tts_core::WorkflowStatus::Draft,
            version: 0,
            definition: def,
            created_at: now,
            updated_at: now,
        };
        assert_eq!(keys(&serde_json::to_value(&w).unwrap()), properties::<Workflow>());
    }
}
