//! Which zero ndarray's matrix product stores for an element whose chain of fused multiply-adds
//! ends at -0 (a product too small for the type, or sums of -0). ndarray multiplies with
//! matrixmultiply, which picks its kernel at run time and by the features of its build (its
//! `avx512` feature comes with nalgebra's defaults, so with the explorer): the FMA kernel stores
//! the first block of k as `1 × chain + 0`, which makes -0 into +0; the AVX-512 kernel stores
//! `1 × chain`, which keeps it. The kernels that copy its chains (`gram`, the SAE's sparse
//! decoding) ask which, once per process, with a product whose one term underflows to -0.
use ndarray::Array2;
use std::sync::OnceLock;

/// Whether ndarray's f64 product keeps a chain's -0 (see the module's documentation).
pub fn f64_product_keeps_negative_zero() -> bool {
    static KEEPS: OnceLock<bool> = OnceLock::new();
    *KEEPS.get_or_init(|| underflow_product(1e-200f64).is_sign_negative())
}

/// Whether ndarray's f32 product keeps a chain's -0 (see the module's documentation).
pub fn f32_product_keeps_negative_zero() -> bool {
    static KEEPS: OnceLock<bool> = OnceLock::new();
    *KEEPS.get_or_init(|| underflow_product(1e-30f32).is_sign_negative())
}

/// The first element of an 8 × 1 by 1 × 8 product of `tiny` by `-tiny`, whose one term
/// underflows to -0 (a whole tile, as the products that matter mostly are).
fn underflow_product<A>(tiny: A) -> A
where
    A: ndarray::LinalgScalar + std::ops::Neg<Output = A>,
{
    let rows = Array2::from_elem((8, 1), tiny);
    let columns = Array2::from_elem((1, 8), -tiny);
    rows.dot(&columns)[[0, 0]]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The answer is ndarray's own: a product of another shape (partial tiles, two blocks of
    /// k) whose element (5, 7) is a chain ending at -0 in each block agrees with the probe.
    #[test]
    fn the_probe_matches_the_products_it_stands_for() {
        assert_eq!(underflow_product(1e-200f64), 0.0);
        assert_eq!(underflow_product(1e-30f32), 0.0);
        fn last_in_each_block<A>(tiny: A) -> A
        where
            A: ndarray::LinalgScalar + std::ops::Neg<Output = A>,
        {
            let mut a = Array2::<A>::zeros((13, 300));
            let mut b = Array2::<A>::zeros((300, 11));
            for p in [255, 299] {
                a[[5, p]] = tiny;
                b[[p, 7]] = -tiny;
            }
            a.dot(&b)[[5, 7]]
        }
        let wide = last_in_each_block(1e-200f64);
        assert_eq!(wide, 0.0);
        assert_eq!(wide.is_sign_negative(), f64_product_keeps_negative_zero());
        let narrow = last_in_each_block(1e-30f32);
        assert_eq!(narrow, 0.0);
        assert_eq!(narrow.is_sign_negative(), f32_product_keeps_negative_zero());
    }
}
