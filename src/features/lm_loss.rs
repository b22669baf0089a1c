//! The model's own language-model loss over the probed positions, computed
//! in the same forward pass as the features: the cheapest baseline a
//! sceptic compares a feature against.
//!
//! Scored tokens: for every estimator position i of a document (the rows
//! the features use: with `per-order` positions, every position that has a
//! next token, 0 ≤ i ≤ L−2 of the kept tokens), the next token t_{i+1}
//! given t_0 … t_i. `loss` is the mean negative log-likelihood in nats per
//! scored token; `bits_per_byte` is the summed NLL in bits over the UTF-8
//! bytes of the text those scored tokens cover: per document, from the end
//! of the token at the first position to the end of the last scored token
//! (tokenizer byte offsets), so truncation and a BOS token (which covers
//! no text) are handled and tokenizers with different vocabularies compare.

use super::FeatureError;
use crate::models::{HiddenStates, Model};
use candle_core::Tensor;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Rows scored per LM-head call (bounds the logits buffer to rows × vocab).
const ROWS_PER_CALL: usize = 256;

/// Sums of the LM loss over the scored tokens of one model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LmLoss {
    /// Σ −ln p(t_{i+1} | t_≤i), nats.
    pub nll: f64,
    /// Scored tokens.
    pub tokens: u64,
    /// UTF-8 bytes of the text the scored tokens cover.
    pub bytes: u64,
}

impl LmLoss {
    /// Mean NLL per scored token, nats (NaN when nothing was scored).
    pub fn per_token(&self) -> f64 {
        if self.tokens == 0 {
            f64::NAN
        } else {
            self.nll / self.tokens as f64
        }
    }

    /// Bits per byte of the covered text (NaN when it is empty).
    pub fn bits_per_byte(&self) -> f64 {
        if self.bytes == 0 {
            f64::NAN
        } else {
            self.nll / std::f64::consts::LN_2 / self.bytes as f64
        }
    }
}

/// Bytes covered by the targets of positions `range` (t_{a+1} … t_b for
/// range a..b), from the documents' token byte ends.
pub fn covered_bytes(ends: &[usize], range: &Range<usize>) -> u64 {
    if range.is_empty() {
        return 0;
    }
    let (a, b) = (range.start, range.end);
    match (ends.get(a), ends.get(b)) {
        (Some(&from), Some(&to)) => to.saturating_sub(from) as u64,
        _ => 0,
    }
}

/// Adds the NLL of each gathered row's next token to `loss`. `z` holds the
/// rows (`row_of.len()` × `d`, f32) of the last hidden state as the sink saw
/// it; `row_of[r]` = (document, position).
pub fn score(
    model: &Model,
    convention: HiddenStates,
    z: &[f32],
    row_of: &[(usize, usize)],
    docs: &[Vec<u32>],
    loss: &mut LmLoss,
) -> Result<(), FeatureError> {
    let d = model.hidden_size();
    for (c, rows) in row_of.chunks(ROWS_PER_CALL).enumerate() {
        let start = c * ROWS_PER_CALL * d;
        let x = Tensor::from_slice(
            &z[start..start + rows.len() * d],
            (rows.len(), d),
            &candle_core::Device::Cpu,
        )?;
        let targets: Vec<u32> = rows.iter().map(|&(doc, pos)| docs[doc][pos + 1]).collect();
        let nll = model.next_token_nll(&x, &targets, convention)?;
        // one row at a time, in row order: the same sum in any batching
        for v in nll {
            loss.nll += v;
        }
        loss.tokens += rows.len() as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_those_of_the_scored_tokens() {
        // BOS (no text), then tokens ending at bytes 3, 7, 8, 12
        let ends = [0, 3, 7, 8, 12];
        // positions 0..4 score t_1 … t_4: the whole text
        assert_eq!(covered_bytes(&ends, &(0..4)), 12);
        // positions 1..3 score t_2, t_3: bytes 3..8
        assert_eq!(covered_bytes(&ends, &(1..3)), 5);
        assert_eq!(covered_bytes(&ends, &(2..2)), 0);
        let l = LmLoss {
            nll: 12.0 * std::f64::consts::LN_2,
            tokens: 4,
            bytes: 12,
        };
        assert!((l.bits_per_byte() - 1.0).abs() < 1e-15);
        assert!((l.per_token() - 3.0 * std::f64::consts::LN_2).abs() < 1e-15);
        assert!(LmLoss::default().bits_per_byte().is_nan());
    }
}
