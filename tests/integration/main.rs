//! weir's one integration test binary. Every test runs the real `weir`
//! binary and talks to it over the wire; tests of connectors talk to the
//! real services that `tests/services.sh` starts (run them via `tests/run.sh`).

mod support;

mod apply;
mod bad_input;
mod bi_tools;
mod catalog;
mod checkpoints;
mod clients;
mod cursors;
mod durability;
mod joins;
mod migrations;
mod pg_corpus;
mod pipelines;
mod services;
mod sinks;
mod slt;
mod state;
mod streaming;
mod transactions;
mod watermarks;
mod wire;
