// Hardening for a long-running process that holds secrets (`facecrowd serve`: password hashes in
// flight, session tokens, S3 credentials, backup keys): no core dump may write its memory to disk, and
// no other process of the same user may ptrace it (issue 15.3).
#pragma once

namespace facecrowd {

// prctl(PR_SET_DUMPABLE, 0) (no core dump, no ptrace attach by the same user, /proc/PID/mem unreadable)
// and RLIMIT_CORE 0. Error(kInternal) naming the call when the kernel refuses. Call it first in serve.
void disable_core_dumps();

}  // namespace facecrowd
