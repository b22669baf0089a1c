//! lossy: measure how LLM hidden states compress their inputs, and link that
//! to benchmark scores.
//!
//! The pipeline, one module per stage, data flowing one way:
//!
//! ```text
//! study ──► models ──► corpus ──► features ──► scores ──► fit ──► figures ──► report
//! ```

pub mod features;
pub mod io;
