//! The `http/oneshot` comparison with interleaved repetitions, so that a slow phase of
//! a noisy machine affects every variant alike.
//!
//! `R` rounds; in each round every variant in turn times `N` requests
//! (`GET /users/42` through `Router::oneshot`, each driven by `rt.block_on` on a
//! current-thread runtime, body collected). The order of the variants rotates from
//! round to round. Reported: the median ns/request of each variant, and the median
//! (with min and max) of the per-round difference with `bare`, which is what the
//! middleware adds.
//!
//! Run with `cargo bench -p mcp-monitor --bench http_interleaved [-- ROUNDS [N]]`
//! (defaults 15 and 20000). With `--finalized` every router is first turned into
//! routes with `with_state(())`, as `axum::serve` does once per connection; without it
//! (the default) axum applies each layer to the route on every `oneshot`. With `--only VARIANT` it runs that variant alone, with no
//! table: for a profiler (`valgrind --tool=callgrind <bench binary> --only
//! mcp_monitor 1 20000`, minus the same for `bare`, gives instructions per request).
//! See `docs/benchmarks.md`.

mod http_common;

use std::hint::black_box;
use std::time::Instant;

use http_common::{
    install_monitor, median, one_request, one_traced_request, router, runtime, VARIANTS,
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let positional: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let rounds = positional.first().copied().unwrap_or(15);
    let n = positional.get(1).copied().unwrap_or(20_000);

    let monitor = install_monitor();
    let rt = runtime();
    let finalized = args.iter().any(|a| a == "--finalized");
    let routers: Vec<_> = VARIANTS
        .iter()
        .map(|v| {
            let r = router(v, &monitor);
            if finalized {
                r.with_state(())
            } else {
                r
            }
        })
        .collect();

    let time_variant = |i: usize, app: &axum::Router| {
        let traced = VARIANTS[i] == "mcp_monitor_traced";
        let start = Instant::now();
        for _ in 0..n {
            if traced {
                black_box(rt.block_on(one_traced_request(black_box(app))));
            } else {
                black_box(rt.block_on(one_request(black_box(app))));
            }
        }
        start.elapsed().as_nanos() as f64 / n as f64
    };

    if let Some(name) = only {
        let i = VARIANTS
            .iter()
            .position(|v| *v == name)
            .unwrap_or_else(|| panic!("--only: one of {VARIANTS:?}"));
        for _ in 0..rounds {
            println!("{name}: {:.0} ns/request", time_variant(i, &routers[i]));
        }
        return;
    }

    // Warm-up round (registers the facade series, warms caches), not recorded.
    for (i, app) in routers.iter().enumerate() {
        time_variant(i, app);
    }

    let mut per_variant: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); VARIANTS.len()];
    for r in 0..rounds {
        for k in 0..VARIANTS.len() {
            let i = (r + k) % VARIANTS.len();
            per_variant[i].push(time_variant(i, &routers[i]));
        }
    }

    let bare = per_variant[0].clone();
    let mode = if finalized { ", finalized routers" } else { "" };
    println!("\n{rounds} interleaved rounds x {n} requests per variant (ns/request{mode})\n");
    println!("| variant | median | added vs bare (median of rounds) | min..max of rounds |");
    println!("|---|---:|---:|---:|");
    for (i, name) in VARIANTS.iter().enumerate() {
        let mut diffs: Vec<f64> = per_variant[i]
            .iter()
            .zip(&bare)
            .map(|(v, b)| v - b)
            .collect();
        let mut own = per_variant[i].clone();
        let med = median(&mut own);
        let d = median(&mut diffs);
        let (lo, hi) = (diffs[0], diffs[diffs.len() - 1]);
        if i == 0 {
            println!("| {name} | {med:.0} | - | - |");
        } else {
            println!("| {name} | {med:.0} | {d:+.0} | {lo:+.0}..{hi:+.0} |");
        }
    }
}
