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

#[test]
fn minimal_study_gets_defaults_and_absolute_paths() {
    let f = Fixture::new();
    let s = f.load(MINIMAL).unwrap();
    assert_eq!(s.name, "study");
    assert_eq!(s.models[0].name, "m1");
    assert!(s.models[0].path.is_absolute() && s.models[0].path.ends_with("models/m1"));
    assert_eq!(s.corpus.paths, vec![f.dir.path().join("corpus.txt")]);
    assert_eq!(s.features, FeatureSettings::default());
    assert_eq!(s.corpus.max_tokens, 512);
    assert_eq!(s.file_sha256.len(), 64);
}

#[test]
fn syntax_errors_have_line_and_column() {
    let f = Fixture::new();
    let err = f.load("version: 1\nmodels:\n  - path: [unclosed\ncorpus: {}\n").unwrap_err();
    let msg = err.to_string();
    assert!(matches!(&err, StudyError::Syntax { pos: Some(p), .. } if p.line >= 3), "{msg}");
    assert!(msg.contains("study.yaml:"), "{msg}");
}

#[test]
fn type_errors_have_line_and_column() {
    let f = Fixture::new();
    let err = f.load(&format!("{MINIMAL}features:\n  bins: lots\n")).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("study.yaml:7:"), "{msg}");
}

#[test]
fn unknown_keys_name_the_key_and_the_nearest_valid_one() {
    let f = Fixture::new();
    let err = f.load("version: 1\nmodels:\n  - path: models/m1\ncorpus:\n  path: corpus.txt\n  max_token: 64\n").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("study.yaml:6:3: unknown key `max_token` in `corpus`"), "{msg}");
    assert!(msg.contains("did you mean `max_tokens`?"), "{msg}");
    let err = f.load(&format!("{MINIMAL}fetures:\n  bins: 10\n")).unwrap_err().to_string();
    assert!(err.contains("unknown key `fetures`") && err.contains("did you mean `features`?"), "{err}");
}

#[test]
fn unknown_enum_values_are_suggested() {
    let f = Fixture::new();
    let err = f.load(&format!("{MINIMAL}features:\n  calibration: find_eps\n")).unwrap_err().to_string();
    assert!(err.contains("unknown value `find_eps`") && err.contains("did you mean `find-eps`?"), "{err}");
}

#[test]
fn every_semantic_problem_is_listed_with_its_position() {
    let f = Fixture::new();
    let yaml = "version: 2\nmodels:\n  - path: models/nope\n  - path: models/m1\n    name: m1\n  - path: models/m1\ncorpus:\n  path: missing.txt\nfeatures:\n  orders: [1, 5]\n  bins: 1\nscores:\n  csv: scores.csv\n  model_column: modl\nfit:\n  target: acc\n  features: [optimalty]\n";
    let err = f.load(yaml).unwrap_err();
    let StudyError::Invalid { problems, .. } = &err else { panic!("{err}") };
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
    let s = f.load("version: 1\nmodels:\n  - path: models/m1\n    name: no\ncorpus:\n  path: corpus.txt\n").unwrap();
    assert_eq!(s.models[0].name, "no");
}

#[test]
fn a_model_path_may_be_a_gguf_file() {
    let f = Fixture::new();
    std::fs::write(f.dir.path().join("models").join("m.gguf"), "GGUF").unwrap();
    std::fs::write(f.dir.path().join("models").join("m.bin"), "").unwrap();
    let s = f.load("version: 1\nmodels:\n  - path: models/m.gguf\ncorpus:\n  path: corpus.txt\n").unwrap();
    assert!(s.models[0].path.ends_with("models/m.gguf"));
    assert_eq!(s.models[0].name, "m", "the default name drops the extension");
    let err = f.load("version: 1\nmodels:\n  - path: models/m.bin\ncorpus:\n  path: corpus.txt\n").unwrap_err().to_string();
    assert!(err.contains("Hugging Face-layout folder") && err.contains(".gguf file"), "{err}");
}

#[test]
fn figure_options_have_defaults_and_the_old_syntax_still_works() {
    use crate::figures::{ColumnWidth, FigureFormat, FigureKind};
    let f = Fixture::new();
    let s = f.load(MINIMAL).unwrap();
    assert_eq!(s.figures, crate::figures::FigureSettings::default());
    let s = f.load(&format!("{MINIMAL}figures:\n  formats: [svg, png]\n")).unwrap();
    assert_eq!(s.figures.formats, [FigureFormat::Svg, FigureFormat::Png]);
    let yaml = format!("{MINIMAL}figures:\n  include: [information_plane, layer_profiles]\n  formats: [pdf]\n  width: single\n  dpi: 300\n");
    let s = f.load(&yaml).unwrap();
    assert_eq!(s.figures.include, Some(vec![FigureKind::InformationPlane, FigureKind::LayerProfiles]));
    assert_eq!(s.figures.formats, [FigureFormat::Pdf]);
    assert_eq!((s.figures.width, s.figures.dpi), (ColumnWidth::Single, 300.0));
}

#[test]
fn bad_figure_options_are_located() {
    let f = Fixture::new();
    let err = f.load(&format!("{MINIMAL}figures:\n  include: [informaton_plane]\n")).unwrap_err().to_string();
    assert!(err.contains("study.yaml:7:") && err.contains("did you mean `information_plane`?"), "{err}");
    let err = f.load(&format!("{MINIMAL}figures:\n  width: triple\n")).unwrap_err().to_string();
    assert!(err.contains("unknown value `triple`") && err.contains("single"), "{err}");
    let err = f.load(&format!("{MINIMAL}figures:\n  dpi: 5\n  formats: []\n  include: []\n")).unwrap_err().to_string();
    for needle in ["7:8: `figures.dpi` must be between 30 and 1200", "8:12: `figures.formats` is empty", "9:12: `figures.include` is empty"] {
        assert!(err.contains(needle), "missing `{needle}` in:\n{err}");
    }
    let err = f.load(&format!("{MINIMAL}figures:\n  widht: single\n")).unwrap_err().to_string();
    assert!(err.contains("unknown key `widht` in `figures`") && err.contains("did you mean `width`?"), "{err}");
}

#[test]
fn models_may_declare_a_step() {
    let f = Fixture::new();
    let s = f.load("version: 1\nmodels:\n  - path: models/m1\n    family: pythia\n    step: 1000\ncorpus:\n  path: corpus.txt\n").unwrap();
    assert_eq!(s.models[0].step, Some(1000.0));
}
