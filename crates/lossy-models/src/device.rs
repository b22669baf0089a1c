//! Where a model computes: the CPU (the default) or a CUDA GPU, as a study's
//! `features.device` or a model command's `--device` names it (`cpu`,
//! `cuda`, `cuda:N`). Opening a GPU never falls back to the CPU: a build
//! without the `cuda` feature, or a machine without a usable GPU, is an error
//! that names the device and what to do.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A compute device, as a user names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DeviceSpec {
    #[default]
    Cpu,
    /// The CUDA GPU with this ordinal (`cuda` is `cuda:0`).
    Cuda(usize),
}

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("`{0}` is not a device: use `cpu`, `cuda` or `cuda:N` (N = 0, 1, ...)")]
    Syntax(String),
    #[error(
        "device `{0}` needs a GPU build of lossy, and this one was built without the `cuda` \
         feature: build with `cargo build --release --features cuda` (README, \"GPUs\"), or use `cpu`"
    )]
    NotBuilt(DeviceSpec),
    #[error(
        "device `{spec}` cannot be opened (no NVIDIA driver, no such GPU, or a CUDA version the \
         driver does not support); check `nvidia-smi`, or use `cpu`"
    )]
    Unavailable {
        spec: DeviceSpec,
        #[source]
        source: candle_core::Error,
    },
}

impl DeviceSpec {
    pub fn is_cpu(&self) -> bool {
        *self == DeviceSpec::Cpu
    }

    /// The candle device; never the CPU when a GPU was asked for.
    pub fn open(self) -> Result<candle_core::Device, DeviceError> {
        match self {
            DeviceSpec::Cpu => Ok(candle_core::Device::Cpu),
            DeviceSpec::Cuda(ordinal) => {
                if !candle_core::utils::cuda_is_available() {
                    return Err(DeviceError::NotBuilt(self));
                }
                candle_core::Device::new_cuda(ordinal)
                    .map_err(|source| DeviceError::Unavailable { spec: self, source })
            }
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Cpu => f.write_str("cpu"),
            DeviceSpec::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

impl FromStr for DeviceSpec {
    type Err = DeviceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || DeviceError::Syntax(s.to_string());
        match s.trim().to_ascii_lowercase().as_str() {
            "cpu" => Ok(DeviceSpec::Cpu),
            "cuda" | "gpu" => Ok(DeviceSpec::Cuda(0)),
            other => {
                let n = other.strip_prefix("cuda:").ok_or_else(bad)?;
                n.parse().map(DeviceSpec::Cuda).map_err(|_| bad())
            }
        }
    }
}

impl Serialize for DeviceSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DeviceSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_device_names() {
        for (text, spec) in [
            ("cpu", DeviceSpec::Cpu),
            ("CPU", DeviceSpec::Cpu),
            ("cuda", DeviceSpec::Cuda(0)),
            ("cuda:0", DeviceSpec::Cuda(0)),
            ("cuda:3", DeviceSpec::Cuda(3)),
        ] {
            assert_eq!(text.parse::<DeviceSpec>().unwrap(), spec, "{text}");
        }
        assert_eq!(DeviceSpec::Cuda(2).to_string(), "cuda:2");
        for bad in ["", "cuda:", "cuda:x", "cuda:-1", "metal", "cuda0"] {
            let err = bad.parse::<DeviceSpec>().unwrap_err();
            assert!(matches!(err, DeviceError::Syntax(_)), "{bad}: {err}");
        }
    }

    #[test]
    fn cpu_opens_and_a_gpu_never_falls_back() {
        assert!(DeviceSpec::Cpu.open().unwrap().is_cpu());
        match DeviceSpec::Cuda(0).open() {
            // A CPU-only build says so; a GPU build on a machine without a
            // GPU cannot open it. Either way there is no CPU device.
            Err(DeviceError::NotBuilt(_)) => assert!(!cfg!(feature = "cuda")),
            Err(DeviceError::Unavailable { .. }) => assert!(cfg!(feature = "cuda")),
            Err(e) => panic!("unexpected error: {e}"),
            Ok(d) => assert!(d.is_cuda(), "a GPU was asked for"),
        }
    }
}
