# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Measure parameters and multiply-adds of the network and write them into docs/model.md.

Usage: python bench/model_complexity.py [--doc docs/model.md]
The table between the ``complexity`` markers of the document is replaced; the rest is kept.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import re

from mtl_perception.model import build_model
from mtl_perception.model.complexity import count_multiply_adds, count_parameters

PAPER_PARAMETERS = 3_070_057
PAPER_MULTIPLY_ADDS = 6.5e9
SIZES = ((480, 640, 'NYUDv2 / paper reference'), (375, 1242, 'KITTI raw'),
         (192, 640, 'input size of the default weights (synthetic, KITTI aspect)'))
BEGIN, END = '<!-- complexity:begin -->', '<!-- complexity:end -->'


def _relative(value: float, reference: float) -> str:
    return f'{100.0 * (value - reference) / reference:+.2f} %'


def complexity_table(num_classes: int = 40) -> str:
    """Return the Markdown table of measured figures against the paper's."""
    model = build_model('mbv2_lwrefinenet', num_classes=num_classes)
    parameters = count_parameters(model)
    release = count_parameters(build_model('mbv2_lwrefinenet', num_classes=num_classes,
                                           first_block_expansion=True))
    lines = [
        f'Measured for {num_classes} classes + depth by `bench/model_complexity.py`.',
        '',
        '| figure | measured | paper | difference |',
        '| --- | --- | --- | --- |',
        f'| parameters | {parameters:,} | {PAPER_PARAMETERS:,} | '
        f'{_relative(parameters, PAPER_PARAMETERS)} |',
        f'| parameters, release encoder variant (`first_block_expansion`) | {release:,} | '
        f'{PAPER_PARAMETERS:,} | {_relative(release, PAPER_PARAMETERS)} |',
    ]
    for height, width, purpose in SIZES:
        counts = count_multiply_adds(model, height, width)
        convolution = counts['convolution']
        total = convolution + counts['max_pool']
        is_reference = (height, width) == (480, 640)
        paper = f'{PAPER_MULTIPLY_ADDS / 1e9:.1f} G' if is_reference else '-'
        convolution_diff = _relative(convolution, PAPER_MULTIPLY_ADDS) if is_reference else '-'
        total_diff = _relative(total, PAPER_MULTIPLY_ADDS) if is_reference else '-'
        lines.append(f'| convolution multiply-adds, {width}x{height} ({purpose}) | '
                     f'{convolution / 1e9:.2f} G | {paper} | {convolution_diff} |')
        lines.append(f'| + CRP max-pool window ops, {width}x{height} | {total / 1e9:.2f} G | '
                     f'{paper} | {total_diff} |')
    return '\n'.join(lines)


def main() -> None:
    """Regenerate the complexity table in the model document."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--doc', type=Path, default=Path('docs/model.md'))
    args = parser.parse_args()
    text = args.doc.read_text()
    pattern = re.compile(re.escape(BEGIN) + '.*?' + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f'{args.doc}: no {BEGIN} ... {END} block to replace')
    args.doc.write_text(pattern.sub(lambda _: f'{BEGIN}\n{complexity_table()}\n{END}', text))


if __name__ == '__main__':
    main()
