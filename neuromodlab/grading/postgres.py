"""Gradebook URLs, and a throwaway local PostgreSQL server (tests, benchmarks, trying it out).

nbgrader keeps grades in an SQLAlchemy database given by ``CourseDirectory.db_url``; the course's
``nbgrader_config.py`` points it at ``gradebook.db`` (SQLite). SQLite allows one writer at a
time and locks the whole file, so several nbgrader processes grading at once fail with
"database is locked": parallel grading needs a server database (PostgreSQL). The URL comes from
``--db URL`` or the ``NEUROMODLAB_DB_URL`` environment variable, e.g.
``postgresql://grader@dbhost:5432/neuromodlab`` (see docs/instructors.md).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from . import settings
from .course import BuildError

DB_URL_ENV = "NEUROMODLAB_DB_URL"

POSTGRES_INSTALL_HINT = ("install Debian's PostgreSQL server: `bash scripts/install_postgres.sh` "
                         "(= `apt-get install postgresql`)")


def default_db_url(root) -> str:
    """The gradebook of ``nbgrader_config.py``: ``gradebook.db`` in the course root."""
    return "sqlite:///" + str(Path(root).resolve() / settings.DB_FILE)


# the driver our `dask` extra installs: SQLAlchemy 2.1 reads a bare "postgresql://" as psycopg
# (version 3), which is not installed, so nbgrader failed with "No module named 'psycopg'"
POSTGRES_DRIVER = "postgresql+psycopg2"


def resolve_db_url(root, db: str | None = None) -> str:
    """``db``, else ``$NEUROMODLAB_DB_URL``, else the course's SQLite gradebook. A PostgreSQL URL
    without a driver (``postgresql://`` or ``postgres://``) gets psycopg2, the driver we
    install; an explicit ``postgresql+<driver>://`` is kept."""
    url = db or os.environ.get(DB_URL_ENV) or default_db_url(root)
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in ("postgresql", "postgres"):
        return f"{POSTGRES_DRIVER}://{rest}"
    return url


def check_reachable(url: str) -> None:
    """Connect to gradebook ``url`` once; a BuildError that says why and what to check if that
    fails (instead of nbgrader's traceback from inside a subprocess)."""
    import sqlalchemy
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    try:
        engine = sqlalchemy.create_engine(url)
        try:
            with engine.connect():
                pass
        finally:
            engine.dispose()
    except (ArgumentError, NoSuchModuleError) as err:
        raise BuildError(f"the gradebook URL {redact(url)!r} is not usable: {err}. Write it as "
                         "postgresql://USER@HOST:PORT/DATABASE") from None
    except ModuleNotFoundError as err:
        raise BuildError(f"the database driver for {redact(url)!r} is not installed ({err}): "
                         "install it, or leave the driver out of the URL (postgresql://...) "
                         'to use psycopg2 from the instructor extras, pip install -e ".[dask]"'
                         ) from None
    except DBAPIError as err:
        reason = str(getattr(err, "orig", err)).strip().splitlines()[0]
        raise BuildError(f"cannot connect to the gradebook database {redact(url)}: {reason}. "
                         "Check that the server is running and that the user, password and "
                         "database in the URL exist (docs/instructors.md)") from None


def is_sqlite(url: str) -> bool:
    return url.split(":", 1)[0].split("+", 1)[0].lower() == "sqlite"


def redact(url: str) -> str:
    """``url`` without its password (for messages and logs)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # not a URL: show only what follows a possible "user:password@"
        return url.rsplit("@", 1)[-1]


def nbgrader_db_args(root, db: str | None) -> list[str]:
    """Extra nbgrader arguments selecting gradebook ``db`` ([] for the configured default):
    the command line overrides ``nbgrader_config.py``."""
    url = resolve_db_url(root, db)
    return [] if url == default_db_url(root) else [f"--CourseDirectory.db_url={url}"]


# ---------------------------------------------------------------------------------------------
# A throwaway server


def find_postgres_bin() -> Path | None:
    """The bin/ folder of the newest PostgreSQL server installed (Debian keeps the server tools
    under /usr/lib/postgresql/<version>/bin, off PATH), or None."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit()
                        else 0)
    return Path(candidates[-1]).parent if candidates else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TemporaryPostgres:
    """A PostgreSQL server on 127.0.0.1 with its data in a temporary folder, removed by
    :meth:`stop`. PostgreSQL refuses to run as root, so as root the server runs as Debian's
    ``postgres`` user. Authentication is ``trust`` and it listens on loopback only: for tests
    and benchmarks, never for real grades."""

    def __init__(self, dbname: str = "gradebook", user: str = "postgres"):
        self.dbname, self.user = dbname, user
        self.bindir = find_postgres_bin()
        if self.bindir is None:
            raise BuildError(f"PostgreSQL server binaries (initdb, pg_ctl) not found: "
                             f"{POSTGRES_INSTALL_HINT}")
        self.port = None
        self.tmp = None
        self._started = False

    def _as_server_user(self, *cmd) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *map(str, cmd)]
        return list(map(str, cmd))

    def _run(self, *cmd) -> None:
        proc = subprocess.run(self._as_server_user(*cmd), text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            raise BuildError(f"`{' '.join(map(str, cmd))}` failed (exit {proc.returncode}):\n"
                             + proc.stdout[-3000:])

    @property
    def data(self) -> Path:
        return Path(self.tmp) / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/{self.dbname}"

    def start(self) -> TemporaryPostgres:
        self.tmp = tempfile.mkdtemp(prefix="neuromodlab-pg-")
        if os.geteuid() == 0:
            shutil.chown(self.tmp, "postgres", "postgres")
        self._run(self.bindir / "initdb", "-D", self.data, "-U", self.user, "--auth=trust",
                  "--no-sync", "-E", "UTF8", "--locale=C")
        self.port = free_port()
        # fsync off: a throwaway database need not survive a power cut, and it halves write time
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.tmp} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run(self.bindir / "pg_ctl", "-D", self.data, "-l", Path(self.tmp) / "server.log",
                  "-o", options, "-w", "-t", "60", "start")
        self._started = True
        self._run(self.bindir / "createdb", "-h", "127.0.0.1", "-p", self.port, "-U", self.user,
                  self.dbname)
        return self

    def stop(self) -> None:
        try:
            if self._started:
                self._run(self.bindir / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")
                self._started = False
        finally:
            if self.tmp:
                shutil.rmtree(self.tmp, ignore_errors=True)
                self.tmp = None

    def log(self) -> str:
        path = Path(self.tmp or "/nonexistent") / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def __enter__(self) -> TemporaryPostgres:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


@contextlib.contextmanager
def temporary_postgres(dbname: str = "gradebook"):
    """``with temporary_postgres() as url:`` a fresh database on a throwaway server."""
    with TemporaryPostgres(dbname) as server:
        yield server.url
