#!/usr/bin/python3
"""Runs a command with io_uring refused, as container runtimes' default seccomp profiles
(Docker 25+, containerd 2: RuntimeDefault) refuse it: io_uring_setup, io_uring_enter and
io_uring_register answer EPERM, everything else is allowed.

Usage: without_io_uring.py PROGRAM [ARGS...]  (exec's PROGRAM: same PID, same stdio)
"""
import errno
import os
import sys

import seccomp  # python3-seccomp, Debian's binding of libseccomp

flt = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
for call in ("io_uring_setup", "io_uring_enter", "io_uring_register"):
    flt.add_rule(seccomp.ERRNO(errno.EPERM), call)
flt.load()  # sets no_new_privs, as a container runtime does; kept across exec
os.execv(sys.argv[1], sys.argv[1:])
