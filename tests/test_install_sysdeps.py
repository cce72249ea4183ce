"""scripts/install-sysdeps.sh installs a Java runtime for Spark when none is there (issue 12).

The script runs with a PATH of stubs: dpkg-query reports every package installed, apt-get writes
down what it was asked for, and `java` is there or not.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_script(tmp_path: Path, java: bool, java_home: str | None = None) -> list[str]:
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    log = tmp_path / "apt.log"
    stubs = {
        "dpkg-query": "#!/bin/bash\necho 'install ok installed'\n",
        "apt-get": f"#!/bin/bash\necho \"$*\" >> {log}\n",
        "id": "#!/bin/bash\necho 0\n",
    }
    if java:
        stubs["java"] = "#!/bin/bash\necho 'openjdk version \"17\"'\n"
    for name, text in stubs.items():
        (bin_ / name).write_text(text)
        (bin_ / name).chmod(0o755)
    (bin_ / "grep").symlink_to(shutil.which("grep"))
    env = {"PATH": str(bin_), "HOME": str(tmp_path)}
    if java_home:
        env["JAVA_HOME"] = java_home
    r = subprocess.run([shutil.which("bash"), str(ROOT / "scripts" / "install-sysdeps.sh")],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    return log.read_text().splitlines() if log.exists() else []


def test_java_is_installed_when_missing(tmp_path):
    calls = run_script(tmp_path, java=False)
    assert calls[0] == "update -qq"
    assert calls[1].startswith("install ") and calls[1].split()[-1] == "default-jre-headless"


def test_an_existing_java_is_kept(tmp_path):
    assert run_script(tmp_path, java=True) == []  # everything present: apt-get is not even updated


def test_java_home_counts(tmp_path):
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").write_text("#!/bin/bash\n")
    (home / "bin" / "java").chmod(0o755)
    assert run_script(tmp_path, java=False, java_home=str(home)) == []

