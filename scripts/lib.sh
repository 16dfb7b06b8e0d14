# Shared steps of scripts/demo and scripts/test: idempotent installs on Debian/Ubuntu.
# Sourced, not run. Sets ROOT, VENV, and exports ZONEGEO_DATABASE_URL (the server to use).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
APT_UPDATED=0

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

apt_install() {
  if [ "$APT_UPDATED" -eq 0 ]; then
    $SUDO apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

pick_python() {
  for candidate in python3.11 python3 python3.12 python3.13; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

# install_key PYTHON: a hash of what pip installs from pyproject.toml (build system, project and its
# dependencies), so that changing tool settings such as pytest's does not reinstall everything.
install_key() {
  "$1" - "$ROOT/pyproject.toml" <<'PY' | sha256sum | cut -d' ' -f1
import json, sys, tomllib
with open(sys.argv[1], "rb") as f:
    data = tomllib.load(f)
print(json.dumps({k: data.get(k) for k in ("build-system", "project")}, sort_keys=True))
PY
}

ensure_venv() {
  local py stamp want
  py="$(pick_python)" || { apt_install python3 python3-venv; py="$(pick_python)"; }
  if [ ! -x "$VENV/bin/python" ]; then
    say "创建虚拟环境 .venv（$py）"
    "$py" -m venv "$VENV" 2>/dev/null || { apt_install python3-venv; rm -rf "$VENV"; "$py" -m venv "$VENV"; }
  fi
  stamp="$VENV/.zonegeo-installed"
  want="$(install_key "$py")"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "安装 Python 依赖"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e "$ROOT[test]"
    echo "$want" > "$stamp"
  fi
}

psql_ok() { psql "$1" -tAc 'select 1' >/dev/null 2>&1; }

ensure_postgres() {
  # Use the database named by ZONEGEO_DATABASE_URL when given; else a local PostgreSQL with PostGIS.
  if [ -n "${ZONEGEO_DATABASE_URL:-}" ]; then
    say "使用 ZONEGEO_DATABASE_URL 指定的数据库"
    return 0
  fi
  command -v psql >/dev/null 2>&1 || { say "安装 PostgreSQL"; apt_install postgresql postgresql-contrib; }
  if ! psql_ok "postgresql://postgres@127.0.0.1:5432/postgres" && ! pg_lsclusters -h 2>/dev/null | grep -q online; then
    say "启动 PostgreSQL"
    local cluster
    cluster="$(pg_lsclusters -h | head -1 | awk '{print $1" "$2}')"
    [ -n "$cluster" ] || { apt_install postgresql; cluster="$(pg_lsclusters -h | head -1 | awk '{print $1" "$2}')"; }
    # shellcheck disable=SC2086
    $SUDO pg_ctlcluster --skip-systemctl-redirect $cluster start 2>/dev/null || $SUDO pg_ctlcluster $cluster start
  fi
  local base
  if psql_ok "postgresql://postgres@127.0.0.1:5432/postgres"; then
    base="postgresql://postgres@127.0.0.1:5432"
  else
    # A fresh install allows only local peer logins: give the current user a superuser role of its own.
    local me; me="$(id -un)"
    $SUDO runuser -u postgres -- psql -tAc "select 1 from pg_roles where rolname='$me'" | grep -q 1 ||
      $SUDO runuser -u postgres -- createuser -s "$me"
    $SUDO runuser -u postgres -- psql -tAc "select 1 from pg_database where datname='$me'" | grep -q 1 ||
      $SUDO runuser -u postgres -- createdb -O "$me" "$me"
    base="postgresql:///?host=/var/run/postgresql"
  fi
  local major
  major="$(psql "$(pg_url "$base" postgres)" -tAc 'show server_version_num')"
  major=$((major / 10000))
  if ! psql "$(pg_url "$base" postgres)" -tAc "select 1 from pg_available_extensions where name='postgis'" | grep -q 1; then
    say "安装 PostGIS（postgresql-$major-postgis-3）"
    apt_install "postgresql-$major-postgis-3"
  fi
  export ZONEGEO_DATABASE_URL
  ZONEGEO_DATABASE_URL="$(pg_url "$base" zonegeo | sed 's#^postgresql:#postgresql+psycopg2:#')"
}

# pg_url BASE DBNAME: a libpq URL for database DBNAME on the server BASE.
pg_url() {
  case "$1" in
    *\?*) echo "${1%%/\?*}/$2?${1#*\?}" ;;
    *) echo "$1/$2" ;;
  esac
}

ensure_database() {
  # Create the application's database (named in ZONEGEO_DATABASE_URL) if it is missing.
  "$VENV/bin/python" - <<'PY'
import sys
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from zonegeo.config import Settings
from zonegeo.errors import ZonegeoError
try:
    url = make_url(Settings().database_url)  # postgresql:// named with the installed driver, or a Chinese error
except ZonegeoError as exc:
    sys.exit(f"错误（{exc.code}）：{exc}")
admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
with admin.connect() as conn:
    if not conn.scalar(text("select 1 from pg_database where datname = :d"), {"d": url.database}):
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))
        print(f"==> 已创建数据库 {url.database}")
admin.dispose()
PY
}

ensure_browser() {
  if [ ! -x /usr/bin/chromium ]; then
    say "安装 Chromium（浏览器测试）"
    apt_install chromium
  fi
  ensure_fonts
}

# The Chinese font the printable PDFs embed (src/zonegeo/pdf/fonts.py) and the browser renders pages with:
# ZONEGEO_PDF_FONT when set, else Debian's fonts-wqy-microhei (文泉驿微米黑, Apache-2.0 or GPLv3 with the font
# embedding exception). Without it the app still runs; its PDFs answer a Chinese error (pdf_font_missing).
ensure_fonts() {
  if [ -n "${ZONEGEO_PDF_FONT:-}" ]; then
    [ -f "$ZONEGEO_PDF_FONT" ] || say "警告：ZONEGEO_PDF_FONT=$ZONEGEO_PDF_FONT 不存在，PDF文件将无法生成"
    return 0
  fi
  if [ ! -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then
    say "安装中文字体 fonts-wqy-microhei（PDF文件和网页）"
    apt_install fonts-wqy-microhei || say "警告：未能安装 fonts-wqy-microhei，PDF文件将无法生成（可设 ZONEGEO_PDF_FONT）"
  fi
}

# use_app_role: from here on connect as zonegeo_app, the least-privilege role made by the migrations (the usual
# reads and writes; on the audit log only INSERT and SELECT; no DDL, not a superuser). The administrator's URL stays
# in ZONEGEO_ADMIN_DATABASE_URL for migrations. The role's password is ZONEGEO_APP_DB_PASSWORD, else one generated
# once and kept (mode 600) in $VENV/zonegeo-app-db-password; it is set on the role at every call.
use_app_role() {
  local py="$VENV/bin/python" pwfile="$VENV/zonegeo-app-db-password"
  [ -x "$py" ] || py="$(command -v python3)"
  export ZONEGEO_ADMIN_DATABASE_URL="${ZONEGEO_ADMIN_DATABASE_URL:-$ZONEGEO_DATABASE_URL}"
  if [ -z "${ZONEGEO_APP_DB_PASSWORD:-}" ]; then
    if [ ! -s "$pwfile" ]; then
      (umask 077; "$py" -c 'import secrets; print(secrets.token_hex(16))' > "$pwfile")
    fi
    ZONEGEO_APP_DB_PASSWORD="$(cat "$pwfile")"
  fi
  export ZONEGEO_APP_DB_PASSWORD
  ZONEGEO_DATABASE_URL="$("$py" - <<'PY'
import os
import sys

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from zonegeo.config import normalise_database_url

admin = make_url(normalise_database_url(os.environ["ZONEGEO_ADMIN_DATABASE_URL"]))
password = os.environ["ZONEGEO_APP_DB_PASSWORD"]
engine = create_engine(admin, isolation_level="AUTOCOMMIT")
try:
    with engine.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = 'zonegeo_app'")):
            sys.exit("错误：数据库角色 zonegeo_app 不存在，请先以管理员身份运行 zonegeo db upgrade")
        conn.execute(text(conn.scalar(text("SELECT format('ALTER ROLE zonegeo_app PASSWORD %L', :p)"),
                                      {"p": password})))
except SQLAlchemyError as exc:
    sys.exit(f"错误：无法设置数据库角色 zonegeo_app 的密码（{exc.__class__.__name__}）")
finally:
    engine.dispose()
# The app role logs in with its password over TCP (a Unix-socket URL may allow only peer logins).
app = admin.set(username="zonegeo_app", password=password, host=admin.host or "127.0.0.1", port=admin.port or 5432,
                query={})
print(app.render_as_string(hide_password=False))
PY
)"
  export ZONEGEO_DATABASE_URL
}
