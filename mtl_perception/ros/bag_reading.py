# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Reading a bag that may be damaged: keep what is readable, say where it stops."""

from __future__ import annotations

from collections.abc import Iterator

from rosbags.rosbag2 import Reader


def readable_messages(reader: Reader, connections: list,
                      damaged: list[str]) -> Iterator[tuple]:
    """Yield ``(connection, stamp, raw)`` until the container turns out damaged.

    A damaged chunk makes ``rosbags`` raise one of many decoder errors part-way through; the
    messages before it are yielded, and ``damaged`` gets one line saying after which message
    reading stopped and why.
    """
    messages = reader.messages(connections=connections)
    position = 0
    while True:
        try:
            item = next(messages)
        except StopIteration:
            return
        except Exception as error:  # noqa: B902  a damaged chunk raises many decoder errors
            damaged.append(f'the bag is unreadable after message #{position} '
                           f'({type(error).__name__}: {str(error)[:120]})')
            return
        position += 1
        yield item
