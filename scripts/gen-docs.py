#!/usr/bin/env python3
"""Generate gnomon's manual pages and bash completion from the programs' own --help (one source: the option
tables and help texts in the code), at build time (cmake/install.cmake).

  gnomon.1          help2man over `gnomon --help`, with a COMMANDS section holding every client command's help
  gnomon-server.8   help2man over `gnomon server --help`
  gnomon-agent.8    help2man over `gnomon-agent --help`
  completion        a bash completion script for gnomon and gnomon-agent: commands, their sub-commands and
                    options, files where a command takes one

Usage: gen-docs.py --bin BUILD/gnomon --help2man help2man --man-dir DIR --completion FILE"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

SUMMARY = {
    "gnomon": "distributed, fault-tolerant job scheduler (Chronos compatible): client commands",
    "gnomon-server": "the gnomon scheduler: its API, web UI, engine and embedded agent",
    "gnomon-agent": "run the tasks that gnomon servers assign to this machine",
}


def help_of(argv):
    out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    if out.returncode != 0:
        sys.exit("gen-docs: %s exited %d:\n%s" % (" ".join(argv), out.returncode, out.stdout))
    return out.stdout


def section(text, title):
    """The indented entries under a line `title:` (up to the next blank line), as (first word, rest)."""
    lines = text.splitlines()
    try:
        i = lines.index(title + ":")
    except ValueError:
        return []
    entries = []
    for line in lines[i + 1:]:
        if not line.strip():
            break
        m = re.match(r"^  (\S+)", line)
        if m:
            entries.append(m.group(1))
    return entries


def options(text):
    """The options a help text lists (lines that start with one: `  --name ...`, `  -h, --help ...`), and those of
    its usage lines (`usage: gnomon migrate --from DATA_DIR ...`)."""
    listed = re.findall(r"(?m)^\s+(?:-\w, )?(--[a-z][a-z0-9-]*)", text)
    usage = re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", "\n".join(
        line for line in text.splitlines() if re.match(r"^(usage: |       gnomon )", line)))
    short = ["-h"] if re.search(r"(?m)^\s+-h, --help", text) else []
    return sorted(set(listed + usage)) + short


def roff_text(text):
    """Plain text as a roff no-fill block: backslashes escaped, control characters at line starts defused."""
    out = []
    for line in text.rstrip("\n").splitlines():
        line = line.replace("\\", "\\e")
        if line.startswith((".", "'")):
            line = "\\&" + line
        out.append(line)
    return ".nf\n" + "\n".join(out) + "\n.fi\n"


def help2man(tool, prog, name, section_no, out, help_option="--help", include=None):
    version = help_of([prog, "--version"]).split()[-1]
    cmd = [tool, "--no-info", "--no-discard-stderr", "--section", str(section_no), "--name", SUMMARY[name],
           "--version-string", "%s %s" % (name, version), "--help-option", help_option, "--source",
           "gnomon %s" % version, "--manual", "gnomon manual", "--output", out]
    if include:
        cmd += ["--include", include]
    subprocess.run(cmd + [prog], check=True)


def completion(gnomon_help, commands, agent_help):
    """The bash completion script: one table per command, read by one function."""
    lines = ["# bash completion for gnomon and gnomon-agent, generated from their --help by scripts/gen-docs.py",
             "",
             "_gnomon_words() {",
             "  case \"$1\" in"]
    lines.append("    '') echo %s ;;" % " ".join(sorted(commands) + options(gnomon_help)))
    for name, text in sorted(commands.items()):
        subs = section(text, "commands")
        lines.append("    %s) echo %s ;;" % (name, " ".join(options(text))))
        if subs:
            lines.append("    %s:sub) echo %s ;;" % (name, " ".join(subs)))
    lines.append("    agent-program) echo %s ;;" % " ".join(options(agent_help)))
    lines += ["  esac", "}", "",
              "_gnomon() {",
              "  local cur=${COMP_WORDS[COMP_CWORD]} cmd='' sub='' i w",
              "  for ((i = 1; i < COMP_CWORD; i++)); do",
              "    w=${COMP_WORDS[i]}",
              "    case \"$w\" in",
              "      --server|--config|--data-dir|--state|--from|--to|--limit|--before) ((i++)); continue ;;",
              "      -*) continue ;;",
              "    esac",
              "    if [[ -z $cmd ]]; then cmd=$w; elif [[ -z $sub ]]; then sub=$w; fi",
              "  done",
              "  if [[ ${COMP_WORDS[0]##*/} == gnomon-agent ]]; then",
              "    cmd=agent-program",
              "  fi",
              "  case \"${COMP_WORDS[COMP_CWORD-1]}\" in",
              "    --config|--data-dir|--from|--agent-token-file|--tls-cert|--tls-key|--tls-ca)",
              "      COMPREPLY=($(compgen -f -- \"$cur\")); return ;;",
              "  esac",
              "  if [[ $cur == -* ]]; then",
              "    COMPREPLY=($(compgen -W \"$(_gnomon_words \"$cmd\")\" -- \"$cur\"))",
              "  elif [[ -z $cmd ]]; then",
              "    COMPREPLY=($(compgen -W \"$(_gnomon_words '')\" -- \"$cur\"))",
              "  elif [[ -z $sub && -n $(_gnomon_words \"$cmd:sub\") ]]; then",
              "    COMPREPLY=($(compgen -W \"$(_gnomon_words \"$cmd:sub\")\" -- \"$cur\"))",
              "  else",
              "    COMPREPLY=($(compgen -f -- \"$cur\"))",
              "  fi",
              "}",
              "complete -F _gnomon gnomon gnomon-agent",
              ""]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="the built gnomon (gnomon-agent beside it)")
    ap.add_argument("--help2man", default="help2man")
    ap.add_argument("--man-dir", required=True)
    ap.add_argument("--completion", required=True)
    args = ap.parse_args()
    gnomon = os.path.abspath(args.bin)
    agent = os.path.join(os.path.dirname(gnomon), "gnomon-agent")
    top = help_of([gnomon, "--help"])
    commands = {c: help_of([gnomon, c, "--help"]) for c in section(top, "commands")}
    if not commands:
        sys.exit("gen-docs: `gnomon --help` lists no commands")
    os.makedirs(args.man_dir, exist_ok=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.completion)), exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".h2m", delete=False) as inc:
        inc.write("[COMMANDS]\n")
        for name in section(top, "commands"):
            if name in ("server", "agent"):
                inc.write('.SS "gnomon %s"\nSee \\fBgnomon-%s\\fR(8).\n' % (name, name))
                continue
            inc.write('.SS "gnomon %s"\n%s' % (name, roff_text(commands[name])))
        inc.write("[SEE ALSO]\n.BR gnomon-server (8),\n.BR gnomon-agent (8)\n")
    try:
        help2man(args.help2man, gnomon, "gnomon", 1, os.path.join(args.man_dir, "gnomon.1"), include=inc.name)
    finally:
        os.unlink(inc.name)
    help2man(args.help2man, gnomon, "gnomon-server", 8, os.path.join(args.man_dir, "gnomon-server.8"),
             help_option="server --help")
    help2man(args.help2man, agent, "gnomon-agent", 8, os.path.join(args.man_dir, "gnomon-agent.8"))
    agent_help = help_of([agent, "--help"])
    tmp = args.completion + ".tmp"
    with open(tmp, "w") as f:
        f.write(completion(top, commands, agent_help))
    os.replace(tmp, args.completion)


if __name__ == "__main__":
    main()
