"""The wheel carries templates/, static/, migrations/ and test_data/, and the installed app finds them."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from tests.servers import REPO


def test_wheel_contains_the_top_level_resources_and_the_app_finds_them(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation",
                    "--quiet", "-w", str(tmp_path)], check=True)
    wheel = next(tmp_path.glob("smarts_alert_analyzer-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("webapp/templates/base.html", "webapp/templates/fragments/_step.html",
                     "webapp/static/app.css", "webapp/static/vendor/htmx-2.0.11.min.js",
                     "webapp/static/vendor/htmx-ext-sse-2.2.4.js", "agents/test_data/trader_history.csv",
                     "agents/test_data/alerts/insider_genuine_acme.xml", "webapp/gunicorn_conf.py",
                     "webapp/migrations/env.py", "webapp/migrations/versions/0001_record.py"):
        assert expected in names, expected

    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target),
                    str(wheel)], check=True)
    probe = ("from webapp.paths import resource_dir; "
             "print(resource_dir('templates')); print(resource_dir('test_data'))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env={"PYTHONPATH": str(target)},
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == [str(target / "webapp" / "templates"), str(target / "agents" / "test_data")]
