//! The original system's seeded three-step workflow, with roles and people, on any engine.

use crate::domain::user::{Actor, Role, User};
use crate::domain::workflow::{
    AssignmentStrategy, MatchKey, Position, Sla, Step, Transition, Workflow, WorkflowDefinition,
};
use crate::engine::{Engine, NewUser};
use crate::error::Result;
use crate::ids::{ActionId, RoleId, StepId};
use uuid::Uuid;

/// Everything [`three_step`] created.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// `tts:Admin`: works Triage and Finalize.
    pub admin_role: Role,
    /// `tts:Asset Manager`: works Resolve.
    pub agent_role: Role,
    /// `tts:Senior Agent`: receives escalations.
    pub senior_role: Role,
    /// Holders of `tts:Admin`, ordered by id.
    pub admins: Vec<User>,
    /// Holders of `tts:Asset Manager`, ordered by id.
    pub agents: Vec<User>,
    /// Holders of `tts:Senior Agent`.
    pub seniors: Vec<User>,
    /// A plain user who opens tickets.
    pub requester: User,
    /// The published workflow.
    pub workflow: Workflow,
    /// Triage, Resolve, Finalize.
    pub steps: [StepId; 3],
    /// Submit (Triage -> Resolve).
    pub submit: ActionId,
    /// Approve (Resolve -> Finalize).
    pub approve: ActionId,
    /// Reject (Resolve -> Triage).
    pub reject: ActionId,
    /// Close (Finalize -> done).
    pub close: ActionId,
}

impl Fixture {
    /// The actor of a user: admin if they hold `tts:Admin`, agent if they hold another role.
    pub fn actor(&self, user: &User) -> Actor {
        let holds = |list: &[User]| list.iter().any(|a| a.id == user.id);
        Actor {
            user: user.id,
            is_admin: holds(&self.admins),
            is_agent: holds(&self.agents) || holds(&self.seniors),
        }
    }

    /// The requester's actor.
    pub fn requester_actor(&self) -> Actor {
        Actor::user(self.requester.id)
    }
}

/// The seed's definition: Triage Ticket (admin) -> Resolve Ticket (agents) -> Finalize Ticket (admin),
/// Reject back from Resolve to Triage, every step escalating to `senior`; SLA critical 4 h, high 8 h,
/// medium 2 d, low 5 d; weights 20/60/20.
pub fn three_step_definition(name: &str, admin: RoleId, agent: RoleId, senior: RoleId) -> WorkflowDefinition {
    let ids = [StepId(Uuid::now_v7()), StepId(Uuid::now_v7()), StepId(Uuid::now_v7())];
    let step = |i: usize, name: &str, role, weight| Step {
        id: ids[i],
        name: name.into(),
        role_id: role,
        description: format!("{name} for the ticket"),
        instruction: format!("Do the {} work, then choose an action.", name.to_lowercase()),
        weight,
        escalate_to: Some(senior),
        is_start: i == 0,
        is_end: i == 2,
        position: Position {
            x: 0.0,
            y: 200.0 * i as f64,
        },
        strategy: AssignmentStrategy::RoundRobin,
    };
    let t = |name: &str, from: usize, to: Option<usize>| Transition {
        id: ActionId(Uuid::now_v7()),
        name: name.into(),
        from_step: ids[from],
        to_step: to.map(|i| ids[i]),
    };
    WorkflowDefinition {
        name: name.into(),
        description: "Triage, resolve and finalize an asset check-in.".into(),
        match_key: MatchKey {
            category: "Asset Check In".into(),
            department: Some("Asset Department".into()),
            ..MatchKey::default()
        },
        is_default: false,
        sla: Sla {
            critical: Some(4 * 3600),
            high: Some(8 * 3600),
            medium: Some(2 * 86400),
            low: Some(5 * 86400),
        },
        steps: vec![
            step(0, "Triage Ticket", admin, 20),
            step(1, "Resolve Ticket", agent, 60),
            step(2, "Finalize Ticket", admin, 20),
        ],
        transitions: vec![
            t("Submit", 0, Some(1)),
            t("Approve", 1, Some(2)),
            t("Reject", 1, Some(0)),
            t("Close", 2, None),
        ],
    }
}

/// Creates roles, `admins` admins, `agents` agents, one senior and one requester, then publishes the
/// three-step workflow. Role and user names carry a random tag; the workflow's match key is the seed's, so
/// use one fixture per store.
pub async fn three_step(engine: &Engine, admins: usize, agents: usize) -> Result<Fixture> {
    let sys = Actor::system();
    let tag = Uuid::now_v7().simple().to_string();
    let tag = &tag[tag.len() - 8..];
    let admin_role = match engine.roles().await?.into_iter().find(Role::is_admin) {
        Some(r) => r,
        None => engine.create_role(sys, "tts", "Admin").await?,
    };
    let agent_role = engine.create_role(sys, "tts", &format!("Asset Manager {tag}")).await?;
    let senior_role = engine.create_role(sys, "tts", &format!("Senior Agent {tag}")).await?;
    let people = |prefix: &'static str, n: usize, role: RoleId| async move {
        let mut users = Vec::new();
        for i in 0..n {
            let u = engine
                .create_user(
                    sys,
                    NewUser {
                        email: format!("{prefix}{i}-{tag}@example.com"),
                        full_name: format!("{prefix} {i}"),
                        password: Some(format!("{prefix}-password-{i}")),
                    },
                )
                .await?;
            engine.set_membership(sys, role, u.id, true).await?;
            users.push(u);
        }
        users.sort_by_key(|u| u.id);
        Ok::<_, crate::error::Error>(users)
    };
    let admins = people("admin", admins, admin_role.id).await?;
    let agents = people("agent", agents, agent_role.id).await?;
    let seniors = people("senior", 1, senior_role.id).await?;
    let requester = engine
        .create_user(
            sys,
            NewUser {
                email: format!("requester-{tag}@example.com"),
                full_name: "Requester".into(),
                password: Some("requester-password".into()),
            },
        )
        .await?;
    let def = three_step_definition(
        &format!("Asset Check In Workflow {tag}"),
        admin_role.id,
        agent_role.id,
        senior_role.id,
    );
    let steps = [def.steps[0].id, def.steps[1].id, def.steps[2].id];
    let [submit, approve, reject, close] = [0, 1, 2, 3].map(|i| def.transitions[i].id);
    let draft = engine.create_workflow(sys, def).await?;
    let workflow = engine.publish_workflow(sys, draft.id).await?;
    Ok(Fixture {
        admin_role,
        agent_role,
        senior_role,
        admins,
        agents,
        seniors,
        requester,
        workflow,
        steps,
        submit,
        approve,
        reject,
        close,
    })
}

/// What [`one_step`] created.
#[derive(Debug, Clone)]
pub struct OneStep {
    /// The role the step is assigned in.
    pub role: Role,
    /// Its active holders, ordered by id.
    pub users: Vec<User>,
    /// The published workflow (category `Load`, or the one given to [`one_step_for`]).
    pub workflow: Workflow,
    /// The action that completes the task.
    pub done: ActionId,
}

/// A role of `users` active holders and a published one-step round-robin workflow for category `Load`:
/// the smallest setup that exercises allocation, for concurrency tests and throughput benchmarks.
pub async fn one_step(engine: &Engine, users: usize) -> Result<OneStep> {
    one_step_for(engine, users, "Load").await
}

/// [`one_step`] for tickets of `category`: several of them give several roles, each with its own cursor.
pub async fn one_step_for(engine: &Engine, users: usize, category: &str) -> Result<OneStep> {
    let sys = Actor::system();
    let tag = Uuid::now_v7().simple().to_string();
    let tag = &tag[tag.len() - 8..];
    let role = engine.create_role(sys, "tts", &format!("Dispatch {tag}")).await?;
    let mut members = Vec::new();
    for i in 0..users {
        let new = NewUser {
            email: format!("dispatch{i}-{tag}@example.com"),
            full_name: format!("Dispatcher {i}"),
            password: None,
        };
        let u = engine.create_user(sys, new).await?;
        engine.set_membership(sys, role.id, u.id, true).await?;
        members.push(u);
    }
    members.sort_by_key(|u| u.id);
    let (step, done) = (StepId(Uuid::now_v7()), ActionId(Uuid::now_v7()));
    let def = WorkflowDefinition {
        name: format!("Dispatch {tag}"),
        description: "One step: handle it.".into(),
        match_key: MatchKey {
            category: category.into(),
            ..MatchKey::default()
        },
        is_default: false,
        sla: Sla {
            medium: Some(3600),
            ..Sla::default()
        },
        steps: vec![Step {
            id: step,
            name: "Handle".into(),
            role_id: role.id,
            description: String::new(),
            instruction: String::new(),
            weight: 1,
            escalate_to: None,
            is_start: true,
            is_end: true,
            position: Position::default(),
            strategy: AssignmentStrategy::RoundRobin,
        }],
        transitions: vec![Transition {
            id: done,
            name: "Done".into(),
            from_step: step,
            to_step: None,
        }],
    };
    let draft = engine.create_workflow(sys, def).await?;
    let workflow = engine.publish_workflow(sys, draft.id).await?;
    Ok(OneStep {
        role,
        users: members,
        workflow,
        done,
    })
}
