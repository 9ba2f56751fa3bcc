//! The sparse auto-encoder d -> m -> d with a pre-encoder bias, and its training as separate
//! calls (llm.c style): `forward`, `gradients` of a weighted sum of loss terms, and `update` by
//! any `Optimizer`, with the unit-norm decoder constraint as an option.
use crate::SaeInit;
use crate::error::ModelError;
#[cfg(target_arch = "x86_64")]
use crate::ops::dot_avx2;
use crate::ops::{
    bias_relu, dot, nonzero_positions, positive_positions, relu_value, transpose_times, transposed,
};
use crate::optim::Optimizer;
use crate::parallel::map_row_ranges;
use crate::rng::uniform_f32;
use crate::weights::{self, WeightFile};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewD, ArrayViewMutD, Axis, s};
use ne_embed::{NeReduction, weighted_row_sums};
use rand_chacha::ChaCha8Rng;

/// The SAE's parameters: f = ReLU(W_enc (h - b_dec) + b_enc), h_hat = W_dec f + b_dec.
#[derive(Debug, Clone, PartialEq)]
pub struct Sae {
    /// m x d.
    pub w_enc: Array2<f32>,
    /// m.
    pub b_enc: Array1<f32>,
    /// d x m; each column of unit L2 norm when trained with the unit-norm constraint, of any
    /// norm otherwise or in an SAE loaded from elsewhere.
    pub w_dec: Array2<f32>,
    /// d; subtracted before encoding, added after decoding.
    pub b_dec: Array1<f32>,
}

/// d loss / d parameters of an `Sae`, same shapes as the parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SaeGradients {
    /// m x d.
    pub w_enc: Array2<f32>,
    /// m.
    pub b_enc: Array1<f32>,
    /// d x m.
    pub w_dec: Array2<f32>,
    /// d.
    pub b_dec: Array1<f32>,
}

/// How one step's loss weighs its parts (from the loss-term list, see `LossTerm`): the squared
/// error, the L1 penalty, and the NE loss when it is on for this step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SaeLossWeights {
    /// Weight of the mean over the batch of ||h_hat - h||².
    pub mse: f32,
    /// Weight of the mean over the batch of Σ_j f_j.
    pub l1: f32,
    /// Weight of the NE loss; `None` leaves it uncomputed.
    pub ne: Option<f32>,
    /// How the NE loss combines its latents.
    pub ne_reduction: NeReduction,
}

/// One loss term's value in a step, unweighted, by name (as SAELens reports its losses).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NamedLoss {
    /// `mse`, `l1` or `ne`.
    pub name: &'static str,
    /// The term before weighting.
    pub value: f32,
    /// Its weight in the total.
    pub weight: f32,
}

/// A batch's latents and reconstruction.
#[derive(Debug, Clone, PartialEq)]
pub struct SaeForward {
    /// f (n x m).
    pub latents: Array2<f32>,
    /// h_hat (n x d).
    pub reconstruction: Array2<f32>,
}

/// The loss parts of one batch, unweighted, measured before its update.
#[derive(Debug, Clone, PartialEq)]
pub struct SaeStepStats {
    /// Mean over the batch of ||h_hat - h||² (summed over the d dimensions).
    pub squared_error: f32,
    /// Mean over the batch of sum_j f_j.
    pub l1: f32,
    /// The NE loss, when it was on.
    pub ne: Option<f32>,
    /// The loss that was differentiated: w_mse squared_error + w_L1 l1 + w_NE ne.
    pub total: f32,
    /// Every term that was on, by name, with its weight.
    pub losses: Vec<NamedLoss>,
    /// Per latent, the examples of the batch with f_j > 0.
    pub firing: Array1<u32>,
}

/// A batch's loss parts and the gradient of its weighted total.
#[derive(Debug, Clone)]
pub struct SaeBatch {
    /// The loss parts, measured before any update.
    pub stats: SaeStepStats,
    /// The gradient of `stats.total`.
    pub grads: SaeGradients,
}

/// Rows per chunk of a batch: chunks are encoded and backpropagated in parallel and their
/// gradients summed in chunk order (the NE loss then sees the whole batch).
pub(crate) const CHUNK_ROWS: usize = 64;

/// A chunk's rows of a batch: h, h - b_dec (standard layout) and the latents f (standard
/// layout).
#[derive(Clone, Copy)]
struct Chunk<'a> {
    h: ArrayView2<'a, f32>,
    centered: ArrayView2<'a, f32>,
    f: ArrayView2<'a, f32>,
}

/// One chunk's forward and backward pass, before the batch-level parts are added.
struct ChunkPass {
    activity: ChunkActivity,
    sums: ChunkSums,
}

/// What the NE loss needs of a chunk: its active (row, value) pairs, latent by latent.
struct ChunkActivity {
    by_latent: ActivePairs,
}

/// What a batch activated: the examples each latent is active for, and h - b_dec.
pub(crate) struct BatchActivity {
    /// Per latent, the batch's rows with f > 0, ascending.
    pub(crate) active: ne_embed::ActiveSets,
    /// h - b_dec (n x d).
    pub(crate) centered: Array2<f32>,
}

impl BatchActivity {
    /// The batch's activity from its chunks' (in order) and its h - b_dec.
    fn of(chunks: &[ChunkActivity], latents: usize, centered: Array2<f32>) -> Self {
        // Latent j's active rows of the batch: each chunk's, offset by the rows before it.
        let active = ne_embed::ActiveSets::from_sets((0..latents).map(|j| {
            chunks.iter().enumerate().flat_map(move |(c, chunk)| {
                let pairs = chunk.by_latent.of_row(j);
                pairs.iter().map(move |&(i, _)| c * CHUNK_ROWS + i)
            })
        }));
        Self { active, centered }
    }
}

/// What a batch adds up over its chunks.
struct ChunkSums {
    /// Sum over rows of ||h_hat - h||².
    squared_error: f32,
    /// Sum over rows of sum_j f_j.
    l1: f32,
    firing: Array1<u32>,
    grad_w_enc: Array2<f32>,
    grad_b_enc: Array1<f32>,
    /// d loss / d W_dec transposed (m x d), so that each latent's gradient is a contiguous row.
    grad_decoder_rows: Array2<f32>,
    /// The decoder bias's gradient (the encoder's share is added for the whole batch).
    grad_b_dec: Array1<f32>,
}

impl ChunkSums {
    fn add(&mut self, other: &Self) {
        self.squared_error += other.squared_error;
        self.l1 += other.l1;
        self.firing += &other.firing;
        self.grad_w_enc += &other.grad_w_enc;
        self.grad_b_enc += &other.grad_b_enc;
        self.grad_decoder_rows += &other.grad_decoder_rows;
        self.grad_b_dec += &other.grad_b_dec;
    }
}

/// An SAE ready to decode block after block of sparse latents: `Sae::sparse_decoder`.
pub struct SparseDecoder<'a> {
    sae: &'a Sae,
    /// The decoder's rows (m x d) where the sparse path applies (see `Sae::decode_sparse`).
    decoder_rows: Option<Array2<f32>>,
}

impl SparseDecoder<'_> {
    /// `Sae::decode_sparse(f)`, the same bits.
    pub fn decode(&self, f: ArrayView2<f32>) -> Array2<f32> {
        match &self.decoder_rows {
            // SAFETY: the rows are kept only where the CPU has AVX2 and FMA, all that
            // `decode_sparse_fma` needs.
            #[cfg(target_arch = "x86_64")]
            Some(rows) => unsafe { self.sae.decode_sparse_fma(rows, f) },
            _ => self.sae.decode(f),
        }
    }
}

const NAMES: [&str; 4] = ["W_enc", "b_enc", "W_dec", "b_dec"];

impl Sae {
    /// A fresh SAE for `inputs` (d) dimensions and `latents` (m) latents: decoder columns drawn
    /// uniform in [-1, 1)^d (row-major over the d x m matrix) and scaled to unit norm; the encoder
    /// is the decoder's transpose times d/m, so each latent starts reading the direction it
    /// writes and W_dec W_enc ≈ identity (m random unit columns give W_dec W_dec^T ≈ (m/d) I);
    /// both biases zero. Without the d/m factor the first reconstructions overshoot m/d-fold and
    /// one epoch of Adam does not recover (MNIST test MSE 0.63 instead of 0.31).
    pub fn init(inputs: usize, latents: usize, rng: &mut ChaCha8Rng) -> Self {
        let w_dec = Array2::from_shape_simple_fn((inputs, latents), || uniform_f32(rng, -1.0, 1.0));
        let mut sae = Self {
            w_enc: Array2::zeros((latents, inputs)),
            b_enc: Array1::zeros(latents),
            w_dec,
            b_dec: Array1::zeros(inputs),
        };
        sae.normalise_decoder_columns();
        sae.w_enc
            .assign(&(&sae.w_dec.t() * (inputs as f32 / latents as f32)));
        sae
    }

    /// A fresh SAE as PyTorch would start one: W_enc as `nn.Linear(inputs, latents)` draws its
    /// weight (uniform in ±1/√inputs, row-major), b_enc = 0, W_dec = W_encᵀ with each column
    /// scaled to unit norm, b_dec = 0.
    pub fn init_pytorch_default(inputs: usize, latents: usize, rng: &mut ChaCha8Rng) -> Self {
        let bound = 1.0 / (inputs as f32).sqrt();
        let w_enc =
            Array2::from_shape_simple_fn((latents, inputs), || uniform_f32(rng, -bound, bound));
        let mut sae = Self {
            w_dec: w_enc.t().to_owned(),
            w_enc,
            b_enc: Array1::zeros(latents),
            b_dec: Array1::zeros(inputs),
        };
        sae.normalise_decoder_columns();
        sae
    }

    /// A fresh SAE as an untied pair `nn.Linear(inputs, latents)`, `nn.Linear(latents, inputs)`
    /// starts in PyTorch: each weight uniform in ±1/√fan_in (kaiming-uniform with a = √5), each
    /// bias uniform in the same bound, drawn in the order encoder weight, encoder bias, decoder
    /// weight, decoder bias (row-major). The pair computes ReLU(W_e h + b_e) with no pre-encoder
    /// bias, so b_enc = b_e + W_e b_d makes this SAE compute exactly the same function.
    pub fn init_pytorch_linear_pair(inputs: usize, latents: usize, rng: &mut ChaCha8Rng) -> Self {
        let mut uniform = |shape: (usize, usize), fan_in: usize| {
            let bound = 1.0 / (fan_in as f32).sqrt();
            Array2::from_shape_simple_fn(shape, || uniform_f32(rng, -bound, bound))
        };
        let w_enc = uniform((latents, inputs), inputs);
        let b_e = uniform((1, latents), inputs).remove_axis(Axis(0));
        let w_dec = uniform((inputs, latents), latents);
        let b_dec = uniform((1, inputs), latents).remove_axis(Axis(0));
        Self {
            b_enc: b_e + w_enc.dot(&b_dec),
            w_enc,
            w_dec,
            b_dec,
        }
    }

    /// A fresh SAE started the way `init` names.
    pub fn new(init: SaeInit, inputs: usize, latents: usize, rng: &mut ChaCha8Rng) -> Self {
        match init {
            SaeInit::ScaledTranspose => Self::init(inputs, latents, rng),
            SaeInit::PytorchDefault => Self::init_pytorch_default(inputs, latents, rng),
            SaeInit::PytorchLinearPair => Self::init_pytorch_linear_pair(inputs, latents, rng),
        }
    }

    /// Input dimensions d.
    pub fn inputs(&self) -> usize {
        self.w_dec.nrows()
    }

    /// Latents m.
    pub fn latents(&self) -> usize {
        self.w_dec.ncols()
    }

    /// Latents f = ReLU(W_enc (h - b_dec) + b_enc) for rows of `h` (n x d -> n x m).
    pub fn encode(&self, h: ArrayView2<f32>) -> Array2<f32> {
        let centered = &h - &self.b_dec;
        bias_relu(centered.dot(&self.w_enc.t()), &self.b_enc)
    }

    /// `encode(h)` transposed (m x n, latent by latent), from the rows already centred
    /// (`centered` = h - b_dec), with the same bits: each element is the same chain of products
    /// over the inputs (each product's operands swapped), then the same bias and ReLU. Computed
    /// in that layout, so a caller that reads latent by latent needs no transpose of an n x m
    /// matrix.
    pub fn encode_transposed(&self, centered: ArrayView2<f32>) -> Array2<f32> {
        let mut latents = self.w_enc.dot(&centered.t());
        for (mut row, &b) in latents.outer_iter_mut().zip(&self.b_enc) {
            row.mapv_inplace(|v| relu_value(v + b));
        }
        latents
    }

    /// Reconstruction h_hat = W_dec f + b_dec for rows of `f` (n x m -> n x d).
    pub fn decode(&self, f: ArrayView2<f32>) -> Array2<f32> {
        f.dot(&self.w_dec.t()) + &self.b_dec
    }

    /// `decode(f)`, the same bits, reading only the latents of each row that are not zero (most
    /// of them are, in a sparse code).
    ///
    /// On a CPU with AVX2 and FMA, ndarray's product (matrixmultiply) computes each output as one
    /// chain of fused multiply-adds over the latents, in blocks of 256: the first block's chain
    /// is stored (as `chain + 0` by its FMA kernel, as the chain itself by its AVX-512 one:
    /// `ne_embed::product_zeros` says which), each later one added to it. A zero latent's step
    /// leaves a chain as it is, except that it may turn a -0 chain into +0; so a chain here,
    /// which skips those steps, equals the full one or is -0 where that is +0. `chain + 0` and
    /// the later additions make every zero +0 alike; where the product keeps -0, a chain that
    /// ends at -0 is redone in full. A decoder with a non-finite weight (0 × ∞ is NaN) is
    /// decoded in full. Elsewhere this is `decode`.
    pub fn decode_sparse(&self, f: ArrayView2<f32>) -> Array2<f32> {
        self.sparse_decoder().decode(f)
    }

    /// What `decode_sparse` prepares from the weights, for decoding many blocks of rows with
    /// the same SAE: the decoder's rows, and whether the sparse path applies.
    pub fn sparse_decoder(&self) -> SparseDecoder<'_> {
        #[cfg(target_arch = "x86_64")]
        let sparse = std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
            && self.w_dec.iter().all(|w| w.is_finite());
        #[cfg(not(target_arch = "x86_64"))]
        let sparse = false;
        SparseDecoder {
            sae: self,
            decoder_rows: sparse.then(|| transposed(self.w_dec.view())),
        }
    }

    /// `decode_sparse` with the decoder's rows (`decoder_rows`, m x d) already transposed.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn decode_sparse_fma(&self, decoder_rows: &Array2<f32>, f: ArrayView2<f32>) -> Array2<f32> {
        /// Latents per block of matrixmultiply's f32 kernel (its `S_KC`).
        const BLOCK: usize = 256;
        let (latents, inputs) = (self.latents(), self.inputs());
        assert_eq!(f.ncols(), latents, "decode_sparse: one column per latent");
        let decoder = decoder_rows.as_slice().expect("standard layout");
        let decoder_row = |j: usize| &decoder[j * inputs..(j + 1) * inputs];
        let f = f.as_standard_layout();
        let mut out = Array2::<f32>::zeros((f.nrows(), inputs));
        let mut chain = vec![0.0f32; inputs];
        let mut nonzero = Vec::with_capacity(BLOCK);
        let keep_negative_zero = ne_embed::f32_product_keeps_negative_zero();
        for (f_row, mut out_row) in f.outer_iter().zip(out.outer_iter_mut()) {
            let f_row = f_row.to_slice().expect("standard layout");
            let out_row = out_row.as_slice_mut().expect("standard layout");
            for (block, values) in f_row.chunks(BLOCK).enumerate() {
                let first = block * BLOCK;
                nonzero.clear();
                nonzero_positions(values, &mut nonzero);
                // Outputs WIDE at a time, their chains held in registers across the latents.
                const WIDE: usize = 64;
                let mut outputs = chain.chunks_exact_mut(WIDE);
                for (group, chains) in outputs.by_ref().enumerate() {
                    // SAFETY: the CPU has AVX2 and FMA; each load reads WIDE values of a decoder
                    // row from output `group * WIDE` on, within its `inputs`.
                    unsafe {
                        use std::arch::x86_64::{
                            __m256, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_set1_ps,
                            _mm256_setzero_ps, _mm256_storeu_ps,
                        };
                        let mut acc: [__m256; WIDE / 8] = [_mm256_setzero_ps(); WIDE / 8];
                        for &j in &nonzero {
                            let a = _mm256_set1_ps(values[j]);
                            let w = decoder_row(first + j)[group * WIDE..].as_ptr();
                            for (v, acc) in acc.iter_mut().enumerate() {
                                *acc = _mm256_fmadd_ps(a, _mm256_loadu_ps(w.add(8 * v)), *acc);
                            }
                        }
                        for (v, acc) in acc.iter().enumerate() {
                            _mm256_storeu_ps(chains[8 * v..].as_mut_ptr(), *acc);
                        }
                    }
                }
                let done = inputs - outputs.into_remainder().len();
                chain[done..].fill(0.0);
                for &j in &nonzero {
                    for (c, &w) in chain[done..]
                        .iter_mut()
                        .zip(&decoder_row(first + j)[done..])
                    {
                        *c = values[j].mul_add(w, *c);
                    }
                }
                if keep_negative_zero {
                    // Where the product keeps -0, a chain that ends at -0 here may end at +0
                    // in full (a zero latent's step turns -0 into +0 unless its product is -0;
                    // it never turns +0 into -0): such an output's chain is redone over every
                    // latent of the block.
                    for (k, c) in chain.iter_mut().enumerate() {
                        if c.to_bits() == (-0.0f32).to_bits() {
                            *c = values
                                .iter()
                                .enumerate()
                                .fold(0.0, |c, (j, &v)| v.mul_add(decoder_row(first + j)[k], c));
                        }
                    }
                }
                for (o, &c) in out_row.iter_mut().zip(&chain) {
                    *o = match (block, keep_negative_zero) {
                        (0, true) => c,
                        (0, false) => c + 0.0,
                        _ => *o + c,
                    };
                }
            }
        }
        out + &self.b_dec
    }

    /// The forward pass of a batch `h` (n x d): latents and reconstruction.
    pub fn forward(&self, h: ArrayView2<f32>) -> SaeForward {
        let latents = self.encode(h);
        let reconstruction = self.decode(latents.view());
        SaeForward {
            latents,
            reconstruction,
        }
    }

    /// The weighted loss of a batch `h` (n x d), its parts and its gradient (see
    /// `batch_gradients` below for the derivation). Leaves the SAE untouched.
    ///
    /// # Errors
    /// `ModelError::InputWidth` when `h` does not have d columns, `ModelError::EmptyBatch` when
    /// it has no rows.
    pub fn gradients(
        &self,
        h: ArrayView2<f32>,
        weights: SaeLossWeights,
    ) -> Result<SaeBatch, ModelError> {
        Ok(self.gradients_and_activity(h, weights, false)?.0)
    }

    /// `gradients`, and with `keep_activity` what the batch activated (for a loss term added
    /// outside, such as the NE loss's running-mean form).
    pub(crate) fn gradients_and_activity(
        &self,
        h: ArrayView2<f32>,
        weights: SaeLossWeights,
        keep_activity: bool,
    ) -> Result<(SaeBatch, Option<BatchActivity>), ModelError> {
        if h.ncols() != self.inputs() {
            return Err(ModelError::InputWidth {
                expected: self.inputs(),
                found: h.ncols(),
            });
        }
        if h.nrows() == 0 {
            return Err(ModelError::EmptyBatch);
        }
        Ok(self.batch_gradients(h, weights, keep_activity))
    }

    /// One optimiser update from `grads`. With `unit_norm_decoder`, the decoder gradient is
    /// first projected onto the tangent of the unit sphere column by column and the columns are
    /// renormalised after the update, so they stay of unit norm.
    pub fn update(
        &mut self,
        optimizer: &mut dyn Optimizer,
        mut grads: SaeGradients,
        unit_norm_decoder: bool,
    ) {
        if unit_norm_decoder {
            self.project_decoder_gradient(&mut grads.w_dec);
        }
        optimizer.step(&mut self.params_mut(), &grads.views());
        if unit_norm_decoder {
            self.normalise_decoder_columns();
        }
    }

    /// One training step on the batch `h` (n x d): `gradients`, then, if the loss is finite,
    /// `update`. A non-finite loss leaves the SAE and the optimiser untouched (the caller
    /// decides what to do).
    ///
    /// # Errors
    /// As `gradients`.
    pub fn train_step(
        &mut self,
        optimizer: &mut dyn Optimizer,
        h: ArrayView2<f32>,
        weights: SaeLossWeights,
        unit_norm_decoder: bool,
    ) -> Result<SaeStepStats, ModelError> {
        let SaeBatch { stats, grads } = self.gradients(h, weights)?;
        if stats.total.is_finite() {
            self.update(optimizer, grads, unit_norm_decoder);
        }
        Ok(stats)
    }

    /// The loss of a batch `h` (n x d) and its gradient by backpropagation. With r = h_hat - h
    /// (and the squared error's weight w, 1 below):
    /// d/dh_hat = 2r/n, dW_dec = (2r/n)^T f, df = (2r/n) W_dec + λ_L1/n, masked where f > 0 to
    /// give dpre; dW_enc = dpre^T (h - b_dec), db_enc = column sums of dpre, and b_dec gets the
    /// decoder's sum of 2r/n minus the encoder's W_enc^T db_enc. Everything after the encoder's
    /// matrix product runs over the active (example, latent) pairs only. The NE loss, when on,
    /// adds its own gradients for W_enc and b_dec, with the active sets taken as constants.
    /// With `keep_activity`, the batch's activity is returned too.
    fn batch_gradients(
        &self,
        h: ArrayView2<f32>,
        weights: SaeLossWeights,
        keep_activity: bool,
    ) -> (SaeBatch, Option<BatchActivity>) {
        let rows = h.nrows();
        let decoder_rows = transposed(self.w_dec.view());
        // The encoder over the whole batch in one product, so that the kernel packs W_enc once
        // per step: each element is computed as in a product of its chunk's rows alone.
        let centered = &h.as_standard_layout() - &self.b_dec;
        // Standard layout from a standard-layout input; the check keeps the chunks' row slices
        // valid whatever ndarray chooses.
        let centered = if centered.is_standard_layout() {
            centered
        } else {
            centered.as_standard_layout().into_owned()
        };
        let f = bias_relu(centered.dot(&self.w_enc.t()), &self.b_enc);
        let f = f.as_standard_layout();
        let passes = map_row_ranges(rows, CHUNK_ROWS, |range| {
            let chunk = Chunk {
                h: h.slice(s![range.clone(), ..]),
                centered: centered.slice(s![range.clone(), ..]),
                f: f.slice(s![range, ..]),
            };
            self.chunk_pass(chunk, decoder_rows.view(), rows, weights)
        });
        let (sums, chunks): (Vec<ChunkSums>, Vec<ChunkActivity>) = passes
            .into_iter()
            .map(|pass| (pass.sums, pass.activity))
            .unzip();
        let mut chunk_sums = sums.into_iter();
        let mut sums = chunk_sums.next().expect("a batch has at least one row");
        chunk_sums.for_each(|other| sums.add(&other));
        let scale = 1.0 / rows as f32;
        let (squared_error, l1) = (sums.squared_error * scale, sums.l1 * scale);
        let mut total = weights.mse * squared_error + weights.l1 * l1;
        let mut grad_w_enc = sums.grad_w_enc;
        let mut grad_b_dec =
            sums.grad_b_dec - transpose_times(self.w_enc.view(), sums.grad_b_enc.view());
        let activity = (keep_activity || weights.ne.is_some())
            .then(|| BatchActivity::of(&chunks, self.latents(), centered));
        let ne = weights.ne.map(|lambda| {
            let BatchActivity { active, centered } =
                activity.as_ref().expect("built when the NE loss is on");
            let ne = ne_embed::ne_loss_of_active(
                self.w_enc.view(),
                centered.view(),
                active,
                weights.ne_reduction,
            );
            grad_w_enc.scaled_add(lambda, &ne.grad_w_enc);
            grad_b_dec.scaled_add(lambda, &ne.grad_b_dec);
            total += lambda * ne.value;
            ne.value
        });
        let named = |name, value, weight| NamedLoss {
            name,
            value,
            weight,
        };
        let mut losses = vec![
            named("mse", squared_error, weights.mse),
            named("l1", l1, weights.l1),
        ];
        losses.extend(ne.zip(weights.ne).map(|(v, w)| named("ne", v, w)));
        let batch = SaeBatch {
            stats: SaeStepStats {
                squared_error,
                l1,
                ne,
                total,
                losses,
                firing: sums.firing,
            },
            grads: SaeGradients {
                w_enc: grad_w_enc,
                b_enc: sums.grad_b_enc,
                w_dec: transposed(sums.grad_decoder_rows.view()),
                b_dec: grad_b_dec,
            },
        };
        (batch, activity.filter(|_| keep_activity))
    }

    /// Forward and backward pass of a chunk of a batch of `batch_rows` rows (its latents already
    /// encoded with the whole batch), given the decoder's columns as rows (m x d). Compiled
    /// twice: for the baseline x86-64 and for AVX2, taken where the CPU has it. Both do the same
    /// IEEE operations on every element in the same order (AVX2 only widens the vectors: no fused
    /// multiply-adds, and `dot` fixes its lanes), so they give the same bits.
    fn chunk_pass(
        &self,
        chunk: Chunk,
        decoder_rows: ArrayView2<f32>,
        batch_rows: usize,
        weights: SaeLossWeights,
    ) -> ChunkPass {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, all that `chunk_pass_avx2` needs.
            return unsafe { self.chunk_pass_avx2(chunk, decoder_rows, batch_rows, weights) };
        }
        self.chunk_pass_any(chunk, decoder_rows, batch_rows, weights, dot)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn chunk_pass_avx2(
        &self,
        chunk: Chunk,
        decoder_rows: ArrayView2<f32>,
        batch_rows: usize,
        weights: SaeLossWeights,
    ) -> ChunkPass {
        self.chunk_pass_any(chunk, decoder_rows, batch_rows, weights, |x, y| {
            dot_avx2(x, y)
        })
    }

    /// `chunk_pass` for whichever instructions its caller is compiled for, with that caller's
    /// `dot`.
    #[inline(always)]
    fn chunk_pass_any(
        &self,
        chunk: Chunk,
        decoder_rows: ArrayView2<f32>,
        batch_rows: usize,
        weights: SaeLossWeights,
        dot: impl Fn(&[f32], &[f32]) -> f32,
    ) -> ChunkPass {
        let Chunk { h, centered, f } = chunk;
        let (rows, inputs, latents) = (h.nrows(), self.inputs(), self.latents());
        let scale = 1.0 / batch_rows as f32;
        let active = ActivePairs::of(f);
        let decoder = decoder_rows.as_slice().expect("standard layout");
        let decoder_row = |j: usize| &decoder[j * inputs..(j + 1) * inputs];

        // The two sums run in order, row by row, as `sum()` over the whole residual and over
        // the pairs would (from the empty sum), each while the row's values are at hand.
        let (mut squared_error, mut l1) = (empty_sum(), empty_sum());
        let mut residual = Array2::zeros((rows, inputs));
        for ((i, mut out), target) in residual.outer_iter_mut().enumerate().zip(h.rows()) {
            let out = out.as_slice_mut().expect("standard layout");
            out.iter_mut().zip(&self.b_dec).for_each(|(o, &b)| *o = b);
            let pairs = active.of_row(i);
            weighted_row_sums(decoder, pairs, out, None);
            for (r, &t) in out.iter_mut().zip(&target) {
                *r -= t;
                squared_error += *r * *r;
            }
            pairs.iter().for_each(|&(_, v)| l1 += v);
        }

        let grad_recon = residual * (2.0 * scale * weights.mse);
        let mut grad_w_enc = Array2::zeros((latents, inputs));
        let mut grad_b_enc = Array1::zeros(latents);
        let mut grad_decoder_rows = Array2::<f32>::zeros((latents, inputs));
        let mut firing = Array1::zeros(latents);
        // Latent by latent, over its active rows in order: each gradient element sums the same
        // terms in the same order as a pass row by row would.
        let by_latent = active.by_latent(latents);
        let grad_recon_rows = grad_recon.as_slice().expect("standard layout");
        let centered_rows = centered.as_slice().expect("standard layout");
        let l1_grad = weights.l1 * scale;
        let mut grad_pre = Vec::new();
        for (j, ((mut grad_dec, mut grad_enc), (grad_b, fired))) in grad_decoder_rows
            .outer_iter_mut()
            .zip(grad_w_enc.outer_iter_mut())
            .zip(grad_b_enc.iter_mut().zip(firing.iter_mut()))
            .enumerate()
        {
            let pairs = by_latent.of_row(j);
            let grad_dec = grad_dec.as_slice_mut().expect("standard layout");
            let grad_enc = grad_enc.as_slice_mut().expect("standard layout");
            weighted_row_sums(grad_recon_rows, pairs, grad_dec, None);
            // A plain loop: `extend` with a closure would be compiled outside this function's
            // instruction set.
            grad_pre.clear();
            for &(i, _) in pairs {
                let g = &grad_recon_rows[i * inputs..(i + 1) * inputs];
                grad_pre.push((i, dot(g, decoder_row(j)) + l1_grad));
            }
            grad_pre.iter().for_each(|&(_, g)| *grad_b += g);
            weighted_row_sums(centered_rows, &grad_pre, grad_enc, None);
            *fired = pairs.len() as u32;
        }
        let sums = ChunkSums {
            squared_error,
            l1,
            firing,
            grad_w_enc,
            grad_b_enc,
            grad_decoder_rows,
            grad_b_dec: grad_recon.sum_axis(Axis(0)),
        };
        ChunkPass {
            activity: ChunkActivity { by_latent },
            sums,
        }
    }

    /// Removes from each column of a decoder gradient its component along that (unit) column of
    /// W_dec, leaving the part tangent to the unit sphere: the gradient of the loss as a
    /// function of the normalised columns.
    /// Works row by row over the d x m matrices (every column at once), summing each column's
    /// products in row order.
    pub(crate) fn project_decoder_gradient(&self, grad_w_dec: &mut Array2<f32>) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, all that the function needs.
            return unsafe { self.project_decoder_gradient_avx2(grad_w_dec) };
        }
        self.project_decoder_gradient_any(grad_w_dec);
    }

    /// `project_decoder_gradient` compiled for AVX2: element-wise work of the same operations
    /// in the same order, so the same bits.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn project_decoder_gradient_avx2(&self, grad_w_dec: &mut Array2<f32>) {
        self.project_decoder_gradient_any(grad_w_dec);
    }

    #[inline(always)]
    fn project_decoder_gradient_any(&self, grad_w_dec: &mut Array2<f32>) {
        let latents = self.latents();
        // Plain slices (rows of standard-layout matrices) so that the loops vectorise.
        let w_dec = self.w_dec.as_standard_layout();
        let weights = w_dec.as_slice().expect("standard layout");
        if !grad_w_dec.is_standard_layout() {
            *grad_w_dec = grad_w_dec.as_standard_layout().into_owned();
        }
        let grads = grad_w_dec.as_slice_mut().expect("standard layout");
        let mut along = vec![0.0f32; latents];
        for (grad, w) in grads
            .chunks_exact(latents)
            .zip(weights.chunks_exact(latents))
        {
            for ((a, &g), &w) in along.iter_mut().zip(grad).zip(w) {
                *a += g * w;
            }
        }
        for (grad, w) in grads
            .chunks_exact_mut(latents)
            .zip(weights.chunks_exact(latents))
        {
            for ((g, &w), &a) in grad.iter_mut().zip(w).zip(&along) {
                *g -= w * a;
            }
        }
    }

    /// Scales each decoder column to unit L2 norm. Works row by row (every column at once),
    /// summing each column's squares in row order.
    pub(crate) fn normalise_decoder_columns(&mut self) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, all that the function needs.
            return unsafe { self.normalise_decoder_columns_avx2() };
        }
        self.normalise_decoder_columns_any();
    }

    /// `normalise_decoder_columns` compiled for AVX2: element-wise work of the same operations
    /// in the same order (square roots and divisions round as scalar ones do), so the same bits.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn normalise_decoder_columns_avx2(&mut self) {
        self.normalise_decoder_columns_any();
    }

    #[inline(always)]
    fn normalise_decoder_columns_any(&mut self) {
        let latents = self.latents();
        if !self.w_dec.is_standard_layout() {
            self.w_dec = self.w_dec.as_standard_layout().into_owned();
        }
        // A plain slice so that the loops vectorise.
        let weights = self.w_dec.as_slice_mut().expect("standard layout");
        let mut norms = vec![0.0f32; latents];
        for row in weights.chunks_exact(latents) {
            for (n, &w) in norms.iter_mut().zip(row) {
                *n += w * w;
            }
        }
        norms.iter_mut().for_each(|n| *n = n.sqrt());
        for row in weights.chunks_exact_mut(latents) {
            for (w, &n) in row.iter_mut().zip(&norms) {
                *w /= n;
            }
        }
    }

    /// The parameters in optimiser order: W_enc, b_enc, W_dec, b_dec.
    pub(crate) fn params_mut(&mut self) -> [ArrayViewMutD<'_, f32>; 4] {
        [
            self.w_enc.view_mut().into_dyn(),
            self.b_enc.view_mut().into_dyn(),
            self.w_dec.view_mut().into_dyn(),
            self.b_dec.view_mut().into_dyn(),
        ]
    }

    pub(crate) fn all_finite(&self) -> bool {
        let values = self
            .w_enc
            .iter()
            .chain(&self.b_enc)
            .chain(&self.w_dec)
            .chain(&self.b_dec);
        values.into_iter().all(|v| v.is_finite())
    }

    /// The weights as safetensors: `W_enc` (m x d), `b_enc` (m), `W_dec` (d x m), `b_dec` (d).
    pub fn to_safetensors(&self) -> Vec<u8> {
        weights::to_bytes(&[
            (NAMES[0], self.w_enc.view().into_dyn()),
            (NAMES[1], self.b_enc.view().into_dyn()),
            (NAMES[2], self.w_dec.view().into_dyn()),
            (NAMES[3], self.b_dec.view().into_dyn()),
        ])
    }

    /// Checks that the SAE reads `inputs` dimensions into `latents` latents, naming the first
    /// tensor whose shape is not what those sizes make it.
    ///
    /// # Errors
    /// [`ModelError::Shape`] naming that tensor.
    pub fn check_sizes(&self, inputs: usize, latents: usize) -> Result<(), ModelError> {
        let shapes: [(&'static str, &[usize], &[usize]); 4] = [
            (NAMES[0], self.w_enc.shape(), &[latents, inputs]),
            (NAMES[1], self.b_enc.shape(), &[latents]),
            (NAMES[2], self.w_dec.shape(), &[inputs, latents]),
            (NAMES[3], self.b_dec.shape(), &[inputs]),
        ];
        shapes
            .into_iter()
            .try_for_each(|(name, found, expected)| weights::expect_shape(name, found, expected))
    }

    /// Weights written by `to_safetensors`: exactly the four tensors, F32, finite, with
    /// consistent shapes.
    ///
    /// # Errors
    /// When the bytes are not safetensors, a tensor is missing, extra, not F32, not finite, or
    /// of a shape that does not fit the others; the [`ModelError`] names the tensor.
    pub fn from_safetensors(bytes: &[u8]) -> Result<Self, ModelError> {
        let file = WeightFile::parse(bytes, &NAMES)?;
        let w_enc = file.matrix(NAMES[0])?;
        let (latents, inputs) = w_enc.dim();
        let b_enc = file.vector(NAMES[1], latents)?;
        let w_dec = file.matrix(NAMES[2])?;
        weights::expect_shape(NAMES[2], w_dec.shape(), &[inputs, latents])?;
        let b_dec = file.vector(NAMES[3], inputs)?;
        Ok(Self {
            w_enc,
            b_enc,
            w_dec,
            b_dec,
        })
    }
}

impl SaeGradients {
    /// Views in the order of `Sae::params_mut`.
    pub(crate) fn views(&self) -> [ArrayViewD<'_, f32>; 4] {
        [
            self.w_enc.view().into_dyn(),
            self.b_enc.view().into_dyn(),
            self.w_dec.view().into_dyn(),
            self.b_dec.view().into_dyn(),
        ]
    }
}

/// The value `sum()` gives for no terms (-0 in recent Rust), where a running sum starts so that
/// adding its terms one by one gives `sum()`'s bits.
fn empty_sum() -> f32 {
    std::iter::empty::<f32>().sum()
}

/// The (latent, value) pairs with f > 0 of each row, row by row (or, from `by_latent`, the
/// (row, value) pairs of each latent).
struct ActivePairs {
    pairs: Vec<(usize, f32)>,
    /// Row i's pairs are pairs[starts[i]..starts[i + 1]].
    starts: Vec<usize>,
}

impl ActivePairs {
    fn of(f: ArrayView2<f32>) -> Self {
        let mut starts = vec![0];
        let mut pairs = Vec::new();
        let mut positions = Vec::with_capacity(f.ncols());
        for row in f.outer_iter() {
            let row = row.to_slice().expect("standard layout");
            positions.clear();
            positive_positions(row, &mut positions);
            pairs.extend(positions.iter().map(|&j| (j, row[j])));
            starts.push(pairs.len());
        }
        Self { pairs, starts }
    }

    fn of_row(&self, row: usize) -> &[(usize, f32)] {
        &self.pairs[self.starts[row]..self.starts[row + 1]]
    }

    /// The same pairs grouped by latent instead (of `latents`): (row, value), rows ascending,
    /// latent j's read by `of_row(j)`.
    fn by_latent(&self, latents: usize) -> Self {
        let mut starts = vec![0; latents + 1];
        for &(j, _) in &self.pairs {
            starts[j + 1] += 1;
        }
        for j in 0..latents {
            starts[j + 1] += starts[j];
        }
        let mut next = starts.clone();
        let mut pairs = vec![(0, 0.0); self.pairs.len()];
        for row in 0..self.starts.len() - 1 {
            for &(j, v) in self.of_row(row) {
                pairs[next[j]] = (row, v);
                next[j] += 1;
            }
        }
        Self { pairs, starts }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{assert_gradient_close, numeric_gradient, random_array, to_f64};
    use crate::rng::{Stream, stream_rng};

    const D: usize = 4;
    const M: usize = 6;
    /// Rows of a small batch (one chunk).
    const N: usize = 7;
    /// Rows of a batch that spans three chunks (64 + 64 + 22).
    const N_CHUNKED: usize = 150;

    /// An SAE with every parameter random (not the structured initialisation), unit columns.
    fn random_sae(seed: u64) -> Sae {
        let mut sae = Sae {
            w_enc: random_array(seed, (M, D), -1.0, 1.0),
            b_enc: random_array(seed + 1, M, -0.3, 0.3),
            w_dec: random_array(seed + 2, (D, M), -1.0, 1.0),
            b_dec: random_array(seed + 3, D, -0.5, 0.5),
        };
        sae.normalise_decoder_columns();
        sae
    }

    /// `decode_sparse` against `decode`, bit for bit: 600 latents (two whole blocks of 256 and
    /// a part), 77 inputs (64 at a time and 13 more), a sparse code with a NaN, chains that end at -0
    /// (products below f32's range) before a -0 bias, here only or in full too, and a decoder with
    /// an infinity (decoded in full).
    #[test]
    fn sparse_decoding_gives_the_bits_of_the_dense_product() {
        let (latents, inputs, rows) = (600, 77, 40);
        let mut sae = Sae {
            w_enc: Array2::zeros((latents, inputs)),
            b_enc: Array1::zeros(latents),
            w_dec: random_array(5, (inputs, latents), -1.0, 1.0),
            b_dec: random_array(6, inputs, -0.5, 0.5),
        };
        let mut f = random_array(7, (rows, latents), -4.0, 1.0).mapv(|v: f32| v.max(0.0));
        f[[3, 10]] = f32::NAN;
        // Row 5: one tiny latent in each block, read by tiny negative weights: every chain -0.
        // Row 6: the same at the end of each block, so that every full chain ends at -0 too,
        // which the product keeps (AVX-512 kernel) or makes +0 (FMA kernel).
        for (row, tiny_latents) in [(5, [7, 300, 580]), (6, [255, 511, 599])] {
            f.row_mut(row).fill(0.0);
            for j in tiny_latents {
                f[[row, j]] = 1e-30;
                sae.w_dec
                    .column_mut(j)
                    .mapv_inplace(|w| -w.abs() * 1e-20 - 1e-22);
            }
        }
        sae.b_dec.fill(-0.0);
        let bits = |a: &Array2<f32>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        let dense = sae.decode(f.view());
        assert!(f.iter().filter(|&&v| v == 0.0).count() > rows * latents / 2);
        assert!(dense.row(5).iter().all(|v| v.to_bits() == 0));
        let keeps = ne_embed::f32_product_keeps_negative_zero();
        assert!(
            dense
                .row(6)
                .iter()
                .all(|&v| v == 0.0 && v.is_sign_negative() == keeps)
        );
        assert_eq!(bits(&sae.decode_sparse(f.view())), bits(&dense));
        // Column-major latents read the same rows.
        let by_column = f.t().as_standard_layout().into_owned().reversed_axes();
        assert_eq!(bits(&sae.decode_sparse(by_column.view())), bits(&dense));
        // One prepared decoder, block after block of rows.
        let decoder = sae.sparse_decoder();
        let (top, bottom) = (
            decoder.decode(f.slice(s![..17, ..])),
            decoder.decode(f.slice(s![17.., ..])),
        );
        let blocks = ndarray::concatenate(Axis(0), &[top.view(), bottom.view()]).unwrap();
        assert_eq!(bits(&blocks), bits(&dense));
        sae.w_dec[[2, 9]] = f32::INFINITY;
        let dense = sae.decode(f.view());
        assert_eq!(bits(&sae.decode_sparse(f.view())), bits(&dense));
    }

    /// The transposed encoding has the bits of `encode`, transposed: over several tiles and
    /// partial ones, with a NaN input, signed zeros and pre-activations exactly at 0.
    #[test]
    fn transposed_encoding_gives_the_bits_of_encode() {
        let (latents, inputs, rows) = (45, 70, 37);
        let mut sae = Sae {
            w_enc: random_array(11, (latents, inputs), -1.0, 1.0),
            b_enc: random_array(12, latents, -0.5, 0.5),
            w_dec: Array2::zeros((inputs, latents)),
            b_dec: random_array(13, inputs, -0.5, 0.5),
        };
        sae.b_enc[3] = -0.0;
        sae.w_enc.row_mut(3).fill(0.0);
        let mut h = random_array(14, (rows, inputs), -2.0, 2.0);
        h[[4, 9]] = f32::NAN;
        h[[6, 0]] = -0.0;
        let bits = |a: ArrayView2<f32>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        let expected = sae.encode(h.view());
        let centered = &h - &sae.b_dec;
        let by_latent = sae.encode_transposed(centered.view());
        assert_eq!(by_latent.dim(), (latents, rows));
        assert_eq!(bits(by_latent.t()), bits(expected.view()));
        assert!(
            by_latent
                .row(3)
                .iter()
                .all(|v| v.to_bits() == 0 || v.is_nan())
        );
    }

    fn flatten(sae: &Sae) -> Vec<f64> {
        to_f64(
            sae.w_enc
                .iter()
                .chain(&sae.b_enc)
                .chain(&sae.w_dec)
                .chain(&sae.b_dec),
        )
    }

    /// The SAE loss written out with loops in f64, with the set of active (example, latent) pairs
    /// fixed to `active` (row-major n x m) so that finite differences never cross a ReLU kink.
    struct Reference<'a> {
        h: &'a [f64],
        active: &'a [bool],
        lambda_mse: f64,
        lambda_l1: f64,
        lambda_ne: f64,
    }

    impl Reference<'_> {
        fn loss(&self, params: &[f64]) -> f64 {
            let (w_enc, rest) = params.split_at(M * D);
            let (b_enc, rest) = rest.split_at(M);
            let (w_dec, b_dec) = rest.split_at(D * M);
            let centered: Vec<f64> = self
                .h
                .iter()
                .enumerate()
                .map(|(k, v)| v - b_dec[k % D])
                .collect();
            let (mut squared_error, mut l1) = (0.0, 0.0);
            for (i, x) in centered.chunks(D).enumerate() {
                let f: Vec<f64> = (0..M)
                    .map(|j| {
                        let pre = b_enc[j] + (0..D).map(|k| w_enc[j * D + k] * x[k]).sum::<f64>();
                        if self.active[i * M + j] { pre } else { 0.0 }
                    })
                    .collect();
                l1 += f.iter().sum::<f64>();
                for k in 0..D {
                    let recon = b_dec[k] + (0..M).map(|j| w_dec[k * M + j] * f[j]).sum::<f64>();
                    squared_error += (recon - self.h[i * D + k]).powi(2);
                }
            }
            let ne = if self.lambda_ne > 0.0 {
                self.ne_loss(w_enc, &centered)
            } else {
                0.0
            };
            let rows = (self.h.len() / D) as f64;
            (self.lambda_mse * squared_error + self.lambda_l1 * l1) / rows + self.lambda_ne * ne
        }

        /// Mean over latents with two or more active examples of their mean pairwise cosine
        /// distance between neuron embeddings w_j ⊙ (h_i - b_dec), pair by pair.
        fn ne_loss(&self, w_enc: &[f64], centered: &[f64]) -> f64 {
            let mut per_latent = Vec::new();
            for j in 0..M {
                let units: Vec<Vec<f64>> = (0..self.h.len() / D)
                    .filter(|&i| self.active[i * M + j])
                    .map(|i| {
                        let e: Vec<f64> = (0..D)
                            .map(|k| w_enc[j * D + k] * centered[i * D + k])
                            .collect();
                        let norm = e.iter().map(|v| v * v).sum::<f64>().sqrt();
                        e.iter().map(|v| v / norm).collect()
                    })
                    .collect();
                let n = units.len();
                if n < 2 {
                    continue;
                }
                let mut distance = 0.0;
                for a in 0..n {
                    for b in (0..n).filter(|&b| b != a) {
                        distance += 1.0
                            - units[a]
                                .iter()
                                .zip(&units[b])
                                .map(|(x, y)| x * y)
                                .sum::<f64>();
                    }
                }
                per_latent.push(distance / (n * (n - 1)) as f64);
            }
            per_latent.iter().sum::<f64>() / per_latent.len().max(1) as f64
        }
    }

    /// Analytic gradients of `sae` on `h` against central differences of the f64 reference.
    fn check_gradients(sae: &Sae, h: &Array2<f32>, weights: SaeLossWeights) {
        let batch = sae.gradients(h.view(), weights).expect("a valid batch");
        // The reference holds the active set fixed, so its finite differences never see a kink.
        let pre = (h - &sae.b_dec).dot(&sae.w_enc.t()) + &sae.b_enc;
        let active: Vec<bool> = pre.iter().map(|&z| z > 0.0).collect();
        assert!(active.iter().any(|&a| a) && active.iter().any(|&a| !a));
        let h64 = to_f64(h);
        let reference = Reference {
            h: &h64,
            active: &active,
            lambda_mse: f64::from(weights.mse),
            lambda_l1: f64::from(weights.l1),
            lambda_ne: f64::from(weights.ne.unwrap_or(0.0)),
        };
        let params = flatten(sae);
        let value = reference.loss(&params);
        assert!(
            (f64::from(batch.stats.total) - value).abs() < 1e-4 * value.abs().max(1.0),
            "{value}"
        );
        let numeric = numeric_gradient(&params, 1e-6, |p| reference.loss(p));
        let (w_enc, rest) = numeric.split_at(M * D);
        let (b_enc, rest) = rest.split_at(M);
        let (w_dec, b_dec) = rest.split_at(D * M);
        let g = &batch.grads;
        assert_gradient_close("W_enc", &g.w_enc, w_enc);
        assert_gradient_close("b_enc", &g.b_enc, b_enc);
        assert_gradient_close("W_dec", &g.w_dec, w_dec);
        assert_gradient_close("b_dec", &g.b_dec, b_dec);
    }

    #[test]
    fn squared_error_gradients_match_finite_differences() {
        for (rows, seed) in [(N, 41), (N_CHUNKED, 141)] {
            let h = random_array(seed, (rows, D), 0.0, 2.0);
            let weights = SaeLossWeights {
                mse: 1.0,
                l1: 0.0,
                ne: None,
                ne_reduction: NeReduction::LatentMean,
            };
            check_gradients(&random_sae(seed + 1), &h, weights);
        }
    }

    #[test]
    fn squared_error_plus_l1_gradients_match_finite_differences() {
        for (rows, seed) in [(N, 43), (N_CHUNKED, 143)] {
            let h = random_array(seed, (rows, D), 0.0, 2.0);
            let weights = SaeLossWeights {
                mse: 1.0,
                l1: 0.7,
                ne: None,
                ne_reduction: NeReduction::LatentMean,
            };
            check_gradients(&random_sae(seed + 1), &h, weights);
        }
    }

    /// The NE loss as the SAE composes it: through W_enc and, via h - b_dec, through b_dec, on
    /// top of the other parts; over several chunks the NE loss must see the whole batch.
    #[test]
    fn loss_with_ne_term_gradients_match_finite_differences() {
        for (rows, seed) in [(N, 45), (N_CHUNKED, 145)] {
            let h = random_array(seed, (rows, D), 0.0, 2.0);
            let weights = SaeLossWeights {
                mse: 0.4,
                l1: 0.7,
                ne: Some(2.5),
                ne_reduction: NeReduction::LatentMean,
            };
            check_gradients(&random_sae(seed + 1), &h, weights);
        }
    }

    #[test]
    fn loss_parts_and_firing_counts_are_reported() {
        let sae = random_sae(47);
        let h = random_array(48, (N, D), 0.0, 2.0);
        let weights = SaeLossWeights {
            mse: 1.0,
            l1: 0.5,
            ne: None,
            ne_reduction: NeReduction::LatentMean,
        };
        let batch = sae.gradients(h.view(), weights).expect("a valid batch");
        let f = sae.encode(h.view());
        let residual = sae.decode(f.view()) - &h;
        let squared_error = residual.mapv(|r| r * r).sum() / N as f32;
        assert!((batch.stats.squared_error - squared_error).abs() < 1e-5);
        assert!((batch.stats.l1 - f.sum() / N as f32).abs() < 1e-5);
        assert!((batch.stats.total - (squared_error + 0.5 * batch.stats.l1)).abs() < 1e-5);
        assert_eq!(batch.stats.ne, None);
        let firing: Vec<u32> = f
            .columns()
            .into_iter()
            .map(|c| c.iter().filter(|&&v| v > 0.0).count() as u32)
            .collect();
        assert_eq!(batch.stats.firing.to_vec(), firing);
    }

    /// The AVX2 build of the chunk pass and of the decoder's projection and renormalisation
    /// against the baseline build, bit for bit, at the default sizes (d = 64 rows of the
    /// vector width, 512 latents).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx2_step_gives_the_baseline_bits() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("skipped: this CPU has no AVX2");
            return;
        }
        let mut sae = Sae::init(64, 512, &mut stream_rng(51, Stream::SaeInit));
        sae.b_enc = random_array(52, 512, -0.4, 0.1);
        let h = random_array(53, (70, 64), -1.0, 2.0);
        let decoder_rows = transposed(sae.w_dec.view());
        let weights = SaeLossWeights {
            mse: 1.0,
            l1: 3.0,
            ne: None,
            ne_reduction: NeReduction::LatentMean,
        };
        let bits = |a: &[f32]| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        let centered = &h - &sae.b_dec;
        let f = sae.encode(h.view());
        let chunk = Chunk {
            h: h.view(),
            centered: centered.view(),
            f: f.view(),
        };
        let base = sae.chunk_pass_any(chunk, decoder_rows.view(), 128, weights, dot);
        // SAFETY: the CPU has AVX2.
        let wide = unsafe { sae.chunk_pass_avx2(chunk, decoder_rows.view(), 128, weights) };
        let (a, b) = (&base.sums, &wide.sums);
        assert!(a.firing.sum() > 70 && a.firing.iter().any(|&c| c == 0));
        assert_eq!(a.firing, b.firing);
        for (x, y) in [
            (&a.grad_w_enc, &b.grad_w_enc),
            (&a.grad_decoder_rows, &b.grad_decoder_rows),
        ] {
            assert_eq!(bits(x.as_slice().unwrap()), bits(y.as_slice().unwrap()));
        }
        for (x, y) in [
            (&a.grad_b_enc, &b.grad_b_enc),
            (&a.grad_b_dec, &b.grad_b_dec),
        ] {
            assert_eq!(bits(x.as_slice().unwrap()), bits(y.as_slice().unwrap()));
        }
        assert_eq!(a.squared_error.to_bits(), b.squared_error.to_bits());

        let mut grad = transposed(a.grad_decoder_rows.view());
        let mut wide_grad = grad.clone();
        sae.project_decoder_gradient_any(&mut grad);
        // SAFETY: the CPU has AVX2.
        unsafe { sae.project_decoder_gradient_avx2(&mut wide_grad) };
        assert_eq!(
            bits(grad.as_slice().unwrap()),
            bits(wide_grad.as_slice().unwrap())
        );
        sae.w_dec.mapv_inplace(|w| w * 1.7 - 0.01);
        let mut wide_sae = sae.clone();
        sae.normalise_decoder_columns_any();
        // SAFETY: the CPU has AVX2.
        unsafe { wide_sae.normalise_decoder_columns_avx2() };
        assert_eq!(
            bits(sae.w_dec.as_slice().unwrap()),
            bits(wide_sae.w_dec.as_slice().unwrap())
        );
    }

    /// L(W_dec) with the columns normalised first: at unit columns its gradient is the tangent
    /// part of the plain gradient, which is what the projection must produce.
    #[test]
    fn projected_decoder_gradient_is_the_gradient_on_the_unit_sphere() {
        let sae = random_sae(49);
        let h = random_array(50, (N, D), 0.0, 2.0);
        let weights = SaeLossWeights {
            mse: 1.0,
            l1: 0.7,
            ne: None,
            ne_reduction: NeReduction::LatentMean,
        };
        let mut grad = sae
            .gradients(h.view(), weights)
            .expect("a valid batch")
            .grads
            .w_dec;
        let plain = grad.clone();
        sae.project_decoder_gradient(&mut grad);
        for (g, w) in grad.columns().into_iter().zip(sae.w_dec.columns()) {
            assert!(
                g.dot(&w).abs() < 1e-5,
                "projected column not orthogonal: {}",
                g.dot(&w)
            );
        }
        assert!(
            (&plain - &grad).iter().any(|d| d.abs() > 1e-3),
            "projection changed nothing"
        );

        let pre = (&h - &sae.b_dec).dot(&sae.w_enc.t()) + &sae.b_enc;
        let active: Vec<bool> = pre.iter().map(|&z| z > 0.0).collect();
        let h64 = to_f64(&h);
        let reference = Reference {
            h: &h64,
            active: &active,
            lambda_mse: 1.0,
            lambda_l1: 0.7,
            lambda_ne: 0.0,
        };
        let params = flatten(&sae);
        let decoder_at = M * D + M;
        let numeric = numeric_gradient(&params[decoder_at..decoder_at + D * M], 1e-6, |w_dec| {
            let mut normalised = params.clone();
            for j in 0..M {
                let norm = (0..D).map(|k| w_dec[k * M + j].powi(2)).sum::<f64>().sqrt();
                for k in 0..D {
                    normalised[decoder_at + k * M + j] = w_dec[k * M + j] / norm;
                }
            }
            reference.loss(&normalised)
        });
        assert_gradient_close("projected W_dec", &grad, &numeric);
    }

    #[test]
    fn init_gives_unit_decoder_columns_and_a_scaled_tied_encoder() {
        let sae = Sae::init(D, M, &mut stream_rng(51, Stream::SaeInit));
        for column in sae.w_dec.columns() {
            assert!((column.dot(&column) - 1.0).abs() < 1e-6);
        }
        assert_eq!(sae.w_enc, &sae.w_dec.t() * (D as f32 / M as f32));
        assert!(sae.b_enc.iter().chain(&sae.b_dec).all(|&v| v == 0.0));
        assert_eq!((sae.inputs(), sae.latents()), (D, M));
    }

    #[test]
    fn pytorch_default_init_bounds_the_encoder_and_ties_a_unit_decoder() {
        let sae = Sae::new(
            SaeInit::PytorchDefault,
            D,
            M,
            &mut stream_rng(52, Stream::SaeInit),
        );
        let bound = 1.0 / (D as f32).sqrt();
        assert!(sae.w_enc.iter().all(|w| w.abs() <= bound));
        // The draws fill the range: not all tiny.
        assert!(sae.w_enc.iter().any(|w| w.abs() > 0.5 * bound));
        for (j, column) in sae.w_dec.columns().into_iter().enumerate() {
            assert!((column.dot(&column) - 1.0).abs() < 1e-6);
            let row = sae.w_enc.row(j);
            let scaled = &row / row.dot(&row).sqrt();
            for (a, b) in column.iter().zip(&scaled) {
                assert!(
                    (a - b).abs() < 1e-6,
                    "W_dec column {j} is W_enc row {j}, unit norm"
                );
            }
        }
        assert!(sae.b_enc.iter().chain(&sae.b_dec).all(|&v| v == 0.0));
        let default = Sae::new(
            SaeInit::ScaledTranspose,
            D,
            M,
            &mut stream_rng(52, Stream::SaeInit),
        );
        assert_eq!(
            default,
            Sae::init(D, M, &mut stream_rng(52, Stream::SaeInit))
        );
    }

    #[test]
    fn pytorch_linear_pair_init_draws_each_layer_in_its_own_bound() {
        let sae = Sae::new(
            SaeInit::PytorchLinearPair,
            D,
            M,
            &mut stream_rng(55, Stream::SaeInit),
        );
        let (enc_bound, dec_bound) = (1.0 / (D as f32).sqrt(), 1.0 / (M as f32).sqrt());
        assert!(sae.w_enc.iter().all(|w| w.abs() <= enc_bound));
        assert!(
            sae.w_dec
                .iter()
                .chain(&sae.b_dec)
                .all(|w| w.abs() <= dec_bound)
        );
        assert!(sae.w_dec.iter().any(|w| w.abs() > 0.5 * dec_bound));
        // Untied: the decoder is no transpose of the encoder, and its columns are not unit.
        let norms = sae.w_dec.map_axis(Axis(0), |c| c.dot(&c).sqrt());
        assert!(norms.iter().all(|&n| n < 0.99), "{norms}");
        // The pair's own encoder bias b_e = b_enc - W_enc b_dec, drawn in the encoder's bound.
        let b_e = &sae.b_enc - &sae.w_enc.dot(&sae.b_dec);
        assert!(b_e.iter().all(|b| b.abs() <= enc_bound + 1e-6), "{b_e}");
        assert!(b_e.iter().any(|b| b.abs() > 0.3 * enc_bound), "{b_e}");
        assert!(sae.b_dec.iter().any(|&b| b != 0.0));
    }

    #[test]
    fn updates_keep_unit_columns_only_under_the_constraint() {
        let h = random_array(56, (N, D), 0.0, 2.0);
        let weights = SaeLossWeights {
            mse: 1.0,
            l1: 0.7,
            ne: None,
            ne_reduction: NeReduction::LatentMean,
        };
        for unit in [true, false] {
            let mut sae = random_sae(57);
            let mut sgd = crate::optim::Sgd::new(0.5);
            let before = sae.clone();
            sae.train_step(&mut sgd, h.view(), weights, unit).unwrap();
            assert_ne!(sae, before);
            let norms = sae.w_dec.map_axis(Axis(0), |c| c.dot(&c).sqrt());
            let all_unit = norms.iter().all(|&n| (n - 1.0).abs() < 1e-5);
            assert_eq!(all_unit, unit, "{norms}");
        }
        let mut sae = random_sae(57);
        let wide = random_array(58, (N, D + 1), 0.0, 2.0);
        let mut sgd = crate::optim::Sgd::new(0.5);
        assert!(matches!(
            sae.train_step(&mut sgd, wide.view(), weights, true),
            Err(ModelError::InputWidth { .. })
        ));
        let named: Vec<_> = sae.gradients(h.view(), weights).unwrap().stats.losses;
        assert_eq!(
            named.iter().map(|l| (l.name, l.weight)).collect::<Vec<_>>(),
            [("mse", 1.0), ("l1", 0.7)]
        );
        let forward = sae.forward(h.view());
        assert_eq!(forward.reconstruction, sae.decode(forward.latents.view()));
    }

    #[test]
    fn normalising_scales_columns_to_unit_norm_keeping_direction() {
        let mut sae = random_sae(52);
        let before = &sae.w_dec * 3.0;
        sae.w_dec = before.clone();
        sae.normalise_decoder_columns();
        for (after, before) in sae.w_dec.columns().into_iter().zip(before.columns()) {
            assert!((after.dot(&after) - 1.0).abs() < 1e-6);
            assert!((after.dot(&before) - before.dot(&before).sqrt()).abs() < 1e-5);
        }
    }

    #[test]
    fn safetensors_round_trip_and_shape_errors() {
        let sae = random_sae(53);
        let bytes = sae.to_safetensors();
        assert_eq!(Sae::from_safetensors(&bytes).unwrap(), sae);
        let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(file.tensor("W_enc").unwrap().shape(), [M, D]);
        assert_eq!(file.tensor("W_dec").unwrap().shape(), [D, M]);

        let transposed = sae.w_dec.t().to_owned();
        let bad = weights::to_bytes(&[
            ("W_enc", sae.w_enc.view().into_dyn()),
            ("b_enc", sae.b_enc.view().into_dyn()),
            ("W_dec", transposed.view().into_dyn()),
            ("b_dec", sae.b_dec.view().into_dyn()),
        ]);
        assert!(matches!(
            Sae::from_safetensors(&bad),
            Err(ModelError::Shape { name: "W_dec", .. })
        ));
        let mlp_names = weights::to_bytes(&[("fc1.weight", sae.w_enc.view().into_dyn())]);
        assert!(matches!(
            Sae::from_safetensors(&mlp_names),
            Err(ModelError::UnexpectedTensor { .. })
        ));
    }

    #[test]
    fn size_check_names_the_tensor_and_both_shapes() {
        let sae = random_sae(54);
        assert!(sae.check_sizes(D, M).is_ok());
        let error = sae.check_sizes(D + 1, M).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "tensor `W_enc` has shape [{M}, {D}], expected [{M}, {}]",
                D + 1
            )
        );
        assert!(matches!(
            sae.check_sizes(D, 2 * M),
            Err(ModelError::Shape { name: "W_enc", .. })
        ));
    }
}
