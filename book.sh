#!/usr/bin/env bash
# The book's commands (see README.md):
#   ./book.sh build     execute every chapter and build the site into _build/html
#   ./book.sh test      run every test: ruff (lint and format), lawlib's unit tests, nbval over
#                       every chapter, the site build with -W and a headless-browser check of every page
#   ./book.sh lint [--fix]  ruff alone (with --fix: format the code and fix what ruff can)
#   ./book.sh student   the student edition (solutions left out) into _build/student/html
#   ./book.sh figures [--scale quick|full] [--out DIR]   every figure as PDF and PNG (default DIR: figures/)
# All create .venv and install the pinned requirements on first use (Python 3.11).
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3

ensure_env() {
  local stamp="$VENV/.installed"
  if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating $VENV with $("$PY" --version)"
    "$PY" -m venv "$VENV"
  fi
  if [ ! -f "$stamp" ] || [ requirements.txt -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "==> installing the pinned requirements into $VENV (about a minute the first time)"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -r requirements.txt
    "$VENV/bin/python" -m pip install -q --no-deps -e .
    touch "$stamp"
  fi
}

cmd=${1:-help}
shift || true
case "$cmd" in
  build)
    ensure_env
    LAWLIB_PROGRESS=${LAWLIB_PROGRESS:-0} LAWLIB_WIDGETS=${LAWLIB_WIDGETS:-0} "$VENV/bin/jupyter-book" build . -W -n --keep-going "$@"
    echo "==> the site is in _build/html (open _build/html/index.html)"
    ;;
  test)
    ensure_env
    echo "==> ruff (lint and format check, line length 88)"
    lint=0
    { "$VENV/bin/ruff" check . && "$VENV/bin/ruff" format --check .; } || lint=1
    export LAWLIB_SCALE=${LAWLIB_SCALE:-quick} LAWLIB_PROGRESS=${LAWLIB_PROGRESS:-0} LAWLIB_WIDGETS=${LAWLIB_WIDGETS:-0}
    rc=0
    "$VENV/bin/python" -m pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=900 tests book "$@" || rc=$?
    if [ "$lint" = 1 ] && [ "$rc" = 0 ]; then echo "==> ruff found problems (above)"; rc=1; fi
    exit "$rc"
    ;;
  lint)
    ensure_env
    if [ "${1:-}" = "--fix" ]; then
      "$VENV/bin/ruff" format . && "$VENV/bin/ruff" check --fix .
    else
      "$VENV/bin/ruff" check . && "$VENV/bin/ruff" format --check .
    fi
    ;;
  student)
    ensure_env
    LAWLIB_WIDGETS=${LAWLIB_WIDGETS:-0} "$VENV/bin/python" tools/student.py "$@"
    ;;
  figures)
    ensure_env
    LAWLIB_WIDGETS=${LAWLIB_WIDGETS:-0} "$VENV/bin/python" tools/figures.py "$@"
    ;;
  *)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
