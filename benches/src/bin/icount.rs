//! Instruction-count harness: runs one benchmark case a fixed number of
//! times, for `valgrind --tool=callgrind` (see `benches/icount.sh`).
//!
//! ```text
//! icount --list                 # every case id, with its role
//! icount <case-id> <iterations> # run it
//! ```
//!
//! Instructions per operation are the difference of the totals of two runs
//! with different iteration counts, divided by the difference of the
//! counts: the start-up cost (building and verifying fixtures) cancels out.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag] if flag == "--list" => {
            for c in ioam_benches::cases() {
                println!("{}\t{:?}", c.id(), c.role);
            }
            ExitCode::SUCCESS
        }
        [id, iterations] => {
            let Ok(n) = iterations.parse::<u64>() else {
                eprintln!("iterations must be a number: {iterations}");
                return ExitCode::FAILURE;
            };
            ioam_benches::verify_all();
            let Some(mut case) = ioam_benches::cases().into_iter().find(|c| c.id() == *id) else {
                eprintln!("unknown case {id}; see --list");
                return ExitCode::FAILURE;
            };
            let mut acc = 0u64;
            for _ in 0..n {
                acc = acc.wrapping_add(core::hint::black_box((case.run)()));
            }
            println!("{id}\t{n}\t{acc}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: icount --list | icount <case-id> <iterations>");
            ExitCode::FAILURE
        }
    }
}
