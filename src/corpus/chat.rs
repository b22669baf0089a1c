//! Chat messages to text: the model's own chat template (the Jinja
//! `chat_template` of its `tokenizer_config.json`, a `chat_template.jinja`
//! beside it, or a GGUF file's `tokenizer.chat_template`), rendered with
//! minijinja as transformers' `apply_chat_template` does (`trim_blocks`,
//! `lstrip_blocks`, `messages`, `add_generation_prompt`, the special tokens
//! and `raise_exception`; Python string methods through minijinja-contrib's
//! pycompat; no `strftime_now`, so a template that dates itself falls back
//! to its fixed date and the text is reproducible), or, for a model without
//! one, the [`plain`] rendering.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One chat turn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn new(role: &str, content: &str) -> Self {
        Self {
            role: role.into(),
            content: content.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("the chat template of {origin}")]
    Template {
        origin: PathBuf,
        #[source]
        source: minijinja::Error,
    },
    #[error("reading {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid JSON")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: reading the GGUF metadata")]
    Gguf {
        path: PathBuf,
        #[source]
        source: crate::models::ModelError,
    },
}

/// The plain rendering of a conversation: each message as `<|role|>`, a
/// newline, its content and a newline; with `generation_prompt`, then
/// `<|assistant|>` and a newline (the completion follows as it is).
pub fn plain(messages: &[Message], generation_prompt: bool) -> String {
    let mut s = String::new();
    for m in messages {
        s.push_str(&format!("<|{}|>\n{}\n", m.role, m.content));
    }
    if generation_prompt {
        s.push_str("<|assistant|>\n");
    }
    s
}

/// A model's chat template, ready to render.
pub struct ChatTemplate {
    env: minijinja::Environment<'static>,
    source: String,
    /// Where the template came from (for messages and the manifest).
    pub origin: PathBuf,
    tokens: Vec<(String, String)>,
}

impl std::fmt::Debug for ChatTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatTemplate")
            .field("origin", &self.origin)
            .finish()
    }
}

impl ChatTemplate {
    /// A template from its Jinja source and special tokens (name → text).
    pub fn new(source: String, origin: PathBuf, tokens: Vec<(String, String)>) -> Self {
        let mut env = minijinja::Environment::new();
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .expect("the default delimiters");
        env.set_syntax(syntax);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", |msg: String| -> Result<String, _> {
            Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                msg,
            ))
        });
        // A syntax error surfaces at the first render, with the row it was for.
        let _ = env.add_template_owned("chat", source.clone());
        Self {
            env,
            source,
            origin,
            tokens,
        }
    }

    /// The template of the model whose tokenizer is `tokenizer` (a
    /// `tokenizer.json`, or a `.gguf` file), if it has one.
    pub fn for_tokenizer(tokenizer: &Path) -> Result<Option<Self>, ChatError> {
        if crate::models::gguf::is_gguf(tokenizer) {
            return from_gguf(tokenizer);
        }
        let dir = tokenizer.parent().unwrap_or(Path::new("."));
        let config_path = dir.join("tokenizer_config.json");
        let config: Value = match std::fs::read_to_string(&config_path) {
            Ok(text) => serde_json::from_str(&text).map_err(|source| ChatError::Json {
                path: config_path.clone(),
                source,
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Value::Null,
            Err(source) => {
                return Err(ChatError::Read {
                    path: config_path,
                    source,
                })
            }
        };
        let tokens = special_tokens(&config);
        let jinja = dir.join("chat_template.jinja");
        if jinja.is_file() {
            let source = std::fs::read_to_string(&jinja).map_err(|source| ChatError::Read {
                path: jinja.clone(),
                source,
            })?;
            return Ok(Some(Self::new(source, jinja, tokens)));
        }
        let source = match config.get("chat_template") {
            Some(Value::String(s)) => Some(s.clone()),
            // A list of named templates: the `default` one.
            Some(Value::Array(list)) => list
                .iter()
                .find(|t| t.get("name").and_then(Value::as_str) == Some("default"))
                .and_then(|t| t.get("template").and_then(Value::as_str))
                .map(str::to_string),
            _ => None,
        };
        Ok(source.map(|s| Self::new(s, config_path, tokens)))
    }

    /// The template's Jinja source.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The conversation as the template writes it.
    pub fn render(
        &self,
        messages: &[Message],
        add_generation_prompt: bool,
    ) -> Result<String, ChatError> {
        let wrap = |source| ChatError::Template {
            origin: self.origin.clone(),
            source,
        };
        let template = match self.env.get_template("chat") {
            Ok(t) => t,
            Err(_) => {
                // Compile again to get the syntax error itself.
                let mut env = minijinja::Environment::new();
                let err = env
                    .add_template_owned("chat", self.source.clone())
                    .err()
                    .unwrap_or_else(|| {
                        minijinja::Error::new(
                            minijinja::ErrorKind::TemplateNotFound,
                            "the template did not compile",
                        )
                    });
                return Err(wrap(err));
            }
        };
        let mut ctx: std::collections::BTreeMap<minijinja::Value, minijinja::Value> = self
            .tokens
            .iter()
            .map(|(k, v)| (k.as_str().into(), v.as_str().into()))
            .collect();
        let messages: Vec<minijinja::Value> = messages
            .iter()
            .map(|m| {
                let map: std::collections::BTreeMap<minijinja::Value, minijinja::Value> =
                    [("role", m.role.as_str()), ("content", m.content.as_str())]
                        .into_iter()
                        .map(|(k, v)| (k.into(), v.into()))
                        .collect();
                minijinja::Value::from_object(map)
            })
            .collect();
        ctx.insert("messages".into(), minijinja::Value::from_object(messages));
        ctx.insert(
            "add_generation_prompt".into(),
            minijinja::Value::from(add_generation_prompt),
        );
        template
            .render(minijinja::Value::from_object(ctx))
            .map_err(wrap)
    }
}

/// `bos_token`, `eos_token`, `unk_token`, `pad_token` of a tokenizer config
/// (a string, or an added-token object with `content`).
fn special_tokens(config: &Value) -> Vec<(String, String)> {
    ["bos_token", "eos_token", "unk_token", "pad_token"]
        .iter()
        .filter_map(|&k| {
            let v = config.get(k)?;
            let text = v
                .as_str()
                .or_else(|| v.get("content").and_then(Value::as_str))?;
            Some((k.to_string(), text.to_string()))
        })
        .collect()
}

fn from_gguf(path: &Path) -> Result<Option<ChatTemplate>, ChatError> {
    let gguf = crate::models::gguf::GgufFile::open(path).map_err(|source| ChatError::Gguf {
        path: path.into(),
        source,
    })?;
    let meta = gguf.metadata();
    let Some(candle_core::quantized::gguf_file::Value::String(source)) =
        meta.get("tokenizer.chat_template").cloned()
    else {
        return Ok(None);
    };
    let tokens_list = match meta.get("tokenizer.ggml.tokens") {
        Some(candle_core::quantized::gguf_file::Value::Array(a)) => a
            .iter()
            .map(|v| v.to_string().ok().cloned().unwrap_or_default())
            .collect::<Vec<_>>(),
        _ => vec![],
    };
    let mut tokens = Vec::new();
    for (name, key) in [
        ("bos_token", "tokenizer.ggml.bos_token_id"),
        ("eos_token", "tokenizer.ggml.eos_token_id"),
        ("unk_token", "tokenizer.ggml.unknown_token_id"),
        ("pad_token", "tokenizer.ggml.padding_token_id"),
    ] {
        if let Some(t) =
            crate::models::gguf::meta_u64(meta, key).and_then(|id| tokens_list.get(id as usize))
        {
            tokens.push((name.to_string(), t.clone()));
        }
    }
    Ok(Some(ChatTemplate::new(source, path.into(), tokens)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_rendering_is_documented_layout() {
        let m = [Message::new("user", "Hi"), Message::new("assistant", "Yo")];
        assert_eq!(plain(&m, false), "<|user|>\nHi\n<|assistant|>\nYo\n");
        assert_eq!(plain(&m[..1], true), "<|user|>\nHi\n<|assistant|>\n");
    }

    #[test]
    fn renders_a_chatml_template_with_python_methods() {
        let src = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'].strip() }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
        let t = ChatTemplate::new(src.into(), "t".into(), vec![]);
        let m = [Message::new("user", " Hi ")];
        assert_eq!(
            t.render(&m, true).unwrap(),
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn syntax_and_raised_errors_are_errors() {
        let t = ChatTemplate::new("{% for %}".into(), "bad".into(), vec![]);
        let e = t.render(&[], false).unwrap_err();
        assert!(e.to_string().contains("bad"), "{e}");
        let t = ChatTemplate::new(
            "{{ raise_exception('no system role') }}".into(),
            "t".into(),
            vec![],
        );
        let e = t.render(&[], false).unwrap_err();
        let chain = format!("{:#}", anyhow::Error::from(e));
        assert!(chain.contains("no system role"), "{chain}");
    }
}
