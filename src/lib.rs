//! lossy: measure how LLM hidden states compress their inputs, and link that
//! to benchmark scores.
//!
//! The pipeline, one module per stage, data flowing one way:
//!
//! ```text
//! study ──► models ──► corpus ──► features ──► scores ──► fit ──► figures ──► report
//! ```
//!
//! [`pipeline`] runs a checked [`study::Study`] through every stage. [`hub`]
//! is the HTTP client and cache behind models, corpora and scores that live on
//! the Hugging Face hub. [`slurm`] spreads a study's models over a Slurm
//! cluster (one array task per model, see [`pipeline::shard`]).

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
