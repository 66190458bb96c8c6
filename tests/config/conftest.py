"""Helpers that write a site's TOML into a temporary folder and load it."""

from collections.abc import Callable
from pathlib import Path
from textwrap import dedent

import pytest

from levy.config import ConfigError, SiteConfig, load_config


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str], Path]:
    def write_site(text: str) -> Path:
        path = tmp_path / "site.toml"
        path.write_text(dedent(text), encoding="utf-8")
        return path

    return write_site


@pytest.fixture
def load(write: Callable[[str], Path]) -> Callable[[str], SiteConfig]:
    def load_site(text: str) -> SiteConfig:
        return load_config(write(text))

    return load_site


@pytest.fixture
def problems(write: Callable[[str], Path]) -> Callable[[str], list[str]]:
    """The problems a site's TOML is rejected with (failing the test if it loads)."""

    def problems_of(text: str) -> list[str]:
        with pytest.raises(ConfigError) as caught:
            load_config(write(text))
        for problem in caught.value.problems:
            assert "pydantic.dev" not in problem and "Traceback" not in problem
        return caught.value.problems

    return problems_of
