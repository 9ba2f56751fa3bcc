//! Every random draw in training, with a fixed algorithm so a seed means the same run everywhere.
//!
//! Generator: `rand_chacha::ChaCha8Rng::seed_from_u64(seed)` with one ChaCha stream
//! (`set_stream`) per purpose, so that changing how many numbers one purpose draws never shifts
//! another. Floats and indices are derived here from raw `next_u32`/`next_u64` output rather than
//! through `rand`'s distributions, whose exact algorithms may change between `rand` versions.
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What a stream is used for; the discriminant is the ChaCha stream number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// The MLP's initial weights.
    MlpInit = 0,
    /// The order of the MLP's training examples, epoch by epoch.
    MlpShuffle = 1,
    /// The SAE's initial weights.
    SaeInit = 2,
    /// The order of the SAE's training examples, epoch by epoch.
    SaeShuffle = 3,
}

/// The generator for one purpose of a run with seed `seed`.
pub fn stream_rng(seed: u64, stream: Stream) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream as u64);
    rng
}

/// Uniform in [low, high): the top 24 bits of one `next_u32` give u in [0, 1) exactly
/// representable in f32, mapped to low + (high - low) u.
pub fn uniform_f32(rng: &mut ChaCha8Rng, low: f32, high: f32) -> f32 {
    let unit = (rng.next_u32() >> 8) as f32 * (1.0 / (1u32 << 24) as f32);
    low + (high - low) * unit
}

/// Uniform integer in [0, bound) for bound > 0, without bias: Lemire's multiply-shift with
/// rejection on one `next_u64` per try.
fn index_below(rng: &mut ChaCha8Rng, bound: u64) -> u64 {
    let threshold = bound.wrapping_neg() % bound;
    loop {
        let product = u128::from(rng.next_u64()) * u128::from(bound);
        if (product as u64) >= threshold {
            return (product >> 64) as u64;
        }
    }
}

/// Fisher–Yates shuffle from the last position down, each swap partner drawn by `index_below`.
pub fn shuffle(rng: &mut ChaCha8Rng, items: &mut [usize]) {
    for last in (1..items.len()).rev() {
        let other = index_below(rng, last as u64 + 1) as usize;
        items.swap(last, other);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_and_repeat() {
        let draw = |stream| {
            let mut rng = stream_rng(7, stream);
            (0..4).map(|_| rng.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(Stream::MlpInit), draw(Stream::MlpInit));
        assert_ne!(draw(Stream::MlpInit), draw(Stream::MlpShuffle));
        assert_ne!(draw(Stream::SaeInit), draw(Stream::SaeShuffle));
    }

    #[test]
    fn uniform_stays_in_range_and_covers_it() {
        let mut rng = stream_rng(1, Stream::MlpInit);
        let draws: Vec<f32> = (0..10_000)
            .map(|_| uniform_f32(&mut rng, -0.5, 0.25))
            .collect();
        assert!(draws.iter().all(|&v| (-0.5..0.25).contains(&v)));
        let mean = draws.iter().sum::<f32>() / draws.len() as f32;
        assert!((mean + 0.125).abs() < 0.01, "mean {mean}");
        assert!(draws.iter().any(|&v| v < -0.49) && draws.iter().any(|&v| v > 0.24));
    }

    #[test]
    fn shuffle_is_a_permutation_and_roughly_uniform() {
        let mut rng = stream_rng(3, Stream::MlpShuffle);
        // Where item 0 lands over many shuffles of 4 items: each position about 1/4 of the time.
        let mut landed = [0usize; 4];
        for _ in 0..8000 {
            let mut items: Vec<usize> = (0..4).collect();
            shuffle(&mut rng, &mut items);
            let mut sorted = items.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, vec![0, 1, 2, 3]);
            landed[items.iter().position(|&v| v == 0).unwrap()] += 1;
        }
        assert!(
            landed.iter().all(|&count| (1800..2200).contains(&count)),
            "{landed:?}"
        );
    }
}
