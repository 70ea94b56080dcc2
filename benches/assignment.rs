//! Benchmarks of picking an assignee: `round_robin` and `least_loaded` over 5, 50 and 500 candidates.
//!
//! Candidates are sorted by user id (as the store returns a role's members), every seventh one is
//! inactive and open-assignment counts vary, so `least_loaded` has ties to break. Each timed pick starts
//! after the previous pick, like consecutive assignments moving a role's cursor.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use tts_core::domain::assignment::{least_loaded, round_robin};
use tts_core::memory::SequentialIds;
use tts_core::ports::IdGen;
use tts_core::{Candidate, UserId};

/// Candidate counts swept.
const SIZES: [usize; 3] = [5, 50, 500];

/// `n` holders of a role, in user id order.
fn candidates(n: usize) -> Vec<Candidate> {
    let ids = SequentialIds::default();
    (0..n)
        .map(|i| Candidate {
            user: UserId(ids.new_id()),
            active: i % 7 != 6,
            open_assignments: u32::try_from(i * 7 % 5).unwrap_or(0),
        })
        .collect()
}

/// Benchmarks one strategy as group `assignment/<name>`.
fn bench_strategy(c: &mut Criterion, name: &str, pick: fn(&[Candidate], Option<UserId>) -> Option<UserId>) {
    let mut group = c.benchmark_group(format!("assignment/{name}"));
    group.throughput(Throughput::Elements(1));
    for n in SIZES {
        let all = candidates(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &all, |b, all| {
            let mut last = None;
            b.iter(|| {
                last = pick(black_box(all), black_box(last));
                last
            });
        });
    }
    group.finish();
}

fn bench_round_robin(c: &mut Criterion) {
    bench_strategy(c, "round_robin", round_robin);
}

fn bench_least_loaded(c: &mut Criterion) {
    bench_strategy(c, "least_loaded", least_loaded);
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
    targets = bench_round_robin, bench_least_loaded
}
criterion_main!(benches);
