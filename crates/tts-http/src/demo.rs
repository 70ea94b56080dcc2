//! Demo data modelled on the original system's seed: its roles, a few agents, and one Triage -> Resolve
//! -> Finalize workflow per department (plus a default for anything else), published.
//!
//! Seeding is idempotent: existing roles, users and workflows are reused. Demo passwords are never
//! built in: each run sets the given one (or a random one) and prints it.

use crate::server::{create_admin, ensure_role, find_user};
use tts_core::{
    Actor, AssignmentStrategy, Engine, MatchKey, NewUser, Position, Priority, Result, RoleId, Sla, Step, Transition,
    WorkflowDefinition, WorkflowStatus,
};
use uuid::Uuid;

/// The accounts `demo` prepared.
#[derive(Debug, Clone)]
pub struct DemoAccounts {
    /// The password every demo account now has.
    pub password: String,
    /// `(e-mail, what the account is for)`.
    pub accounts: Vec<(String, String)>,
}

impl std::fmt::Display for DemoAccounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "Demo accounts (password for all: {}):", self.password)?;
        for (email, what) in &self.accounts {
            writeln!(f, "  {email:<32} {what}")?;
        }
        Ok(())
    }
}

const ADMIN: (&str, &str) = ("admin@demo.tts.example", "Demo Admin");
const AGENTS: [(&str, &str, &str); 5] = [
    ("asset.manager1@demo.tts.example", "Asset Manager One", "Asset Manager"),
    ("asset.manager2@demo.tts.example", "Asset Manager Two", "Asset Manager"),
    ("budget.manager@demo.tts.example", "Budget Manager", "Budget Manager"),
    ("it.agent1@demo.tts.example", "IT Agent One", "IT Support"),
    ("it.agent2@demo.tts.example", "IT Agent Two", "IT Support"),
];
const EMPLOYEE: (&str, &str) = ("employee@demo.tts.example", "Demo Employee");

/// A random demo password (never a built-in one).
pub fn random_password() -> String {
    Uuid::new_v4().simple().to_string()[..16].to_string()
}

/// Seeds roles, users and workflows; sets `password` on every demo account.
pub async fn seed(engine: &Engine, password: &str) -> Result<DemoAccounts> {
    let sys = Actor::system();
    tts_core::engine::check_password(password)?;
    let admin_role = ensure_role(engine, "tts", "Admin").await?;
    create_admin(engine, ADMIN.0, password, ADMIN.1).await?;
    let mut accounts = vec![(
        ADMIN.0.to_string(),
        "tts:Admin (triage and finalize every ticket)".to_string(),
    )];
    for (email, name, role) in AGENTS {
        let role = ensure_role(engine, "tts", role).await?;
        let user = upsert_user(engine, email, name, password).await?;
        engine.set_membership(sys, role.id, user.id, true).await?;
        accounts.push((email.to_string(), format!("tts:{}", role.name)));
    }
    upsert_user(engine, EMPLOYEE.0, EMPLOYEE.1, password).await?;
    accounts.push((EMPLOYEE.0.to_string(), "requester (no role)".to_string()));

    let role = |name: &'static str| async move { ensure_role(engine, "tts", name).await.map(|r| r.id) };
    let asset = role("Asset Manager").await?;
    let budget = role("Budget Manager").await?;
    let it = role("IT Support").await?;
    let workflows = [
        three_step(
            "Asset Check In Workflow",
            "Asset Check In",
            Some("Asset Department"),
            false,
            admin_role.id,
            asset,
        ),
        three_step(
            "Asset Check Out Workflow",
            "Asset Check Out",
            Some("Asset Department"),
            false,
            admin_role.id,
            asset,
        ),
        three_step(
            "New Budget Proposal Workflow",
            "New Budget Proposal",
            Some("Budget Department"),
            false,
            admin_role.id,
            budget,
        ),
        three_step(
            "IT Support Workflow",
            "IT Support",
            Some("IT Department"),
            false,
            admin_role.id,
            it,
        ),
        three_step(
            "General Request Workflow",
            "General Request",
            None,
            true,
            admin_role.id,
            it,
        ),
    ];
    let existing = engine.workflows(None).await?;
    for def in workflows {
        let w = match existing.iter().find(|w| w.definition.name == def.name) {
            Some(w) => w.clone(),
            None => engine.create_workflow(sys, def).await?,
        };
        if w.status != WorkflowStatus::Active {
            engine.publish_workflow(sys, w.id).await?;
        }
    }
    Ok(DemoAccounts {
        password: password.to_string(),
        accounts,
    })
}

async fn upsert_user(engine: &Engine, email: &str, name: &str, password: &str) -> Result<tts_core::User> {
    let sys = Actor::system();
    match find_user(engine, email).await? {
        Some(u) => {
            engine.set_password(sys, u.id, password).await?;
            Ok(u)
        }
        None => {
            engine
                .create_user(
                    sys,
                    NewUser {
                        email: email.into(),
                        full_name: name.into(),
                        password: Some(password.into()),
                    },
                )
                .await
        }
    }
}

/// Triage (admins) -> Resolve (the department's role) -> Finalize (admins), with a way back from each
/// later step, escalation to admins, and the seed's SLAs (critical 4 h, high 8 h, medium 2 d, low 5 d).
fn three_step(
    name: &str,
    category: &str,
    department: Option<&str>,
    is_default: bool,
    admins: RoleId,
    resolvers: RoleId,
) -> WorkflowDefinition {
    let ids: Vec<Uuid> = (0..8).map(|_| Uuid::now_v7()).collect();
    let (triage, resolve, finalize) = (ids[0].into(), ids[1].into(), ids[2].into());
    let step = |id, name: &str, role, weight, is_start, is_end, instruction: &str| Step {
        id,
        name: name.into(),
        role_id: role,
        description: String::new(),
        instruction: instruction.into(),
        weight,
        escalate_to: Some(admins),
        is_start,
        is_end,
        position: Position::default(),
        strategy: AssignmentStrategy::RoundRobin,
    };
    let action = |id: Uuid, name: &str, from, to| Transition {
        id: id.into(),
        name: name.into(),
        from_step: from,
        to_step: to,
    };
    WorkflowDefinition {
        name: name.into(),
        description: format!("Demo workflow for {category} tickets."),
        match_key: MatchKey {
            category: category.into(),
            subcategory: None,
            department: department.map(Into::into),
            priority: None::<Priority>,
        },
        is_default,
        sla: Sla {
            critical: Some(4 * 3600),
            high: Some(8 * 3600),
            medium: Some(2 * 86400),
            low: Some(5 * 86400),
        },
        steps: vec![
            step(
                triage,
                "Triage Ticket",
                admins,
                1,
                true,
                false,
                "Check the request is complete and route it.",
            ),
            step(
                resolve,
                "Resolve Ticket",
                resolvers,
                3,
                false,
                false,
                "Do the work the ticket asks for.",
            ),
            step(
                finalize,
                "Finalize Ticket",
                admins,
                1,
                false,
                true,
                "Confirm the result and close.",
            ),
        ],
        transitions: vec![
            action(ids[3], "Accept", triage, Some(resolve)),
            action(ids[4], "Resolve", resolve, Some(finalize)),
            action(ids[5], "Send Back", resolve, Some(triage)),
            action(ids[6], "Reopen", finalize, Some(resolve)),
            action(ids[7], "Close", finalize, None),
        ],
    }
}
