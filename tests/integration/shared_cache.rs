//! One feature cache shared by processes: two `lossy run`s of one study,
//! started together on one `LOSSY_CACHE`, compute each model once between
//! them (the entry lock makes the second wait and read), leave no torn entry
//! or temporary, and write byte-identical tables. A partially written entry
//! is reported and recomputed, and files that are not entries (or belong to
//! a live writer) are left alone.

use super::support::{root, text};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const MODELS: [&str; 6] = ["tiny-a", "tiny-b", "tiny-c", "tiny-d", "tiny-e", "tiny-f"];

fn study(dir: &Path) -> PathBuf {
    let r = root();
    let mut yaml = String::from("version: 1\nname: shared\nmodels:\n");
    for m in MODELS {
        yaml.push_str(&format!(
            "  - {{ name: {m}, path: {} }}\n",
            r.join("data/tiny-llama").join(m).display()
        ));
    }
    yaml.push_str(&format!(
        "corpus:\n  path: {}\n  max_documents: 120\n  max_tokens: 128\nfeatures:\n  orders: [1, 2]\n  bootstrap: 10\n",
        r.join("data/corpus/demo.jsonl").display()
    ));
    let path = dir.join("study.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

fn start(dir: &Path, cache: &Path, study: &Path, out: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_lossy"))
        .args(["run", study.to_str().unwrap(), "-o", out])
        .current_dir(dir)
        .env("LOSSY_CACHE", cache)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start lossy")
}

/// Models a run's log says it computed (not read from the cache).
fn computed(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.starts_with('[') && l.contains("] ") && !l.ends_with("(cached)"))
        .filter_map(|l| Some(l.split("] ").nth(1)?.split(':').next()?.to_string()))
        .collect()
}

fn entries(cache: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(cache.join("features"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "bin"))
        .collect();
    v.sort();
    v
}

#[test]
fn two_processes_on_one_cache_compute_each_model_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (d, cache) = (tmp.path(), tmp.path().join("cache"));
    let study = study(d);
    let a = start(d, &cache, &study, "a");
    let b = start(d, &cache, &study, "b");
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let (ea, eb) = (text(&a).1, text(&b).1);
    assert!(a.status.success() && b.status.success(), "{ea}\n---\n{eb}");
    let mut all = computed(&ea);
    all.extend(computed(&eb));
    all.sort();
    assert_eq!(
        all,
        MODELS.to_vec(),
        "each model computed once:\n{ea}\n---\n{eb}"
    );
    for file in ["features.csv", "layers.csv"] {
        assert_eq!(
            std::fs::read(d.join("a").join(file)).unwrap(),
            std::fs::read(d.join("b").join(file)).unwrap(),
            "{file}"
        );
    }
    assert_eq!(entries(&cache).len(), MODELS.len());
    let temporaries: Vec<_> = std::fs::read_dir(cache.join("features"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(temporaries.is_empty(), "{temporaries:?}");
    // A third run reads everything, with no warning.
    let c = start(d, &cache, &study, "c").wait_with_output().unwrap();
    let ec = text(&c).1;
    assert!(
        c.status.success() && computed(&ec).is_empty() && !ec.contains("warning"),
        "{ec}"
    );
}

#[test]
fn a_partially_written_entry_is_reported_and_recomputed() {
    let tmp = tempfile::tempdir().unwrap();
    let (d, cache) = (tmp.path(), tmp.path().join("cache"));
    let study = study(d);
    let first = start(d, &cache, &study, "a").wait_with_output().unwrap();
    assert!(first.status.success(), "{}", text(&first).1);
    let victim = entries(&cache)[0].clone();
    let whole = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, &whole[..whole.len() / 2]).unwrap();
    // Files that are not entries, and a live writer's temporary of the
    // very entry being recomputed, must survive.
    let features = cache.join("features");
    let notes = features.join("notes.txt");
    std::fs::write(&notes, "mine").unwrap();
    let key = victim.file_stem().unwrap().to_str().unwrap();
    let live = features.join(format!(".{key}.bin.tmp-{}", std::process::id()));
    std::fs::write(&live, "in flight").unwrap();
    let second = start(d, &cache, &study, "b").wait_with_output().unwrap();
    let e = text(&second).1;
    assert!(second.status.success(), "{e}");
    assert!(
        e.contains("corrupt or partially written") && e.contains(victim.to_str().unwrap()),
        "{e}"
    );
    assert_eq!(
        computed(&e).len(),
        1,
        "only the damaged model is recomputed: {e}"
    );
    assert_eq!(
        std::fs::read(&victim).unwrap(),
        whole,
        "recomputed bit for bit"
    );
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "mine");
    assert!(live.exists(), "a live writer's temporary was removed");
    assert_eq!(
        std::fs::read(d.join("a/features.csv")).unwrap(),
        std::fs::read(d.join("b/features.csv")).unwrap()
    );
}
