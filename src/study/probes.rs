//! Checks the probe sets beside the main `corpus`: the `preference` section
//! (a preference set whose columns are `preference`, `preference_null`) and
//! the `probes` list (named text corpora or preference sets whose columns
//! carry `_<name>`). A text probe set takes the keys of `corpus`; a
//! preference set takes its files or hub dataset, its three field names,
//! `max_pairs`, `sample_seed`, `max_tokens`, `add_special_tokens`,
//! `include_prompt` and `chat_template`.

use super::raw::{ProbeKindName, RawCorpus, RawProbe};
use super::{at, check_corpus, resolve_dataset, Checker};
use crate::corpus::preference::PreferenceSettings;
use crate::corpus::probe::{ProbeSet, ProbeSource};
use crate::features::FeatureSettings;
use serde_saphyr::Spanned;

/// Every probe set's model-level columns, in order.
pub fn columns(probes: &[ProbeSet], features: &FeatureSettings) -> Vec<String> {
    probes
        .iter()
        .flat_map(|p| crate::features::probe_table::columns(p, features))
        .collect()
}

pub(super) fn check_probes(
    c: &mut Checker,
    preference: Option<Spanned<RawProbe>>,
    probes: Option<Spanned<Vec<Spanned<RawProbe>>>>,
) -> Vec<ProbeSet> {
    let mut out = Vec::new();
    if let Some(p) = preference {
        if let Some(n) = &p.value.name {
            c.problem(at(n), "the `preference` section has no `name` (its column is `preference`); name further sets under `probes`");
        }
        if let Some(k) = p
            .value
            .kind
            .as_ref()
            .filter(|k| k.value != ProbeKindName::Preference)
        {
            c.problem(
                at(k),
                "the `preference` section is a preference set; put text corpora under `probes`",
            );
        }
        let pos = at(&p);
        let source = check_preference(c, p.value, pos);
        out.push(ProbeSet { name: None, source });
    }
    let Some(list) = probes else {
        return out;
    };
    if list.value.is_empty() {
        c.problem(
            at(&list),
            "`probes` is empty: list named probe sets, or remove the key",
        );
    }
    for p in list.value {
        let pos = at(&p);
        let name = match &p.value.name {
            Some(n) => {
                let ok = !n.value.is_empty()
                    && n.value
                        .chars()
                        .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
                    && n.value.starts_with(|ch: char| ch.is_ascii_lowercase());
                if !ok {
                    c.problem(at(n), format!("probe set name `{}` must be lower-case letters, digits or '_', starting with a letter (it suffixes column names)", n.value));
                }
                if out
                    .iter()
                    .any(|o: &ProbeSet| o.name.as_deref() == Some(n.value.as_str()))
                {
                    c.problem(at(n), format!("two probe sets are named `{}`", n.value));
                }
                n.value.clone()
            }
            None => {
                c.problem(
                    pos,
                    "a `probes` entry needs a `name` (its columns get the suffix `_<name>`)",
                );
                String::new()
            }
        };
        let kind = p
            .value
            .kind
            .as_ref()
            .map_or(ProbeKindName::Text, |k| k.value);
        let source = match kind {
            ProbeKindName::Text => check_text(c, p.value),
            ProbeKindName::Preference => check_preference(c, p.value, pos),
        };
        out.push(ProbeSet {
            name: Some(name),
            source,
        });
    }
    out
}

/// A text probe set: the keys of `corpus`, checked as `corpus` is.
fn check_text(c: &mut Checker, p: RawProbe) -> ProbeSource {
    for (key, pos) in [
        ("prompt_field", p.prompt_field.as_ref().and_then(at)),
        ("chosen_field", p.chosen_field.as_ref().and_then(at)),
        ("rejected_field", p.rejected_field.as_ref().and_then(at)),
        ("max_pairs", p.max_pairs.as_ref().and_then(at)),
        ("include_prompt", p.include_prompt.as_ref().and_then(at)),
        ("chat_template", p.chat_template.as_ref().and_then(at)),
    ] {
        if pos.is_some() {
            c.problem(pos, format!("`{key}` applies to a preference set (`kind: preference`), not to a text probe set"));
        }
    }
    let raw = RawCorpus {
        dataset: p.dataset,
        path: p.path,
        paths: p.paths,
        text_field: p.text_field.map(|t| t.value),
        max_documents: p.max_documents,
        sample_seed: p.sample_seed,
        max_tokens: p.max_tokens,
        add_special_tokens: p.add_special_tokens,
    };
    ProbeSource::Text(check_corpus(c, &raw))
}

fn check_preference(c: &mut Checker, p: RawProbe, pos: Option<super::Pos>) -> ProbeSource {
    for (key, at_key) in [
        ("text_field", p.text_field.as_ref().and_then(at)),
        ("max_documents", p.max_documents.as_ref().and_then(at)),
    ] {
        if at_key.is_some() {
            let instead = if key == "text_field" {
                "`prompt_field`, `chosen_field`, `rejected_field`"
            } else {
                "`max_pairs`"
            };
            c.problem(
                at_key,
                format!("`{key}` applies to text corpora; a preference set takes {instead}"),
            );
        }
    }
    let d = PreferenceSettings::default();
    let mut spans: Vec<&Spanned<String>> = p.path.iter().collect();
    spans.extend(p.paths.iter().flatten());
    let dataset = p.dataset.as_ref().map(|ds| {
        if let Some(first) = spans.first() {
            c.problem(at(first), "give the preference set as local files (`path`/`paths`) or as a hub `dataset`, not both");
        }
        resolve_dataset(c, ds)
    });
    if spans.is_empty() && dataset.is_none() {
        c.problem(pos, "a preference set needs `path` (or `paths`): .jsonl or .parquet files of prompt, chosen and rejected, or a hub `dataset`");
    }
    let mut paths = Vec::new();
    for s in spans {
        let path = c.existing_path(s, "preference file");
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if !["jsonl", "parquet"].contains(&ext.as_str()) {
            c.problem(
                at(s),
                format!("preference file `{}` must be .jsonl or .parquet", s.value),
            );
        }
        paths.push(path);
    }
    if let (Some(s), None) = (&p.sample_seed, &p.max_pairs) {
        c.problem(
            at(s),
            "`sample_seed` draws `max_pairs` pairs at random: set `max_pairs` too",
        );
    }
    let field = |f: &Option<Spanned<String>>, default: String| {
        f.as_ref().map_or(default, |s| s.value.clone())
    };
    ProbeSource::Preference(PreferenceSettings {
        paths,
        dataset,
        prompt_field: field(&p.prompt_field, d.prompt_field),
        chosen_field: field(&p.chosen_field, d.chosen_field),
        rejected_field: field(&p.rejected_field, d.rejected_field),
        max_pairs: p.max_pairs.map(|s| s.value.get()),
        sample_seed: p.sample_seed.map(|s| s.value),
        max_tokens: p.max_tokens.map_or(d.max_tokens, |s| s.value.get()),
        add_special_tokens: p.add_special_tokens.unwrap_or(d.add_special_tokens),
        include_prompt: p.include_prompt.map_or(d.include_prompt, |s| s.value),
        chat_template: p.chat_template.map_or(d.chat_template, |s| s.value),
    })
}
