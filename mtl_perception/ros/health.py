# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""How the node tells how it is doing: a report-once problem log and its diagnostic status.

Bad input must never flood the log: each cause (a message with its numbers blanked) is
logged the first time it is seen, at most ``MAX_CAUSES`` of them; the counts go on in
``/diagnostics``.
"""

from __future__ import annotations

from dataclasses import dataclass
import re

from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
from mtl_perception.engines.contract import Engine
from mtl_perception.ros.stats import FrameStats

NO_INPUT_WARNING_S = 5.0
MAX_CAUSES = 32  # distinct problems logged; more are only counted (frames_bad)
MAX_LOG_CHARS = 400


def short(identifier: str, limit: int = 64) -> str:
    """Quote an identifier from a message for a log line, cut to ``limit`` characters."""
    if len(identifier) <= limit:
        return repr(identifier)
    return f'{identifier[:limit]!r}... ({len(identifier)} characters)'


def cause_of(error: Exception) -> str:
    """Group messages that differ only in numbers (sizes, counts) into one cause."""
    return f'{type(error).__name__}:{re.sub(r"[0-9]+", "N", str(error))}'


class ProblemLog:
    """Logs each distinct problem once through ``logger`` (an rclpy logger)."""

    def __init__(self, logger: object) -> None:
        self._logger = logger
        self._reported: set[str] = set()

    def report(self, error: Exception, context: str, key: str = '') -> None:
        """Log ``error`` in ``context`` unless its cause was logged before (for ``key``)."""
        self.report_text(key + cause_of(error), f'{context}: {type(error).__name__}: {error} '
                         '(further frames with this problem are skipped silently)')

    def report_text(self, cause: str, text: str) -> None:
        """Log ``text`` the first time ``cause`` is seen; at most ``MAX_CAUSES`` causes."""
        if cause in self._reported:
            return
        if len(self._reported) >= MAX_CAUSES:
            if 'too-many-causes' not in self._reported:
                self._reported.add('too-many-causes')
                self._logger.warning(
                    f'more than {MAX_CAUSES} distinct input problems: further ones are '
                    'counted in /diagnostics (frames_bad) but no longer logged')
            return
        self._reported.add(cause)
        if len(text) > MAX_LOG_CHARS:
            text = text[:MAX_LOG_CHARS] + '...'
        self._logger.warning(text)


@dataclass
class CameraCounts:
    """What one camera's frames came to: the mailbox's counts and the served frames' figures."""

    received: int
    dropped: int
    stats: FrameStats
    idle_s: float  # seconds since its last frame (or since the node started)


def perception_status(name: str, counts: CameraCounts, engine: Engine, model_path: str,
                      camera: dict[str, str]) -> DiagnosticStatus:
    """Build the status ``name`` of one camera: WARN when no image came for a while, else OK.

    ``camera`` adds the camera's own keys (its name and image topic) to the values.
    """
    stats = counts.stats
    latency = stats.latency_percentiles()
    rate = stats.rate()
    values = {
        **camera, 'rate_hz': f'{rate:.2f}', 'latency_p50_ms': f'{latency["p50"]:.1f}',
        'latency_p95_ms': f'{latency["p95"]:.1f}', 'latency_max_ms': f'{latency["max"]:.1f}',
        'frames_received': str(counts.received), 'frames_processed': str(stats.processed),
        'frames_dropped': str(counts.dropped), 'frames_bad': str(stats.skipped_bad),
        'frames_unsubscribed': str(stats.skipped_unsubscribed),
        'frames_per_pass_mean': f'{stats.mean_pass_size():.2f}',
        **{f'{stage}_ms_p50': f'{ms:.1f}' for stage, ms in stats.stage_medians().items()},
        'device': str(engine.device), 'half': str(engine.half),
        'backend': engine.backend, 'provider': engine.provider, 'model': model_path,
    }
    if counts.received == 0 or counts.idle_s > NO_INPUT_WARNING_S:
        level, message = DiagnosticStatus.WARN, f'no image for {counts.idle_s:.0f} s'
    else:
        level, message = DiagnosticStatus.OK, f'{rate:.1f} Hz, p50 {latency["p50"]:.0f} ms'
    return DiagnosticStatus(level=level, name=name, message=message,
                            hardware_id=str(engine.device),
                            values=[KeyValue(key=k, value=v) for k, v in values.items()])


def status_line(status: DiagnosticStatus) -> str:
    """Return the periodic log line of a status: its message and the frame counts."""
    counts = {v.key: v.value for v in status.values}
    camera = f'{counts["camera"]}: ' if counts.get('camera') else ''
    return (f'{camera}{status.message}; received {counts["frames_received"]}, processed '
            f'{counts["frames_processed"]}, dropped {counts["frames_dropped"]}, bad '
            f'{counts["frames_bad"]}')
