// Hardening for a long-running process that holds secrets (`facecrowd serve`: password hashes in
// flight, session tokens, S3 credentials, backup keys): no core dump may write its memory to disk, and
// no other process of the same user may ptrace it (issue 15.3).
#pragma once

namespace facecrowd {

// prctl(PR_SET_DUMPABLE, 0) (no core dump, no ptrace attach by the same user, /proc/PID/mem unreadable)
// and RLIMIT_CORE 0. Error(kInternal) naming the call when the kernel refuses. Call it first in serve.
void disable_core_dumps();

// The same, once per process and best effort (never throws): called by whatever first takes a secret into
// memory (core/secret.h's Secret, backup/crypto's SecretKey), so a CLI command that holds S3 credentials,
// a backup key or passphrase, or a password (`backup` from cron, `restore`, `users add`) cannot write them
// to a core file either. Child processes inherit RLIMIT_CORE 0; the dumpable flag resets at execve.
void keep_secrets_out_of_core_dumps() noexcept;

}  // namespace facecrowd
