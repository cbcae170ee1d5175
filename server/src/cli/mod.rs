//! The command line's subcommands other than `serve`: each talks to weir
//! from outside (over pgwire, or by starting a server), so nothing below
//! the front end depends on them.

pub mod apply;
pub mod bench;
pub mod config;
pub mod migrate;
