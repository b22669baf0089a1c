//! Study parsing and checking: every error is located and explains itself.

use super::*;

/// Writes a study (and the files it names) into a temp folder.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("models").join("m1");
        std::fs::create_dir_all(&m).unwrap();
        std::fs::write(m.join("config.json"), "{}").unwrap();
        std::fs::write(m.join("tokenizer.json"), "{}").unwrap();
        std::fs::write(dir.path().join("corpus.txt"), "some text\n").unwrap();
        std::fs::write(dir.path().join("scores.csv"), "model,acc\nm1,0.5\n").unwrap();
        Self { dir }
    }

    fn load(&self, yaml: &str) -> Result<Study, StudyError> {
        let path = self.dir.path().join("study.yaml");
        std::fs::write(&path, yaml).unwrap();
        load(&path)
    }
}

const MINIMAL: &str = "version: 1\nmodels:\n  - path: models/m1\ncorpus:\n  path: corpus.txt\n";
/// Enough models for a one-feature fit.
const THREE: &str = "version: 1\nmodels:\n  - path: models/m1\n  - {path: models/m1, name: b}\n  - {path: models/m1, name: c}\ncorpus:\n  path: corpus.txt\n";

#[test]
fn minimal_study_gets_defaults_and_absolute_paths() {
    let f = Fixture::new();
    let s = f.load(MINIMAL).unwrap();
    assert_eq!(s.name, "study");
    assert_eq!(s.models[0].name, "m1");
    let path = s.models[0].path.as_ref().unwrap();
    assert!(path.is_absolute() && path.ends_with("models/m1"));
    assert_eq!(s.corpus.paths, vec![f.dir.path().join("corpus.txt")]);
    assert_eq!(s.features, FeatureSettings::default());
    assert_eq!(s.corpus.max_tokens, 512);
    assert_eq!(s.file_sha256.len(), 64);
}

#[test]
fn syntax_errors_have_line_and_column() {
    let f = Fixture::new();
    let err = f
        .load("version: 1\nmodels:\n  - path: [unclosed\ncorpus: {}\n")
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(&err, StudyError::Syntax { pos: Some(p), .. } if p.line >= 3),
        "{msg}"
    );
    assert!(msg.contains("study.yaml:"), "{msg}");
}

#[test]
fn type_errors_have_line_and_column() {
    let f = Fixture::new();
    let err = f
        .load(&format!("{MINIMAL}features:\n  bins: lots\n"))
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("study.yaml:7:"), "{msg}");
}

#[test]
fn unknown_keys_name_the_key_and_the_nearest_valid_one() {
    let f = Fixture::new();
    let err = f.load("version: 1\nmodels:\n  - path: models/m1\ncorpus:\n  path: corpus.txt\n  max_token: 64\n").unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("study.yaml:6:3: unknown key `max_token` in `corpus`"),
        "{msg}"
    );
    assert!(msg.contains("did you mean `max_tokens`?"), "{msg}");
    let err = f
        .load(&format!("{MINIMAL}fetures:\n  bins: 10\n"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown key `fetures`") && err.contains("did you mean `features`?"),
        "{err}"
    );
}

#[test]
fn unknown_enum_values_are_suggested() {
    let f = Fixture::new();
    let err = f
        .load(&format!("{MINIMAL}features:\n  calibration: find_eps\n"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown value `find_eps`") && err.contains("did you mean `find-eps`?"),
        "{err}"
    );
}

#[test]
fn every_semantic_problem_is_listed_with_its_position() {
    let f = Fixture::new();
    let yaml = "version: 2\nmodels:\n  - path: models/nope\n  - path: models/m1\n    name: m1\n  - path: models/m1\ncorpus:\n  path: missing.txt\nfeatures:\n  orders: [1, 5]\n  bins: 1\nscores:\n  csv: scores.csv\n  model_column: modl\nfit:\n  target: acc\n  features: [optimalty]\n";
    let err = f.load(yaml).unwrap_err();
    let StudyError::Invalid { problems, .. } = &err else {
        panic!("{err}")
    };
    let msg = err.to_string();
    for needle in [
        "1:10: unsupported study version 2",
        "3:11: model folder `models/nope` does not exist",
        "two models are named `m1`",
        "8:9: corpus file `missing.txt` does not exist",
        "10:11: `orders` must list n-gram orders between 1 and 4",
        "11:9: `bins`",
        "no model column `modl` (columns: model, acc); did you mean `model`?",
        "unknown fit feature `optimalty`",
        "did you mean `optimality`?",
    ] {
        assert!(msg.contains(needle), "missing `{needle}` in:\n{msg}");
    }
    assert!(problems.len() >= 8, "{msg}");
}

#[test]
fn yaml_1_1_booleans_are_not_a_trap() {
    // `no` is a string in YAML 1.2; a model named `no` must stay `no`.
    let f = Fixture::new();
    let s = f
        .load(
            "version: 1\nmodels:\n  - path: models/m1\n    name: no\ncorpus:\n  path: corpus.txt\n",
        )
        .unwrap();
    assert_eq!(s.models[0].name, "no");
}

#[test]
fn a_model_path_may_be_a_gguf_file() {
    let f = Fixture::new();
    std::fs::write(f.dir.path().join("models").join("m.gguf"), "GGUF").unwrap();
    std::fs::write(f.dir.path().join("models").join("m.bin"), "").unwrap();
    let s = f
        .load("version: 1\nmodels:\n  - path: models/m.gguf\ncorpus:\n  path: corpus.txt\n")
        .unwrap();
    assert!(s.models[0]
        .path
        .as_ref()
        .unwrap()
        .ends_with("models/m.gguf"));
    assert_eq!(
        s.models[0].name, "m",
        "the default name drops the extension"
    );
    let err = f
        .load("version: 1\nmodels:\n  - path: models/m.bin\ncorpus:\n  path: corpus.txt\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Hugging Face-layout folder") && err.contains(".gguf file"),
        "{err}"
    );
}

#[test]
fn scores_take_one_source_or_a_list_of_kinds() {
    let f = Fixture::new();
    std::fs::write(
        f.dir.path().join("more.csv"),
        "Model,Step,MMLU (5-shot)\norg/a,1000,0.5\n",
    )
    .unwrap();
    let yaml = format!(
        "{THREE}scores:\n  - csv: scores.csv\n  - csv: more.csv\n    model_column: Model\n    revision_column: Step\n    columns: {{mmlu: MMLU (5-shot)}}\n  - leaderboard: open-llm-v2\n    snapshot: always\nfit:\n  target: mmlu\n"
    );
    let s = f.load(&yaml).unwrap();
    let sources = &s.scores.as_ref().unwrap().sources;
    assert_eq!(sources.len(), 3);
    assert!(
        matches!(&sources[1].kind, crate::scores::SourceKind::Table(t) if t.columns == vec![("mmlu".to_string(), "MMLU (5-shot)".to_string())])
    );
    assert!(
        matches!(&sources[2].kind, crate::scores::SourceKind::Leaderboard(l) if l.snapshot == crate::scores::SnapshotUse::Always)
    );
    assert_eq!(
        sources[2].duplicates,
        crate::scores::Duplicates::Mean,
        "the leaderboard averages re-evaluations by default"
    );
    // One mapping still works, as in version 1's first form.
    let s = f
        .load(&format!(
            "{THREE}scores:\n  csv: scores.csv\nfit:\n  target: acc\n"
        ))
        .unwrap();
    assert_eq!(s.scores.unwrap().sources.len(), 1);
}

#[test]
fn score_source_mistakes_are_located() {
    let f = Fixture::new();
    let yaml = format!(
        "{MINIMAL}scores:\n  - csv: scores.csv\n    leaderboard: open-llm-v2\n  - leaderboard: open-llm-v3\n    model_column: model\n  - prefix: x_\n  - csv: scores.csv\n    columns: {{mmlu: MMLU}}\nfit:\n  target: average_score\n"
    );
    let msg = f.load(&yaml).unwrap_err().to_string();
    for needle in [
        "8:18: a score source has one kind; this one names `csv` and `leaderboard`",
        "9:18: unknown leaderboard `open-llm-v3`",
        "10:19: `model_column` applies to csv and parquet sources, not to `leaderboard`",
        "11:13: a score source needs one of",
        "13:14: scores file has no column `MMLU`",
        "fit target `average_score` is not a score column",
        "did you mean `average`?",
    ] {
        assert!(msg.contains(needle), "missing `{needle}` in:\n{msg}");
    }
    let err = f
        .load(&format!(
            "{MINIMAL}scores:\n  - lm_eval: scores.csv\n    snapshots: always\n"
        ))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown key `snapshots` in a `scores` source")
            && err.contains("did you mean `snapshot`?"),
        "{err}"
    );
}

#[test]
fn hold_out_validation_needs_a_known_column_and_threshold() {
    let f = Fixture::new();
    let base = format!("{THREE}scores:\n  csv: scores.csv\nfit:\n  target: acc\n");
    let s = f
        .load(&format!(
            "{base}  validation: hold-out\n  hold_out: {{column: log_params, threshold: 8.5}}\n"
        ))
        .unwrap();
    let fit = s.fit.unwrap();
    assert_eq!(
        fit.hold_out,
        Some(crate::fit::HoldOut {
            column: "log_params".into(),
            threshold: 8.5
        })
    );
    let msg = f
        .load(&format!("{base}  validation: hold-out\n"))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("needs `hold_out: {column"), "{msg}");
    let msg = f
        .load(&format!(
            "{base}  validation: hold-out\n  hold_out: {{column: log_param, threshold: 8.5}}\n"
        ))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("hold-out column `log_param`") && msg.contains("did you mean `log_params`?"),
        "{msg}"
    );
}

#[test]
fn model_ids_must_look_like_hub_ids() {
    let f = Fixture::new();
    let s = f.load("version: 1\nmodels:\n  - path: models/m1\n    id: org/m1\n    revision: step10\ncorpus:\n  path: corpus.txt\n").unwrap();
    assert_eq!(
        (s.models[0].id.as_deref(), s.models[0].revision.as_deref()),
        (Some("org/m1"), Some("step10"))
    );
    let msg = f.load("version: 1\nmodels:\n  - path: models/m1\n    id: just-a-name\ncorpus:\n  path: corpus.txt\n").unwrap_err().to_string();
    assert!(msg.contains("4:9: `just-a-name` is not a hub id"), "{msg}");
}

#[test]
fn hub_models_and_checkpoint_series_expand_to_named_entries() {
    let f = Fixture::new();
    let s = f
        .load("version: 1\nmodels:\n  - id: EleutherAI/pythia-160m\n  - id: EleutherAI/pythia-410m\n    revisions: [step1000, step143000]\n  - id: org/x\n    revision: v2\ncorpus:\n  path: corpus.txt\n")
        .unwrap();
    let names: Vec<&str> = s.models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "pythia-160m",
            "pythia-410m@step1000",
            "pythia-410m@step143000",
            "x@v2"
        ]
    );
    assert_eq!(s.models[2].revision.as_deref(), Some("step143000"));
    assert_eq!(
        (s.models[2].step, s.models[2].family.as_deref()),
        (Some(143000.0), Some("pythia-410m"))
    );
    assert_eq!(s.models[3].step, None);
    assert!(s.models.iter().all(|m| m.path.is_none()));
    let msg = f
        .load("version: 1\nmodels:\n  - name: lonely\n  - path: models/m1\n    revisions: [a]\n  - id: org/y\n    revision: a\n    revisions: [b]\ncorpus:\n  path: corpus.txt\n")
        .unwrap_err()
        .to_string();
    for needle in [
        "3:11: a model needs a `path`",
        "5:16: `revisions` fetches a checkpoint series",
        "5:16: `revision` and `revisions` need the model's hub `id`",
        "8:16: give `revision` or `revisions`, not both",
    ] {
        assert!(msg.contains(needle), "missing `{needle}` in:\n{msg}");
    }
}

#[test]
fn figure_options_have_defaults_and_the_old_syntax_still_works() {
    use crate::figures::{ColumnWidth, FigureFormat, FigureKind};
    let f = Fixture::new();
    let s = f.load(MINIMAL).unwrap();
    assert_eq!(s.figures, crate::figures::FigureSettings::default());
    let s = f
        .load(&format!("{MINIMAL}figures:\n  formats: [svg, png]\n"))
        .unwrap();
    assert_eq!(s.figures.formats, [FigureFormat::Svg, FigureFormat::Png]);
    let yaml = format!("{MINIMAL}figures:\n  include: [information_plane, layer_profiles]\n  formats: [pdf]\n  width: single\n  dpi: 300\n  style: slides\n");
    let s = f.load(&yaml).unwrap();
    assert_eq!(s.figures.style, crate::figures::FigureStyle::Slides);
    assert_eq!(
        s.figures.include,
        Some(vec![
            FigureKind::InformationPlane,
            FigureKind::LayerProfiles
        ])
    );
    assert_eq!(s.figures.formats, [FigureFormat::Pdf]);
    assert_eq!(
        (s.figures.width, s.figures.dpi),
        (ColumnWidth::Single, 300.0)
    );
}

#[test]
fn bad_figure_options_are_located() {
    let f = Fixture::new();
    let err = f
        .load(&format!(
            "{MINIMAL}figures:\n  include: [informaton_plane]\n"
        ))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("study.yaml:7:") && err.contains("did you mean `information_plane`?"),
        "{err}"
    );
    let err = f
        .load(&format!("{MINIMAL}figures:\n  width: triple\n"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown value `triple`") && err.contains("single"),
        "{err}"
    );
    let err = f
        .load(&format!(
            "{MINIMAL}figures:\n  dpi: 5\n  formats: []\n  include: []\n"
        ))
        .unwrap_err()
        .to_string();
    for needle in [
        "7:8: `figures.dpi` must be between 30 and 1200",
        "8:12: `figures.formats` is empty",
        "9:12: `figures.include` is empty",
    ] {
        assert!(err.contains(needle), "missing `{needle}` in:\n{err}");
    }
    let err = f
        .load(&format!("{MINIMAL}figures:\n  widht: single\n"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown key `widht` in `figures`") && err.contains("did you mean `width`?"),
        "{err}"
    );
}

#[test]
fn models_may_declare_a_step() {
    let f = Fixture::new();
    let s = f.load("version: 1\nmodels:\n  - path: models/m1\n    family: pythia\n    step: 1000\ncorpus:\n  path: corpus.txt\n").unwrap();
    assert_eq!(s.models[0].step, Some(1000.0));
}

#[test]
fn models_may_be_marked_unreleased_and_the_key_is_checked() {
    let f = Fixture::new();
    let s = f.load("version: 1\nmodels:\n  - path: models/m1\n    unreleased: true\n  - path: models/m1\n    name: again\ncorpus:\n  path: corpus.txt\n").unwrap();
    assert_eq!(
        (s.models[0].unreleased, s.models[1].unreleased),
        (true, false)
    );
    let err = f.load("version: 1\nmodels:\n  - path: models/m1\n    unreleasd: true\ncorpus:\n  path: corpus.txt\n").unwrap_err().to_string();
    assert!(err.contains("did you mean `unreleased`?"), "{err}");
}

#[test]
fn fit_baselines_and_control_must_be_known_columns() {
    let f = Fixture::new();
    let base = format!("{THREE}scores:\n  csv: scores.csv\nfit:\n  target: acc\n");
    let s = f
        .load(&format!(
            "{base}  baselines: [log_params, bits_per_byte]\n  control: [log_params, acc]\n"
        ))
        .unwrap();
    let fit = s.fit.unwrap();
    assert_eq!(
        fit.baselines,
        Some(vec!["log_params".to_string(), "bits_per_byte".to_string()])
    );
    assert_eq!(
        fit.control,
        Some(vec!["log_params".to_string(), "acc".to_string()])
    );
    for (field, bad) in [("baselines", "bits_per_bite"), ("control", "log_param")] {
        let msg = f
            .load(&format!("{base}  {field}: [{bad}]\n"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains(&format!("`fit.{field}`: `{bad}` is neither"))
                && msg.contains("did you mean")
                && msg.contains("study.yaml"),
            "{msg}"
        );
    }
    // a version-1 fit without the keys keeps them unset (fit.json unchanged)
    let s = f.load(&base).unwrap();
    let json = serde_json::to_string(&s.fit.unwrap()).unwrap();
    assert!(
        !json.contains("baselines") && !json.contains("control"),
        "{json}"
    );
}

#[test]
fn checkpoint_series_expand_and_their_keys_are_checked() {
    let f = Fixture::new();
    for c in ["step20", "step100"] {
        std::fs::create_dir_all(f.dir.path().join("run").join(c)).unwrap();
    }
    let s = f
        .load("version: 1\nmodels:\n  - checkpoints: run/step*\n    unreleased: true\n  - path: models/m1\n  - id: org/pythia\n    revisions: \"step*\"\n    step_regex: 'step(\\d+)'\ncorpus:\n  path: corpus.txt\n")
        .unwrap();
    let names: Vec<(&str, Option<f64>, bool)> = s
        .models
        .iter()
        .map(|m| (m.name.as_str(), m.step, m.unreleased))
        .collect();
    assert_eq!(
        names,
        [
            ("run@step20", Some(20.0), true),
            ("run@step100", Some(100.0), true),
            ("m1", None, false)
        ]
    );
    assert_eq!(s.models[0].root, Some(f.dir.path().join("run")));
    assert_eq!(s.revision_patterns.len(), 1);
    assert_eq!(s.revision_patterns[0].at, 3);
    let err = f
        .load("version: 1\nmodels:\n  - checkpoints: run\n    step: 3\n  - path: models/m1\n    step_regex: x\ncorpus:\n  path: corpus.txt\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "study.yaml:3:18: `checkpoints` lists a series on disk; it cannot go with `step`"
        ),
        "{err}"
    );
    assert!(
        err.contains("study.yaml:6:17: `step_regex` reads the steps of a series"),
        "{err}"
    );
}

#[test]
fn the_device_is_checked_for_syntax_and_located() {
    let f = Fixture::new();
    let s = f.load(MINIMAL).unwrap();
    assert_eq!(s.features.device, DeviceSpec::Cpu);
    let s = f
        .load(&format!("{MINIMAL}features:\n  device: cuda:1\n"))
        .unwrap();
    assert_eq!(s.features.device, DeviceSpec::Cuda(1));
    // A CPU study serializes as before (cache keys and manifests unchanged).
    let json = serde_json::to_value(&f.load(MINIMAL).unwrap().features).unwrap();
    assert!(json.get("device").is_none());
    let err = f
        .load(&format!("{MINIMAL}features:\n  device: cuda:x\n"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("study.yaml:7:") && err.contains("`cuda:x` is not a device"),
        "{err}"
    );
}

#[test]
fn a_zero_count_is_refused_while_parsing_at_its_value() {
    let f = Fixture::new();
    // Block and flow mappings: the key is named, the position is the value's.
    for (yaml, at) in [
        (format!("{MINIMAL}features:\n  batch_size: 0\n"), "study.yaml:7:15:"),
        (
            "version: 1\nmodels:\n  - path: models/m1\ncorpus: { path: corpus.txt, max_tokens: 0 }\n"
                .to_string(),
            "study.yaml:4:41:",
        ),
    ] {
        let err = f.load(&yaml).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, StudyError::Syntax { .. }), "{msg}");
        assert!(msg.contains(at) && msg.contains("must be at least 1"), "{msg}");
    }
    let err = f
        .load(&format!("{MINIMAL}features:\n  batch_size: 0\n"))
        .unwrap_err();
    assert!(
        err.to_string().ends_with("`batch_size` must be at least 1"),
        "{err}"
    );
}
