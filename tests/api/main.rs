//! Integration tests: a real server over HTTP, on SQLite and on PostgreSQL.

mod helpers;
mod instances;

mod accounts;
mod audit;
mod auth;
mod backup;
mod caches;
mod cli;
mod clients;
mod console;
mod crash;
mod elements;
mod emulator;
mod errors;
mod etag;
mod events;
mod faults;
mod hostile;
mod idempotency;
mod jobs;
mod journal;
mod metrics;
mod numbers;
mod openapi;
mod org;
mod outages;
mod persistence;
mod process;
mod soak;
mod state;
mod writes;
