//! Every SAE a run shows, whatever made it (trained here, on the λ_NE curve, brought in by
//! `evaluate`, the paper's released files), as one `SaeLayer` under its key, and `Keyed`, the
//! ordered map that carries each layer's evaluation and metrics to the tables and the explorer.
use ne_models::{Sae, SaeVariant, TrainingFiring};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::fmt;
use std::path::PathBuf;

/// Key of the run's standard SAE, as `metrics.json` names it.
pub const STANDARD: &str = "standard";
/// Key of the run's NE SAE, as `metrics.json` names it.
pub const NE: &str = "ne";

/// Where an SAE came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Provenance {
    /// Trained by this run's pipeline with this λ_NE (unused by the standard SAE).
    Trained { variant: SaeVariant, lambda_ne: f32 },
    /// Brought in by `cargo xtask evaluate` from a SAELens folder.
    Imported { source: PathBuf },
    /// One of the paper's released models, read from this `.pt` file.
    Released { file: PathBuf },
}

impl Provenance {
    /// A few words for the explorer and logs.
    pub fn describe(&self) -> String {
        match self {
            Provenance::Trained {
                variant: SaeVariant::Standard,
                ..
            } => "trained here".to_owned(),
            Provenance::Trained { lambda_ne, .. } => format!("trained here, λ_NE {lambda_ne}"),
            Provenance::Imported { source } => format!("imported from {}", source.display()),
            Provenance::Released { file } => {
                let name = file.file_name().unwrap_or(file.as_os_str());
                format!("the paper's released {}", name.to_string_lossy())
            }
        }
    }
}

/// One SAE of a run under its key, with what is known of how it was made.
#[derive(Debug, Clone)]
pub struct SaeLayer {
    /// Its name in `metrics.json`, the explorer and `imported/`.
    pub key: String,
    /// Its heading in the explorer.
    pub title: String,
    pub provenance: Provenance,
    pub sae: Sae,
    /// Which latents fired during its training, when the training was recorded here.
    pub training: Option<TrainingFiring>,
}

/// Values in insertion order under unique keys; serialised as a JSON object in that order,
/// so `{"standard": …, "ne": …}` reads and writes back unchanged.
#[derive(Debug, Clone, PartialEq)]
pub struct Keyed<T>(Vec<(String, T)>);

impl<T> Default for Keyed<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T> Keyed<T> {
    /// The value under `key`, if any.
    pub fn get(&self, key: &str) -> Option<&T> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Adds `value` under `key` at the end, or replaces the value already there in place.
    pub fn insert(&mut self, key: impl Into<String>, value: T) {
        let key = key.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, old)) => *old = value,
            None => self.0.push((key, value)),
        }
    }

    /// `(key, value)` pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &T)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// The same keys with `f` of each value.
    pub fn map<U>(&self, mut f: impl FnMut(&T) -> U) -> Keyed<U> {
        Keyed(self.0.iter().map(|(k, v)| (k.clone(), f(v))).collect())
    }
}

impl<T> std::ops::Index<&str> for Keyed<T> {
    type Output = T;

    /// Panics when `key` is missing: for keys a run always has (`STANDARD`, `NE`), which
    /// `MetricsFile::check` verifies of a file read back.
    fn index(&self, key: &str) -> &T {
        self.get(key)
            .unwrap_or_else(|| panic!("no SAE under the key {key:?}"))
    }
}

impl<T> std::ops::IndexMut<&str> for Keyed<T> {
    fn index_mut(&mut self, key: &str) -> &mut T {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => v,
            None => panic!("no SAE under the key {key:?}"),
        }
    }
}

impl<K: Into<String>, T> FromIterator<(K, T)> for Keyed<T> {
    fn from_iter<I: IntoIterator<Item = (K, T)>>(pairs: I) -> Self {
        let mut keyed = Keyed::default();
        for (k, v) in pairs {
            keyed.insert(k, v);
        }
        keyed
    }
}

impl<T: Serialize> Serialize for Keyed<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Keyed<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct InOrder<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for InOrder<T> {
            type Value = Keyed<T>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of SAEs by key")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keyed<T>, A::Error> {
                let mut keyed = Keyed::default();
                while let Some((k, v)) = map.next_entry::<String, T>()? {
                    if keyed.get(&k).is_some() {
                        return Err(serde::de::Error::custom(format!("the key {k:?} twice")));
                    }
                    keyed.insert(k, v);
                }
                Ok(keyed)
            }
        }

        deserializer.deserialize_map(InOrder(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_insertion_order_through_json_and_replaces_in_place() {
        let mut keyed: Keyed<u32> = [("standard", 1), ("ne", 2)].into_iter().collect();
        keyed.insert("curve-0.01", 3);
        keyed.insert("ne", 4);
        let text = serde_json::to_string(&keyed).unwrap();
        assert_eq!(text, r#"{"standard":1,"ne":4,"curve-0.01":3}"#);
        let back: Keyed<u32> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, keyed);
        assert_eq!(back["curve-0.01"], 3);
        assert_eq!(back.get("imported"), None);
        let twice = serde_json::from_str::<Keyed<u32>>(r#"{"a":1,"a":2}"#).unwrap_err();
        assert!(twice.to_string().contains("\"a\" twice"), "{twice}");
    }
}
