//! Gemma 3 (text, `gemma3_text`): Gemma 2's sandwich norms, scaled
//! embeddings and (1 + w) RMSNorm, plus RMSNorm of each q and k head
//! (also (1 + w)) before rotary embeddings, sliding-window attention on five
//! layers of every six (`layer_types`, or `sliding_window_pattern`), and a
//! separate rotary base for the sliding layers (`rope_local_base_freq`, or
//! `rope_parameters.sliding_attention`). No soft-capping by default.

use crate::models::config::{rope_scaling_of, Json, ModelConfig, QkNorm, RopeScaling};

pub fn parse(j: &Json) -> Result<ModelConfig, String> {
    let mut cfg = super::gemma2::parse(j)?;
    cfg.model_type = "gemma3_text".into();
    cfg.qk_norm = QkNorm::PerHead;
    cfg.query_pre_attn_scalar = j.f64_or("query_pre_attn_scalar", 256.0);
    if j.0.get("layer_types").is_none() {
        let window = j.opt_usize("sliding_window");
        let pattern = j.opt_usize("sliding_window_pattern").unwrap_or(6).max(1);
        cfg.sliding_window = (0..cfg.num_layers)
            .map(|i| if (i + 1) % pattern != 0 { window } else { None })
            .collect();
    }
    let per_type =
        j.0.get("rope_parameters")
            .filter(|p| p.get("full_attention").is_some() || p.get("sliding_attention").is_some());
    let (global, local) = match per_type {
        // transformers 5: one rope_parameters object per layer type
        Some(p) => {
            let part = |name: &str| -> Result<(f64, RopeScaling), String> {
                match p.get(name) {
                    Some(v) => Ok((
                        Json(v).f64_or("rope_theta", default_theta(name)),
                        rope_scaling_of(v)?,
                    )),
                    None => Ok((default_theta(name), RopeScaling::None)),
                }
            };
            (part("full_attention")?, part("sliding_attention")?)
        }
        // hub configs: rope_theta and rope_scaling for global layers,
        // rope_local_base_freq (unscaled) for sliding ones
        None => (
            (j.f64_or("rope_theta", 1_000_000.0), j.rope_scaling()?),
            (
                j.f64_or("rope_local_base_freq", 10_000.0),
                RopeScaling::None,
            ),
        ),
    };
    (cfg.rope_theta, cfg.rope_scaling) = global;
    cfg.local_rope = Some(local);
    Ok(cfg)
}

fn default_theta(layer_type: &str) -> f64 {
    if layer_type == "sliding_attention" {
        10_000.0
    } else {
        1_000_000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(extra: serde_json::Value) -> ModelConfig {
        let mut j = serde_json::json!({
            "model_type": "gemma3_text", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 16,
            "num_hidden_layers": 7, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 4,
            "sliding_window": 3
        });
        j.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        parse(&Json(&j)).unwrap()
    }

    #[test]
    fn hub_config_form() {
        let c = cfg(
            serde_json::json!({"rope_theta": 1e6, "rope_local_base_freq": 1e4,
                                       "rope_scaling": {"rope_type": "linear", "factor": 8.0}}),
        );
        assert_eq!(
            c.sliding_window,
            vec![Some(3), Some(3), Some(3), Some(3), Some(3), None, Some(3)]
        );
        assert_eq!(
            (c.rope_theta, c.rope_scaling.clone()),
            (1e6, RopeScaling::Linear { factor: 8.0 })
        );
        assert_eq!(c.local_rope, Some((1e4, RopeScaling::None)));
        assert_eq!(
            (c.qk_norm, c.query_pre_attn_scalar),
            (QkNorm::PerHead, 256.0)
        );
        assert_eq!(
            (c.attn_logit_softcapping, c.final_logit_softcapping),
            (None, None)
        );
    }

    #[test]
    fn transformers_5_form() {
        let c = cfg(serde_json::json!({
            "layer_types": ["sliding_attention", "full_attention", "sliding_attention", "sliding_attention",
                            "sliding_attention", "sliding_attention", "full_attention"],
            "rope_parameters": {"full_attention": {"rope_type": "linear", "factor": 2.0, "rope_theta": 5e5},
                                "sliding_attention": {"rope_type": "default", "rope_theta": 2e4}}}));
        assert_eq!(c.sliding_window[..2], [Some(3), None]);
        assert_eq!(
            (c.rope_theta, c.rope_scaling.clone()),
            (5e5, RopeScaling::Linear { factor: 2.0 })
        );
        assert_eq!(c.local_rope, Some((2e4, RopeScaling::None)));
    }
}
