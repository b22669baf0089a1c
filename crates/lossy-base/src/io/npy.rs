//! Reading and writing NumPy `.npy` arrays (format versions 1–3, C order,
//! little-endian numeric dtypes): the exchange format for embeddings, labels,
//! reference points and hidden states.
//!
//! The header and format layer is lossy's own, not `npyz` or `ndarray-npy`:
//! both parse the header's Python literal with `py_literal`, which brings
//! `pest`, `pest_derive` (a proc-macro build), `num-bigint` and
//! `num-complex`, none of them in the tree, to replace about 120 lines here;
//! and neither offers the row-batched reads and the memory map below, which
//! would stay hand-written anyway. Byte casts go through `bytemuck`.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid .npy file: {reason}")]
    Format { path: PathBuf, reason: String },
    #[error("{path} has dtype {dtype}, which lossy does not read (use little-endian float32/float64 or integers)")]
    Dtype { path: PathBuf, dtype: String },
}

/// Element data of an array, widened to one of three kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyData {
    F32(Vec<f32>),
    F64(Vec<f64>),
    Int(Vec<i64>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    pub data: NpyData,
}

impl NpyArray {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The elements as f32 (ints and f64 are converted).
    pub fn to_f32(&self) -> Option<Vec<f32>> {
        match &self.data {
            NpyData::F32(v) => Some(v.clone()),
            NpyData::F64(v) => Some(v.iter().map(|&x| x as f32).collect()),
            NpyData::Int(_) => None,
        }
    }
    pub fn as_ints(&self) -> Option<&[i64]> {
        match &self.data {
            NpyData::Int(v) => Some(v),
            _ => None,
        }
    }
}

/// The header of a `.npy` file: shape, dtype and where the data starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub shape: Vec<usize>,
    pub descr: String,
    pub kind: char,
    pub item_size: usize,
    pub data_offset: usize,
}

/// Reads rows of a 2-D float array without loading the whole file, so
/// arrays larger than memory can be streamed.
pub struct RowReader {
    file: std::fs::File,
    path: PathBuf,
    pub header: Header,
    next_row: usize,
    /// Reused read buffer (no fresh allocation per batch).
    buf: Vec<u8>,
}

impl RowReader {
    pub fn open(path: &Path) -> Result<Self, NpyError> {
        use std::io::{Read, Seek};
        let io = |source| NpyError::Io {
            path: path.into(),
            source,
        };
        let mut file = std::fs::File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len() as usize;
        // The fixed prefix (magic, version, header length), then the header.
        let mut bytes = vec![0u8; 12.min(size)];
        file.read_exact(&mut bytes).map_err(io)?;
        let header_len = match bytes.get(6) {
            Some(1) if size >= 10 => u16::from_le_bytes([bytes[8], bytes[9]]) as usize + 10,
            Some(2 | 3) if size >= 12 => {
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize + 12
            }
            _ => bytes.len(),
        };
        bytes.resize(header_len.min(size).max(bytes.len()), 0);
        file.read_exact(&mut bytes[12.min(size)..]).map_err(io)?;
        let header = parse_header(&bytes).map_err(|e| e.at(path))?;
        let need = header
            .shape
            .iter()
            .try_fold(header.item_size, |n, &d| n.checked_mul(d))
            .and_then(|n| n.checked_add(header.data_offset));
        let Some(need) = need.filter(|&n| n <= size) else {
            let need = need.map_or("more than 2^64".into(), |n| n.to_string());
            return Err(NpyError::Format {
                path: path.into(),
                reason: format!(
                    "data is truncated: the file has {size} bytes, its header (shape {:?}) needs {need}",
                    header.shape
                ),
            });
        };
        let _ = need;
        if header.kind != 'f' {
            return Err(NpyError::Dtype {
                path: path.into(),
                dtype: header.descr.clone(),
            });
        }
        file.seek(std::io::SeekFrom::Start(header.data_offset as u64))
            .map_err(io)?;
        Ok(Self {
            file,
            path: path.into(),
            header,
            next_row: 0,
            buf: Vec::new(),
        })
    }

    /// Reads up to `rows` more rows as f32 (f64 data is narrowed).
    pub fn read_rows(&mut self, rows: usize, out: &mut Vec<f32>) -> Result<usize, NpyError> {
        use std::io::Read;
        let total = self.header.shape.first().copied().unwrap_or(0);
        let width: usize = self.header.shape.iter().skip(1).product();
        let n = rows.min(total - self.next_row);
        let io = |source| NpyError::Io {
            path: self.path.clone(),
            source,
        };
        if self.header.item_size == 4 && cfg!(target_endian = "little") {
            // Little-endian f32 on disk is the in-memory layout: read straight
            // into `out`.
            out.resize(n * width, 0.0);
            self.file
                .read_exact(bytemuck::cast_slice_mut(out.as_mut_slice()))
                .map_err(io)?;
        } else {
            self.buf.resize(n * width * self.header.item_size, 0);
            self.file.read_exact(&mut self.buf).map_err(io)?;
            out.clear();
            match self.header.item_size {
                4 => out.extend(
                    self.buf
                        .chunks_exact(4)
                        .map(|c| f32::from_le_bytes(c.try_into().unwrap())),
                ),
                _ => out.extend(
                    self.buf
                        .chunks_exact(8)
                        .map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32),
                ),
            }
        }
        self.next_row += n;
        Ok(n)
    }
}

/// A little-endian f32 array mapped into memory: its rows are read in
/// place, with no copy from the page cache.
pub struct MappedF32 {
    map: memmap2::Mmap,
    offset: usize,
    len: usize,
}

impl MappedF32 {
    pub fn as_slice(&self) -> &[f32] {
        let bytes = &self.map[self.offset..self.offset + self.len * 4];
        // `map` checked that the bytes are 4-aligned and in bounds, and the
        // host is little-endian, so the cast cannot fail.
        bytemuck::cast_slice(bytes)
    }

    /// Drops the whole pages of elements `from..to` from this process's
    /// memory once they are read (they stay in the page cache, and a later
    /// read maps them again): a pass over the array then holds one batch
    /// resident, not the whole file.
    pub fn release(&self, from: usize, to: usize) {
        const PAGE: usize = 4096;
        let start = (self.offset + from * 4).div_ceil(PAGE) * PAGE;
        let end = (self.offset + to.min(self.len) * 4) / PAGE * PAGE;
        if end > start {
            // SAFETY: DONTNEED on a read-only shared file mapping only drops
            // page-table entries; the bytes read back are the file's. An
            // error (e.g. another page size) just leaves the pages mapped.
            let _ = unsafe {
                self.map.unchecked_advise_range(
                    memmap2::UncheckedAdvice::DontNeed,
                    start,
                    end - start,
                )
            };
        }
    }

    /// Maps the pages of elements `from..to` in one call, before they are
    /// read: cheaper than a page fault per 64 KiB, and software prefetches
    /// (which skip unmapped pages) then reach them. Best effort: a kernel
    /// without MADV_POPULATE_READ (before Linux 5.14) faults them in as
    /// they are read instead.
    fn populate(&self, from: usize, to: usize) {
        const PAGE: usize = 4096;
        let start = (self.offset + from * 4) / PAGE * PAGE;
        let end = (self.offset + to.min(self.len) * 4).min(self.map.len());
        if end > start {
            let _ = self
                .map
                .advise_range(memmap2::Advice::PopulateRead, start, end - start);
        }
    }

    /// Calls `f(first, batch)` on the first `len` elements in batches of
    /// `batch` elements, in order. A helper thread maps each batch's pages
    /// while the one before is being computed on, and releases each batch
    /// once `f` is done with it: the callers' threads neither fault nor wait
    /// for the kernel, and one batch or two stay resident, not the file.
    pub fn for_each_batch<E>(
        &self,
        len: usize,
        batch: usize,
        mut f: impl FnMut(usize, &[f32]) -> Result<(), E>,
    ) -> Result<(), E> {
        enum Job {
            Populate(usize),
            Release(usize),
        }
        let data = &self.as_slice()[..len.min(self.len)];
        let batch = batch.max(1);
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::channel();
            scope.spawn(move || {
                for job in rx {
                    match job {
                        Job::Populate(first) => self.populate(first, first + batch),
                        Job::Release(first) => self.release(first, first + batch),
                    }
                }
            });
            // A send fails only if the helper is gone, and then the pages
            // are simply faulted in as read.
            let _ = tx.send(Job::Populate(0));
            for (b, chunk) in data.chunks(batch).enumerate() {
                let first = b * batch;
                if first + batch < data.len() {
                    let _ = tx.send(Job::Populate(first + batch));
                }
                f(first, chunk)?;
                let _ = tx.send(Job::Release(first));
            }
            Ok(())
        })
    }
}

impl RowReader {
    /// Maps the array when it is little-endian f32 on a little-endian host
    /// and its data is 4-aligned; `None` otherwise (read it in batches).
    /// The file must not change while it is mapped.
    pub fn map(&self) -> Result<Option<MappedF32>, NpyError> {
        if self.header.descr != "<f4" || !cfg!(target_endian = "little") {
            return Ok(None);
        }
        // SAFETY: the mapping is read-only; lossy does not write the file,
        // and a file changed by another process while it runs is outside
        // what any reader can guard against.
        let map = unsafe { memmap2::Mmap::map(&self.file) }.map_err(|source| NpyError::Io {
            path: self.path.clone(),
            source,
        })?;
        let (offset, len) = (
            self.header.data_offset,
            self.header.shape.iter().product::<usize>(),
        );
        if map.len() < offset + len * 4 || (map.as_ptr() as usize + offset) % 4 != 0 {
            return Ok(None);
        }
        Ok(Some(MappedF32 { map, offset, len }))
    }
}

/// A [`RowReader`] on its own thread, reading the next batch while the
/// caller computes on the current one.
pub struct Prefetch {
    rx: std::sync::mpsc::Receiver<Result<Vec<f32>, NpyError>>,
    /// Spent buffers go back to the reader, so batches reuse memory.
    recycle: std::sync::mpsc::Sender<Vec<f32>>,
}

impl Prefetch {
    pub fn new(mut reader: RowReader, rows_per_batch: usize) -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel(2);
        let (recycle, spent) = std::sync::mpsc::channel::<Vec<f32>>();
        std::thread::spawn(move || loop {
            let mut batch = spent.try_recv().unwrap_or_default();
            match reader.read_rows(rows_per_batch, &mut batch) {
                Ok(0) => break,
                Ok(_) => {
                    if tx.send(Ok(batch)).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                    break;
                }
            }
        });
        Self { rx, recycle }
    }

    /// The next batch into `out`; returns its length in values (0 at the end).
    pub fn next_into(&mut self, out: &mut Vec<f32>) -> Result<usize, NpyError> {
        match self.rx.recv() {
            Ok(Ok(batch)) => {
                let spent = std::mem::replace(out, batch);
                let _ = self.recycle.send(spent);
                Ok(out.len())
            }
            Ok(Err(e)) => Err(e),
            Err(_) => {
                out.clear();
                Ok(0)
            }
        }
    }
}

pub fn read(path: &Path) -> Result<NpyArray, NpyError> {
    let bytes = std::fs::read(path).map_err(|source| NpyError::Io {
        path: path.into(),
        source,
    })?;
    parse(&bytes).map_err(|e| e.at(path))
}

enum ParseError {
    Format(String),
    Dtype(String),
}

impl ParseError {
    fn at(self, path: &Path) -> NpyError {
        match self {
            ParseError::Format(reason) => NpyError::Format {
                path: path.into(),
                reason,
            },
            ParseError::Dtype(dtype) => NpyError::Dtype {
                path: path.into(),
                dtype,
            },
        }
    }
}

fn parse_header(bytes: &[u8]) -> Result<Header, ParseError> {
    let fmt = |s: &str| ParseError::Format(s.to_string());
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(fmt("missing the \\x93NUMPY magic"));
    }
    let major = bytes[6];
    let (header_len, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(fmt("truncated header"));
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => {
            return Err(ParseError::Format(format!(
                "unsupported format version {v}"
            )))
        }
    };
    let header = bytes
        .get(start..start + header_len)
        .ok_or_else(|| fmt("truncated header"))?;
    let header = std::str::from_utf8(header).map_err(|_| fmt("header is not text"))?;
    let descr = dict_value(header, "descr").ok_or_else(|| fmt("header has no 'descr'"))?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"').to_string();
    let fortran =
        dict_value(header, "fortran_order").ok_or_else(|| fmt("header has no 'fortran_order'"))?;
    if fortran.starts_with("True") {
        return Err(fmt(
            "Fortran-ordered arrays are not supported; save with np.ascontiguousarray",
        ));
    }
    let shape_text = dict_value(header, "shape").ok_or_else(|| fmt("header has no 'shape'"))?;
    let shape = parse_shape(shape_text).ok_or_else(|| fmt("cannot parse 'shape'"))?;
    let (kind, item_size) = dtype_of(&descr).ok_or(ParseError::Dtype(descr.clone()))?;
    Ok(Header {
        shape,
        descr,
        kind,
        item_size,
        data_offset: start + header_len,
    })
}

fn parse(bytes: &[u8]) -> Result<NpyArray, ParseError> {
    let fmt = |s: &str| ParseError::Format(s.to_string());
    let Header {
        shape,
        descr,
        kind,
        item_size: size,
        data_offset,
    } = parse_header(bytes)?;
    let count: usize = shape.iter().product();
    let body = &bytes[data_offset..];
    if body.len() < count * size {
        return Err(ParseError::Format(format!(
            "data is truncated: {} bytes for {count} elements of {size} bytes",
            body.len()
        )));
    }
    let body = &body[..count * size];
    let chunks = body.chunks_exact(size);
    let data = match (kind, size) {
        ('f', 4) => NpyData::F32(
            chunks
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        ),
        ('f', 8) => NpyData::F64(
            chunks
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        ),
        ('i', _) | ('u', _) | ('b', _) => {
            let mut out = Vec::with_capacity(count);
            for c in chunks {
                let mut buf = [0u8; 8];
                buf[..size].copy_from_slice(c);
                let v = if kind == 'i' && c[size - 1] & 0x80 != 0 {
                    for b in buf.iter_mut().skip(size) {
                        *b = 0xff;
                    }
                    i64::from_le_bytes(buf)
                } else {
                    let u = u64::from_le_bytes(buf);
                    i64::try_from(u).map_err(|_| fmt("uint64 value does not fit in int64"))?
                };
                out.push(v);
            }
            NpyData::Int(out)
        }
        _ => return Err(ParseError::Dtype(descr)),
    };
    Ok(NpyArray { shape, data })
}

/// Kind letter and byte size for the dtypes lossy reads.
fn dtype_of(descr: &str) -> Option<(char, usize)> {
    let mut chars = descr.chars();
    let order = chars.next()?;
    let kind = chars.next()?;
    let size: usize = chars.as_str().parse().ok()?;
    let little = order == '<' || order == '|' || (order == '=' && cfg!(target_endian = "little"));
    let ok = little
        && match kind {
            'f' => size == 4 || size == 8,
            'i' | 'u' => matches!(size, 1 | 2 | 4 | 8),
            'b' => size == 1,
            _ => false,
        };
    ok.then_some((kind, size))
}

/// The raw text of `'key': value` in a Python dict literal, up to the next
/// top-level comma.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pos = header.find(&format!("'{key}'"))?;
    let rest = header[pos + key.len() + 2..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let mut depth = 0;
    for (i, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' | '}' if depth == 0 => return Some(rest[..i].trim()),
            _ => {}
        }
    }
    Some(rest.trim())
}

fn parse_shape(text: &str) -> Option<Vec<usize>> {
    let inner = text.trim().strip_prefix('(')?.strip_suffix(')')?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect()
}

/// Encodes an array as `.npy` version 1.0 bytes.
pub fn encode_f32(shape: &[usize], data: &[f32]) -> Vec<u8> {
    encode("<f4", shape, data.iter().flat_map(|x| x.to_le_bytes()))
}

pub fn encode_i64(shape: &[usize], data: &[i64]) -> Vec<u8> {
    encode("<i8", shape, data.iter().flat_map(|x| x.to_le_bytes()))
}

fn encode(descr: &str, shape: &[usize], body: impl Iterator<Item = u8>) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_text = if shape.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    // Pad so that the data starts on a 64-byte boundary, ending with '\n'.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::new();
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_f32_and_i64() {
        let bytes = encode_f32(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, -6.5]);
        assert_eq!(
            bytes.len() % 64,
            24 % 64,
            "header should be 64-byte aligned"
        );
        let a = parse(&bytes).ok().unwrap();
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(a.data, NpyData::F32(vec![1.0, 2.0, 3.0, 4.0, 5.0, -6.5]));
        let b = parse(&encode_i64(&[3], &[-1, 0, 7])).ok().unwrap();
        assert_eq!(b.shape, vec![3]);
        assert_eq!(b.data, NpyData::Int(vec![-1, 0, 7]));
    }

    #[test]
    fn reads_numpy_written_int32_header() {
        // Header exactly as numpy 1.x writes np.array([1, -2], dtype=np.int32).
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        let header = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }";
        let padded = format!("{header}{}\n", " ".repeat(118 - 10 - header.len() - 1 + 10));
        bytes.extend_from_slice(&(padded.len() as u16).to_le_bytes());
        bytes.extend_from_slice(padded.as_bytes());
        bytes.extend_from_slice(&1i32.to_le_bytes());
        bytes.extend_from_slice(&(-2i32).to_le_bytes());
        let a = parse(&bytes).ok().unwrap();
        assert_eq!(a.data, NpyData::Int(vec![1, -2]));
    }

    #[test]
    fn mapped_batches_come_in_order_and_survive_paging() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("z.npy");
        // 5000 rows of 7: batches straddle pages, and the last is short.
        let values: Vec<f32> = (0..35_000).map(|i| i as f32 * 0.5 - 3.0).collect();
        std::fs::write(&p, encode_f32(&[5000, 7], &values)).unwrap();
        let mapped = RowReader::open(&p).unwrap().map().unwrap().expect("mapped");
        let mut seen = Vec::new();
        let limit = 4999 * 7; // a prefix of the array
        let ok: Result<(), ()> = mapped.for_each_batch(limit, 1024 * 7, |first, batch| {
            assert_eq!(first, seen.len());
            seen.extend_from_slice(batch);
            Ok(())
        });
        ok.unwrap();
        assert_eq!(seen, values[..limit]);
        // Released pages read back the same, and an error stops the walk.
        let mut calls = 0;
        let err = mapped.for_each_batch(values.len(), 1000, |first, batch| {
            calls += 1;
            assert_eq!(batch, &values[first..first + batch.len()]);
            if first >= 2000 {
                Err("stop")
            } else {
                Ok(())
            }
        });
        assert_eq!((err, calls), (Err("stop"), 3));
    }

    #[test]
    fn little_endian_f32_arrays_are_mapped_and_others_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("z.npy");
        std::fs::write(&p, encode_f32(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, -6.5])).unwrap();
        let mapped = RowReader::open(&p).unwrap().map().unwrap().expect("mapped");
        assert_eq!(mapped.as_slice(), &[1.0, 2.0, 3.0, 4.0, 5.0, -6.5]);
        mapped.release(0, 6);
        assert_eq!(
            mapped.as_slice(),
            &[1.0, 2.0, 3.0, 4.0, 5.0, -6.5],
            "released pages read back the same"
        );
        let q = dir.path().join("z64.npy");
        std::fs::write(
            &q,
            encode(
                "<f8",
                &[1, 2],
                [1.5f64, -2.0].iter().flat_map(|x| x.to_le_bytes()),
            ),
        )
        .unwrap();
        assert!(RowReader::open(&q).unwrap().map().unwrap().is_none());
    }

    #[test]
    fn streams_rows_of_f32_and_f64_arrays() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("z.npy");
        let data: Vec<f32> = (0..12).map(|i| i as f32 * 0.5).collect();
        std::fs::write(&p, encode_f32(&[4, 3], &data)).unwrap();
        let mut r = RowReader::open(&p).unwrap();
        assert_eq!(r.header.shape, vec![4, 3]);
        let mut out = Vec::new();
        assert_eq!(r.read_rows(3, &mut out).unwrap(), 3);
        assert_eq!(out, data[..9]);
        assert_eq!(r.read_rows(3, &mut out).unwrap(), 1);
        assert_eq!(out, data[9..]);
        let f64s = encode(
            "<f8",
            &[2, 1],
            [1.5f64, -2.0].iter().flat_map(|x| x.to_le_bytes()),
        );
        std::fs::write(&p, f64s).unwrap();
        let mut r = RowReader::open(&p).unwrap();
        r.read_rows(5, &mut out).unwrap();
        assert_eq!(out, vec![1.5, -2.0]);
        std::fs::write(&p, &encode_f32(&[4, 3], &data)[..100]).unwrap();
        assert!(matches!(RowReader::open(&p), Err(NpyError::Format { .. })));
    }

    #[test]
    fn rejects_truncated_and_foreign_files() {
        let mut bytes = encode_f32(&[4], &[1.0, 2.0, 3.0, 4.0]);
        bytes.truncate(bytes.len() - 2);
        assert!(matches!(parse(&bytes), Err(ParseError::Format(r)) if r.contains("truncated")));
        assert!(matches!(
            parse(b"PK\x03\x04 not npy"),
            Err(ParseError::Format(_))
        ));
        let big_endian = encode(">f4", &[1], [0u8; 4].into_iter());
        assert!(matches!(parse(&big_endian), Err(ParseError::Dtype(d)) if d == ">f4"));
    }
}
