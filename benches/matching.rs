//! Benchmarks of workflow matching: [`MatchIndex::find`] over 10, 1 000 and 100 000 active workflows,
//! and [`MatchIndex::explain`] over 1 000.
//!
//! The index is built once, outside the timing loop, from `Workflow` values made directly (no engine,
//! no store). Every timed call looks up the next key of a pre-built rotating set of ticket keys that hit
//! every tier (with and without department) and miss to the default workflow.
//!
//! `matching/find_100000` then times each key variant alone (the tier reached, and how many probes it
//! takes), to show where the cost of the mix comes from.
//!
//! Targets: at most 1 µs per `find` at 100 000 workflows, and at most 2x the cost at 10.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use tts_core::memory::{SequentialIds, SystemClock};
use tts_core::ports::{Clock, IdGen};
use tts_core::{
    MatchIndex, MatchKey, Priority, TicketKey, Tier, Workflow, WorkflowDefinition, WorkflowId, WorkflowStatus,
};

/// Workflow counts swept by `matching/find` (the default workflow included).
const SIZES: [usize; 3] = [10, 1_000, 100_000];
/// Keys in the rotating set (a power of two, so the rotation is a mask).
const KEYS: usize = 1_024;
/// The kinds of match key, one per workflow in a group of this many.
const KINDS: usize = 6;

/// The match key of the `kind`-th workflow of group `g`: every kind is a different tier or department
/// combination, and groups never share a category, so all keys are distinct.
fn match_key(g: usize, kind: usize) -> MatchKey {
    let category = format!("Category {g}");
    let sub = Some(format!("Subcategory {g}"));
    let dept = Some(format!("Department {g}"));
    let (subcategory, department, priority) = match kind {
        0 => (sub, None, Some(Priority::High)),
        1 => (sub, None, None),
        2 => (None, None, Some(Priority::Critical)),
        3 => (None, None, None),
        4 => (sub, dept, None),
        _ => (None, dept, None),
    };
    MatchKey {
        category,
        subcategory,
        department,
        priority,
    }
}

/// `n` active workflows: `n - 1` keyed ones cycling through the kinds, plus one default.
fn workflows(n: usize) -> Vec<Workflow> {
    let ids = SequentialIds::default();
    let now = SystemClock.now();
    let make = |name: String, match_key: MatchKey, is_default: bool| Workflow {
        id: WorkflowId(ids.new_id()),
        status: WorkflowStatus::Active,
        version: 1,
        definition: WorkflowDefinition {
            name,
            description: String::new(),
            match_key,
            is_default,
            sla: Default::default(),
            steps: Vec::new(),
            transitions: Vec::new(),
        },
        created_at: now,
        updated_at: now,
    };
    let mut all: Vec<Workflow> = (0..n - 1)
        .map(|i| make(format!("Workflow {i}"), match_key(i / KINDS, i % KINDS), false))
        .collect();
    all.push(make(
        "Default".into(),
        MatchKey {
            category: "Anything".into(),
            ..MatchKey::default()
        },
        true,
    ));
    all
}

/// Names of the ticket key variants of [`ticket_key`], in order.
const VARIANTS: [&str; 7] = [
    "sub_and_priority",
    "sub_with_dept",
    "sub_normalized",
    "priority",
    "category_fallthrough",
    "category_with_dept",
    "miss_default",
];

/// A ticket key of group `g` meant to land on `tier`; `variant` picks among the ways to get there.
fn ticket_key(g: usize, variant: usize) -> (TicketKey, Tier, bool) {
    let category = format!("Category {g}");
    let sub = Some(format!("Subcategory {g}"));
    let dept = Some(format!("Department {g}"));
    let key = |category: String, subcategory, department, priority| TicketKey {
        category,
        subcategory,
        department,
        priority,
    };
    match variant {
        // subcategory + priority, no department
        0 => (
            key(category, sub, None, Priority::High),
            Tier::SubcategoryAndPriority,
            false,
        ),
        // subcategory with department (two misses first)
        1 => (key(category, sub, dept, Priority::Low), Tier::Subcategory, true),
        // subcategory without department, messy case and spacing to exercise normalization
        2 => (
            key(
                format!("  CATEGORY   {g} "),
                Some(format!("subcategory {g}")),
                None,
                Priority::Medium,
            ),
            Tier::Subcategory,
            false,
        ),
        // priority only
        3 => (key(category, None, None, Priority::Critical), Tier::Priority, false),
        // unknown subcategory: falls through to category only
        4 => (
            key(category, Some("Other".into()), None, Priority::Low),
            Tier::Category,
            false,
        ),
        // department, no subcategory
        5 => (key(category, None, dept, Priority::Low), Tier::Category, true),
        // miss: the default workflow takes it
        _ => (
            key(format!("Unknown {g}"), sub, dept, Priority::High),
            Tier::Default,
            false,
        ),
    }
}

/// The rotating key set for an index of `n` workflows, spread over every complete group, checked
/// (outside the timing) to land on the tier each key was built for.
fn ticket_keys(index: &MatchIndex, n: usize, only: Option<usize>) -> Vec<TicketKey> {
    let groups = ((n - 1) / KINDS).max(1);
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..KEYS)
        .map(|i| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let g = usize::try_from(seed >> 33).unwrap_or(0) % groups;
            let (key, tier, dept) = ticket_key(g, only.unwrap_or(i % VARIANTS.len()));
            let found = index.find(&key).expect("the default workflow takes every ticket");
            assert_eq!((found.tier, found.department_specific), (tier, dept), "key {key:?}");
            key
        })
        .collect()
}

fn bench_find(c: &mut Criterion) {
    let mut group = c.benchmark_group("matching/find");
    group.throughput(Throughput::Elements(1));
    for n in SIZES {
        let all = workflows(n);
        let index = MatchIndex::build(&all);
        assert_eq!(index.len(), n);
        let keys = ticket_keys(&index, n, None);
        group.bench_with_input(BenchmarkId::from_parameter(n), &index, |b, index| {
            let mut i = 0usize;
            b.iter(|| {
                let key = &keys[i & (KEYS - 1)];
                i = i.wrapping_add(1);
                black_box(index.find(black_box(key)))
            });
        });
    }
    group.finish();
}

/// `find` at the largest size, one key variant at a time: where the cost of the mix comes from.
fn bench_find_by_variant(c: &mut Criterion) {
    let n = SIZES[SIZES.len() - 1];
    let all = workflows(n);
    let index = MatchIndex::build(&all);
    let mut group = c.benchmark_group(format!("matching/find_{n}"));
    group.throughput(Throughput::Elements(1));
    for (variant, name) in VARIANTS.iter().enumerate() {
        let keys = ticket_keys(&index, n, Some(variant));
        group.bench_with_input(BenchmarkId::from_parameter(name), &index, |b, index| {
            let mut i = 0usize;
            b.iter(|| {
                let key = &keys[i & (KEYS - 1)];
                i = i.wrapping_add(1);
                black_box(index.find(black_box(key)))
            });
        });
    }
    group.finish();
}

fn bench_explain(c: &mut Criterion) {
    let mut group = c.benchmark_group("matching/explain");
    group.throughput(Throughput::Elements(1));
    let n = 1_000;
    let all = workflows(n);
    let index = MatchIndex::build(&all);
    let keys = ticket_keys(&index, n, None);
    group.bench_with_input(BenchmarkId::from_parameter(n), &index, |b, index| {
        let mut i = 0usize;
        b.iter(|| {
            let key = &keys[i & (KEYS - 1)];
            i = i.wrapping_add(1);
            black_box(index.explain(black_box(key)))
        });
    });
    group.finish();
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
    targets = bench_find, bench_find_by_variant, bench_explain
}
criterion_main!(benches);
