//! A `tokenizers::Tokenizer` rebuilt from a GGUF file's `tokenizer.ggml.*`
//! metadata, so a `.gguf` model needs no `tokenizer.json`.
//!
//! Supported: `tokenizer.ggml.model = "gpt2"`, GPT-2-style byte-level BPE
//! (SmolLM/SmolLM2, Llama 3, Qwen 2/2.5, GPT-2, OLMo, …). The pre-tokenizer
//! follows `tokenizer.ggml.pre` with the split regexes llama.cpp uses for that
//! name (`llama-vocab.cpp`); tokens of type CONTROL become special added
//! tokens and USER_DEFINED ones plain added tokens, like the original
//! `tokenizer.json`. BOS/EOS are added only when `tokenizer.ggml.add_bos_token`
//! / `add_eos_token` say so (absent = false, as transformers' GGUF loader).
//!
//! SentencePiece (`llama`), WordPiece (`bert`) and other tokenizer models are
//! refused with an error naming the model type.

use super::gguf::{as_f64, meta_str, meta_u64, GgufFile};
use super::ModelError;
use candle_core::quantized::gguf_file::Value;
use std::collections::HashMap;
use std::path::Path;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::normalizers::unicode::NFC;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, SplitDelimiterBehavior};

/// llama.cpp token types (`llama_token_type`).
const TOKEN_TYPE_CONTROL: i64 = 3;
const TOKEN_TYPE_USER_DEFINED: i64 = 4;

/// Qwen2's split regex (its `tokenizer.json`; llama.cpp's `qwen2`).
const QWEN2_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// Llama 3's split regex (llama.cpp's `llama-bpe`).
const LLAMA3_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// `tokenizer.ggml.pre` names handled, by how they pre-tokenize.
pub const SUPPORTED_PRE: &[&str] = &[
    "default",
    "gpt-2",
    "gpt2",
    "mpt",
    "olmo",
    "smollm",
    "starcoder",
    "refact",
    "codeshell",
    "qwen2",
    "stablelm2",
    "llama-bpe",
    "llama3",
];

/// Reads the tokenizer of the GGUF file at `path` (header only).
pub fn from_file(path: &Path) -> Result<tokenizers::Tokenizer, ModelError> {
    let gguf = GgufFile::open(path)?;
    from_metadata(path, gguf.metadata())
}

/// Builds the tokenizer from GGUF metadata; `path` is for error messages.
pub fn from_metadata(
    path: &Path,
    md: &HashMap<String, Value>,
) -> Result<tokenizers::Tokenizer, ModelError> {
    let err = |reason: String| ModelError::Tokenizer {
        path: path.into(),
        reason,
    };
    check_model(path, md)?;
    let pre = match md.get("tokenizer.ggml.pre") {
        None => "default",
        Some(_) => meta_str(path, md, "tokenizer.ggml.pre")?,
    };
    let tokens = string_array(md, "tokenizer.ggml.tokens").map_err(&err)?;
    let merges = string_array(md, "tokenizer.ggml.merges").map_err(&err)?;
    let mut tok = tokenizers::Tokenizer::new(bpe(&tokens, &merges).map_err(&err)?);
    tok.with_pre_tokenizer(Some(pre_tokenizer(pre).map_err(&err)?));
    if matches!(pre, "qwen2") {
        tok.with_normalizer(Some(NFC))
            .map_err(|e| err(e.to_string()))?;
    }
    tok.with_decoder(Some(ByteLevelDecoder::default()));
    add_tokens(&mut tok, md, &tokens).map_err(&err)?;
    if let Some(post) = bos_eos(md, &tokens).map_err(&err)? {
        tok.with_post_processor(Some(post));
    }
    Ok(tok)
}

/// Refuses every tokenizer model but byte-level BPE (`gpt2`), naming it.
fn check_model(path: &Path, md: &HashMap<String, Value>) -> Result<(), ModelError> {
    let model = meta_str(path, md, "tokenizer.ggml.model")?;
    if model == "gpt2" {
        return Ok(());
    }
    let what = match model {
        "llama" => " (SentencePiece)",
        "bert" => " (WordPiece)",
        "t5" => " (Unigram)",
        "rwkv" => " (RWKV)",
        _ => "",
    };
    Err(ModelError::Tokenizer {
        path: path.into(),
        reason: format!("tokenizer.ggml.model `{model}`{what} is not supported; supported: gpt2 (byte-level BPE)"),
    })
}

/// The BPE model of the token list and merges.
fn bpe(tokens: &[&str], merges: &[&str]) -> Result<BPE, String> {
    let vocab: Vocab = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.to_string(), i as u32))
        .collect();
    if vocab.len() != tokens.len() {
        return Err(format!(
            "tokenizer.ggml.tokens has duplicate entries ({} tokens, {} distinct)",
            tokens.len(),
            vocab.len()
        ));
    }
    let mut pairs = Vec::with_capacity(merges.len());
    for (i, m) in merges.iter().enumerate() {
        // Split at the first space after the first character, as llama.cpp
        // does (byte-level tokens never contain a raw space).
        let cut = m
            .char_indices()
            .skip(1)
            .find(|&(_, c)| c == ' ')
            .map(|(i, _)| i);
        let Some(cut) = cut else {
            return Err(format!(
                "merge {i} `{m}` is not two tokens separated by a space"
            ));
        };
        pairs.push((m[..cut].to_string(), m[cut + 1..].to_string()));
    }
    BPE::builder()
        .vocab_and_merges(vocab, pairs)
        .build()
        .map_err(|e| format!("BPE model: {e}"))
}

/// The pre-tokenizer llama.cpp uses for `tokenizer.ggml.pre = pre`.
fn pre_tokenizer(pre: &str) -> Result<PreTokenizerWrapper, String> {
    let byte_level = |use_regex: bool| ByteLevel::new(false, true, use_regex);
    let split = |regex: &str| -> Result<PreTokenizerWrapper, String> {
        Ok(Split::new(
            SplitPattern::Regex(regex.into()),
            SplitDelimiterBehavior::Isolated,
            false,
        )
        .map_err(|e| format!("split regex: {e}"))?
        .into())
    };
    Ok(match pre {
        // GPT-2's own regex, which ByteLevel applies itself.
        "default" | "gpt-2" | "gpt2" | "mpt" | "olmo" => byte_level(true).into(),
        // Digits one by one, then the GPT-2 regex (SmolLM's tokenizer.json).
        "smollm" | "starcoder" | "refact" | "codeshell" => {
            Sequence::new(vec![Digits::new(true).into(), byte_level(true).into()]).into()
        }
        "qwen2" | "stablelm2" => {
            Sequence::new(vec![split(QWEN2_REGEX)?, byte_level(false).into()]).into()
        }
        "llama-bpe" | "llama3" => {
            Sequence::new(vec![split(LLAMA3_REGEX)?, byte_level(false).into()]).into()
        }
        other => {
            return Err(format!(
                "tokenizer.ggml.pre `{other}` is not supported; supported: {}",
                SUPPORTED_PRE.join(", ")
            ))
        }
    })
}

/// Added tokens: control tokens are special (matched whole in text,
/// e.g. `<|im_start|>`), user-defined ones are plain added tokens.
fn add_tokens(
    tok: &mut tokenizers::Tokenizer,
    md: &HashMap<String, Value>,
    tokens: &[&str],
) -> Result<(), String> {
    let types: Vec<i64> = match md.get("tokenizer.ggml.token_type") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| as_f64(v).map_or(1, |x| x as i64))
            .collect(),
        _ => vec![1; tokens.len()],
    };
    let added = |kind: i64, special: bool| -> Vec<AddedToken> {
        tokens
            .iter()
            .zip(&types)
            .filter(|(_, &t)| t == kind)
            .map(|(s, _)| AddedToken::from(s.to_string(), special).normalized(!special))
            .collect()
    };
    tok.add_special_tokens(added(TOKEN_TYPE_CONTROL, true))
        .map_err(|e| e.to_string())?;
    tok.add_tokens(added(TOKEN_TYPE_USER_DEFINED, false))
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// The post-processor adding BOS / EOS, only where the file asks for them
/// (`tokenizer.ggml.add_bos_token` / `add_eos_token`).
fn bos_eos(
    md: &HashMap<String, Value>,
    tokens: &[&str],
) -> Result<Option<TemplateProcessing>, String> {
    let flag = |key: &str| matches!(md.get(key), Some(Value::Bool(true)));
    let special_id = |key: &str| -> Result<Option<(String, u32)>, String> {
        let Some(id) = meta_u64(md, key) else {
            return Ok(None);
        };
        let text = tokens
            .get(id as usize)
            .ok_or_else(|| format!("{key} = {id} is outside the vocabulary of {}", tokens.len()))?;
        Ok(Some((text.to_string(), id as u32)))
    };
    let bos = if flag("tokenizer.ggml.add_bos_token") {
        special_id("tokenizer.ggml.bos_token_id")?
    } else {
        None
    };
    let eos = if flag("tokenizer.ggml.add_eos_token") {
        special_id("tokenizer.ggml.eos_token_id")?
    } else {
        None
    };
    if bos.is_none() && eos.is_none() {
        return Ok(None);
    }
    template(bos, eos).map(Some)
}

/// The single and pair templates `[BOS] $A [EOS]` (`[BOS] $B [EOS]`).
fn template(
    bos: Option<(String, u32)>,
    eos: Option<(String, u32)>,
) -> Result<TemplateProcessing, String> {
    let piece =
        |t: &Option<(String, u32)>, seq: &str| t.as_ref().map(|(s, _)| format!("{s}:{seq}"));
    let single: Vec<String> = [piece(&bos, "0"), Some("$A:0".into()), piece(&eos, "0")]
        .into_iter()
        .flatten()
        .collect();
    let pair: Vec<String> = [
        piece(&bos, "0"),
        Some("$A:0".into()),
        piece(&eos, "0"),
        piece(&bos, "1"),
        Some("$B:1".into()),
        piece(&eos, "1"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let specials: Vec<(String, u32)> = bos.iter().chain(eos.iter()).cloned().collect();
    if specials
        .iter()
        .any(|(s, _)| s.contains(char::is_whitespace) || s.contains(':'))
    {
        return Err(format!(
            "BOS/EOS token text {specials:?} cannot be used in a template"
        ));
    }
    TemplateProcessing::builder()
        .try_single(single.join(" "))
        .map_err(|e| format!("BOS/EOS template: {e}"))?
        .try_pair(pair.join(" "))
        .map_err(|e| format!("BOS/EOS template: {e}"))?
        .special_tokens(specials)
        .build()
        .map_err(|e| format!("BOS/EOS template: {e}"))
}

fn string_array<'a>(md: &'a HashMap<String, Value>, key: &str) -> Result<Vec<&'a str>, String> {
    match md.get(key) {
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.as_str()),
                other => Err(format!("{key}[{i}] should be a string, found {other:?}")),
            })
            .collect(),
        Some(other) => Err(format!(
            "{key} should be an array of strings, found {:?}",
            other.value_type()
        )),
        None => Err(format!("metadata `{key}` is missing")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny byte-level BPE vocabulary: bytes a, b, c, Ġ (space) and merges.
    fn metadata(model: &str, pre: &str, add_bos: bool) -> HashMap<String, Value> {
        let s = |x: &str| Value::String(x.into());
        let tokens = [
            "<|bos|>", "a", "b", "c", "Ġ", "1", "2", "ab", "Ġab", "abc", "12",
        ];
        let types = [3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
        let merges = ["a b", "Ġ ab", "ab c", "1 2"];
        HashMap::from([
            ("tokenizer.ggml.model".into(), s(model)),
            ("tokenizer.ggml.pre".into(), s(pre)),
            (
                "tokenizer.ggml.tokens".into(),
                Value::Array(tokens.iter().map(|t| s(t)).collect()),
            ),
            (
                "tokenizer.ggml.token_type".into(),
                Value::Array(types.iter().map(|&t| Value::I32(t)).collect()),
            ),
            (
                "tokenizer.ggml.merges".into(),
                Value::Array(merges.iter().map(|t| s(t)).collect()),
            ),
            ("tokenizer.ggml.bos_token_id".into(), Value::U32(0)),
            ("tokenizer.ggml.add_bos_token".into(), Value::Bool(add_bos)),
        ])
    }

    fn ids(tok: &tokenizers::Tokenizer, text: &str) -> Vec<u32> {
        tok.encode(text, true).unwrap().get_ids().to_vec()
    }

    #[test]
    fn byte_level_bpe_from_metadata() {
        let p = Path::new("x.gguf");
        let tok = from_metadata(p, &metadata("gpt2", "gpt-2", false)).unwrap();
        assert_eq!(ids(&tok, "abc ab"), vec![9, 8]);
        assert_eq!(tok.decode(&[9, 8], false).unwrap(), "abc ab");
        // the GPT-2 regex keeps "12" together, so the merge applies
        assert_eq!(ids(&tok, "12"), vec![10]);
        // control tokens are matched whole
        assert_eq!(ids(&tok, "<|bos|>ab"), vec![0, 7]);
        // smollm splits digits one by one before BPE
        let tok = from_metadata(p, &metadata("gpt2", "smollm", false)).unwrap();
        assert_eq!(ids(&tok, "12"), vec![5, 6]);
        // BOS only when add_bos_token is true
        let tok = from_metadata(p, &metadata("gpt2", "gpt-2", true)).unwrap();
        assert_eq!(ids(&tok, "ab"), vec![0, 7]);
        assert_eq!(tok.encode("ab", false).unwrap().get_ids(), &[7]);
    }

    #[test]
    fn unsupported_tokenizers_are_named() {
        let p = Path::new("x.gguf");
        let e = from_metadata(p, &metadata("llama", "default", false))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("`llama` (SentencePiece) is not supported") && e.contains("x.gguf"),
            "{e}"
        );
        let e = from_metadata(p, &metadata("gpt2", "deepseek-coder", false))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("tokenizer.ggml.pre `deepseek-coder` is not supported"),
            "{e}"
        );
        let mut md = metadata("gpt2", "gpt-2", false);
        md.remove("tokenizer.ggml.merges");
        let e = from_metadata(p, &md).err().unwrap().to_string();
        assert!(e.contains("tokenizer.ggml.merges"), "{e}");
    }
}
