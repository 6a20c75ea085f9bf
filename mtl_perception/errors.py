# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Domain errors of the core package (model, labels, checkpoint, engines, geometry, formats)."""


class MtlPerceptionError(Exception):
    """Base class of every error this package raises on purpose."""


class ModelConfigError(MtlPerceptionError, ValueError):
    """A model was requested with an unknown name or inconsistent arguments."""


class CheckpointError(MtlPerceptionError):
    """A checkpoint file is missing, unreadable, or does not match the code that loads it."""


class CheckpointImportError(CheckpointError):
    """A foreign checkpoint (the paper's release, the hydranets course) cannot be imported."""


class EngineError(MtlPerceptionError):
    """An inference engine cannot be built: a bad exported graph, a missing runtime."""


class ExportCacheError(EngineError):
    """The export cache cannot be written (read-only, full, not a folder): not a usage error."""


class InputImageError(MtlPerceptionError, ValueError):
    """An image handed to the predictor has the wrong shape, type or content."""


class GeometryError(MtlPerceptionError, ValueError):
    """Camera intrinsics or depth maps are inconsistent or degenerate."""


class DatasetError(MtlPerceptionError):
    """A dataset file is missing, unreadable or not in the expected layout."""


class KittiLayoutError(DatasetError):
    """A KITTI drive folder is incomplete or its files are malformed."""


class ConversionError(MtlPerceptionError, ValueError):
    """A ROS message cannot be converted: the message names the field or encoding at fault."""


class FrameTooLargeError(MtlPerceptionError):
    """A camera frame has (or declares) more pixels than ``max_input_pixels`` allows."""


class FrameTooSmallError(MtlPerceptionError):
    """A camera frame is smaller than any camera's image (``MIN_FRAME_SIDE`` on a side)."""


class MediaFileError(MtlPerceptionError):
    """An image or video file is missing, not of its kind, or does not decode."""
