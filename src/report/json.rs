//! `report.json`: every number of a report in one file: the model and layer tables row by
//! row, the scores, the fit (settings, metrics, held-out predictions, correlations and
//! ranking) and the list of figures. Non-finite values are `null`.

use serde_json::{json, Map, Value};

use super::figures::WrittenFigure;
use crate::fit::FitResult;
use crate::table::{Table, Values};

/// The rows of `t` as JSON objects, columns in table order.
pub fn table_rows(t: &Table) -> Vec<Value> {
    (0..t.rows())
        .map(|r| {
            let mut row = Map::new();
            for c in &t.columns {
                let v = match &c.values {
                    Values::Str(v) => Value::from(v[r].clone()),
                    Values::Int(v) => Value::from(v[r]),
                    Values::F64(v) => number(v[r]),
                };
                row.insert(c.name.clone(), v);
            }
            Value::Object(row)
        })
        .collect()
}

fn number(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// The whole report as one JSON document.
pub fn render(
    study: &str,
    models: &Table,
    layers: &Table,
    scores: Option<&Table>,
    fit: Option<&FitResult>,
    figures: &[WrittenFigure],
) -> Value {
    json!({
        "study": study,
        "lossy_version": env!("CARGO_PKG_VERSION"),
        "models": table_rows(models),
        "layers": table_rows(layers),
        "scores": scores.map(table_rows),
        // serde_json writes non-finite floats as null.
        "fit": fit,
        "figures": figures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_keep_types_and_nan_is_null() {
        let mut t = Table::default();
        t.push("model", Values::Str(vec!["a".into(), "b".into()]))
            .push("layer", Values::Int(vec![0, 1]))
            .push("x", Values::F64(vec![0.5, f64::NAN]));
        let rows = table_rows(&t);
        assert_eq!(rows[0], json!({"model": "a", "layer": 0, "x": 0.5}));
        assert_eq!(rows[1]["x"], Value::Null);
        let doc = render("s", &t, &t, None, None, &[]);
        assert_eq!(doc["layers"].as_array().unwrap().len(), 2);
        assert!(doc["fit"].is_null() && doc["scores"].is_null());
        let text = serde_json::to_string(&doc).unwrap();
        assert!(!text.contains("NaN"));
    }
}
