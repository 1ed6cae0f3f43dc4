#!/usr/bin/env python3
"""A throwaway PostgreSQL cluster for the tests that need a real server (DESIGN.md: no mocks).

    pg_cluster.py run COMMAND [ARG...]   start a cluster, run COMMAND with it, stop it; exit with COMMAND's status
    pg_cluster.py stop DIR | start DIR   stop (immediately, as a crash would) or start again the cluster in DIR

`run` makes a cluster with initdb in a temporary directory (as the `postgres` user when run as root: the server
refuses to run as root), listening on a free loopback port and on a unix socket in that directory, with trust
authentication and no fsync (a test's data need not survive the machine: it survives the server's crash, as
each commit is written before it is acknowledged, synchronous_commit being on), creates the database `gnomon`, and
gives COMMAND in its environment:

    GNOMON_TEST_PG        postgresql://gnomon@127.0.0.1:PORT/gnomon (the superuser is `gnomon`)
    GNOMON_TEST_PG_STOP   a shell command that stops the server at once (pg_ctl -m immediate: an outage)
    GNOMON_TEST_PG_START  a shell command that starts it again on the same port, and returns once it accepts

The cluster is stopped and its directory removed when COMMAND ends, fails, or this script is interrupted
(SIGINT, SIGTERM: what ctest sends at a timeout). GNOMON_TEST_PG already set: COMMAND runs against that server
instead, and no cluster is made. PG_BIN overrides where initdb and pg_ctl are (default: the newest
/usr/lib/postgresql/*/bin)."""
import glob
import os
import pwd
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from free_port import free_port  # noqa: E402

SUPERUSER = "gnomon"
DATABASE = "gnomon"


def pg_bin():
    if os.environ.get("PG_BIN"):
        return os.environ["PG_BIN"]
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]))
    if not dirs:
        sys.exit("pg_cluster: no PostgreSQL server installed (scripts/install-deps.sh test installs postgresql)")
    return dirs[-1]


def as_server_user(argv):
    """argv run as the postgres user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + argv
    return argv


def pg_ctl(action, top, check=True):
    argv = [os.path.join(pg_bin(), "pg_ctl"), "-D", os.path.join(top, "data"), "-l", os.path.join(top, "log"),
            "-w", "-t", "30"]
    argv += ["stop", "-m", "immediate"] if action == "stop" else ["start"]
    rc = subprocess.run(as_server_user(argv), stdout=subprocess.DEVNULL).returncode
    if check and rc != 0:
        with open(os.path.join(top, "log"), errors="replace") as f:
            sys.stderr.write(f.read()[-4000:])
        sys.exit(f"pg_cluster: pg_ctl {action} failed ({rc})")


def make_cluster(top):
    data, sock = os.path.join(top, "data"), os.path.join(top, "sock")
    os.mkdir(sock)
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        for d in (top, sock):
            os.chown(d, pw.pw_uid, pw.pw_gid)
    os.chmod(top, 0o755)
    subprocess.run(as_server_user([os.path.join(pg_bin(), "initdb"), "-D", data, "-U", SUPERUSER, "--auth=trust",
                                   "-E", "UTF8", "--locale=C", "--no-sync"]),
                   check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    conf = (f"listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{sock}'\n"
            "fsync = off\nfull_page_writes = off\nmax_connections = 40\n"
            "shared_buffers = 16MB\nlog_min_messages = warning\n")
    subprocess.run(as_server_user(["sh", "-c", f"cat >> {shlex.quote(os.path.join(data, 'postgresql.conf'))}"]),
                   input=conf.encode(), check=True)
    pg_ctl("start", top)
    subprocess.run([os.path.join(pg_bin(), "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", SUPERUSER,
                    DATABASE], check=True)
    return port


class Cluster:
    """A throwaway cluster for a program of its own (bench/failover, scripts/cluster.py): made and started at
    construction, databases made with createdb(), stopped and its directory removed by close() (also as a
    context manager)."""

    def __init__(self):
        self.top = tempfile.mkdtemp(prefix="gnomon-pg-")
        self.port = None
        try:
            self.port = make_cluster(self.top)
        except BaseException:
            self.close()
            raise

    def url(self, database=DATABASE):
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def createdb(self, name):
        """A new empty database; its URL."""
        subprocess.run([os.path.join(pg_bin(), "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
                        SUPERUSER, name], check=True)
        return self.url(name)

    def psql(self, database, sql):
        """The rows of one query, as lists of strings."""
        out = subprocess.run([os.path.join(pg_bin(), "psql"), "-X", "-q", "-At", "-F", "\t", "-v",
                              "ON_ERROR_STOP=1", "-c", sql, self.url(database)],
                             check=True, capture_output=True, text=True).stdout
        return [line.split("\t") for line in out.splitlines()]

    def close(self):
        if self.top is None:
            return
        if self.port is not None or os.path.exists(os.path.join(self.top, "data", "postmaster.pid")):
            pg_ctl("stop", self.top, check=False)
        shutil.rmtree(self.top, ignore_errors=True)
        self.top = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def run(command):
    if os.environ.get("GNOMON_TEST_PG"):
        return subprocess.run(command).returncode

    def interrupted(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    with Cluster() as cluster:
        me = [sys.executable, os.path.abspath(__file__)]
        env = dict(os.environ)
        env["GNOMON_TEST_PG"] = cluster.url()
        env["GNOMON_TEST_PG_STOP"] = shlex.join(me + ["stop", cluster.top])
        env["GNOMON_TEST_PG_START"] = shlex.join(me + ["start", cluster.top])
        try:
            child = subprocess.Popen(command, env=env)
        except OSError as e:
            sys.stderr.write(f"pg_cluster: cannot run {command[0]}: {e.strerror}\n")
            return 127
        try:
            return child.wait()
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "run":
        sys.exit(run(sys.argv[2:]))
    if len(sys.argv) == 3 and sys.argv[1] in ("stop", "start"):
        pg_ctl(sys.argv[1], sys.argv[2])
        return
    sys.exit(__doc__)


if __name__ == "__main__":
    main()
