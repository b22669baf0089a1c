//! lossy: measure how LLM hidden states compress their inputs, and link that
//! to benchmark scores.
//!
//! Data flows one way (`ARCHITECTURE.md`; `scripts/module_graph.py` checks
//! it). The lower crates come first: `lossy-base` (kernels, statistics, file
//! plumbing), `lossy-estimator` (the soft-entropy estimator) and
//! `lossy-models` (the engine and the hub client), re-exported here as
//! [`math`], [`io`], [`features::estimator`], [`models`] and [`hub`]. Then
//! this crate's stages, each of which owns its settings type:
//!
//! ```text
//! corpus ──► features ──► scores ──► fit ──► figures ──► study ──► report ──► pipeline
//! ```
//!
//! [`study`] parses and checks a study file into those settings;
//! [`pipeline`] runs a checked [`study::Study`] through every stage.
//! [`slurm`] spreads a study's models over a Slurm cluster (one array task
//! per model, see [`pipeline::shard`]).

pub mod corpus;
pub mod features;
pub mod figures;
pub mod fit;
pub mod pipeline;
pub mod report;
pub mod scores;
pub mod slurm;
pub mod study;
pub mod table;

pub use lossy_base::{io, math};
/// The model engine (crate `lossy-models`).
pub use lossy_models as models;
pub use lossy_models::hub;
