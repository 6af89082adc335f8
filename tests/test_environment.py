"""The environment files agree with each other and with what is installed."""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _requirements() -> list[Requirement]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [Requirement(ln.split("#", 1)[0].strip()) for ln in lines if ln.split("#", 1)[0].strip()]


def test_torch_and_torchvision_are_pinned_as_a_pair():
    pins = {r.name: str(r.specifier) for r in _requirements()}
    assert pins["torch"] == "==2.14.1" and pins["torchvision"] == "==0.29.1"


def test_every_requirement_has_a_bound_and_is_satisfied_here():
    for req in _requirements():
        assert str(req.specifier), f"{req.name} has no version bound in requirements.txt"
        try:
            installed = version(req.name)
        except PackageNotFoundError:
            pytest.fail(f"{req.name} from requirements.txt is not installed")
        base = re.sub(r"\+.*$", "", installed)  # local build tags such as +cu130
        assert req.specifier.contains(base, prereleases=True), f"{req.name} {installed} violates {req.specifier}"


def test_environment_yml_installs_requirements_txt_with_python_311():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "python=3.11" in deps and "pip" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    assert "-r requirements.txt" in pip_section and "-e ." in pip_section
    # nothing pinned separately in environment.yml that could drift from requirements.txt
    conda_names = {re.split(r"[=<>]", d)[0] for d in deps if isinstance(d, str)}
    assert conda_names == {"python", "pip"}, f"extra conda packages {conda_names - {'python', 'pip'}}"
