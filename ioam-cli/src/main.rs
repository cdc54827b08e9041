//! The `ioam` command-line tool.

fn main() {
    eprintln!("ioam: not built yet");
    std::process::exit(2);
}
