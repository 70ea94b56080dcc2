//! The [`Workflows`](crate::ports::store::Workflows) contract: unique names, updates, the status filter,
//! frozen versions and the revision counter.

use super::support::{commit, id, insert_ticket, read, tag, workflow, write, write_error};
use crate::domain::ticket::NewTicket;
use crate::domain::workflow::WorkflowStatus;
use crate::error::ErrorKind;
use crate::ports::store::Store;

/// A workflow reads back equal; `update_workflow` replaces its current state.
pub async fn workflows_read_back_and_updates_replace(store: &dyn Store) {
    let mut w = workflow(&format!("Read back {}", tag()));
    let mut tx = write(store).await;
    tx.insert_workflow(&w).await.expect("insert a workflow");
    commit(tx, "a workflow").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.workflow(w.id).await.expect("read").as_ref(),
        Some(&w),
        "a workflow reads back equal"
    );
    assert_eq!(
        tx.workflow(id()).await.expect("read a missing one"),
        None,
        "an unknown id reads as none"
    );
    drop(tx);
    w.definition.description = "edited".into();
    w.definition.steps[0].name = "Renamed step".into();
    w.status = WorkflowStatus::Paused;
    w.version = 3;
    let mut tx = write(store).await;
    tx.update_workflow(&w).await.expect("update a workflow");
    commit(tx, "a workflow update").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.workflow(w.id).await.expect("read").as_ref(),
        Some(&w),
        "an update replaces the workflow's current state"
    );
}

/// Updating a workflow that does not exist is "not found".
pub async fn update_of_a_missing_workflow_is_not_found(store: &dyn Store) {
    let w = workflow(&format!("Ghost {}", tag()));
    let mut tx = write(store).await;
    let written = tx.update_workflow(&w).await;
    let err = write_error(tx.as_mut(), written, "updating a missing workflow fails").await;
    assert_eq!(
        err.kind(),
        ErrorKind::NotFound,
        "updating a missing workflow is not found: {err}"
    );
}

/// Workflow names are unique ignoring case and runs of spaces, on insert and on rename; a rename frees
/// the old name.
pub async fn workflow_names_are_unique_ignoring_case_and_spaces(store: &dyn Store) {
    let t = tag();
    let w = workflow(&format!("Asset Intake {t}"));
    let mut tx = write(store).await;
    tx.insert_workflow(&w).await.expect("insert a workflow");
    commit(tx, "a workflow").await;

    let clash = workflow(&format!("  asset   INTAKE {t} "));
    let mut tx = write(store).await;
    let written = tx.insert_workflow(&clash).await;
    let err = write_error(tx.as_mut(), written, "a second workflow with the same name").await;
    assert_eq!(
        err.kind(),
        ErrorKind::Conflict,
        "a workflow name differing only in case and spaces is a conflict: {err}"
    );
    drop(tx);

    let other = workflow(&format!("Other {t}"));
    let mut tx = write(store).await;
    tx.insert_workflow(&other).await.expect("insert another workflow");
    commit(tx, "another workflow").await;
    let mut renamed = other.clone();
    renamed.definition.name = format!("ASSET intake {t}");
    let mut tx = write(store).await;
    let written = tx.update_workflow(&renamed).await;
    let err = write_error(tx.as_mut(), written, "renaming onto a used name").await;
    assert_eq!(
        err.kind(),
        ErrorKind::Conflict,
        "renaming a workflow onto a used name is a conflict: {err}"
    );
    drop(tx);

    let mut moved = w.clone();
    moved.definition.name = format!("Asset Intake {t} (old)");
    let mut tx = write(store).await;
    tx.update_workflow(&moved).await.expect("rename a workflow");
    commit(tx, "a rename").await;
    let mut tx = write(store).await;
    let written = tx.insert_workflow(&clash).await;
    assert!(
        written.is_ok() && tx.flush().await.is_ok(),
        "a renamed workflow's old name is free again"
    );
    commit(tx, "a workflow under a freed name").await;
}

/// `workflows(status)` lists every workflow, or those of one status, ordered by name.
pub async fn workflows_list_by_status_ordered_by_name(store: &dyn Store) {
    let t = tag();
    let mut all = Vec::new();
    let mut tx = write(store).await;
    for (name, status) in [
        ("charlie", WorkflowStatus::Active),
        ("Alpha", WorkflowStatus::Draft),
        ("bravo", WorkflowStatus::Active),
        ("Delta", WorkflowStatus::Archived),
    ] {
        let mut w = workflow(&format!("{name} {t}"));
        w.status = status;
        tx.insert_workflow(&w).await.expect("insert a workflow");
        all.push(w);
    }
    commit(tx, "workflows").await;
    let mut tx = read(store).await;
    let names = |list: Vec<crate::domain::workflow::Workflow>| {
        list.into_iter()
            .map(|w| w.definition.name.split(' ').next().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(tx.workflows(None).await.expect("list all")),
        ["Alpha", "bravo", "charlie", "Delta"],
        "all workflows, ordered by name (case-insensitively)"
    );
    assert_eq!(
        names(tx.workflows(Some(WorkflowStatus::Active)).await.expect("list active")),
        ["bravo", "charlie"],
        "only active workflows, ordered by name"
    );
    assert_eq!(
        tx.workflows(Some(WorkflowStatus::Paused)).await.expect("list paused"),
        Vec::new(),
        "a status nobody has lists nothing"
    );
}

/// A published version never changes: it reads back as inserted while the workflow moves on, a second
/// insert of the same `(id, version)` is a conflict, and unknown versions read as none.
pub async fn workflow_versions_are_frozen_and_unique(store: &dyn Store) {
    let mut w = workflow(&format!("Frozen {}", tag()));
    w.version = 1;
    w.status = WorkflowStatus::Active;
    let mut tx = write(store).await;
    tx.insert_workflow(&w).await.expect("insert a workflow");
    tx.insert_workflow_version(&w).await.expect("freeze version 1");
    commit(tx, "a workflow and its version").await;

    let mut edited = w.clone();
    edited.definition.steps[0].name = "Edited".into();
    edited.status = WorkflowStatus::Paused;
    let mut tx = write(store).await;
    tx.update_workflow(&edited).await.expect("edit the workflow");
    commit(tx, "an edit").await;

    let mut tx = write(store).await;
    let written = tx.insert_workflow_version(&edited).await;
    let err = write_error(tx.as_mut(), written, "freezing a version twice").await;
    assert_eq!(
        err.kind(),
        ErrorKind::Conflict,
        "inserting a version twice is a conflict: {err}"
    );
    drop(tx);

    let mut tx = read(store).await;
    assert_eq!(
        tx.workflow_version(w.id, 1).await.expect("read version 1").as_deref(),
        Some(&w),
        "a version reads back as it was inserted, whatever happened to the workflow since"
    );
    assert_eq!(
        tx.workflow_version(w.id, 2).await.expect("read version 2"),
        None,
        "an unknown version is none"
    );
    assert_eq!(
        tx.workflow_version(id(), 1).await.expect("read another id"),
        None,
        "an unknown workflow is none"
    );
    drop(tx);

    let mut second = edited.clone();
    second.version = 2;
    second.status = WorkflowStatus::Active;
    let mut tx = write(store).await;
    tx.insert_workflow_version(&second).await.expect("freeze version 2");
    commit(tx, "version 2").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.workflow_version(w.id, 1).await.expect("read version 1").as_deref(),
        Some(&w),
        "versions are independent"
    );
    assert_eq!(
        tx.workflow_version(w.id, 2).await.expect("read version 2").as_deref(),
        Some(&second),
        "each version reads back as inserted"
    );
}

/// `workflows_revision` moves with every workflow insert and update: in the writing unit at once, and for
/// everyone after commit; reading tickets or writing anything else leaves it alone; a dropped unit's
/// writes leave the committed revision as it was.
pub async fn workflows_revision_moves_with_every_workflow_write(store: &dyn Store) {
    let mut tx = read(store).await;
    let rev0 = tx.workflows_revision().await.expect("read the revision");
    drop(tx);

    let ticket = insert_ticket(store, NewTicket::new("Not a workflow", "C"), id(), super::support::t0()).await;
    let mut tx = write(store).await;
    tx.ticket_with_task(ticket.id).await.expect("read a ticket");
    assert_eq!(
        tx.workflows_revision().await.expect("read the revision"),
        rev0,
        "tickets do not move the workflow revision"
    );
    let mut w = workflow(&format!("Revision {}", tag()));
    tx.insert_workflow(&w).await.expect("insert a workflow");
    let rev1 = tx.workflows_revision().await.expect("read the revision");
    assert_ne!(rev1, rev0, "a unit's own workflow insert moves the revision it reads");
    commit(tx, "a workflow").await;

    let mut tx = read(store).await;
    let after_insert = tx.workflows_revision().await.expect("read the revision");
    assert_ne!(after_insert, rev0, "a committed insert moves the revision for everyone");
    drop(tx);

    w.status = WorkflowStatus::Active;
    w.version = 1;
    let mut tx = write(store).await;
    tx.update_workflow(&w).await.expect("update the workflow");
    let rev2 = tx.workflows_revision().await.expect("read the revision");
    assert_ne!(
        rev2, after_insert,
        "a unit's own workflow update moves the revision it reads"
    );
    drop(tx);
    let mut tx = read(store).await;
    assert_eq!(
        tx.workflows_revision().await.expect("read the revision"),
        after_insert,
        "a dropped update leaves the revision as committed"
    );
    drop(tx);

    let mut tx = write(store).await;
    tx.update_workflow(&w).await.expect("update the workflow");
    commit(tx, "a workflow update").await;
    let mut tx = read(store).await;
    assert_ne!(
        tx.workflows_revision().await.expect("read the revision"),
        after_insert,
        "a committed update moves the revision for everyone"
    );
}
