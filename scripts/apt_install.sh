# Sourced by install_browser.sh and install_postgres.sh (not run on its own).
# apt_install WHO HINT PACKAGE...: install Debian packages with apt-get, as root or through
# sudo; when neither is possible, exit 1 saying what to install by hand (HINT).
apt_install() {
    local who="$1" hint="$2" sudo=""
    shift 2
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo="sudo"
        else
            echo "$who: not root and no sudo: install $hint by hand" >&2
            exit 1
        fi
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "$who: apt-get is not available: install $hint by hand" >&2
        exit 1
    fi
    echo "$who: installing Debian's $* with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq "$@"
}
