"""skl2onnx shape calculators and converters of the skgf estimators.

The exported graph is the forward pass of :class:`~skgf._base.BaseNetwork`,
read from the fitted attributes:

* every method clips each feature to its training range (``_clip_inputs``,
  ``_input_range``) first;
* every layer is ``H @ W + b``; hidden layers apply the activation, written as
  in ``skgf._activations.activate``: ``relu`` as ``max(z, 0)``, the bounded
  ones through ``tanh`` (``(tanh(z * s) + 1) / 2``, mapped onto the layer's
  value range, ZORB's fitted ``activation_ranges_`` or the natural range);
* classifiers output the label of the largest score and the softmax of the
  scores; regressors undo the target standardisation (``_y_scale``,
  ``_y_mean``) and output ``(n_samples, n_outputs)``, as skl2onnx's own
  regressors.

The weights are taken to NumPy first (models fitted on a GPU or in another
array namespace convert as well) and stored in the graph's float type: that of
the input (float32, or float64 for a ``DoubleTensorType`` input).

skl2onnx is imported inside the functions: this module is imported only by
:func:`skgf.onnx.register_converters`, never by ``import skgf``.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._activations import _TANH_SCALE, _tanh_affine
from ._array_api import to_numpy


def _proto_and_numpy_dtype(input_type):
    """ONNX and NumPy float type of the graph for an input of ``input_type``."""
    from skl2onnx.common.data_types import DoubleTensorType
    from skl2onnx.proto import onnx_proto

    if isinstance(input_type, DoubleTensorType):
        return onnx_proto.TensorProto.DOUBLE, np.float64
    return onnx_proto.TensorProto.FLOAT, np.float32


def _host(value, dtype):
    """``value`` (an array of any namespace) as a NumPy array of ``dtype``."""
    return np.asarray(to_numpy(value), dtype=dtype)


class _Graph:
    """Adds constants and nodes of one operator's graph to the container."""

    def __init__(self, scope, container, proto_dtype, dtype):
        self.scope = scope
        self.container = container
        self.proto_dtype = proto_dtype
        self.dtype = dtype

    def constant(self, name, values):
        values = np.asarray(values, dtype=self.dtype)
        full = self.scope.get_unique_variable_name(name)
        self.container.add_initializer(full, self.proto_dtype, list(values.shape), values.ravel())
        return full

    def node(self, op_type, inputs, name, **attributes):
        output = self.scope.get_unique_variable_name(name)
        self.container.add_node(
            op_type,
            inputs,
            output,
            name=self.scope.get_unique_operator_name(op_type),
            **attributes,
        )
        return output

    def scalar_op(self, op_type, X, value, name):
        return self.node(op_type, [X, self.constant(name + "_c", [value])], name)


def _activation(graph, name, Z, value_range):
    """Nodes of ``skgf._activations.activate(name, Z, value_range)``."""
    if name == "identity":
        return Z
    if name == "relu":
        return graph.node("Relu", [Z], "relu")
    scale = _TANH_SCALE[name]
    if scale != 1.0:
        Z = graph.scalar_op("Mul", Z, scale, "tanh_in")
    out = graph.node("Tanh", [Z], "tanh")
    half_width, centre = (float(v) for v in _tanh_affine(name, value_range))
    if half_width != 1.0:
        out = graph.scalar_op("Mul", out, half_width, "rescaled")
    if centre != 0.0:
        out = graph.scalar_op("Add", out, centre, "shifted")
    return out


def _network_output(scope, operator, container):
    """Nodes of the network's raw output for the operator's input; returns
    ``(graph, output name)``."""
    from skl2onnx.common._apply_operation import apply_cast

    model = operator.raw_operator
    proto_dtype, dtype = _proto_and_numpy_dtype(operator.inputs[0].type)
    graph = _Graph(scope, container, proto_dtype, dtype)
    H = operator.inputs[0].full_name
    if type(operator.inputs[0].type).__name__ not in ("FloatTensorType", "DoubleTensorType"):
        cast = scope.get_unique_variable_name("cast_input")
        apply_cast(scope, H, cast, container, to=proto_dtype)
        H = cast

    bounds = getattr(model, "_input_range", None) if getattr(model, "_clip_inputs", False) else None
    if bounds is not None:
        H = graph.node("Max", [H, graph.constant("input_low", _host(bounds[0], dtype))], "clip_lo")
        H = graph.node("Min", [H, graph.constant("input_high", _host(bounds[1], dtype))], "clip")

    ranges = getattr(model, "activation_ranges_", None)
    last = len(model.coefs_) - 1
    for i, (W, b) in enumerate(zip(model.coefs_, model.intercepts_)):
        Z = graph.node("MatMul", [H, graph.constant("coefficient", _host(W, dtype))], "matmul")
        Z = graph.node("Add", [Z, graph.constant("intercept", _host(b, dtype))], "pre_activation")
        if i == last:
            H = Z
        else:
            H = _activation(graph, model.activation, Z, None if ranges is None else ranges[i])
    return graph, H


def _label_values(model):
    """``classes_`` as the ONNX label tensor: int64 for integer, bool and
    integral float labels, UTF-8 strings otherwise."""
    from skl2onnx.proto import onnx_proto

    classes = np.asarray(model.classes_)
    if classes.dtype.kind in "biu":
        return onnx_proto.TensorProto.INT64, classes.astype(np.int64)
    if classes.dtype.kind == "f":
        if not np.all(np.isfinite(classes) & (classes == np.round(classes))):
            raise ValueError(
                f"{type(model).__name__} has non-integral float class labels "
                f"{classes.tolist()!r}: an ONNX label output is int64 or string. "
                "Fit the model on integer or string labels to export it."
            )
        return onnx_proto.TensorProto.INT64, classes.astype(np.int64)
    if all(isinstance(c, str) for c in classes.tolist()):
        return onnx_proto.TensorProto.STRING, np.array([c.encode("utf-8") for c in classes])
    raise ValueError(
        f"{type(model).__name__}'s class labels {classes.tolist()!r} are neither all "
        "numbers nor all strings: they cannot be an ONNX label output."
    )


def convert_classifier(scope, operator, container):
    """skl2onnx converter of the skgf classifiers: outputs ``label`` (the
    class of the largest score) and ``probabilities`` (their softmax)."""
    from skl2onnx.common._apply_operation import apply_reshape
    from skl2onnx.proto import onnx_proto

    model = operator.raw_operator
    graph, scores = _network_output(scope, operator, container)
    container.add_node(
        "Softmax",
        [scores],
        operator.outputs[1].full_name,
        axis=1,
        name=scope.get_unique_operator_name("Softmax"),
    )
    best = graph.node("ArgMax", [scores], "argmax", axis=1)
    class_type, classes = _label_values(model)
    if scope.get_options(model, dict(nocl=False))["nocl"]:
        # option nocl: the labels are the class indices
        class_type, classes = onnx_proto.TensorProto.INT64, np.arange(len(classes))
    classes_name = scope.get_unique_variable_name("classes")
    container.add_initializer(classes_name, class_type, list(classes.shape), classes.tolist())
    labels = graph.node(
        "ArrayFeatureExtractor", [classes_name, best], "labels", op_domain="ai.onnx.ml"
    )
    apply_reshape(scope, labels, operator.outputs[0].full_name, container, desired_shape=(-1,))


def convert_regressor(scope, operator, container):
    """skl2onnx converter of the skgf regressors: the de-standardised network
    output, of shape ``(n_samples, n_outputs)``."""
    model = operator.raw_operator
    graph, out = _network_output(scope, operator, container)
    out = graph.node(
        "Mul", [out, graph.constant("y_scale", _host(model._y_scale, graph.dtype))], "y"
    )
    container.add_node(
        "Add",
        [out, graph.constant("y_mean", _host(model._y_mean, graph.dtype))],
        operator.outputs[0].full_name,
        name=scope.get_unique_operator_name("Add"),
    )


def classifier_shape(operator):
    """skl2onnx shape calculator of the skgf classifiers (that of
    skl2onnx's linear classifiers and ``MLPClassifier``)."""
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes

    check_is_fitted(operator.raw_operator)
    _label_values(operator.raw_operator)  # a clear error for unsupported labels
    calculate_linear_classifier_output_shapes(operator)


def regressor_shape(operator):
    """skl2onnx shape calculator of the skgf regressors: one float (or
    double) tensor of shape ``(N, n_outputs_)``."""
    from skl2onnx.common.data_types import (
        BooleanTensorType,
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
    )
    from skl2onnx.common.utils import check_input_and_output_numbers, check_input_and_output_types

    check_is_fitted(operator.raw_operator)
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    check_input_and_output_types(
        operator,
        good_input_types=[BooleanTensorType, DoubleTensorType, FloatTensorType, Int64TensorType],
    )
    input_type = operator.inputs[0].type
    cls = DoubleTensorType if isinstance(input_type, DoubleTensorType) else FloatTensorType
    N = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = cls([N, int(operator.raw_operator.n_outputs_)])
