//! The C ABI of libk2hash.so.1. This module is the only place that converts raw pointers
//! (`ffi`) and allocates with the C allocator (`ffi::malloc_*`); the families live in submodules.
// The exported functions take raw pointers because the C ABI does; C callers cannot see Rust's
// `unsafe`, and every pointer is validated (NULL, length) in `ffi` before use.
#![allow(
    non_camel_case_types,
    non_snake_case,
    clippy::missing_safety_doc,
    clippy::not_unsafe_ptr_arg_deref
)]

pub mod attrconf;
pub mod daccess;
pub mod debug;
pub mod dumpfn;
pub mod ffi;
pub mod find;
pub mod get;
pub mod hashfn;
pub mod open;
pub mod queue;
pub mod replicate;
pub mod set;
pub mod trans;
pub mod transfunc;
pub mod types;
pub mod util;

pub use types::*;
