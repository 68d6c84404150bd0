#!/usr/bin/env bash
# Installs what the columns need, from Debian's packages: chromium and
# firefox-esr with certutil (libnss3-tools) for the browsers, nodejs with
# node-ws and python3-websockets for the node and python columns, openssl for
# the article's check, and nginx, whose binary the container scenarios copy
# into an image (the nginx service itself is not started). As root it
# installs; otherwise it names the command. WSSLAB_CHROMIUM, WSSLAB_FIREFOX,
# WSSLAB_NODE, WSSLAB_PYTHON and WSSLAB_NGINX point at binaries elsewhere.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -n "${WSSLAB_CHROMIUM:-}" ] || missing+=(chromium)
command -v certutil >/dev/null 2>&1 || missing+=(libnss3-tools)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v firefox-esr >/dev/null 2>&1 || [ -n "${WSSLAB_FIREFOX:-}" ] || missing+=(firefox-esr)
if [ -z "${WSSLAB_NODE:-}" ]; then
  command -v node >/dev/null 2>&1 || command -v nodejs >/dev/null 2>&1 || missing+=(nodejs)
  [ -f /usr/share/nodejs/ws/package.json ] || missing+=(node-ws)
fi
# Debian's python3: the first python3 on PATH may be another interpreter.
if [ -z "${WSSLAB_PYTHON:-}" ]; then
  /usr/bin/python3 -c 'import websockets' >/dev/null 2>&1 || missing+=(python3-websockets)
fi
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || [ -n "${WSSLAB_NGINX:-}" ] || missing+=(nginx-light)
for pkg in ${WSSLAB_EXTRA_PACKAGES:-}; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "ERROR: missing ${missing[*]}: run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Note: installing ${missing[*]} from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
# Only nginx's files are wanted: Debian's policy-rc.d convention keeps the
# package from starting its service (on :80) during the install.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
