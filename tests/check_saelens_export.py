"""Checks a run's SAELens export from Python, as a SAELens user would read it.

Usage: python check_saelens_export.py RUN_DIR SEED EXPECTED_DIR

For each variant (standard, ne) it loads seed-SEED/saelens/<variant>/ with numpy and
safetensors only, computes the latents of the first rows of seed-SEED/activations/test_hidden.npy
the way SAELens's standard architecture does, ReLU((x - b_dec) @ W_enc + b_enc), and compares them
with EXPECTED_DIR/<variant>.npy (the Rust encoder's latents of the same test images). When the
sae_lens package is importable it also loads the folder with SAE.load_from_disk and compares its
encode(). Exits with status 1 on the first difference above 1e-5.
"""

import json
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

TOLERANCE = 1e-5


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def check_cfg(folder, weights):
    cfg = json.loads((folder / "cfg.json").read_text())
    expected = {
        "architecture": "standard",
        "dtype": "float32",
        "apply_b_dec_to_input": True,
        "normalize_activations": "none",
    }
    for key, value in expected.items():
        if cfg.get(key) != value:
            fail(f"{folder}/cfg.json: {key} is {cfg.get(key)!r}, expected {value!r}")
    d_in, d_sae = cfg["d_in"], cfg["d_sae"]
    shapes = {"W_enc": (d_in, d_sae), "b_enc": (d_sae,), "W_dec": (d_sae, d_in), "b_dec": (d_in,)}
    if set(weights) != set(shapes):
        fail(f"{folder}: tensors {sorted(weights)}, expected {sorted(shapes)}")
    for name, shape in shapes.items():
        if weights[name].shape != shape or weights[name].dtype != np.float32:
            fail(f"{folder}: {name} is {weights[name].dtype} {weights[name].shape}, expected float32 {shape}")
    return cfg


def compare(what, latents, expected):
    if latents.shape != expected.shape:
        fail(f"{what}: shape {latents.shape}, expected {expected.shape}")
    if not (expected > 0).any():
        fail(f"{what}: the expected latents are all zero, nothing is compared")
    worst = float(np.abs(latents - expected).max())
    print(f"{what}: {latents.shape[0]} examples x {latents.shape[1]} latents, max |difference| {worst:.3g}")
    if worst > TOLERANCE:
        fail(f"{what}: differs from the Rust encoder by {worst} > {TOLERANCE}")


def main():
    if len(sys.argv) != 4:
        fail(__doc__)
    run, seed, expected_dir = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    seed_dir = run / f"seed-{seed}"
    hidden = np.load(seed_dir / "activations" / "test_hidden.npy")
    try:
        import torch
        from sae_lens import SAE
    except ImportError:
        SAE = None
        print("sae_lens is not installed: SAE.load_from_disk not checked")
    for variant in ["standard", "ne"]:
        folder = seed_dir / "saelens" / variant
        expected = np.load(expected_dir / f"{variant}.npy")
        x = hidden[: expected.shape[0]]
        weights = load_file(str(folder / "sae_weights.safetensors"))
        check_cfg(folder, weights)
        latents = np.maximum((x - weights["b_dec"]) @ weights["W_enc"] + weights["b_enc"], 0)
        compare(f"{variant} (numpy)", latents, expected)
        if SAE is not None:
            sae = SAE.load_from_disk(str(folder))
            with torch.no_grad():
                encoded = sae.encode(torch.from_numpy(x)).numpy()
            compare(f"{variant} (SAELens {type(sae).__name__})", encoded, expected)
    print("OK")


if __name__ == "__main__":
    main()
