"""The package Dataflow's workers get: `--setup_file ./pyproject.toml` makes Beam's stager run
`python -m build --sdist` on the project, and the workers pip-install it. Built here the same
way, from a copy of the tree (a build writes build/ and *.egg-info/ next to its sources)."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from local.beam_env import ensure_beam_venv
from local.emulators import ROOT

SHIPPED = ("pyproject.toml", "requirements.txt", "README.md", "functions", "sinks", "beam")


@pytest.fixture(scope="module")
def beam_python(request: pytest.FixtureRequest) -> Path:
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        return ensure_beam_venv()


def test_the_project_builds_into_a_package_the_workers_can_run(tmp_path: Path, beam_python: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in SHIPPED:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, source / name)
    out = tmp_path / "dist"
    subprocess.run([str(beam_python), "-m", "build", "--sdist", "--wheel", "--outdir", str(out), str(source)],
                   check=True, capture_output=True)  # fmt: skip

    (wheel,) = out.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for module in (
        "functions/replay.py",
        "functions/formats/combined.py",
        "sinks/replay.py",
        "beam/replay_pipeline.py",
    ):
        assert module in names
    assert not any(n.startswith(("tests/", "local/", "bench/")) for n in names)
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    pins = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")]
    assert [
        line.removeprefix("Requires-Dist: ") for line in metadata.splitlines() if line.startswith("Requires-Dist")
    ] == pins
    (sdist,) = out.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        assert any(n.endswith("/requirements.txt") for n in archive.getnames()), "the sdist builds on a worker"

    installed = tmp_path / "site"
    subprocess.run([str(beam_python), "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(installed), str(wheel)],
                   check=True, capture_output=True)  # fmt: skip
    subprocess.run([str(beam_python), "-c", "import beam.replay_pipeline, sinks.replay"],
                   cwd=tmp_path, env={"PYTHONPATH": str(installed)}, check=True)  # fmt: skip
