//! The Gram matrix X Xᵀ of f64 rows, as ndarray's matrix product computes it, in about half
//! the time: only the tiles on and above the diagonal are computed, and the rest is mirrored.
//!
//! Same bits as `x.dot(&x.t())`. On a CPU with AVX2 and FMA, ndarray's product (matrixmultiply)
//! computes each element as one chain of fused multiply-adds over k, in blocks of 256 values of
//! k: the first block's chain is stored (as `1 × chain + 0` by its FMA kernel, as `1 × chain` by
//! its AVX-512 one: `crate::product_zeros` says which), each later one added to it. The kernel
//! here makes the same chain for every element, so element (i, j) and element (j, i) (the same
//! products, each multiplication's operands swapped) come out identical, and so do both
//! matrices. Elsewhere it calls ndarray's product.
use ndarray::{Array2, ArrayView2};

/// X Xᵀ for the rows of `x` (n x k -> n x n).
pub fn gram(x: ArrayView2<f64>) -> Array2<f64> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        let x = x.as_standard_layout();
        // SAFETY: the CPU has AVX2 and FMA, all that `upper_gram` needs.
        let mut gram = unsafe { fma::upper_gram(x.view()) };
        mirror_upper(&mut gram);
        return gram;
    }
    x.dot(&x.t())
}

/// Copies the upper triangle of a square matrix onto its lower one.
pub(crate) fn mirror_upper(gram: &mut Array2<f64>) {
    for i in 0..gram.nrows() {
        for j in 0..i {
            gram[[i, j]] = gram[[j, i]];
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod fma {
    use ndarray::{Array2, ArrayView2};
    use std::arch::x86_64::{
        __m256d, _mm256_add_pd, _mm256_fmadd_pd, _mm256_loadu_pd, _mm256_set1_pd,
        _mm256_setzero_pd, _mm256_storeu_pd,
    };

    /// Values of k per block, as matrixmultiply's f64 kernel takes them (its `D_KC`).
    const KC: usize = 256;
    /// Rows of a tile.
    const MR: usize = 6;
    /// Columns of a tile: two vectors of four.
    const NR: usize = 8;

    /// X Xᵀ for standard-layout `x`, correct on and above the diagonal (tiles that straddle it
    /// also fill some elements below; the rest below stay 0).
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn upper_gram(x: ArrayView2<f64>) -> Array2<f64> {
        let (n, k) = x.dim();
        let keep_negative_zero = crate::f64_product_keeps_negative_zero();
        let mut gram = Array2::<f64>::zeros((n, n));
        let rows = x.as_slice().expect("standard layout");
        let out = gram
            .as_slice_mut()
            .expect("a fresh array is in standard layout");
        let panels = n.div_ceil(NR);
        let mut packed_columns = vec![0.0f64; panels * KC.min(k) * NR];
        let mut packed_rows = [0.0f64; MR * KC];
        for k0 in (0..k).step_by(KC) {
            let kc = KC.min(k - k0);
            // Column panel p holds rows p NR.. of x, value by value of k: [k][NR].
            for (panel, packed) in packed_columns
                .chunks_exact_mut(kc * NR)
                .take(panels)
                .enumerate()
            {
                for c in 0..NR {
                    let j = panel * NR + c;
                    for p in 0..kc {
                        packed[p * NR + c] = if j < n { rows[j * k + k0 + p] } else { 0.0 };
                    }
                }
            }
            for i0 in (0..n).step_by(MR) {
                let height = MR.min(n - i0);
                for r in 0..MR {
                    for p in 0..kc {
                        packed_rows[p * MR + r] = if r < height {
                            rows[(i0 + r) * k + k0 + p]
                        } else {
                            0.0
                        };
                    }
                }
                // Tiles whose last column reaches the diagonal of this row block's first row.
                for panel in i0 / NR..panels {
                    let j0 = panel * NR;
                    let width = NR.min(n - j0);
                    let packed = &packed_columns[panel * kc * NR..(panel + 1) * kc * NR];
                    let tile = chains(kc, &packed_rows, packed);
                    for (r, row) in tile.iter().enumerate().take(height) {
                        let start = (i0 + r) * n + j0;
                        let first = (k0 == 0).then_some(keep_negative_zero);
                        store(row, &mut out[start..start + width], first);
                    }
                }
            }
        }
        gram
    }

    /// For each of the MR x NR elements of a tile, the chain acc = fma(a_p, b_p, acc) over the
    /// kc values of a block, from acc = 0.
    #[inline(always)]
    fn chains(kc: usize, rows: &[f64; MR * KC], columns: &[f64]) -> [[__m256d; 2]; MR] {
        // SAFETY (whole body): the caller is compiled with AVX2 and FMA; every load reads
        // within `columns` (kc NR values) or `rows` (kc MR values).
        unsafe {
            let mut acc = [[_mm256_setzero_pd(); 2]; MR];
            for p in 0..kc {
                let b = columns.as_ptr().add(p * NR);
                let (low, high) = (_mm256_loadu_pd(b), _mm256_loadu_pd(b.add(4)));
                for (r, acc) in acc.iter_mut().enumerate() {
                    let a = _mm256_set1_pd(rows[p * MR + r]);
                    acc[0] = _mm256_fmadd_pd(a, low, acc[0]);
                    acc[1] = _mm256_fmadd_pd(a, high, acc[1]);
                }
            }
            acc
        }
    }

    /// Stores a tile row's chains into `out` (up to NR elements). For the first block of k
    /// (`first` is `Some(keep_negative_zero)`), as the chain itself where matrixmultiply keeps
    /// -0, else as `chain + 0` (which turns a -0 chain into +0, as its `1 × chain + 0` does);
    /// for the others (`None`), added to what is there.
    #[inline(always)]
    fn store(chains: &[__m256d; 2], out: &mut [f64], first: Option<bool>) {
        let mut values = [0.0f64; NR];
        // SAFETY: `values` holds NR = 8 f64, two vectors of four; the caller has AVX2.
        unsafe {
            let zero = _mm256_setzero_pd();
            for (half, &chain) in chains.iter().enumerate() {
                let value = if first == Some(false) {
                    _mm256_add_pd(chain, zero)
                } else {
                    chain
                };
                _mm256_storeu_pd(values.as_mut_ptr().add(4 * half), value);
            }
        }
        for (o, &v) in out.iter_mut().zip(&values) {
            *o = if first.is_some() { v } else { *o + v };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(a: &Array2<f64>) -> Vec<u64> {
        a.iter().map(|v| v.to_bits()).collect()
    }

    /// The bits of ndarray's product, at sizes that leave partial tiles and (k > 256) several
    /// blocks of k, with signed zeros, a NaN and an infinity among the values.
    #[test]
    fn gram_gives_the_bits_of_the_matrix_product() {
        let wave = |i: usize| ((i * 2_654_435_761) % 1999) as f64 / 997.0 - 1.0;
        for (n, k) in [
            (1, 1),
            (7, 3),
            (13, 64),
            (100, 64),
            (61, 784),
            (9, 257),
            (5, 0),
        ] {
            let x = Array2::from_shape_fn((n, k), |(i, p)| wave(i * 7919 + p) * 1e3);
            assert_eq!(bits(&gram(x.view())), bits(&x.dot(&x.t())), "{n} x {k}");
            // A column-major copy reads the same rows.
            let f = x.t().as_standard_layout().into_owned().reversed_axes();
            assert_eq!(
                bits(&gram(f.view())),
                bits(&x.dot(&x.t())),
                "{n} x {k} column-major"
            );
        }
        let mut odd = Array2::from_shape_fn((11, 20), |(i, p)| wave(i * 31 + p));
        odd.row_mut(2).fill(-0.0);
        odd.row_mut(4).fill(0.0);
        odd[[6, 3]] = f64::NAN;
        odd[[8, 5]] = f64::INFINITY;
        // Products that underflow to -0: a chain of -0, stored as matrixmultiply's kernel
        // stores it (+0 by the FMA kernel, -0 by the AVX-512 one).
        odd.row_mut(9).fill(1e-200);
        odd.row_mut(10).fill(-1e-200);
        let (ours, theirs) = (gram(odd.view()), odd.dot(&odd.t()));
        assert!(ours[[2, 2]].to_bits() == 0 && ours[[6, 1]].is_nan());
        assert_eq!(ours[[9, 10]], 0.0);
        assert_eq!(
            ours[[9, 10]].is_sign_negative(),
            crate::f64_product_keeps_negative_zero()
        );
        assert_eq!(bits(&ours), bits(&theirs));
    }
}
