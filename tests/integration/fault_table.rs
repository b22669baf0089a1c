//! Table-driven bad inputs against the real `lossy` binary: study YAML of
//! every kind of mistake, corpus files, scores files, model files
//! (safetensors, GGUF, config.json, tokenizer.json) and `.npy` arrays. Each
//! case runs in a fresh folder and must
//! - exit with its code (2: the input is at fault; 1: a failure while running),
//!   never by a panic, abort or signal;
//! - print one error (one `error:` line; an invalid study adds one located
//!   problem line), naming the file and, where there is one, the line and
//!   column, with no cause said twice and no backtrace (`RUST_BACKTRACE=1`);
//! - leave every user file as it was and no report, staging folder or
//!   temporary beside them;
//! - say exactly what its snapshot says (`snapshots/`, reviewed with
//!   `cargo insta review` or by reading the `.snap` files; temp folders are
//!   `[TMP]`, the repository `[ROOT]`).

use super::super::gguf::write_gguf;
use super::super::support::root;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// One bad input.
struct Case {
    name: String,
    files: Vec<(String, Vec<u8>)>,
    args: Vec<String>,
    code: i32,
    /// The file (and position) the message must name.
    names: String,
    /// Words the message must hold.
    says: String,
}

#[derive(Default)]
struct Table {
    cases: Vec<Case>,
}

fn tiny(file: &str) -> Vec<u8> {
    std::fs::read(root().join("data/tiny-llama/tiny-a").join(file)).unwrap()
}

fn model_path() -> String {
    root()
        .join("data/tiny-llama/tiny-a")
        .to_string_lossy()
        .into_owned()
}

/// A study of the tiny Llama on `c.txt`, with `extra` sections after the corpus.
fn base(extra: &str) -> String {
    with_corpus("corpus:\n  path: c.txt\n", extra)
}

fn with_corpus(corpus: &str, extra: &str) -> String {
    format!(
        "version: 1\nmodels:\n  - path: {}\n{corpus}{extra}",
        model_path()
    )
}

/// Three models (a fit needs them), `scores` from `s.csv`, and `fit` settings.
fn fit_study(fit: &str) -> String {
    let m = root().join("data/tiny-llama");
    format!(
        "version: 1\nmodels:\n  - path: {}\n  - path: {}\n  - path: {}\ncorpus:\n  path: c.txt\nscores:\n  csv: s.csv\nfit:\n  target: loss\n{fit}",
        m.join("tiny-a").display(),
        m.join("tiny-b").display(),
        m.join("tiny-c").display()
    )
}

const SCORES: &str = "model,loss\ntiny-a,1\ntiny-b,2\ntiny-c,3\n";

fn f(name: &str, bytes: impl Into<Vec<u8>>) -> (String, Vec<u8>) {
    (name.to_string(), bytes.into())
}

impl Table {
    /// `lossy run study.yaml -q -o rep` on `yaml`, with `c.txt` and `files`.
    fn study(
        &mut self,
        name: &str,
        yaml: &str,
        files: Vec<(String, Vec<u8>)>,
        names: &str,
        says: &str,
    ) {
        let mut all = vec![
            f("c.txt", "hello world\n"),
            f("study.yaml", yaml.as_bytes()),
        ];
        all.extend(files);
        self.run(
            name,
            all,
            &["run", "study.yaml", "-q", "-o", "rep"],
            2,
            names,
            says,
        );
    }

    fn run(
        &mut self,
        name: &str,
        files: Vec<(String, Vec<u8>)>,
        args: &[&str],
        code: i32,
        names: &str,
        says: &str,
    ) {
        self.cases.push(Case {
            name: name.into(),
            files,
            args: args.iter().map(|a| a.to_string()).collect(),
            code,
            names: names.into(),
            says: says.into(),
        });
    }

    /// A model folder `m` with tiny-a's files, `edit`ed, run by a study and by `next-token`.
    fn model(&mut self, name: &str, files: Vec<(String, Vec<u8>)>, names: &str, says: &str) {
        let mut all: BTreeMap<String, Vec<u8>> =
            ["config.json", "tokenizer.json", "model.safetensors"]
                .iter()
                .map(|n| (format!("m/{n}"), tiny(n)))
                .collect();
        for (k, v) in files {
            all.insert(k, v);
        }
        let all: Vec<_> = all.into_iter().filter(|(_, v)| v != b"<absent>").collect();
        let yaml = "version: 1\nmodels:\n  - path: m\ncorpus:\n  path: c.txt\n";
        self.study(&format!("{name} (run)"), yaml, all.clone(), names, says);
        self.run(
            &format!("{name} (next-token)"),
            all,
            &["next-token", "--model", "m", "--text", "the cat sat"],
            2,
            names,
            says,
        );
    }
}

impl Table {
    /// As [`Table::model`], and `lossy plan` must refuse it the same way
    /// (plan reads each model's config, not its weights).
    fn model_and_plan(
        &mut self,
        name: &str,
        files: Vec<(String, Vec<u8>)>,
        names: &str,
        says: &str,
    ) {
        self.model(name, files, names, says);
        let mut all = self.cases.last().unwrap().files.clone();
        all.push(f("c.txt", "hello world\n"));
        all.push(f(
            "study.yaml",
            "version: 1\nmodels:\n  - path: m\ncorpus:\n  path: c.txt\n",
        ));
        self.run(
            &format!("{name} (plan)"),
            all,
            &["plan", "study.yaml"],
            2,
            names,
            says,
        );
    }
}

/// tiny-a's safetensors with `edit` applied to its tensors (name, header
/// entry, bytes), re-packed with fresh offsets.
fn safetensors_with(edit: impl FnOnce(&mut Vec<(String, serde_json::Value, Vec<u8>)>)) -> Vec<u8> {
    let bytes = tiny("model.safetensors");
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let data = &bytes[8 + n..];
    let mut tensors: Vec<(String, serde_json::Value, Vec<u8>)> = header
        .iter()
        .filter(|(k, _)| k.as_str() != "__metadata__")
        .map(|(k, v)| {
            let o = &v["data_offsets"];
            let (a, b) = (
                o[0].as_u64().unwrap() as usize,
                o[1].as_u64().unwrap() as usize,
            );
            (k.clone(), v.clone(), data[a..b].to_vec())
        })
        .collect();
    edit(&mut tensors);
    let mut out_header = serde_json::Map::new();
    out_header.insert("__metadata__".into(), header["__metadata__"].clone());
    let mut out_data = Vec::new();
    for (k, mut v, d) in tensors {
        v["data_offsets"] = serde_json::json!([out_data.len(), out_data.len() + d.len()]);
        out_data.extend(d);
        out_header.insert(k, v);
    }
    let mut h = serde_json::to_vec(&out_header).unwrap();
    h.resize(h.len().div_ceil(8) * 8, b' ');
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend(h);
    out.extend(out_data);
    out
}

/// tiny-a's config.json with `key` set to `value` (or removed when null).
fn config_with(key: &str, value: serde_json::Value) -> Vec<u8> {
    let mut c: serde_json::Value = serde_json::from_slice(&tiny("config.json")).unwrap();
    match value {
        serde_json::Value::Null => {
            c.as_object_mut().unwrap().remove(key);
        }
        v => c[key] = v,
    }
    serde_json::to_vec(&c).unwrap()
}

/// A `.npy` (version 1.0) with this header dict and raw data.
fn npy(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut h = dict.as_bytes().to_vec();
    let pad = 64 - (10 + h.len() + 1) % 64;
    h.extend(std::iter::repeat_n(b' ', pad % 64));
    h.push(b'\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((h.len() as u16).to_le_bytes());
    out.extend(h);
    out.extend(data);
    out
}

fn f32s(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn i64s(v: &[i64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn study_cases(t: &mut Table) {
    let m = model_path();
    let s = |name: &str, yaml: &str, names: &str, says: &str| {
        (
            name.to_string(),
            yaml.to_string(),
            names.to_string(),
            says.to_string(),
        )
    };
    let cases = [
        s("syntax error", "version: 1\nmodels: [\n", "study.yaml:2:9", "unclosed bracket"),
        s("empty file", "", "study.yaml:1:1", "unexpected end of input"),
        s("not a mapping", "- a\n- b\n", "study.yaml:1:1", "expected mapping"),
        s("tab indentation", "version: 1\nmodels:\n\t- path: x\n", "study.yaml:3:2", "tabs"),
        s("no version", &base("").replace("version: 1\n", ""), "study.yaml:3:1", "missing field `version`"),
        s("version 2", &base("").replace("version: 1", "version: 2"), "study.yaml:1:10", "unsupported study version 2"),
        s("duplicate key", &format!("{}corpus:\n  path: c.txt\n", base("")), "study.yaml", "appears twice"),
        s("unknown top-level key", &base("colour: red\n"), "study.yaml:6:1", "did you mean `corpus`"),
        s("unknown features key", &base("features:\n  bin: 8\n"), "study.yaml:7:3", "did you mean `bins`"),
        s("bins not a number", &base("features:\n  bins: many\n"), "study.yaml:7:9", "whole number"),
        s("bins negative", &base("features:\n  bins: -1\n"), "study.yaml:7:9", "whole number"),
        s("bins 0", &base("features:\n  bins: 0\n"), "study.yaml:7:9", "at least 2"),
        s("bins huge", &base("features:\n  bins: 100000000000\n"), "study.yaml:7:9", "at most 65536 reference points"),
        s("batch huge", &base("features:\n  batch_size: 100000000\n"), "study.yaml", "at most 4096 sequences"),
        s("bootstrap huge", &base("features:\n  bootstrap: 100000000\n"), "study.yaml", "at most 10000 replicates"),
        s("bootstrap blocks 1", &base("features:\n  bootstrap: 5\n  bootstrap_blocks: 1\n"), "study.yaml:8:21", "`bootstrap_blocks` must be at least 2"),
        s("orders 5", &base("features:\n  orders: [5]\n"), "study.yaml:7:11", "between 1 and 4"),
        s("orders empty", &base("features:\n  orders: []\n"), "study.yaml:7:11", "between 1 and 4"),
        s("calibration unknown", &base("features:\n  calibration: magic\n"), "study.yaml:7:16", "find-eps, exact, leading-order"),
        s("positions unknown", &base("features:\n  positions: all\n"), "study.yaml:7:14", "per-order, shared"),
        s("device tpu", &base("features:\n  device: tpu\n"), "study.yaml:7:11", "is not a device"),
        s("seed negative", &base("features:\n  seed: -3\n"), "study.yaml:7:9", "whole number"),
        s("reference points missing", &base("features:\n  reference_points: W.npy\n"), "study.yaml:7:21", "W.npy` does not exist"),
        s("models empty", "version: 1\nmodels: []\ncorpus:\n  path: c.txt\n", "study.yaml:2:9", "`models` is empty"),
        s("model without a source", "version: 1\nmodels:\n  - name: x\ncorpus:\n  path: c.txt\n", "study.yaml:3:11", "needs a `path`"),
        s("precision f8", &base("").replace(&format!("path: {m}"), &format!("path: {m}\n    precision: f8")), "study.yaml:4:16", "f32, bf16, f16"),
        s("duplicate model names", &format!("version: 1\nmodels:\n  - path: {m}\n  - path: {m}\ncorpus:\n  path: c.txt\n"), "study.yaml:4:11", "two models are named `tiny-a`"),
        s("model folder missing", "version: 1\nmodels:\n  - path: nope\ncorpus:\n  path: c.txt\n", "study.yaml:3:11", "`nope` does not exist"),
        s("hub id malformed", "version: 1\nmodels:\n  - id: 'not a repo'\ncorpus:\n  path: c.txt\n", "study.yaml:3:9", "is not a hub id"),
        s("hub id traversal", "version: 1\nmodels:\n  - id: '../../x'\ncorpus:\n  path: c.txt\n", "study.yaml:3:9", "is not a hub id"),
        s("revision traversal", "version: 1\nmodels:\n  - id: org/m\n    revision: '../../../../x'\ncorpus:\n  path: c.txt\n", "study.yaml", "revision `../../../../x` is not allowed"),
        s("revisions empty", "version: 1\nmodels:\n  - id: a/b\n    revisions: []\ncorpus:\n  path: c.txt\n", "study.yaml:4:16", "`revisions` is empty"),
        s("checkpoints match nothing", "version: 1\nmodels:\n  - checkpoints: runs/ck-*\ncorpus:\n  path: c.txt\n", "study.yaml:3:18", "matches nothing"),
        s("study name traversal", &base("name: ../../evil\n"), "study.yaml:6:7", "names the report folder"),
        s("no corpus", &format!("version: 1\nmodels:\n  - path: {m}\n"), "study.yaml:2:1", "missing field `corpus`"),
        s("corpus files and dataset", &with_corpus("corpus:\n  path: c.txt\n  dataset: {id: a/b}\n", ""), "study.yaml:5:9", "not both"),
        s("corpus file missing", &with_corpus("corpus:\n  path: nope.txt\n", ""), "study.yaml", "nope.txt"),
        s("corpus max_tokens 0", &with_corpus("corpus:\n  path: c.txt\n  max_tokens: 0\n", ""), "study.yaml:6:15", "at least 1"),
        s("corpus max_documents 0", &with_corpus("corpus:\n  path: c.txt\n  max_documents: 0\n", ""), "study.yaml:6:18", "at least 1"),
        s("corpus extension", &with_corpus("corpus:\n  path: c.docx\n", ""), "study.yaml:5:9", "must be .txt, .jsonl or .parquet"),
        s("fit without scores", &base("fit:\n  target: loss\n"), "study.yaml:7:11", "needs a `scores` section"),
        s("fit validation unknown", &fit_study("  validation: magic\n"), "study.yaml", "leave-one-out, leave-one-family-out, k-fold, hold-out"),
        s("fit k-fold 1", &fit_study("  validation: k-fold\n  folds: 1\n"), "study.yaml", "`folds` must be at least 2"),
        s("fit interval 1.5", &fit_study("  interval: 1.5\n"), "study.yaml", "`interval` is a coverage between 0 and 1"),
        s("fit permutations 0", &fit_study("  permutations: 0\n"), "study.yaml:12:17", "`permutations` must be at least 1"),
        s("figures format gif", &base("figures:\n  formats: [gif]\n"), "study.yaml:7:13", "svg, png, pdf"),
        s("figures dpi 0", &base("figures:\n  dpi: 0\n"), "study.yaml:7:8", "between 30 and 1200"),
        s("figures unknown", &base("figures:\n  include: [pie]\n"), "study.yaml:7:13", "unknown value `pie`"),
        s("scores file missing", &base("scores:\n  csv: nope.csv\n"), "study.yaml:7:8", "`nope.csv` does not exist"),
        s("scores duplicates unknown", &base("scores:\n  csv: s.csv\n  duplicates: sum\n"), "study.yaml:8:15", "error, first, mean"),
        s("leaderboard unknown", &base("scores:\n  leaderboard: open-llm-v9\n"), "study.yaml:7:16", "unknown leaderboard"),
    ];
    for (name, yaml, names, says) in cases {
        t.study(
            &format!("study: {name}"),
            &yaml,
            vec![f("s.csv", SCORES), f("c.docx", "hi")],
            &names,
            &says,
        );
    } // `plan` validates as `run` does: the same refusals, before any model is read.
    for (name, extra, says) in [
        (
            "bins huge",
            "features:\n  bins: 100000000000\n",
            "at most 65536 reference points",
        ),
        (
            "batch huge",
            "features:\n  batch_size: 100000000\n",
            "at most 4096 sequences",
        ),
        (
            "bootstrap huge",
            "features:\n  bootstrap: 100000000\n",
            "at most 10000 replicates",
        ),
        (
            "unknown key",
            "features:\n  bin: 8\n",
            "did you mean `bins`",
        ),
    ] {
        t.run(
            &format!("plan: {name}"),
            vec![f("c.txt", "hello world\n"), f("study.yaml", base(extra))],
            &["plan", "study.yaml"],
            2,
            "study.yaml",
            says,
        );
    }

    t.study(
        "study: not UTF-8",
        "",
        vec![f("study.yaml", b"version: 1\nname: \xff\xfe\n".to_vec())],
        "study.yaml:2:7",
        "the study file is not UTF-8",
    );
}

/// A chat preference parquet (a string column and two message lists),
/// written by scripts/preference_parquet_fixtures.py.
fn chat_parquet() -> Vec<u8> {
    std::fs::read(root().join("tests/fixtures/preference/chat.parquet")).unwrap()
}

fn corpus_cases(t: &mut Table) {
    let c = |name: &str, file: &str, body: &[u8], extra: &str, names: &str, says: &str| {
        (
            name.to_string(),
            with_corpus(&format!("corpus:\n  path: {file}\n{extra}"), ""),
            f(file, body.to_vec()),
            names.to_string(),
            says.to_string(),
        )
    };
    let cases = [
        c("empty", "e.txt", b"", "", "e.txt", "no usable text"),
        c(
            "blank documents only",
            "e.txt",
            b"\n\n\n",
            "",
            "e.txt",
            "no usable text",
        ),
        c(
            "not UTF-8",
            "e.txt",
            b"abc\n\nde\xff\xfef\n",
            "",
            "e.txt",
            "UTF-8",
        ),
        c(
            "jsonl line not JSON",
            "e.jsonl",
            b"{\"text\":\"a\"}\n{\"text\": oops}\n",
            "",
            "e.jsonl:2",
            "not a JSON object",
        ),
        c(
            "jsonl text not a string",
            "e.jsonl",
            b"{\"text\":\"a\"}\n{\"text\": 5}\n",
            "",
            "e.jsonl:2",
            "no string field `text`",
        ),
        c(
            "jsonl row not an object",
            "e.jsonl",
            b"{\"text\":\"a\"}\n[1,2]\n",
            "",
            "e.jsonl:2",
            "no string field `text`",
        ),
        c(
            "jsonl text_field absent",
            "e.jsonl",
            b"{\"text\":\"a\"}\n",
            "  text_field: body\n",
            "e.jsonl:1",
            "no string field `body`",
        ),
        c(
            "parquet text column a message list",
            "e.parquet",
            &chat_parquet(),
            "  text_field: chosen\n",
            "e.parquet",
            "column `chosen` holds a list, not text",
        ),
        c(
            "parquet text column absent",
            "e.parquet",
            &chat_parquet(),
            "",
            "e.parquet",
            "no text column `text` (columns: prompt, chosen, rejected)",
        ),
        c(
            "parquet not parquet",
            "e.parquet",
            b"PAR1garbagegarbage",
            "",
            "e.parquet",
            "cannot read table",
        ),
    ];
    for (name, yaml, file, names, says) in cases {
        t.study(&format!("corpus: {name}"), &yaml, vec![file], &names, &says);
    }
}

fn scores_cases(t: &mut Table) {
    let csv = "scores:\n  csv: s.csv\n";
    let s = |name: &str, extra: &str, file: &str, body: &[u8], names: &str, says: &str| {
        (
            name.to_string(),
            base(extra),
            f(file, body.to_vec()),
            names.to_string(),
            says.to_string(),
        )
    };
    let cases = [
        s(
            "no model column",
            csv,
            "s.csv",
            b"name,loss\ntiny-a,1\n",
            "study.yaml:7:8",
            "no model column `model`",
        ),
        s(
            "ragged rows",
            csv,
            "s.csv",
            b"model,loss\ntiny-a,1,2,3\n",
            "s.csv",
            "more fields",
        ),
        s("empty file", csv, "s.csv", b"", "s.csv", "empty CSV"),
        s(
            "duplicate rows",
            csv,
            "s.csv",
            b"model,loss\ntiny-a,1\ntiny-a,2\n",
            "s.csv",
            "matches 2 rows (row 1, row 2)",
        ),
        s(
            "revision column absent",
            "scores:\n  csv: s.csv\n  revision_column: step\n",
            "s.csv",
            b"model,loss\ntiny-a,1\n",
            "study.yaml:8:20",
            "no revision column `step`",
        ),
        s(
            "selected column absent",
            "scores:\n  csv: s.csv\n  columns: {acc: A}\n",
            "s.csv",
            b"model,loss\ntiny-a,1\n",
            "study.yaml:8:12",
            "no column `A`",
        ),
        s(
            "parquet not parquet",
            "scores:\n  parquet: s.parquet\n",
            "s.parquet",
            b"PAR1xx",
            "s.parquet",
            "parquet",
        ),
        s(
            "lm-eval not JSON",
            "scores:\n  lm_eval: r.json\n",
            "r.json",
            b"{ nope",
            "r.json",
            "not JSON",
        ),
        s(
            "lm-eval without results",
            "scores:\n  lm_eval: r.json\n",
            "r.json",
            b"{\"config\": {}}",
            "r.json",
            "no `results` object",
        ),
    ];
    for (name, yaml, file, names, says) in cases {
        t.study(&format!("scores: {name}"), &yaml, vec![file], &names, &says);
    }
}

fn model_cases(t: &mut Table) {
    let st = tiny("model.safetensors");
    let cut = st.len() / 2;
    t.model(
        "safetensors: truncated data",
        vec![f("m/model.safetensors", &st[..cut])],
        "model.safetensors",
        "truncated download",
    );
    t.model(
        "safetensors: header cut",
        vec![f("m/model.safetensors", &st[..100])],
        "model.safetensors",
        "header claims",
    );
    t.model(
        "safetensors: empty",
        vec![f("m/model.safetensors", Vec::new())],
        "model.safetensors",
        "shorter than a safetensors header",
    );
    let mut huge = st.clone();
    huge[..8].copy_from_slice(&(1u64 << 60).to_le_bytes());
    t.model(
        "safetensors: header length 2^60",
        vec![f("m/model.safetensors", huge)],
        "model.safetensors",
        "header claims 1152921504606846976 bytes",
    );
    let mut junk = 16u64.to_le_bytes().to_vec();
    junk.extend(b"{{{{{{{{{{{{{{{{");
    t.model(
        "safetensors: header not JSON",
        vec![f("m/model.safetensors", junk)],
        "model.safetensors",
        "header is not valid JSON",
    );
    let i32s = safetensors_with(|ts| ts[0].1["dtype"] = "I32".into());
    t.model(
        "safetensors: I32 tensor",
        vec![f("m/model.safetensors", i32s)],
        "model.safetensors",
        "tensor `model.embed_tokens.weight` is I32",
    );
    let missing =
        safetensors_with(|ts| ts.retain(|(k, _, _)| k != "model.layers.0.input_layernorm.weight"));
    t.model(
        "safetensors: tensor missing",
        vec![f("m/model.safetensors", missing)],
        "model.layers.0.input_layernorm.weight",
        "cannot find tensor",
    );
    let short = safetensors_with(|ts| {
        let e = ts
            .iter_mut()
            .find(|(k, _, _)| k == "model.layers.0.input_layernorm.weight")
            .unwrap();
        e.1["shape"] = serde_json::json!([16]);
        e.2.truncate(64);
    });
    t.model(
        "safetensors: tensor of the wrong shape",
        vec![f("m/model.safetensors", short)],
        "m",
        "shape mismatch",
    );
    let far = safetensors_with(|_| ());
    let n = u64::from_le_bytes(far[..8].try_into().unwrap()) as usize;
    let mut h: serde_json::Value = serde_json::from_slice(&far[8..8 + n]).unwrap();
    h["model.embed_tokens.weight"]["data_offsets"] = serde_json::json!([0, 1u64 << 50]);
    let mut hb = serde_json::to_vec(&h).unwrap();
    hb.resize(hb.len().div_ceil(8) * 8, b' ');
    let mut beyond = (hb.len() as u64).to_le_bytes().to_vec();
    beyond.extend(hb);
    beyond.extend(&far[8 + n..]);
    t.model(
        "safetensors: offsets beyond the file",
        vec![f("m/model.safetensors", beyond)],
        "model.safetensors",
        "tensor data needs 1125899906842624 bytes",
    );
    t.model(
        "weights absent",
        vec![f("m/model.safetensors", "<absent>")],
        "m",
        "model.safetensors",
    );

    let cfg = |k: &str, v: serde_json::Value| vec![f("m/config.json", config_with(k, v))];
    t.model_and_plan(
        "config: 10^6 layers",
        cfg("num_hidden_layers", 1_000_000.into()),
        "config.json",
        "`num_hidden_layers` is 1000000",
    );
    t.model_and_plan(
        "config: 0 layers",
        cfg("num_hidden_layers", 0.into()),
        "config.json",
        "`num_hidden_layers` is 0",
    );
    t.model_and_plan(
        "config: hidden size 2^40",
        cfg("hidden_size", (1u64 << 40).into()),
        "config.json",
        "`hidden_size` is 1099511627776",
    );
    t.model_and_plan(
        "config: vocabulary 10^12",
        cfg("vocab_size", 1_000_000_000_000u64.into()),
        "config.json",
        "`vocab_size` is 1000000000000",
    );
    t.model_and_plan(
        "config: model type unknown",
        cfg("model_type", "gpt5".into()),
        "config.json",
        "model_type `gpt5`",
    );
    t.model_and_plan(
        "config: hidden size absent",
        cfg("hidden_size", serde_json::Value::Null),
        "config.json",
        "`hidden_size` is missing",
    );
    t.model_and_plan(
        "config: 0 heads",
        cfg("num_attention_heads", 0.into()),
        "config.json",
        "`num_attention_heads` is 0",
    );
    t.model_and_plan(
        "config: heads not a multiple",
        cfg("num_attention_heads", 3.into()),
        "config.json",
        "positive multiple",
    );
    t.model_and_plan(
        "config: not JSON",
        vec![f("m/config.json", "{ model_type: llama ")],
        "config.json",
        "not valid JSON",
    );
    t.model_and_plan(
        "config: absent",
        vec![f("m/config.json", "<absent>")],
        "m",
        "config.json",
    );

    t.model(
        "tokenizer: not JSON",
        vec![f("m/tokenizer.json", "not json")],
        "tokenizer.json",
        "expected ident",
    );
    let mut tj: serde_json::Value = serde_json::from_slice(&tiny("tokenizer.json")).unwrap();
    let vocab = tj["model"]["vocab"].as_object_mut().unwrap();
    for id in vocab.values_mut() {
        *id = (id.as_u64().unwrap() + 5000).into();
    }
    t.model(
        "tokenizer: ids beyond the vocabulary",
        vec![f("m/tokenizer.json", serde_json::to_vec(&tj).unwrap())],
        "tokenizer.json",
        "beyond the model's vocabulary of 384 ids",
    );
}

fn gguf_cases(t: &mut Table, gguf: &[u8]) {
    let mut g = |name: &str, bytes: Vec<u8>, says: &str| {
        t.run(
            &format!("gguf: {name}"),
            vec![f("m.gguf", bytes)],
            &["next-token", "--model", "m.gguf", "--text", "the cat sat"],
            2,
            "m.gguf",
            says,
        )
    };
    let patched = |at: usize, with: &[u8]| {
        let mut b = gguf.to_vec();
        b[at..at + with.len()].copy_from_slice(with);
        b
    };
    g("bad magic", patched(0, b"GGML"), "not a GGUF file");
    g(
        "version 99",
        patched(4, &99u32.to_le_bytes()),
        "unsupported magic/version",
    );
    g("header cut", gguf[..64].to_vec(), "needs at least");
    g(
        "data cut",
        gguf[..gguf.len() - 100].to_vec(),
        "truncated download",
    );
    g("empty", Vec::new(), "shorter than a GGUF header");
    g(
        "2^60 tensors",
        patched(8, &(1u64 << 60).to_le_bytes()),
        "tensor_count 1152921504606846976 exceeds",
    );
    g(
        "2^60 metadata entries",
        patched(16, &(1u64 << 60).to_le_bytes()),
        "metadata_kv_count 1152921504606846976 exceeds",
    );
    g(
        "key of 2^60 bytes",
        patched(24, &(1u64 << 60).to_le_bytes()),
        "string length 1152921504606846976 exceeds",
    );
    let key = b"general.architecture";
    let at = gguf.windows(key.len()).position(|w| w == key).unwrap() + key.len() + 4 + 8;
    assert_eq!(&gguf[at..at + 5], b"llama");
    g("architecture unsupported", patched(at, b"bloom"), "bloom");
}

fn npy_cases(t: &mut Table) {
    let z = npy(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }",
        &f32s(&[
            0.1, 0.5, -0.3, 0.2, 0.9, -0.1, 0.4, 0.3, -0.6, 0.2, 0.1, 0.8, 0.3, 0.3, -0.2, -0.5,
        ]),
    );
    let labels = npy(
        "{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }",
        &i64s(&[0, 1, 0, 1]),
    );
    let mut e = |name: &str, file: &str, bytes: Vec<u8>, extra: &[&str], says: &str| {
        let mut files = vec![f("z.npy", z.clone()), f("l.npy", labels.clone())];
        files.retain(|(n, _)| n != file);
        files.push(f(file, bytes));
        let mut args = vec!["estimate", "--embeddings", "z.npy", "--labels", "y=l.npy"];
        args.extend(extra);
        if !extra.contains(&"--bins") {
            args.extend(["--bins", "4"]);
        }
        // An option's error names the option, a file's the file.
        let names = if extra.contains(&"--bins") {
            "--bins"
        } else {
            file
        };
        t.run(&format!("npy: {name}"), files, &args, 2, names, says);
    };
    e(
        "shape product overflows",
        "z.npy",
        npy(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }",
            b"",
        ),
        &[],
        "needs more than 2^64",
    );
    e(
        "bad magic",
        "z.npy",
        [b"NOTNUMPY".as_slice(), &z[8..]].concat(),
        &[],
        "missing the \\x93NUMPY magic",
    );
    e(
        "data truncated",
        "z.npy",
        z[..z.len() - 5].to_vec(),
        &[],
        "data is truncated",
    );
    e(
        "header cut",
        "z.npy",
        z[..20].to_vec(),
        &[],
        "truncated header",
    );
    e(
        "string dtype",
        "z.npy",
        npy(
            "{'descr': '<U4', 'fortran_order': False, 'shape': (4, 4), }",
            &[b'x'; 256],
        ),
        &[],
        "float32 or float64",
    );
    e(
        "Fortran order",
        "z.npy",
        npy(
            "{'descr': '<f4', 'fortran_order': True, 'shape': (4, 4), }",
            &f32s(&[0.5; 16]),
        ),
        &[],
        "Fortran-ordered",
    );
    e(
        "header not a dict",
        "z.npy",
        npy("{'descr': <f4 ", b""),
        &[],
        "not a valid .npy file",
    );
    e(
        "three dimensions",
        "z.npy",
        npy(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 4), }",
            &f32s(&[0.5; 16]),
        ),
        &[],
        "2-D array",
    );
    e(
        "no rows",
        "z.npy",
        npy(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }",
            b"",
        ),
        &[],
        "empty",
    );
    e(
        "a NaN",
        "z.npy",
        npy(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }",
            &f32s(&[
                f32::NAN,
                0.1,
                0.2,
                0.3,
                0.1,
                0.5,
                0.2,
                0.1,
                0.3,
                0.2,
                0.1,
                0.4,
                0.2,
                0.2,
                0.6,
                0.3,
            ]),
        ),
        &[],
        "non-finite",
    );
    e(
        "labels of another length",
        "l.npy",
        npy(
            "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
            &i64s(&[0, 1, 0]),
        ),
        &[],
        "has 3 rows, but the embeddings have 4",
    );
    e(
        "labels not integers",
        "l.npy",
        npy(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }",
            &[0u8; 32],
        ),
        &[],
        "labels must be integers",
    );
    e(
        "reference points of another width",
        "w.npy",
        npy(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), }",
            &f32s(&[0.5; 12]),
        ),
        &["--reference-points", "w.npy"],
        "width 3, but the embeddings have d = 4",
    );
    e("bins 1", "z.npy", z.clone(), &["--bins", "1"], "at least 2");
    e(
        "bins 10^11",
        "z.npy",
        z.clone(),
        &["--bins", "100000000000"],
        "at most 65536 reference points",
    );
}

/// Failures while running (exit 1): the input is fine, the place to write is not.
fn running_cases(t: &mut Table) {
    let files = vec![
        f("c.txt", "hello world\n"),
        f("study.yaml", base("")),
        f("blocker", "a file where a folder should be"),
    ];
    t.run(
        "running: report folder below a file",
        files.clone(),
        &["run", "study.yaml", "-q", "-o", "blocker/rep"],
        1,
        "blocker/rep",
        "Not a directory",
    );
    let mut m = files;
    for n in ["config.json", "tokenizer.json", "model.safetensors"] {
        m.push(f(&format!("m/{n}"), tiny(n)));
    }
    t.run(
        "running: hidden states written below a file",
        m,
        &[
            "hidden-states",
            "--model",
            "m",
            "--text",
            "the cat",
            "--out",
            "blocker/h.npy",
        ],
        1,
        "blocker/h.npy",
        "cannot write",
    );
}

/// Every file below `dir` (but the caches lossy was given) with its bytes.
fn user_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    super::super::support::files_below(dir)
        .into_iter()
        .map(|p| p.strip_prefix(dir).unwrap().to_string_lossy().into_owned())
        .filter(|p| !p.starts_with(".lossy-cache") && !p.starts_with("hf/"))
        .map(|p| {
            let bytes = std::fs::read(dir.join(&p)).unwrap();
            (p, bytes)
        })
        .collect()
}

/// Runs one case; returns what is wrong with it (empty when nothing is).
fn check(case: &Case) -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for (name, bytes) in &case.files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    let before = user_files(dir);
    let out = Command::new(env!("CARGO_BIN_EXE_lossy"))
        .args(&case.args)
        .current_dir(dir)
        .env("LOSSY_CACHE", dir.join(".lossy-cache"))
        .env("HF_HUB_CACHE", dir.join("hf"))
        .env("HF_HUB_OFFLINE", "1")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let mut wrong = Vec::new();
    if out.status.code() != Some(case.code) {
        wrong.push(format!("exit {:?}, not {}", out.status, case.code));
    }
    for bad in [
        "panicked",
        "backtrace",
        "RUST_BACKTRACE",
        "memory allocation",
    ] {
        if stderr.contains(bad) {
            wrong.push(format!("says `{bad}`"));
        }
    }
    let errors = stderr.lines().filter(|l| l.starts_with("error:")).count();
    // Progress lines before the error (`plan` says what it read) are not part of it.
    let error = stderr.find("error:").map_or("", |i| &stderr[i..]);
    let lines = error.trim_end().lines().count();
    if errors != 1 || lines > 2 || (lines == 2 && !stderr.contains("invalid study (1 problem)")) {
        wrong.push(format!("{errors} error line(s) in {lines} line(s)"));
    }
    for want in [&case.names, &case.says] {
        if !stderr.contains(want.as_str()) {
            wrong.push(format!("does not say `{want}`"));
        }
    }
    let parts: Vec<&str> = stderr.trim().split(": ").filter(|p| p.len() > 12).collect();
    for (i, p) in parts.iter().enumerate() {
        if parts[i + 1..].contains(p) {
            wrong.push(format!("says `{p}` twice"));
        }
    }
    let mut paths: Vec<&str> = stderr
        .split(|c: char| c.is_whitespace() || "`(),;".contains(c))
        .map(|t| t.trim_end_matches(':'))
        .filter(|t| t.len() > 6 && t.contains('/'))
        .collect();
    paths.sort();
    if let Some(w) = paths.windows(2).find(|w| w[0] == w[1]) {
        wrong.push(format!("names {} twice", w[0]));
    }
    if user_files(dir) != before {
        wrong.push("user files changed or files were left behind".into());
    }
    let left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n == "rep" || n.starts_with(".rep") || n == "reports")
        .collect();
    if !left.is_empty() {
        wrong.push(format!("left {left:?}"));
    }
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex::escape(&dir.to_string_lossy()), "[TMP]");
    settings.add_filter(&regex::escape(&root().to_string_lossy()), "[ROOT]");
    settings.set_snapshot_suffix(slug(&case.name));
    settings.set_description(format!("lossy {}", case.args.join(" ")));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("bad_input", stderr.trim_end()));
    wrong
}

fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    s.split('_')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

#[test]
fn bad_inputs_exit_with_one_located_message() {
    let tmp = tempfile::tempdir().unwrap();
    let gguf_path = tmp.path().join("tiny.gguf");
    write_gguf(&root().join("data/tiny-llama/tiny-a"), "llama", &gguf_path);
    let gguf = std::fs::read(&gguf_path).unwrap();
    let mut t = Table::default();
    study_cases(&mut t);
    corpus_cases(&mut t);
    scores_cases(&mut t);
    model_cases(&mut t);
    gguf_cases(&mut t, &gguf);
    npy_cases(&mut t);
    running_cases(&mut t);
    let mut names = std::collections::HashSet::new();
    assert!(
        t.cases.iter().all(|c| names.insert(slug(&c.name))),
        "case names collide"
    );
    assert!(t.cases.len() >= 60, "{} cases", t.cases.len());
    let failures: Vec<String> = t
        .cases
        .iter()
        .filter_map(|c| {
            let wrong = check(c);
            (!wrong.is_empty()).then(|| {
                format!(
                    "{} (lossy {}): {}",
                    c.name,
                    c.args.join(" "),
                    wrong.join("; ")
                )
            })
        })
        .collect();
    eprintln!("{} bad inputs checked", t.cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n{}",
        failures.len(),
        t.cases.len(),
        failures.join("\n")
    );
}
