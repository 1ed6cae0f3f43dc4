"""`gnomon backup` against a server whose state is in PostgreSQL (issue 16 item 8): POST /api/v1/backup answers
409 naming pg_dump, and the CLI says so in one line, exit 1, leaving the target directory as it was."""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import BIN, GnomonTestCase, main  # noqa: E402
from pg_harness import new_database, require_pg  # noqa: E402


def setUpModule():
    require_pg()


class PgBackup(GnomonTestCase):
    server_args = None

    def test_refused_with_pg_dump(self):
        srv = self.new_server(["--state", new_database("backup_refused")])
        status, body = srv.json("POST", "/api/v1/backup")
        self.assertError(status, body, 409, contains=["pg_dump"], srv=srv)
        target = os.path.join(tempfile.mkdtemp(prefix="gnomon-backup-"), "copy")
        r = subprocess.run([BIN, "backup", target, "--server", srv.url], capture_output=True, text=True, timeout=60)
        self.assertEqual((r.returncode, r.stdout), (1, ""))
        self.assertEqual(r.stderr, "gnomon: backup: %s\n" % body["message"])
        self.assertFalse(os.path.exists(target))


if __name__ == "__main__":
    main()
