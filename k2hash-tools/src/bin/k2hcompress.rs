//! k2hcompress: make a k2hash file smaller. `-replace` copies the data into a fresh file (through
//! an archive) and swaps it in like k2hreplace; `-direct` empties trailing areas of the file in
//! place and shortens it; `-print` shows the area table.
use k2hash::archive;
use k2hash::dump;
use k2hash::format::{mask_bits, H_COLLISION_MASK, H_CUR_MASK, H_MAX_ELEMENT_COUNT};
use k2hash::{K2h, Layout};
use k2htools::{atoi, err, Progress};
use std::collections::HashMap;
use std::path::Path;
use std::process::exit;

fn prog() -> String {
    k2htools::program_name("k2hcompress")
}

fn help() {
    let lines = [
        String::new(),
        format!("Usage: {} [-replace | -direct | -print] [options] FILE", prog()),
        String::new(),
        "Option -h                   help display".into(),
        "       -replace             make and replace temporary file for compress".into(),
        "       -direct              compress directly with mmap".into(),
        "       -print               print only area information".into(),
        "       -mask <bit count>    bit mask count for hash(*1)".into(),
        "       -cmask <bit count>   collision bit mask count(*1)".into(),
        "       -elementcnt <count>  element count for each hash table(*1)".into(),
        "       -pagesize <number>   pagesize for each data".into(),
        "       -ext <library path>  extension library for hash function".into(),
        "       -g <debug level>     debugging mode: ERR(default) / WAN / INFO(*2)".into(),
        String::new(),
        "(*1)These option(value) is for debugging about extending hash area.".into(),
        "    Usually, you don't need to specify these.".into(),
        "(*2)You can set debug level by another way which is setting environment as \"K2HDBGMODE\".".into(),
        "    \"K2HDBGMODE\" environment is took as \"SILENT\", \"ERR\", \"WAN\" or \"INFO\" value.".into(),
        "    When this process gets SIGUSR1 signal, the debug level is bumpup.".into(),
        "    The debug level is changed as \"SILENT\"->\"ERR\"->\"WAN\"->\"INFO\"->...".into(),
        "(*3)You can set debugging message log file by the environment. \"K2HDBGFILE\".".into(),
        String::new(),
    ];
    for l in lines {
        println!("{l}");
    }
}

fn fail(msg: &str) -> ! {
    k2htools::die(msg, 255)
}

/// Options (lower-case names) and the FILE; None for a bad command line.
fn parse(args: &[String]) -> Option<HashMap<String, String>> {
    let mut p = HashMap::new();
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        let lower = a.to_ascii_lowercase();
        if !a.starts_with('-') {
            if p.contains_key("FILE") {
                err(&format!("Wrong parameter({a})."));
                return None;
            }
            p.insert("FILE".to_string(), a.clone());
        } else if ["-h", "-direct", "-replace", "-print"].contains(&lower.as_str()) {
            p.insert(lower, String::new());
        } else if ["-g", "-mask", "-cmask", "-elementcnt", "-pagesize", "-ext"]
            .contains(&lower.as_str())
        {
            i += 1;
            let Some(v) = args.get(i) else {
                err(&format!("Option {a} needs a value."));
                return None;
            };
            p.insert(lower, v.clone());
        } else {
            err(&format!("Unknown option({a})."));
            return None;
        }
        i += 1;
    }
    Some(p)
}

fn confirm(msg: &str) -> bool {
    loop {
        match k2htools::ask_line(msg)
            .map(|a| a.to_ascii_uppercase())
            .as_deref()
        {
            None | Some("N") => return false,
            Some("Y") => return true,
            _ => {}
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(p) = parse(&args) else {
        help();
        exit(255);
    };
    if p.contains_key("-h") {
        help();
        exit(0);
    }
    let mut deep = false;
    if let Some(g) = p.get("-g") {
        match g.to_ascii_uppercase().as_str() {
            "ERR" => k2hash::capi::debug::k2h_set_debug_level_error(),
            "WAN" => k2hash::capi::debug::k2h_set_debug_level_warning(),
            "INFO" => {
                k2hash::capi::debug::k2h_set_debug_level_message();
                deep = true;
            }
            _ => fail(&format!("Wrong parameter value \"-g\" {g}.")),
        }
    }
    let Some(file) = p.get("FILE").cloned() else {
        fail("must set k2hash file.");
    };
    let (direct, print) = if p.contains_key("-direct") {
        if p.contains_key("-replace") || p.contains_key("-print") {
            fail("parameter \"-direct\" could not set with \"-replace\" and \"-print\".");
        }
        (true, false)
    } else if p.contains_key("-replace") {
        if p.contains_key("-print") {
            fail("parameter \"-replace\" could not set with \"-direct\" and \"-print\".");
        }
        (false, false)
    } else if p.contains_key("-print") {
        (false, true)
    } else {
        fail("must specify \"-replace\" or \"-direct\" or \"-print\" option.");
    };
    let mut layout = Layout {
        mask_bits: 0,
        cmask_bits: 0,
        max_elements: 0,
        page_size: 0,
    };
    for (o, slot) in [
        ("-mask", &mut layout.mask_bits),
        ("-cmask", &mut layout.cmask_bits),
        ("-elementcnt", &mut layout.max_elements),
    ] {
        if let Some(v) = p.get(o) {
            if direct || print {
                fail("parameter \"-direct\" or \"-print\" could not set with \"-mask\".");
            }
            *slot = atoi(v) as i32;
        }
    }
    if let Some(v) = p.get("-pagesize") {
        if direct || print {
            fail("parameter \"-direct\" or \"-print\" could not set with \"-mask\".");
        }
        layout.page_size = atoi(v).max(0) as usize;
        if layout.page_size < 128 {
            fail(&format!(
                "Option \"-pagesize\" parameter({}) is under minimum pagesize(128).",
                layout.page_size
            ));
        }
    }
    if let Some(e) = p.get("-ext") {
        let c = std::ffi::CString::new(e.as_str()).unwrap_or_default();
        if !k2hash::capi::trans::k2h_load_hash_library(c.as_ptr()) {
            fail(&format!("Failed to load library({e})."));
        }
    }
    let path = Path::new(&file);
    if !path.is_file() {
        fail(&format!("File {file} does not exist."));
    }
    let attach = |ro: bool| match K2h::open_file(path, ro, false, false, Layout::default()) {
        Ok(k) => k,
        Err(e) => fail(&format!("Could not attach file {file}: {e}")),
    };
    if print {
        let k = attach(false);
        match dump::area_info_text(k.db()) {
            Ok(t) => print!("{t}"),
            Err(e) => fail(&format!("Failed to print all k2hash area: {e}")),
        }
        return;
    }
    if direct {
        println!();
        println!("[NOTICE] \"-direct\" is unsupported mode,");
        println!("         SHOULD MAKE BACKUP FILE or ARCHIVE.");
        println!("         This processing probably takes many time.");
        println!("         If you stop this processing, maybe k2hash file is broken.");
        if !confirm("         Do you continue? [Y/N] ") {
            println!("Bye...");
            return;
        }
        println!();
        let k = attach(false);
        let before = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let mut prog = Progress::new("k2hcompress: areas removed", 0);
        let mut removed = 0u64;
        loop {
            match k.db().compress_last_area() {
                Ok(true) => {
                    removed += 1;
                    prog.tick(removed);
                }
                Ok(false) => break,
                Err(e) => {
                    prog.finish();
                    fail(&format!("Failed to compress {file} file directly: {e}"));
                }
            }
        }
        prog.finish();
        let after = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        println!(
            "Compress {file} file {}.",
            if removed > 0 {
                "succeed"
            } else {
                "finished but no compress"
            }
        );
        if removed > 0 {
            println!("({removed} area(s) removed, {before} -> {after} bytes)");
        }
        println!();
        return;
    }

    println!();
    println!("[NOTICE] This processing probably takes many time.");
    println!("         If you stop this processing, maybe k2hash file is broken.");
    if !confirm("         Do you continue? [Y/N] ") {
        println!("Bye...");
        return;
    }
    println!();
    let k = attach(true);
    let db = k.db();
    let hdr = |o: u64| db.header_u64(o).unwrap_or(0);
    if layout.mask_bits == 0 {
        layout.mask_bits = mask_bits(hdr(H_CUR_MASK)) as i32;
    }
    if layout.cmask_bits == 0 {
        layout.cmask_bits = mask_bits(hdr(H_COLLISION_MASK)) as i32;
    }
    if layout.max_elements == 0 {
        layout.max_elements = hdr(H_MAX_ELEMENT_COUNT) as i32;
    }
    if layout.page_size == 0 {
        layout.page_size = db.page_size() as usize;
    }
    let org = std::fs::canonicalize(path)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| file.clone());
    let tmp = format!("{org}.compress_tmp");
    let ar = format!("{org}.compress_ar");
    let _ = std::fs::remove_file(&ar);
    if let Err(e) = archive::put_archive(&k, Path::new(&ar), false) {
        fail(&format!(
            "Something error occurred during putting archive file({ar}): {e}"
        ));
    }
    drop(k);
    let _ = std::fs::remove_file(&tmp);
    let nk = match K2h::open_file(Path::new(&tmp), false, false, false, layout) {
        Ok(k) => k,
        Err(e) => fail(&format!(
            "Could not create new k2hash file({tmp}) for replacing with compress: {e}"
        )),
    };
    if let Err(e) = archive::load_archive(&nk, Path::new(&ar), false) {
        fail(&format!(
            "Something error occurred during loading archive file({ar}): {e}"
        ));
    }
    drop(nk);
    let _ = std::fs::remove_file(&ar);
    if deep {
        println!("replacing {org} with {tmp}");
    }
    if let Err(m) = k2htools::replace_file(&tmp, &org, true) {
        fail(&format!(
            "Something error occurred during replacing k2hash file: {m}"
        ));
    }
    println!("Succeed to replace and compress k2hash file.");
}
