"""A model file of any supported format, opened as a numpy function with its shapes.

Formats: Keras 3 ``.keras`` and the older whole-model ``.h5`` (both loaded with
``safe_mode=True``: a Lambda layer or an unregistered custom object is refused,
never run), a TensorFlow SavedModel folder (read through
``keras.layers.TFSMLayer``) and ONNX (run with onnxruntime from the file's
bytes, so an ONNX file cannot point the runtime at other files on disk).
``zspace import`` opens the user's files here; :mod:`models.codecs` opens a
run's imported copies here. Every problem is one line naming the file, never its folder.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rundir.errors import ZspaceError

#: Format of a model file by its suffix (a SavedModel is a folder holding ``saved_model.pb``).
SUFFIXES = {".keras": "keras", ".h5": "h5", ".hdf5": "h5", ".onnx": "onnx"}
#: SavedModel endpoints tried in order: ``model.export()`` writes ``serve``, ``tf.saved_model.save`` ``serving_default``.
SAVEDMODEL_ENDPOINTS = ("serve", "serving_default")
#: Most layer rows kept for the Model view's parameter table of an imported model.
MAX_LAYER_ROWS = 400


@dataclass
class ModelFile:
    """An opened model: its format, shapes, and a float32-batch-in, list-of-arrays-out function.

    Attributes
    ----------
    format : str
        ``keras``, ``h5``, ``savedmodel`` or ``onnx``.
    input_shape : tuple
        With ``None`` for the batch and any other free dimension.
    output_names : list of str
    output_shapes : list of tuple
    call : callable
        ``call(x)`` with a float32 batch returns one float32 array per output.
    parameters : int
        Number of weights (trainable or not).
    layers : list of dict
        ``{"name", "type", "output_shape", "params"}`` per layer (ONNX: per node), at most
        :data:`MAX_LAYER_ROWS`.
    """

    format: str
    input_shape: tuple
    output_names: list[str]
    output_shapes: list[tuple]
    call: Callable[[np.ndarray], list[np.ndarray]]
    parameters: int = 0
    layers: list[dict] = field(default_factory=list)
    #: The loaded Keras model (Keras and .h5 files only), e.g. to save an .h5 model as .keras.
    keras_model: object = None


def file_format(path: Path, label: str) -> str:
    """The format of ``path`` (see :data:`SUFFIXES`), or one line saying it is not a model file zspace reads."""
    if path.is_dir():
        if (path / "saved_model.pb").is_file():
            return "savedmodel"
        raise ZspaceError(f"{label}: the folder {path.name} is not a SavedModel (it holds no saved_model.pb)")
    if not path.is_file():
        raise ZspaceError(f"{label}: {path.name} does not exist")
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise ZspaceError(
            f"{label}: {path.name} is not a model file zspace reads; give a .keras, .h5 or .onnx file or a SavedModel folder"
        )
    return kind


def open_model_file(path: str | Path, label: str) -> ModelFile:
    """Open a model file of any supported format.

    Parameters
    ----------
    path : path-like
    label : str
        How messages name it, e.g. ``--decoder dec.onnx`` or ``decoder.onnx of run faces``.

    Raises
    ------
    ZspaceError
        One line: unknown format, a damaged file, a Lambda layer or custom object that safe mode refuses,
        a model with more than one input.
    """
    path = Path(path)
    kind = file_format(path, label)
    if kind in ("keras", "h5"):
        return keras_model_file(load_keras_file(path, label), kind)
    if kind == "savedmodel":
        return _open_savedmodel(path, label)
    return _open_onnx(path, label)


def load_keras_file(path: Path, label: str):
    """Load a ``.keras`` or ``.h5`` model with ``safe_mode=True``, translating Keras' refusals into one line."""
    from models.runtime import start_tensorflow

    start_tensorflow()
    import keras

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises many types for refused, damaged or foreign files
        raise ZspaceError(f"{label}: {explain_keras_error(exc)}") from None


def explain_keras_error(exc: Exception) -> str:
    """What a Keras load failure means for the user, in one line."""
    text = str(exc)
    if "Lambda" in text and "safe_mode" in text:
        return (
            "the model has a Lambda layer (Python code), which safe mode refuses to run; rebuild it from "
            "Keras' own layers, or export it to ONNX"
        )
    custom = re.search(r"Could not locate (?:class|function) '([^']+)'|Unknown (?:layer|object)[^']*'([^']+)'", text)
    if custom or "could not be deserialized properly" in text:
        name = next((g for g in custom.groups() if g), "?") if custom else "?"
        return (
            f"the model uses a custom layer or object ({name}) that zspace cannot load safely; save the parts "
            "without it (a VAE encoder: mu and logvar as outputs, no sampling layer), or export it to ONNX"
        )
    first = (text.strip().splitlines() or [type(exc).__name__])[0][:200]
    return f"cannot be loaded as a Keras model ({type(exc).__name__}: {first})"


def keras_model_file(model, kind: str = "keras") -> ModelFile:
    """Wrap a loaded Keras model in a :class:`ModelFile` (one traced ``tf.function``, float32 in)."""
    import tensorflow as tf

    inputs = model.inputs if isinstance(model.inputs, list | tuple) else [model.inputs]
    if len(inputs) != 1:
        raise ZspaceError(f"the model has {len(inputs)} inputs; zspace feeds one (images or z)")
    input_shape = tuple(inputs[0].shape)
    outputs = model.outputs if isinstance(model.outputs, list | tuple) else [model.outputs]
    names = list(getattr(model, "output_names", None) or [f"output_{i}" for i in range(len(outputs))])
    spec = tf.TensorSpec([None, *input_shape[1:]], tf.float32)
    function = tf.function(lambda x: model(x, training=False), input_signature=[spec])

    def call(x: np.ndarray) -> list[np.ndarray]:
        result = function(np.asarray(x, dtype=np.float32))
        return [np.asarray(r, dtype=np.float32) for r in (result if isinstance(result, list | tuple) else [result])]

    return ModelFile(
        format=kind,
        input_shape=input_shape,
        output_names=[str(n) for n in names],
        output_shapes=[tuple(o.shape) for o in outputs],
        call=call,
        parameters=int(model.count_params()),
        layers=[_keras_layer_row(layer) for layer in model.layers[:MAX_LAYER_ROWS]],
        keras_model=model,
    )


def _keras_layer_row(layer) -> dict:
    try:
        output = layer.output
        shapes = [tuple(t.shape) for t in output] if isinstance(output, list | tuple) else [tuple(output.shape)]
        shape = ", ".join("(" + ", ".join("None" if d is None else str(d) for d in s) + ")" for s in shapes)
    except (AttributeError, ValueError):  # a layer called more than once has no single output
        shape = ""
    return {
        "name": layer.name,
        "type": type(layer).__name__,
        "output_shape": shape,
        "params": int(layer.count_params()),
    }


def _open_savedmodel(path: Path, label: str) -> ModelFile:
    from models.runtime import start_tensorflow

    start_tensorflow()
    import keras

    layer, problems = None, []
    for endpoint in SAVEDMODEL_ENDPOINTS:
        try:
            layer = keras.layers.TFSMLayer(str(path), call_endpoint=endpoint)
            break
        except Exception as exc:  # no such endpoint, or not a loadable SavedModel
            problems.append(f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:120]}")
    if layer is None:
        raise ZspaceError(
            f"{label}: the SavedModel has neither a 'serve' nor a 'serving_default' endpoint ({problems[-1]})"
        )
    input_spec = _savedmodel_input(layer.call_endpoint_fn)
    if input_spec is None:
        raise ZspaceError(f"{label}: the SavedModel's endpoint does not take exactly one tensor")
    input_key, input_shape = input_spec

    def call(x: np.ndarray) -> list[np.ndarray]:
        x = np.asarray(x, dtype=np.float32)
        result = layer(x) if input_key is None else layer.call_endpoint_fn(**{input_key: x})
        if isinstance(result, dict):
            result = [result[key] for key in sorted(result)]
        return [np.asarray(r, dtype=np.float32) for r in (result if isinstance(result, list | tuple) else [result])]

    probe = call(np.zeros((1, *[d or 1 for d in input_shape[1:]]), dtype=np.float32))
    names = _savedmodel_output_names(layer.call_endpoint_fn, len(probe))
    return ModelFile(
        format="savedmodel",
        input_shape=input_shape,
        output_names=names,
        output_shapes=[(None, *p.shape[1:]) for p in probe],
        call=call,
        parameters=int(sum(int(np.prod(w.shape)) for w in layer.weights)),
        layers=[{"name": path.name, "type": "SavedModel", "output_shape": "", "params": 0}],
    )


def _savedmodel_input(function) -> tuple[str | None, tuple] | None:
    """(keyword or None for positional, shape) of an endpoint's single tensor input."""
    concrete = getattr(function, "concrete_functions", None)
    signature = concrete[0].structured_input_signature if concrete else function.structured_input_signature
    args, kwargs = signature
    specs = [(None, spec) for spec in args] + list(kwargs.items())
    if len(specs) != 1 or not hasattr(specs[0][1], "shape"):
        return None
    key, spec = specs[0]
    return key, tuple(None if d is None else int(d) for d in spec.shape.as_list())


def _savedmodel_output_names(function, count: int) -> list[str]:
    outputs = getattr(function, "structured_outputs", None)
    if isinstance(outputs, dict) and len(outputs) == count:
        return sorted(outputs)
    return [f"output_{i}" for i in range(count)]


def _open_onnx(path: Path, label: str) -> ModelFile:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: the runtime's notices are not the user's problem
    blob = onnx_bytes(path, label)
    try:
        session = onnxruntime.InferenceSession(blob, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own types for damaged or unsupported graphs
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise ZspaceError(f"{label}: cannot be loaded as an ONNX model ({first})") from None
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1:
        raise ZspaceError(f"{label}: the ONNX model has {len(inputs)} inputs; zspace feeds one (images or z)")
    if inputs[0].type != "tensor(float)":
        raise ZspaceError(f"{label}: the ONNX model's input is {inputs[0].type}; zspace feeds float32")
    input_name = inputs[0].name
    input_shape = _onnx_shape(inputs[0].shape)
    fixed_batch = input_shape[0]

    def call(x: np.ndarray) -> list[np.ndarray]:
        x = np.ascontiguousarray(x, dtype=np.float32)
        if fixed_batch is None or fixed_batch == len(x):
            return [np.asarray(r, dtype=np.float32) for r in session.run(None, {input_name: x})]
        # A graph exported for a fixed batch: feed it that many rows at a time, the last batch padded.
        parts = []
        for start in range(0, len(x), fixed_batch):
            chunk = x[start : start + fixed_batch]
            padded = np.concatenate([chunk, np.zeros((fixed_batch - len(chunk), *x.shape[1:]), np.float32)])
            parts.append([r[: len(chunk)] for r in session.run(None, {input_name: padded})])
        return [np.concatenate([p[i] for p in parts]).astype(np.float32) for i in range(len(outputs))]

    parameters, layers = _onnx_parameters(blob)
    return ModelFile(
        format="onnx",
        input_shape=(None, *input_shape[1:]),
        output_names=[o.name for o in outputs],
        output_shapes=[(None, *_onnx_shape(o.shape)[1:]) for o in outputs],
        call=call,
        parameters=parameters,
        layers=layers,
    )


def _onnx_shape(shape) -> tuple:
    # Symbolic dimensions ("batch", "N") and unknown ones read as None.
    return tuple(d if isinstance(d, int) and d > 0 else None for d in shape)


def onnx_bytes(path: Path, label: str) -> bytes:
    """The ONNX model as one self-contained serialised graph (weights kept in separate files are read in).

    A run keeps these bytes (``decoder.onnx``), and the runtime is only ever given bytes: a graph that
    names files elsewhere on the disk is never resolved against a folder at serve time.
    """
    import onnx

    blob = path.read_bytes()
    try:
        model = onnx.load_model_from_string(blob)
    except Exception as exc:  # a protobuf decode error: not an ONNX file
        raise ZspaceError(f"{label}: not an ONNX model ({type(exc).__name__})") from None
    stored_apart = any(init.data_location == onnx.TensorProto.EXTERNAL for init in model.graph.initializer)
    if not stored_apart:
        return blob
    try:
        onnx.load_external_data_for_model(model, str(path.parent))
    except Exception as exc:  # a missing or refused external weight file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise ZspaceError(f"{label}: its weights stored beside it cannot be read ({first})") from None
    return model.SerializeToString()


def _onnx_parameters(blob: bytes) -> tuple[int, list[dict]]:
    """Weights of an ONNX graph (its initializers) and one row per node."""
    import onnx

    graph = onnx.load_model_from_string(blob).graph
    sizes = {init.name: int(np.prod(init.dims)) if len(init.dims) else 1 for init in graph.initializer}
    layers = [
        {
            "name": node.name or f"{node.op_type}_{number}",
            "type": node.op_type,
            "output_shape": "",
            "params": sum(sizes.get(name, 0) for name in node.input),
        }
        for number, node in enumerate(graph.node[:MAX_LAYER_ROWS])
    ]
    return sum(sizes.values()), layers
