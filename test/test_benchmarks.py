# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""The benchmark entry point runs, and docs/benchmarks.md is what its results generate."""

import json
import os
from pathlib import Path
import subprocess
import sys

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'bench'))

from report import write_report  # noqa: E402


def test_docs_benchmarks_md_is_generated_from_the_committed_results(tmp_path):
    results = json.loads((ROOT / 'bench' / 'results.json').read_text())
    baseline = json.loads((ROOT / 'bench' / 'baseline.json').read_text())
    report, plot = tmp_path / 'benchmarks.md', tmp_path / 'stages.png'
    write_report(results, baseline, report, plot)
    assert report.read_text() == (ROOT / 'docs' / 'benchmarks.md').read_text()
    assert plot.read_bytes().startswith(b'\x89PNG')
    assert results['machine']['cpu'] in report.read_text()


def test_a_quick_run_of_chosen_sections_prints_their_figures():
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    completed = subprocess.run(
        [sys.executable, str(ROOT / 'bench' / 'run_benchmarks.py'), '--quick', '--only',
         'predictor_stages', 'fusion'], capture_output=True, text=True, env=env, timeout=600,
        check=True)
    results = json.loads(completed.stdout)
    assert set(results) == {'machine', 'predictor_stages', 'fusion'}
    stages = results['predictor_stages']
    assert {'upload', 'preprocess', 'forward', 'postprocess', 'download',
            'whole predict()', 'whole predict(), onnxruntime'} <= set(stages)
    for timing in stages.values():
        assert timing['runs'] == 3
        assert 0 < timing['median_ms'] <= timing['p95_ms']
    for size in ('640x480', '1242x375'):
        entry = results['fusion'][size]
        assert len(entry['timings']) == 3
        assert all(t['median_ms'] > 0 and t['runs'] == 9 for t in entry['timings'].values())
        assert entry['open3d_over_ours'] > 0
