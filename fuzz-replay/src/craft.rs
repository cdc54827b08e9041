//! `ioam craft`'s argument handling.

use clap::Parser;
use ioam_capture::file::Frames;
use ioam_cli::craft_args::{craft_into, CraftArgs};
use ioam_cli::decode::{decode_frame, DecodeOptions};

use crate::decode::check_report;

#[derive(Parser)]
struct Craft {
    #[command(flatten)]
    args: CraftArgs,
}

/// Packets built per input, at most (the memory bound for large counts is
/// tested in ioam-cli/tests/limits.rs).
const MAX_COUNT: usize = 64;

/// `craft_args`: the input is an argument list, NUL-separated, after
/// `ioam craft -o -`. Whatever clap accepts is either refused with a message
/// or gives exactly `--count` packets (capped at 64) in a capture that reads
/// back frame by frame, and every frame decodes with its error offsets
/// inside the packet.
pub fn check_craft_args(data: &[u8]) {
    let mut argv = vec!["craft".to_string(), "-o".into(), "-".into()];
    for a in data.split(|&b| b == 0) {
        match std::str::from_utf8(a) {
            Ok(s) => argv.push(s.to_string()),
            Err(_) => return,
        }
    }
    let Ok(Craft { mut args }) = Craft::try_parse_from(&argv) else {
        return;
    };
    args.count = args.count.min(MAX_COUNT);
    let mut capture = Vec::new();
    match craft_into(&args, || Ok(&mut capture)) {
        Err(e) => assert!(!e.to_string().is_empty(), "an error says what"),
        Ok(crafted) => {
            let n = crafted.packets;
            assert_eq!(n, args.count, "one packet per --count");
            let frames = Frames::new(&capture).expect("craft writes a capture");
            let mut read = 0;
            for f in frames {
                let f = f.expect("every crafted frame reads back");
                read += 1;
                if let Some(r) = decode_frame(&f, &DecodeOptions::default()) {
                    check_report(&r, f.data.len());
                }
            }
            assert_eq!(read, n, "every packet is in the capture");
        }
    }
}
