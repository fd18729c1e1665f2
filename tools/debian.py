"""Debian packages the tests' throw-away servers need, installed when missing (CI starts from a bare machine)."""

from __future__ import annotations

import os
import subprocess


def apt_install(package: str) -> None:
    """Install ``package`` with apt-get (through ``sudo -n`` unless root); the package lists are refreshed
    once if the first attempt fails, as they are empty on a new machine."""
    install = ["apt-get", "install", "-y", "-q", package]
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    done = subprocess.run(sudo + install, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        subprocess.run([*sudo, "apt-get", "update", "-q"], capture_output=True, check=False)
        done = subprocess.run(sudo + install, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"could not install {package}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
