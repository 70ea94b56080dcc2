//! The [`Directory`](crate::ports::store::Directory) contract: users with unique e-mails, roles with
//! unique names per system, memberships, `role_members` and `roles_of`.

use super::support::{commit, id, insert_users, read, role, tag, user, write, write_error};
use crate::domain::user::{Membership, Role};
use crate::error::ErrorKind;
use crate::ports::store::{Member, Store};

/// A user reads back equal; `update_user` replaces it (name, e-mail, active flag).
pub async fn users_read_back_and_updates_replace(store: &dyn Store) {
    let u = user("Ada Lovelace");
    let mut tx = write(store).await;
    tx.insert_user(&u).await.expect("insert a user");
    commit(tx, "a user").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.user(u.id).await.expect("read").as_ref(),
        Some(&u),
        "a user reads back equal"
    );
    assert_eq!(
        tx.user(id()).await.expect("read a missing one"),
        None,
        "an unknown id reads as none"
    );
    drop(tx);
    let mut changed = u.clone();
    changed.full_name = "Ada King".into();
    changed.email = format!("ada.king-{}@example.com", tag());
    changed.is_active = false;
    let mut tx = write(store).await;
    tx.update_user(&changed).await.expect("update a user");
    commit(tx, "a user update").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.user(u.id).await.expect("read").as_ref(),
        Some(&changed),
        "an update replaces the user"
    );
}

/// Updating a user who does not exist is "not found".
pub async fn update_of_a_missing_user_is_not_found(store: &dyn Store) {
    let mut tx = write(store).await;
    let written = tx.update_user(&user("Ghost")).await;
    let err = write_error(tx.as_mut(), written, "updating a missing user fails").await;
    assert_eq!(
        err.kind(),
        ErrorKind::NotFound,
        "updating a missing user is not found: {err}"
    );
}

/// E-mails are unique ignoring case: a second user with the same e-mail, or an update onto another
/// user's e-mail, is a conflict; an e-mail freed by a change can be used again.
pub async fn user_emails_are_unique_ignoring_case(store: &dyn Store) {
    let users = insert_users(store, "Unique", 2).await;
    let mut clash = user("Clash");
    clash.email = users[0].email.to_uppercase();
    let mut tx = write(store).await;
    let written = tx.insert_user(&clash).await;
    let err = write_error(tx.as_mut(), written, "a second user with the same e-mail").await;
    assert_eq!(
        err.kind(),
        ErrorKind::Conflict,
        "a second user with the same e-mail is a conflict: {err}"
    );
    drop(tx);

    let mut onto = users[1].clone();
    onto.email = users[0].email.clone();
    let mut tx = write(store).await;
    let written = tx.update_user(&onto).await;
    let err = write_error(tx.as_mut(), written, "changing an e-mail to another user's").await;
    assert_eq!(
        err.kind(),
        ErrorKind::Conflict,
        "changing an e-mail to another user's is a conflict: {err}"
    );
    drop(tx);

    let mut away = users[0].clone();
    away.email = format!("moved-{}@example.com", tag());
    let mut tx = write(store).await;
    tx.update_user(&away).await.expect("change an e-mail");
    commit(tx, "an e-mail change").await;
    let mut tx = write(store).await;
    let written = tx.insert_user(&clash).await;
    assert!(
        written.is_ok() && tx.flush().await.is_ok(),
        "an e-mail freed by a change can be used again"
    );
    commit(tx, "a user with a freed e-mail").await;
}

/// `user_by_email` finds a user by e-mail in any case, and nobody by an unknown one.
pub async fn users_are_found_by_email_in_any_case(store: &dyn Store) {
    let users = insert_users(store, "Findable", 2).await;
    let mut tx = read(store).await;
    for u in &users {
        assert_eq!(
            tx.user_by_email(&u.email.to_uppercase()).await.expect("find").as_ref(),
            Some(u),
            "a user is found by their e-mail in upper case"
        );
    }
    assert_eq!(
        tx.user_by_email("nobody-here@example.com").await.expect("find"),
        None,
        "an unknown e-mail finds nobody"
    );
}

/// Role names are unique per system ignoring case and runs of spaces; the same name in another system
/// is a different role.
pub async fn role_names_are_unique_per_system_ignoring_case_and_spaces(store: &dyn Store) {
    let r = role("Asset Manager");
    let mut tx = write(store).await;
    tx.insert_role(&r).await.expect("insert a role");
    commit(tx, "a role").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.role(r.id).await.expect("read").as_ref(),
        Some(&r),
        "a role reads back equal"
    );
    assert_eq!(
        tx.role(id()).await.expect("read a missing one"),
        None,
        "an unknown id reads as none"
    );
    drop(tx);

    let clash = Role {
        id: id(),
        system: r.system.clone(),
        name: format!("  {}  ", r.name.to_uppercase().replace(' ', "   ")),
    };
    let mut tx = write(store).await;
    let written = tx.insert_role(&clash).await;
    let err = write_error(tx.as_mut(), written, "a second role with the same name").await;
    assert_eq!(
        err.kind(),
        ErrorKind::Conflict,
        "a role name differing only in case and spaces in the same system is a conflict: {err}"
    );
    drop(tx);

    let elsewhere = Role {
        id: id(),
        system: "hdts".into(),
        name: r.name.clone(),
    };
    let mut tx = write(store).await;
    tx.insert_role(&elsewhere)
        .await
        .expect("the same name in another system");
    commit(tx, "a role of another system").await;
}

/// `roles` lists every role ordered by system, then name.
pub async fn roles_are_ordered_by_system_then_name(store: &dyn Store) {
    let t = tag();
    let make = |system: &str, name: &str| Role {
        id: id(),
        system: system.into(),
        name: format!("{name} {t}"),
    };
    let roles = [
        make("tts", "charlie"),
        make("hdts", "Zulu"),
        make("tts", "Alpha"),
        make("tts", "bravo"),
    ];
    let mut tx = write(store).await;
    for r in &roles {
        tx.insert_role(r).await.expect("insert a role");
    }
    commit(tx, "roles").await;
    let mut tx = read(store).await;
    let listed: Vec<String> = tx
        .roles()
        .await
        .expect("list roles")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        listed,
        [&roles[1], &roles[2], &roles[3], &roles[0]].map(ToString::to_string),
        "roles are ordered by system, then name (case-insensitively)"
    );
}

/// `set_membership` needs an existing role and an existing user: either missing is "not found".
pub async fn set_membership_needs_an_existing_role_and_user(store: &dyn Store) {
    let users = insert_users(store, "Member", 1).await;
    let r = role("Members");
    let mut tx = write(store).await;
    tx.insert_role(&r).await.expect("insert a role");
    commit(tx, "a role").await;
    for (m, what) in [
        (
            Membership {
                role: id(),
                user: users[0].id,
                is_active: true,
            },
            "an unknown role",
        ),
        (
            Membership {
                role: r.id,
                user: id(),
                is_active: true,
            },
            "an unknown user",
        ),
    ] {
        let mut tx = write(store).await;
        let written = tx.set_membership(m).await;
        let err = write_error(tx.as_mut(), written, what).await;
        assert_eq!(
            err.kind(),
            ErrorKind::NotFound,
            "a membership of {what} is not found: {err}"
        );
    }
    let mut tx = read(store).await;
    assert_eq!(
        tx.role_members(r.id).await.expect("members"),
        Vec::new(),
        "refused memberships are not kept"
    );
}

/// `set_membership` adds a membership, then updates it in place (one membership per role and user);
/// `remove_membership` says whether one existed.
pub async fn set_membership_adds_then_updates_and_remove_says_if_it_existed(store: &dyn Store) {
    let users = insert_users(store, "Member", 1).await;
    let r = role("Members");
    let mut tx = write(store).await;
    tx.insert_role(&r).await.expect("insert a role");
    let m = Membership {
        role: r.id,
        user: users[0].id,
        is_active: true,
    };
    tx.set_membership(m).await.expect("add a membership");
    commit(tx, "a membership").await;
    let mut tx = write(store).await;
    tx.set_membership(Membership { is_active: false, ..m })
        .await
        .expect("update the membership");
    commit(tx, "a membership update").await;
    let mut tx = write(store).await;
    assert_eq!(
        tx.role_members(r.id).await.expect("members"),
        vec![Member {
            user: users[0].clone(),
            is_active: false
        }],
        "setting a membership again updates it in place"
    );
    assert!(
        tx.remove_membership(r.id, users[0].id).await.expect("remove"),
        "removing an existing membership says it existed"
    );
    assert!(
        !tx.remove_membership(r.id, users[0].id).await.expect("remove again"),
        "removing it again says it did not"
    );
    assert!(
        !tx.remove_membership(id(), users[0].id)
            .await
            .expect("remove from an unknown role"),
        "removing from an unknown role says none existed"
    );
    commit(tx, "a removal").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.role_members(r.id).await.expect("members"),
        Vec::new(),
        "a removed membership is gone"
    );
}

/// `role_members` lists a role's members, active or not, with their current profiles, ordered by user
/// id; other roles' members are not listed.
pub async fn role_members_come_with_their_users_ordered_by_user_id(store: &dyn Store) {
    let users = insert_users(store, "Member", 4).await;
    let r = role("Members");
    let other = role("Others");
    let mut tx = write(store).await;
    tx.insert_role(&r).await.expect("insert a role");
    tx.insert_role(&other).await.expect("insert a role");
    for (i, u) in users.iter().enumerate().rev() {
        tx.set_membership(Membership {
            role: if i == 3 { other.id } else { r.id },
            user: u.id,
            is_active: i != 1,
        })
        .await
        .expect("set a membership");
    }
    let mut renamed = users[2].clone();
    renamed.full_name = "Renamed".into();
    renamed.is_active = false;
    tx.update_user(&renamed).await.expect("update a user");
    commit(tx, "memberships").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.role_members(r.id).await.expect("members"),
        vec![
            Member {
                user: users[0].clone(),
                is_active: true
            },
            Member {
                user: users[1].clone(),
                is_active: false
            },
            Member {
                user: renamed,
                is_active: true
            },
        ],
        "members come with their current users and membership flags, ordered by user id"
    );
    assert_eq!(
        tx.role_members(id()).await.expect("members"),
        Vec::new(),
        "an unknown role has no members"
    );
}

/// `roles_of` lists the roles a user holds through an active membership, ordered by system, then name.
pub async fn roles_of_lists_only_active_memberships_ordered_by_system_then_name(store: &dyn Store) {
    let users = insert_users(store, "Holder", 2).await;
    let t = tag();
    let make = |system: &str, name: &str| Role {
        id: id(),
        system: system.into(),
        name: format!("{name} {t}"),
    };
    let roles = [
        make("tts", "bravo"),
        make("hdts", "Zulu"),
        make("tts", "Alpha"),
        make("tts", "Inactive"),
    ];
    let mut tx = write(store).await;
    for (i, r) in roles.iter().enumerate() {
        tx.insert_role(r).await.expect("insert a role");
        tx.set_membership(Membership {
            role: r.id,
            user: users[0].id,
            is_active: i != 3,
        })
        .await
        .expect("set a membership");
    }
    tx.set_membership(Membership {
        role: roles[0].id,
        user: users[1].id,
        is_active: true,
    })
    .await
    .expect("set a membership");
    commit(tx, "memberships").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.roles_of(users[0].id).await.expect("roles of a user"),
        vec![roles[1].clone(), roles[2].clone(), roles[0].clone()],
        "only roles held actively, ordered by system, then name"
    );
    assert_eq!(
        tx.roles_of(users[1].id).await.expect("roles of another user"),
        vec![roles[0].clone()],
        "each user's own roles"
    );
    assert_eq!(
        tx.roles_of(id()).await.expect("roles of nobody"),
        Vec::new(),
        "an unknown user holds none"
    );
}
