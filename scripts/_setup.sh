# Shared by scripts/start and scripts/test: a virtualenv in .venv holding exactly the locked packages.
# Sourced, not run. LOCK picks the lock (requirements.txt by default; scripts/test uses requirements-dev.txt).
# Safe to repeat: pip only installs what is missing or at another version. The project itself is not
# installed: everything runs from this folder (flask --app app, gunicorn, pytest, python -m bench.run).
# To change a version, see scripts/lock.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
LOCK="${LOCK:-requirements.txt}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
# pip, without its harmless "Location '…' is ignored" warnings about a local file index; fails as pip does.
quiet_pip() { pip --disable-pip-version-check "$@" 2>&1 | { grep -v "is ignored" || true; }; }

# Remove what no lock names (left by an older setup, such as the project's own editable install, or by
# hand), so that only locked code can be imported. dev.txt holds run.txt, so the two scripts share .venv.
# (python -I: only the venv's packages, not an *.egg-info lying in this folder.)
leftovers="$(python -I - <<'PY'
import re
from importlib.metadata import distributions

def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()

with open("requirements-dev.txt") as lock:
    locked = {norm(re.split(r"[=;\s]", line, maxsplit=1)[0]) for line in lock if re.match(r"[A-Za-z0-9]", line)}
installed = {norm(d.metadata["Name"]) for d in distributions() if d.metadata["Name"]}
print(" ".join(sorted(installed - locked - {"pip", "setuptools", "wheel"})))
PY
)"
if [ -n "$leftovers" ]; then
  echo "Removing packages that no lock names: $leftovers"
  # shellcheck disable=SC2086
  quiet_pip uninstall --quiet --yes $leftovers
fi
# Exactly the locked versions, each checked against its hash; --no-deps: the lock already lists them all.
quiet_pip install --quiet --require-hashes --no-deps -r "$LOCK"
python -c "import flask, sqlalchemy, flask_migrate" # fail loudly here if the install did not work
export FLASK_APP=app
