#!/usr/bin/env bash
# metaview set-up and entry point for a fresh Debian/Ubuntu machine.
#
#   ./run.sh demo    install what is missing, then run `metaview demo`
#   ./run.sh test    install what is missing, then run the test suite
#
# What it installs, each only when missing:
#   - Debian packages for headless OpenGL (EGL and OSMesa through Mesa), via apt-get;
#   - a Python virtual environment in .venv with metaview and its dependencies.
set -euo pipefail
cd "$(dirname "$0")"

PY=${PYTHON:-python3}
GL_PACKAGES="libegl1 libegl-mesa0 libgl1-mesa-dri libgl1 libopengl0 libosmesa6"

need_gl() {
    # ldconfig knows every shared library the loader can find.
    local lib
    for lib in libEGL.so.1 libOSMesa.so libGL.so.1; do
        if ! /sbin/ldconfig -p 2>/dev/null | grep -q "$lib"; then return 0; fi
    done
    return 1
}

install_gl() {
    if need_gl; then
        echo "run.sh: installing Debian packages for headless OpenGL: $GL_PACKAGES"
        local sudo=""
        if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $GL_PACKAGES >/dev/null
    fi
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
    [ -x .venv/bin/python ] || "$PY" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[cpu,dev]'
    # pyrender pins PyOpenGL 3.1.0, whose OSMesa support is broken; a newer
    # PyOpenGL works for both EGL and OSMesa. Installing it in the same
    # resolve makes pip backtrack to an ancient pyrender, so it comes second.
    .venv/bin/python -m pip install -q 'PyOpenGL>=3.1.7' 2>&1 | grep -v 'dependency conflicts\|pyrender 0.1.45 requires' || true
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
