"""HTTP hygiene, with raw sockets: whatever the server refuses before a handler sees it gets one JSON answer
in Chronos's error shape, at once (a cap is known to be passed before the client finishes sending), and the
connection then closes; keep-alive, pipelining, HEAD, HTTP/1.0 and Expect work for what is accepted."""

import json
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, main, sched  # noqa: E402

AT_ONCE = 2.0  # seconds: an answer that is not "at once" would take the idle timeout (60 s)


def parse_responses(data):
    """Split raw bytes into [(status, {header: value}, body)], reading Content-Length and chunked bodies;
    a trailing part that is not a complete response is returned as is in the last element's place."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            out.append(data)
            break
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if status < 200 or status in (204, 304):
            body = b""
        elif headers.get("transfer-encoding") == "chunked":
            body = b""
            while True:
                size_line, _, rest = rest.partition(b"\r\n")
                size = int(size_line, 16)
                body, rest = body + rest[:size], rest[size + 2:]
                if size == 0:
                    break
        elif "content-length" in headers:
            n = int(headers["content-length"])
            body, rest = rest[:n], rest[n:]
        else:
            body, rest = rest, b""
        out.append((status, headers, body))
        data = rest
    return out


class Http(GnomonTestCase):
    server_args = ["--max-body-size", "64K"]

    def exchange(self, data, timeout=10, shut=False):
        """Send data, read until the server closes (or timeout); returns (bytes, seconds, closed)."""
        start = time.monotonic()
        out, closed = b"", False
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=timeout) as s:
            try:
                s.sendall(data)
                if shut:
                    s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            while True:
                try:
                    part = s.recv(65536)
                except socket.timeout:
                    break
                except OSError:
                    closed = True
                    break
                if not part:
                    closed = True
                    break
                out += part
        return out, time.monotonic() - start, closed

    def refused(self, data, status, contains=(), shut=False):
        """data gets exactly one answer, status with a JSON error body, at once; the connection is closed after
        it; the server still answers."""
        raw, elapsed, closed = self.exchange(data, shut=shut)
        responses = parse_responses(raw)
        self.assertEqual(len(responses), 1, raw[:2000])
        self.assertEqual(len(re.findall(rb"(?:^|\r\n)HTTP/1\.1 \d\d\d ", raw)), 1, raw[:2000])
        got, headers, body = responses[0]
        self.assertEqual(got, status, raw[:2000])
        self.assertEqual(headers.get("content-type"), "application/json")
        self.assertEqual(headers.get("connection"), "close")
        err = json.loads(body)
        self.assertEqual(list(err), ["status", "message"], err)
        for part in (contains,) if isinstance(contains, str) else contains:
            self.assertIn(part, err["message"])
        self.assertTrue(closed, "the connection stayed open after a refused request")
        self.assertLess(elapsed, AT_ONCE)
        self.assertTrue(self.server.ping())
        return err

    def test_480_query_parameters_get_414_at_once(self):
        target = "/v1/scheduler/jobs?" + "&".join("a%d=1" % i for i in range(480))
        err = self.refused(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % target).encode(), 414,
                           "more than 100 query parameters")
        self.assertEqual(err["status"], "URI Too Long")

    def test_100_query_parameters_are_fine(self):
        target = "/v1/scheduler/jobs/search?" + "&".join("a%d=1" % i for i in range(99)) + "&name=x"
        status, _, body = self.server.request("GET", target)
        self.assertEqual(status, 200, body)

    def test_long_target_gets_414(self):
        self.refused(b"GET /" + b"a" * 8200 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 414,
                     "request target: longer than 8192 bytes")

    def test_endless_request_line_gets_414_before_it_ends(self):
        # No line end ever comes: the answer cannot wait for it.
        self.refused(b"GET /" + b"a" * 20000, 414, "request line: longer than")

    def test_big_header_gets_431_before_it_ends(self):
        self.refused(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 40000, 431,
                     "request header fields: more than 32768 bytes")

    def test_too_many_header_fields_get_431(self):
        fields = "".join("X-%d: 1\r\n" % i for i in range(100))
        self.refused(("GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n" % fields).encode(), 431,
                     "request header fields: more than 100")

    def test_malformed_request_lines_get_400(self):
        cases = [
            (b"GARBAGE\r\n\r\n", "request line: 'GARBAGE' is malformed"),
            (b"GET\r\n\r\n", "is malformed"),
            (b"GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n", "is malformed"),
            (b"GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", "must be percent-encoded"),
            (b"GET / HTTQ/1.1\r\nHost: a\r\n\r\n", "is not an HTTP version"),
            (b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", "is not a method"),
            (b"G\x00T / HTTP/1.1\r\nHost: a\r\n\r\n", "contains a NUL byte"),
            (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", "contains a NUL byte"),
            (b"GET / HTTP/1.1\r\nHost: a\r\nNo colon here\r\n\r\n", "header line 2"),
            (b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", "folded lines are not accepted"),
            (b"\r\n" * 5000, "request line: missing"),
        ]
        for data, message in cases:
            with self.subTest(data=data[:40]):
                self.refused(data, 400, message)

    def test_tls_hello_on_the_http_port_gets_400(self):
        hello = bytes.fromhex("16030100c4010000c00303") + bytes(range(0x40, 0x60)) + b"\x00\x00\x02\x13\x01\x01\x00\n\n"
        self.refused(hello, 400)

    def test_unsupported_version_gets_505(self):
        self.refused(b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "HTTP/2.0 is not supported")

    def test_http11_without_host_gets_400(self):
        self.refused(b"GET /ping HTTP/1.1\r\n\r\n", 400, "Host: required")

    def test_malformed_content_length_gets_one_400(self):
        for value in ["abc", "-1", "1, 2", "12345678901234567890", "0x10", ""]:
            with self.subTest(value=value):
                head = ("POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                        "\r\nContent-Length: %s\r\n\r\n" % value).encode()
                self.refused(head + b"{}", 400, "Content-Length: '%s' is not a number of bytes" % value)
        self.assertEqual(self.server.json("GET", "/v1/scheduler/jobs"), (200, []))

    def test_content_length_and_chunked_together_get_400(self):
        self.refused(b"POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "may not have both")

    def test_chunk_over_the_limit_gets_413_before_its_data(self):
        # http-parser stops reading a size at the digit that would take it to 2^64 - 16 or more: the message
        # then says "or more" (the status and the moment are the same).
        for size, said in [("FFFFFFFF", "4294967295 bytes"), ("10001", "65537 bytes"),
                           ("FFFFFFFFFFFFFFFF", "18446744073709551600 bytes or more")]:
            with self.subTest(size=size):
                head = (b"POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n")
                # Only the size line and a few bytes: the 413 cannot wait for the chunk.
                self.refused(head + size.encode() + b"\r\n{\"na", 413,
                             "a chunk of %s takes it over the limit of 65536 bytes" % said)

    def test_chunks_adding_up_over_the_limit_get_413_at_the_chunk_that_passes_it(self):
        head = (b"POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n")
        first = b"8000\r\n" + b" " * 0x8000 + b"\r\n"
        self.refused(head + first + first + b"1\r\n", 413, "a chunk of 1 bytes takes it over the limit")

    def test_malformed_chunked_body_gets_400(self):
        head = (b"POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n")
        for body, message in [(b"ZZ\r\n{}\r\n0\r\n\r\n", "expected a chunk size"),
                              (b"2\r\n{}}\r\n0\r\n\r\n", "a chunk is longer than its size")]:
            with self.subTest(body=body):
                self.refused(head + body, 400, message)

    def test_framing_a_lax_reader_would_take_gets_400(self):
        # Shapes of a request that one reader frames one way and another (a proxy in front) another: the ways
        # requests are smuggled. http-parser as Debian builds it (without HTTP_PARSER_STRICT) would take each.
        post = b"POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        chunked = post + b"Transfer-Encoding: chunked\r\n\r\n"
        cases = [
            (post + b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 400, "Content-Length: given more than once"),
            (post + b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "may not have both"),
            (post + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n", 400,
             "only chunked, once"),
            (post + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501, "is not supported"),
            (post + b"Transfer-Encoding : chunked\r\nContent-Length: 2\r\n\r\n{}", 400, "is not a field name"),
            (post + b"Content-Length: 2\r\n Transfer-Encoding: chunked\r\n\r\n{}", 400, "folded lines"),
            (chunked + b"2;a\nb\r\n{}\r\n0\r\n\r\n", 400, "chunked body: LF without CR"),
            (chunked + b"2\r\n{}XX0\r\n\r\n", 400, "a chunk is longer than its size"),
            (chunked + b"2\r\n{}\r\n0\r\n\rX", 400, "chunked body: CR without LF"),
            (b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX:\rGET /x: y\r\n\r\n", 400, "a CR stands outside a line end"),
            (b"GET /ping HTTQ/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400, "is not an HTTP version"),
            (b"GET /a\tb HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400, "byte 0x09 at offset 2 must be percent-encoded"),
            (b"CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nGET /", 501,
             "'CONNECT' is not implemented"),
        ]
        for data, status, message in cases:
            with self.subTest(data=data[-60:]):
                self.refused(data, status, message)
        self.assertEqual(self.server.json("GET", "/v1/scheduler/jobs"), (200, []))

    def test_unsupported_transfer_encoding_gets_501(self):
        self.refused(b"POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
                     "Transfer-Encoding: 'gzip' is not supported")

    def test_unknown_expectation_gets_417(self):
        self.refused(b"POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 2\r\n"
                     b"\r\n{}", 417, "Expect: '200-ok' is not supported")

    def test_partial_request_then_silence_is_not_answered_early(self):
        # The other side of "at once": an incomplete but valid head waits for the rest (here: the client ends).
        raw, _, closed = self.exchange(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n", shut=True)
        self.assertEqual(raw, b"")
        self.assertTrue(closed)

    def test_keep_alive_and_pipelining(self):
        job = json.dumps(sched("piped")).encode()
        data = (b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                b"POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s"
                b"GET /v1/scheduler/job/piped HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                b"GET /v1/scheduler/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n") % (len(job), job)
        raw, elapsed, closed = self.exchange(data)
        responses = parse_responses(raw)
        self.assertEqual([r[0] for r in responses], [200, 204, 200, 200], raw[:3000])
        self.assertEqual(responses[0][2], b"pong\n")
        self.assertEqual(json.loads(responses[2][2])["name"], "piped")
        self.assertEqual([j["name"] for j in json.loads(responses[3][2])], ["piped"])
        self.assertEqual(responses[3][1].get("transfer-encoding"), "chunked")
        self.assertTrue(closed)
        self.assertLess(elapsed, AT_ONCE)

    def test_connection_stays_open_between_requests(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            for _ in range(3):
                s.sendall(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                got = b""
                while not got.endswith(b"pong\n"):
                    part = s.recv(4096)
                    self.assertTrue(part, "connection closed between requests")
                    got += part
                self.assertEqual(parse_responses(got)[0][0], 200)

    def test_head_has_no_body(self):
        self.server.request("POST", "/v1/scheduler/iso8601", sched("h"))
        for path in ["/v1/scheduler/job/h", "/v1/scheduler/jobs", "/ping"]:
            with self.subTest(path=path):
                raw, _, _ = self.exchange(("HEAD %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                                           % path).encode())
                head, _, body = raw.partition(b"\r\n\r\n")
                self.assertTrue(head.startswith(b"HTTP/1.1 200 "), raw)
                self.assertEqual(body, b"")

    def test_http10_gets_its_answer_and_the_end_of_the_connection(self):
        raw, elapsed, closed = self.exchange(b"GET /v1/scheduler/jobs HTTP/1.0\r\n\r\n")
        status, headers, body = parse_responses(raw)[0]
        self.assertEqual(status, 200)
        self.assertNotIn("transfer-encoding", headers)  # HTTP/1.0 knows no chunks: the body ends with the close
        self.assertEqual(json.loads(body), [])
        self.assertTrue(closed)
        self.assertLess(elapsed, AT_ONCE)

    def test_half_closed_client_still_gets_its_answer(self):
        raw, _, closed = self.exchange(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", shut=True)
        self.assertEqual(parse_responses(raw)[0][2], b"pong\n")
        self.assertTrue(closed)

    def test_absolute_form_target(self):
        raw, _, _ = self.exchange(("GET http://127.0.0.1:%d/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close"
                                   "\r\n\r\n" % self.server.port).encode())
        self.assertEqual(parse_responses(raw)[0][2], b"pong\n")

    def test_many_refused_connections_leave_the_server_well(self):
        for _ in range(50):
            with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
                s.sendall(b"GARBAGE\r\n\r\n")
        self.assertTrue(self.server.ping())


if __name__ == "__main__":
    main()
