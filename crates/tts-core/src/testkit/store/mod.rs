//! The [`Store`](crate::ports::store::Store) conformance suite: one module per port trait, each case a
//! `pub async fn` whose name states the rule it checks and that panics with a message naming it.
//!
//! | module | checks |
//! |---|---|
//! | [`tickets`] | [`Tickets`](crate::ports::store::Tickets) |
//! | [`workflows`] | [`Workflows`](crate::ports::store::Workflows) |
//! | [`directory`] | [`Directory`](crate::ports::store::Directory) |
//! | [`cursors`] | [`Cursors`](crate::ports::store::Cursors) |
//! | [`tasks`] | [`Tasks`](crate::ports::store::Tasks) |
//! | [`audit`] | [`Audit`](crate::ports::store::Audit) |
//! | [`outbox`] | [`Outbox`](crate::ports::store::Outbox), `prune` of every [`Bookkeeping`](crate::ports::store::Bookkeeping) kind |
//! | [`dead_letters`] | [`DeadLetters`](crate::ports::store::DeadLetters) |
//! | [`notifications`] | [`Notifications`](crate::ports::store::Notifications) |
//! | [`comments`] | [`Comments`](crate::ports::store::Comments) and `Queries::list_comments` |
//! | [`blob_refs`] | [`BlobRefs`](crate::ports::store::BlobRefs) |
//! | [`idempotency`] | [`Idempotency`](crate::ports::store::Idempotency) |
//! | [`credentials`] | [`Credentials`](crate::ports::store::Credentials) |
//! | [`sessions`] | [`Sessions`](crate::ports::store::Sessions) and `Queries::sessions_ended_since` |
//! | [`queries`] | [`Queries`](crate::ports::store::Queries) |
//! | [`scopes`] | the ticket list's scope filters and priority counts of [`Queries`](crate::ports::store::Queries), against the rule |
//! | [`reports`] | [`Reports`](crate::ports::store::Reports), against a brute-force count |
//! | [`units`] | [`Store`](crate::ports::store::Store) itself: commit, drop, held-back writes, flush |
//! | [`locking`] | the locking rules, raced on two handles on one database |
//! | [`story`] | the seed's story through the engine on the store |
//!
//! Every case expects a **fresh, empty** database (totals, ticket numbers and pruning count everything).
//! Cases of [`locking`] take two handles on one database ([`Handles`]): two connection pools standing in
//! for two servers; [`story`] takes the store as `Arc<dyn Store>`; all others take `&dyn Store`.
//!
//! # Running the suite: [`store_conformance!`](crate::store_conformance)
//!
//! The macro expands the whole suite into one `#[tokio::test]` per case for a backend, as apalis's
//! storage test macros do, in a module you name, with a submodule per port trait. A failing test names
//! the trait and the rule: `sqlite_store::directory::user_emails_are_unique_ignoring_case`. Give it:
//!
//! - `fresh`: a closure (or path to an `async fn`) with no argument returning a future of a [`Fresh`]
//!   that holds a new, empty store and whatever must outlive the case (a temporary directory, a
//!   throw-away database), called once per case;
//! - `two_handles`: the same for the [`locking`] cases, returning [`Fresh::two`] (two handles on one new
//!   database), or [`Fresh::shared`] for a store whose state lives in its one handle (memory);
//! - optionally `scale`: a [`Scale`] for the locking cases ([`Scale::CI`] by default, sized for a
//!   2-core machine; [`Scale::THOROUGH`] does what the adapters used to, 1,000 tickets).
//!
//! The expressions are evaluated inside the generated module, which starts with `use super::*;`: refer
//! to the calling module's items by name.
//!
//! The macro expands in the calling crate, which must depend on **tokio** with the features `macros`,
//! `rt-multi-thread` and `time` (tts-core itself does not depend on tokio; the macro supplies the
//! [`Runtime`] the locking cases spawn on). The locking cases run on
//! `#[tokio::test(flavor = "multi_thread", worker_threads = 4)]`, the others on `#[tokio::test]`.
//!
//! The memory store (this crate's `tests/conformance_memory.rs`):
//!
//! ```
//! use std::sync::Arc;
//! use tts_core::memory::MemoryStore;
//! use tts_core::testkit::store::Fresh;
//!
//! tts_core::store_conformance! {
//!     mod memory_store {
//!         fresh: || async { Fresh::new(MemoryStore::new()) },
//!         two_handles: || async { Fresh::shared(Arc::new(MemoryStore::new())) },
//!     }
//! }
//! # fn main() {}
//! ```
//!
//! SQLite, one database file in a temporary directory per case (`tempfile` as a dev-dependency):
//!
//! ```ignore
//! use tts_adapters::sql::sqlite::{SqliteConfig, SqliteStore};
//! use tts_core::testkit::store::{Fresh, Scale};
//!
//! async fn open(dir: &tempfile::TempDir) -> SqliteStore {
//!     let url = format!("sqlite://{}", dir.path().join("tts.db").display());
//!     SqliteStore::connect(&SqliteConfig::new(url)).await.expect("open sqlite")
//! }
//!
//! tts_core::store_conformance! {
//!     mod sqlite_store {
//!         fresh: async || {
//!             let dir = tempfile::tempdir().expect("tempdir");
//!             Fresh::new(open(&dir).await).keep(dir)
//!         },
//!         two_handles: async || {
//!             let dir = tempfile::tempdir().expect("tempdir");
//!             let (a, b) = (open(&dir).await, open(&dir).await);
//!             Fresh::two(a, b).keep(dir)
//!         },
//!         scale: Scale::CI,
//!     }
//! }
//! ```
//!
//! PostgreSQL, one throw-away database per case (`tts_adapters::testkit::TestDb`, dropped after the
//! handles, also when the case panics):
//!
//! ```ignore
//! use tts_adapters::sql::postgres::{PgConfig, PgStore};
//! use tts_adapters::testkit::TestDb;
//! use tts_core::testkit::store::Fresh;
//!
//! async fn open(db: &TestDb, connections: u32) -> PgStore {
//!     let mut config = PgConfig::new(db.url.clone());
//!     config.max_connections = connections;
//!     PgStore::connect(&config).await.expect("connect to the test database")
//! }
//!
//! tts_core::store_conformance! {
//!     mod postgres_store {
//!         fresh: async || {
//!             let db = TestDb::create().await;
//!             Fresh::new(open(&db, 4).await).keep(db)
//!         },
//!         two_handles: async || {
//!             let db = TestDb::create().await;
//!             let (a, b) = (open(&db, 8).await, open(&db, 8).await);
//!             Fresh::two(a, b).keep(db)
//!         },
//!     }
//! }
//! ```
//!
//! Without the macro, call the cases yourself: each single-store case with `fresh.store()`, each locking
//! case with [`Fresh::handles`] and your own [`Runtime`].

pub mod audit;
pub mod blob_refs;
pub mod comments;
pub mod credentials;
pub mod cursors;
pub mod dead_letters;
pub mod directory;
mod harness;
pub mod idempotency;
pub mod locking;
pub mod notifications;
pub mod outbox;
pub mod queries;
pub mod reports;
pub mod scopes;
pub mod sessions;
pub mod story;
mod support;
pub mod tasks;
pub mod tickets;
pub mod units;
pub mod workflows;

pub use harness::{BoxTask, Fresh, Handles, Runtime, Scale};

/// Expands the store conformance suite into one `#[tokio::test]` per case for a backend; see the
/// [module documentation](crate::testkit::store) for the syntax and examples (memory, SQLite,
/// PostgreSQL). The calling crate must depend on tokio (`macros`, `rt-multi-thread`, `time`).
#[macro_export]
macro_rules! store_conformance {
    (
        $(#[$meta:meta])*
        mod $name:ident {
            fresh: $fresh:expr,
            two_handles: $two:expr
            $(, scale: $scale:expr)?
            $(,)?
        }
    ) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn __fresh() -> $crate::testkit::store::Fresh {
                let fresh = $fresh;
                fresh().await
            }

            async fn __two_handles() -> $crate::testkit::store::Fresh {
                let two = $two;
                two().await
            }

            #[allow(unused_mut)]
            fn __scale() -> $crate::testkit::store::Scale {
                let mut scale = $crate::testkit::store::Scale::default();
                $(scale = $scale;)?
                scale
            }

            /// The locking cases' runtime: tokio, in the calling crate.
            struct __Tokio;

            impl $crate::testkit::store::Runtime for __Tokio {
                fn spawn(&self, task: $crate::testkit::store::BoxTask) -> $crate::testkit::store::BoxTask {
                    let handle = ::tokio::spawn(task);
                    ::std::boxed::Box::pin(async move {
                        if let ::std::result::Result::Err(e) = handle.await {
                            match e.try_into_panic() {
                                ::std::result::Result::Ok(panic) => ::std::panic::resume_unwind(panic),
                                ::std::result::Result::Err(e) => ::std::panic!("a spawned task failed: {e}"),
                            }
                        }
                    })
                }

                fn sleep(&self, duration: ::std::time::Duration) -> $crate::testkit::store::BoxTask {
                    ::std::boxed::Box::pin(::tokio::time::sleep(duration))
                }
            }

            fn __handles(fresh: &$crate::testkit::store::Fresh) -> $crate::testkit::store::Handles {
                fresh.handles(::std::sync::Arc::new(__Tokio), __scale())
            }

            $crate::__store_conformance_cases! {
                store tickets:
                    ticket_keys_count_per_year_from_one_with_fresh_ids,
                    ticket_keys_in_batches_continue_the_sequence,
                    committed_ticket_keys_continue_in_the_next_unit,
                    tickets_read_back_equal_by_id_and_number,
                    ticket_with_task_brings_the_task,
                    tickets_with_tasks_read_in_id_order_each_once,
                    duplicate_ticket_number_is_a_conflict,
                    update_ticket_requires_the_next_version,
                    update_of_a_missing_ticket_is_not_found,
            }
            $crate::__store_conformance_cases! {
                store workflows:
                    workflows_read_back_and_updates_replace,
                    update_of_a_missing_workflow_is_not_found,
                    workflow_names_are_unique_ignoring_case_and_spaces,
                    workflows_list_by_status_ordered_by_name,
                    workflow_versions_are_frozen_and_unique,
                    workflows_revision_moves_with_every_workflow_write,
            }
            $crate::__store_conformance_cases! {
                store directory:
                    users_read_back_and_updates_replace,
                    update_of_a_missing_user_is_not_found,
                    user_emails_are_unique_ignoring_case,
                    users_are_found_by_email_in_any_case,
                    role_names_are_unique_per_system_ignoring_case_and_spaces,
                    roles_are_ordered_by_system_then_name,
                    set_membership_needs_an_existing_role_and_user,
                    set_membership_adds_then_updates_and_remove_says_if_it_existed,
                    role_members_come_with_their_users_ordered_by_user_id,
                    roles_of_lists_only_active_memberships_ordered_by_system_then_name,
            }
            $crate::__store_conformance_cases! {
                store cursors:
                    candidates_are_ordered_by_user_id_and_active_when_membership_and_user_are,
                    candidates_count_open_assignments_only_with_load,
                    lock_pick_state_reads_the_candidates_and_the_cursor,
                    set_cursor_moves_the_cursor_after_commit,
            }
            $crate::__store_conformance_cases! {
                store tasks:
                    tasks_read_back_by_id_and_by_ticket,
                    a_ticket_has_at_most_one_task,
                    update_task_requires_the_next_version,
                    task_assignments_read_back_oldest_first,
                    update_assignment_checks_the_version_and_an_append_only_history,
                    assignments_due_lists_due_warnings_and_breaches_oldest_target_first,
            }
            $crate::__store_conformance_cases! {
                store audit:
                    audit_reads_back_in_write_order_per_ticket_and_task,
                    ticket_audit_includes_entries_naming_only_its_task,
            }
            $crate::__store_conformance_cases! {
                store outbox:
                    outbox_messages_read_back_in_write_order,
                    sent_messages_never_come_back,
                    claims_take_due_messages_of_one_queue_in_write_order,
                    a_retried_message_counts_its_failures_and_waits_until_due,
                    a_leased_message_waits_without_counting_a_failure,
                    record_processed_is_true_only_the_first_time_per_consumer,
                    record_processed_many_answers_per_id_in_order,
                    prune_deletes_old_dedup_records_up_to_the_limit,
                    prune_deletes_old_idempotency_records,
                    prune_deletes_expired_sessions,
                    prune_deletes_stale_login_throttles,
                    a_dropped_prune_deletes_nothing,
                    outbox_backlog_counts_waiting_messages_per_queue,
            }
            $crate::__store_conformance_cases! {
                store dead_letters:
                    dead_letters_read_back_whole_until_deleted,
                    dead_letters_are_counted_per_queue,
            }
            $crate::__store_conformance_cases! {
                store notifications:
                    notifications_read_back_and_updates_replace,
                    update_of_a_missing_notification_is_not_found,
                    mark_all_read_marks_only_the_users_unread_ones_and_counts_them,
            }
            $crate::__store_conformance_cases! {
                store comments:
                    comments_read_back_equal_and_ids_are_unique,
                    update_comment_requires_the_next_version,
                    comment_list_is_the_tickets_thread_oldest_first,
            }
            $crate::__store_conformance_cases! {
                store blob_refs:
                    a_blob_is_an_orphan_only_when_nothing_uses_it,
                    reuse_saves_a_blob_and_release_needs_no_user,
            }
            $crate::__store_conformance_cases! {
                store idempotency:
                    idempotency_records_read_back_whole,
                    idempotency_keys_are_per_user_and_case_sensitive,
                    a_used_idempotency_key_is_a_conflict,
            }
            $crate::__store_conformance_cases! {
                store credentials:
                    credentials_are_found_by_email_ignoring_case_and_spaces,
                    setting_a_credential_again_replaces_it,
                    a_credential_under_a_new_email_frees_the_old_one,
                    an_email_another_user_logs_in_with_is_a_conflict,
                    throttle_counters_are_independent_per_email_and_client,
                    setting_a_throttle_to_none_deletes_it,
            }
            $crate::__store_conformance_cases! {
                store sessions:
                    sessions_read_back_as_started,
                    starting_a_session_with_a_used_id_is_a_conflict,
                    save_session_replaces_token_expiry_and_end,
                    ending_one_session_ends_only_it_once,
                    ending_a_users_sessions_spares_the_kept_one_and_others,
                    ended_sessions_show_in_sessions_ended_since_oldest_first,
            }
            $crate::__store_conformance_cases! {
                store queries:
                    ticket_list_filters_each_hold_and_count_the_total,
                    ticket_list_visible_to_is_own_and_held_tickets,
                    ticket_list_orderings,
                    ticket_pages_never_overlap_or_skip_and_past_the_end_is_empty,
                    assignment_list_filters_by_user_and_open_newest_first,
                    notification_list_filters_by_user_and_read_newest_first,
                    user_list_is_ordered_by_email_with_totals,
                    a_user_is_read_by_id_without_a_unit,
                    dead_letter_list_is_newest_first_with_totals,
            }
            $crate::__store_conformance_cases! {
                store scopes:
                    ticket_scope_filters_each_hold_and_count_the_total,
                    ticket_scopes_equal_the_rule_over_a_generated_history,
            }
            $crate::__store_conformance_cases! {
                store reports:
                    every_report_equals_a_brute_force_count,
                    reports_of_an_empty_store_are_zeros,
            }
            $crate::__store_conformance_cases! {
                store units:
                    commit_makes_every_write_visible,
                    drop_discards_every_write,
                    drop_gives_back_taken_ticket_numbers,
                    a_unit_reads_its_own_held_back_writes,
                    a_failing_held_back_write_fails_the_commit_and_keeps_nothing,
                    write_errors_surface_at_the_write_or_the_next_flush,
                    background_units_write_like_foreground_ones,
            }
            $crate::__store_conformance_cases! {
                handles locking:
                    two_handles_never_assign_a_round_robin_slot_twice,
                    batches_on_two_servers_with_two_roles_never_deadlock,
                    of_two_concurrent_actions_on_one_assignment_exactly_one_wins,
                    concurrent_units_take_consecutive_ticket_numbers,
                    racing_requests_on_one_idempotency_key_create_one_ticket,
                    a_session_row_lock_serializes_two_refreshes,
                    lock_pick_state_serializes_even_the_first_pick_of_a_role,
                    two_relays_never_claim_the_same_outbox_message,
                    two_consumers_never_claim_the_same_outbox_message,
                    two_servers_sweeping_slas_at_once_breach_each_assignment_once,
                    a_throttle_counter_is_locked_so_concurrent_failures_all_count,
                    concurrent_updates_of_one_ticket_lose_nothing,
                    other_units_see_a_commit_all_at_once_and_never_before,
            }
            $crate::__store_conformance_cases! {
                arc story:
                    the_seed_story_runs_end_to_end,
            }
        }
    };
}

/// One module of [`store_conformance!`](crate::store_conformance): a `#[tokio::test]` per case, by the
/// kind of store the cases take. Not for direct use.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_cases {
    (store $module:ident: $($case:ident),+ $(,)?) => {
        mod $module {
            $(
                #[::tokio::test]
                async fn $case() {
                    let fresh = super::__fresh().await;
                    $crate::testkit::store::$module::$case(fresh.store()).await;
                }
            )+
        }
    };
    (arc $module:ident: $($case:ident),+ $(,)?) => {
        mod $module {
            $(
                #[::tokio::test]
                async fn $case() {
                    let fresh = super::__fresh().await;
                    $crate::testkit::store::$module::$case(fresh.arc()).await;
                }
            )+
        }
    };
    (handles $module:ident: $($case:ident),+ $(,)?) => {
        mod $module {
            $(
                #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let fresh = super::__two_handles().await;
                    let handles = super::__handles(&fresh);
                    $crate::testkit::store::$module::$case(&handles).await;
                }
            )+
        }
    };
}

#[cfg(test)]
mod tests {
    /// Every case of every module is in the macro, so a backend running the macro runs all of them.
    #[test]
    fn every_case_is_expanded_by_the_macro() {
        let macro_text = include_str!("mod.rs");
        let modules = [
            ("tickets", include_str!("tickets.rs")),
            ("workflows", include_str!("workflows.rs")),
            ("directory", include_str!("directory.rs")),
            ("cursors", include_str!("cursors.rs")),
            ("tasks", include_str!("tasks.rs")),
            ("audit", include_str!("audit.rs")),
            ("outbox", include_str!("outbox.rs")),
            ("dead_letters", include_str!("dead_letters.rs")),
            ("notifications", include_str!("notifications.rs")),
            ("idempotency", include_str!("idempotency.rs")),
            ("credentials", include_str!("credentials.rs")),
            ("sessions", include_str!("sessions.rs")),
            ("queries", include_str!("queries.rs")),
            ("scopes", include_str!("scopes.rs")),
            ("units", include_str!("units.rs")),
            ("locking", include_str!("locking.rs")),
            ("story", include_str!("story.rs")),
        ];
        let mut missing = Vec::new();
        let mut total = 0;
        for (module, text) in modules {
            let start = macro_text
                .find(&format!(" {module}:\n"))
                .unwrap_or_else(|| panic!("module {module} is not in the macro"));
            let section = &macro_text[start..];
            let section = &section[..section.find('}').unwrap_or(section.len())];
            for line in text.lines() {
                let Some(rest) = line.strip_prefix("pub async fn ") else {
                    continue;
                };
                let name = rest.split('(').next().unwrap_or_default();
                total += 1;
                if !section.contains(&format!("                    {name},\n")) {
                    missing.push(format!("{module}::{name}"));
                }
            }
        }
        assert!(missing.is_empty(), "cases missing from store_conformance!: {missing:?}");
        assert!(total > 60, "found only {total} cases");
    }
}
