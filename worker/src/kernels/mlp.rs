//! `mlp_f32`: a dense network. Layer l maps width `s_l` to `s_{l+1}`:
//! `Y = relu(fold_k fma(X[i][k], W[k][j], +0.0) + b[j])` — the matmul in k order, then the bias
//! add (one rounding), then `relu(v) = if v > 0 { v } else { +0.0 }` (so −0.0 and NaN become +0.0).
//! Every layer, the last included, applies the ReLU, as the catalogue defines (docs/protocol.md).
//!
//! Input blob: for each layer, `W_l` (s_l × s_{l+1}) then `b_l` (s_{l+1}); then `X` (batch × s_0).

use super::matmul::matmul_f32;

pub fn relu(v: f32) -> f32 {
    if v > 0.0 {
        v
    } else {
        0.0
    }
}

/// Where one layer's parameters sit in the input blob (offsets in floats).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layer {
    pub inputs: usize,
    pub outputs: usize,
    pub weights: usize,
    pub bias: usize,
}

/// The layers of a network with widths `sizes`, and the offset of the input batch X.
pub fn layout(sizes: &[u32]) -> (Vec<Layer>, usize) {
    let mut off = 0;
    let layers = sizes
        .windows(2)
        .map(|w| {
            let (inputs, outputs) = (w[0] as usize, w[1] as usize);
            let layer = Layer {
                inputs,
                outputs,
                weights: off,
                bias: off + inputs * outputs,
            };
            off += inputs * outputs + outputs;
            layer
        })
        .collect();
    (layers, off)
}

/// Runs the network; `floats` is the whole input blob.
pub fn mlp_f32(floats: &[f32], batch: usize, sizes: &[u32]) -> Vec<f32> {
    let (layers, x_off) = layout(sizes);
    let mut x = floats[x_off..x_off + batch * sizes[0] as usize].to_vec();
    for Layer {
        inputs: inp,
        outputs: out,
        weights: wo,
        bias: bo,
    } in layers
    {
        let weights = &floats[wo..wo + inp * out];
        let bias = &floats[bo..bo + out];
        let mut y = matmul_f32(&x, weights, batch, out, inp);
        for row in y.chunks_mut(out) {
            for (v, b) in row.iter_mut().zip(bias) {
                *v = relu(*v + *b);
            }
        }
        x = y;
    }
    x
}

/// The definition, element by element.
pub fn mlp_f32_reference(floats: &[f32], batch: usize, sizes: &[u32]) -> Vec<f32> {
    let sizes: Vec<usize> = sizes.iter().map(|&s| s as usize).collect();
    let mut off = 0;
    let mut params = vec![];
    for w in sizes.windows(2) {
        params.push((off, off + w[0] * w[1]));
        off += w[0] * w[1] + w[1];
    }
    let mut x = floats[off..off + batch * sizes[0]].to_vec();
    for (l, w) in sizes.windows(2).enumerate() {
        let (inp, out) = (w[0], w[1]);
        let (wo, bo) = params[l];
        let mut y = vec![0.0f32; batch * out];
        for i in 0..batch {
            for j in 0..out {
                let acc = (0..inp).fold(0.0f32, |acc, k| {
                    x[i * inp + k].mul_add(floats[wo + k * out + j], acc)
                });
                y[i * out + j] = relu(acc + floats[bo + j]);
            }
        }
        x = y;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn matches_the_definition_bit_for_bit() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for sizes in [
            vec![1u32, 1],
            vec![7, 5, 3],
            vec![16, 33, 8, 4],
            vec![3; 14],
        ] {
            for batch in [1usize, 6] {
                let n: usize = sizes
                    .windows(2)
                    .map(|w| (w[0] * w[1] + w[1]) as usize)
                    .sum::<usize>()
                    + batch * sizes[0] as usize;
                let floats: Vec<f32> = (0..n).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
                let fast = mlp_f32(&floats, batch, &sizes);
                let slow = mlp_f32_reference(&floats, batch, &sizes);
                assert_eq!(fast.len(), batch * *sizes.last().unwrap() as usize);
                assert!(
                    fast.iter()
                        .zip(&slow)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{sizes:?} {batch}"
                );
            }
        }
    }

    #[test]
    fn relu_canonicalises_zero_and_nan() {
        assert_eq!(relu(-0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(relu(f32::NAN).to_bits(), 0.0f32.to_bits());
        assert_eq!(relu(2.5), 2.5);
    }
}
