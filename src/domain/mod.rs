//! The domain: tasks, accounts and token verification as types that parse, don't validate.
//! No HTTP, no SQL, no command line.

pub mod accounts;
pub mod auth;
pub mod lists;
pub mod tasks;
