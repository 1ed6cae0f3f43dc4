"""TLS (issue 16, item 4): a CA and certificates made here with the openssl command line; the server's one port
speaking HTTPS only (--tls-cert, --tls-key): the API with the CA, plain HTTP to it answered 400 and the server
serving on, a client with another CA refused, a certificate for another host name refused, SIGHUP reading a new
certificate (its serial seen by Python's ssl) and keeping the old one when the new pair is bad, a bad pair at
start refused with one line naming the flag; an agent over TLS running a job; agents' client certificates
(--tls-client-ca) required and refused."""

import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_agents import API, TOKEN, V1, Agent, AgentsBase  # noqa: E402
from gnomon_harness import BIN, GnomonTestCase, main, sanitizer_lines, sched, wait_until  # noqa: E402

PKI = None  # the directory of the certificates, made once


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, stdin=subprocess.DEVNULL, capture_output=True, cwd=PKI)


def make_ca(name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-keyout", name + ".key", "-out", name + ".pem", "-subj", "/CN=" + name)


def make_cert(name, ca, san, serial, usage="serverAuth"):
    """A key and a certificate signed by ca, for the subjectAltName san."""
    with open(os.path.join(PKI, name + ".ext"), "w") as f:
        f.write("subjectAltName=%s\nextendedKeyUsage=%s\n" % (san, usage))
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", name + ".key",
            "-out", name + ".csr", "-subj", "/CN=" + name)
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key", "-set_serial",
            str(serial), "-days", "2", "-out", name + ".pem", "-extfile", name + ".ext")


def setUpModule():
    global PKI
    if shutil.which("openssl") is None:
        raise RuntimeError("the openssl command is needed (scripts/install-deps.sh test)")
    PKI = tempfile.mkdtemp(prefix="gnomon-pki-")
    make_ca("ca")
    make_ca("other-ca")
    make_cert("server", "ca", "DNS:localhost,IP:127.0.0.1", 1001)
    make_cert("server2", "ca", "DNS:localhost,IP:127.0.0.1", 1002)
    make_cert("wrong-host", "ca", "DNS:wrong.example", 1003)
    make_cert("agent", "ca", "DNS:agent.example", 2001, usage="clientAuth")
    make_cert("stranger", "other-ca", "DNS:agent.example", 2002, usage="clientAuth")


def tearDownModule():
    shutil.rmtree(PKI, ignore_errors=True)


def pki(name):
    return os.path.join(PKI, name)


def context(ca="ca.pem"):
    return ssl.create_default_context(cafile=pki(ca))


def tls_args(cert="server"):
    """Copies of cert's pair in a directory of the test's own (SIGHUP reads them again), as server flags."""
    d = tempfile.mkdtemp(prefix="gnomon-tls-", dir=PKI)
    shutil.copy(pki(cert + ".pem"), os.path.join(d, "cert.pem"))
    shutil.copy(pki(cert + ".key"), os.path.join(d, "key.pem"))
    return ["--tls-cert", os.path.join(d, "cert.pem"), "--tls-key", os.path.join(d, "key.pem")]


def cli(srv, *args, ca="ca.pem", env=None, host="localhost"):
    e = dict(os.environ)
    e.pop("GNOMON_TLS_CA", None)
    e.update(env or {})
    cmd = [BIN, "--server", "https://%s:%d" % (host, srv.port)] + (["--tls-ca", pki(ca)] if ca else []) + list(args)
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30, env=e)


def peer_serial(port, ca="ca.pem"):
    """The serial number of the certificate the server presents (a fresh connection, verified with ca)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context(ca).wrap_socket(raw, server_hostname="localhost") as s:
            return int(s.getpeercert()["serialNumber"], 16)


class TlsServer(GnomonTestCase):
    server_args = None

    def tls_server(self, cert="server", args=()):
        return self.new_server(tls_args(cert) + list(args), context=context())

    def test_https_api_with_the_ca(self):
        """The API over HTTPS: Chronos's routes and gnomon's, from Python and from the CLI (--tls-ca and
        GNOMON_TLS_CA); the server logs https://."""
        srv = self.tls_server()
        status, body = self.post_job(sched("over-tls"), srv=srv)
        self.assertEqual(status, 204, body)
        self.assertIn("over-tls", self.job_names(srv))
        out = cli(srv, "job", "list")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("over-tls", out.stdout)
        out = cli(srv, "job", "list", ca=None, env={"GNOMON_TLS_CA": pki("ca.pem")})
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("over-tls", out.stdout)
        self.assertIn("listening on https://", srv.log())
        self.assertEqual(peer_serial(srv.port), 1001)

    def test_plain_http_to_the_tls_port(self):
        """Plain HTTP is answered 400 in plain HTTP, bytes that are neither end the connection, a TLS 1.1 client
        is refused; the server serves HTTPS on."""
        srv = self.tls_server()
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
            s.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            while True:
                got = s.recv(4096)
                if not got:
                    break
                answer += got
        self.assertTrue(answer.startswith(b"HTTP/1.1 400 "), answer)
        self.assertIn(b"speaks HTTPS only", answer)
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
            s.sendall(b"\x16\x03\x01\x00\x05garbage-that-is-not-a-hello" * 4)
            while s.recv(4096):
                pass
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.load_verify_locations(pki("ca.pem"))
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        old.minimum_version = ssl.TLSVersion.TLSv1
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as raw:
            with self.assertRaises(ssl.SSLError):
                old.wrap_socket(raw, server_hostname="localhost")
        self.assertTrue(srv.ping())
        wait_until(lambda: "TLS handshake" in srv.log(), 10, what="the failed handshakes logged")

    def test_wrong_ca_refused(self):
        """A client that trusts another CA refuses the server: the CLI with one line, Python's ssl."""
        srv = self.tls_server()
        out = cli(srv, "job", "list", ca="other-ca.pem")
        self.assertNotEqual(out.returncode, 0)
        self.assertEqual(len(out.stderr.strip().splitlines()), 1, out.stderr)
        self.assertIn("certificate", out.stderr)
        with self.assertRaises(ssl.SSLCertVerificationError):
            peer_serial(srv.port, ca="other-ca.pem")
        self.assertTrue(srv.ping())

    def test_wrong_host_name_refused(self):
        """A certificate for another name is refused by the CLI, by Python and by gnomon-agent, though its CA is
        trusted."""
        srv = self.new_server(tls_args("wrong-host"), context=ssl.create_default_context(cafile=pki("ca.pem")),
                              host="127.0.0.1", start=False)
        srv.context.check_hostname = False  # the harness's own /ping: only the CA is checked
        srv.start()
        for host in ("localhost", "127.0.0.1"):
            out = cli(srv, "job", "list", host=host)
            self.assertNotEqual(out.returncode, 0, out.stdout)
            self.assertIn("certificate", out.stderr)
        with self.assertRaises(ssl.SSLCertVerificationError):
            peer_serial(srv.port)
        agent = TlsAgent(srv, "misled", tls=["--tls-ca", pki("ca.pem")]).start()
        self.addCleanup(agent.close)
        wait_until(lambda: "certificate refused: hostname mismatch" in agent.log(), 20, what="the agent's refusal")
        agent.stop()
        self.assertEqual(sanitizer_lines(agent.log()), [])

    def test_sighup_reloads_the_certificate(self):
        """SIGHUP: the new pair is presented to new connections; a bad new pair is logged and the one in use
        kept."""
        args = tls_args("server")
        srv = self.new_server(args, context=context())
        cert, key = args[1], args[3]
        self.assertEqual(peer_serial(srv.port), 1001)
        shutil.copy(pki("server2.pem"), cert)
        shutil.copy(pki("server2.key"), key)
        srv.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: peer_serial(srv.port) == 1002, 10, what="the new certificate presented")
        shutil.copy(pki("server.pem"), cert)  # its key is server2's: a pair that does not match
        srv.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "the TLS certificate in use is kept" in srv.log(), 10, what="the bad pair logged")
        self.assertIn("--tls-key %s: key values mismatch" % key, srv.log())
        self.assertEqual(peer_serial(srv.port), 1002)
        self.assertTrue(srv.ping())

    def test_bad_pair_at_start(self):
        """A pair that does not load stops the start with one line naming the flag; so does half a pair."""
        cases = [
            (["--tls-cert", pki("server.pem"), "--tls-key", pki("server2.key")], "--tls-key"),
            (["--tls-cert", pki("missing.pem"), "--tls-key", pki("server.key")], "--tls-cert"),
            (["--tls-cert", pki("server.ext"), "--tls-key", pki("server.key")], "--tls-cert"),
            (["--tls-cert", pki("server.pem")], "--tls-cert: needs --tls-key"),
            (["--tls-cert", pki("server.pem"), "--tls-key", pki("server.key"), "--tls-client-ca",
              pki("missing.pem")], "--tls-client-ca"),
        ]
        d = tempfile.mkdtemp(prefix="gnomon-data-", dir=PKI)
        for args, flag in cases:
            out = subprocess.run([BIN, "server", "--http-port", "0", "--data-dir", d] + args,
                                 stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
            self.assertEqual(out.returncode, 2, (args, out.stderr))
            lines = out.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, out.stderr)
            self.assertTrue(lines[0].startswith("gnomon server: " + flag), lines[0])


class TlsAgent(Agent):
    """An agent that reaches its server over https://localhost."""

    def __init__(self, server, name, tls=(), **kw):
        super().__init__(server, name, **kw)
        self.tls = list(tls)

    def command(self):
        cmd = super().command()
        cmd[cmd.index("--server") + 1] = "https://localhost:%d" % self.server.port
        return cmd + self.tls


class TlsAgents(AgentsBase):
    server_args = None

    def setUp(self):
        super().setUp()
        self.server = self.new_server(tls_args() + list(AgentsBase.server_args) + self.extra, context=context())

    extra = []

    def tls_agent(self, name, *tls):
        a = TlsAgent(self.server, name, tls=tls).start()
        self.agents.append(a)
        self.addCleanup(a.close)
        return a

    def stop_agents(self):
        """Stop them and look for sanitizer reports in their logs (their leak checks run at exit)."""
        for a in self.agents:
            self.assertIn(a.stop(), (0, None), a.log()[-3000:])
        self.check_agent_logs()

    def run_on(self, agent, job):
        self.run_now(sched(job, command="echo ran-over-tls"))
        run = self.wait_run(job, lambda r: r["status"] in ("succeeded", "failed"), "the run's end")
        self.assertEqual(run["status"], "succeeded", run)
        self.assertEqual(run.get("agent"), agent, run)
        status, _, log = self.server.request("GET", API + "/runs/%s/log?stream=stdout" % run["taskId"])
        self.assertEqual(status, 200)
        self.assertIn(b"ran-over-tls", log)


class AgentOverTls(TlsAgents):
    def test_agent_runs_a_job_over_tls(self):
        """gnomon-agent with --tls-ca registers over https:// and runs a job; without it (the system's CAs) it
        is refused, and says why."""
        bad = self.tls_agent("untrusting")
        wait_until(lambda: "certificate refused" in bad.log(), 20, what="the untrusting agent's refusal")
        bad.stop()
        self.tls_agent("a1", "--tls-ca", pki("ca.pem"))
        self.wait_agents(["a1"])
        self.run_on("a1", "tls-job")
        self.assertNotIn("untrusting", self.fleet())
        self.stop_agents()


class AgentOverTlsWithToken(TlsAgents):
    def setUp(self):
        self.token_dir = tempfile.mkdtemp(prefix="gnomon-tls-token-")
        self.addCleanup(shutil.rmtree, self.token_dir, True)
        self.good, self.bad = os.path.join(self.token_dir, "good"), os.path.join(self.token_dir, "bad")
        for path, secret in ((self.good, TOKEN), (self.bad, "not-" + TOKEN)):
            with open(path, "w") as f:
                f.write(secret + "\n")
        self.extra = ["--agent-token-file", self.good]
        super().setUp()

    def test_agent_with_the_token_over_tls(self):
        """Over https://, an agent with the agents' token registers and runs a job; one with another token is
        refused (401) and runs nothing."""
        wrong = TlsAgent(self.server, "wrong", tls=["--tls-ca", pki("ca.pem")], token_file=self.bad).start()
        self.agents.append(wrong)
        self.addCleanup(wrong.close)
        right = TlsAgent(self.server, "right", tls=["--tls-ca", pki("ca.pem")], token_file=self.good).start()
        self.agents.append(right)
        self.addCleanup(right.close)
        self.wait_agents(["right"])
        wait_until(lambda: "401" in wrong.log(), 20, what="the wrong token refused over TLS")
        self.run_on("right", "tls-token-job")
        self.assertNotIn("wrong", self.fleet())
        self.stop_agents()


class AgentClientCertificates(TlsAgents):
    def setUp(self):
        self.extra = ["--tls-client-ca", pki("ca.pem")]
        super().setUp()

    def test_client_certificates_required(self):
        """With --tls-client-ca, an agent without a certificate is refused (403), one signed by another CA cannot
        connect, one signed by the CA runs a job; the API's other routes want none."""
        none = self.tls_agent("no-cert", "--tls-ca", pki("ca.pem"))
        stranger = self.tls_agent("stranger", "--tls-ca", pki("ca.pem"), "--tls-cert", pki("stranger.pem"),
                                  "--tls-key", pki("stranger.key"))
        wait_until(lambda: "TLS client certificate" in none.log(), 20, what="the agent without one refused")
        self.assertIn("403", none.log())
        wait_until(lambda: "registration" in stranger.log() and "TLS" in stranger.log(), 20,
                   what="the stranger's handshake refused")
        self.tls_agent("good", "--tls-ca", pki("ca.pem"), "--tls-cert", pki("agent.pem"), "--tls-key",
                       pki("agent.key"))
        self.wait_agents(["good"])
        self.run_on("good", "cert-job")
        fleet = self.fleet()
        self.assertNotIn("no-cert", fleet)
        self.assertNotIn("stranger", fleet)
        status, _, _ = self.server.request("GET", V1 + "/jobs")
        self.assertEqual(status, 200)
        self.stop_agents()


if __name__ == "__main__":
    main()
