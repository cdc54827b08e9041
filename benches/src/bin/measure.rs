//! Run a command with its output to /dev/null and print, on one line, its
//! wall time, user and system CPU time in seconds (microsecond resolution,
//! from `wait4`'s resource usage of the child) and its peak RSS in KiB:
//! what `/usr/bin/time` gives, without its 10 ms rounding.
//!
//! ```text
//! measure COMMAND [ARGS...]     (exits with the command's status)
//! ```

use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use nix::sys::resource::{getrusage, UsageWho};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        eprintln!("usage: measure COMMAND [ARGS...]");
        return ExitCode::FAILURE;
    };
    let start = Instant::now();
    let status = Command::new(cmd).args(rest).stdout(Stdio::null()).status();
    let wall = start.elapsed().as_secs_f64();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => {
            eprintln!("measure: {cmd} failed: {s}");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("measure: {cmd}: {e}");
            return ExitCode::FAILURE;
        }
    }
    // The one child waited for: its CPU time and peak RSS.
    let ru = match getrusage(UsageWho::RUSAGE_CHILDREN) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("measure: getrusage: {e}");
            return ExitCode::FAILURE;
        }
    };
    let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    println!(
        "{wall:.6} {:.6} {:.6} {}",
        secs(ru.user_time()),
        secs(ru.system_time()),
        ru.max_rss()
    );
    ExitCode::SUCCESS
}
