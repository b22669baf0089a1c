//! lossy's integration tests, in one test binary (fast links): parity with
//! the reference estimator and HF transformers, and the real CLI end to end.

mod cli;
mod demo;
mod engine;
mod estimator;
mod fit_stats;
mod gguf;
mod support;
mod http_server;
mod hub;
mod scores;
mod hub_models;
mod corpus_dataset;
