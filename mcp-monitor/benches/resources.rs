//! The cost of one resource sample (CPU, memory, load, this process, pools).
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};

fn sample(c: &mut Criterion) {
    let monitor = mcp_monitor::Monitor::builder().build().unwrap();
    monitor.sample_resources();
    c.bench_function("resources/sample", |b| {
        b.iter(|| monitor.sample_resources())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = sample
}
criterion_main!(benches);
