//! Stage 3, features: per-layer compression features of each model's hidden
//! states over the corpus, computed by streaming layers through the
//! soft-entropy [`estimator`].

pub mod estimator;
