//! The C ABI of libchmpx.so.1. Only `ffi` contains `unsafe` code: it converts raw pointers,
//! allocates with the C allocator and makes the libc calls on caller-supplied descriptors,
//! streams and libraries. The function families live in the other submodules.
// The exported functions take raw pointers because the C ABI does; C callers cannot see Rust's
// `unsafe`, and every pointer is checked (NULL, length) in `ffi` before use.
#![allow(
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    clippy::missing_safety_doc,
    clippy::not_unsafe_ptr_arg_deref
)]

pub mod chmhash;
pub mod chmutil;
pub mod confutil;
pub mod create;
pub mod debug;
pub mod ffi;
pub mod handle;
pub mod hashlib;
pub mod kvp;
pub mod merge;
pub mod packet;
pub mod server;
pub mod slave;
pub mod types;
pub mod version;
