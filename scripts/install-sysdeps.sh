#!/usr/bin/env bash
# Installs the Debian packages Netwarden's demo and tests need, and only those missing:
# PostgreSQL (the suite's real server), Chromium (the browser tests), the PostgreSQL JDBC driver and
# a Java runtime (Spark; pyspark 4 needs Java 17 or newer, Debian's default-jre-headless is 17 on
# bookworm and 21 on trixie). A `java` already on PATH (or under $JAVA_HOME) is kept.
set -euo pipefail
need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in postgresql chromium libpostgresql-jdbc-java; do
  have "$pkg" || need+=("$pkg")
done
java_ok() { command -v java >/dev/null 2>&1 || { [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; }; }
java_ok || need+=(default-jre-headless)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  # slim Debian images drop /usr/share/man, and the JRE's postinst fails without man1
  [ -d /usr/share/man/man1 ] || $SUDO mkdir -p /usr/share/man/man1
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
