//! The error of the fit stage's computations (`fit::folds`,
//! `fit::regressors`, `fit::validate`, `fit::intervals`): a data
//! problem found while fitting (hyper-parameters are checked before, see
//! `fit::params`).

/// A fit that cannot be made on the data it was given.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error("{what} has {got} entries, expected {expected}")]
    LengthMismatch {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{what} needs at least {needed} rows, have {have}")]
    TooFewRows {
        what: &'static str,
        needed: usize,
        have: usize,
    },
    #[error("{0} contains a non-finite value")]
    NonFinite(&'static str),
    #[error("singular linear system in {0}")]
    Singular(&'static str),
    #[error("invalid argument: {0}")]
    Invalid(String),
    #[error("linear regression (linfa-linear) failed")]
    Linfa(#[source] linfa_linear::LinearError<f64>),
}
