"""The systemd units of deploy/systemd/ are valid for systemd itself (``systemd-analyze
verify``), with this checkout in place of /srv/learnplatform: they start the gunicorn of its
virtual environment with deploy/gunicorn.conf.py, one process per port, and the background
worker beside them."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_the_systemd_units_verify(tmp_path):
    venv = Path(sys.executable).parent.parent
    for unit in UNITS.iterdir():
        text = unit.read_text().replace("/srv/learnplatform/.venv", str(venv))
        (tmp_path / unit.name).write_text(text.replace("/srv/learnplatform", str(ROOT)))
    service = (tmp_path / "learnplatform@.service").read_text()
    assert f"ExecStart={venv}/bin/gunicorn --config deploy/gunicorn.conf.py" in service
    assert "Environment=BIND=127.0.0.1:%i" in service
    worker = (tmp_path / "learnplatform-worker.service").read_text()
    assert f"ExecStart={venv}/bin/flask --app wsgi worker" in worker
    assert "learnplatform-worker.service" in (tmp_path / "learnplatform.target").read_text()
    verified = subprocess.run(  # noqa: S603
        [shutil.which("systemd-analyze"), "verify", "--man=no",
         "learnplatform@8001.service", "learnplatform-worker.service", "learnplatform.target"],
        cwd=tmp_path,
        env={"SYSTEMD_UNIT_PATH": f"{tmp_path}:", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    assert verified.stderr == ""
