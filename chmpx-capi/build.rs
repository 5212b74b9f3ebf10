//! Sets the SONAME of libchmpx and generates the C headers with cbindgen into OUT_DIR
//! (`make headers` copies them to include/chmpx/; `make check-headers` fails when the
//! checked-in copies are stale).
use std::path::{Path, PathBuf};

/// Items of the sources that another header declares (or no header: k2hash.h has the K2HBIN
/// family, the exported variables are written by hand).
const NOT_IN_CHMPX_H: &[&str] = &[
    "k2hash_binary_data",
    "K2HBIN",
    "PK2HBIN",
    "k2h_hash_t",
    "chm_dbg_mode",
    "ChmDbgMode",
    "DbgModeArg",
    "SetChmDbgMode",
    "BumpupChmDbgMode",
    "GetChmDbgMode",
    "LoadChmDbgEnv",
    "SetChmDbgFile",
    "UnsetChmDbgFile",
    "chm_debug_mode",
    "chm_dbg_fp",
    "chmpx_commit_hash",
];

/// The chmpx.h functions of debug.rs (chmdbg.h has the others).
const CHMPX_DEBUG_API: &[&str] = &[
    "chmpx_bump_debug_level",
    "chmpx_set_debug_level_silent",
    "chmpx_set_debug_level_error",
    "chmpx_set_debug_level_warning",
    "chmpx_set_debug_level_message",
    "chmpx_set_debug_level_dump",
    "chmpx_set_debug_file",
    "chmpx_unset_debug_file",
    "chmpx_load_debug_env",
];

/// Types chmpx.h declares although no function of it uses them.
const CHMPX_H_TYPES: &[&str] = &[
    "chmpxid_t",
    "serial_t",
    "msgflag_t",
    "chmpxsts_t",
    "chmpxpos_t",
    "logtype_t",
    "comver_t",
    "comtype_t",
    "c2ctype_t",
    "PCKID",
    "PPCKID",
    "COMHEAD",
    "PCOMHEAD",
    "COMPKT",
    "PCOMPKT",
    "CHMPXID_SEED_TYPE",
    "CHMPXMODE",
    "CHMBIN",
    "CHMKVP",
    "CHM_MERGE_GETPARAM",
];

const CHMPX_H_PRELUDE: &str = r#"
#if defined(__cplusplus)
#define DECL_EXTERN_C_START extern "C" {
#define DECL_EXTERN_C_END }
#else
#define DECL_EXTERN_C_START
#define DECL_EXTERN_C_END
#endif

#define CHM_INVALID_HANDLE (-1)
#if defined(__cplusplus)
#define CHM_INVALID_CHMPXHANDLE static_cast<uint64_t>(CHM_INVALID_HANDLE)
#else
#define CHM_INVALID_CHMPXHANDLE (uint64_t)(CHM_INVALID_HANDLE)
#endif
#define CHM_INVALID_ID (-1)
#define CHM_INVALID_PORT (-1)
#define CHM_INVALID_CHMPXID ((uint64_t)-1)
#define CHM_INVALID_MSGID ((uint64_t)-1)
#define CHM_INVALID_HASHVAL ((uint64_t)-1)

/* CHMBIN is k2hash's K2HBIN: free received arrays with k2hash's functions. */
#define CHM_FREE_CHMBIN free_k2hbin
#define CHM_FREE_CHMBINS free_k2hbins
"#;

// (cbindgen writes the trailer after the include guard's #endif: it has a guard of its own)
const CHMDBG_H_TRAILER: &str = r#"
#ifndef CHMDBG_H_VARIABLES
#define CHMDBG_H_VARIABLES
#if defined(__cplusplus)
extern "C" {
#endif
/* The current level (do not write it directly) and the debug stream (NULL: stderr). */
extern ChmDbgMode chm_debug_mode;
extern FILE *chm_dbg_fp;
#if defined(__cplusplus)
}
#endif

#define STR_CHMDBG_SILENT "SLT"
#define STR_CHMDBG_ERR "ERR"
#define STR_CHMDBG_WARN "WAN"
#define STR_CHMDBG_MSG "MSG"
#define STR_CHMDBG_DUMP "DMP"

#define ChmDbgMode_STR(mode) \
    (CHMDBG_SILENT == (mode) ? STR_CHMDBG_SILENT : CHMDBG_ERR == (mode) ? STR_CHMDBG_ERR : \
     CHMDBG_WARN == (mode) ? STR_CHMDBG_WARN : CHMDBG_MSG == (mode) ? STR_CHMDBG_MSG : \
     CHMDBG_DUMP == (mode) ? STR_CHMDBG_DUMP : "")

#define LOW_CHMPRINT(strmode, fmt, ...) \
    fprintf((chm_dbg_fp ? chm_dbg_fp : stderr), "[CHMPX-%s] %s(%d) : " fmt "%s\n", strmode, \
            __func__, __LINE__, __VA_ARGS__)
#define CHMPRINT(mode, strmode, ...) \
    if (((int)chm_debug_mode & (int)(mode)) == (int)(mode)) { \
        LOW_CHMPRINT(strmode, __VA_ARGS__); \
    }
#define SLT_CHMPRN(...) CHMPRINT(CHMDBG_SILENT, STR_CHMDBG_SILENT, ##__VA_ARGS__, "")
#define ERR_CHMPRN(...) CHMPRINT(CHMDBG_ERR, STR_CHMDBG_ERR, ##__VA_ARGS__, "")
#define WAN_CHMPRN(...) CHMPRINT(CHMDBG_WARN, STR_CHMDBG_WARN, ##__VA_ARGS__, "")
#define MSG_CHMPRN(...) CHMPRINT(CHMDBG_MSG, STR_CHMDBG_MSG, ##__VA_ARGS__, "")
#define DMP_CHMPRN(...) CHMPRINT(CHMDBG_DUMP, STR_CHMDBG_DUMP, ##__VA_ARGS__, "")

/* Needs <time.h>. */
#define CLOCKTIME_CHMPRN(phead) \
    if (((int)chm_debug_mode & (int)CHMDBG_DUMP) == (int)CHMDBG_DUMP) { \
        struct timespec reqtime; \
        if (-1 == clock_gettime(CLOCK_REALTIME_COARSE, &reqtime)) { \
            fprintf((chm_dbg_fp ? chm_dbg_fp : stderr), "[CHMPX-TIME-%s] ---s ---ms ---us ---ns\n", \
                    ((phead) ? (phead) : "DBG")); \
        } else { \
            fprintf((chm_dbg_fp ? chm_dbg_fp : stderr), "[CHMPX-TIME-%s] %03jds %03ldms %03ldus %03ldns\n", \
                    ((phead) ? (phead) : "DBG"), (intmax_t)reqtime.tv_sec, \
                    (reqtime.tv_nsec / (1000 * 1000)), ((reqtime.tv_nsec % (1000 * 1000)) / 1000), \
                    (reqtime.tv_nsec % 1000)); \
        } \
    }
#endif /* CHMDBG_H_VARIABLES */
"#;

/// The original's second parameter is a C++ reference, which C spells as a pointer.
const CHMUTIL_H_TRAILER: &str = r#"
#ifndef CHMUTIL_H_FILE_SIZE
#define CHMUTIL_H_FILE_SIZE
#if defined(__cplusplus)
extern "C" bool get_file_size(const char *file, size_t &length);
#else
bool get_file_size(const char *file, size_t *length);
#endif
#endif /* CHMUTIL_H_FILE_SIZE */
"#;

fn config(guard: &str, sys: &[&str], local: &[&str]) -> cbindgen::Config {
    let mut c = cbindgen::Config {
        language: cbindgen::Language::C,
        include_guard: Some(guard.to_string()),
        cpp_compat: true,
        no_includes: true,
        sys_includes: sys.iter().map(|s| s.to_string()).collect(),
        includes: local.iter().map(|s| s.to_string()).collect(),
        autogen_warning: Some(
            "/* Generated by cbindgen from chmpx-capi (libchmpx, k2hash-rs). Do not edit. */"
                .into(),
        ),
        style: cbindgen::Style::Both,
        usize_is_size_t: true,
        ..Default::default()
    };
    c.enumeration.rename_variants = cbindgen::RenameRule::None;
    c.layout.packed = Some("__attribute__((packed))".into());
    let rename = &mut c.export.rename;
    rename.insert("timespec".into(), "struct timespec".into());
    rename.insert("FILE".into(), "FILE".into());
    // results are a clean 32-bit 0/1 (ffi::CBool), arguments one byte (ffi::BoolArg)
    rename.insert("CBool".into(), "bool".into());
    rename.insert("BoolArg".into(), "bool".into());
    rename.insert("DbgModeArg".into(), "ChmDbgMode".into());
    rename.insert("SeedTypeArg".into(), "CHMPXID_SEED_TYPE".into());
    c.export.exclude = ["CBool", "BoolArg", "DbgModeArg", "SeedTypeArg"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    c
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn generate(crate_dir: &Path, out: &Path, file: &str, cfg: cbindgen::Config, srcs: &[&str]) {
    let mut b = cbindgen::Builder::new().with_config(cfg);
    for s in srcs {
        b = b.with_src(crate_dir.join("src/capi").join(s));
    }
    b.generate()
        .unwrap_or_else(|e| panic!("cbindgen {file}: {e}"))
        .write_to_file(out.join(file));
}

fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libchmpx.so.1");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=build.rs");
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let std_inc = ["stdio.h", "stdint.h", "stdbool.h", "sys/types.h", "time.h"];

    // chmpx.h: the API, its types, and what the original pulled in from chmcommon.h,
    // chmstructure.h (ids, invalid values, enums) and chmcomstructure.h (the packet)
    let mut sys: Vec<&str> = std_inc.to_vec();
    sys.push("k2hash/k2hash.h");
    let mut cfg = config("CHMPX_H", &sys, &[]);
    cfg.after_includes = Some(CHMPX_H_PRELUDE.into());
    cfg.export.exclude.extend(strings(NOT_IN_CHMPX_H));
    cfg.export.include = strings(CHMPX_H_TYPES);
    generate(
        &crate_dir,
        &out,
        "chmpx.h",
        cfg,
        &[
            "types.rs",
            "debug.rs",
            "hashlib.rs",
            "create.rs",
            "server.rs",
            "slave.rs",
            "version.rs",
            "kvp.rs",
        ],
    );

    // chmdbg.h: levels, the low-level functions, the exported variables and the macros
    let mut cfg = config("CHMDBG_H", &["stdio.h", "stdint.h", "stdbool.h"], &[]);
    cfg.export.exclude.extend(strings(CHMPX_DEBUG_API));
    cfg.export
        .exclude
        .extend(strings(&["chm_debug_mode", "chm_dbg_fp"]));
    cfg.export.include = strings(&["ChmDbgMode"]);
    cfg.trailer = Some(CHMDBG_H_TRAILER.into());
    generate(&crate_dir, &out, "chmdbg.h", cfg, &["debug.rs"]);

    // chmhash.h: chmpxids
    let mut cfg = config("CHMHASH_H", &[], &["chmpx.h"]);
    generate(&crate_dir, &out, "chmhash.h", cfg.clone(), &["chmhash.rs"]);

    // chmutil.h / chmconfutil.h: the C functions of the original's (otherwise C++) headers
    cfg = config("CHMUTIL_H", &std_inc, &[]);
    cfg.export.exclude.push("get_file_size".into());
    cfg.trailer = Some(CHMUTIL_H_TRAILER.into());
    generate(&crate_dir, &out, "chmutil.h", cfg, &["chmutil.rs"]);
    let cfg = config("CHMCONFUTIL_H", &["stdbool.h"], &[]);
    generate(&crate_dir, &out, "chmconfutil.h", cfg, &["confutil.rs"]);
}
