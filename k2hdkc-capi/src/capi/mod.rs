//! The C ABI of libk2hdkc.so.1 (see the crate documentation).
#![allow(
    non_camel_case_types,
    non_snake_case,
    clippy::missing_safety_doc,
    clippy::not_unsafe_ptr_arg_deref,
    clippy::too_many_arguments
)]

pub mod debug;
pub mod ffi;
pub mod ops;
pub mod session;
pub mod types;
pub mod util;

/// The generated exports (`k2hdkc_F`, `k2hdkc_ex_F`, `k2hdkc_full_F`, `k2hdkc_pm_F` per form), callable from Rust too.
pub mod forms {
    include!(concat!(env!("OUT_DIR"), "/forms.rs"));
}
