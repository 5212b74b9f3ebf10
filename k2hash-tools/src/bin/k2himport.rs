//! k2himport: load a text file into a k2hash file: `KEY<TAB>VALUE` lines (default) or the
//! `mdbm_export` layout (`-mdbm`: five header lines ending `HEADER=END`, then key and value
//! lines in turn). Keys and values are stored as NUL-terminated strings, like the original.
use k2hash::engine::Layout;
use k2hash::K2h;
use k2htools::Progress;
use std::path::Path;
use std::process::exit;

fn usage() -> ! {
    println!("\nusage: \n");
    println!("k2himport inputfile outputfile [-mdbm]");
    println!("k2himport -h\n");
    exit(1);
}

use k2htools::with_nul;

/// Pairs of a TSV stream: key up to a TAB (newlines included), value up to the end of line.
fn tsv_pairs(data: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let Some(t) = data[pos..].iter().position(|&c| c == b'\t') else {
            break;
        };
        let key = &data[pos..pos + t];
        pos += t + 1;
        let e = data[pos..]
            .iter()
            .position(|&c| c == b'\n')
            .unwrap_or(data.len() - pos);
        out.push((key, &data[pos..pos + e]));
        pos += e + 1;
    }
    out
}

/// Pairs of an mdbm export; None when the header is not one.
fn mdbm_pairs(data: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    let mut lines = data.split(|&c| c == b'\n').peekable();
    let header: Vec<&[u8]> = lines.by_ref().take(5).collect();
    if header.get(4).copied() != Some(b"HEADER=END".as_slice()) {
        return None;
    }
    let mut rest: Vec<&[u8]> = lines.collect();
    if rest.last().is_some_and(|l| l.is_empty()) {
        rest.pop();
    }
    Some(
        rest.chunks(2)
            .map(|c| (c[0], c.get(1).copied().unwrap_or(b"")))
            .collect(),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        usage();
    }
    let mdbm = args[1..].iter().any(|a| a == "-mdbm");
    let data = match std::fs::read(&args[1]) {
        Ok(d) => d,
        Err(_) => {
            println!("error: can't open inputfile");
            exit(1);
        }
    };
    let layout = Layout {
        mask_bits: 10,
        cmask_bits: 8,
        max_elements: 512,
        page_size: 128,
    };
    let k = match K2h::open_file(Path::new(&args[2]), false, false, true, layout) {
        Ok(k) => k,
        Err(_) => {
            println!("error: can't attach k2file");
            exit(1);
        }
    };
    let (pairs, mode) = if mdbm {
        match mdbm_pairs(&data) {
            Some(p) => (p, "(mdbm)"),
            None => {
                println!("error: not a mdbm file.");
                exit(1);
            }
        }
    } else {
        (tsv_pairs(&data), "(tsv)")
    };
    let mut prog = Progress::new("k2himport", pairs.len() as u64);
    let mut n = 0u64;
    for (key, value) in &pairs {
        if let Err(e) = k.set_value(&with_nul(key), &with_nul(value), None, None) {
            prog.finish();
            eprintln!(
                "[ERR] could not write key {}: {e}",
                String::from_utf8_lossy(key)
            );
            exit(1);
        }
        n += 1;
        prog.tick(n);
    }
    prog.finish();
    println!("{n} items import success{mode}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_and_mdbm() {
        let p = tsv_pairs(b"a\t1\nb\t2\nnotab\n");
        assert_eq!(p, vec![(&b"a"[..], &b"1"[..]), (&b"b"[..], &b"2"[..])]);
        let m = mdbm_pairs(b"h1\nh2\nh3\nh4\nHEADER=END\nk\nv\nk2\n").unwrap();
        assert_eq!(m, vec![(&b"k"[..], &b"v"[..]), (&b"k2"[..], &b""[..])]);
        assert!(mdbm_pairs(b"x\n").is_none());
    }
}
