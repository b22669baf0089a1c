//! Rows of a parquet file as JSON objects, for the preference set's fields.
//! String columns are read as text; a column of another type is refused
//! with its type named (message lists are read from `.jsonl`).

use super::preference::PreferenceError;
use polars::prelude::*;
use serde_json::{Map, Value};
use std::path::Path;

/// `(1-based row, object of the named fields)` for the first `limit` rows.
pub fn parquet_rows(
    path: &Path,
    fields: &[(&str, &'static str)],
    limit: usize,
) -> Result<Vec<(usize, Value)>, PreferenceError> {
    let bad = |e: PolarsError| PreferenceError::Parquet {
        path: path.into(),
        source: crate::table::TableError::Read {
            path: path.into(),
            reason: e.to_string(),
        },
    };
    let file = std::fs::File::open(path).map_err(|e| bad(e.into()))?;
    let df = ParquetReader::new(file).finish().map_err(bad)?;
    let rows = df.height().min(limit);
    let mut out: Vec<Map<String, Value>> = vec![Map::new(); rows];
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    for &(field, key) in fields {
        let Ok(col) = df.column(field) else {
            return Err(PreferenceError::MissingColumn {
                path: path.into(),
                field: field.into(),
                columns: names.join(", "),
                key,
            });
        };
        let Ok(ca) = col.str() else {
            return Err(PreferenceError::ColumnType {
                path: path.into(),
                field: field.into(),
                dtype: col.dtype().to_string(),
            });
        };
        for (row, v) in out.iter_mut().zip(ca.iter()) {
            if let Some(s) = v {
                row.insert(field.into(), Value::String(s.to_string()));
            }
        }
    }
    Ok(out
        .into_iter()
        .enumerate()
        .map(|(i, m)| (i + 1, Value::Object(m)))
        .collect())
}
