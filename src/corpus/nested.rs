//! Rows of a parquet file as JSON objects, for the preference set's fields:
//! string columns and chat message lists (`list<struct<role, content>>`, the
//! Tulu 3 / UltraFeedback preference layout), so a parquet row goes through
//! exactly the same checks as the same row in a `.jsonl` file.
//!
//! The named columns are decoded at the arrow level (polars' own parquet
//! decoder, `polars-parquet`) rather than into a polars `DataFrame`: polars
//! builds struct columns only with its `dtype-struct` feature, which would
//! recompile the whole polars stack (without it, a struct column panics).
//! Only the named columns' chunks of the row groups that hold the first
//! `limit` rows are read.

use polars::prelude::PolarsError;
use polars_arrow::array::{
    Array, BooleanArray, ListArray, PrimitiveArray, StructArray, Utf8Array, Utf8ViewArray,
};
use polars_arrow::datatypes::{ArrowDataType, Field};
use polars_buffer::Buffer;
use polars_parquet::read::{
    column_iter_to_arrays, infer_schema, read_metadata, BasicDecompressor, ColumnChunkMetadata,
    FileMetadata, PageReader, RowGroupMetadata,
};
use serde_json::{Map, Value};
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// A parquet file that cannot give the named fields.
#[derive(Debug, thiserror::Error)]
pub enum NestedError {
    #[error("{path}: reading the parquet file")]
    Read {
        path: PathBuf,
        #[source]
        source: PolarsError,
    },
    #[error("{path}: no column `{field}` (columns: {columns}); set `{key}`")]
    MissingColumn {
        path: PathBuf,
        field: String,
        columns: String,
        key: &'static str,
    },
    #[error("{path}: column `{field}` holds {dtype}; a preference field is a string or a list of {{role, content}} messages")]
    ColumnType {
        path: PathBuf,
        field: String,
        dtype: String,
    },
}

/// `(1-based row, object of the named fields)` for the first `limit` rows;
/// `fields` pairs each column with the study key that names it. A null
/// value is left out of its row's object (a missing field, as in JSON).
pub fn parquet_rows(
    path: &Path,
    fields: &[(&str, &'static str)],
    limit: usize,
) -> Result<Vec<(usize, Value)>, NestedError> {
    let read = |source: PolarsError| NestedError::Read {
        path: path.into(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(|e| read(e.into()))?;
    let meta = read_metadata(&mut file).map_err(read)?;
    let schema = infer_schema(&meta).map_err(read)?;
    let mut columns = Vec::with_capacity(fields.len());
    for &(name, key) in fields {
        let Some(field) = schema.get(name) else {
            let names: Vec<&str> = schema.iter_names().map(|n| n.as_str()).collect();
            return Err(NestedError::MissingColumn {
                path: path.into(),
                field: name.into(),
                columns: names.join(", "),
                key,
            });
        };
        if !supported(field.dtype()) {
            return Err(NestedError::ColumnType {
                path: path.into(),
                field: name.into(),
                dtype: dtype_name(field.dtype()),
            });
        }
        columns.push(field.clone());
    }
    let rows = meta.num_rows.min(limit);
    let mut out: Vec<Map<String, Value>> = Vec::with_capacity(rows);
    for group in groups_for(&meta, rows) {
        let take = group.num_rows().min(rows - out.len());
        let mut objects = vec![Map::new(); take];
        for field in &columns {
            let arrays = read_column(&mut file, group, field).map_err(read)?;
            let values = arrays
                .iter()
                .flat_map(|a| (0..a.len()).map(move |i| json_at(a.as_ref(), i)));
            for (object, value) in objects.iter_mut().zip(values) {
                if !value.is_null() {
                    object.insert(field.name.to_string(), value);
                }
            }
        }
        out.extend(objects);
    }
    Ok(out
        .into_iter()
        .enumerate()
        .map(|(i, m)| (i + 1, Value::Object(m)))
        .collect())
}

/// The row groups that hold the first `rows` rows.
fn groups_for(meta: &FileMetadata, rows: usize) -> impl Iterator<Item = &RowGroupMetadata> {
    let mut seen = 0usize;
    meta.row_groups.iter().take_while(move |g| {
        let before = seen;
        seen += g.num_rows();
        before < rows
    })
}

/// Decodes one column of one row group into arrow arrays (in row order).
fn read_column(
    file: &mut std::fs::File,
    group: &RowGroupMetadata,
    field: &Field,
) -> Result<Vec<Box<dyn Array>>, PolarsError> {
    let chunks: Vec<&ColumnChunkMetadata> = group
        .columns_under_root_iter(field.name.as_str())
        .into_iter()
        .flatten()
        .collect();
    let mut decoders = Vec::with_capacity(chunks.len());
    let mut types = Vec::with_capacity(chunks.len());
    for chunk in chunks {
        let range = chunk.byte_range();
        let mut bytes = vec![0u8; (range.end - range.start) as usize];
        file.seek(SeekFrom::Start(range.start))?;
        file.read_exact(&mut bytes)?;
        let pages = PageReader::new(Cursor::new(Buffer::from(bytes)), chunk, vec![], usize::MAX);
        decoders.push(BasicDecompressor::new(pages, vec![]));
        types.push(&chunk.descriptor().descriptor.primitive_type);
    }
    let (arrays, _) = column_iter_to_arrays(decoders, types, field.clone(), None)?;
    Ok(arrays)
}

/// Whether every value of the type converts to JSON.
fn supported(dtype: &ArrowDataType) -> bool {
    use ArrowDataType as T;
    match dtype {
        T::Null | T::Boolean | T::Utf8View | T::Utf8 | T::LargeUtf8 => true,
        T::Int8 | T::Int16 | T::Int32 | T::Int64 => true,
        T::UInt8 | T::UInt16 | T::UInt32 | T::UInt64 | T::Float32 | T::Float64 => true,
        T::List(inner) | T::LargeList(inner) => supported(inner.dtype()),
        T::Struct(fields) => fields.iter().all(|f| supported(f.dtype())),
        _ => false,
    }
}

/// A type as the error message shows it: `list<struct<role: string, …>>`.
fn dtype_name(dtype: &ArrowDataType) -> String {
    use ArrowDataType as T;
    match dtype {
        T::Utf8View | T::Utf8 | T::LargeUtf8 => "string".into(),
        T::BinaryView | T::Binary | T::LargeBinary => "binary".into(),
        T::List(inner) | T::LargeList(inner) => format!("list<{}>", dtype_name(inner.dtype())),
        T::Struct(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|f| format!("{}: {}", f.name, dtype_name(f.dtype())))
                .collect();
            format!("struct<{}>", inner.join(", "))
        }
        other => format!("{other:?}").to_lowercase(),
    }
}

/// Value `i` of an array of a [`supported`] type as JSON.
fn json_at(array: &dyn Array, i: usize) -> Value {
    if array.is_null(i) {
        return Value::Null;
    }
    let any = array.as_any();
    macro_rules! primitive {
        ($($t:ty),*) => {$(
            if let Some(a) = any.downcast_ref::<PrimitiveArray<$t>>() {
                return serde_json::json!(a.value(i));
            }
        )*};
    }
    primitive!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);
    if let Some(a) = any.downcast_ref::<Utf8ViewArray>() {
        return Value::String(a.value(i).to_string());
    }
    if let Some(a) = any.downcast_ref::<Utf8Array<i64>>() {
        return Value::String(a.value(i).to_string());
    }
    if let Some(a) = any.downcast_ref::<Utf8Array<i32>>() {
        return Value::String(a.value(i).to_string());
    }
    if let Some(a) = any.downcast_ref::<BooleanArray>() {
        return Value::Bool(a.value(i));
    }
    if let Some(a) = any.downcast_ref::<ListArray<i64>>() {
        return list(a.value(i).as_ref());
    }
    if let Some(a) = any.downcast_ref::<ListArray<i32>>() {
        return list(a.value(i).as_ref());
    }
    if let Some(a) = any.downcast_ref::<StructArray>() {
        let mut m = Map::new();
        for (f, values) in a.fields().iter().zip(a.values()) {
            m.insert(f.name.to_string(), json_at(values.as_ref(), i));
        }
        return Value::Object(m);
    }
    Value::Null
}

fn list(items: &dyn Array) -> Value {
    Value::Array((0..items.len()).map(|j| json_at(items, j)).collect())
}
