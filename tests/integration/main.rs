//! lossy's integration tests, in one test binary (fast links): parity with
//! the reference estimator and HF transformers, and the real CLI end to end.

mod bench_reports;
mod cli;
mod corpus_dataset;
mod demo;
mod engine;
mod estimator;
mod faults;
mod fit_baselines;
mod fit_stats;
mod gguf;
mod http_server;
mod hub;
mod hub_models;
mod intervals;
mod lm_loss;
mod memory_budget;
mod mutations;
mod overlap;
mod preference;
mod probe_sets;
mod scores;
mod series;
mod shared_cache;
mod slurm;
mod support;
