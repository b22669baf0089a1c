//! The features a run fits: computed here (corpus → models → features, with
//! the feature cache), or read from a table an earlier run or another machine
//! wrote (`lossy run --features FILE`), so fitting never requires re-running
//! models. A read table keeps its provenance (path and sha256) in the
//! manifest; a `layers` table beside it (same folder, same extension) is read
//! too, for the per-layer figures. `lossy assemble` takes the features from
//! the shards `lossy shard` put in the cache ([`super::shard`]), probe sets
//! included ([`super::shard_probes`]).

use super::{probe, probe_sets, Network, Progress, RunError, RunOptions};
use crate::corpus::CorpusRecord;
use crate::features::estimator::Estimator;
use crate::features::{self, cache::FeatureCache};
use crate::report::ModelRecord;
use crate::study::Study;
use crate::table::{Table, TableError};
use std::path::Path;

/// The manifest's record of a features table read from a file.
pub use crate::report::manifest::FeaturesFrom;

pub struct Features {
    pub models: Table,
    pub layers: Table,
    pub records: Vec<ModelRecord>,
    pub estimators: Vec<Estimator>,
    pub corpus: Option<CorpusRecord>,
    pub from: Option<FeaturesFrom>,
    /// The further probe sets (none for a study without them).
    pub probes: Vec<probe_sets::ProbeRecord>,
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
    let probe_data = probe_sets::load_all(study, network, progress)?;
    let cache = options.feature_cache.clone().map(FeatureCache::new);
    let (mut probed, assembled_sets) = match (&options.feature_cache, options.from_shards) {
        (Some(dir), true) => {
            let (probed, sets) =
                super::shard::assemble(study, &corpus, &probe_data, dir, progress)?;
            (probed, Some(sets))
        }
        _ => (
            probe::probe_all(study, &corpus, network, cache.as_ref(), progress)?,
            None,
        ),
    };
    let refs: Vec<(&str, &features::ModelFeatures)> = probed
        .rows
        .iter()
        .map(|r| (r.name.as_str(), &r.features))
        .collect();
    let mut layers = features::layer_table(&refs, &study.features);
    let mut models = features::model_table(&probed.rows, &study.features);
    let mut probe_records = Vec::new();
    if !study.probes.is_empty() {
        let sets = match assembled_sets {
            Some(sets) => sets,
            None => probe_sets::probe_sets(
                study,
                &probe_data,
                network,
                cache.as_ref(),
                &mut probed.estimators,
                progress,
            )?,
        };
        append_probe_columns(study, &sets, &mut layers, &mut models);
        probe_records = sets.records;
    }
    Ok(Features {
        layers,
        models,
        records: probed.records,
        estimators: probed.estimators,
        corpus: Some(corpus.record(&study.corpus)),
        from: None,
        probes: probe_records,
    })
}

/// Each probe set's columns, after the main corpus's.
fn append_probe_columns(
    study: &Study,
    sets: &probe_sets::ProbeFeatures,
    layers: &mut Table,
    models: &mut Table,
) {
    use features::probe_table::{append_layer_columns, append_model_columns};
    for (probe, feats) in study.probes.iter().zip(&sets.features) {
        let refs: Vec<&features::ModelFeatures> = feats.iter().collect();
        let (kind, suffix) = (probe.kind(), probe.suffix());
        append_layer_columns(layers, &refs, kind, &suffix, &study.features);
        append_model_columns(models, &refs, kind, &suffix, &study.features);
    }
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
        probes: vec![],
        from: Some(FeaturesFrom {
            path: path.into(),
            sha256,
            layers: layers_path,
        }),
    })
}
