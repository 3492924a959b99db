// Whether the process that left a file behind still runs. Temporaries are named with their writer's pid
// (`<final>.partial-<pid>`, `.offsite-tmp-<pid>-N`, `...tmp-<pid>`); a killed writer leaves them, and the next
// run removes only those whose writer is gone, never a live writer's. Judged on this host: kill(pid, 0) fails
// with ESRCH only when no such process exists (EPERM: it runs, under another user). This process and a pid that
// is not one (<= 0, or digits that do not fit) are neither running elsewhere nor gone: not a leftover to judge.
#pragma once

#include <string>

namespace facecrowd {

// The pid in a file name's digits; -1 when they cannot be one (empty, or more than 9 digits).
long pid_from_digits(const std::string& digits);

// True when another process with this pid runs now.
bool another_process_runs(long pid);

// True when no process with this pid exists any more: what it left can be removed.
bool process_is_gone(long pid);

}  // namespace facecrowd
