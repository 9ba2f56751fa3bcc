//! PyTorch `torch.save` files of a `state_dict`, read without Python: the zip archive (through
//! the `zip` crate) and, inside it, a strict reader of exactly the pickle opcodes such files use
//! (protocol 2: an `OrderedDict` of `_rebuild_tensor_v2` calls on persistent-id storages).
//!
//! Anything else (another opcode, a global other than the three a state dict names, a tensor
//! that reaches past its storage, a size that overflows) is refused with an error that says
//! what and where, before anything is allocated for it. Only float32 tensors are read.
use crate::{Linear, Mlp, Sae};
use ndarray::{Array1, Array2};
use std::collections::{BTreeMap, HashMap};
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use thiserror::Error;

/// A float32 tensor of a state dict, its elements in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Its dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Its elements, as many as the shape's product.
    pub data: Vec<f32>,
}

/// A state dict: parameter name to tensor.
pub type StateDict = BTreeMap<String, Tensor>;

/// Why a `.pt` file could not be read, with the file it is about.
#[derive(Debug, Error)]
#[error("{}: {problem}", path.display())]
pub struct TorchError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub problem: Problem,
}

/// What is wrong with a `.pt` file's contents.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum Problem {
    /// The file cannot be read (the operating system's message).
    #[error("cannot read the file: {0}")]
    Io(String),
    /// The bytes are not a zip archive (the zip reader's message).
    #[error("not a torch.save zip archive: {0}")]
    Zip(String),
    /// No pickled object in the archive.
    #[error("the archive has no `<name>/data.pkl` record (is it an old, non-zip torch.save file?)")]
    NoPickle,
    /// More than one pickled object, so which is the state dict is unclear.
    #[error("the archive has {0} `data.pkl` records; a torch.save file has one")]
    ManyPickles(usize),
    /// The archive's `byteorder` record (named) says big-endian.
    #[error("`{0}` says the storages are not little-endian")]
    ByteOrder(String),
    /// The pickle uses an opcode or a structure state dicts do not.
    #[error("pickle byte {offset}: {what}")]
    Pickle {
        /// Where in the pickle.
        offset: usize,
        /// What is wrong there.
        what: String,
    },
    /// A tensor that is not a float32 tensor a state dict can hold (dtype, strides, offset).
    #[error("tensor {name:?}: {what}")]
    Tensor {
        /// The parameter's name.
        name: String,
        /// What is wrong with it.
        what: String,
    },
    /// A storage the pickle refers to is not in the archive (its record's name).
    #[error("record `{0}` is missing from the archive")]
    MissingRecord(String),
    /// A storage shorter than its tensor.
    #[error("record `{record}` holds {bytes} bytes, too few for {numel} float32 values")]
    ShortStorage {
        /// The storage's record.
        record: String,
        /// Its length.
        bytes: u64,
        /// The elements the tensor needs.
        numel: usize,
    },
    /// A parameter the model needs is not in the state dict.
    #[error("expected a parameter {name:?}; the file has {found}")]
    MissingParameter {
        /// The parameter.
        name: String,
        /// The names the state dict has.
        found: String,
    },
    /// A parameter of the wrong shape, or shapes that do not fit together.
    #[error("parameter {name:?} has shape {found:?}, expected {expected}")]
    Shape {
        /// The parameter.
        name: String,
        /// Its shape.
        found: Vec<usize>,
        /// The shape it should have.
        expected: String,
    },
}

/// Reads the state dict of the `torch.save` file at `path`.
///
/// # Errors
/// When the file cannot be read, or as [`parse`], with the path.
pub fn read(path: &Path) -> Result<StateDict, TorchError> {
    let error = |problem| TorchError {
        path: path.to_owned(),
        problem,
    };
    let bytes = std::fs::read(path).map_err(|e| error(Problem::Io(e.to_string())))?;
    parse(&bytes).map_err(error)
}

/// The state dict of a `torch.save` file's bytes.
///
/// # Errors
/// When the bytes are not a zip archive with one pickled state dict of little-endian float32
/// tensors whose storages are all there and long enough; the [`Problem`] says which.
pub fn parse(bytes: &[u8]) -> Result<StateDict, Problem> {
    let zip_error = |e: zip::result::ZipError| Problem::Zip(e.to_string());
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(zip_error)?;
    let pickles: Vec<String> = archive
        .file_names()
        .filter(|name| {
            name.strip_suffix("/data.pkl")
                .is_some_and(|folder| !folder.is_empty() && !folder.contains('/'))
        })
        .map(str::to_owned)
        .collect();
    let pickle_name = match pickles.as_slice() {
        [] => return Err(Problem::NoPickle),
        [one] => one.clone(),
        many => return Err(Problem::ManyPickles(many.len())),
    };
    let folder = pickle_name.trim_end_matches("data.pkl").to_owned();
    let byteorder = format!("{folder}byteorder");
    if archive.index_for_name(&byteorder).is_some() {
        let order = read_record(&mut archive, &byteorder, bytes.len())?;
        if order != b"little" {
            return Err(Problem::ByteOrder(byteorder));
        }
    }
    let pickle = read_record(&mut archive, &pickle_name, bytes.len())?;
    let entries = Unpickler::new(&pickle).run()?;
    let mut dict = StateDict::new();
    let mut storages: HashMap<String, Rc<Vec<f32>>> = HashMap::new();
    for (name, tensor) in entries {
        let record = format!("{folder}data/{}", tensor.storage.key);
        let storage = match storages.get(&record) {
            Some(values) => Rc::clone(values),
            None => {
                let values = Rc::new(read_storage(
                    &mut archive,
                    &record,
                    tensor.storage.numel,
                    bytes.len(),
                )?);
                storages.insert(record, Rc::clone(&values));
                values
            }
        };
        let data = tensor.gather(&storage).map_err(|what| Problem::Tensor {
            name: name.clone(),
            what,
        })?;
        if dict
            .insert(
                name.clone(),
                Tensor {
                    shape: tensor.size,
                    data,
                },
            )
            .is_some()
        {
            return Err(Problem::Tensor {
                name,
                what: "appears twice".into(),
            });
        }
    }
    Ok(dict)
}

/// The bytes of record `name`; its declared size is checked against the archive's before any
/// buffer is made for it.
fn read_record(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    archive_len: usize,
) -> Result<Vec<u8>, Problem> {
    let mut file = archive.by_name(name).map_err(|e| match e {
        zip::result::ZipError::FileNotFound => Problem::MissingRecord(name.to_owned()),
        e => Problem::Zip(format!("record `{name}`: {e}")),
    })?;
    let size = file.size();
    if size > archive_len as u64 {
        return Err(Problem::Zip(format!(
            "record `{name}` claims {size} bytes in a {archive_len}-byte archive"
        )));
    }
    let mut out = Vec::with_capacity(size as usize);
    file.by_ref()
        .take(size)
        .read_to_end(&mut out)
        .map_err(|e| Problem::Zip(format!("record `{name}`: {e}")))?;
    Ok(out)
}

/// The first `numel` little-endian float32 values of storage record `name`.
fn read_storage(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    numel: usize,
    archive_len: usize,
) -> Result<Vec<f32>, Problem> {
    let bytes = read_record(archive, name, archive_len)?;
    let short = || Problem::ShortStorage {
        record: name.to_owned(),
        bytes: bytes.len() as u64,
        numel,
    };
    let needed = numel.checked_mul(4).ok_or_else(short)?;
    if bytes.len() < needed {
        return Err(short());
    }
    Ok(bytes[..needed]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

/// A persistent-id storage: `('storage', torch.FloatStorage, key, location, numel)`.
#[derive(Debug, Clone, PartialEq)]
struct StorageRef {
    key: String,
    numel: usize,
}

/// A `_rebuild_tensor_v2(storage, offset, size, stride, ...)` call.
#[derive(Debug, Clone, PartialEq)]
struct TensorRef {
    storage: StorageRef,
    offset: usize,
    size: Vec<usize>,
    stride: Vec<usize>,
}

impl TensorRef {
    /// The tensor's elements in row-major order, read from `storage` (its `numel` values), after
    /// checking that every element lies inside it.
    fn gather(&self, storage: &[f32]) -> Result<Vec<f32>, String> {
        if self.size.len() != self.stride.len() {
            return Err(format!(
                "{} sizes but {} strides",
                self.size.len(),
                self.stride.len()
            ));
        }
        let overflow = || "its size overflows".to_owned();
        let count = self
            .size
            .iter()
            .try_fold(1usize, |n, &s| n.checked_mul(s))
            .ok_or_else(overflow)?;
        if count == 0 {
            return Ok(Vec::new());
        }
        let last = self
            .size
            .iter()
            .zip(&self.stride)
            .try_fold(self.offset, |end, (&s, &st)| {
                (s - 1).checked_mul(st).and_then(|d| end.checked_add(d))
            })
            .ok_or_else(overflow)?;
        if last >= storage.len() || count > storage.len() {
            return Err(format!(
                "shape {:?} at offset {} with strides {:?} reaches past its storage `{}` of {} \
                 values",
                self.size,
                self.offset,
                self.stride,
                self.storage.key,
                storage.len()
            ));
        }
        let mut out = Vec::with_capacity(count);
        let mut index = vec![0usize; self.size.len()];
        for _ in 0..count {
            let at = self.offset
                + index
                    .iter()
                    .zip(&self.stride)
                    .map(|(i, st)| i * st)
                    .sum::<usize>();
            out.push(storage[at]);
            for axis in (0..index.len()).rev() {
                index[axis] += 1;
                if index[axis] < self.size[axis] {
                    break;
                }
                index[axis] = 0;
            }
        }
        Ok(out)
    }
}

/// The values a state dict's pickle builds.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    None,
    Bool(bool),
    Int(i64),
    Str(String),
    Tuple(Vec<Rc<Node>>),
    Dict(Vec<(Rc<Node>, Rc<Node>)>),
    Global(Callable),
    Storage(StorageRef),
    Tensor(TensorRef),
}

/// A value with how deeply it nests tuples and dicts, so that checking a new container's depth
/// looks only at its items.
#[derive(Debug, Clone, PartialEq)]
struct Node {
    value: Value,
    depth: usize,
}

/// The globals a state dict names.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Callable {
    OrderedDict,
    RebuildTensorV2,
    FloatStorage,
}

/// Deepest nesting of tuples and dicts accepted (a state dict needs 3); bounds the recursion
/// of dropping a hostile pickle's values.
const MAX_DEPTH: usize = 16;

/// Dict entries SETITEM(S) may copy per pickle byte (a state dict copies each entry at most once).
const COPY_BUDGET_PER_BYTE: usize = 4;

/// A pickle machine of the opcodes `torch.save` writes for a state dict of tensors.
struct Unpickler<'a> {
    bytes: &'a [u8],
    at: usize,
    /// Start of the opcode being run, for errors.
    op_at: usize,
    stack: Vec<Rc<Node>>,
    marks: Vec<usize>,
    memo: HashMap<u32, Rc<Node>>,
    /// Dict entries copied so far by SETITEM(S), bounded so that a hostile pickle cannot make
    /// the copies quadratic.
    copied: usize,
}

impl<'a> Unpickler<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            at: 0,
            op_at: 0,
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
            copied: 0,
        }
    }

    fn fail<T>(&self, what: impl Into<String>) -> Result<T, Problem> {
        Err(Problem::Pickle {
            offset: self.op_at,
            what: what.into(),
        })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Problem> {
        match self.at.checked_add(n) {
            Some(end) if end <= self.bytes.len() => {
                let out = &self.bytes[self.at..end];
                self.at = end;
                Ok(out)
            }
            _ => self.fail(format!("needs {n} more bytes than the pickle has")),
        }
    }

    fn u8(&mut self) -> Result<u8, Problem> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, Problem> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, Problem> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn line(&mut self) -> Result<&'a str, Problem> {
        let rest = &self.bytes[self.at..];
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return self.fail("a GLOBAL name without its end of line");
        };
        let text = std::str::from_utf8(&rest[..end]).or_else(|_| self.fail("a non-UTF-8 name"))?;
        self.at += end + 1;
        Ok(text)
    }

    fn pop(&mut self) -> Result<Rc<Node>, Problem> {
        if self.marks.last().is_some_and(|&m| m >= self.stack.len()) {
            return self.fail("pops past a MARK");
        }
        match self.stack.pop() {
            Some(v) => Ok(v),
            None => self.fail("pops an empty stack"),
        }
    }

    fn push(&mut self, value: Value) -> Result<(), Problem> {
        let depth = depth(&value);
        if depth > MAX_DEPTH {
            return self.fail(format!("nests deeper than {MAX_DEPTH} levels"));
        }
        self.stack.push(Rc::new(Node { value, depth }));
        Ok(())
    }

    /// The values pushed since the last MARK, which is removed.
    fn pop_mark(&mut self) -> Result<Vec<Rc<Node>>, Problem> {
        let Some(mark) = self.marks.pop() else {
            return self.fail("no MARK to close");
        };
        Ok(self.stack.split_off(mark))
    }

    fn tuple(&mut self, n: usize) -> Result<(), Problem> {
        let mut items = (0..n).map(|_| self.pop()).collect::<Result<Vec<_>, _>>()?;
        items.reverse();
        self.push(Value::Tuple(items))
    }

    /// Runs to STOP and returns the state dict's entries in file order.
    fn run(mut self) -> Result<Vec<(String, TensorRef)>, Problem> {
        loop {
            self.op_at = self.at;
            let op = self.u8()?;
            match op {
                0x80 => {
                    let protocol = self.u8()?;
                    if protocol > 2 {
                        return self
                            .fail(format!("pickle protocol {protocol}; torch.save writes 2"));
                    }
                }
                b'.' => break,
                b'(' => self.marks.push(self.stack.len()),
                b'N' => self.push(Value::None)?,
                0x88 => self.push(Value::Bool(true))?,
                0x89 => self.push(Value::Bool(false))?,
                b'K' => {
                    let v = self.u8()?;
                    self.push(Value::Int(v.into()))?
                }
                b'M' => {
                    let v = self.u16()?;
                    self.push(Value::Int(v.into()))?
                }
                b'J' => {
                    let v = self.u32()? as i32;
                    self.push(Value::Int(v.into()))?
                }
                0x8a => {
                    let n = usize::from(self.u8()?);
                    if n > 8 {
                        return self.fail(format!("a {n}-byte integer (at most 8 are read)"));
                    }
                    let b = self.take(n)?;
                    let mut v = [if b.last().is_some_and(|&x| x >= 0x80) {
                        0xff
                    } else {
                        0
                    }; 8];
                    v[..n].copy_from_slice(b);
                    self.push(Value::Int(i64::from_le_bytes(v)))?
                }
                b'X' => {
                    let n = self.u32()? as usize;
                    let b = self.take(n)?;
                    let text = std::str::from_utf8(b)
                        .or_else(|_| self.fail("a string that is not UTF-8"))?;
                    self.push(Value::Str(text.to_owned()))?
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    let callable = match (module, name) {
                        ("collections", "OrderedDict") => Callable::OrderedDict,
                        ("torch._utils", "_rebuild_tensor_v2") => Callable::RebuildTensorV2,
                        ("torch", "FloatStorage") => Callable::FloatStorage,
                        ("torch", storage) if storage.ends_with("Storage") => {
                            return self.fail(format!(
                                "a torch.{storage}: only float32 tensors (FloatStorage) are read"
                            ));
                        }
                        _ => {
                            return self.fail(format!(
                                "the global {module}.{name}, which a state dict of tensors does \
                                 not use"
                            ));
                        }
                    };
                    self.push(Value::Global(callable))?
                }
                b'q' => {
                    let key = self.u8()?.into();
                    self.memo_put(key)?
                }
                b'r' => {
                    let key = self.u32()?;
                    self.memo_put(key)?
                }
                b'h' => {
                    let key = self.u8()?.into();
                    self.memo_get(key)?
                }
                b'j' => {
                    let key = self.u32()?;
                    self.memo_get(key)?
                }
                b')' => self.push(Value::Tuple(Vec::new()))?,
                b't' => {
                    let items = self.pop_mark()?;
                    self.push(Value::Tuple(items))?
                }
                0x85 => self.tuple(1)?,
                0x86 => self.tuple(2)?,
                0x87 => self.tuple(3)?,
                b'}' => self.push(Value::Dict(Vec::new()))?,
                b's' => {
                    let value = self.pop()?;
                    let key = self.pop()?;
                    self.set_items(vec![key, value])?
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    if items.len() % 2 != 0 {
                        return self.fail("SETITEMS with an odd number of values");
                    }
                    self.set_items(items)?
                }
                b'b' => {
                    // BUILD on a dict sets attributes: a state dict's `_metadata`, not needed.
                    let _state = self.pop()?;
                    if !matches!(self.stack.last().map(|n| &n.value), Some(Value::Dict(_))) {
                        return self.fail("BUILD on something other than the state dict");
                    }
                }
                b'R' => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let value = self.reduce(&callable.value, &args.value)?;
                    self.push(value)?
                }
                b'Q' => {
                    let pid = self.pop()?;
                    let storage = self.storage(&pid.value)?;
                    self.push(Value::Storage(storage))?
                }
                other => {
                    return self.fail(format!(
                        "opcode 0x{other:02x}, which torch.save does not write for a state dict"
                    ));
                }
            }
        }
        if !self.marks.is_empty() {
            return self.fail("STOP with a MARK still open");
        }
        let top = self.pop()?;
        if !self.stack.is_empty() {
            return self.fail("STOP with more than one value on the stack");
        }
        let Value::Dict(items) = &top.value else {
            return self.fail("the pickled value is not a dict");
        };
        items
            .iter()
            .map(|(key, value)| match (&key.value, &value.value) {
                (Value::Str(name), Value::Tensor(t)) => Ok((name.clone(), t.clone())),
                (Value::Str(name), _) => self.fail(format!("{name:?} is not a tensor")),
                _ => self.fail("a key that is not a string"),
            })
            .collect()
    }

    fn memo_put(&mut self, key: u32) -> Result<(), Problem> {
        let Some(top) = self.stack.last() else {
            return self.fail("memoises an empty stack");
        };
        self.memo.insert(key, Rc::clone(top));
        Ok(())
    }

    fn memo_get(&mut self, key: u32) -> Result<(), Problem> {
        match self.memo.get(&key) {
            Some(v) => {
                self.stack.push(Rc::clone(v));
                Ok(())
            }
            None => self.fail(format!("memo entry {key} was never stored")),
        }
    }

    /// SETITEM(S): `items` (key, value, key, value, ...) into the dict now on top.
    fn set_items(&mut self, items: Vec<Rc<Node>>) -> Result<(), Problem> {
        let dict = self.pop()?;
        let Value::Dict(entries) = &dict.value else {
            return self.fail("SETITEM(S) on something other than a dict");
        };
        self.copied = self.copied.saturating_add(entries.len());
        if self.copied > COPY_BUDGET_PER_BYTE.saturating_mul(self.bytes.len()) {
            return self.fail("more dict updates than a state dict of this size makes");
        }
        let mut entries = entries.clone();
        let mut items = items.into_iter();
        while let (Some(key), Some(value)) = (items.next(), items.next()) {
            entries.push((key, value));
        }
        self.push(Value::Dict(entries))
    }

    fn reduce(&self, callable: &Value, args: &Value) -> Result<Value, Problem> {
        let Value::Tuple(args) = args else {
            return self.fail("REDUCE with arguments that are not a tuple");
        };
        match callable {
            Value::Global(Callable::OrderedDict) if args.is_empty() => Ok(Value::Dict(Vec::new())),
            Value::Global(Callable::RebuildTensorV2) => {
                let [storage, offset, size, stride, ..] = args.as_slice() else {
                    return self.fail("_rebuild_tensor_v2 with fewer than 4 arguments");
                };
                let Value::Storage(storage) = &storage.value else {
                    return self.fail("_rebuild_tensor_v2 on something other than a storage");
                };
                Ok(Value::Tensor(TensorRef {
                    storage: storage.clone(),
                    offset: self.size(&offset.value)?,
                    size: self.sizes(&size.value)?,
                    stride: self.sizes(&stride.value)?,
                }))
            }
            _ => self.fail("a call that a state dict of tensors does not make"),
        }
    }

    fn size(&self, value: &Value) -> Result<usize, Problem> {
        match value {
            Value::Int(v) => usize::try_from(*v).or_else(|_| self.fail(format!("a size of {v}"))),
            _ => self.fail("a size that is not an integer"),
        }
    }

    fn sizes(&self, value: &Value) -> Result<Vec<usize>, Problem> {
        match value {
            Value::Tuple(items) => items.iter().map(|n| self.size(&n.value)).collect(),
            _ => self.fail("sizes that are not a tuple"),
        }
    }

    fn storage(&self, pid: &Value) -> Result<StorageRef, Problem> {
        let Value::Tuple(items) = pid else {
            return self.fail("a persistent id that is not a tuple");
        };
        let items: Vec<&Value> = items.iter().map(|n| &n.value).collect();
        match items.as_slice() {
            [
                Value::Str(kind),
                Value::Global(Callable::FloatStorage),
                Value::Str(key),
                Value::Str(_location),
                numel,
            ] if kind == "storage" => Ok(StorageRef {
                key: key.clone(),
                numel: self.size(numel)?,
            }),
            _ => self.fail("a persistent id other than ('storage', FloatStorage, key, device, n)"),
        }
    }
}

/// How deeply `value` nests tuples and dicts, from the depths its items recorded.
fn depth(value: &Value) -> usize {
    let deepest = |nodes: &mut dyn Iterator<Item = &Rc<Node>>| nodes.map(|n| n.depth).max();
    match value {
        Value::Tuple(items) => 1 + deepest(&mut items.iter()).unwrap_or(0),
        Value::Dict(entries) => {
            1 + deepest(&mut entries.iter().flat_map(|(k, v)| [k, v])).unwrap_or(0)
        }
        _ => 0,
    }
}

fn parameter<'a>(dict: &'a StateDict, name: &str) -> Result<&'a Tensor, Problem> {
    dict.get(name).ok_or_else(|| Problem::MissingParameter {
        name: name.to_owned(),
        found: if dict.is_empty() {
            "no parameters".into()
        } else {
            dict.keys().cloned().collect::<Vec<_>>().join(", ")
        },
    })
}

fn matrix(dict: &StateDict, name: &str, rows: Option<usize>) -> Result<Array2<f32>, Problem> {
    let t = parameter(dict, name)?;
    match t.shape.as_slice() {
        &[r, c] if rows.is_none_or(|n| n == r) => {
            Ok(Array2::from_shape_vec((r, c), t.data.clone()).expect("shape checked when read"))
        }
        _ => Err(Problem::Shape {
            name: name.to_owned(),
            found: t.shape.clone(),
            expected: match rows {
                Some(n) => format!("[{n}, _]"),
                None => "a matrix".into(),
            },
        }),
    }
}

fn vector(dict: &StateDict, name: &str, len: usize) -> Result<Array1<f32>, Problem> {
    let t = parameter(dict, name)?;
    if t.shape != [len] {
        return Err(Problem::Shape {
            name: name.to_owned(),
            found: t.shape.clone(),
            expected: format!("[{len}]"),
        });
    }
    Ok(Array1::from(t.data.clone()))
}

/// A `nn.Linear` stored under `prefix` (`prefix.weight` out x in, `prefix.bias` out), reading
/// `inputs` values when given.
fn linear(dict: &StateDict, prefix: &str, inputs: Option<usize>) -> Result<Linear, Problem> {
    let name = format!("{prefix}.weight");
    let weight = matrix(dict, &name, None)?;
    if inputs.is_some_and(|n| n != weight.ncols()) {
        return Err(Problem::Shape {
            name,
            found: weight.shape().to_vec(),
            expected: format!("[_, {}]", inputs.unwrap_or_default()),
        });
    }
    let bias = vector(dict, &format!("{prefix}.bias"), weight.nrows())?;
    Ok(Linear { weight, bias })
}

/// The MLP of a state dict laid out as `nn.Sequential`-style `layers.0` (input -> hidden) and
/// `layers.1` (hidden -> classes), as mechMNISTic saves it.
///
/// # Errors
/// [`Problem::MissingParameter`] or [`Problem::Shape`] when the state dict is not laid out so.
pub fn mlp(dict: &StateDict) -> Result<Mlp, Problem> {
    let fc1 = linear(dict, "layers.0", None)?;
    let fc2 = linear(dict, "layers.1", Some(fc1.outputs()))?;
    Ok(Mlp { fc1, fc2 })
}

/// The SAE of a state dict laid out as `nn.Sequential(Linear(d, m), Linear(m, d))` (`0` the
/// encoder, `1` the decoder, whose bias is subtracted before encoding), as mechMNISTic saves it.
/// The decoder's columns keep the norms they have.
///
/// # Errors
/// [`Problem::MissingParameter`] or [`Problem::Shape`] when the state dict is not laid out so.
pub fn sae(dict: &StateDict) -> Result<Sae, Problem> {
    let encoder = linear(dict, "0", None)?;
    let decoder = linear(dict, "1", Some(encoder.outputs()))?;
    if decoder.outputs() != encoder.inputs() {
        return Err(Problem::Shape {
            name: "1.weight".into(),
            found: decoder.weight.shape().to_vec(),
            expected: format!("[{}, {}]", encoder.inputs(), encoder.outputs()),
        });
    }
    Ok(Sae {
        w_enc: encoder.weight,
        b_enc: encoder.bias,
        w_dec: decoder.weight,
        b_dec: decoder.bias,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Write;

    /// (name, storage key, storage values, offset, size, stride) of one pickled tensor.
    type Entry<'a> = (&'a str, &'a str, usize, usize, &'a [usize], &'a [usize]);

    /// A pickle of `{name: tensor}` for tensors of one storage each, written as torch.save
    /// writes them (protocol 2, memo puts after every value).
    fn pickle(tensors: &[Entry]) -> Vec<u8> {
        let mut p = vec![0x80, 2];
        p.extend(b"ccollections\nOrderedDict\nq\x00)Rq\x01(");
        let unicode = |p: &mut Vec<u8>, s: &str| {
            p.push(b'X');
            p.extend((s.len() as u32).to_le_bytes());
            p.extend(s.as_bytes());
        };
        let int = |p: &mut Vec<u8>, v: usize| {
            p.extend([0x8a, 8]);
            p.extend((v as u64).to_le_bytes());
        };
        for &(name, key, numel, offset, size, stride) in tensors {
            unicode(&mut p, name);
            p.extend(b"ctorch._utils\n_rebuild_tensor_v2\n((");
            unicode(&mut p, "storage");
            p.extend(b"ctorch\nFloatStorage\n");
            unicode(&mut p, key);
            unicode(&mut p, "cpu");
            int(&mut p, numel);
            p.extend(b"tQ");
            int(&mut p, offset);
            p.push(b'(');
            size.iter().for_each(|&s| int(&mut p, s));
            p.extend(b"t(");
            stride.iter().for_each(|&s| int(&mut p, s));
            p.extend(b"t\x89h\x00)Rtq\x02R");
        }
        p.extend(b"u}b.");
        p
    }

    /// A torch.save-style archive holding `records` under folder `archive/`.
    fn archive(records: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, bytes) in records {
            zip.start_file(format!("archive/{name}"), options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    fn floats(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// A 2 x 3 matrix `w` and a bias `b` of 2 that shares no storage.
    fn small_file() -> Vec<u8> {
        let pkl = pickle(&[
            ("w", "0", 6, 0, &[2, 3], &[3, 1]),
            ("b", "1", 2, 0, &[2], &[1]),
        ]);
        archive(&[
            ("data.pkl", &pkl),
            ("byteorder", b"little"),
            ("data/0", &floats(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])),
            ("data/1", &floats(&[-1.0, 0.5])),
            ("version", b"3\n"),
        ])
    }

    #[test]
    fn reads_a_written_state_dict() {
        let dict = parse(&small_file()).unwrap();
        assert_eq!(dict["w"].shape, vec![2, 3]);
        assert_eq!(dict["w"].data, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(dict["b"].data, vec![-1.0, 0.5]);
    }

    #[test]
    fn a_transposed_view_is_read_in_row_major_order() {
        // The 3 x 2 transpose of [[1, 2, 3], [4, 5, 6]]: strides (1, 3), like `w.t()`.
        let pkl = pickle(&[("t", "0", 6, 0, &[3, 2], &[1, 3])]);
        let file = archive(&[
            ("data.pkl", &pkl),
            ("data/0", &floats(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])),
        ]);
        assert_eq!(
            parse(&file).unwrap()["t"].data,
            vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]
        );
    }

    #[test]
    fn reads_the_shipped_sae() {
        let path = ne_shipped::paper_models_dir().join("sae-ne.pt");
        let dict = read(&path).unwrap();
        let shapes: Vec<(&str, &[usize])> = dict
            .iter()
            .map(|(k, t)| (k.as_str(), t.shape.as_slice()))
            .collect();
        assert_eq!(
            shapes,
            [
                ("0.bias", &[512][..]),
                ("0.weight", &[512, 64]),
                ("1.bias", &[64]),
                ("1.weight", &[64, 512])
            ]
        );
        let sae = sae(&dict).unwrap();
        assert_eq!((sae.inputs(), sae.w_enc.nrows()), (64, 512));
        assert!(sae.w_dec.iter().all(|v| v.is_finite()));
    }

    fn problem(bytes: &[u8]) -> Problem {
        parse(bytes).unwrap_err()
    }

    #[test]
    fn hostile_files_get_clear_errors() {
        assert!(matches!(problem(b"not a zip"), Problem::Zip(_)));
        // A storage of 6 values holding 5.
        let pkl = pickle(&[("w", "0", 6, 0, &[2, 3], &[3, 1])]);
        let short = archive(&[("data.pkl", &pkl), ("data/0", &floats(&[0.0; 5]))]);
        assert!(matches!(
            problem(&short),
            Problem::ShortStorage { numel: 6, .. }
        ));
        // A tensor reaching past its storage.
        let pkl = pickle(&[("w", "0", 6, 1, &[2, 3], &[3, 1])]);
        let past = archive(&[("data.pkl", &pkl), ("data/0", &floats(&[0.0; 6]))]);
        let Problem::Tensor { name, what } = problem(&past) else {
            panic!("{:?}", problem(&past))
        };
        assert_eq!(name, "w");
        assert!(what.contains("reaches past"), "{what}");
        // Sizes whose product overflows, and a storage whose byte size overflows.
        let big = 1 << 32;
        let pkl = pickle(&[("w", "0", 6, 0, &[big, big, big], &[0, 0, 0])]);
        let overflow = archive(&[("data.pkl", &pkl), ("data/0", &floats(&[0.0; 6]))]);
        assert!(format!("{}", problem(&overflow)).contains("overflows"));
        let pkl = pickle(&[("w", "0", 1 << 62, 0, &[1], &[1])]);
        let huge = archive(&[("data.pkl", &pkl), ("data/0", &floats(&[0.0; 6]))]);
        assert!(matches!(problem(&huge), Problem::ShortStorage { .. }));
        // An opcode a state dict never has (BINFLOAT).
        let mut pkl = pickle(&[]);
        pkl.insert(2, b'G');
        let odd = archive(&[("data.pkl", &pkl)]);
        let Problem::Pickle { offset, what } = problem(&odd) else {
            panic!()
        };
        assert_eq!(offset, 2);
        assert!(what.contains("opcode 0x47"), "{what}");
        // A global a state dict does not name.
        let evil = archive(&[("data.pkl", b"\x80\x02cos\nsystem\n.")]);
        assert!(format!("{}", problem(&evil)).contains("os.system"));
        // Another dtype.
        let pkl = pickle(&[("w", "0", 1, 0, &[1], &[1])]);
        let at = pkl.windows(5).position(|w| w == b"Float").unwrap();
        let pkl = [&pkl[..at], b"Long", &pkl[at + 5..]].concat();
        let long = archive(&[("data.pkl", &pkl), ("data/0", &[0; 8])]);
        assert!(format!("{}", problem(&long)).contains("only float32"));
        // A missing storage record, and no pickle at all.
        let pkl = pickle(&[("w", "0", 1, 0, &[1], &[1])]);
        let missing = archive(&[("data.pkl", &pkl)]);
        assert_eq!(
            problem(&missing),
            Problem::MissingRecord("archive/data/0".into())
        );
        assert_eq!(problem(&archive(&[("x", b"")])), Problem::NoPickle);
    }

    #[test]
    fn deep_nesting_is_refused_before_it_is_built() {
        let mut pkl = vec![0x80, 2, b'N'];
        pkl.extend([0x85; 10_000]);
        pkl.push(b'.');
        let deep = archive(&[("data.pkl", &pkl)]);
        assert!(format!("{}", problem(&deep)).contains("nests deeper"));
    }

    #[test]
    fn the_error_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.pt");
        std::fs::write(&path, b"PK\x03\x04 truncated").unwrap();
        let message = read(&path).unwrap_err().to_string();
        assert!(
            message.starts_with(&path.display().to_string()),
            "{message}"
        );
    }

    #[test]
    fn a_layout_without_the_expected_names_is_refused_with_what_it_has() {
        let dict = parse(&small_file()).unwrap();
        let message = sae(&dict).unwrap_err().to_string();
        assert!(
            message.contains("\"0.weight\"") && message.contains("b, w"),
            "{message}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any change of bytes in a valid file is read or refused, never a panic.
        #[test]
        fn corrupted_files_never_panic(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
        ) {
            let mut bytes = small_file();
            for (at, value) in edits {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            let _ = parse(&bytes);
        }

        /// Any pickle, valid opcodes or not, inside a valid archive, never panics.
        #[test]
        fn arbitrary_pickles_never_panic(
            pkl in proptest::collection::vec(
                prop_oneof![
                    Just(b'('), Just(b't'), Just(b'R'), Just(b'Q'), Just(b'u'), Just(b's'),
                    Just(b'}'), Just(b')'), Just(b'h'), Just(b'q'), Just(b'K'), Just(b'b'),
                    Just(0x85u8), Just(0x86), Just(0x89), Just(b'.'), any::<u8>()
                ],
                0..200,
            )
        ) {
            let _ = parse(&archive(&[("data.pkl", &pkl), ("data/0", &floats(&[1.0; 4]))]));
        }
    }
}
