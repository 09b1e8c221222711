# Shared by scripts/start and scripts/test: a virtualenv in .venv with the project installed.
# Sourced, not run. Safe to repeat: pip only installs what is missing or changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
pip install --quiet --disable-pip-version-check -e ".${EXTRAS:-}" 2>&1 | grep -v "is ignored" || true
python -c "import flask, sqlalchemy, flask_migrate" # fail loudly here if the install did not work
export FLASK_APP=app
