# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The node's parameters: declared with descriptors and ranges, read into one settings object.

Defaults live in ``config/perception.yaml``; the values here are what a node started without
a parameter file uses, and they match that file (a test checks it). Every way a value can be
wrong (type, range, a combination) ends in one :class:`SettingsError` naming the parameter,
before the model is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
from dataclasses import dataclass
import math
import re

from mtl_perception.engines import backend_choices, PRECISIONS
from mtl_perception.formats.ros_images import MAX_FRAME_PIXELS
from mtl_perception.ros.errors import SettingsError
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, ParameterType
from rclpy.exceptions import ParameterException
from rclpy.node import Node
from rclpy.parameter import Parameter

_STRING = ParameterType.PARAMETER_STRING
_BOOL = ParameterType.PARAMETER_BOOL
_INT = ParameterType.PARAMETER_INTEGER
_DOUBLE = ParameterType.PARAMETER_DOUBLE
_DOUBLES = ParameterType.PARAMETER_DOUBLE_ARRAY
_STRINGS = ParameterType.PARAMETER_STRING_ARRAY
UNNAMED = ''  # the one camera of a node whose cameras parameter is [""]
MAX_CAMERAS = 16
_CAMERA_NAME = re.compile(r'[A-Za-z][A-Za-z0-9_]*')

# name: (default, type, description, (low, high) or None)
PARAMETERS: dict[str, tuple[object, int, str, tuple[float, float] | None]] = {
    'model': ('', _STRING, 'checkpoint file; empty = the default weights installed in '
              'share/mtl_perception/models', None),
    'device': ('auto', _STRING, 'auto (CUDA if present), cpu, cuda or cuda:N', None),
    'backend': ('auto', _STRING, 'inference engine: auto (ONNX Runtime when installed), torch, '
                'onnxruntime or openvino (INT8; a .pt model is exported on first use and '
                'cached)', None),
    'half': (True, _BOOL, 'run in float16 on CUDA (ignored on the CPU)', None),
    'precision': ('auto', _STRING, 'auto (float16 on CUDA as half says, float32 on the CPU), '
                  'fp32, fp16 or int8 (backend openvino on the CPU; a .pt trained on rendered '
                  'streets is quantised on first use, minutes, and cached)', None),
    'compile_model': (False, _BOOL, 'torch.compile the network at start-up: faster frames, '
                      'but start-up takes about a minute and needs a C++ compiler (CPU) or Triton '
                      '(CUDA)', None),
    'input_height': (0, _INT, 'network input height in pixels; 0 = the trained size', (0, 4096)),
    'input_width': (0, _INT, 'network input width in pixels; 0 = the trained size', (0, 4096)),
    'depth_min': (0.0, _DOUBLE, 'nearest valid depth in metres; 0 = the checkpoint range',
                  (0.0, 1000.0)),
    'depth_max': (0.0, _DOUBLE, 'farthest valid depth in metres; 0 = the checkpoint range',
                  (0.0, 1000.0)),
    'point_stride': (2, _INT, 'publish every N-th pixel of every N-th row in ~/points',
                     (1, 64)),
    'publish_segmentation': (True, _BOOL, 'publish ~/segmentation (mono8 class ids)', None),
    'publish_segmentation_color': (True, _BOOL, 'publish ~/segmentation/color (rgb8)', None),
    'publish_depth': (True, _BOOL, 'publish ~/depth/image (32FC1 metres)', None),
    'publish_points': (True, _BOOL, 'publish ~/points (PointCloud2)', None),
    'publish_normals': (True, _BOOL, 'publish ~/normals (32FC3) and ~/normals/color (rgb8); '
                        'only models with a surface-normals head have them', None),
    'fallback_intrinsics': ([0.0], _DOUBLES, '[fx, fy, cx, cy] of the image as received, '
                            'used while no camera_info arrives; [0.0] = none', None),
    'input_transport': ('raw', _STRING, 'raw (sensor_msgs/Image on image) or compressed '
                        '(sensor_msgs/CompressedImage, JPEG or PNG, on image/compressed)', None),
    'input_reliability': ('best_effort', _STRING, 'QoS reliability of the image and '
                          'camera_info subscriptions: best_effort (sensor data) or reliable',
                          None),
    'input_queue_depth': (2, _INT, 'QoS history depth of the input subscriptions', (1, 100)),
    'diagnostics_period': (1.0, _DOUBLE, 'seconds between /diagnostics messages',
                           (0.1, 60.0)),
    'log_period': (10.0, _DOUBLE, 'seconds between status log lines', (1.0, 3600.0)),
    'rectify': (False, _BOOL, 'undistort raw frames with their camera_info (K, D, R, P) before '
                'inference, as image_proc does; outputs are then rectified', None),
    'cameras': ([UNNAMED], _STRINGS, 'camera names, e.g. [front, left, right]: each reads '
                '<name>/image and <name>/camera_info and publishes under ~/<name>/, and the '
                'frames of all cameras share one forward pass per frame size; [""] = one '
                'camera on image and camera_info, outputs directly under ~/', None),
    'batch_window': (0.005, _DOUBLE, "seconds the serving loop waits, once one camera's "
                     "frame is there, for the other cameras' frames to share its pass (ends "
                     'as soon as every camera that sends has one; 0 = never wait)',
                     (0.0, 0.1)),
    'max_input_pixels': (MAX_FRAME_PIXELS, _INT, 'frames with more pixels (compressed ones: '
                         'declared in their header) are skipped with one warning, before '
                         'decoding', (1024, 1 << 28)),
}
#: Parameters that can change while the node runs (``ros2 param set``); the others are
#: read-only: they choose the model, the engine or the subscriptions, and need a restart.
LIVE = frozenset({'depth_min', 'depth_max', 'point_stride', 'rectify', 'publish_segmentation',
                  'publish_segmentation_color', 'publish_depth', 'publish_points',
                  'publish_normals', 'fallback_intrinsics', 'diagnostics_period', 'log_period',
                  'max_input_pixels', 'batch_window'})
_RELIABILITIES = ('best_effort', 'reliable')
TRANSPORTS = ('raw', 'compressed')
_DEVICE = re.compile(r'auto|cpu|cuda(:[0-9]+)?')


@dataclass(frozen=True)
class NodeSettings:
    """Parameter values as read at start-up."""

    model: str
    device: str
    backend: str
    half: bool
    precision: str
    compile_model: bool
    input_height: int
    input_width: int
    depth_min: float
    depth_max: float
    point_stride: int
    publish_segmentation: bool
    publish_segmentation_color: bool
    publish_depth: bool
    publish_points: bool
    publish_normals: bool
    fallback_intrinsics: tuple[float, ...]
    input_transport: str
    input_reliability: str
    input_queue_depth: int
    diagnostics_period: float
    log_period: float
    rectify: bool
    cameras: tuple[str, ...]
    batch_window: float
    max_input_pixels: int


FIXED_NOTES = {
    'restart': ' (read-only: restart the node to change it)',
    'cleanup': ' (set it while unconfigured: cleanup, set, configure)',
}


def _descriptor(name: str, kind: int, text: str, bounds: tuple[float, float] | None,
                fixed_until: str) -> ParameterDescriptor:
    live = name in LIVE
    descriptor = ParameterDescriptor(
        type=kind, read_only=not live and fixed_until == 'restart',
        description=text + ('' if live else FIXED_NOTES[fixed_until]))
    if bounds and kind == _INT:
        descriptor.integer_range = [IntegerRange(from_value=int(bounds[0]),
                                                 to_value=int(bounds[1]), step=1)]
    elif bounds and kind == _DOUBLE:
        descriptor.floating_point_range = [FloatingPointRange(
            from_value=float(bounds[0]), to_value=float(bounds[1]), step=0.0)]
    return descriptor


_TYPE_NAMES = {_STRING: 'a string', _BOOL: 'a bool (true or false)', _INT: 'an integer',
               _DOUBLE: 'a number (e.g. 1.0)', _DOUBLES: 'a list of numbers',
               _STRINGS: 'a list of strings',
               ParameterType.PARAMETER_BOOL_ARRAY: 'a list of bools',
               ParameterType.PARAMETER_INTEGER_ARRAY: 'a list of integers',
               ParameterType.PARAMETER_BYTE_ARRAY: 'a list of bytes'}
_YAML_BOOLEANS_HINT = ('YAML reads y, n, yes, no, on, off, true and false as booleans: quote '
                       "such names, e.g. -p \"cameras:=['n', 'front']\"")


def _refusal(name: str, error: ParameterException) -> SettingsError:
    """One line out of rclpy's refusal of a parameter value."""
    text = str(error)
    reason = text.split('Reason: ', 1)[1] if 'Reason: ' in text else text
    reason = reason.rsplit(f': {name}', 1)[0]
    if PARAMETERS[name][1] == _STRINGS and "of type 'BOOL_ARRAY'" in reason:
        reason += f' ({_YAML_BOOLEANS_HINT})'
    return SettingsError(f'parameter {name}: {reason}')


def type_refusal(parameters: list[Parameter], declared: Callable[[str], bool]) -> str | None:
    """Say why rclpy would refuse setting ``parameters``, in words, or None if it would not.

    rclpy's own reasons for a live change name the types by number on Jazzy ("Wrong
    parameter type, expected '1' got '4'") and list no name for one that does not exist
    ("undeclared parameter(s): []"); this names the parameter, its type and the value.

    Args:
        parameters: The requested values.
        declared: Whether the node declared a parameter of that name.
    """
    unknown = sorted({p.name for p in parameters if not declared(p.name)})
    if unknown:
        return (f'{", ".join(unknown)}: no such parameter on this node (its parameters: '
                f'{", ".join(PARAMETERS)}; see --help)')
    for parameter in parameters:
        if parameter.name not in PARAMETERS or parameter.type_ == Parameter.Type.NOT_SET:
            continue
        wanted, given = PARAMETERS[parameter.name][1], parameter.type_.value
        if given != wanted:
            hint = f' ({_YAML_BOOLEANS_HINT})' if (
                wanted == _STRINGS and given == ParameterType.PARAMETER_BOOL_ARRAY) else ''
            return (f'parameter {parameter.name} takes {_TYPE_NAMES[wanted]}, got '
                    f'{_TYPE_NAMES.get(given, "another type")} {parameter.value!r}{hint}')
    return None


def declare_settings(node: Node, *, fixed_until: str = 'restart') -> NodeSettings:
    """Declare every parameter on ``node``, check the values together and return them.

    Parameters outside ``LIVE`` need the model reloaded: read-only for the plain node
    (``fixed_until='restart'``), settable while unconfigured for the lifecycle node
    (``'cleanup'``).

    Raises:
        SettingsError: A value of the wrong type or out of its range (refused by rclpy), or
            values that contradict each other; the message names the parameter.
    """
    values = {}
    for name, (default, kind, text, bounds) in PARAMETERS.items():
        try:
            parameter = node.declare_parameter(name, default,
                                               _descriptor(name, kind, text, bounds,
                                                           fixed_until))
        except ParameterException as error:
            raise _refusal(name, error) from None
        values[name] = parameter.value
    values['fallback_intrinsics'] = tuple(float(v) for v in values['fallback_intrinsics'])
    values['cameras'] = tuple(values['cameras'])
    settings = NodeSettings(**values)
    check_settings(settings)
    return settings


def settings_with(settings: NodeSettings, changes: dict[str, object], *,
                  live_only: bool = True) -> NodeSettings:
    """Return ``settings`` with ``changes`` applied, checked together.

    Args:
        settings: The values in force.
        changes: New values by parameter name.
        live_only: Refuse parameters outside ``LIVE`` (a model is loaded).

    Raises:
        SettingsError: A change to a fixed parameter, or values that contradict.
    """
    fixed = sorted(set(changes) - LIVE) if live_only else []
    if fixed:
        raise SettingsError(f'parameter(s) {", ".join(fixed)} need the model reloaded: '
                            'restart the node (lifecycle node: deactivate, cleanup, set, '
                            'configure)')
    if 'fallback_intrinsics' in changes:
        changes = {**changes, 'fallback_intrinsics': tuple(
            float(v) for v in changes['fallback_intrinsics'])}
    if 'cameras' in changes:
        changes = {**changes, 'cameras': tuple(changes['cameras'])}
    candidate = dataclasses.replace(settings, **changes)
    check_settings(candidate)
    return candidate


def check_settings(settings: NodeSettings) -> None:
    """Check what ranges cannot: choices, formats and combinations of parameters.

    Raises:
        SettingsError: Names the parameter(s) and what would be accepted.
    """
    if not _DEVICE.fullmatch(settings.device):
        raise SettingsError(f'parameter device: {settings.device!r} is not auto, cpu, cuda '
                            'or cuda:N')
    if settings.precision not in PRECISIONS:
        raise SettingsError(f'parameter precision: {settings.precision!r} is not one of '
                            f'{", ".join(PRECISIONS)}')
    if settings.backend not in backend_choices():
        raise SettingsError(f'parameter backend: {settings.backend!r} is not one of '
                            f'{", ".join(backend_choices())}')
    if settings.input_transport not in TRANSPORTS:
        raise SettingsError(f'parameter input_transport: {settings.input_transport!r} is not '
                            'raw or compressed')
    if settings.input_reliability not in _RELIABILITIES:
        raise SettingsError(f'parameter input_reliability: {settings.input_reliability!r} is '
                            'not best_effort or reliable')
    sizes = (settings.input_height, settings.input_width)
    if (sizes[0] == 0) != (sizes[1] == 0):
        raise SettingsError('parameters input_height and input_width: set both, or neither')
    if 0 < min(sizes) < 32:
        raise SettingsError(f'parameters input_height and input_width: at least 32 pixels, got '
                            f'{sizes[0]}x{sizes[1]}')
    if settings.depth_min and settings.depth_max and settings.depth_min >= settings.depth_max:
        raise SettingsError(f'parameters depth_min and depth_max: need depth_min < depth_max, '
                            f'got {settings.depth_min} and {settings.depth_max}')
    check_camera_names(settings.cameras)
    fallback = settings.fallback_intrinsics
    if any(fallback) and (len(fallback) != 4 or not all(math.isfinite(v) for v in fallback)
                          or min(fallback[:2]) <= 0):
        raise SettingsError(f'parameter fallback_intrinsics: [fx, fy, cx, cy] with positive '
                            f'focal lengths, or [0.0] for none; got {list(fallback)}')


def check_camera_names(names: tuple[str, ...]) -> None:
    """Check the ``cameras`` parameter: ``[""]``, or distinct ROS name tokens.

    Raises:
        SettingsError: Names the offending entry and what is accepted.
    """
    if names == (UNNAMED,):
        return
    if not names or len(names) > MAX_CAMERAS:
        raise SettingsError(f'parameter cameras: 1 to {MAX_CAMERAS} names, or [""] for one '
                            f'camera on the topics image and camera_info; got {len(names)}')
    for name in names:
        if not _CAMERA_NAME.fullmatch(name):
            raise SettingsError(f'parameter cameras: {name!r} is not a camera name (a letter, '
                                'then letters, digits or _; [""] alone for one unnamed camera)')
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise SettingsError(f'parameter cameras: {", ".join(repeated)} given more than once')
