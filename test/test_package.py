# Copyright 2026 mtl_perception maintainers
# SPDX-License-Identifier: MIT
"""Tests of the package as ROS and pip see it: layout, manifest, versions, executables."""

from importlib.metadata import entry_points
from pathlib import Path
import re
import subprocess
import xml.etree.ElementTree as ElementTree

import mtl_perception
from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]
REQUIRED_ENTRIES = ('mtl_perception', 'launch', 'config', 'models', 'test', 'package.xml',
                    'setup.py', 'setup.cfg', 'README.md', 'resource')


def _manifest():
    return ElementTree.parse(ROOT / 'package.xml').getroot()


def test_repository_root_is_an_ament_python_package_with_the_expected_layout():
    for entry in REQUIRED_ENTRIES:
        assert (ROOT / entry).exists(), entry
    assert (ROOT / 'resource' / 'mtl_perception').is_file()
    manifest = _manifest()
    assert manifest.get('format') == '3'
    assert manifest.findtext('name') == 'mtl_perception'
    assert manifest.findtext('export/build_type') == 'ament_python'


def test_versions_agree_between_package_xml_setup_py_and_the_module():
    setup_version = re.search(r"version='([^']+)'", (ROOT / 'setup.py').read_text()).group(1)
    assert _manifest().findtext('version') == setup_version == mtl_perception.__version__


def test_runtime_and_interoperability_dependencies_are_declared_for_rosdep():
    manifest = _manifest()
    runtime = {element.text for element in manifest.findall('exec_depend')}
    tests = {element.text for element in manifest.findall('test_depend')}
    assert {'rclpy', 'sensor_msgs', 'lifecycle_msgs', 'python3-opencv',
            'python3-numpy'} <= runtime
    # too old or absent in the distros (torch), failing under PEP 668 (-pip keys): pip steps
    assert not {'python3-torch', 'python3-torchvision'} & runtime
    assert not {key for key in runtime if key.endswith('-pip')}
    setup_py = (ROOT / 'setup.py').read_text()
    assert "'torch>=2.5'" in setup_py and "'torchvision>=0.20'" in setup_py
    assert {'cv_bridge', 'sensor_msgs_py', 'ament_flake8', 'ament_pep257'} <= tests


def test_scripts_install_where_ros2_run_finds_them():
    setup_cfg = (ROOT / 'setup.cfg').read_text()
    assert 'install_scripts=$base/lib/mtl_perception' in setup_cfg
    assert 'script_dir=$base/lib/mtl_perception' in setup_cfg


def test_every_console_script_resolves_to_a_callable_main():
    scripts = {ep.name: ep for ep in entry_points(group='console_scripts')
               if ep.value.startswith('mtl_perception.')}
    assert {'mtl_infer', 'mtl_train', 'mtl_eval', 'mtl_distill', 'perception_node',
            'perception_lifecycle_node'} <= set(scripts)
    for entry_point in scripts.values():
        assert callable(entry_point.load())


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / 'README.md').read_text()
    ci_script = (ROOT / '.ci' / 'run').read_text()
    assert './scripts/test.sh' in readme
    assert 'exec ./scripts/test.sh' in ci_script


def test_sourcing_setup_env_leaves_the_shell_options_and_names_alone():
    script = (f'set +e; before=$-; . {ROOT}/scripts/setup_env.sh >/dev/null; '
              'echo "$before|$-|$VIRTUAL_ENV"; type install_python_packages >/dev/null 2>&1 '
              '&& echo leaked; false; echo alive')
    result = subprocess.run(['bash', '-c', script], capture_output=True, text=True,
                            timeout=600)
    before, after, venv = result.stdout.splitlines()[0].split('|')
    assert before == after and 'e' not in after
    assert venv.endswith('.venv') and 'leaked' not in result.stdout
    assert result.stdout.splitlines()[-1] == 'alive'


def test_the_licence_file_matches_the_manifest_and_setup_py():
    licence = (ROOT / 'LICENSE').read_text()
    assert licence.startswith('MIT License') and 'mtl_perception' in licence
    assert _manifest().findtext('license') == 'MIT'
    assert "license='MIT'" in (ROOT / 'setup.py').read_text()
    assert (ROOT / 'CHANGELOG.rst').read_text().startswith('Changelog for package mtl_perception')


def test_what_the_code_imports_and_the_launch_files_start_is_declared_for_rosdep():
    runtime = {element.text for element in _manifest().findall('exec_depend')}
    assert {'rcl_interfaces', 'ament_index_python', 'ros2bag'} <= runtime
    assert 'geometry_msgs' not in runtime  # not used
    assert 'rviz2' not in runtime  # Qt and OpenGL have no place on a headless robot


def test_every_folder_of_python_modules_is_a_package_that_setuptools_installs():
    folders = {str(path.parent.relative_to(ROOT)).replace('/', '.')
               for path in (ROOT / 'mtl_perception').rglob('*.py')}
    assert folders <= set(find_packages(str(ROOT), exclude=['test', 'test.*']))
