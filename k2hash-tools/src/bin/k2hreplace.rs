//! k2hreplace: move a new k2hash file in at a path other processes have attached. The old file
//! is kept as `DEST.BAK[N]`; attaching the new file publishes its inode in the path's shared lock
//! table, and every handle on the old file reattaches to the new one on its next operation.
use std::process::exit;

fn prog() -> String {
    k2htools::program_name("k2hreplace")
}

fn help() {
    println!();
    println!("Usage: {} [-d] [-no_rm_bup] SOURCE DEST", prog());
    println!();
    println!("K2HASH REPLACE TOOL: Replace k2hash file from SOURCE to DEST.");
    println!();
    println!("The source file is moved destination file path, and destination");
    println!("file is moved with suffix.");
    println!();
    println!("SOURCE               source file path.");
    println!("DEST                 destination k2hash file path.");
    println!("-no_rm_bup           not remove backup files before working.");
    println!("-d                   debug option.");
    println!();
}

fn fail(msg: &str) -> ! {
    k2htools::die(msg, 255)
}

/// Options, source and destination; None after reporting a bad command line.
fn parse(args: &[String]) -> Option<(bool, bool, String, String)> {
    if args.len() < 3 || args.len() > 5 {
        eprintln!("[ERR] Parameters are wrong.");
        return None;
    }
    let (mut debug, mut remove_old) = (false, true);
    let nopts = args.len() - 3;
    for (i, a) in args[1..1 + nopts].iter().enumerate() {
        if a.eq_ignore_ascii_case("-d") {
            debug = true;
        } else if a.eq_ignore_ascii_case("-no_rm_bup") {
            remove_old = false;
        } else {
            eprintln!(
                "[ERR] {}'st parameter {a} is wrong, should be \"-d\" or \"-no_rm_bup\" option.",
                i + 1
            );
            return None;
        }
    }
    let (src, dst) = (args[1 + nopts].clone(), args[2 + nopts].clone());
    if src.is_empty() || dst.is_empty() {
        eprintln!("[ERR] Source or destination file path is empty.");
        return None;
    }
    Some((debug, remove_old, src, dst))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some((debug, remove_old, src, dst)) = parse(&args) else {
        help();
        exit(255);
    };
    if debug {
        k2hash::capi::debug::k2h_set_debug_level_message();
    }
    if let Err(m) = k2htools::replace_file(&src, &dst, remove_old) {
        fail(&m);
    }
    println!(
        "Succeed to replace {src} to {dst} k2hash file, and push notice other processes which open the k2hash file."
    );
}
