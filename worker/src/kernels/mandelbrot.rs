//! `mandelbrot`: escape-time iteration counts in f64, with no fma contraction.
//!
//! Pixel (px, py), row-major by py: `x0 = cx + (px − width/2)·scale`,
//! `y0 = cy + (py − height/2)·scale`; from `x = y = 0`, while `i < max_iter` and
//! `x·x + y·y ≤ 4`: `xt = x·x − y·y + x0; y = 2·x·y + y0; x = xt; i += 1`. Output: `i` as u32.
//! Rust never contracts `a * b + c` into an fma, and the CUDA source is compiled with
//! `--fmad=false`, so both backends round every operation separately.

use rayon::prelude::*;

pub fn escape(x0: f64, y0: f64, max_iter: u32) -> u32 {
    let (mut x, mut y, mut i) = (0.0f64, 0.0f64, 0u32);
    while i < max_iter && x * x + y * y <= 4.0 {
        let xt = x * x - y * y + x0;
        y = 2.0 * x * y + y0;
        x = xt;
        i += 1;
    }
    i
}

pub fn mandelbrot(
    width: u32,
    height: u32,
    cx: f64,
    cy: f64,
    scale: f64,
    max_iter: u32,
) -> Vec<u32> {
    let (w, h) = (width as usize, height as usize);
    let mut out = vec![0u32; w * h];
    out.par_chunks_mut(w).enumerate().for_each(|(py, row)| {
        let y0 = cy + (py as f64 - f64::from(height) / 2.0) * scale;
        for (px, v) in row.iter_mut().enumerate() {
            let x0 = cx + (px as f64 - f64::from(width) / 2.0) * scale;
            *v = escape(x0, y0, max_iter);
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_points_and_layout() {
        assert_eq!(escape(0.0, 0.0, 100), 100); // inside
        assert_eq!(escape(2.0, 2.0, 100), 1); // escapes after one step
        let img = mandelbrot(4, 3, -0.5, 0.0, 0.5, 50);
        assert_eq!(img.len(), 12);
        for py in 0..3 {
            for px in 0..4 {
                let x0 = -0.5 + (px as f64 - 2.0) * 0.5;
                let y0 = (py as f64 - 1.5) * 0.5;
                assert_eq!(img[py * 4 + px], escape(x0, y0, 50));
            }
        }
    }
}
