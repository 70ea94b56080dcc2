//! The [`Audit`](crate::ports::store::Audit) contract: append-only entries read back equal, in the order
//! they were written, per ticket (with its task's entries) and per task.

use super::support::{at, commit, id, read, seed_task, write};
use crate::domain::audit::AuditEntry;
use crate::ids::{AuditId, TaskId, TicketId};
use crate::ports::store::Store;
use uuid::Uuid;

fn entry(audit_id: AuditId, action: &str, secs: i64, ticket: Option<TicketId>, task: Option<TaskId>) -> AuditEntry {
    AuditEntry {
        id: audit_id,
        at: at(secs),
        actor: Some(id()),
        action: action.into(),
        ticket,
        task,
        before: serde_json::Value::Null,
        after: serde_json::json!({"n": secs, "text": "ünïcödé \"quoted\"", "nested": {"list": [1, 2, 3]}}),
    }
}

/// Entries read back equal, in write order (not by time or id), per ticket and per task; a ticket's trail
/// holds its task's entries; other tickets' entries are not listed.
pub async fn audit_reads_back_in_write_order_per_ticket_and_task(store: &dyn Store) {
    let seeded = seed_task(store).await;
    let other = seed_task(store).await;
    let (ticket, task) = (Some(seeded.ticket.id), Some(seeded.task.id));
    // Ids count down and times repeat, so only the write order gives this order.
    let ids: Vec<AuditId> = (0..4u128).map(|i| AuditId(Uuid::from_u128(u128::MAX - i))).collect();
    let entries = [
        entry(ids[0], "ticket.created", 5, ticket, None),
        entry(ids[1], "task.allocated", 5, ticket, task),
        entry(ids[2], "task.action", 5, ticket, task),
    ];
    let mut tx = write(store).await;
    for e in &entries {
        tx.insert_audit(e.clone()).await.expect("append an entry");
    }
    tx.insert_audit(entry(id(), "ticket.created", 5, Some(other.ticket.id), None))
        .await
        .expect("append another ticket's entry");
    commit(tx, "audit entries").await;
    let later = entry(ids[3], "task.escalated", 1, ticket, task);
    let mut tx = write(store).await;
    tx.insert_audit(later.clone()).await.expect("append a later entry");
    commit(tx, "a later audit entry").await;

    let mut tx = read(store).await;
    let mut expected = entries.to_vec();
    expected.push(later);
    assert_eq!(
        tx.ticket_audit(seeded.ticket.id).await.expect("ticket audit"),
        expected,
        "a ticket's trail reads back equal, in write order (across units: commit order)"
    );
    assert_eq!(
        tx.task_audit(seeded.task.id).await.expect("task audit"),
        expected[1..].to_vec(),
        "a task's trail is its entries, in write order"
    );
    assert_eq!(
        tx.task_audit(id()).await.expect("audit of an unknown task"),
        Vec::new(),
        "an unknown task has none"
    );
}

/// `ticket_audit` includes the entries of the ticket's task also when they name only the task.
pub async fn ticket_audit_includes_entries_naming_only_its_task(store: &dyn Store) {
    let seeded = seed_task(store).await;
    let entries = [
        entry(id(), "ticket.created", 0, Some(seeded.ticket.id), None),
        entry(id(), "task.sla_warning", 1, None, Some(seeded.task.id)),
    ];
    let mut tx = write(store).await;
    for e in &entries {
        tx.insert_audit(e.clone()).await.expect("append an entry");
    }
    commit(tx, "audit entries").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.ticket_audit(seeded.ticket.id).await.expect("ticket audit"),
        entries.to_vec(),
        "a ticket's trail includes its task's entries that name only the task"
    );
    assert_eq!(
        tx.task_audit(seeded.task.id).await.expect("task audit"),
        entries[1..].to_vec(),
        "and the task's trail has them"
    );
}
