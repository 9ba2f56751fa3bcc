//! Training the SAE end to end on synthetic activations: learning, the unit-norm decoder,
//! determinism, the NE switch-on step, progress and errors.
mod common;

use common::{activations, with_threads};
use ndarray::Axis;
use ne_models::{
    ConfigError, NeForm, OptimizerConfig, Reduction, SaeConfig, SaeInit, SaeProgress, SaeTraining,
    SaeVariant, TrainError, train_sae,
};

fn config(epochs: usize) -> SaeConfig {
    SaeConfig {
        latents: 48,
        epochs,
        batch_size: 128,
        learning_rate: 1e-2,
        lambda_l1: 0.05,
        lambda_ne: 0.5,
        ne_start_step: 5,
        init: SaeInit::ScaledTranspose,
        ..SaeConfig::default()
    }
}

/// The paper's scale of coefficients (element-mean MSE, L1 summed over the batch, NE summed over
/// active pairs) trains, its weighted total falling, and differs from the default reductions'
/// run.
#[test]
fn reductions_change_training_and_still_learn() {
    let h = activations(2000, 12, 1);
    let paper_scale = SaeConfig {
        mse_reduction: Reduction::ElementMean,
        l1_reduction: Reduction::Sum,
        ne_reduction: Reduction::PairSum,
        lambda_l1: 1e-4,
        lambda_ne: 1e-3,
        ..config(3)
    };
    let (sae, history) = train_sae(&paper_scale, SaeVariant::Ne, 3, h.view(), &mut |_| {}).unwrap();
    let (first, last) = (&history.epochs[0].loss, &history.epochs[2].loss);
    assert!(last.total < 0.9 * first.total, "{first:?} -> {last:?}");
    let (default, _) = train_sae(&config(3), SaeVariant::Ne, 3, h.view(), &mut |_| {}).unwrap();
    assert_ne!(sae, default);
    // The running-mean form of the NE loss trains too, and differs from the pairwise form.
    let running = SaeConfig {
        ne_form: NeForm::RunningMean,
        ..paper_scale.clone()
    };
    let (other, history) = train_sae(&running, SaeVariant::Ne, 3, h.view(), &mut |_| {}).unwrap();
    let (first, last) = (&history.epochs[0].loss, &history.epochs[2].loss);
    assert!(last.total < 0.9 * first.total, "{first:?} -> {last:?}");
    assert!(last.ne > 0.0 && history.epochs[2].ne_steps > 0);
    assert_ne!(other, sae);
    let bad = SaeConfig {
        l1_reduction: Reduction::PairSum,
        ..config(3)
    };
    let err = train_sae(&bad, SaeVariant::Ne, 3, h.view(), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("sae.l1_reduction"), "{err}");
}

/// Every optimiser, initialisation and decoder constraint trains: the squared error falls from
/// the first epoch to the last, and the columns are unit exactly when the constraint is on.
#[test]
fn every_recipe_choice_learns() {
    let h = activations(2000, 12, 1);
    let optimizers = [
        OptimizerConfig::Adam { weight_decay: 0.0 },
        OptimizerConfig::Adam { weight_decay: 1e-3 },
        OptimizerConfig::AdamW { weight_decay: 0.01 },
        OptimizerConfig::Sgd {
            momentum: 0.9,
            weight_decay: 1e-3,
        },
    ];
    let inits = [
        SaeInit::ScaledTranspose,
        SaeInit::PytorchDefault,
        SaeInit::PytorchLinearPair,
    ];
    for optimizer in optimizers {
        for init in inits {
            for unit_norm_decoder in [true, false] {
                let recipe = SaeConfig {
                    optimizer,
                    init,
                    unit_norm_decoder,
                    ..config(3)
                };
                let (sae, history) =
                    train_sae(&recipe, SaeVariant::Ne, 3, h.view(), &mut |_| {}).unwrap();
                let (first, last) = (&history.epochs[0].loss, &history.epochs[2].loss);
                let name = format!("{optimizer:?} {init:?} unit {unit_norm_decoder}");
                assert!(
                    last.squared_error < 0.9 * first.squared_error,
                    "{name}: {first:?} -> {last:?}"
                );
                let unit = sae
                    .w_dec
                    .columns()
                    .into_iter()
                    .all(|c| (c.dot(&c) - 1.0).abs() < 1e-4);
                assert_eq!(unit, unit_norm_decoder, "{name}");
            }
        }
    }
}

#[test]
fn learns_to_reconstruct_with_unit_decoder_columns() {
    let h = activations(2000, 12, 1);
    let (sae, history) =
        train_sae(&config(4), SaeVariant::Standard, 3, h.view(), &mut |_| {}).unwrap();
    for column in sae.w_dec.columns() {
        assert!((column.dot(&column) - 1.0).abs() < 1e-5);
    }
    let (first, last) = (&history.epochs[0], &history.epochs[3]);
    assert!(
        last.loss.total < 0.5 * first.loss.total,
        "{first:?} -> {last:?}"
    );
    let variance: f32 = h.var_axis(Axis(0), 0.0).sum();
    assert!(
        last.loss.squared_error < 0.05 * variance,
        "{} vs {variance}",
        last.loss.squared_error
    );
    let fired: u64 = last.firing_counts.sum();
    assert!((last.l0 - fired as f32 / 2000.0).abs() < 1e-3);
    assert_eq!(last.ne_steps, 0);
    let recon = sae.decode(sae.encode(h.view()).view());
    let error_after = (&recon - &h).mapv(|r| r * r).sum() / 2000.0;
    assert!(error_after < 1.5 * last.loss.squared_error, "{error_after}");
}

#[test]
fn a_larger_l1_weight_gives_a_sparser_code() {
    let h = activations(2000, 12, 1);
    let l0 = |lambda_l1| {
        let cfg = SaeConfig {
            lambda_l1,
            ..config(4)
        };
        let (_, history) = train_sae(&cfg, SaeVariant::Standard, 3, h.view(), &mut |_| {}).unwrap();
        history.epochs[3].l0
    };
    let (weak, strong) = (l0(0.05), l0(1.0));
    assert!(
        strong < 0.5 * weak,
        "L0 {weak} at λ_L1 0.05, {strong} at 1.0"
    );
}

#[test]
fn bit_identical_with_one_and_two_threads() {
    let h = activations(1000, 12, 2);
    for variant in [SaeVariant::Standard, SaeVariant::Ne] {
        let train = |threads| {
            with_threads(threads, || {
                train_sae(&config(2), variant, 9, h.view(), &mut |_| {}).unwrap()
            })
        };
        let (one, one_history) = train(1);
        let (two, two_history) = train(2);
        assert_eq!(one.to_safetensors(), two.to_safetensors(), "{variant:?}");
        assert_eq!(one_history, two_history);
    }
}

#[test]
fn ne_variant_adds_its_loss_from_the_start_step() {
    let h = activations(1000, 12, 3);
    // 8 steps per epoch, 2 epochs; NE from step 5 on: 11 steps with it, 3 in the first epoch.
    let (_, history) = train_sae(&config(2), SaeVariant::Ne, 4, h.view(), &mut |_| {}).unwrap();
    assert_eq!(
        history
            .epochs
            .iter()
            .map(|e| e.ne_steps)
            .collect::<Vec<_>>(),
        [3, 8]
    );
    assert!(
        history
            .epochs
            .iter()
            .all(|e| e.loss.ne > 0.0 && e.loss.ne <= 2.0)
    );

    // On for the last step only: the NE variant differs from the standard SAE.
    let last = SaeConfig {
        ne_start_step: 15,
        ..config(2)
    };
    let (standard, _) = train_sae(&last, SaeVariant::Standard, 4, h.view(), &mut |_| {}).unwrap();
    let (ne, history) = train_sae(&last, SaeVariant::Ne, 4, h.view(), &mut |_| {}).unwrap();
    assert_eq!(history.epochs[1].ne_steps, 1);
    assert_ne!(standard, ne);
}

/// A start step at or past the end would train the standard SAE under the NE name: refused
/// before training, naming both numbers.
#[test]
fn ne_variant_that_would_never_switch_on_is_refused() {
    let h = activations(1000, 12, 3);
    for ne_start_step in [16, 1_000_000] {
        let late = SaeConfig {
            ne_start_step,
            ..config(2)
        };
        let mut called = false;
        let error =
            train_sae(&late, SaeVariant::Ne, 4, h.view(), &mut |_| called = true).unwrap_err();
        assert_eq!(
            error,
            TrainError::Config(ConfigError::NeNeverOn {
                start: ne_start_step,
                steps: 16,
                epochs: 2,
                examples: 1000,
                batch_size: 128
            })
        );
        let message = error.to_string();
        assert!(
            message.contains(&format!("sae.ne_start_step is {ne_start_step}"))
                && message.contains("only 16 steps"),
            "{message}"
        );
        assert!(!called);
        // The standard SAE does not use the start step.
        assert!(train_sae(&late, SaeVariant::Standard, 4, h.view(), &mut |_| {}).is_ok());
    }
}

#[test]
fn progress_reports_windows_and_epoch_ends() {
    // 6400 examples at batch 128: 50 steps per epoch.
    let h = activations(6400, 8, 5);
    let mut reports: Vec<SaeProgress> = Vec::new();
    let cfg = SaeConfig {
        ne_start_step: 60,
        ..config(2)
    };
    let (_, history) = train_sae(&cfg, SaeVariant::Ne, 6, h.view(), &mut |p| {
        reports.push(p.clone())
    })
    .unwrap();
    assert_eq!(
        reports.iter().map(|p| p.step).collect::<Vec<_>>(),
        [50, 100]
    );
    assert_eq!(
        reports.iter().map(|p| p.ne_on).collect::<Vec<_>>(),
        [false, true]
    );
    let ends: Vec<_> = reports.iter().filter_map(|p| p.epoch_end.clone()).collect();
    assert_eq!(ends, history.epochs);
    // The second window is the second epoch: the same steps, so the same means.
    assert_eq!(reports[1].window, history.epochs[1].loss);
    assert_eq!(history.epochs[1].ne_steps, 40);
}

#[test]
fn absurd_learning_rate_stops_with_an_error_naming_the_step() {
    let h = activations(1000, 12, 7);
    let cfg = SaeConfig {
        learning_rate: 1e30,
        ..config(2)
    };
    match train_sae(&cfg, SaeVariant::Standard, 1, h.view(), &mut |_| {}) {
        Err(TrainError::NonFiniteLoss { epoch: 0, step, .. }) => assert!(step > 0 && step < 8),
        other => panic!("expected a non-finite loss in the first epoch, got {other:?}"),
    }
}

#[test]
fn bad_config_or_data_is_rejected_before_training() {
    let h = activations(100, 12, 8);
    let mut called = false;
    let mut run = |cfg: &SaeConfig, h: ndarray::ArrayView2<f32>| {
        train_sae(cfg, SaeVariant::Ne, 0, h, &mut |_| called = true).unwrap_err()
    };
    assert_eq!(
        run(
            &SaeConfig {
                latents: 0,
                ..config(1)
            },
            h.view()
        ),
        TrainError::Config(ConfigError::Zero {
            field: "sae.latents"
        })
    );
    assert!(matches!(
        run(
            &SaeConfig {
                lambda_ne: -1.0,
                ..config(1)
            },
            h.view()
        ),
        TrainError::Config(ConfigError::Negative {
            field: "sae.lambda_ne",
            ..
        })
    ));
    let mut bad = h.clone();
    bad[[3, 1]] = f32::NAN;
    assert_eq!(
        run(&config(1), bad.view()),
        TrainError::NonFiniteInput { row: 3, col: 1 }
    );
    assert_eq!(
        run(&config(1), h.slice(ndarray::s![.., ..0])),
        TrainError::NoFeatures
    );
    assert!(!called, "nothing may train on rejected input");
}

#[test]
fn training_firing_covers_the_whole_run_and_its_last_tenth() {
    // 2000 examples in batches of 128: 16 steps an epoch, 48 in 3 epochs, the last 5 late.
    let h = activations(2000, 12, 1);
    for init in [SaeInit::ScaledTranspose, SaeInit::PytorchDefault] {
        let cfg = SaeConfig { init, ..config(3) };
        let (_, history) = train_sae(&cfg, SaeVariant::Ne, 3, h.view(), &mut |_| {}).unwrap();
        let firing = &history.firing;
        assert_eq!((firing.steps, firing.late_steps), (48, 5));
        let per_epoch: Vec<u64> = (0..48)
            .map(|j| history.epochs.iter().map(|e| e.firing_counts[j]).sum())
            .collect();
        assert_eq!(firing.whole_run, per_epoch, "{init:?}");
        // The last 5 steps are part of the last epoch: never more than it, and some firing.
        for j in 0..48 {
            assert!(firing.last_tenth[j] <= history.epochs[2].firing_counts[j]);
        }
        assert!(firing.last_tenth.iter().sum::<u64>() > 0);
        // At most 5 steps of 128 rows (the last step of an epoch has 2000 - 15 x 128 = 80).
        assert!(firing.last_tenth.iter().all(|&c| c <= 4 * 128 + 80));
        let never = firing.whole_run.iter().filter(|&&c| c == 0).count();
        assert_eq!(firing.never_fired_pct(), 100.0 * never as f64 / 48.0);
    }
}

#[test]
fn the_two_initialisations_train_to_different_models() {
    let h = activations(2000, 12, 1);
    let train = |init| {
        let cfg = SaeConfig { init, ..config(1) };
        train_sae(&cfg, SaeVariant::Standard, 3, h.view(), &mut |_| {})
            .unwrap()
            .0
    };
    let (scaled, pytorch) = (
        train(SaeInit::ScaledTranspose),
        train(SaeInit::PytorchDefault),
    );
    assert_ne!(scaled.w_enc, pytorch.w_enc);
}

/// The standard run copied at `ne_start_step` and continued as an NE run (with a λ_NE of its
/// own) is the NE run trained alone, bit for bit: weights, Adam's moments, the shuffle, the
/// firing records and the history; continued as the standard run it is the standard run. The
/// copy is taken mid-epoch (16 steps per epoch), and progress reports go on as if uninterrupted.
#[test]
fn runs_continued_from_the_shared_first_steps_are_the_runs_trained_alone() {
    let h = activations(2000, 12, 4);
    let cfg = SaeConfig {
        ne_start_step: 21,
        ..config(2)
    };
    let alone = |variant, lambda_ne| {
        let mut training = SaeTraining::new(&cfg, 7, h.view())
            .unwrap()
            .continue_as(variant, h.view())
            .unwrap()
            .with_lambda_ne(lambda_ne);
        let mut reports = Vec::new();
        training
            .run_until(usize::MAX, h.view(), &mut |p| reports.push(p.clone()))
            .unwrap();
        (training, reports)
    };
    let mut shared = SaeTraining::new(&cfg, 7, h.view()).unwrap();
    let mut shared_reports = Vec::new();
    shared
        .run_until(cfg.ne_start_step, h.view(), &mut |p| {
            shared_reports.push(p.clone())
        })
        .unwrap();
    assert_eq!(shared.steps_done(), 21);
    for (variant, lambda_ne) in [(SaeVariant::Standard, 0.5), (SaeVariant::Ne, 2.0)] {
        let mut continued = shared
            .clone()
            .continue_as(variant, h.view())
            .unwrap()
            .with_lambda_ne(lambda_ne);
        let mut reports = shared_reports.clone();
        continued
            .run_until(usize::MAX, h.view(), &mut |p| reports.push(p.clone()))
            .unwrap();
        let (trained_alone, alone_reports) = alone(variant, lambda_ne);
        // Debug prints every f32 in its shortest exact form, so equal text is equal bits.
        assert_eq!(format!("{continued:?}"), format!("{trained_alone:?}"));
        assert_eq!(reports, alone_reports);
        let finished = continued.finish().unwrap();
        let fresh = SaeConfig {
            lambda_ne,
            ..cfg.clone()
        };
        assert_eq!(
            finished,
            train_sae(&fresh, variant, 7, h.view(), &mut |_| {}).unwrap()
        );
        assert_eq!(finished.1.epochs.len(), 2);
        let ne_steps = finished.1.epochs.iter().map(|e| e.ne_steps).sum::<usize>();
        let expected = if variant == SaeVariant::Ne {
            32 - 21
        } else {
            0
        };
        assert_eq!(ne_steps, expected);
    }
}

#[test]
#[should_panic(expected = "NE loss should have switched on at 21")]
fn an_ne_run_cannot_continue_past_its_switch_on_step() {
    let h = activations(2000, 12, 4);
    let cfg = SaeConfig {
        ne_start_step: 21,
        ..config(2)
    };
    let mut training = SaeTraining::new(&cfg, 7, h.view()).unwrap();
    training.run_until(22, h.view(), &mut |_| {}).unwrap();
    let _ = training.continue_as(SaeVariant::Ne, h.view());
}
