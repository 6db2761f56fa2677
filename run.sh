#!/usr/bin/env bash
# metaview set-up and entry point for a fresh Debian/Ubuntu machine.
#
#   ./run.sh demo    install what is missing, then run `metaview demo`
#   ./run.sh test    install what is missing, then run the test suite
#
# What it installs, each only when missing:
#   - Debian packages for headless OpenGL (EGL and OSMesa through Mesa), via apt-get;
#   - for the tests only: Debian's chromium, which opens `metaview explain`'s index.html,
#     and postgresql, the database of the team tracking server's tests;
#   - a Python virtual environment in .venv with metaview and its dependencies.
set -euo pipefail
cd "$(dirname "$0")"

PY=${PYTHON:-python3}
# libglu1-mesa: pyrender imports pyglet, which loads libGLU even when rendering headless.
GL_PACKAGES="libegl1 libegl-mesa0 libgl1-mesa-dri libgl1 libopengl0 libosmesa6 libglu1-mesa"

need_gl() {
    # ldconfig knows every shared library the loader can find. Read its list once:
    # `ldconfig -p | grep -q` can fail with SIGPIPE under pipefail on a long list.
    local lib libs
    libs=$(/sbin/ldconfig -p 2>/dev/null || true)
    for lib in libEGL.so.1 libOSMesa.so libGL.so.1 libGLU.so.1; do
        if ! grep -q "$lib" <<<"$libs"; then return 0; fi
    done
    return 1
}

need_venv_module() {
    # Debian/Ubuntu ship `python3 -m venv` without ensurepip unless python3-venv is installed.
    ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1
}

install_gl() {
    local packages=""
    if need_gl; then packages="$GL_PACKAGES"; fi
    if need_venv_module; then packages="$packages python3-venv"; fi
    if [ -n "$packages" ]; then
        echo "run.sh: installing Debian packages:$packages"
        local sudo=""
        if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
        $sudo apt-get update -qq
        # shellcheck disable=SC2086 # a list of package names
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $packages >/dev/null
    fi
}

install_test_packages() {
    # The explain test opens its HTML page in a headless browser; the tracking server's
    # tests start a real PostgreSQL.
    local packages=""
    if ! command -v chromium >/dev/null 2>&1; then packages="chromium"; fi
    if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
        packages="$packages postgresql"
    fi
    if [ -z "$packages" ]; then return; fi
    echo "run.sh: installing Debian packages for the tests: $packages"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    # shellcheck disable=SC2086 # a list of package names
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $packages >/dev/null
}

install_venv() {
    # A stamp keyed on pyproject.toml: re-install only when the dependencies change.
    local stamp=".venv/.metaview-installed"
    local want
    want=$(sha256sum pyproject.toml run.sh | sha256sum | cut -c1-16)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/metaview ]; then
        return
    fi
    echo "run.sh: creating the Python environment in .venv (first time: a few minutes)"
    # A .venv left broken by an earlier failure (no pip in it) is made anew.
    if ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
        rm -rf .venv
        "$PY" -m venv .venv
    fi
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[cpu,dev]'
    # pyrender pins PyOpenGL 3.1.0, whose OSMesa support is broken; a newer
    # PyOpenGL works for both EGL and OSMesa. Installing it in the same
    # resolve makes pip backtrack to an ancient pyrender, so it comes second.
    # pip warns that this breaks pyrender's pin; that warning is expected and hidden,
    # a failure is not.
    local out
    if ! out=$(.venv/bin/python -m pip install -q 'PyOpenGL>=3.1.7' 2>&1); then
        echo "$out" >&2
        exit 1
    fi
    grep -v 'dependency conflicts\|pyrender 0.1.45 requires\|^$' <<<"$out" || true
    echo "$want" > "$stamp"
}

case "${1:-}" in
    demo)
        install_gl
        install_venv
        shift
        exec .venv/bin/metaview demo "$@"
        ;;
    test)
        install_gl
        install_test_packages
        install_venv
        shift
        exec .venv/bin/python -m pytest "$@"
        ;;
    install)
        install_gl
        install_venv
        ;;
    *)
        echo "usage: ./run.sh demo|test|install [extra arguments]" >&2
        exit 64
        ;;
esac
