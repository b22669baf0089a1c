//! The further probe sets of a study, beside its main `corpus`: the
//! `preference` set (columns `preference`, `preference_null`) and named
//! probe sets (`probes:`), text corpora or preference sets, whose columns
//! carry the suffix `_<name>`.

use super::preference::PreferenceSettings;
use super::CorpusSettings;
use serde::Serialize;

/// What a probe set measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeKind {
    /// A text corpus: entropy, complexity, expressivity, optimality.
    Text,
    /// Preference pairs: preference information.
    Preference,
}

/// One probe set as the study declares it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProbeSet {
    /// `None` for the study's `preference` section.
    pub name: Option<String>,
    pub source: ProbeSource,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeSource {
    Text(CorpusSettings),
    Preference(PreferenceSettings),
}

impl ProbeSet {
    pub fn kind(&self) -> ProbeKind {
        match self.source {
            ProbeSource::Text(_) => ProbeKind::Text,
            ProbeSource::Preference(_) => ProbeKind::Preference,
        }
    }

    /// The suffix of its columns: empty for the `preference` section,
    /// `_<name>` for a named probe set.
    pub fn suffix(&self) -> String {
        self.name
            .as_ref()
            .map_or(String::new(), |n| format!("_{n}"))
    }

    /// How reports name it.
    pub fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| "preference".into())
    }
}
