//! Sets the SONAME of libk2hdkc and generates the repetitive surface of its C API from one
//! table (`forms.txt`): every form implemented in `src/capi/ops.rs` (or a file of
//! `src/capi/ops/`) is exported four times
//! (`k2hdkc_F`, `k2hdkc_ex_F`, `k2hdkc_full_F`, `k2hdkc_pm_F`) by `forms.rs` in OUT_DIR, and
//! declared in the header `k2hdkc.h` written beside it (`make headers` copies it to
//! include/k2hdkc/, `make check-headers` fails when the checked-in copy is stale). A form that
//! they do not implement is neither exported nor declared.
use std::fmt::Write as _;
use std::path::PathBuf;

struct Form {
    ret: String,
    name: String,
    /// (C type, name)
    args: Vec<(String, String)>,
}

fn parse_forms(text: &str) -> Vec<Form> {
    let mut v = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let args = cells[2]
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(|a| {
                let cut = a.rfind([' ', '*']).expect("argument name");
                (a[..=cut].trim().to_string(), a[cut + 1..].to_string())
            })
            .collect();
        v.push(Form {
            ret: cells[0].to_string(),
            name: cells[1].to_string(),
            args,
        });
    }
    v
}

/// The Rust type of a C type of the table.
fn rust_type(c: &str) -> String {
    let c = c.replace("const ", "");
    let c = c.trim();
    let stars = c.matches('*').count();
    let base = c.trim_end_matches(['*', ' ']).trim();
    let b = match base {
        "unsigned char" => "libc::c_uchar",
        "char" => "libc::c_char",
        "size_t" => "usize",
        "off_t" => "i64",
        "time_t" => "i64",
        "bool" => "bool",
        "int" => "libc::c_int",
        "uint64_t" => "u64",
        "uint32_t" => "u32",
        "uint16_t" => "u16",
        "uint8_t" => "u8",
        "PK2HDKCKEYPCK" => "crate::capi::types::PK2HDKCKEYPCK",
        "PK2HDKCATTRPCK" => "crate::capi::types::PK2HDKCATTRPCK",
        "PDKC_NODESTATE" => "crate::capi::types::PDKC_NODESTATE",
        other => panic!("no Rust type for {other}"),
    };
    let mut t = b.to_string();
    for i in 0..stars {
        // the outermost pointer is const when the C type starts with const and has one star
        let _ = i;
        t = format!("*mut {t}");
    }
    t
}

/// Return type in Rust and the value a failed session gives.
fn rust_ret(c: &str) -> (String, &'static str) {
    match c {
        "bool" => (
            "crate::capi::ffi::CBool".into(),
            "crate::capi::ffi::CBool::FALSE",
        ),
        "int" => ("libc::c_int".into(), "-1"),
        other => (rust_type(other), "std::ptr::null_mut()"),
    }
}

const SESSIONS: [(&str, &str, &str); 4] = [
    ("", "const char* config", "crate::capi::session::one_time(config, -1, std::ptr::null(), false, false, |s| "),
    (
        "ex_",
        "const char* config, short ctlport, bool is_auto_rejoin, bool no_giveup_rejoin",
        "crate::capi::session::one_time(config, ctlport, std::ptr::null(), is_auto_rejoin, no_giveup_rejoin, |s| ",
    ),
    (
        "full_",
        "const char* config, short ctlport, const char* cuk, bool is_auto_rejoin, bool no_giveup_rejoin",
        "crate::capi::session::one_time(config, ctlport, cuk, is_auto_rejoin, no_giveup_rejoin, |s| ",
    ),
    ("pm_", "k2hdkc_chmpx_h handle", "crate::capi::session::permanent(handle, |s| "),
];

const SESSION_RUST: [&str; 4] = [
    "config: *const libc::c_char",
    "config: *const libc::c_char, ctlport: libc::c_short, is_auto_rejoin: bool, no_giveup_rejoin: bool",
    "config: *const libc::c_char, ctlport: libc::c_short, cuk: *const libc::c_char, is_auto_rejoin: bool, no_giveup_rejoin: bool",
    "handle: u64",
];

fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libk2hdkc.so.1");
    }
    println!("cargo:rerun-if-changed=forms.txt");
    println!("cargo:rerun-if-changed=src/capi/ops.rs");
    println!("cargo:rerun-if-changed=src/capi/ops");
    println!("cargo:rerun-if-changed=src/capi/prelude.h");
    let forms = parse_forms(&std::fs::read_to_string("forms.txt").expect("forms.txt"));
    // the forms are in ops.rs and the files of its directory (queues, subkeys, ...)
    let mut ops = std::fs::read_to_string("src/capi/ops.rs").expect("ops.rs");
    let mut parts: Vec<PathBuf> = std::fs::read_dir("src/capi/ops")
        .expect("src/capi/ops")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    parts.sort();
    for p in parts {
        ops.push_str(&std::fs::read_to_string(&p).expect("ops part"));
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));

    let mut rs = String::from("// Generated by build.rs from forms.txt: do not edit.\n");
    let mut h = String::new();
    for f in &forms {
        // a form is implemented by `pub fn NAME(` or, inside a macro call, `= NAME,`
        if !ops.contains(&format!("pub fn {}(", f.name)) && !ops.contains(&format!("= {},", f.name))
        {
            continue;
        }
        let (ret, fail) = rust_ret(&f.ret);
        let conv = if f.ret == "bool" {
            ".map(Into::into)"
        } else {
            ""
        };
        let args_rust: Vec<String> = f
            .args
            .iter()
            .map(|(t, n)| format!("{n}: {}", rust_type(t)))
            .collect();
        let names: Vec<&str> = f.args.iter().map(|(_, n)| n.as_str()).collect();
        let c_args: Vec<String> = f.args.iter().map(|(t, n)| format!("{t} {n}")).collect();
        for (i, (prefix, c_session, call)) in SESSIONS.iter().enumerate() {
            let fname = format!("k2hdkc_{prefix}{}", f.name);
            let mut all = vec![SESSION_RUST[i].to_string()];
            all.extend(args_rust.iter().cloned());
            let _ = writeln!(
                rs,
                "#[no_mangle]\npub extern \"C\" fn {fname}({}) -> {ret} {{\n    crate::capi::ffi::guard(\"{fname}\", {fail}, || {{\n        {call}crate::capi::ops::{}(s, {})){conv}.unwrap_or({fail})\n    }})\n}}\n",
                all.join(", "),
                f.name,
                names.join(", ")
            );
            let mut cargs = vec![c_session.to_string()];
            cargs.extend(c_args.iter().cloned());
            let _ = writeln!(h, "extern {} {fname}({});", f.ret, cargs.join(", "));
        }
    }
    std::fs::write(out.join("forms.rs"), rs).expect("forms.rs");
    let prelude = std::fs::read_to_string("src/capi/prelude.h").expect("prelude.h");
    let header = prelude.replace("/*@FORMS@*/\n", &h);
    std::fs::write(out.join("k2hdkc.h"), header).expect("k2hdkc.h");
}
