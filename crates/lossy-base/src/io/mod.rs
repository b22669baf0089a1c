//! Small file-format and filesystem helpers shared by every stage:
//! atomic writes, the cache folder, content hashes and `.npy` arrays.

pub mod atomic;
pub mod cache_dir;
pub mod hash;
pub mod npy;
pub mod pid;
