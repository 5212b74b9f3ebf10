//! The C ABI of libk2hdkc.so.1 (see the crate documentation).
#![allow(
    non_camel_case_types,
    non_snake_case,
    clippy::missing_safety_doc,
    clippy::not_unsafe_ptr_arg_deref,
    clippy::too_many_arguments
)]

pub mod ffi;
pub mod ops;
pub mod session;
pub mod types;

mod forms {
    include!(concat!(env!("OUT_DIR"), "/forms.rs"));
}
