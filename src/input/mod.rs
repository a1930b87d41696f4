//! Readers that turn results files into [`RunResults`](crate::model::RunResults).
//!
//! One module per format. Readers are pure: they get a file name (for messages) and its text,
//! and never touch the file system themselves.

pub mod native;
