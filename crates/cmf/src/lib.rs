//! placeholder
#![allow(missing_docs)]
pub mod error;
pub mod read;
pub mod release;
pub mod specimen;
pub mod write;
