//! The result tables, in Markdown, and whatever went wrong.

use crate::ceilings::Echoes;
use crate::server::Backend;
use crate::stats::{Samples, mib, ms, percentile, thousands};
use crate::{Cost, ModeReport, Settings};
use std::time::Duration;

/// Created and assigned tickets/s the issue asks for on fully durable SQLite.
const TARGET_SQLITE: f64 = 3000.0;
/// The same on PostgreSQL.
const TARGET_POSTGRES: f64 = 1500.0;
/// p99 at half the closed-loop rate.
const TARGET_P99: Duration = Duration::from_millis(10);
/// The authenticated echo's share of the bare echo.
const TARGET_AUTH_SHARE: f64 = 0.7;
/// Resident bytes after start and 100 logins.
const TARGET_IDLE_BYTES: f64 = 30e6;
/// Resident bytes after 100,000 tickets.
const TARGET_FILLED_BYTES: f64 = 100e6;

/// "met" or "not met", bold.
fn verdict(met: bool) -> &'static str {
    if met { "**met**" } else { "**not met**" }
}

/// KiB as decimal megabytes, one decimal.
fn mb(kib: u64) -> String {
    format!("{:.1}", kib as f64 * 1024.0 / 1e6)
}

/// One row of the latency table.
fn latency_row(run: &str, connections: &str, s: &Samples) {
    println!(
        "| {run} | {connections} | {} | {} | {} | {} | {} | {} | {} |",
        thousands(s.latencies.len() as f64),
        thousands(s.non_2xx() as f64),
        thousands(s.errors as f64),
        thousands(s.rate()),
        ms(s.pct(0.5)),
        ms(s.pct(0.99)),
        ms(s.latencies.last().copied().unwrap_or_default()),
    );
}

/// One row of the cost table: a phase's traffic and CPU per ticket, then `rest` (the last columns).
fn cost_row(name: &str, c: &Cost, rest: &str) {
    let per = |x: u64| format!("{:.2}", x as f64 / c.tickets.max(1) as f64);
    let cpu = |s: f64| format!("{:.3}", s * 1e3 / c.tickets.max(1) as f64);
    println!(
        "| {name} | {} | {} | {} | {} | {} | {} | {} | {rest} |",
        thousands(c.tickets as f64),
        per(c.traffic.statements),
        per(c.traffic.round_trips),
        per(c.traffic.commits),
        per(c.traffic.units),
        cpu(c.server_cpu),
        c.db_cpu.map_or("-".into(), cpu),
    );
}

/// The created-and-assigned target of a mode, if the issue sets one.
fn target(r: &ModeReport) -> Option<f64> {
    match r.backend {
        Backend::Sqlite("full") => Some(TARGET_SQLITE),
        Backend::Postgres => Some(TARGET_POSTGRES),
        Backend::Sqlite(_) => None,
    }
}

/// Prints every table.
pub fn print(settings: &Settings, echoes: Option<&Echoes>, reports: &[ModeReport]) {
    let conns = settings.connections.to_string();
    println!();
    println!("| Run | Connections | 2xx | Non-2xx | Errors | Requests/s | p50 ms | p99 ms | max ms |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    if let Some(e) = echoes {
        latency_row("bare echo (axum, in-process), closed loop", &conns, &e.bare);
        latency_row("authenticated echo (tts-http `Caller`), closed loop", &conns, &e.auth);
    }
    for r in reports {
        latency_row(&format!("create, {}, closed loop", r.name), &conns, &r.create);
        latency_row(
            &format!("create, {}, open loop at {:.0}/s", r.name, r.half.rate),
            "as needed",
            &r.half.samples,
        );
        latency_row(&format!("one-row commits, {} (tasks)", r.name), &conns, &r.commits);
    }

    println!();
    println!(
        "| Mode | Created and assigned/s | Target | Creates/s, closed loop | Half rate | p50 / p99 at half rate \
         | (send lag p99) | p99 ≤ 10 ms |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in reports {
        let e2e = r.end_to_end();
        let goal = target(r).map_or("(none)".to_string(), |t| {
            format!("≥ {}: {}", thousands(t), verdict(e2e >= t))
        });
        let p99 = r.half.samples.pct(0.99);
        let clean = r.half.samples.non_2xx() + r.half.samples.errors == 0;
        println!(
            "| {} | {} | {goal} | {} | {}/s | {} / {} ms | {} ms | {} |",
            r.name,
            thousands(e2e),
            thousands(r.create.rate()),
            thousands(r.half.rate),
            ms(r.half.samples.pct(0.5)),
            ms(p99),
            ms(r.half.lag_p99),
            verdict(p99 <= TARGET_P99 && clean),
        );
    }

    println!();
    println!(
        "| Mode | Tickets | Statements / ticket | Calls / ticket | Commits / ticket | Units / ticket | Server CPU \
         ms / ticket | PostgreSQL CPU ms / ticket | One-row commits/s | Tickets / one-row commits |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in reports {
        let ceiling = format!(
            "{} | {:.1}%",
            thousands(r.commits.rate()),
            100.0 * r.end_to_end() / r.commits.rate().max(1e-9)
        );
        cost_row(r.name, &r.cost, &ceiling);
        cost_row(&format!("{}, half rate", r.name), &r.half_cost, "| ");
    }

    println!();
    println!(
        "| Mode | RSS after start | after 100 logins | ≤ 30 MB | after the load phases | with N tickets | N \
         | ≤ 100 MB at 100,000 |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in reports {
        let m = &r.memory;
        let filled_verdict = if m.filled_tickets >= 100_000 {
            verdict(m.filled as f64 * 1024.0 <= TARGET_FILLED_BYTES)
        } else {
            "(fewer tickets)"
        };
        println!(
            "| {} | {} MiB ({} MB) | {} MiB ({} MB) | {} | {} MiB | {} MiB ({} MB) | {} | {} |",
            r.name,
            mib(m.started),
            mb(m.started),
            mib(m.logins),
            mb(m.logins),
            verdict(m.logins as f64 * 1024.0 <= TARGET_IDLE_BYTES),
            mib(m.loaded),
            mib(m.filled),
            mb(m.filled),
            thousands(m.filled_tickets as f64),
            filled_verdict,
        );
    }

    if let Some(e) = echoes {
        println!();
        let share = e.share();
        let rounds: Vec<String> = e.shares.iter().map(|s| format!("{s:.2}")).collect();
        println!(
            "Authenticated echo {} / bare echo {} requests/s; share per round {}, median {:.2} (target ≥ \
             {TARGET_AUTH_SHARE}: {})",
            thousands(e.auth.rate()),
            thousands(e.bare.rate()),
            rounds.join(", "),
            share,
            verdict(share >= TARGET_AUTH_SHARE),
        );
    }
    println!();
    println!(
        "| Mode | Backlog after closed loop | Drain s | Backlog after half rate | Create → assigned p50 / p99 ms \
         (from 201) | (from send) | Samples (failed) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for r in reports {
        let a = &r.assignment;
        println!(
            "| {} | {}{} | {:.2} | {} | {} / {} | {} / {} | {} ({}) |",
            r.name,
            thousands(r.create_drain.backlog as f64),
            if r.create_drain.left > 0 {
                format!(" ({} never allocated)", r.create_drain.left)
            } else {
                String::new()
            },
            r.create_drain.time.as_secs_f64(),
            thousands(r.half_drain.backlog as f64),
            ms(percentile(&a.from_created, 0.5)),
            ms(percentile(&a.from_created, 0.99)),
            ms(percentile(&a.from_sent, 0.5)),
            ms(percentile(&a.from_sent, 0.99)),
            a.from_created.len() + a.failures.len(),
            a.failures.len(),
        );
    }
    println!();
    problems(echoes, reports);
}

/// Non-2xx answers, errors, failed samples and server log lines, or one line saying there were none.
fn problems(echoes: Option<&Echoes>, reports: &[ModeReport]) {
    let mut quiet = true;
    let runs = echoes
        .into_iter()
        .flat_map(|e| [("bare echo", &e.bare), ("authenticated echo", &e.auth)]);
    let modes = reports
        .iter()
        .flat_map(|r| [(r.name, &r.create), (r.name, &r.half.samples), (r.name, &r.commits)]);
    for (name, s) in runs.into_iter().chain(modes) {
        let problems = s.problems();
        if !problems.is_empty() {
            quiet = false;
            println!("{name}: {problems}");
        }
    }
    for r in reports {
        if let Some(first) = r.assignment.failures.first() {
            quiet = false;
            println!(
                "{}: {} create → assignment samples failed, first: {first}",
                r.name,
                r.assignment.failures.len()
            );
        }
        match &r.pg_problems {
            Some(lines) if !lines.is_empty() => {
                quiet = false;
                println!(
                    "{}: {} WARNING/ERROR/FATAL lines in PostgreSQL's log:",
                    r.name,
                    lines.len()
                );
                for line in lines.iter().take(5) {
                    println!("  {line}");
                }
            }
            Some(_) => println!("{}: no WARNING/ERROR/FATAL lines in PostgreSQL's log.", r.name),
            None if r.backend == Backend::Postgres => println!("{}: PostgreSQL's log was not readable.", r.name),
            None => {}
        }
        if !r.server_problems.is_empty() {
            quiet = false;
            println!(
                "{}: {} WARN/ERROR lines in the server log:",
                r.name,
                r.server_problems.len()
            );
            for line in r.server_problems.iter().take(5) {
                println!("  {line}");
            }
        }
    }
    if quiet {
        println!("No non-2xx responses, no request errors, no WARN/ERROR lines in the server logs.");
    }
}
