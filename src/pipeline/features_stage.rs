//! The features a run fits: computed here (corpus → models → features, with
//! the feature cache), or read from a table an earlier run or another machine
//! wrote (`lossy run --features FILE`), so fitting never requires re-running
//! models. A read table keeps its provenance (path and sha256) in the
//! manifest; a `layers` table beside it (same folder, same extension) is read
//! too, for the per-layer figures. `lossy assemble` takes the features from
//! the shards `lossy shard` put in the cache ([`super::shard`]).

use super::{probe, Network, Progress, RunError, RunOptions};
use crate::corpus::CorpusRecord;
use crate::features::estimator::Estimator;
use crate::features::{self, cache::FeatureCache};
use crate::report::ModelRecord;
use crate::study::Study;
use crate::table::{Table, TableError};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Where features read from a file came from.
#[derive(Clone, Debug, Serialize)]
pub struct FeaturesFrom {
    pub path: PathBuf,
    pub sha256: String,
    pub layers: Option<PathBuf>,
}

pub struct Features {
    pub models: Table,
    pub layers: Table,
    pub records: Vec<ModelRecord>,
    pub estimators: Vec<Estimator>,
    pub corpus: Option<CorpusRecord>,
    pub from: Option<FeaturesFrom>,
}

pub fn features(
    study: &Study,
    options: &RunOptions,
    network: &Network,
    progress: &mut dyn Progress,
) -> Result<Features, RunError> {
    if let Some(path) = &options.features_from {
        return read(study, path, progress);
    }
    let corpus = super::load_corpus(study, network, progress)?;
    let probed = match (&options.feature_cache, options.from_shards) {
        (Some(dir), true) => super::shard::assemble(study, &corpus, dir, progress)?,
        _ => {
            let cache = options.feature_cache.clone().map(FeatureCache::new);
            probe::probe_all(study, &corpus, network, cache.as_ref(), progress)?
        }
    };
    let refs: Vec<(&str, &features::ModelFeatures)> = probed
        .rows
        .iter()
        .map(|r| (r.name.as_str(), &r.features))
        .collect();
    Ok(Features {
        layers: features::layer_table(&refs, &study.features),
        models: features::model_table(&probed.rows, &study.features),
        records: probed.records,
        estimators: probed.estimators,
        corpus: Some(corpus.record(&study.corpus)),
        from: None,
    })
}

fn read(study: &Study, path: &Path, progress: &mut dyn Progress) -> Result<Features, RunError> {
    let mut models = Table::read(path)?;
    let Some(names) = models.strs("model") else {
        return Err(TableError::MissingColumn {
            path: path.into(),
            column: "model".into(),
        }
        .into());
    };
    if let Some(dup) = names
        .iter()
        .find(|n| names.iter().filter(|m| m == n).count() > 1)
    {
        return Err(RunError::FeatureTable { path: path.into(), reason: format!("model `{dup}` has several rows; give the per-model table (features.csv), not the per-layer one") });
    }
    if models.strs("family").is_none() {
        let rows = models.rows();
        models.push(
            "family",
            crate::table::Values::Str(vec![String::new(); rows]),
        );
    }
    if let Some(fit) = &study.fit {
        let names: Vec<&str> = models.columns.iter().map(|c| c.name.as_str()).collect();
        for f in &fit.features {
            if models.f64s(f).is_none() {
                return Err(RunError::MissingFeature {
                    column: f.clone(),
                    path: path.into(),
                    columns: names.join(", "),
                });
            }
        }
    }
    let sibling = path.with_file_name(format!(
        "layers.{}",
        path.extension().and_then(|e| e.to_str()).unwrap_or("csv")
    ));
    let (layers, layers_path) = if sibling.is_file() && sibling != path {
        (Table::read(&sibling)?, Some(sibling))
    } else {
        (Table::default(), None)
    };
    let sha256 = crate::io::hash::sha256_file(path).map_err(|source| RunError::Io {
        path: path.into(),
        source,
    })?;
    progress.line(&format!(
        "features: {} models read from {} (sha256 {}); no model is run",
        models.rows(),
        path.display(),
        &sha256[..12]
    ));
    Ok(Features {
        models,
        layers,
        records: vec![],
        estimators: vec![],
        corpus: None,
        from: Some(FeaturesFrom {
            path: path.into(),
            sha256,
            layers: layers_path,
        }),
    })
}
