//! Benchmarks of workflow validation: `validate()` on a valid and on a broken 50-step workflow.
//!
//! The valid workflow is a linear chain: `Approve` moves each step to the next, `Reject` moves it back
//! to the previous one, and the last step has a completing `Complete` action. The broken one starts from
//! the same chain and breaks many rules at once (a zero weight, a blank step name, a self-loop, a
//! duplicate action name, a transition to an unknown step, a cut in the chain that leaves the rest
//! unreachable and the start unable to complete, a wrong end flag and an SLA out of order), so it
//! reports over 50 problems.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use tts_core::memory::SequentialIds;
use tts_core::ports::IdGen;
use tts_core::{
    ActionId, AssignmentStrategy, MatchKey, Position, RoleId, Sla, Step, StepId, Transition, WorkflowDefinition,
    validate,
};

/// Steps in each benchmarked workflow.
const STEPS: usize = 50;

/// The valid chain of `n` steps, with ids from `ids`.
fn chain(n: usize, ids: &SequentialIds) -> WorkflowDefinition {
    let role = RoleId(ids.new_id());
    let steps: Vec<Step> = (0..n)
        .map(|i| Step {
            id: StepId(ids.new_id()),
            name: format!("Step {i}"),
            role_id: role,
            description: String::new(),
            instruction: String::new(),
            weight: 1,
            escalate_to: None,
            is_start: i == 0,
            is_end: i == n - 1,
            position: Position {
                x: 100.0 * i as f64,
                y: 0.0,
            },
            strategy: AssignmentStrategy::RoundRobin,
        })
        .collect();
    let mut transitions = Vec::new();
    let action = |name: &str, from: usize, to: Option<usize>| Transition {
        id: ActionId(ids.new_id()),
        name: name.to_string(),
        from_step: steps[from].id,
        to_step: to.map(|t| steps[t].id),
    };
    for i in 0..n {
        if i + 1 < n {
            transitions.push(action("Approve", i, Some(i + 1)));
        } else {
            transitions.push(action("Complete", i, None));
        }
        if i > 0 {
            transitions.push(action("Reject", i, Some(i - 1)));
        }
    }
    WorkflowDefinition {
        name: format!("Chain of {n}"),
        description: "A linear approval chain".into(),
        match_key: MatchKey {
            category: "Benchmarks".into(),
            ..MatchKey::default()
        },
        is_default: false,
        sla: Sla {
            low: Some(7 * 86_400),
            medium: Some(3 * 86_400),
            high: Some(86_400),
            critical: Some(4 * 3_600),
        },
        steps,
        transitions,
    }
}

/// The chain with many rules broken at once.
fn broken(n: usize) -> WorkflowDefinition {
    let ids = SequentialIds::default();
    let mut def = chain(n, &ids);
    let step = |i: usize| def.steps[i].id;
    let cut = step(n / 3);
    let extra = [
        Transition {
            id: ActionId(ids.new_id()),
            name: "Loop".into(),
            from_step: step(5),
            to_step: Some(step(5)),
        },
        Transition {
            id: ActionId(ids.new_id()),
            name: " approve ".into(),
            from_step: step(9),
            to_step: Some(step(2)),
        },
        Transition {
            id: ActionId(ids.new_id()),
            name: "Nowhere".into(),
            from_step: step(11),
            to_step: Some(StepId(ids.new_id())),
        },
    ];
    def.transitions.retain(|t| !(t.from_step == cut && t.name == "Approve"));
    def.transitions.extend(extra);
    def.sla.high = Some(10 * 86_400);
    def.steps[3].weight = 0;
    def.steps[7].is_end = true;
    def.steps[13].name = " ".into();
    def
}

fn bench_validate(c: &mut Criterion) {
    let valid = chain(STEPS, &SequentialIds::default());
    assert!(validate(&valid).is_empty(), "{:?}", validate(&valid));
    let broken = broken(STEPS);
    assert!(validate(&broken).len() >= STEPS, "{:?}", validate(&broken));
    for (case, def) in [("valid", valid), ("broken", broken)] {
        let mut group = c.benchmark_group(format!("validation/{case}"));
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::from_parameter(STEPS), &def, |b, def| {
            b.iter(|| validate(black_box(def)));
        });
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_validate
}
criterion_main!(benches);
