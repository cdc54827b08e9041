//! Criterion benchmarks of the IOAM hot paths, each case beside its peer
//! and its floor in the same group. The cases are defined once in
//! `ioam_benches::cases` (shared with the instruction-count harness).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn hot_paths(c: &mut Criterion) {
    ioam_benches::verify_all();
    let mut cases = ioam_benches::cases();
    let mut groups: Vec<&'static str> = Vec::new();
    for case in &cases {
        if !groups.contains(&case.group) {
            groups.push(case.group);
        }
    }
    for name in groups {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(1));
        for case in cases.iter_mut().filter(|c| c.group == name) {
            let id = BenchmarkId::new(case.function, &case.fixture);
            let run = &mut case.run;
            group.bench_function(id, |b| b.iter(&mut *run));
        }
        group.finish();
    }
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
