"""Shared helpers for the black-box tests: they drive the built executable as a user would."""
import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"


def binary() -> str:
    path = os.environ.get("OPTIMIZER_DECIDER_BIN", str(ROOT / ".build" / "debug" / "optimizer-decider"))
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing: run `swift build` first (scripts/test does)")
    return path


def run_cli(*args, input_bytes=None, timeout=60):
    return subprocess.run([binary(), *args], input=input_bytes, capture_output=True, timeout=timeout)


def json_lines(data: bytes):
    return [json.loads(line) for line in data.decode().splitlines() if line.strip()]


def schema(name: str):
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text())
