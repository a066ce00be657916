#!/usr/bin/python3
"""Runs a program under a seccomp filter, as a container runtime runs a pod's process.

  seccomp_run.py --refuse-io-uring PROGRAM [ARGS...]
      everything allowed but io_uring_setup, io_uring_enter and io_uring_register, which
      answer EPERM: what the default profiles of Docker 25+ and containerd 2
      (Kubernetes' RuntimeDefault) do to io_uring.
  seccomp_run.py --refuse CALL[,CALL...] PROGRAM [ARGS...]
      everything allowed but the calls named, which answer EPERM (a hand-made profile
      that allows io_uring_setup but not io_uring_register, say).
  seccomp_run.py --profile FILE.json PROGRAM [ARGS...]
      an OCI seccomp profile as runc loads a Localhost one for a container with
      allowPrivilegeEscalation: false (just before exec): defaultAction for every call
      not listed, each syscalls entry's action (SCMP_ACT_ALLOW, or SCMP_ACT_ERRNO with
      its errnoRet, EPERM by default) for its names, under its args conditions (names
      this kernel lacks are skipped).

exec's PROGRAM: same PID, same stdio. The filter sets no_new_privs, kept across exec.
"""
import errno
import json
import os
import sys

import seccomp  # python3-seccomp, Debian's binding of libseccomp


def refuse(calls):
    flt = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for call in calls:
        flt.add_rule(seccomp.ERRNO(errno.EPERM), call)
    return flt


def from_profile(path):
    with open(path) as f:
        profile = json.load(f)
    actions = {"SCMP_ACT_ALLOW": lambda _: seccomp.ALLOW,
               "SCMP_ACT_ERRNO": lambda ret: seccomp.ERRNO(ret if ret is not None else errno.EPERM)}
    default = actions[profile["defaultAction"]](profile.get("defaultErrnoRet"))
    operators = {"SCMP_CMP_EQ": seccomp.EQ, "SCMP_CMP_NE": seccomp.NE, "SCMP_CMP_MASKED_EQ": seccomp.MASKED_EQ,
                 "SCMP_CMP_LT": seccomp.LT, "SCMP_CMP_LE": seccomp.LE, "SCMP_CMP_GT": seccomp.GT,
                 "SCMP_CMP_GE": seccomp.GE}
    flt = seccomp.SyscallFilter(defaction=default)
    for entry in profile["syscalls"]:
        action = actions[entry["action"]](entry.get("errnoRet"))
        # OCI's value and valueTwo are libseccomp's datum_a and datum_b (for MASKED_EQ:
        # the mask, then the value the masked argument must equal).
        args = [seccomp.Arg(a["index"], operators[a["op"]], a["value"], a.get("valueTwo", 0))
                for a in entry.get("args", [])]
        for name in entry["names"]:
            try:
                flt.add_rule(action, name, *args)
            except (RuntimeError, ValueError):
                pass  # not a call of this kernel or architecture
    return flt


def main():
    args = sys.argv[1:]
    if args[:1] == ["--refuse-io-uring"]:
        flt, program = refuse(["io_uring_setup", "io_uring_enter", "io_uring_register"]), args[1:]
    elif args[:1] == ["--refuse"] and len(args) > 2:
        flt, program = refuse(args[1].split(",")), args[2:]
    elif args[:1] == ["--profile"] and len(args) > 2:
        flt, program = from_profile(args[1]), args[2:]
    else:
        sys.exit(__doc__)
    flt.load()
    os.execv(program[0], program)


main()
