# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Errors of the command-line tools."""

from mtl_perception.errors import MtlPerceptionError


class UnreadableInputError(MtlPerceptionError):
    """An input file exists but cannot be decoded as an image or video."""


class VideoOutputError(MtlPerceptionError):
    """A video cannot be written: a codec OpenCV lacks, or frames that never reached the file."""
