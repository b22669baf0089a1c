//! Small file-format and filesystem helpers shared by every stage:
//! atomic writes, content hashes and `.npy` arrays.

pub mod atomic;
pub mod hash;
pub mod npy;
pub mod pid;
