//! Tables, the artefacts that pass between stages and land in reports: a
//! small column-oriented type, written and read as CSV and parquet through
//! polars. All polars calls live in this module.

use polars::prelude::*;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    Str(Vec<String>),
    F64(Vec<f64>),
    Int(Vec<i64>),
}

impl Values {
    pub fn len(&self) -> usize {
        match self {
            Values::Str(v) => v.len(),
            Values::F64(v) => v.len(),
            Values::Int(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub values: Values,
}

/// A table: named columns of equal length.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
}

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("cannot write {path}: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("cannot read table {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("cannot open table {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} has no column `{column}`")]
    MissingColumn { path: PathBuf, column: String },
}

/// The file opened, or why not (a typed cause, said once).
fn opened(path: &Path) -> Result<std::fs::File, TableError> {
    std::fs::File::open(path).map_err(|source| TableError::Open {
        path: path.into(),
        source,
    })
}

/// A polars message cut to its first line (later lines are hints in polars'
/// own option names), without the path it repeats at its end.
fn tidy_reason(reason: &str, path: &Path) -> String {
    let line = reason.lines().next().unwrap_or(reason).trim();
    let suffix = format!(": {}", path.display());
    line.strip_suffix(suffix.as_str())
        .unwrap_or(line)
        .to_string()
}

impl Table {
    pub fn push(&mut self, name: &str, values: Values) -> &mut Self {
        debug_assert!(
            self.columns
                .first()
                .is_none_or(|c| c.values.len() == values.len()),
            "column {name} has a different length"
        );
        self.columns.push(Column {
            name: name.into(),
            values,
        });
        self
    }

    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.values.len())
    }

    pub fn column(&self, name: &str) -> Option<&Values> {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .map(|c| &c.values)
    }

    /// A numeric column as f64 (ints widened); None if absent or text.
    pub fn f64s(&self, name: &str) -> Option<Vec<f64>> {
        match self.column(name)? {
            Values::F64(v) => Some(v.clone()),
            Values::Int(v) => Some(v.iter().map(|&x| x as f64).collect()),
            Values::Str(_) => None,
        }
    }

    pub fn strs(&self, name: &str) -> Option<&[String]> {
        match self.column(name)? {
            Values::Str(v) => Some(v),
            _ => None,
        }
    }

    fn to_frame(&self) -> PolarsResult<DataFrame> {
        let cols: Vec<polars::prelude::Column> = self
            .columns
            .iter()
            .map(|c| {
                let name = PlSmallStr::from(c.name.as_str());
                match &c.values {
                    Values::Str(v) => polars::prelude::Column::new(name, v),
                    Values::F64(v) => {
                        // NaN → null, so CSV shows an empty cell.
                        let opt: Vec<Option<f64>> =
                            v.iter().map(|x| x.is_finite().then_some(*x)).collect();
                        polars::prelude::Column::new(name, opt)
                    }
                    Values::Int(v) => polars::prelude::Column::new(name, v),
                }
            })
            .collect();
        DataFrame::new_infer_height(cols)
    }

    /// Writes CSV atomically.
    pub fn write_csv(&self, path: &Path) -> Result<(), TableError> {
        let err = |reason: String| TableError::Write {
            path: path.into(),
            reason,
        };
        let mut df = self.to_frame().map_err(|e| err(e.to_string()))?;
        let mut buf = Vec::new();
        CsvWriter::new(&mut buf)
            .include_header(true)
            .finish(&mut df)
            .map_err(|e| err(e.to_string()))?;
        crate::io::atomic::write(path, &buf).map_err(|e| err(e.to_string()))
    }

    /// Writes parquet atomically.
    pub fn write_parquet(&self, path: &Path) -> Result<(), TableError> {
        let err = |reason: String| TableError::Write {
            path: path.into(),
            reason,
        };
        let mut df = self.to_frame().map_err(|e| err(e.to_string()))?;
        let mut buf = Vec::new();
        ParquetWriter::new(&mut buf)
            .finish(&mut df)
            .map_err(|e| err(e.to_string()))?;
        crate::io::atomic::write(path, &buf).map_err(|e| err(e.to_string()))
    }

    /// Reads a CSV or parquet file, chosen by extension (`.parquet` or `.pq`
    /// is parquet, anything else CSV).
    pub fn read(path: &Path) -> Result<Table, TableError> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("parquet" | "pq") => Self::read_parquet(path),
            _ => Self::read_csv(path),
        }
    }

    /// Reads a CSV with a header; numeric columns become F64 (empty cells
    /// NaN), everything else text.
    pub fn read_csv(path: &Path) -> Result<Table, TableError> {
        let err = |reason: String| TableError::Read {
            path: path.into(),
            reason: tidy_reason(&reason, path),
        };
        opened(path)?;
        let df = CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(None)
            .try_into_reader_with_file_path(Some(path.into()))
            .and_then(|r| r.finish())
            .map_err(|e| err(e.to_string()))?;
        Self::from_frame(&df, path)
    }

    /// Reads CSV from memory; `label` names it in errors.
    pub fn read_csv_bytes(bytes: &[u8], label: &Path) -> Result<Table, TableError> {
        let err = |reason: String| TableError::Read {
            path: label.into(),
            reason: tidy_reason(&reason, label),
        };
        let df = CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(None)
            .into_reader_with_file_handle(std::io::Cursor::new(bytes))
            .finish()
            .map_err(|e| err(e.to_string()))?;
        Self::from_frame(&df, label)
    }

    /// Reads a parquet file's flat columns (numeric ones as F64, nulls NaN;
    /// booleans and everything else as text). Nested columns (lists,
    /// structs, maps) are not read: no table lossy reads needs them, polars
    /// is built without `dtype-struct`, and a list of structs (a chat
    /// dataset's `messages`) would panic it.
    pub fn read_parquet(path: &Path) -> Result<Table, TableError> {
        let flat: Vec<String> = Self::parquet_columns(path)?
            .into_iter()
            .filter(|c| c.nested.is_none())
            .map(|c| c.name)
            .collect();
        Self::read_parquet_columns(path, flat)
    }

    /// Reads the named columns of a parquet file (flat ones: see
    /// [`Table::parquet_columns`]), as [`Table::read_parquet`] does.
    pub fn read_parquet_columns(path: &Path, names: Vec<String>) -> Result<Table, TableError> {
        if names.is_empty() {
            return Ok(Table::default());
        }
        let df = ParquetReader::new(opened(path)?)
            .with_columns(Some(names))
            .finish()
            .map_err(|e| TableError::Read {
                path: path.into(),
                reason: tidy_reason(&e.to_string(), path),
            })?;
        Self::from_frame(&df, path)
    }

    /// Every column of a parquet file, from its footer (no data is read).
    pub fn parquet_columns(path: &Path) -> Result<Vec<ParquetColumn>, TableError> {
        let schema = ParquetReader::new(opened(path)?)
            .schema()
            .map_err(|e| TableError::Read {
                path: path.into(),
                reason: tidy_reason(&e.to_string(), path),
            })?;
        Ok(schema
            .iter_values()
            .map(|f| ParquetColumn {
                name: f.name.to_string(),
                nested: nested_kind(f.dtype()),
            })
            .collect())
    }

    /// Rows in a parquet file (from its footer).
    pub fn parquet_rows(path: &Path) -> Result<usize, TableError> {
        let err = |reason: String| TableError::Read {
            path: path.into(),
            reason: tidy_reason(&reason, path),
        };
        let file = opened(path)?;
        ParquetReader::new(file)
            .num_rows()
            .map_err(|e| err(e.to_string()))
    }

    /// The column names of a CSV or parquet file, reading as little as possible.
    pub fn read_header(path: &Path) -> Result<Vec<String>, TableError> {
        let err = |reason: String| TableError::Read {
            path: path.into(),
            reason: tidy_reason(&reason, path),
        };
        opened(path)?;
        let df = match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("parquet" | "pq") => {
                let file = opened(path)?;
                let schema = ParquetReader::new(file)
                    .schema()
                    .map_err(|e| err(e.to_string()))?;
                return Ok(schema.iter_names().map(|n| n.to_string()).collect());
            }
            _ => CsvReadOptions::default()
                .with_has_header(true)
                .with_n_rows(Some(1))
                .try_into_reader_with_file_path(Some(path.into()))
                .and_then(|r| r.finish())
                .map_err(|e| err(e.to_string()))?,
        };
        Ok(df
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect())
    }

    /// Concatenates tables with the same columns (parquet shards).
    pub fn concat(parts: Vec<Table>) -> Table {
        let mut iter = parts.into_iter();
        let Some(mut out) = iter.next() else {
            return Table::default();
        };
        for part in iter {
            for col in &mut out.columns {
                let Some(more) = part.column(&col.name) else {
                    match &mut col.values {
                        Values::Str(a) => a.extend(std::iter::repeat_n(String::new(), part.rows())),
                        Values::F64(a) => a.extend(std::iter::repeat_n(f64::NAN, part.rows())),
                        Values::Int(a) => a.extend(std::iter::repeat_n(0, part.rows())),
                    }
                    continue;
                };
                match (&mut col.values, more) {
                    (Values::Str(a), Values::Str(b)) => a.extend(b.iter().cloned()),
                    (Values::F64(a), Values::F64(b)) => a.extend(b),
                    (Values::Int(a), Values::Int(b)) => a.extend(b),
                    (a, b) => {
                        let as_f64 = |v: &Values| match v {
                            Values::F64(x) => x.clone(),
                            Values::Int(x) => x.iter().map(|&i| i as f64).collect(),
                            Values::Str(x) => vec![f64::NAN; x.len()],
                        };
                        let mut joined = as_f64(a);
                        joined.extend(as_f64(b));
                        *a = Values::F64(joined);
                    }
                }
            }
        }
        out
    }

    fn from_frame(df: &DataFrame, path: &Path) -> Result<Table, TableError> {
        let err = |reason: String| TableError::Read {
            path: path.into(),
            reason: tidy_reason(&reason, path),
        };
        let mut table = Table::default();
        for col in df.columns() {
            let name = col.name().to_string();
            let values = if col.dtype().is_integer() && col.null_count() == 0 {
                // Whole numbers stay whole, so a table read and written again is unchanged.
                let c = col.cast(&DataType::Int64).map_err(|e| err(e.to_string()))?;
                let ca = c.i64().map_err(|e| err(e.to_string()))?;
                Values::Int(ca.iter().map(|x| x.unwrap_or(0)).collect())
            } else if col.dtype().is_primitive_numeric() {
                let c = col
                    .cast(&DataType::Float64)
                    .map_err(|e| err(e.to_string()))?;
                let ca = c.f64().map_err(|e| err(e.to_string()))?;
                Values::F64(ca.iter().map(|x| x.unwrap_or(f64::NAN)).collect())
            } else {
                // Nested columns (lists, structs) have no text form: a score or
                // feature table never needs them, so they are left out.
                let Ok(c) = col.cast(&DataType::String) else {
                    continue;
                };
                let ca = c.str().map_err(|e| err(e.to_string()))?;
                Values::Str(ca.iter().map(|x| x.unwrap_or("").to_string()).collect())
            };
            table.push(&name, values);
        }
        Ok(table)
    }
}

/// A parquet column: its name, and what it nests (`None` for a flat column).
#[derive(Clone, Debug, PartialEq)]
pub struct ParquetColumn {
    pub name: String,
    pub nested: Option<&'static str>,
}

/// "list", "struct", "map" or "union" for a nested arrow type.
fn nested_kind(dtype: &ArrowDataType) -> Option<&'static str> {
    use ArrowDataType as D;
    match dtype {
        D::List(_) | D::LargeList(_) | D::FixedSizeList(..) => Some("list"),
        D::Struct(_) => Some("struct"),
        D::Map(..) => Some("map"),
        D::Union(_) => Some("union"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trip_keeps_full_precision_and_missing_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let mut t = Table::default();
        t.push("model", Values::Str(vec!["a".into(), "b, c".into()]));
        t.push("x", Values::F64(vec![0.1 + 0.2, f64::NAN]));
        t.push("n", Values::Int(vec![3, -4]));
        t.write_csv(&path).unwrap();
        let back = Table::read_csv(&path).unwrap();
        assert_eq!(
            back.strs("model").unwrap(),
            &["a".to_string(), "b, c".to_string()]
        );
        let x = back.f64s("x").unwrap();
        assert_eq!(x[0], 0.1 + 0.2, "floats must round-trip exactly");
        assert!(x[1].is_nan());
        assert_eq!(back.f64s("n").unwrap(), vec![3.0, -4.0]);
        assert_eq!(
            back.column("n"),
            Some(&Values::Int(vec![3, -4])),
            "integers stay integers"
        );
        let pq = dir.path().join("t.parquet");
        t.write_parquet(&pq).unwrap();
        let back = Table::read(&pq).unwrap();
        assert_eq!(back.strs("model").unwrap(), t.strs("model").unwrap());
        assert_eq!(back.f64s("x").unwrap()[0], 0.1 + 0.2);
        assert!(back.f64s("x").unwrap()[1].is_nan());
        assert_eq!(Table::read_header(&pq).unwrap(), vec!["model", "x", "n"]);
        assert_eq!(Table::read_header(&path).unwrap(), vec!["model", "x", "n"]);
        let both = Table::concat(vec![back.clone(), back]);
        assert_eq!(both.rows(), 4);
        assert_eq!(both.strs("model").unwrap()[2], "a");
    }
}
