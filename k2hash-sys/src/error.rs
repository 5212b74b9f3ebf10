//! Error type of the safe core. The C API turns every error into false/NULL/-1 plus a debug line.
use thiserror::Error;

#[derive(Debug, Error)]
pub enum K2hError {
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("corrupt k2hash data: {0}")]
    Corrupt(String),
    #[error("invalid argument: {0}")]
    Invalid(String),
    #[error("the k2hash is attached read-only")]
    ReadOnly,
    #[error("no space: {0}")]
    NoSpace(String),
    #[error("not found")]
    NotFound,
    #[error("crypto: {0}")]
    Crypt(String),
}

pub type Result<T> = std::result::Result<T, K2hError>;

pub fn corrupt<T>(msg: impl Into<String>) -> Result<T> {
    Err(K2hError::Corrupt(msg.into()))
}

pub fn invalid<T>(msg: impl Into<String>) -> Result<T> {
    Err(K2hError::Invalid(msg.into()))
}
