use super::*;
use uuid::Uuid;

fn roles() -> (RoleId, RoleId, BTreeMap<RoleId, String>) {
    let (a, b) = (RoleId(Uuid::new_v4()), RoleId(Uuid::new_v4()));
    (a, b, BTreeMap::from([(a, "tts:Admin".into()), (b, "tts:IT".into())]))
}

fn step_form(op: &str, id: &str, role: RoleId) -> StepForm {
    StepForm {
        op: op.into(),
        step: id.into(),
        name: "Triage".into(),
        role: role.to_string(),
        weight: "2".into(),
        is_start: Some("on".into()),
        ..StepForm::default()
    }
}

fn empty() -> WorkflowDefinition {
    draft("Support", "Technical Support").unwrap()
}

fn field_of(e: &ApiError) -> String {
    e.explain().1.fields.keys().next().cloned().unwrap_or_default()
}

#[test]
fn hours_round_trip_and_refuse_nonsense() {
    assert_eq!(hours("sla_low", "").unwrap(), None);
    assert_eq!(hours("sla_low", "4").unwrap(), Some(4 * 3600));
    assert_eq!(hours("sla_low", "0.5").unwrap(), Some(1800));
    assert_eq!(as_hours(Some(1800)), "0.5");
    assert_eq!(as_hours(Some(7200)), "2");
    assert_eq!(as_hours(None), "");
    for bad in ["0", "-1", "abc", "NaN", "inf", "1e9"] {
        assert_eq!(field_of(&hours("sla_low", bad).unwrap_err()), "sla_low", "{bad}");
    }
}

#[test]
fn meta_sets_every_field_and_names_the_bad_one() {
    let form = MetaForm {
        name: " Hardware ".into(),
        category: "Asset".into(),
        subcategory: "".into(),
        department: "IT".into(),
        priority: "high".into(),
        is_default: Some("on".into()),
        sla_critical: "1".into(),
        sla_high: "4".into(),
        ..MetaForm::default()
    };
    let def = apply_meta(empty(), &form).unwrap();
    assert_eq!(def.name, "Hardware");
    assert_eq!(def.match_key.category, "Asset");
    assert_eq!(def.match_key.subcategory, None);
    assert_eq!(def.match_key.department.as_deref(), Some("IT"));
    assert_eq!(def.match_key.priority, Some(Priority::High));
    assert!(def.is_default);
    assert_eq!(
        (def.sla.critical, def.sla.high, def.sla.low),
        (Some(3600), Some(14400), None)
    );
    let bad_priority = MetaForm {
        priority: "someday".into(),
        ..form
    };
    assert_eq!(field_of(&apply_meta(empty(), &bad_priority).unwrap_err()), "priority");
    let no_name = MetaForm {
        name: " ".into(),
        category: "x".into(),
        ..MetaForm::default()
    };
    assert_eq!(field_of(&apply_meta(empty(), &no_name).unwrap_err()), "name");
}

#[test]
fn steps_are_added_saved_and_deleted_with_their_transitions() {
    let (admin, it, roles) = roles();
    let (s1, s2) = (StepId(Uuid::new_v4()), StepId(Uuid::new_v4()));
    let def = apply_step(empty(), &step_form("add", "", admin), &roles, s1).unwrap();
    let mut second = step_form("add", "", it);
    second.name = "Fix".into();
    second.is_start = None;
    second.is_end = Some("on".into());
    second.escalate_to = admin.to_string();
    second.strategy = "least_loaded".into();
    let def = apply_step(def, &second, &roles, s2).unwrap();
    assert_eq!(def.steps.len(), 2);
    let fix = &def.steps[1];
    assert_eq!(
        (fix.id, fix.role_id, fix.is_end, fix.escalate_to),
        (s2, it, true, Some(admin))
    );
    assert_eq!(fix.strategy, AssignmentStrategy::LeastLoaded);

    let t = TransitionForm {
        op: "add".into(),
        from: s1.to_string(),
        to: s2.to_string(),
        name: "Send to IT".into(),
        ..TransitionForm::default()
    };
    let def = apply_transition(def, &t, ActionId(Uuid::new_v4())).unwrap();
    let done = TransitionForm {
        from: s2.to_string(),
        to: String::new(),
        name: "Resolve".into(),
        ..t
    };
    let def = apply_transition(def, &done, ActionId(Uuid::new_v4())).unwrap();
    assert_eq!(def.transitions[1].to_step, None);

    let mut rename = step_form("save", &s1.to_string(), admin);
    rename.name = "Triage ticket".into();
    rename.weight = "3".into();
    let def = apply_step(def, &rename, &roles, StepId(Uuid::new_v4())).unwrap();
    assert_eq!((def.steps[0].name.as_str(), def.steps[0].weight), ("Triage ticket", 3));
    assert_eq!(def.steps.len(), 2, "saving adds nothing");

    let delete = StepForm {
        op: "delete".into(),
        step: s1.to_string(),
        ..StepForm::default()
    };
    let def = apply_step(def, &delete, &roles, StepId(Uuid::new_v4())).unwrap();
    assert_eq!(def.steps.len(), 1);
    assert_eq!(
        def.transitions.len(),
        1,
        "the transition from the deleted step went with it"
    );
    assert_eq!(def.transitions[0].name, "Resolve");
}

#[test]
fn bad_rows_name_their_field() {
    let (admin, _, roles) = roles();
    let cases: Vec<(StepForm, &str)> = vec![
        (
            StepForm {
                weight: "0".into(),
                ..step_form("add", "", admin)
            },
            "weight",
        ),
        (
            StepForm {
                weight: "x".into(),
                ..step_form("add", "", admin)
            },
            "weight",
        ),
        (
            StepForm {
                role: Uuid::new_v4().to_string(),
                ..step_form("add", "", admin)
            },
            "role",
        ),
        (
            StepForm {
                escalate_to: "nobody".into(),
                ..step_form("add", "", admin)
            },
            "escalate_to",
        ),
        (
            StepForm {
                strategy: "random".into(),
                ..step_form("add", "", admin)
            },
            "strategy",
        ),
        (
            StepForm {
                name: "".into(),
                ..step_form("add", "", admin)
            },
            "name",
        ),
        (step_form("save", &Uuid::new_v4().to_string(), admin), "step"),
        (step_form("rename", "", admin), "op"),
    ];
    for (form, field) in cases {
        let e = apply_step(empty(), &form, &roles, StepId(Uuid::new_v4())).unwrap_err();
        assert_eq!(field_of(&e), field, "{form:?}");
    }
    let t = TransitionForm {
        op: "add".into(),
        from: Uuid::new_v4().to_string(),
        name: "Go".into(),
        ..TransitionForm::default()
    };
    assert_eq!(
        field_of(&apply_transition(empty(), &t, ActionId(Uuid::new_v4())).unwrap_err()),
        "from"
    );
}
