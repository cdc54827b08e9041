//! Runs one fuzz target's check on the given files (a crash reproducer,
//! say) without nightly:
//! `cargo run -p fuzz-replay --example replay -- <target> <file>...`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((target, files)) = args.split_first() else {
        eprintln!("usage: replay <target> <file>...");
        return ExitCode::FAILURE;
    };
    let Some((_, check)) = fuzz_replay::TARGETS.iter().find(|(n, _)| n == target) else {
        eprintln!("unknown target {target}");
        return ExitCode::FAILURE;
    };
    for f in files {
        let data = std::fs::read(f).expect("read input");
        check(&data);
        println!("{f}: ok");
    }
    ExitCode::SUCCESS
}
