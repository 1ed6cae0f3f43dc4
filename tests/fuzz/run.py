#!/usr/bin/env python3
"""Run gnomon's fuzz targets (libFuzzer) for a while each, from their seeds and the corpus earlier runs kept.

Usage: tests/fuzz/run.py --bin-dir build/tests/fuzz [--seconds 25] [--target fuzz_schedule ...]

- fuzz_schedule: seeds are the schedules of schedule.seeds, each with a few zones and instants; schedule.dict
  helps the mutations.
- fuzz_tzif: seeds are zone files of the system's tz database ($TZDIR, else /usr/share/zoneinfo).
- fuzz_http: seeds are the requests of http.seeds (Python escapes), each with a few body caps and piece seeds;
  http.dict helps.
- fuzz_job: seeds are the jobs of job.seeds; job.dict helps.
- fuzz_executor: seeds are a spec, a result text, a .pid file and a stream of frames of the executor protocol
  (src/exec/executor_proto.h), made here.
- fuzz_agent_wire: seeds are assignments and results of the agent protocol (src/runner/agent_wire.h), made here.
- fuzz_crontab: seeds are the crontabs of crontab.seeds (\n for newlines), in both formats.
- fuzz_config: seeds are the config files of config.seeds (\n for newlines); config.dict helps.
- fuzz_net_response: seeds are responses to the HTTP client (src/net/response_reader.h) and URLs, made here.
The corpus lives in <bin-dir>/corpus/<target>/ and is kept between runs (a long run makes later short ones
better); a crashing input goes to <bin-dir>/artifacts/. Prints each target's executions and exits non-zero when
a target finds a crash, a leak, a timeout or a broken invariant.
"""
import argparse
import hashlib
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TZDIR = os.environ.get("TZDIR") or "/usr/share/zoneinfo"
TZIF_SEEDS = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Africa/Casablanca", "Asia/Gaza",
              "Pacific/Apia", "Antarctica/Troll", "Europe/Dublin", "Asia/Kolkata", "UTC", "EST5EDT",
              "America/Santiago", "Pacific/Chatham", "America/Nuuk", "America/Sao_Paulo", "Pacific/Kiritimati"]
MAX_LEN = {"fuzz_schedule": 512, "fuzz_tzif": 8192, "fuzz_http": 4096, "fuzz_job": 4096, "fuzz_executor": 4096, "fuzz_agent_wire": 4096,
           "fuzz_net_response": 4096, "fuzz_crontab": 4096, "fuzz_config": 4096}
DICT = {"fuzz_config": "config.dict", "fuzz_crontab": "schedule.dict", "fuzz_schedule": "schedule.dict", "fuzz_http": "http.dict", "fuzz_job": "job.dict"}


def seed_schedule(corpus):
    with open(os.path.join(HERE, "schedule.seeds")) as f:
        lines = [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#")]
    for i, text in enumerate(lines):
        for zone in range(0, 31, 5):
            head = hashlib.sha256(("%d %d" % (i, zone)).encode()).digest()[:16]
            data = bytes([(zone + i) % 31]) + head + text.encode()
            name = os.path.join(corpus, "seed-%03d-%02d" % (i, zone))
            if not os.path.exists(name):
                with open(name, "wb") as f:
                    f.write(data)


def seed_tzif(corpus):
    for zone in TZIF_SEEDS:
        src = os.path.join(TZDIR, zone)
        name = os.path.join(corpus, "seed-" + zone.replace("/", "_"))
        if os.path.isfile(src) and not os.path.exists(name):
            with open(src, "rb") as f, open(name, "wb") as g:
                g.write(f.read())


def seed_lines(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#")]


def write_seed(corpus, name, data):
    name = os.path.join(corpus, name)
    if not os.path.exists(name):
        with open(name, "wb") as f:
            f.write(data)


def seed_http(corpus):
    for i, line in enumerate(seed_lines("http.seeds")):
        request = line.encode("latin-1").decode("unicode_escape").encode("latin-1")
        for cap in range(3):
            write_seed(corpus, "seed-%03d-%d" % (i, cap), bytes([(i + cap * 3) % 8, (i * 37 + cap) % 256]) + request)


def seed_job(corpus):
    for i, line in enumerate(seed_lines("job.seeds")):
        write_seed(corpus, "seed-%03d" % i, line.encode())


def seed_executor(corpus):
    def records(*kv):
        return b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in kv)

    def frame(kind, payload, stream=0):
        return bytes([ord(kind), stream, 0, 0]) + len(payload).to_bytes(4, "little") + payload

    result = ("exit_code -1\nterm_signal 9\ncore_dumped 0\ntimed_out 1\nkilled 0\nstart_ms 1700000000000\n"
              "end_ms 1700000000300\nduration_us 300123\nstdout_bytes 200000\nstdout_omitted 68928\n"
              "stderr_bytes 0\nstderr_omitted 0\nio_error 0\nuser_cpu_us 1200\nsystem_cpu_us 800\n"
              "max_rss_kib 3100\ntask_pid 4242\n")
    write_seed(corpus, "seed-spec", records(
        ("prog", "/bin/sh"), ("arg", "sh"), ("arg", "-c"), ("arg", "echo hi"), ("env", "PATH=/usr/bin:/bin"),
        ("env", "A="), ("cwd", "/tmp"), ("out", "/tmp/o"), ("err", "/tmp/e"), ("lazy", "0"), ("cap_head", "100"),
        ("cap_tail", "65536"), ("deadline_ms", "200"), ("grace_ms", "0"), ("drain_ms", "2000"),
        ("journal", "/tmp/j")))
    write_seed(corpus, "seed-spec-small", records(("prog", "/bin/true"), ("arg", "true"), ("journal", "j")))
    write_seed(corpus, "seed-result", result.encode())
    write_seed(corpus, "seed-pid", b"31337 123456789 31338 1700000000999\n")
    write_seed(corpus, "seed-frames", frame("S", b"4242 1700000000000") + frame("O", b"hello\n") +
               frame("O", b"oops\n", 1) + frame("O", b"") + frame("E", result.encode()))
    write_seed(corpus, "seed-failed", frame("F", b"2 cannot run 'nope': No such file or directory"))


def seed_agent_wire(corpus):
    spec = ('{"taskId": "ct:1700000000000:1:backup:a b", "epoch": 3, "job": "backup", "owner": "o@example.com", '
            '"dueMs": 1700000000000, "attempt": 1, "parents": "ct:1:0:p:", "command": "echo", "args": ["x", "y z"], '
            '"shell": true, "container": {"type": "DOCKER", "image": "busybox"}, "env": [{"name": "A", '
            '"value": "1"}], "runAsUser": "nobody", "cpus": 0.5, "mem": 128, "disk": 256, "deadlineMs": 60000, '
            '"graceMs": 5000, "outputCap": 65536}')
    result = ('{"end": "signalled", "exitCode": -1, "signal": 9, "coreDumped": false, "startMs": 1700000000000, '
              '"endMs": 1700000000300, "durationUs": 300000, "stdoutBytes": 12, "stderrBytes": 0, "userCpuUs": 100, '
              '"systemCpuUs": 50, "maxRssKib": 2048, "reason": ""}')
    write_seed(corpus, "seed-spec", b"\0" + spec.encode())
    write_seed(corpus, "seed-result", b"\1" + result.encode())
    write_seed(corpus, "seed-minimal", b"\0" + b'{"taskId": "t", "epoch": 0, "job": "j", "dueMs": 0, "attempt": 0, '
               b'"command": "c"}')


def seed_crontab(corpus):
    for i, line in enumerate(seed_lines("crontab.seeds")):
        text = line.replace("\\n", "\n").encode()
        for flags in range(4):
            write_seed(corpus, "seed-%03d-%d" % (i, flags), bytes([flags]) + text)


def seed_config(corpus):
    for i, line in enumerate(seed_lines("config.seeds")):
        write_seed(corpus, "seed-%03d" % i, line.replace("\\r", "\r").replace("\\n", "\n").encode())


def seed_net_response(corpus):
    responses = [
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"epoch\": 3}\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Test: a\r\n\r\n5;x=1\r\nhello\r\n0\r\nT: 1\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 409 Conflict\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.0 200 OK\r\n\r\nup to the end",
        b"HTTP/1.1 204 No Content\r\nX-Test:\r\n\r\nHTTP/1.1",
        b"http://[::1]:4400/api/v1/agents/register?x=1#f",
        b"https://sched-1/",
    ]
    for i, text in enumerate(responses):
        for flags in (2, 5, 14):
            write_seed(corpus, "seed-%02d-%02d" % (i, flags), bytes([flags, i * 31 % 256]) + text)


def run(target, bin_dir, seconds):
    corpus = os.path.join(bin_dir, "corpus", target)
    artifacts = os.path.join(bin_dir, "artifacts") + os.sep
    os.makedirs(corpus, exist_ok=True)
    os.makedirs(artifacts, exist_ok=True)
    {"fuzz_schedule": seed_schedule, "fuzz_tzif": seed_tzif, "fuzz_http": seed_http, "fuzz_job": seed_job,
     "fuzz_executor": seed_executor, "fuzz_agent_wire": seed_agent_wire,
     "fuzz_net_response": seed_net_response, "fuzz_crontab": seed_crontab, "fuzz_config": seed_config}[target](corpus)
    cmd = [os.path.join(bin_dir, target), "-max_total_time=%d" % seconds, "-timeout=10", "-rss_limit_mb=2048",
           "-max_len=%d" % MAX_LEN[target], "-artifact_prefix=" + artifacts, "-print_final_stats=1"]
    if target in DICT:
        cmd.append("-dict=" + os.path.join(HERE, DICT[target]))
    cmd.append(corpus)
    start = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    took = time.monotonic() - start
    done = re.search(r"Done (\d+) runs in (\d+) second", proc.stdout)
    runs = int(done.group(1)) if done else 0
    print("%s: %d executions in %.0f s (%d/s), corpus %d inputs, exit %d"
          % (target, runs, took, runs / max(took, 1), len(os.listdir(corpus)), proc.returncode))
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout[-8000:])
        print("reproduce: %s <the input named above in %s>" % (cmd[0], artifacts))
    return proc.returncode == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin-dir", required=True, help="where the fuzz targets were built (build/tests/fuzz)")
    ap.add_argument("--seconds", type=int, default=25, help="time per target")
    ap.add_argument("--target", action="append", choices=sorted(MAX_LEN), help="run only these")
    args = ap.parse_args()
    ok = True
    for target in args.target or sorted(MAX_LEN):
        ok = run(target, os.path.abspath(args.bin_dir), args.seconds) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
