# Sourced by serve.sh and test.sh: the project's virtualenv, installed only when something changed.
#
# A stamp file in .venv records what the last install was made from (the Python version, the hash
# of pyproject.toml, the pip spec). While it matches, the install is skipped: restarting the app
# takes seconds, not a reinstall.

venv_stamp() {  # what an install of spec $1 is made from
  echo "$(python3 --version 2>&1) $(sha256sum pyproject.toml | cut -c1-64) $1"
}

ensure_venv() {  # $1: pip spec ("." or ".[test]"); $2...: names of the stamps this install satisfies
  local spec="$1"; shift
  local want; want="$(venv_stamp "$spec")"
  if [ -x .venv/bin/python ] && [ "$(cat ".venv/.installed-$1" 2>/dev/null)" = "$want" ]; then
    echo "Dependencies are up to date in .venv (nothing changed since the last install)."
    return
  fi
  [ -x .venv/bin/python ] || { echo "Creating the virtualenv in .venv…"; python3 -m venv .venv; }
  echo "Installing the app and its dependencies into .venv (a minute or two the first time)…"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
  local name
  for name in "$@"; do venv_stamp "$( [ "$name" = test ] && echo ".[test]" || echo "." )" > ".venv/.installed-$name"; done
  echo "Installed."
}
