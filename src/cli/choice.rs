//! The command line's closed choices as `clap::ValueEnum`s: clap rejects any
//! other value (exit 2, listing the valid ones) and `--help` lists them, so
//! no command parses a string after clap. Each converts into the library's
//! own type; the library does not depend on clap.

use clap::ValueEnum;
use lossy::features::estimator::Calibration;
use lossy::models::{HiddenStates, Precision};

/// `--precision`: the floating-point precision a model computes in.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PrecisionArg {
    F32,
    Bf16,
    F16,
}

impl From<PrecisionArg> for Precision {
    fn from(p: PrecisionArg) -> Self {
        match p {
            PrecisionArg::F32 => Precision::F32,
            PrecisionArg::Bf16 => Precision::Bf16,
            PrecisionArg::F16 => Precision::F16,
        }
    }
}

/// `--calibration`: how the estimator's temperature is calibrated.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum CalibrationArg {
    FindEps,
    Exact,
    LeadingOrder,
}

impl From<CalibrationArg> for Calibration {
    fn from(c: CalibrationArg) -> Self {
        match c {
            CalibrationArg::FindEps => Calibration::FindEps,
            CalibrationArg::Exact => Calibration::Exact,
            CalibrationArg::LeadingOrder => Calibration::LeadingOrder,
        }
    }
}

/// `--convention`: which hidden states a model reports (see [`HiddenStates`]).
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ConventionArg {
    Hf,
    Raw,
}

impl From<ConventionArg> for HiddenStates {
    fn from(c: ConventionArg) -> Self {
        match c {
            ConventionArg::Hf => HiddenStates::Hf,
            ConventionArg::Raw => HiddenStates::Raw,
        }
    }
}

/// The name a choice is written with on the command line (`bf16`, `find-eps`).
pub fn name(choice: &impl ValueEnum) -> String {
    choice
        .to_possible_value()
        .map(|p| p.get_name().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_choice_converts_under_its_library_name() {
        for c in CalibrationArg::value_variants() {
            assert_eq!(Calibration::from(*c).name(), name(c));
        }
        assert_eq!(name(&PrecisionArg::Bf16), "bf16");
        assert_eq!(Precision::from(PrecisionArg::F16), Precision::F16);
        assert_eq!(HiddenStates::from(ConventionArg::Raw), HiddenStates::Raw);
    }
}
