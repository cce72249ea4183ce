"""The `netwarden` command as tests run it: in a subprocess, with this interpreter."""

import sys

CLI = [sys.executable, "-m", "netwarden"]
