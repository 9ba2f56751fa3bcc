//! SAEs in the on-disk layout of SAELens 6.x, the PyTorch library most SAE research uses: a
//! folder holding `cfg.json` and `sae_weights.safetensors`, which `SAE.load_from_disk(folder)`
//! loads. Our SAE is SAELens's "standard" architecture: latents ReLU((x - b_dec) W_enc + b_enc),
//! reconstruction f W_dec + b_dec. SAELens multiplies from the right, so its `W_enc` is our
//! `w_enc` transposed ([d_in, d_sae]) and its `W_dec` our `w_dec` transposed ([d_sae, d_in]).
//!
//! Reading accepts exactly what our `Sae` can represent and names the field of anything else.
//! Keys SAELens itself ignores when loading (unknown top-level keys, `device`, anything under
//! `metadata`) are ignored here too; `metadata` is handed back to the caller.
use crate::error::ModelError;
use crate::sae::Sae;
use crate::weights::{self, WeightFile};
use ndarray::{Array2, ArrayView2};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The config file SAELens reads.
pub const CFG_FILE: &str = "cfg.json";
/// The weight file SAELens reads.
pub const WEIGHTS_FILE: &str = "sae_weights.safetensors";
/// `metadata.sae_lens_version` of the files we write. SAELens converts configs from before
/// 6.0 (or without a version) with its legacy rules, which drop most metadata keys; this marks
/// the file as being in the 6.x layout. `sae_lens_training_version` stays null: SAELens did not
/// train it.
pub const LAYOUT_VERSION: &str = "6.0.0";

const NAMES: [&str; 4] = ["W_enc", "b_enc", "W_dec", "b_dec"];

/// The two files of a SAELens folder, ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct SaeLensFiles {
    /// Contents of `cfg.json`.
    pub cfg_json: Vec<u8>,
    /// Contents of `sae_weights.safetensors`.
    pub weights: Vec<u8>,
}

/// An SAE read from a SAELens folder, with the `metadata` object of its `cfg.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct SaeLensSae {
    /// The weights.
    pub sae: Sae,
    /// Whatever the writer recorded about the SAE (ours: its provenance), as it was.
    pub metadata: Map<String, Value>,
}

/// A SAELens folder that cannot be read, or that holds an SAE ours cannot represent.
#[derive(Debug, Error)]
pub enum SaeLensError {
    /// A file of the folder is missing or unreadable.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// `cfg.json` is not JSON.
    #[error("{} is not valid JSON: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's complaint.
        source: serde_json::Error,
    },
    /// A `cfg.json` entry is missing, of the wrong type, or asks for what ours cannot do.
    #[error("{}: `{field}` {problem}", path.display())]
    Field {
        /// The file.
        path: PathBuf,
        /// The entry.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The weights file does not hold an SAE of the shape `cfg.json` describes.
    #[error("{}: {source}", path.display())]
    Weights {
        /// The file.
        path: PathBuf,
        /// What is wrong with its tensors.
        source: ModelError,
    },
}

/// The SAELens files of `sae`. `metadata` is merged over the layout version keys into
/// `cfg.json`'s `metadata` object, which SAELens keeps as `sae.cfg.metadata`.
pub fn files(sae: &Sae, metadata: &Map<String, Value>) -> SaeLensFiles {
    let mut all_metadata = Map::new();
    all_metadata.insert("sae_lens_version".into(), LAYOUT_VERSION.into());
    all_metadata.insert("sae_lens_training_version".into(), Value::Null);
    all_metadata.extend(metadata.iter().map(|(k, v)| (k.clone(), v.clone())));
    let cfg = json!({
        "architecture": "standard",
        "d_in": sae.inputs(),
        "d_sae": sae.latents(),
        "dtype": "float32",
        "device": "cpu",
        "apply_b_dec_to_input": true,
        "normalize_activations": "none",
        "reshape_activations": "none",
        "metadata": all_metadata,
    });
    let mut cfg_json = serde_json::to_vec_pretty(&cfg).expect("plain JSON values");
    cfg_json.push(b'\n');
    let weights = weights::to_bytes(&[
        (NAMES[0], sae.w_enc.t().into_dyn()),
        (NAMES[1], sae.b_enc.view().into_dyn()),
        (NAMES[2], sae.w_dec.t().into_dyn()),
        (NAMES[3], sae.b_dec.view().into_dyn()),
    ]);
    SaeLensFiles { cfg_json, weights }
}

/// Reads the SAELens folder `dir`. Errors name the file and the field or tensor at fault.
///
/// # Errors
/// When `cfg.json` or `sae_weights.safetensors` cannot be read, `cfg.json` is not JSON or asks
/// for an SAE ours cannot represent, or the weights do not match it.
pub fn read(dir: &Path) -> Result<SaeLensSae, SaeLensError> {
    let read_file = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path)
            .map(|bytes| (bytes, path.clone()))
            .map_err(|source| SaeLensError::Read { path, source })
    };
    let (cfg_bytes, cfg_path) = read_file(CFG_FILE)?;
    let cfg = Cfg::parse(&cfg_bytes, &cfg_path)?;
    let (weight_bytes, weights_path) = read_file(WEIGHTS_FILE)?;
    let sae = cfg
        .weights(&weight_bytes)
        .map_err(|source| SaeLensError::Weights {
            path: weights_path,
            source,
        })?;
    Ok(SaeLensSae {
        sae,
        metadata: cfg.metadata,
    })
}

/// What `cfg.json` says, once checked.
struct Cfg {
    d_in: usize,
    d_sae: usize,
    metadata: Map<String, Value>,
}

impl Cfg {
    fn parse(bytes: &[u8], path: &Path) -> Result<Self, SaeLensError> {
        let json: Value = serde_json::from_slice(bytes).map_err(|source| SaeLensError::Json {
            path: path.to_owned(),
            source,
        })?;
        let fields = Fields { path, json: &json };
        if !json.is_object() {
            return Err(fields.error("(the whole file)", "must be a JSON object".into()));
        }

        let architecture = fields.string("architecture", None)?;
        if architecture != "standard" {
            return Err(fields.error(
                "architecture",
                format!(
                    "is {architecture:?}; only \"standard\" (ReLU((x - b_dec) W_enc + b_enc)) is \
                     the architecture of this project's SAE"
                ),
            ));
        }
        let d_in = fields.dimension("d_in")?;
        let d_sae = fields.dimension("d_sae")?;
        let dtype = fields.string("dtype", Some("float32"))?;
        if !matches!(dtype.as_str(), "float32" | "torch.float32") {
            return Err(fields.error(
                "dtype",
                format!(
                    "is {dtype:?}; only float32 can be read (in SAELens: \
                     sae.to(dtype=torch.float32), then sae.save_model(folder))"
                ),
            ));
        }
        if !fields.boolean("apply_b_dec_to_input", true)? {
            return Err(fields.error(
                "apply_b_dec_to_input",
                "is false; this project's SAE always subtracts b_dec before encoding, and its \
                 neuron embeddings are taken on x - b_dec"
                    .into(),
            ));
        }
        for field in ["normalize_activations", "reshape_activations"] {
            let value = fields.string(field, Some("none"))?;
            if value != "none" {
                return Err(fields.error(
                    field,
                    format!("is {value:?}; only \"none\" is supported (fold it into the weights)"),
                ));
            }
        }
        let metadata = match fields.get("metadata") {
            None => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(other) => {
                return Err(fields.error("metadata", format!("must be an object, found {other}")));
            }
        };
        Ok(Self {
            d_in,
            d_sae,
            metadata,
        })
    }

    /// The weights, which must be the four float32 tensors of the shapes `cfg.json` gives.
    fn weights(&self, bytes: &[u8]) -> Result<Sae, ModelError> {
        let (d_in, d_sae) = (self.d_in, self.d_sae);
        let file = WeightFile::parse(bytes, &NAMES)?;
        let matrix = |name: &'static str, expected: [usize; 2], dims: &str| {
            let m = file.matrix(name)?;
            if m.shape() != expected {
                return Err(ModelError::Shape {
                    name,
                    found: m.shape().to_vec(),
                    expected: format!("{expected:?} ({dims} from {CFG_FILE})"),
                });
            }
            Ok(m)
        };
        let w_enc = matrix(NAMES[0], [d_in, d_sae], "[d_in, d_sae]")?;
        let b_enc = file.vector(NAMES[1], d_sae)?;
        let w_dec = matrix(NAMES[2], [d_sae, d_in], "[d_sae, d_in]")?;
        let b_dec = file.vector(NAMES[3], d_in)?;
        Ok(Sae {
            w_enc: transposed(w_enc.view()),
            b_enc,
            w_dec: transposed(w_dec.view()),
            b_dec,
        })
    }
}

fn transposed(m: ArrayView2<f32>) -> Array2<f32> {
    m.t().as_standard_layout().into_owned()
}

/// Typed access to the fields of `cfg.json`, with errors that name them.
struct Fields<'a> {
    path: &'a Path,
    json: &'a Value,
}

impl Fields<'_> {
    fn error(&self, field: &'static str, problem: String) -> SaeLensError {
        SaeLensError::Field {
            path: self.path.to_owned(),
            field,
            problem,
        }
    }

    /// The field, or `None` if absent.
    fn get(&self, field: &str) -> Option<&Value> {
        self.json.get(field)
    }

    /// A string field; absent means `default`, or an error where there is none.
    fn string(&self, field: &'static str, default: Option<&str>) -> Result<String, SaeLensError> {
        match (self.get(field), default) {
            (Some(Value::String(s)), _) => Ok(s.clone()),
            (None, Some(d)) => Ok(d.to_owned()),
            (None, None) => Err(self.error(field, "is missing".into())),
            (Some(other), _) => Err(self.error(field, format!("must be a string, found {other}"))),
        }
    }

    fn boolean(&self, field: &'static str, default: bool) -> Result<bool, SaeLensError> {
        match self.get(field) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(self.error(field, format!("must be true or false, found {other}"))),
        }
    }

    /// A required whole number of at least 1.
    fn dimension(&self, field: &'static str) -> Result<usize, SaeLensError> {
        match self.get(field) {
            None => Err(self.error(field, "is missing".into())),
            Some(value) => value
                .as_u64()
                .filter(|&n| n > 0)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| {
                    self.error(
                        field,
                        format!("must be a whole number above 0, found {value}"),
                    )
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::random_array;

    const D: usize = 5;
    const M: usize = 7;

    fn random_sae() -> Sae {
        Sae {
            w_enc: random_array(61, (M, D), -1.0, 1.0),
            b_enc: random_array(62, M, -0.3, 0.3),
            w_dec: random_array(63, (D, M), -1.0, 1.0),
            b_dec: random_array(64, D, -0.5, 0.5),
        }
    }

    fn write(dir: &Path, files: &SaeLensFiles) {
        std::fs::write(dir.join(CFG_FILE), &files.cfg_json).unwrap();
        std::fs::write(dir.join(WEIGHTS_FILE), &files.weights).unwrap();
    }

    /// The exported folder with `edit` applied to its `cfg.json`, read back.
    fn read_with_cfg(
        edit: impl FnOnce(&mut Map<String, Value>),
    ) -> Result<SaeLensSae, SaeLensError> {
        let dir = tempfile::tempdir().unwrap();
        let mut files = files(&random_sae(), &Map::new());
        let mut cfg: Value = serde_json::from_slice(&files.cfg_json).unwrap();
        edit(cfg.as_object_mut().unwrap());
        files.cfg_json = serde_json::to_vec(&cfg).unwrap();
        write(dir.path(), &files);
        read(dir.path())
    }

    /// The exported folder with its tensors replaced by `tensors`, read back.
    fn read_with_tensors(tensors: &[(&str, ndarray::ArrayViewD<f32>)]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let mut files = files(&random_sae(), &Map::new());
        files.weights = weights::to_bytes(tensors);
        write(dir.path(), &files);
        read(dir.path()).unwrap_err().to_string()
    }

    #[test]
    fn export_and_import_give_the_same_sae_and_identical_latents() {
        let sae = random_sae();
        let provenance = Map::from_iter([("seed".to_owned(), json!(3))]);
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &files(&sae, &provenance));
        let back = read(dir.path()).unwrap();
        assert_eq!(back.sae, sae);
        assert_eq!(back.metadata["seed"], 3);
        assert_eq!(back.metadata["sae_lens_version"], LAYOUT_VERSION);
        let h = random_array(65, (9, D), 0.0, 2.0);
        assert_eq!(back.sae.encode(h.view()), sae.encode(h.view()));
    }

    /// SAELens's forward pass written out on the exported tensors gives our latents.
    #[test]
    fn exported_tensors_are_in_saelens_orientation() {
        let sae = random_sae();
        let files = files(&sae, &Map::new());
        let cfg: Value = serde_json::from_slice(&files.cfg_json).unwrap();
        assert_eq!(cfg["architecture"], "standard");
        assert_eq!(
            (cfg["d_in"].as_u64(), cfg["d_sae"].as_u64()),
            (Some(5), Some(7))
        );
        assert_eq!(cfg["dtype"], "float32");
        assert_eq!(cfg["apply_b_dec_to_input"], true);
        assert_eq!(cfg["normalize_activations"], "none");
        let file = WeightFile::parse(&files.weights, &NAMES).unwrap();
        let w_enc = file.matrix("W_enc").unwrap();
        let w_dec = file.matrix("W_dec").unwrap();
        assert_eq!((w_enc.shape(), w_dec.shape()), (&[D, M][..], &[M, D][..]));
        let b_enc = file.vector("b_enc", M).unwrap();
        let b_dec = file.vector("b_dec", D).unwrap();
        let h = random_array(66, (4, D), 0.0, 2.0);
        let theirs = ((&h - &b_dec).dot(&w_enc) + &b_enc).mapv(|v| v.max(0.0));
        let ours = sae.encode(h.view());
        assert!((&theirs - &ours).iter().all(|d| d.abs() < 1e-6));
        let recon = theirs.dot(&w_dec) + &b_dec;
        assert!(
            (&recon - &sae.decode(ours.view()))
                .iter()
                .all(|d| d.abs() < 1e-5)
        );
    }

    #[test]
    fn defaults_and_keys_saelens_ignores_are_accepted() {
        let sae = read_with_cfg(|cfg| {
            for key in [
                "dtype",
                "apply_b_dec_to_input",
                "normalize_activations",
                "metadata",
            ] {
                cfg.remove(key);
            }
            cfg.insert("device".into(), json!("cuda:0"));
            cfg.insert("some_future_key".into(), json!([1, 2]));
        })
        .unwrap();
        assert_eq!(sae.sae, random_sae());
        assert!(sae.metadata.is_empty());
        let torch_dtype = read_with_cfg(|cfg| {
            cfg.insert("dtype".into(), json!("torch.float32"));
        });
        assert!(torch_dtype.is_ok());
    }

    #[test]
    fn configs_our_sae_cannot_represent_are_rejected_naming_the_field() {
        let cases: [(&str, Value, &str); 11] = [
            ("apply_b_dec_to_input", json!(false), "is false"),
            ("apply_b_dec_to_input", json!("yes"), "true or false"),
            ("architecture", json!("topk"), "\"topk\""),
            ("architecture", json!("jumprelu"), "\"jumprelu\""),
            ("dtype", json!("float16"), "\"float16\""),
            ("dtype", json!("bfloat16"), "only float32"),
            (
                "normalize_activations",
                json!("layer_norm"),
                "\"layer_norm\"",
            ),
            ("reshape_activations", json!("hook_z"), "\"hook_z\""),
            ("d_in", json!(0), "above 0"),
            ("d_sae", json!(51.5), "whole number"),
            ("metadata", json!("none"), "must be an object"),
        ];
        for (field, value, needle) in cases {
            let err = read_with_cfg(|cfg| {
                cfg.insert(field.into(), value.clone());
            })
            .unwrap_err();
            let message = err.to_string();
            assert!(
                matches!(&err, SaeLensError::Field { field: f, .. } if *f == field),
                "{field} = {value}: {message}"
            );
            assert!(
                message.contains(&format!("`{field}`")) && message.contains(needle),
                "{field} = {value}: {message}"
            );
            assert!(message.contains(CFG_FILE), "{message}");
        }
        let missing = read_with_cfg(|cfg| {
            cfg.remove("architecture");
        })
        .unwrap_err()
        .to_string();
        assert!(missing.contains("`architecture` is missing"), "{missing}");
    }

    #[test]
    fn tensors_that_disagree_with_the_config_are_rejected_naming_the_tensor() {
        let sae = random_sae();
        let (w_enc, w_dec) = (sae.w_enc.t(), sae.w_dec.t());
        // Our own orientation instead of SAELens's.
        let ours = read_with_tensors(&[
            ("W_enc", sae.w_enc.view().into_dyn()),
            ("b_enc", sae.b_enc.view().into_dyn()),
            ("W_dec", w_dec.into_dyn()),
            ("b_dec", sae.b_dec.view().into_dyn()),
        ]);
        assert!(
            ours.contains(WEIGHTS_FILE)
                && ours.contains("`W_enc` has shape [7, 5], expected [5, 7] ([d_in, d_sae]"),
            "{ours}"
        );
        let short_bias = sae.b_enc.slice(ndarray::s![..3]).to_owned();
        let message = read_with_tensors(&[
            ("W_enc", w_enc.into_dyn()),
            ("b_enc", short_bias.view().into_dyn()),
            ("W_dec", w_dec.into_dyn()),
            ("b_dec", sae.b_dec.view().into_dyn()),
        ]);
        assert!(
            message.contains("`b_enc` has shape [3], expected [7]"),
            "{message}"
        );
        let missing = read_with_tensors(&[("W_enc", w_enc.into_dyn())]);
        assert!(missing.contains("missing"), "{missing}");
        let extra = read_with_tensors(&[
            ("W_enc", w_enc.into_dyn()),
            ("b_enc", sae.b_enc.view().into_dyn()),
            ("W_dec", w_dec.into_dyn()),
            ("b_dec", sae.b_dec.view().into_dyn()),
            ("threshold", sae.b_enc.view().into_dyn()),
        ]);
        assert!(extra.contains("unexpected tensor `threshold`"), "{extra}");
    }

    #[test]
    fn half_precision_tensors_are_rejected_naming_the_tensor() {
        let dir = tempfile::tempdir().unwrap();
        let sae = random_sae();
        let halves: Vec<u8> = vec![0; 2 * D * M];
        let shape_of = |name: &str| match name {
            "W_enc" => vec![D, M],
            "W_dec" => vec![M, D],
            "b_enc" => vec![M],
            _ => vec![D],
        };
        let views: Vec<(&str, safetensors::tensor::TensorView)> = NAMES
            .iter()
            .map(|&name| {
                let shape = shape_of(name);
                let len = 2 * shape.iter().product::<usize>();
                let view = safetensors::tensor::TensorView::new(
                    safetensors::Dtype::F16,
                    shape,
                    &halves[..len],
                )
                .unwrap();
                (name, view)
            })
            .collect();
        let mut out = files(&sae, &Map::new());
        out.weights = safetensors::serialize(views, None).unwrap();
        write(dir.path(), &out);
        let message = read(dir.path()).unwrap_err().to_string();
        assert!(
            message.contains("`W_enc` has dtype F16, expected F32"),
            "{message}"
        );
    }

    #[test]
    fn a_missing_folder_or_bad_json_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let message = read(&dir.path().join("nowhere")).unwrap_err().to_string();
        assert!(message.contains("nowhere/cfg.json"), "{message}");
        std::fs::write(dir.path().join(CFG_FILE), b"{\"d_in\": 64,").unwrap();
        let message = read(dir.path()).unwrap_err().to_string();
        assert!(message.contains("cfg.json is not valid JSON"), "{message}");
    }
}
